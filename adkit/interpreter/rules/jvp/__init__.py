"""adkit's JVP rules for first-order primitives, one file per primitive family.

Importing a family registers its rules in `JVP_RULES`. Each rule states its derivative beside the
code, e.g. `# d sin x = cos x dx`; the element-wise slopes come from `rules/slopes.py`.
"""

from ..._registry import import_family_files

FAMILIES = import_family_files(__name__, __path__)
