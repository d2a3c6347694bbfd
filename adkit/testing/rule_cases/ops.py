"""Rule cases for the primitives `adkit.ops` defines (`tridiagonal_matvec`, `logcosh`)."""

from ...ops import logcosh, tridiagonal_matvec
from . import RuleCase, normal, values

CASES = [
    RuleCase(
        "tridiagonal_matvec", tridiagonal_matvec, normal((3,), (4,), (3,), (4,)), name="vector"
    ),
    RuleCase(
        "tridiagonal_matvec", tridiagonal_matvec, normal((3,), (4,), (3,), (4, 2)), name="block"
    ),
    RuleCase("logcosh", logcosh, normal((2, 3), scale=3.0)),
    RuleCase("logcosh", logcosh, values([-800.0, 0.0, 800.0]), name="large", float32=False),
]
