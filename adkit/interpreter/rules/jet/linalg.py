"""Jet rules for linear algebra: the matrix product, bilinear like `mul`:
dot(x, y)ₖ = Σᵢ dot(xᵢ, yₖ₋ᵢ), a Cauchy product.

Factorizations and solves (cholesky, triangular_solve, eigh, ...) have no jet rule yet: a
function using them is refused with an error naming the primitive.
"""

from __future__ import annotations

from jax import lax

from ..._registry import JET_RULES
from ._builders import bilinear

JET_RULES.register(lax.dot_general_p, bilinear(lax.dot_general_p))
