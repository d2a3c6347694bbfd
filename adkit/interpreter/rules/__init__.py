"""adkit's rules: the maths of each primitive in each mode, and the public extension surface.

The rules are the bottom layer: maths on values, no engine imports. The folders `jvp/`, `vjp/`
and `transpose/` hold one file per primitive family, with the same file names in each; `slopes.py`
holds the element-wise derivatives that the JVP and VJP rules share; `builders.py` the rule
builders. Rules of higher-order primitives (which recurse into sub-jaxprs) live with the engine
that walks them, in `forward/`, `reverse/tape/`, `reverse/transpose/` and `wengert/`.

Extending adkit (a new primitive, or a module such as `adkit.ops`) uses only the names here:
the tables and their registration functions, the symbolic values and the rule builders.
"""

from .._registry import (
    EVAL_RULES,
    JET_RULES,
    JVP_RULES,
    SPARSITY_RULES,
    SPLIT_RULES,
    TRANSPOSE_RULES,
    VJP_RULES,
    WENGERT_RULES,
    MissingRuleError,
    Residuals,
    RuleTable,
    SplitRule,
    VjpRule,
)
from .._zeros import UndefinedPrimal, Zero, instantiate, is_undefined, is_zero
from . import jet, jvp, transpose, vjp  # noqa: F401  (registration)
from .builders import (
    add_tangents,
    const_like,
    from_transpose,
    linear,
    no_cotangent,
    scale,
    select_where,
    unary,
    zero_tangent,
    zeros_like_out,
)
from .registration import (
    coverage,
    jvp_rule,
    register_jvp,
    register_transpose,
    register_vjp,
    transpose_rule,
    vjp_rule,
)

__all__ = [
    "EVAL_RULES",
    "JET_RULES",
    "JVP_RULES",
    "SPARSITY_RULES",
    "SPLIT_RULES",
    "TRANSPOSE_RULES",
    "VJP_RULES",
    "WENGERT_RULES",
    "MissingRuleError",
    "Residuals",
    "RuleTable",
    "SplitRule",
    "UndefinedPrimal",
    "VjpRule",
    "Zero",
    "add_tangents",
    "const_like",
    "coverage",
    "from_transpose",
    "instantiate",
    "is_undefined",
    "is_zero",
    "jvp_rule",
    "linear",
    "no_cotangent",
    "register_jvp",
    "register_transpose",
    "register_vjp",
    "scale",
    "select_where",
    "transpose_rule",
    "unary",
    "vjp_rule",
    "zero_tangent",
    "zeros_like_out",
]
