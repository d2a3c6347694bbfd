"""Program operations on whole arrays: indexing and scatters, sorting, contractions,
convolution, windows, linear algebra, complex numbers and the FFT (see `_program_ops.py`)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from ._program_ops import Operation, fit


# --- indexing: slices at data-dependent starts, gathers, scatters ---
def _window(draw, shape, _=None):
    if not shape:
        return None
    return {
        "sizes": tuple(draw.integer(1, d) for d in shape),
        "starts": tuple(draw.integer(0, d - 1) for d in shape[1:]),
    }


def _starts(x, starts):  # the first start depends on the data: where x's largest element is
    return (jnp.argmax(jnp.ravel(x)) % x.shape[0], *starts)


def _dynamic_slice(x, sizes, starts):
    return lax.dynamic_slice(x, _starts(x, starts), sizes)


def _dynamic_update_slice(x, b, sizes, starts):
    return lax.dynamic_update_slice(x, fit(b, sizes), _starts(x, starts))


def _indices(draw, shape, unique):
    """Indices into axis 0: with repeats (their cotangents must add up) or without."""
    if not shape:
        return None
    if not unique:
        return {"indices": tuple(draw.integer(0, shape[0] - 1) for _ in range(draw.integer(1, 4)))}
    pool, chosen = list(range(shape[0])), []
    for _ in range(draw.integer(1, shape[0])):
        chosen.append(pool.pop(draw.integer(0, len(pool) - 1)))
    return {"indices": tuple(chosen)}


def _repeated(draw, shape, _=None):
    return _indices(draw, shape, unique=False)


def _unique(draw, shape, _=None):
    return _indices(draw, shape, unique=True)


def _one_axis(draw, shape, _=None):
    return {"axis": draw.integer(0, len(shape) - 1)} if shape else None


def _at_largest(x, axis):  # x at its largest along axis: an argmax, then a gather
    return jnp.take_along_axis(x, jnp.argmax(x, axis, keepdims=True), axis)


def _scatter(method):
    def apply(x, b, indices):
        values = fit(b, (len(indices), *x.shape[1:]))
        at = x.at[np.array(indices)]
        if method == "add":
            return at.add(values)
        return getattr(at, method)(values, unique_indices=True)

    return apply


INDEXING = {
    "dynamic_slice": Operation("dynamic_slice", 1, _dynamic_slice, _window),
    "dynamic_update_slice": Operation("dynamic_update_slice", 2, _dynamic_update_slice, _window),
    "gather": Operation(
        "gather", 1, lambda x, indices: jnp.take(x, np.array(indices), axis=0), _repeated
    ),
    "argmax": Operation("argmax", 1, _at_largest, _one_axis),
    "scatter-add": Operation("scatter-add", 2, _scatter("add"), _repeated),
    "scatter": Operation("scatter", 2, _scatter("set"), _unique),
    "scatter-mul": Operation("scatter-mul", 2, _scatter("multiply"), _unique),
    "scatter-max": Operation("scatter-max", 2, _scatter("max"), _unique),
    "scatter-min": Operation("scatter-min", 2, _scatter("min"), _unique),
}


# --- sorting ---
def _sort_by(a, b, axis):  # b's elements in the order that sorts a
    return lax.sort((a, fit(b, a.shape)), dimension=axis, num_keys=1)[1]


def _top(draw, shape, _=None):
    return {"k": draw.integer(1, shape[-1])} if shape else None


SORTING = {
    "sort": Operation("sort", 1, lambda x, axis: jnp.sort(x, axis=axis), _one_axis),
    "sort_by": Operation("sort", 2, _sort_by, _one_axis),
    "top_k": Operation("top_k", 1, lambda x, k: lax.top_k(x, k)[0], _top),
}


# --- contractions, convolution, windows ---
def _contract(draw, shape, _=None):
    if not shape:
        return None
    return {"axis": draw.integer(0, len(shape) - 1), "k": draw.integer(1, 3)}


def _tensordot(a, b, axis, k):
    return jnp.tensordot(a, fit(b, (a.shape[axis], k)), axes=([axis], [0]))


def _batched(draw, shape, _=None):
    return {"k": draw.integer(1, 3)} if len(shape) >= 2 else None


def _batched_matmul(a, b, k):  # batch axis 0, contract the last axis
    rhs = fit(b, (a.shape[0], a.shape[-1], k))
    return lax.dot_general(a, rhs, (((a.ndim - 1,), (1,)), ((0,), (0,))))


def _kernel(draw, shape, _=None):
    size = int(np.prod(shape))
    width = draw.integer(1, 3)
    padding = "SAME" if width > size else draw.choice(("SAME", "VALID"))
    return {"width": width, "padding": padding, "stride": draw.integer(1, 2)}


def _conv(x, b, width, padding, stride):  # x as one channel of one signal, b as the kernel
    lhs, rhs = jnp.ravel(x)[None, None, :], fit(b, (1, 1, width))
    return lax.conv_general_dilated(lhs, rhs, (stride,), padding)


def _pool(draw, shape, _=None):
    if not shape:
        return None
    return {
        "window": tuple(draw.integer(1, min(2, d)) for d in shape),
        "strides": tuple(draw.integer(1, 2) for _ in shape),
    }


def _reduce_window(monoid, identity):
    def apply(x, window, strides):
        return lax.reduce_window(x, np.array(identity, x.dtype), monoid, window, strides, "VALID")

    return apply


CONTRACTIONS = {
    "dot_general": Operation("dot_general", 2, _tensordot, _contract),
    "batched_dot_general": Operation("dot_general", 2, _batched_matmul, _batched),
    "conv_general_dilated": Operation("conv_general_dilated", 2, _conv, _kernel),
    "reduce_window_sum": Operation("reduce_window_sum", 1, _reduce_window(lax.add, 0.0), _pool),
    "reduce_window_max": Operation("reduce_window_max", 1, _reduce_window(lax.max, -np.inf), _pool),
    "reduce_window_min": Operation("reduce_window_min", 1, _reduce_window(lax.min, np.inf), _pool),
}


# --- linear algebra on a well-conditioned matrix built from the operand ---
def _order(draw, shape, _=None):
    return {"n": draw.integer(2, 3)}


def _spd(x, n):  # M Mᵀ + diag(n, n + 1, ...): positive definite, eigenvalues apart even for
    m = fit(x, (n, n))  # a constant M (a tiled scalar)
    return m @ m.T + jnp.diag(jnp.arange(n, 2 * n, dtype=m.dtype))


def _triangular_solve(a, b, n):
    lower = jnp.tril(fit(a, (n, n))) + n * jnp.eye(n, dtype=a.dtype)
    return lax.linalg.triangular_solve(lower, fit(b, (n, 2)), left_side=True, lower=True)


LINALG = {
    "cholesky": Operation("cholesky", 1, lambda x, n: jnp.linalg.cholesky(_spd(x, n)), _order),
    "eigh": Operation("eigh", 1, lambda x, n: jnp.linalg.eigvalsh(_spd(x, n)), _order),
    "solve": Operation(
        "custom_linear_solve",
        2,
        lambda a, b, n: jnp.linalg.solve(_spd(a, n), fit(b, (n, 2))),
        _order,
    ),
    "triangular_solve": Operation("triangular_solve", 2, _triangular_solve, _order),
}


# --- complex numbers ---
def _complex(a, b):  # z = a + i tanh(b): |z| + Re z² + Im z Re z
    z = lax.complex(a, jnp.tanh(fit(b, a.shape)))
    return jnp.abs(z) + jnp.real(z * z) + jnp.imag(z) * jnp.real(z)


def _size_one_axes(draw, shape, _=None):  # for lax's implicit broadcasting of size-1 axes
    if not shape:
        return None
    return {"ones": tuple(a for a in range(len(shape)) if draw.integer(0, 1))}


def _complex_broadcast(a, b, ones):  # z = a + i tanh(b), b of a's rank with size-1 axes
    shape = tuple(1 if k in ones else n for k, n in enumerate(a.shape))
    z = lax.complex(a, jnp.tanh(fit(b, shape)))  # lax broadcasts b's size-1 axes itself
    return jnp.abs(z) + jnp.real(z * z) + jnp.imag(z) * jnp.real(z)


def _fft(x):  # Re + Im of the FFT of x's elements
    # On one axis: XLA's CPU FFT refuses an operand of rank ≥ 2 laid out other than row-major,
    # which the reverse pass of JAX's own `jax.vjp` produces (RET_CHECK in fft_thunk.cc).
    y = jnp.fft.fft(jnp.ravel(x))
    return jnp.reshape(jnp.real(y) + jnp.imag(y), x.shape)


COMPLEX = {
    "complex": Operation("complex", 2, _complex),
    "complex-broadcast": Operation("complex", 2, _complex_broadcast, _size_one_axes),
    "fft": Operation("fft", 1, _fft),
}
