"""Tools to prove derivatives right: finite differences, `check_grads`, `crosscheck`."""

from ._check_grads import DerivativeCheckError, check_grads
from ._crosscheck import CrosscheckReport, crosscheck
from ._finite_differences import directional_derivative

__all__ = [
    "CrosscheckReport",
    "DerivativeCheckError",
    "check_grads",
    "crosscheck",
    "directional_derivative",
]
