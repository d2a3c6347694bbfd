"""Surrogate-gradient operations: a forward value paired with a chosen derivative.

Some useful operations have derivatives that are zero almost everywhere (rounding,
quantization, taking an argmax), or have a perfectly good derivative that training wants to
change (reversing or rescaling it, bounding its size). The functions here keep the forward value
and substitute a documented surrogate derivative.

Where the surrogate is linear in the tangent it is written as a `jax.custom_jvp` rule, so forward
mode, reverse mode and higher orders all work, in JAX and in adkit alike. Each rule's primal
output calls the operation again, so a second differentiation sees the same surrogate.
`clip_gradient` acts on the cotangent itself, which no JVP can express: it is a
`jax.custom_vjp` function and supports reverse mode only.

Validation of values (a positive scale, `lo <= hi`, ...) happens when the values are concrete;
under `jax.jit` traced values are not checked.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = [
    "clip_gradient",
    "fake_quantize",
    "gumbel_softmax",
    "scale_gradient",
    "straight_through",
]


# --- argument checks ---


def _float_array(x, api: str, name: str = "x"):
    """`x` as a real floating-point JAX array, or a TypeError naming `api`."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(
            f"`adkit.ops.{api}` expects `{name}` to be a real floating-point array, but received "
            f"dtype {x.dtype}. Convert it first, e.g. `{name}.astype(jnp.float32)`."
        )
    return x


