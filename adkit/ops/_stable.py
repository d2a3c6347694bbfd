"""Numerically stable log-domain operations: `logsumexp`, `softplus`, `log_sigmoid`,
`log1m_exp`, `logaddexp`, `softmax`, `log_softmax`.

Each op computes its value without overflow (the largest term is factored out before `exp`),
and its derivative without NaN at the extremes. Where the textbook derivative of the stable
formula is itself unstable (an `exp` of `-inf` minus `-inf`, a `0 * inf` from a branch that
a select did not choose), the op is a `jax.custom_jvp` function whose rule states the
derivative in a stable form; the rule is written with ops that are differentiable again, so
second derivatives come from differentiating the rule. Where plain composition of stable ops
already gives the right derivative, the op is just that composition.

The bodies use `lax` primitives directly (no `jnp` wrappers, which are small jitted functions
of their own): a jaxpr of one of these ops lists exactly the primitives its formula names, and
eager derivatives compile a few shared kernels rather than one program per wrapper.

All ops take real floating inputs (integers are promoted to the default float dtype) and return
the input's dtype.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

_LOG2 = float(np.log(2.0))


# --- input handling ---
def as_real_float(x, name):
    """`x` as a real floating array; integers and booleans become the default float dtype."""
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise TypeError(
            f"`adkit.ops.{name}` received a complex array (dtype {x.dtype}), but it is defined "
            "for real floating inputs only. Pass the real part, e.g. `jnp.real(x)`."
        )
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def _broadcast_pair(a, b):
    """a and b at their common dtype and broadcast shape (gradients reduce back over the
    broadcast axes through `broadcast_in_dim`'s transpose)."""
    dtype = jnp.result_type(a, b)
    shape = jnp.broadcast_shapes(a.shape, b.shape)
    return tuple(
        lax.broadcast_in_dim(v.astype(dtype), shape, tuple(range(len(shape) - v.ndim, len(shape))))
        for v in (a, b)
    )


def _axes(axis, ndim, name) -> tuple[int, ...]:
    """`axis` (None, an int or a sequence of ints) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(axes, Sequence) or not all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes
    ):
        raise TypeError(
            f"`adkit.ops.{name}` received axis={axis!r}, but `axis` must be None, an int or a "
            "sequence of ints. Pass e.g. `axis=-1` or `axis=(0, 1)`."
        )
    if not all(-ndim <= a < ndim for a in axes):
        raise ValueError(
            f"`adkit.ops.{name}` received axis={axis!r} for an input of rank {ndim}, but each "
            f"axis must lie in [-{ndim}, {ndim}). Pass axes within the input's rank."
        )
    out = tuple(sorted(int(a) % ndim for a in axes))
    if len(set(out)) != len(out):
        raise ValueError(
            f"`adkit.ops.{name}` received axis={axis!r}, which names an axis twice. Pass each "
            "axis once."
        )
    return out


def _masked(x, where, name):
    """`x` with the entries where `where` is False replaced by -inf (they then weigh nothing;
    the select sends them a zero cotangent)."""
    if where is None:
        return x
    where = jnp.asarray(where)
    try:
        fits = np.broadcast_shapes(where.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"`adkit.ops.{name}` received `where` of shape {where.shape} for an input of shape "
            f"{x.shape}, but `where` must broadcast to the input's shape. Pass a boolean mask "
            "of the input's shape (or one that broadcasts to it)."
        )
    dims = tuple(range(x.ndim - where.ndim, x.ndim))
    mask = lax.broadcast_in_dim(where.astype(bool), x.shape, dims)
    return lax.select(mask, x, _full(x, -np.inf))


# --- lax helpers: reductions keep their axes (size 1); `_spread` broadcasts them back ---
def _full(x, value):
    return lax.full_like(x, value)


def _sum(x, axes):
    return lax.expand_dims(lax.reduce_sum(x, axes), axes)


def _spread(r, like):
    return lax.broadcast_in_dim(r, like.shape, tuple(range(like.ndim)))


def _shift(x, axes):
    """max(x) over `axes`, or 0 where that max is ±inf or NaN (so `x - shift` is never
    `-inf - -inf`). A constant for differentiation: the ops using it do not depend on it."""
    m = lax.expand_dims(lax.reduce_max(x, axes), axes)
    return lax.stop_gradient(lax.select(lax.is_finite(m), m, _full(m, 0)))


def _weights(x, axes):
    """softmax(x) = e / sum(e) with e = exp(x - max(x)); 0 (not NaN) in a slice that is all
    -inf, where the sum is replaced by 1 (double-where: `0 / 0` is never formed)."""
    # d softmax = p (dx - sum(p dx)): the quotient rule applied to e / sum(e)
    e = lax.exp(lax.sub(x, _spread(_shift(x, axes), x)))
    total = _sum(e, axes)
    return lax.div(
        e, _spread(lax.select(lax.gt(total, _full(total, 0)), total, _full(total, 1)), x)
    )


# --- logsumexp ---
@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _logsumexp_keepdims(x, axes):
    # lse(x) = m + log(sum(exp(x - m))), m = max(x) (0 when max(x) is ±inf or NaN: no inf - inf)
    shift = _shift(x, axes)
    return lax.add(shift, lax.log(_sum(lax.exp(lax.sub(x, _spread(shift, x))), axes)))


@_logsumexp_keepdims.defjvp
def _logsumexp_jvp(axes, primals, tangents):
    (x,), (dx,) = primals, tangents
    out = _logsumexp_keepdims(x, axes)
    # d lse(x) = sum(softmax(x) dx); softmax := 0 in a slice that is all -inf
    return out, _sum(lax.mul(_weights(x, axes), dx), axes)


def logsumexp(x, axis=None, keepdims: bool = False, where=None):
    """log(sum(exp(x))) over `axis`, without overflow, with a NaN-free gradient.

    Forward: `m + log(sum(exp(x - m)))` with `m = max(x)`, so no `exp` overflows; when `m` is
    ±inf the shift is 0 instead, so `-inf - -inf` never occurs. A slice that is all -inf (or
    all masked out) gives -inf.

    Derivative (a `jax.custom_jvp` rule): `d lse = sum(softmax(x) * dx)` with
    `softmax(x) = e / sum(e)`, `e = exp(x - max(x))` (a quotient, which does not inherit the
    rounding of the value: the gradient at [1000, 1000] is exactly [0.5, 0.5]), taken as 0 in
    a slice that is all -inf. So -inf entries and
    masked entries get gradient exactly 0, and a slice with no finite entry gets gradient 0
    rather than NaN. Differentiating the rule gives the Hessian `diag(p) - p pᵀ`.

    Why it is stable: the naive `log(sum(exp(x)))` overflows for `x > 88` (float32) or
    `x > 709` (float64), and differentiating the shifted formula through `log(0)` at an all -inf
    slice multiplies `inf` by 0. A +inf entry gives +inf (its gradient is NaN: there is no
    meaningful softmax).

    Args:
        x: a real array.
        axis: None (all axes), an int, or a sequence of ints.
        keepdims: keep the reduced axes with size 1.
        where: optional boolean mask broadcastable to `x.shape`; False entries are left out of
            the sum (as if they were -inf) and get gradient 0.

    Returns:
        The log-sum-exp, of `x`'s dtype.

    Examples:
        >>> import jax.numpy as jnp
        >>> import adkit
        >>> from adkit.ops import logsumexp
        >>> round(float(logsumexp(jnp.array([1000.0, 1000.0]))), 3)  # 1000 + log 2
        1000.693
        >>> float(logsumexp(jnp.array([-jnp.inf, -jnp.inf])))
        -inf
        >>> adkit.grad(logsumexp)(jnp.array([-jnp.inf, -jnp.inf])).tolist()
        [0.0, 0.0]
        >>> mask = jnp.array([True, True, False])
        >>> adkit.grad(lambda x: logsumexp(x, where=mask))(jnp.array([0.0, 0.0, 5.0])).tolist()
        [0.5, 0.5, 0.0]
    """
    x = as_real_float(x, "logsumexp")
    axes = _axes(axis, x.ndim, "logsumexp")
    out = _logsumexp_keepdims(_masked(x, where, "logsumexp"), axes)
    return out if keepdims else lax.squeeze(out, axes)


# --- softplus and log_sigmoid ---
@jax.custom_jvp
def _softplus(x):
    # softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^(-|x|)): the exp argument is <= 0
    return lax.add(lax.max(x, _full(x, 0)), lax.log1p(lax.exp(lax.neg(lax.abs(x)))))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return _softplus(x), lax.mul(lax.logistic(x), dx)  # d softplus(x) = sigmoid(x) dx


def softplus(x):
    """log(1 + exp(x)), exact for large |x|, with gradient `sigmoid(x)`.

    Forward: `max(x, 0) + log1p(exp(-|x|))`: the `exp` argument is never positive, so nothing
    overflows; `softplus(1000.) == 1000.` and `softplus(-1000.)` is the tiny `exp(-1000.)`
    (0 after underflow).

    Derivative (a `jax.custom_jvp` rule): `d softplus(x) = sigmoid(x) dx` (a `lax.logistic`,
    which saturates to exactly 1 and 0); the second derivative is `sigmoid(x)(1 - sigmoid(x))`.
    The rule is needed because the stable formula's own derivative at x = 0 depends on the
    subgradients autodiff picks for `max` and `|x|` (JAX's give slope 0 there instead of 1/2).

    Why it is stable: the naive `log(1 + exp(x))` is inf for x > 88 (float32) and its gradient
    `exp(x) / (1 + exp(x))` is `inf / inf = NaN` there.

    Args:
        x: a real array.

    Returns:
        softplus(x), of `x`'s dtype.

    Examples:
        >>> import jax.numpy as jnp
        >>> import adkit
        >>> from adkit.ops import softplus
        >>> float(softplus(1000.0)), float(adkit.grad(softplus)(1000.0))
        (1000.0, 1.0)
        >>> float(adkit.grad(softplus)(-1000.0))
        0.0
    """
    return _softplus(as_real_float(x, "softplus"))


log1p_exp = softplus
"""log(1 + exp(x)): another name for `softplus`."""


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), finite for every finite x.

    Forward: `-softplus(-x)`, stable for the same reason as `softplus`:
    `log_sigmoid(-1000.) == -1000.` and `log_sigmoid(1000.)` is `-exp(-1000.)` (-0 after
    underflow).

    Derivative (plain composition through `softplus`'s rule): `d log_sigmoid(x) =
    sigmoid(-x) dx = (1 - sigmoid(x)) dx`, computed as `sigmoid(-x)`, which keeps its precision
    for large x where `1 - sigmoid(x)` would round to 0.

    Why it is stable: the naive `log(sigmoid(x))` is `log(0) = -inf` for x < -104 (float32),
    with a NaN gradient.

    Args:
        x: a real array.

    Returns:
        log(sigmoid(x)), of `x`'s dtype.

    Examples:
        >>> import adkit
        >>> from adkit.ops import log_sigmoid
        >>> float(log_sigmoid(-1000.0)), float(adkit.grad(log_sigmoid)(-1000.0))
        (-1000.0, 1.0)
    """
    return lax.neg(_softplus(lax.neg(as_real_float(x, "log_sigmoid"))))


# --- log1m_exp ---
@jax.custom_jvp
def _log1m_exp(x):
    # log(1 - e^x): log(-expm1(x)) near 0 (1 - e^x cancels), log1p(-e^x) below -log 2
    near_zero = lax.gt(x, _full(x, -_LOG2))
    return lax.select(near_zero, lax.log(lax.neg(lax.expm1(x))), lax.log1p(lax.neg(lax.exp(x))))


@_log1m_exp.defjvp
def _log1m_exp_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    # d log(1 - e^x) = -e^x / (1 - e^x) dx = e^x / expm1(x) dx   (x < 0)
    # at 0 the left limit -inf; above 0 (outside the domain) NaN.
    # Double-where: the quotient is evaluated at -1 where x >= 0, so its derivative is finite.
    inside = lax.lt(x, _full(x, 0))
    x_in = lax.select(inside, x, _full(x, -1))
    outside = lax.select(lax.eq(x, _full(x, 0)), _full(x, -np.inf), _full(x, np.nan))
    slope = lax.select(inside, lax.div(lax.exp(x_in), lax.expm1(x_in)), outside)
    return _log1m_exp(x), lax.mul(slope, dx)


def log1m_exp(x):
    """log(1 - exp(x)) for x <= 0, accurate both near 0 and far below it.

    Forward (two branches, switching at x = -log 2): `log(-expm1(x))` for `-log 2 < x <= 0`,
    where `1 - exp(x)` would cancel (log1m_exp(-1e-20) = log(1e-20) = -46.05..., while the
    naive formula gives log(0) = -inf); `log1p(-exp(x))` for `x <= -log 2`, where `exp(x)` is
    small and `log1p` keeps it (log1m_exp(-50) = -exp(-50) = -1.9e-22, while the naive formula
    rounds to 0).

    Derivative (a `jax.custom_jvp` rule): `d log1m_exp(x) = exp(x) / expm1(x) dx`
    (= -1 / expm1(-x)), finite and accurate for every x < 0, 0 at -inf; written so that its
    own derivative `-exp(x) / expm1(x)²` is finite too. The rule is needed because
    differentiating the two-branch select sends `0 * inf = NaN` from the unselected branch
    at x = 0.

    At x = 0: value -inf and derivative -inf (the left limit; a tangent of exactly 0 then gives
    NaN, as `0 * -inf` does). For x > 0, outside the domain: value and derivative NaN.

    Args:
        x: a real array, x <= 0.

    Returns:
        log(1 - exp(x)), of `x`'s dtype.

    Examples:
        >>> import adkit
        >>> from adkit.ops import log1m_exp
        >>> round(float(log1m_exp(-1e-20)), 2)
        -46.05
        >>> float(log1m_exp(-50.0)) < 0.0  # -exp(-50), not 0
        True
        >>> round(float(adkit.grad(log1m_exp)(-1.0)), 4)  # -1 / (e - 1)
        -0.582
    """
    return _log1m_exp(as_real_float(x, "log1m_exp"))


# --- logaddexp ---
def _difference(a, b):
    """a - b, with 0 where a and b are the same infinity (not NaN)."""
    same_inf = lax.bitwise_and(lax.eq(a, b), lax.eq(lax.abs(a), _full(a, np.inf)))
    return lax.select(same_inf, _full(a, 0), lax.sub(a, b))


@jax.custom_jvp
def _logaddexp(a, b):
    # log(e^a + e^b) = max(a, b) + log1p(e^(-|a - b|))
    return lax.add(lax.max(a, b), lax.log1p(lax.exp(lax.neg(lax.abs(_difference(a, b))))))


@_logaddexp.defjvp
def _logaddexp_jvp(primals, tangents):
    (a, b), (da, db) = primals, tangents
    # d logaddexp = sigmoid(a - b) da + sigmoid(b - a) db; 0 where a = b = -inf
    ninf = _full(a, -np.inf)
    empty = lax.bitwise_and(lax.eq(a, ninf), lax.eq(b, ninf))
    d = _difference(a, b)
    zero = _full(a, 0)
    wa = lax.select(empty, zero, lax.logistic(d))
    wb = lax.select(empty, zero, lax.logistic(lax.neg(d)))
    return _logaddexp(a, b), lax.add(lax.mul(wa, da), lax.mul(wb, db))


def logaddexp(a, b):
    """log(exp(a) + exp(b)), elementwise with broadcasting, stable at every magnitude.

    Forward: `max(a, b) + log1p(exp(-|a - b|))`, where `a - b` is taken as 0 when a and b are
    the same infinity; so logaddexp(-inf, -inf) = -inf and logaddexp(inf, inf) = inf.

    Derivative (a `jax.custom_jvp` rule): `d = sigmoid(a - b) da + sigmoid(b - a) db`, the two
    weights exp(a - out) and exp(b - out), each computed as a `sigmoid` to keep its precision.
    Where a = b = -inf both weights are 0: gradient 0, not the NaN of
    `exp(-inf - (-inf))`. The rule is needed because the stable formula's own derivative at
    a = b depends on the subgradients autodiff picks for `max` and `|a - b|` (JAX's give
    (0, 1) instead of (1/2, 1/2)), and because differentiating through `-inf - -inf` gives NaN.

    Args:
        a: a real array.
        b: a real array, broadcastable with `a`.

    Returns:
        log(exp(a) + exp(b)), of the broadcast shape and promoted dtype.

    Examples:
        >>> import jax.numpy as jnp
        >>> import adkit
        >>> from adkit.ops import logaddexp
        >>> float(logaddexp(-jnp.inf, -jnp.inf))
        -inf
        >>> [float(g) for g in adkit.grad(logaddexp, argnums=(0, 1))(-jnp.inf, -jnp.inf)]
        [0.0, 0.0]
        >>> [float(g) for g in adkit.grad(logaddexp, argnums=(0, 1))(1000.0, 1000.0)]
        [0.5, 0.5]
    """
    a, b = as_real_float(a, "logaddexp"), as_real_float(b, "logaddexp")
    return _logaddexp(*_broadcast_pair(a, b))


# --- softmax and log_softmax ---
def softmax(x, axis=-1, where=None):
    """exp(x) / sum(exp(x)) over `axis`: no overflow, masked entries 0.

    Forward: `e / sum(e)` with `e = exp(x - max(x))`, so each exponent is <= 0. Masked-out
    entries are 0; a slice with every entry masked (or -inf) is all 0, not NaN: its sum is
    replaced by 1 before the division (double-where), so `0 / 0` is never formed.

    Derivative (plain composition: the shift `max(x)` is held constant, which is exact because
    softmax does not depend on it): `d softmax = p * (dx - sum(p * dx))` by the quotient rule;
    masked entries get gradient 0 (the select sends them a zero cotangent, and no NaN is
    formed on the unselected side).

    Args:
        x: a real array.
        axis: an int or a sequence of ints (default: the last axis).
        where: optional boolean mask broadcastable to `x.shape`; False entries are left out.

    Returns:
        The softmax, of `x`'s shape and dtype.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.ops import softmax
        >>> softmax(jnp.array([1000.0, 0.0, -1000.0])).tolist()
        [1.0, 0.0, 0.0]
        >>> softmax(jnp.array([0.0, 0.0, 9.0]), where=jnp.array([True, True, False])).tolist()
        [0.5, 0.5, 0.0]
    """
    x = as_real_float(x, "softmax")
    axes = _axes(axis, x.ndim, "softmax")
    return _weights(_masked(x, where, "softmax"), axes)


def log_softmax(x, axis=-1, where=None):
    """x - logsumexp(x) over `axis`: finite for finite logits of any spread.

    Forward: `x - lse` with `lse = logsumexp(x, axis, keepdims=True, where=where)`; so
    log_softmax([1000, 0, -1000]) = [0, -1000, -2000] where the naive `log(softmax(x))` gives
    NaN (exp(1000) overflows) or -inf. Masked-out entries are -inf; in a slice with every entry
    masked the lse is taken as 0, so the entries are -inf, not NaN.

    Derivative (plain composition with `logsumexp`'s rule): `d log_softmax = dx - sum(p * dx)`
    with `p = softmax(x)`; masked entries get gradient 0.

    Args:
        x: a real array.
        axis: an int or a sequence of ints (default: the last axis).
        where: optional boolean mask broadcastable to `x.shape`; False entries are left out.

    Returns:
        The log-softmax, of `x`'s shape and dtype.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.ops import log_softmax
        >>> log_softmax(jnp.array([1000.0, 0.0, -1000.0])).tolist()
        [0.0, -1000.0, -2000.0]
    """
    x = as_real_float(x, "log_softmax")
    axes = _axes(axis, x.ndim, "log_softmax")
    xm = _masked(x, where, "log_softmax")
    lse = _logsumexp_keepdims(xm, axes)
    empty = lax.eq(lse, _full(lse, -np.inf))
    return lax.sub(xm, _spread(lax.select(empty, _full(lse, 0), lse), xm))
