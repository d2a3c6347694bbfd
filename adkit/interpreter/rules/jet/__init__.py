"""adkit's Taylor-mode (jet) rules: how a truncated Taylor series passes through each primitive.

A value in Taylor mode is a list of coefficients `[x0, x1, ..., xK]`: the series
x(t) = x0 + x1 t + x2 t² + ... + xK tᴷ, with `x0` the primal value and each higher
coefficient an array of the primal's shape or a symbolic `Zero` (an input the series does not
move). A rule maps the operands' coefficient lists to the outputs' (a list of lists for
primitives with several results): `rule(operands, **params) -> coefficients`. The engine applies
a rule only when some operand has a nonzero higher coefficient.

The coefficients are the normalised ones, xk = x⁽ᵏ⁾(0) / k!, so that products are Cauchy
products (`_series.py`); the public `adkit.jet` converts from and to the derivative convention
of `jax.experimental.jet`. Importing a family registers its rules in `JET_RULES`; the rules of
higher-order primitives (which walk sub-jaxprs) are in `adkit.interpreter.jet`.
"""

from ..._registry import import_family_files

FAMILIES = import_family_files(__name__, __path__)