def _concrete(value):
    """`value` as a numpy array, or None when it is traced (then it cannot be checked)."""
    try:
        return np.asarray(value)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _show(value) -> str:
    """A short text for a received value: a scalar as itself, an array as its (abridged) list."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return repr(value.item())
        return np.array2string(value, threshold=8, separator=", ")
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _like(value, x, api: str, name: str, ref: str = "x"):
    """`value` as an array of `x`'s dtype whose shape broadcasts to `x`'s shape."""
    concrete = _concrete(value)
    if concrete is not None and concrete.dtype.kind not in "biuf":
        raise TypeError(
            f"`adkit.ops.{api}` expects `{name}` to be a real number or array, but received "
            f"{_show(concrete)} of dtype {concrete.dtype}. Pass a real number such as 1.0."
        )
    value = jnp.asarray(value, dtype=x.dtype)
    try:
        shape = jnp.broadcast_shapes(value.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(
            f"`adkit.ops.{api}` expects `{name}` to broadcast to the shape of `{ref}`, "
            f"{x.shape}, but received shape {value.shape}. Pass a scalar or an array whose shape "
            f"broadcasts to {x.shape}."
        )
    return value


def _all_finite(value, api: str, name: str):
    concrete = _concrete(value)
    if concrete is not None and not np.all(np.isfinite(concrete)):
        raise ValueError(
            f"`adkit.ops.{api}` expects a finite `{name}`, but received {_show(concrete)}. Pass "
            f"finite values."
        )


# --- straight-through estimator ---


def straight_through(fn: Callable[[jax.Array], jax.Array]) -> Callable[[jax.Array], jax.Array]:
    """Wraps `fn` so that it computes `fn(x)` but differentiates as the identity.

    Forward: `y = fn(x)`. Derivative: `dy = dx` (the straight-through estimator), at every
    order: a second differentiation sees the identity again, so the second derivative of
    `straight_through(fn)` alone is zero.

    It is used to train through a step function whose true derivative is zero almost everywhere
    (rounding, sign, binarization), so that gradients reach the parameters before it.

    Args:
        fn: a function of one real floating-point array returning an array of the same shape
            and dtype (elementwise functions such as `jnp.round`, `jnp.sign`, `jnp.floor`).
            Bind other arguments first, e.g. `straight_through(lambda x: jnp.round(x, 2))`.

    Returns:
        A function of one array, differentiable in forward and reverse mode (a
        `jax.custom_jvp` function inside).

    Raises:
        TypeError: when `fn` is not callable, when the input is not a real floating-point array,
            or when `fn` changes the shape or dtype of its input.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.ops import straight_through
        >>> st_round = straight_through(jnp.round)
        >>> float(st_round(1.7)), float(jax.grad(st_round)(1.7))
        (2.0, 1.0)
    """
    if not callable(fn):
        raise TypeError(
            f"`adkit.ops.straight_through` expects a callable such as `jnp.round`, but received "
            f"{_show(fn)}. Pass the function whose forward value you want, not its result."
        )
    name = getattr(fn, "__name__", type(fn).__name__)

    @jax.custom_jvp
    def estimator(x):
        y = fn(x)
        y_shape, y_dtype = jnp.shape(y), jnp.result_type(y)
        if (y_shape, y_dtype) != (x.shape, x.dtype):
            raise TypeError(
                f"`adkit.ops.straight_through({name})` expects `{name}` to return an array of "
                f"its input's shape and dtype, {x.dtype}{list(x.shape)}, but it returned "
                f"{y_dtype}{list(y_shape)}. Use an elementwise, dtype-preserving function (cast "
                f"inside it if needed)."
            )
        return y

    @estimator.defjvp
    def _estimator_jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        return estimator(x), dx  # d straight_through(fn)(x) = dx

    def apply(x):
        return estimator(_float_array(x, f"straight_through({name})"))

    apply.__name__ = apply.__qualname__ = f"straight_through({name})"
    apply.__doc__ = f"`{name}(x)` forward, the identity as its derivative."
    return apply


# --- fake quantization ---


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _fake_quantize(x, bits, scale, zero_point):
    qmax = 2.0**bits - 1.0
    q = jnp.clip(jnp.round(x / scale) + zero_point, 0.0, qmax)
    return (q - zero_point) * scale


@_fake_quantize.defjvp
def _fake_quantize_jvp(bits, primals, tangents):
    x, scale, zero_point = primals
    dx = tangents[0]  # scale and zero_point enter under stop_gradient: no tangent
    lo = (0.0 - zero_point) * scale
    hi = (2.0**bits - 1.0 - zero_point) * scale
    inside = (x >= lo) & (x <= hi)
    # d fake_quantize(x) = dx where lo <= x <= hi, else 0 (the clipped straight-through rule)
    return _fake_quantize(x, bits, scale, zero_point), jnp.where(inside, dx, jnp.zeros_like(dx))


def fake_quantize(x, bits: int, scale, zero_point) -> jax.Array:
    """Quantizes `x` to an unsigned `bits`-bit integer grid and back, with a clipped STE.

    Forward, with the unsigned range `qmin = 0`, `qmax = 2**bits - 1`:
    `q = clip(round(x / scale) + zero_point, qmin, qmax)` (`round` is round-half-to-even, as
    `jnp.round`), then `y = (q - zero_point) * scale`.

    Derivative with respect to `x` (the clipped straight-through estimator): `dy = dx` where `x`
    lies in the representable range `[(qmin - zero_point) * scale, (qmax - zero_point) * scale]`
    (both ends included) and `0` outside it. `scale` and `zero_point` are treated as constants
    (as under `jax.lax.stop_gradient`): they receive zero gradient.

    It is used for quantization-aware training: the forward pass sees the rounding error of the
    integer grid while gradients pass through unchanged, except for values that saturate.

    Args:
        x: a real floating-point array; the output has its shape and dtype.
        bits: the integer width, a positive Python int; the grid is unsigned (`0 ... 2**bits - 1`).
            For a signed grid, shift `zero_point` (e.g. `zero_point = 2**(bits - 1)`).
        scale: the step between grid points, positive; a scalar or an array broadcasting to
            `x` (per-channel scales).
        zero_point: the grid integer that represents real zero, an integer value in
            `[0, 2**bits - 1]` (it may be stored as a float); a scalar or an array broadcasting
            to `x`.

    Returns:
        The dequantized array, of `x`'s shape and dtype.

    Raises:
        TypeError: when `bits` is not an int or `x` is not a real floating-point array.
        ValueError: when `bits < 1`, `scale` is not positive and finite, `zero_point` is not an
            integer in range, or a shape does not broadcast to `x`'s (values checked when
            concrete).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.ops import fake_quantize
        >>> x = jnp.array([-0.3, 0.26, 0.9])
        >>> [round(float(v), 4) for v in fake_quantize(x, 2, 0.25, 0)]
        [0.0, 0.25, 0.75]
        >>> jax.grad(lambda x: fake_quantize(x, 2, 0.25, 0).sum())(x).tolist()
        [0.0, 1.0, 0.0]
    """
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral):
        raise TypeError(
            f"`adkit.ops.fake_quantize` expects `bits` to be a Python int, but received {bits!r} "
            f"of type {type(bits).__name__}. Pass the integer width, e.g. bits=8."
        )
    bits = int(bits)
    if bits < 1:
        raise ValueError(
            f"`adkit.ops.fake_quantize` expects a positive `bits`, but received bits={bits}. "
            f"Pass the integer width, e.g. bits=8."
        )
    x = _float_array(x, "fake_quantize")
    qmax = 2**bits - 1
    concrete_scale = _concrete(scale)
    if concrete_scale is not None and not np.all(
        (concrete_scale > 0) & np.isfinite(concrete_scale)
    ):
        raise ValueError(
            f"`adkit.ops.fake_quantize` expects a positive, finite `scale`, but received "
            f"{_show(concrete_scale)}. Pass the grid step, e.g. "
            f"scale=(x_max - x_min) / (2**bits - 1)."
        )
    concrete_zp = _concrete(zero_point)
    if concrete_zp is not None and not (
        np.all(np.round(concrete_zp) == concrete_zp)
        and np.all((concrete_zp >= 0) & (concrete_zp <= qmax))
    ):
        raise ValueError(
            f"`adkit.ops.fake_quantize` expects `zero_point` to be an integer in [0, {qmax}] "
            f"(the unsigned {bits}-bit grid), but received {_show(concrete_zp)}. Round it and "
            f"clip it to that range, e.g. `jnp.clip(jnp.round(zero_point), 0, {qmax})`."
        )
    scale = lax.stop_gradient(_like(scale, x, "fake_quantize", "scale"))
    zero_point = lax.stop_gradient(_like(zero_point, x, "fake_quantize", "zero_point"))
    return _fake_quantize(x, bits, scale, zero_point)


# --- gradient clipping (reverse mode only) ---


@jax.custom_vjp
def _clip_gradient(x, lo, hi):
    return x


def _clip_gradient_fwd(x, lo, hi):
    return x, (lo, hi)


def _clip_gradient_bwd(residuals, ct):
    lo, hi = residuals
    # ct_x = clip(ct_y, lo, hi); the bounds get no cotangent
    return jnp.clip(ct, lo, hi), jnp.zeros_like(lo), jnp.zeros_like(hi)


_clip_gradient.defvjp(_clip_gradient_fwd, _clip_gradient_bwd)


def clip_gradient(x, lo, hi) -> jax.Array:
    """The identity in the forward pass; clips the cotangent to `[lo, hi]` in reverse mode.

    Forward: `y = x`. Reverse mode: the incoming cotangent `ct_y` is clipped elementwise,
    `ct_x = clip(ct_y, lo, hi)`; `lo` and `hi` receive zero cotangent.

    It bounds the gradient flowing back through one point of a computation (for example into a
    recurrent state or a value estimate) without changing the forward value.

    The rule acts on the cotangent itself, which is not a linear map of a tangent, so it is a
    `jax.custom_vjp` function: forward mode (`jax.jvp`, `adkit.jvp`, `jax.jacfwd`) raises
    TypeError, in JAX and in adkit alike. Use reverse mode (`jax.grad`, `adkit.grad`).

    Args:
        x: a real floating-point array; the output is `x` itself.
        lo: the lower bound, a scalar or an array broadcasting to `x` (may be `-inf`).
        hi: the upper bound, a scalar or an array broadcasting to `x` (may be `inf`).

    Returns:
        `x`, unchanged.

    Raises:
        TypeError: when `x` is not a real floating-point array.
        ValueError: when `lo > hi` somewhere, either is NaN, or a shape does not broadcast to
            `x`'s (values checked when concrete).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.ops import clip_gradient
        >>> float(jax.grad(lambda x: 10.0 * clip_gradient(x, -1.0, 1.0))(3.0))
        1.0
    """
    x = _float_array(x, "clip_gradient")
    concrete_lo, concrete_hi = _concrete(lo), _concrete(hi)
    if (
        concrete_lo is not None
        and concrete_hi is not None
        and concrete_lo.dtype.kind in "biuf"
        and concrete_hi.dtype.kind in "biuf"
        and not np.all(concrete_lo <= concrete_hi)
    ):
        raise ValueError(
            f"`adkit.ops.clip_gradient` expects lo <= hi (elementwise, no NaN), but received "
            f"lo={_show(concrete_lo)} and hi={_show(concrete_hi)}. Pass the bounds in order, e.g. "
            f"clip_gradient(x, -1.0, 1.0)."
        )
    lo = _like(lo, x, "clip_gradient", "lo")
    hi = _like(hi, x, "clip_gradient", "hi")
    return _clip_gradient(x, lo, hi)


# --- gradient scaling ---


@jax.custom_jvp
def _scale_gradient(x, s):
    return x


@_scale_gradient.defjvp
def _scale_gradient_jvp(primals, tangents):
    x, s = primals
    dx = tangents[0]  # s enters under stop_gradient: no tangent
    return _scale_gradient(x, s), s * dx  # d scale_gradient(x, s) = s dx


def scale_gradient(x, s) -> jax.Array:
    """The identity in the forward pass; the derivative is multiplied by `s`.

    Forward: `y = x`. Derivative: `dy = s dx`, at every order (a second differentiation through
    it is scaled by `s` again). `s` itself is a constant: it receives zero gradient.

    With `s < 0` it is the gradient reversal layer of domain-adversarial training: a feature
    extractor is trained to fool a domain classifier that is trained, through the same loss,
    to succeed. With `0 < s < 1` it slows learning of the layers before it.

    Args:
        x: a real floating-point array; the output is `x` itself.
        s: the factor, a finite real scalar or an array broadcasting to `x`.

    Returns:
        `x`, unchanged.

    Raises:
        TypeError: when `x` is not a real floating-point array or `s` is not real.
        ValueError: when `s` is not finite or its shape does not broadcast to `x`'s (values
            checked when concrete).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.ops import scale_gradient
        >>> float(jax.grad(lambda x: scale_gradient(x, -1.0) ** 2)(3.0))
        -6.0
    """
    x = _float_array(x, "scale_gradient")
    s = _like(s, x, "scale_gradient", "s")
    _all_finite(s, "scale_gradient", "s")
    return _scale_gradient(x, lax.stop_gradient(s))


# --- Gumbel-softmax ---


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _hard_softmax(z, axis):
    n = z.shape[axis]
    return jax.nn.one_hot(jnp.argmax(z, axis=axis), n, dtype=z.dtype, axis=axis)


@_hard_softmax.defjvp
def _hard_softmax_jvp(axis, primals, tangents):
    (z,), (dz,) = primals, tangents
    y = jax.nn.softmax(z, axis=axis)
    # the soft sample's derivative: d softmax(z) = y * (dz - sum(y * dz))
    dy = y * (dz - jnp.sum(y * dz, axis=axis, keepdims=True))
    return _hard_softmax(z, axis), dy


def gumbel_softmax(logits, key, tau=1.0, hard: bool = False, axis: int = -1) -> jax.Array:
    """A differentiable sample from the categorical distribution `softmax(logits)`.

    Forward (soft): `y = softmax((logits + g) / tau, axis)` with standard Gumbel noise
    `g = jax.random.gumbel(key, logits.shape, logits.dtype)`. As `tau -> 0` the sample
    approaches a one-hot vector distributed as `softmax(logits)`.

    Forward (hard): the one-hot vector of `argmax((logits + g) / tau, axis)`, exactly 0 and 1.
    Its derivative is that of the soft sample (straight-through): with `y = softmax(z)`,
    `z = (logits + g) / tau`, `dy = y * (dz - sum(y * dz, axis))`. The derivative reaches
    `logits` and, through `z`, `tau`; the noise has none. Differentiating twice gives the soft
    sample's second derivative.

    It is used to train models that make discrete choices (categorical latent variables,
    architecture or token selection) by gradient descent; `hard=True` keeps the forward pass
    discrete.

    Args:
        logits: unnormalized log-probabilities, a real floating-point array of rank >= 1.
        key: a `jax.random` key (`jax.random.key(0)` or a legacy `jax.random.PRNGKey(0)`).
        tau: the temperature, positive; a scalar or an array broadcasting to `logits`.
        hard: a Python bool; when True, the forward value is one-hot.
        axis: the categories' axis.

    Returns:
        The sample, of `logits`' shape and dtype.

    Raises:
        TypeError: when `logits` is not a real floating-point array, `key` is not a key, or
            `hard` or `axis` has the wrong type.
        ValueError: when `tau` is not positive (checked when concrete), `logits` is a scalar,
            or `axis` is out of range.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.ops import gumbel_softmax
        >>> logits = jnp.array([1.0, 2.0, 0.5])
        >>> y = gumbel_softmax(logits, jax.random.key(0), tau=0.5, hard=True)
        >>> float(y.sum()), sorted(y.tolist())
        (1.0, [0.0, 0.0, 1.0])
        >>> g = jax.grad(lambda l: gumbel_softmax(l, jax.random.key(0), 0.5, True)[0])(logits)
        >>> round(float(g.sum()), 4)  # a softmax's derivative sums to zero over categories
        0.0
    """
    logits = _float_array(logits, "gumbel_softmax", "logits")
    if not isinstance(hard, bool | np.bool_):
        raise TypeError(
            f"`adkit.ops.gumbel_softmax` expects `hard` to be a Python bool, but received "
            f"{_show(hard)}. Pass hard=True or hard=False (it selects the computation, so it "
            f"cannot be traced)."
        )
    if logits.ndim == 0:
        raise ValueError(
            "`adkit.ops.gumbel_softmax` expects `logits` of rank >= 1 (one entry per category), "
            "but received a scalar. Pass an array such as `jnp.array([0.0, 1.0])`."
        )
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(
            f"`adkit.ops.gumbel_softmax` expects `axis` to be an int, but received {_show(axis)}. "
            f"Pass the categories' axis, e.g. axis=-1."
        )
    if not -logits.ndim <= axis < logits.ndim:
        raise ValueError(
            f"`adkit.ops.gumbel_softmax` received axis={axis} for `logits` of rank {logits.ndim}; "
            f"expected an axis in [{-logits.ndim}, {logits.ndim - 1}]. Pass a valid axis."
        )
    axis = int(axis) % logits.ndim
    key_dtype = getattr(key, "dtype", None)
    if key_dtype is None or not (
        jax.dtypes.issubdtype(key_dtype, jax.dtypes.prng_key) or key_dtype == np.uint32
    ):
        raise TypeError(
            f"`adkit.ops.gumbel_softmax` expects `key` to be a `jax.random` key, but received "
            f"{_show(key)}. Pass `jax.random.key(seed)` (split it for independent samples)."
        )
    concrete_tau = _concrete(tau)
    if concrete_tau is not None and not np.all(concrete_tau > 0):
        raise ValueError(
            f"`adkit.ops.gumbel_softmax` expects a positive temperature `tau`, but received "
            f"tau={_show(concrete_tau)}. Pass tau > 0 (e.g. tau=1.0; smaller is closer to one-hot)."
        )
    tau = _like(tau, logits, "gumbel_softmax", "tau", ref="logits")
    noise = jax.random.gumbel(key, logits.shape, logits.dtype)
    z = (logits + noise) / tau
    return _hard_softmax(z, axis) if hard else jax.nn.softmax(z, axis=axis)
