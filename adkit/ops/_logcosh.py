"""`logcosh`: log(cosh(x)), computed without overflow, a nonlinear primitive with every rule.

cosh overflows for |x| > ~710 in float64 (~89 in float32), so log(cosh(x)) is written as

    log cosh x = |x| + log1p(exp(-2|x|)) - log 2,

exact for every x and finite wherever the result is. Its derivative is tanh x, bounded by 1. The
JVP `tanh(x) · dx` is a `mul` of the tangent, which both JAX and adkit transpose, so reverse mode
and higher derivatives need no transpose rule of the primitive's own (it is not linear).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jax import lax

from ._primitive import define_primitive
from ._stable import as_real_float

__all__ = ["logcosh", "logcosh_p"]


def logcosh(x: Any) -> Any:
    """Computes log(cosh(x)) elementwise, finite for large |x| (logcosh(1000) = 1000 - log 2).

    Args:
        x: a real array (integers are converted to the default float dtype).

    Returns:
        log(cosh(x)), with the shape and dtype of `x`.

    Raises:
        TypeError: for complex `x`.

    Examples:
        >>> import jax, jax.numpy as jnp, adkit
        >>> from adkit.ops import logcosh
        >>> round(float(logcosh(1000.0)), 3), float(jnp.log(jnp.cosh(1000.0)))  # 1000 - log 2
        (999.307, inf)
        >>> float(jax.grad(logcosh)(1000.0)), float(adkit.grad(logcosh)(1000.0))  # tanh(1000)
        (1.0, 1.0)
        >>> round(float(adkit.hessian(logcosh)(0.5)), 4)  # 1 - tanh(0.5)²
        0.7864
    """
    return logcosh_p.bind(as_real_float(x, "logcosh"))


def _impl(x):
    # log cosh x = log((e^x + e^-x) / 2) = |x| + log1p(e^{-2|x|}) - log 2
    a = lax.abs(x)
    return a + lax.log1p(lax.exp(-2 * a)) - np.log(2.0).astype(x.dtype)


def _jvp(primals, tangents):
    # d log cosh x = tanh(x) dx   (a mul of the tangent: transposable by JAX and adkit)
    (x,), (dx,) = primals, tangents
    return logcosh_p.bind(x), lax.mul(dx, lax.tanh(x))


def _vjp(ct, res):
    # x̄ = ȳ tanh x
    (x,) = res.inputs
    return [lax.mul(ct, lax.tanh(x))]


logcosh_p = define_primitive("logcosh", _impl, jvp=_jvp, vjp=_vjp, batch="elementwise")
