"""adkit's rule tables, one file per primitive family; importing a family registers its rules."""

from . import (  # noqa: F401  (registration)
    collectives,
    control_flow,
    custom_vjp,
    decompositions,
    elementwise,
    fft,
    indexing,
    linalg,
    misc,
    reductions,
    sorting,
    structural,
    transpose,
    vjp,
    windows,
)
from ._table import (
    JVP_RULES,
    TRANSPOSE_RULES,
    VJP_RULES,
    MissingRuleError,
    Residuals,
    coverage,
    jvp_rule,
    register_jvp,
    register_transpose,
    register_vjp,
    transpose_rule,
    vjp_rule,
)

__all__ = [
    "JVP_RULES",
    "TRANSPOSE_RULES",
    "VJP_RULES",
    "MissingRuleError",
    "Residuals",
    "coverage",
    "jvp_rule",
    "register_jvp",
    "register_transpose",
    "register_vjp",
    "transpose_rule",
    "vjp_rule",
]
