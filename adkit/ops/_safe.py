"""Safe versions of `log`, `sqrt`, the Euclidean norm and division: finite values and finite
gradients at their singular points.

Each op chooses, and documents, a value and a gradient at the point where the plain function is
singular (log and sqrt at 0, the norm at the zero vector, division by 0). The guard is the
double-where pattern: the unsafe inputs are first replaced by a harmless value (so the plain
function and all its derivatives are finite on both branches), then the result is selected.
A single `jnp.where(x > 0, jnp.log(x), 0)` is not enough: its gradient is
`where(x > 0, 1/x, 0)` in value but `0 * (1/0) = NaN` in the computation, since the cotangent of
the unselected branch is multiplied by the derivative of `log` at 0. `safe_norm` is a
`jax.custom_jvp` function, because its forward pass rescales by the largest entry.

Where the function is smooth (away from the chosen singular points) the first and second
derivatives are the plain function's, finite whenever they are representable.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ._stable import _axes, _broadcast_pair, _full, _spread, _sum, as_real_float


def safe_log(x):
    """log(x), clamped below at log(tiny) so that x <= 0 gives a finite value.

    Forward: `log(x)` for `x >= tiny`, where `tiny = jnp.finfo(x.dtype).tiny` is the smallest
    positive normal number; `log(tiny)` for `x < tiny`, including 0 and negative x (about
    -87.34 in float32 and -708.40 in float64). The value is continuous and non-decreasing.
    NaN stays NaN.

    Derivative (double-where composition): `dx / x` for `x >= tiny` (at most `1 / tiny`, which
    is finite); 0 for `x < tiny`, where the function is constant. The second derivative is
    `-1 / x²` above tiny (it overflows to -inf for x below about 1e-154 in float64 and 1e-19 in
    float32, as `1 / x²` itself does) and 0 below.

    Args:
        x: a real array.

    Returns:
        The clamped logarithm, of `x`'s dtype.

    Examples:
        >>> import jax.numpy as jnp
        >>> import adkit
        >>> from adkit.ops import safe_log
        >>> bool(jnp.isfinite(safe_log(0.0))), float(adkit.grad(safe_log)(0.0))
        (True, 0.0)
        >>> float(adkit.grad(safe_log)(4.0))
        0.25
    """
    x = as_real_float(x, "safe_log")
    tiny = float(jnp.finfo(x.dtype).tiny)
    low = lax.lt(x, _full(x, tiny))  # False for NaN: NaN goes to log(NaN)
    # d safe_log = where(low, 0, dx / x); the log sees 1 where low, so 1/x and -1/x² stay finite
    floor = _full(x, np.log(tiny))
    return lax.select(low, floor, lax.log(lax.select(low, _full(x, 1), x)))


def safe_sqrt(x):
    """sqrt(x) for x > 0 and 0 for x <= 0, with gradient 0 at and below 0.

    Forward: `sqrt(x)` for `x > 0`; 0 for `x <= 0` (the value is continuous). NaN stays NaN.

    Derivative (double-where composition): `dx / (2 sqrt(x))` for `x > 0`; 0 for `x <= 0`. At 0
    this is a choice: the one-sided derivative is +inf, and 0 keeps an optimizer's step finite
    (the subgradient convention of the constant branch). The second derivative is
    `-1 / (4 x^1.5)` for x > 0 and 0 for x <= 0.

    Args:
        x: a real array.

    Returns:
        The guarded square root, of `x`'s dtype.

    Examples:
        >>> import adkit
        >>> from adkit.ops import safe_sqrt
        >>> float(safe_sqrt(-4.0)), float(adkit.grad(safe_sqrt)(0.0))
        (0.0, 0.0)
        >>> float(adkit.grad(safe_sqrt)(4.0))
        0.25
    """
    x = as_real_float(x, "safe_sqrt")
    low = lax.le(x, _full(x, 0))  # False for NaN
    # d safe_sqrt = where(low, 0, dx / (2 sqrt(x))); the sqrt sees 1 where low
    return lax.select(low, _full(x, 0), lax.sqrt(lax.select(low, _full(x, 1), x)))


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _norm_keepdims(x, axes):
    # |x| = m sqrt(sum((x / m)²)), m = max|x|: no overflow of x², no underflow to 0
    m = lax.expand_dims(lax.reduce_max(lax.abs(x), axes), axes)  # -inf if x is empty
    usable = lax.bitwise_and(lax.gt(m, _full(m, 0)), lax.is_finite(m))
    scale = lax.select(usable, m, _full(m, 1))
    norm = lax.mul(scale, lax.sqrt(_sum(lax.square(lax.div(x, _spread(scale, x))), axes)))
    return lax.select(lax.eq(m, _full(m, np.inf)), m, norm)


@_norm_keepdims.defjvp
def _norm_jvp(axes, primals, tangents):
    (x,), (dx,) = primals, tangents
    norm = _norm_keepdims(x, axes)
    # d |x| = sum(x / |x| * dx) for x != 0; 0 at x = 0 (double-where: divide by 1 there)
    nonzero = _spread(lax.gt(norm, _full(norm, 0)), x)
    safe = lax.select(nonzero, _spread(norm, x), _full(x, 1))
    unit = lax.select(nonzero, lax.div(x, safe), _full(x, 0))
    return norm, _sum(lax.mul(unit, dx), axes)


def safe_norm(x, axis=None, keepdims: bool = False):
    """The Euclidean norm over `axis`, with gradient 0 (not NaN) at the zero vector.

    Forward: `m * sqrt(sum((x / m)²))` with `m = max|x|`, so `x²` never overflows (the norm of
    [1e200, 1e200] is 1.41e200) or underflows to 0 (the norm of [1e-200, 1e-200] is 1.41e-200);
    0 for the zero vector, +inf if an entry is infinite.

    Derivative (a `jax.custom_jvp` rule): `d |x| = sum(x / |x| * dx)`; at the zero vector the
    gradient is 0, the subgradient of smallest norm (the norm has no derivative there). Every
    entry of `x / |x|` is at most 1 in magnitude, so the gradient never overflows. Differentiating
    the rule gives the Hessian `(I - u uᵀ) / |x|` with `u = x / |x|`, and 0 at the zero vector.
    The rule is needed because the textbook derivative `x / sqrt(sum(x²))` is `0 / 0 = NaN` at
    0, and because the forward's rescaling should not be differentiated.

    Args:
        x: a real array.
        axis: None (all axes), an int, or a sequence of ints.
        keepdims: keep the reduced axes with size 1.

    Returns:
        The norm, of `x`'s dtype.

    Examples:
        >>> import jax.numpy as jnp
        >>> import adkit
        >>> from adkit.ops import safe_norm
        >>> float(safe_norm(jnp.array([3.0, 4.0])))
        5.0
        >>> adkit.grad(safe_norm)(jnp.zeros(2)).tolist()
        [0.0, 0.0]
        >>> adkit.grad(safe_norm)(jnp.array([3.0, 4.0])).tolist()
        [0.6000000238418579, 0.800000011920929]
    """
    x = as_real_float(x, "safe_norm")
    axes = _axes(axis, x.ndim, "safe_norm")
    out = _norm_keepdims(x, axes)
    return out if keepdims else lax.squeeze(out, axes)


def safe_div(a, b):
    """a / b, and 0 where b == 0, with zero gradient there; broadcasting like `a / b`.

    Forward: `a / b` where `b != 0`; 0 where `b == 0` (a choice: division by zero has no value).
    NaN in b stays NaN.

    Derivative (double-where composition): `da / b - a db / b²` where `b != 0`; 0 for both
    operands where `b == 0` (the output is the constant 0 there). The division sees 1 in place
    of a zero divisor, so no `inf` or NaN is formed on the unselected branch, and second
    derivatives (`2 a / b³` and `-1 / b²`) are finite wherever b != 0 and they are representable.

    Args:
        a: a real array, the numerator.
        b: a real array, the denominator, broadcastable with `a`.

    Returns:
        The guarded quotient, of the broadcast shape and promoted dtype.

    Examples:
        >>> import adkit
        >>> from adkit.ops import safe_div
        >>> float(safe_div(1.0, 0.0))
        0.0
        >>> [float(g) for g in adkit.grad(safe_div, argnums=(0, 1))(1.0, 0.0)]
        [0.0, 0.0]
        >>> [float(g) for g in adkit.grad(safe_div, argnums=(0, 1))(1.0, 2.0)]
        [0.5, -0.25]
    """
    a, b = _broadcast_pair(as_real_float(a, "safe_div"), as_real_float(b, "safe_div"))
    zero = lax.eq(b, _full(b, 0))
    # d (a / b) = da / b - a db / b², and 0 where b == 0; the division sees 1 there
    return lax.select(zero, _full(a, 0), lax.div(a, lax.select(zero, _full(b, 1), b)))
