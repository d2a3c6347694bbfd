"""adkit's VJP rules (the tape path of reverse mode), one file per primitive family.

Importing a family registers its rules in `VJP_RULES`. The file names are those of `rules/jvp/`:
a primitive's VJP rule sits in the family file of the same name as its JVP rule. Each rule
states its pullback beside the code, e.g. `# x̄ = ȳ cos x` for sin.
"""

from ..._registry import import_family_files

FAMILIES = import_family_files(__name__, __path__)
