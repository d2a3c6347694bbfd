"""`tridiagonal_matvec`: y = T x for a tridiagonal T, a linear primitive with every rule.

T (n by n) is given by its three bands: `lower[i] = T[i+1, i]` (n-1 entries), `diag[i] = T[i, i]`
(n) and `upper[i] = T[i, i+1]` (n-1), so

    y[i] = lower[i-1] x[i-1] + diag[i] x[i] + upper[i] x[i+1]      (terms outside 0..n-1 absent)

in O(n) work, without building T. `x` is a vector (n,) or a block of right-hand sides (n, k);
all operands may share leading batch dimensions (the batching rule uses them).

y is linear in x, and bilinear in (bands, x): the JVP is T(d bands) x + T dx, reverse mode
transposes each of the two terms, and the transpose with respect to x is the primitive itself
with the bands swapped (Tᵀ has lower and upper exchanged).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from .. import _jax_compat as jc
from ..interpreter.rules import is_undefined
from ._primitive import define_primitive

__all__ = ["tridiagonal_matvec", "tridiagonal_matvec_p"]


def tridiagonal_matvec(lower: Any, diag: Any, upper: Any, x: Any) -> Any:
    """Computes T x for the tridiagonal T with bands `lower`, `diag`, `upper`, in O(n).

    Args:
        lower: the sub-diagonal, shape (n-1,): `lower[i] = T[i+1, i]`.
        diag: the diagonal, shape (n,).
        upper: the super-diagonal, shape (n-1,): `upper[i] = T[i, i+1]`.
        x: shape (n,), or (n, k) for k right-hand sides. Operands of different dtypes are
            promoted to a common floating dtype.

    Returns:
        T x, with the shape of `x`.

    Raises:
        ValueError: if the band lengths do not match `x`.

    Examples:
        >>> import jax, jax.numpy as jnp, adkit
        >>> from adkit.ops import tridiagonal_matvec
        >>> lower, diag, upper = jnp.array([1.0, 2.0]), jnp.array([4.0, 5.0, 6.0]), jnp.zeros(2)
        >>> x = jnp.array([1.0, 1.0, 1.0])
        >>> tridiagonal_matvec(lower, diag, upper, x).tolist()  # [4, 1 + 5, 2 + 6]
        [4.0, 6.0, 8.0]
        >>> # the gradient of sum(T x) in x is Tᵀ 1 (column sums), by JAX and by adkit alike
        >>> f = lambda x: tridiagonal_matvec(lower, diag, upper, x).sum()
        >>> jax.grad(f)(x).tolist(), adkit.grad(f)(x).tolist()
        ([5.0, 7.0, 6.0], [5.0, 7.0, 6.0])
    """
    operands = [jnp.asarray(a) for a in (lower, diag, upper, x)]
    dtype = jnp.result_type(*operands)
    if not jnp.issubdtype(dtype, jnp.inexact):
        dtype = jnp.result_type(float)
    operands = [lax.convert_element_type(a, dtype) for a in operands]
    _abstract_eval(*(jax.typeof(a) for a in operands))  # the shapes, checked before any work
    return tridiagonal_matvec_p.bind(*operands)


def _impl(lower, diag, upper, x):
    # y[i] = diag[i] x[i] + lower[i-1] x[i-1] + upper[i] x[i+1]; the n axis is the bands' last
    axis = _n_axis(diag, x)
    if axis == x.ndim - 2:  # a block of right-hand sides: the bands act along axis -2
        lower, diag, upper = lower[..., None], diag[..., None], upper[..., None]
    n = x.shape[axis]
    head = lax.slice_in_dim(x, 0, n - 1, axis=axis)  # x[:-1]
    tail = lax.slice_in_dim(x, 1, n, axis=axis)  # x[1:]
    below = _pad(lower * head, axis, before=1)  # (lower ⊙ x[:-1]) placed at rows 1..n-1
    above = _pad(upper * tail, axis, before=0)  # (upper ⊙ x[1:]) placed at rows 0..n-2
    return diag * x + below + above


def _pad(v, axis, before):
    config = [(0, 0, 0)] * v.ndim
    config[axis] = (before, 1 - before, 0)
    return lax.pad(v, jnp.zeros((), v.dtype), config)


def _abstract_eval(lower, diag, upper, x):
    batch, n = diag.shape[:-1], diag.shape[-1] if diag.ndim else None
    ok = (
        diag.ndim >= 1
        and lower.shape == upper.shape == (*batch, n - 1)
        and x.ndim in (diag.ndim, diag.ndim + 1)
        and x.shape[: len(batch) + 1] == (*batch, n)
        and lower.dtype == diag.dtype == upper.dtype == x.dtype
    )
    if not ok:
        raise ValueError(
            "`tridiagonal_matvec` expects lower (n-1,), diag (n,), upper (n-1,) and x (n,) or "
            "(n, k) of one dtype (with the same leading batch dimensions if any), but received "
            f"lower {lower.str_short()}, diag {diag.str_short()}, upper {upper.str_short()} "
            f"and x {x.str_short()}. Check that the bands have length n-1, n, n-1 for x of "
            "length n."
        )
    return jc.ShapedArray(x.shape, x.dtype)


def _jvp(primals, tangents):
    # d(T x) = T(d lower, d diag, d upper) x + T dx   (bilinear: one term per factor)
    lower, diag, upper, x = primals
    d_lower, d_diag, d_upper, dx = tangents
    out = tridiagonal_matvec_p.bind(lower, diag, upper, x)
    t_out = None
    if any(t is not None for t in (d_lower, d_diag, d_upper)):
        bands = [
            jnp.zeros_like(p) if t is None else t
            for p, t in zip((lower, diag, upper), (d_lower, d_diag, d_upper), strict=True)
        ]
        t_out = tridiagonal_matvec_p.bind(*bands, x)
    if dx is not None:
        t_x = tridiagonal_matvec_p.bind(lower, diag, upper, dx)
        t_out = t_x if t_out is None else t_out + t_x
    return out, t_out


def _transpose(ct, lower, diag, upper, x):
    if is_undefined(x):
        # with the bands held, x -> T x transposes to c -> Tᵀ c: the same primitive with lower
        # and upper exchanged (Tᵀ[i+1, i] = T[i, i+1] = upper[i])
        if any(is_undefined(b) for b in (lower, diag, upper)):
            raise ValueError(
                "`tridiagonal_matvec` is bilinear in (bands, x), not linear in both at once; a "
                "transpose rule cannot take both as linear inputs. Differentiate with respect "
                "to the bands or to x through `jax.grad` / `adkit.grad`, which hold the other."
            )
        return [None, None, None, tridiagonal_matvec_p.bind(upper, diag, lower, ct)]
    # with x held, the bands -> T x transposes to c -> the products on each diagonal:
    #   lower̄[i] = c[i+1] x[i],   diaḡ[i] = c[i] x[i],   upper̄[i] = c[i] x[i+1]
    # (summed over the right-hand sides of a block x)
    axis = _n_axis(diag, x)
    n = x.shape[axis]
    block = axis == x.ndim - 2

    def over_rhs(v):
        return v.sum(axis=-1) if block else v

    def cut(v, start, stop):
        return lax.slice_in_dim(v, start, stop, axis=axis)

    return [
        over_rhs(cut(ct, 1, n) * cut(x, 0, n - 1)) if is_undefined(lower) else None,
        over_rhs(ct * x) if is_undefined(diag) else None,
        over_rhs(cut(ct, 0, n - 1) * cut(x, 1, n)) if is_undefined(upper) else None,
        None,
    ]


def _n_axis(diag, x):
    """The axis of x along which T acts: the last for a vector, -2 for a block (n, k)."""
    diag_ndim = (diag.aval if is_undefined(diag) else diag).ndim
    return x.ndim - 1 if x.ndim == diag_ndim else x.ndim - 2


def _batch(args, dims):
    # every operand gets the batch axis in front (unbatched ones broadcast), then one call:
    # the primitive already maps over shared leading dimensions
    size = next(a.shape[d] for a, d in zip(args, dims, strict=True) if d is not None)
    moved = [
        jnp.moveaxis(a, d, 0) if d is not None else jnp.broadcast_to(a, (size, *a.shape))
        for a, d in zip(args, dims, strict=True)
    ]
    return tridiagonal_matvec_p.bind(*moved), 0


tridiagonal_matvec_p = define_primitive(
    "tridiagonal_matvec",
    _impl,
    jvp=_jvp,
    transpose=_transpose,
    batch=_batch,
    abstract_eval=_abstract_eval,
)
