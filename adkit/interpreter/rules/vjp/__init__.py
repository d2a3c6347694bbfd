"""adkit's VJP rules (the tape path of reverse mode), one file per primitive family.

Importing a family registers its rules in `VJP_RULES`. The file names are those of `rules/jvp/`:
a primitive's VJP rule sits in the family file of the same name as its JVP rule. Each rule
states its pullback beside the code, e.g. `# x̄ = ȳ cos x` for sin.
"""

from . import (  # noqa: F401  (registration)
    collectives,
    decompositions,
    elementwise,
    fft,
    indexing,
    linalg,
    misc,
    reductions,
    sorting,
    structural,
    windows,
)
