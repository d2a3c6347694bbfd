"""A catalogue of ordinary JAX programs covering the primitive families of jax 0.10.2.

Every :class:`Program` bundles a pure function with a deterministic argument factory.
The interpreter tests run each program through ``jax.make_jaxpr`` and check that
interpreting the jaxpr reproduces the function's output; the census test uses
:func:`census` to see which primitives the corpus exercises.

Conventions
-----------
* ``make_args(dtype)`` returns numpy arrays (or a JAX key array) whose float dtype
  is exactly ``dtype``; integer/bool inputs are explicitly ``int32``/``bool``.
  Nothing depends on the global ``jax_enable_x64`` flag.
* Since arguments may be plain numpy arrays, program bodies use ``jnp`` functions
  (or call ``jnp.asarray`` first) so that they always execute through JAX.
* ``differentiable=False`` marks programs whose outputs are not smooth functions of
  the float inputs (integer/bool outputs, random bits) *and* programs built on
  ``lax.while_loop`` (JAX cannot reverse-differentiate those).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.scipy as jsp
import numpy as np
from jax import lax

from adkit._jax_compat import primitives_in

FAMILIES = (
    "elementwise",
    "structural",
    "indexing",
    "reductions",
    "linalg",
    "control_flow",
    "custom_rules",
    "random",
    "int_bool",
    "conv_pool",
    "sort",
    "cumulative",
    "complex_fft",
    "effects",
    "models",
)


@dataclasses.dataclass(frozen=True)
class Program:
    name: str
    family: str
    fn: Callable
    make_args: Callable[[np.dtype], tuple]
    differentiable: bool = True


_PROGRAMS: list[Program] = []


def _program(
    family: str, make_args: Callable, differentiable: bool = True, name: str | None = None
):
    """Decorator registering ``fn`` as a corpus program (named after the function)."""
    assert family in FAMILIES, family

    def register(fn):
        _PROGRAMS.append(Program(name or fn.__name__, family, fn, make_args, differentiable))
        return fn

    return register


# ---------------------------------------------------------------------------
# Argument helpers (all seeded numpy; dtype always explicit)
# ---------------------------------------------------------------------------


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _normal(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def _uniform(rng, shape, dtype, low, high):
    return rng.uniform(low, high, size=shape).astype(dtype)


def _ints(rng, shape, low, high):
    return rng.integers(low, high, size=shape).astype(np.int32)


def _spd(rng, n, dtype):
    a = rng.standard_normal((n, n))
    return (a @ a.T + n * np.eye(n)).astype(dtype)


def _well_conditioned(rng, n, dtype):
    return (rng.standard_normal((n, n)) + n * np.eye(n)).astype(dtype)


def _normals(*shapes, seed=0):
    """make_args producing one standard-normal array per shape."""

    def make_args(dtype):
        rng = _rng(seed)
        return tuple(_normal(rng, s, dtype) for s in shapes)

    return make_args


def _uniforms(*shapes, low, high, seed=0):
    """make_args producing one uniform(low, high) array per shape."""

    def make_args(dtype):
        rng = _rng(seed)
        return tuple(_uniform(rng, s, dtype, low, high) for s in shapes)

    return make_args


# Constant arrays closed over by some programs (they become jaxpr consts).
_CONST_VEC = np.linspace(-1.0, 1.0, 4).astype(np.float32)
_CONST_MAT = np.arange(12, dtype=np.float32).reshape(3, 4) / 10.0


# ---------------------------------------------------------------------------
# elementwise: unary/binary math, select/clamp, broadcasting, dtype plumbing, jax.nn
# ---------------------------------------------------------------------------


@_program("elementwise", _uniforms((6,), low=-0.9, high=0.9, seed=1))
def unary_trig(x):
    # |x| < 1 keeps arcsin/arccos/atanh in-domain; acosh gets 1 + x**2 + 0.5 > 1.
    return (
        jnp.sin(x),
        jnp.cos(x),
        jnp.tan(x),
        jnp.tanh(x),
        jnp.arcsin(x),
        jnp.arccos(x),
        jnp.arctan(x),
        jnp.sinh(x),
        jnp.cosh(x),
        jnp.arcsinh(x),
        jnp.arccosh(1.5 + x * x),
        jnp.arctanh(x),
    )


@_program("elementwise", _uniforms((6,), low=0.2, high=3.0, seed=2))
def unary_exp_log(x):
    # x > 0 for log/sqrt/rsqrt.
    return (
        jnp.exp(x),
        jnp.expm1(x),
        jnp.exp2(x),
        jnp.log(x),
        jnp.log1p(x),
        jnp.sqrt(x),
        lax.rsqrt(x),
        jnp.cbrt(x - 1.5),
        jnp.square(x),
    )


@_program("elementwise", _normals((8,), seed=3))
def unary_piecewise(x):
    y = 3.0 * x
    return jnp.abs(y), jnp.sign(y), jnp.floor(y), jnp.ceil(y), jnp.round(y), lax.round(y)


@_program("elementwise", _uniforms((6,), low=-0.8, high=0.8, seed=4))
def special_functions(x):
    pos = x + 1.5  # lgamma/digamma on positive reals
    return (
        jax.nn.sigmoid(x),  # logistic
        lax.erf(x),
        lax.erfc(x),
        lax.erf_inv(x),
        jsp.special.gammaln(pos),  # lgamma
        jsp.special.digamma(pos),
        jsp.special.i0e(x),
        jsp.special.i1e(x),
    )


def _binary_args(dtype):
    rng = _rng(5)
    x = _uniform(rng, (3, 4), dtype, 0.5, 2.0)
    y = _uniform(rng, (3, 4), dtype, -2.0, 2.0)
    return x, y


@_program("elementwise", _binary_args)
def binary_arith(x, y):
    return (
        x + y,
        x - y,
        x * y,
        x / (y + 3.0),
        jnp.power(x, y),  # pow, base positive
        jnp.arctan2(y, x),
        jnp.maximum(x, y),
        jnp.minimum(x, y),
        jnp.fmod(y, x),  # rem
        lax.rem(x * 3.0, y + 3.0),
        jnp.nextafter(x, y),
        y**3,  # integer_pow
        x**-2,
        lax.square(y),
        jnp.hypot(x, y),
        jnp.logaddexp(x, y),
    )


def _select_args(dtype):
    rng = _rng(6)
    return _normal(rng, (5,), dtype), _normal(rng, (5,), dtype), np.array([2, 0, 1, 1, 2], np.int32)


@_program("elementwise", _select_args)
def select_and_clamp(x, y, which):
    picked = lax.select_n(which, x, y, x * y)
    return (
        jnp.where(x > y, x, y * 2.0),
        lax.clamp(np.asarray(-0.5, x.dtype), jnp.asarray(x), np.asarray(0.5, x.dtype)),
        jnp.clip(y, -1.0, 1.0),
        picked,
    )


@_program("elementwise", _normals((3, 1), (4,), seed=7))
def broadcasting_and_weak_scalars(col, row):
    outer = col * row + col - row  # (3, 1) with (4,) -> (3, 4)
    weak = 2.0 * outer + 1 - 0.5 / (1.0 + outer**2)  # weak-typed Python literals
    return weak * _CONST_VEC.astype(jnp.asarray(col).dtype)


@_program("elementwise", _normals((6,), seed=8))
def precision_and_casts(x):
    half = lax.reduce_precision(x, exponent_bits=5, mantissa_bits=10)
    bf = jnp.asarray(x).astype(jnp.bfloat16).astype(jnp.asarray(x).dtype)
    as_int = lax.convert_element_type(jnp.asarray(x) * 4.0, np.int32)
    back = lax.convert_element_type(as_int, jnp.asarray(x).dtype)
    return half + bf + back * 0.0 + x


@_program("elementwise", _normals((2, 5), seed=9))
def nn_activations(x):
    return (
        jax.nn.relu(x),
        jax.nn.gelu(x),
        jax.nn.gelu(x, approximate=False),
        jax.nn.softplus(x),
        jax.nn.sigmoid(x),
        jax.nn.silu(x),
        jax.nn.log_sigmoid(x),
        jax.nn.elu(x),
        jax.nn.leaky_relu(x),
    )


@_program("elementwise", _normals((3, 5), seed=10))
def nn_normalizers(x):
    return (
        jax.nn.softmax(x, axis=-1),
        jax.nn.log_softmax(x, axis=0),
        jsp.special.logsumexp(x, axis=1),
        jax.nn.standardize(x, axis=-1),
    )


@_program("elementwise", _uniforms((5,), low=0.1, high=0.9, seed=11))
def misc_elementwise(x):
    return (
        jnp.where(jnp.isfinite(jnp.log(x)), x, 0.0),
        jnp.copysign(x, x - 0.5),
        jsp.special.xlogy(x, x + 1.0),
        jsp.special.logit(x),
        jnp.sinc(x),
        jnp.deg2rad(x) + jnp.rad2deg(x),
    )


# ---------------------------------------------------------------------------
# structural: shape manipulation, concatenation/splitting, pad, rev, copy, iota
# ---------------------------------------------------------------------------


@_program("structural", _normals((2, 3, 4), seed=20))
def reshape_transpose(x):
    a = jnp.reshape(x, (6, 4))
    b = jnp.transpose(x, (2, 0, 1))
    c = jnp.broadcast_to(x[:, :1, :], (2, 5, 4))
    d = jnp.expand_dims(jnp.squeeze(x[:, 1:2, :], axis=1), axis=0)
    e = jnp.ravel(x).reshape(4, 6).T
    f = jnp.moveaxis(x, 0, -1)
    return a, b, c, d, e, f


@_program("structural", _normals((2, 3), (4, 3), seed=21))
def concat_stack_split(x, y):
    cat = jnp.concatenate([x, y, x], axis=0)
    stacked = jnp.stack([x, x * 2.0], axis=1)
    p, q, r = jnp.split(cat, [2, 5], axis=0)
    halves = jnp.array_split(y, 2, axis=0)
    return cat, stacked, p, q, r, halves[0] - halves[1], jnp.hstack([x, x]), jnp.vstack([x, y])


@_program("structural", _normals((3, 4), seed=22))
def tile_roll_flip(x):
    return (
        jnp.tile(x, (2, 1)),
        jnp.roll(x, 1, axis=1),
        jnp.roll(x, -2),
        jnp.flip(x, axis=0),
        jnp.flip(x),
        x[::-1, ::-2],
    )


@_program("structural", _normals((4, 5), seed=23))
def pad_variants(x):
    zero = np.asarray(0.0, x.dtype)
    interior = lax.pad(x, zero, [(1, 2, 1), (0, 0, 2)])
    negative = lax.pad(x, np.asarray(-1.0, x.dtype), [(-1, 1, 0), (2, -2, 1)])
    return (
        interior,
        negative,
        jnp.pad(x, ((1, 0), (2, 1))),
        jnp.pad(x, 1, mode="edge"),
        jnp.pad(x, 2, mode="reflect"),
    )


@_program("structural", _normals((2, 4), seed=24))
def copy_and_iota(x):
    y = jnp.array(x, copy=True)
    z = lax.copy_p.bind(jnp.asarray(x) * 2.0)
    ramp = jnp.arange(4, dtype=jnp.asarray(x).dtype)
    grid = lax.broadcasted_iota(np.int32, (2, 4), 0)
    eye = jnp.eye(4, dtype=jnp.asarray(x).dtype)
    return y + z * ramp + grid, x @ eye, jnp.linspace(0.0, 1.0, 4, dtype=jnp.asarray(x).dtype) * x


def _pytree_args(dtype):
    rng = _rng(25)
    params = {"w": _normal(rng, (3, 2), dtype), "b": _normal(rng, (2,), dtype)}
    batch = (_normal(rng, (4, 3), dtype), _normal(rng, (4, 2), dtype))
    return params, batch


@_program("structural", _pytree_args)
def pytree_in_out(params, batch):
    inputs, targets = batch
    preds = jnp.dot(inputs, params["w"]) + params["b"]
    err = preds - targets
    return {"preds": preds, "loss": jnp.mean(err**2), "stats": (jnp.max(err), jnp.min(err))}


# ---------------------------------------------------------------------------
# indexing: static slices, gather, scatter family, dynamic slices, take_along_axis
# ---------------------------------------------------------------------------


@_program("indexing", _normals((4, 6), seed=30))
def static_slicing(x):
    x = jnp.asarray(x)
    return (
        x[1:3, ::2],
        x[..., -1],
        x[2],
        x[None, :, 1],
        x[-2:, 1:5:3],
        lax.slice(x, (0, 1), (3, 6), (2, 2)),
    )


def _gather_args(dtype):
    rng = _rng(31)
    return _normal(rng, (5, 3), dtype), np.array([4, 0, 2, 2], np.int32)


@_program("indexing", _gather_args)
def integer_gather(x, idx):
    x = jnp.asarray(x)
    return (
        x[idx],
        x[idx, 1],
        x[:, jnp.array([2, 0])],
        jnp.take(x, idx, axis=0),
        x[idx[::-1], idx[:2, None] % 3],
    )


def _scatter_args(dtype):
    rng = _rng(32)
    return _normal(rng, (6,), dtype), _normal(rng, (3,), dtype), np.array([1, 4, 1], np.int32)


@_program("indexing", _scatter_args)
def scatter_family(x, upd, idx):
    x = jnp.asarray(x)
    return (
        x.at[idx[:2]].set(upd[:2]),  # distinct indices only: duplicated 'set' is unordered
        x.at[idx].add(upd),
        x.at[idx].multiply(upd),
        x.at[idx].min(upd),
        x.at[idx].max(upd),
        x.at[2:4].set(0.0),
        x.at[idx].get(mode="clip"),
    )


def _dynamic_slice_args(dtype):
    rng = _rng(33)
    return _normal(rng, (5, 6), dtype), _normal(rng, (2, 3), dtype), np.int32(2), np.int32(1)


@_program("indexing", _dynamic_slice_args)
def dynamic_slicing(x, patch, i, j):
    window = lax.dynamic_slice(x, (i, j), (3, 4))
    updated = lax.dynamic_update_slice(x, patch, (j, i))
    row = lax.dynamic_index_in_dim(x, i, axis=0, keepdims=False)
    return window, updated, row, lax.dynamic_slice_in_dim(x, j, 2, axis=1)


def _take_along_args(dtype):
    rng = _rng(34)
    return _normal(rng, (3, 5), dtype), _ints(rng, (3, 2), 0, 5)


@_program("indexing", _take_along_args)
def take_along_axis(x, idx):
    order = jnp.argsort(x, axis=1)
    return jnp.take_along_axis(x, idx, axis=1), jnp.take_along_axis(x, order, axis=1)


@_program("indexing", _normals((4, 5), seed=35))
def masked_where(x):
    # Boolean-mask-free alternative to x[x > 0]: keep shapes static with where.
    mask = x > 0.2
    kept = jnp.where(mask, x, 0.0)
    count = jnp.sum(mask, axis=1, dtype=jnp.asarray(x).dtype)
    return kept, jnp.sum(kept, axis=1) / (count + 1.0), jnp.where(mask, x * x, -x)


# ---------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------


@_program("reductions", _normals((3, 4, 2), seed=40))
def basic_reductions(x):
    return (
        jnp.sum(x),
        jnp.sum(x, axis=(0, 2)),
        jnp.prod(x, axis=1),
        jnp.max(x, axis=0),
        jnp.min(x, axis=-1, keepdims=True),
        jnp.mean(x, axis=1),
        jnp.amax(x, axis=(1, 2)),
    )


@_program("reductions", _normals((4, 5), seed=41))
def spread_and_norms(x):
    return (
        jnp.var(x, axis=0),
        jnp.std(x, axis=1, ddof=1),
        jnp.linalg.norm(x),
        jnp.linalg.norm(x, axis=1),
        jnp.linalg.norm(x, ord=1, axis=0),
        jnp.linalg.norm(x, ord=jnp.inf, axis=1),
        jsp.special.logsumexp(x, axis=0, keepdims=True),
    )


@_program("reductions", _normals((4, 5), seed=42), differentiable=False)
def arg_reductions(x):
    return jnp.argmax(x, axis=1), jnp.argmin(x, axis=0), jnp.argmax(x), jnp.nanargmax(x, axis=0)


@_program("reductions", _normals((3, 4), seed=43), differentiable=False)
def boolean_reductions(x):
    pos = x > 0
    return (
        jnp.any(pos, axis=1),
        jnp.all(pos, axis=0),
        jnp.any(pos),
        jnp.all(x > -10.0),
        lax.reduce_and(pos, axes=(1,)),
        lax.reduce_or(pos, axes=(0,)),
        jnp.count_nonzero(pos, axis=1),
    )


@_program("reductions", _normals((4, 3), seed=44))
def custom_reduce(x):
    # lax.reduce with a lambda (not a recognised monoid) stays a generic `reduce`.
    sq = jnp.asarray(x) ** 2
    total = lax.reduce(sq, np.asarray(0.0, sq.dtype), lambda a, b: a + b, (0,))
    biggest = lax.reduce(x, np.asarray(-np.inf, sq.dtype), lax.max, (1,))
    return total, biggest


# ---------------------------------------------------------------------------
# linalg
# ---------------------------------------------------------------------------


@_program("linalg", _normals((3, 4), (4, 5), (2, 3, 4), (2, 4, 3), seed=50))
def products(a, b, p, q):
    return (
        jnp.matmul(a, b),
        jnp.asarray(a) @ b,
        jnp.dot(a[0], b[:, 0]),
        jnp.einsum("ij,jk->ik", a, b),
        jnp.einsum("bij,bjk->bik", p, q),
        jnp.einsum("bij,bij->b", p, jnp.swapaxes(q, 1, 2)),
        lax.dot_general(p, q, (((2,), (1,)), ((0,), (0,)))),
        jnp.outer(a[:, 0], b[0]),
        jnp.inner(a, a),
        jnp.tensordot(p, q, axes=([1, 2], [2, 1])),
        a @ _CONST_MAT.T.astype(jnp.asarray(a).dtype),
    )


def _chol_args(dtype):
    rng = _rng(51)
    return _spd(rng, 4, dtype), _normal(rng, (4, 2), dtype)


@_program("linalg", _chol_args)
def cholesky_solves(a, b):
    chol = jnp.linalg.cholesky(a)
    y = jsp.linalg.solve_triangular(chol, b, lower=True)
    z = jsp.linalg.solve_triangular(chol, y, lower=True, trans="T")
    w = jsp.linalg.cho_solve(jsp.linalg.cho_factor(a), b)
    return chol, y, z, w


def _square_args(dtype):
    rng = _rng(52)
    return (_well_conditioned(rng, 4, dtype),)


@_program("linalg", _square_args)
def lu_and_determinants(a):
    p, lower, upper = jsp.linalg.lu(a)
    sign, logdet = jnp.linalg.slogdet(a)
    return p, lower, upper, jnp.linalg.det(a), sign * logdet


@_program("linalg", _normals((5, 3), seed=53))
def qr_decomposition(a):
    q, r = jnp.linalg.qr(a)
    q_full, _ = jnp.linalg.qr(a, mode="complete")
    return q, r, q_full[:, :3]


def _eigh_args(dtype):
    rng = _rng(54)
    m = rng.standard_normal((4, 4))
    # Symmetric with well-separated eigenvalues (smooth eigenvectors).
    return (((m + m.T) / 4.0 + np.diag([0.0, 2.0, 4.0, 6.0])).astype(dtype),)


@_program("linalg", _eigh_args)
def symmetric_eigh(a):
    w, v = jnp.linalg.eigh(a)
    # v * v is invariant to the sign ambiguity of each eigenvector.
    return w, v * v, jnp.linalg.eigvalsh(a)


@_program("linalg", _normals((5, 3), seed=55))
def singular_values(a):
    u, s, vt = jnp.linalg.svd(a, full_matrices=False)
    rank_one = jnp.outer(u[:, 0], vt[0])  # sign-invariant
    return s, rank_one, jnp.linalg.svd(a, compute_uv=False)


def _solve_args(dtype):
    rng = _rng(56)
    return _well_conditioned(rng, 4, dtype), _normal(rng, (4,), dtype), _normal(rng, (4, 2), dtype)


@_program("linalg", _solve_args)
def solve_and_inverse(a, b, c):
    return (
        jnp.linalg.solve(a, b),
        jnp.linalg.solve(a, c),
        jnp.linalg.inv(a),
        jnp.linalg.pinv(a[:, :3]),
    )


def _linear_solve_args(dtype):
    rng = _rng(57)
    return _spd(rng, 3, dtype), _normal(rng, (3,), dtype)


@_program("linalg", _linear_solve_args)
def explicit_custom_linear_solve(a, b):
    # lax.custom_linear_solve with a user-provided solver and symmetric transpose.
    def matvec(v):
        return jnp.dot(a, v)

    def solve(mv, rhs):
        del mv
        return jnp.linalg.solve(a, rhs)

    return lax.custom_linear_solve(matvec, b, solve, symmetric=True)


# ---------------------------------------------------------------------------
# control_flow: cond/switch, scan (fwd/rev), fori (static/dynamic), while, jit, remat, map
# ---------------------------------------------------------------------------


@_program("control_flow", _normals((4,), seed=60))
def cond_on_data(x):
    def positive(v):
        return jnp.sin(v) * 2.0

    def negative(v):
        return jnp.cos(v) - v

    return lax.cond(jnp.sum(x) > 0, positive, negative, x), lax.cond(
        jnp.sum(x) <= 0, positive, negative, x
    )


def _switch_args(dtype):
    rng = _rng(61)
    return _normal(rng, (3,), dtype), np.int32(1), np.int32(5)


@_program("control_flow", _switch_args)
def switch_on_index(x, i, j):
    branches = (lambda v: v * 2.0, lambda v: jnp.exp(v), lambda v: v - jnp.sum(v))
    # Out-of-range indices are clamped by lax.switch.
    return lax.switch(i, branches, x), lax.switch(j, branches, x)


def _scan_args(dtype):
    rng = _rng(62)
    return _normal(rng, (3,), dtype), _normal(rng, (5, 3), dtype, scale=0.5)


def _rnn_step(carry, x_t):
    new = jnp.tanh(carry * 0.9 + x_t)
    return new, (new * 2.0, jnp.sum(new))


@_program("control_flow", _scan_args)
def scan_forward(h0, xs):
    final, (states, sums) = lax.scan(_rnn_step, h0, xs)
    return final, states, sums


@_program("control_flow", _scan_args)
def scan_reverse(h0, xs):
    final, (states, sums) = lax.scan(_rnn_step, h0, xs, reverse=True)
    _, cum = lax.scan(lambda c, x: (c + x, c * x), jnp.zeros_like(h0), xs, reverse=True, unroll=2)
    return final, states, sums, cum


@_program("control_flow", _normals((3,), seed=63))
def fori_static(x):
    def body(i, v):
        return v * 0.5 + jnp.sin(v) + i

    return lax.fori_loop(0, 4, body, x)


def _fori_dynamic_args(dtype):
    rng = _rng(64)
    return _normal(rng, (3,), dtype), np.int32(3)


@_program("control_flow", _fori_dynamic_args, differentiable=False)
def fori_dynamic(x, n):
    def body(i, v):
        return v * 0.5 + jnp.cos(v) * i

    return lax.fori_loop(0, n, body, x)


@_program("control_flow", _uniforms((4,), low=0.5, high=4.0, seed=65), differentiable=False)
def while_newton_sqrt(a):
    # Newton iterations for sqrt(a) with a data-dependent stopping rule.
    def cond(state):
        i, y = state
        return jnp.logical_and(i < 20, jnp.max(jnp.abs(y * y - a)) > 1e-3)

    def body(state):
        i, y = state
        return i + 1, 0.5 * (y + a / y)

    iters, root = lax.while_loop(cond, body, (np.int32(0), jnp.ones_like(a)))
    return root, iters


@jax.jit
def _inner_jitted(x, y):
    return jnp.tanh(x) * y + jax.jit(jnp.sin)(y)


@_program("control_flow", _normals((3,), (3,), seed=66))
def nested_jit(x, y):
    inner = _inner_jitted(x, y)
    return jax.jit(lambda a: a * 3.0)(inner), _inner_jitted(y, x)


def _remat_body(w, x):
    return jnp.sin(jnp.dot(x, w)) + x @ w


@_program("control_flow", _normals((3, 3), (2, 3), seed=67))
def checkpointed(w, x):
    plain = jax.checkpoint(_remat_body)(w, x)
    saved = jax.checkpoint(
        _remat_body, policy=jax.checkpoint_policies.dots_with_no_batch_dims_saveable
    )(w, plain)
    static_arg = jax.checkpoint(lambda v, k: v * k, static_argnums=(1,))(saved, 2.0)
    return static_arg


@_program("control_flow", _normals((4, 3), seed=68))
def lax_map_rows(xs):
    def per_row(row):
        return jnp.sum(row**2) + jnp.max(row)

    return lax.map(per_row, xs), jax.vmap(per_row)(xs), lax.map(per_row, xs, batch_size=2)


@_program("control_flow", _scan_args)
def scan_with_cond_inside(h0, xs):
    def step(c, x):
        nxt = lax.cond(jnp.sum(x) > 0, lambda a: a + x, lambda a: a * 0.5 - x, c)
        return nxt, jnp.sum(nxt)

    return lax.scan(step, h0, xs)


# ---------------------------------------------------------------------------
# custom_rules: custom_jvp, custom_vjp, nondiff_argnums, custom_gradient
# ---------------------------------------------------------------------------


@jax.custom_jvp
def _softplus_cj(x):
    return jnp.logaddexp(x, 0.0)


@_softplus_cj.defjvp
def _softplus_cj_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus_cj(x), jax.nn.sigmoid(x) * t


@_program("custom_rules", _normals((5,), seed=70))
def custom_jvp_functions(x):
    return _softplus_cj(x), jax.nn.relu(x) + _softplus_cj(x * 2.0), jax.nn.silu(x)


@jax.custom_vjp
def _clip_grad_identity(x):
    return x * 1.0


def _clip_grad_fwd(x):
    return x * 1.0, None


def _clip_grad_bwd(_, g):
    return (jnp.clip(g, -1.0, 1.0),)


_clip_grad_identity.defvjp(_clip_grad_fwd, _clip_grad_bwd)


@jax.custom_vjp
def _scaled_square(x, y):
    return x * x * y


def _scaled_square_fwd(x, y):
    return x * x * y, (x, y)


def _scaled_square_bwd(res, g):
    x, y = res
    return 2.0 * x * y * g, x * x * g


_scaled_square.defvjp(_scaled_square_fwd, _scaled_square_bwd)


@_program("custom_rules", _normals((4,), (4,), seed=71))
def custom_vjp_functions(x, y):
    return _clip_grad_identity(jnp.sin(x)) * 3.0, _scaled_square(x, y)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _power_cj(x, k):
    return x**k


@_power_cj.defjvp
def _power_cj_jvp(k, primals, tangents):
    (x,), (t,) = primals, tangents
    return _power_cj(x, k), k * x ** (k - 1) * t


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _apply_scaled(scale, x):
    return jnp.tanh(x) * scale


def _apply_scaled_fwd(scale, x):
    y = jnp.tanh(x)
    return y * scale, y


def _apply_scaled_bwd(scale, y, g):
    return ((1.0 - y * y) * scale * g,)


_apply_scaled.defvjp(_apply_scaled_fwd, _apply_scaled_bwd)


@_program("custom_rules", _normals((4,), seed=72))
def custom_rules_nondiff_argnums(x):
    return _power_cj(x, 3), _apply_scaled(2.5, x)


@jax.custom_gradient
def _log1pexp_cg(x):
    y = jnp.log1p(jnp.exp(x))

    def grad(g):
        return g * jax.nn.sigmoid(x)

    return y, grad


@_program("custom_rules", _normals((5,), seed=73))
def custom_gradient_function(x):
    return _log1pexp_cg(x) * 2.0 + x


# ---------------------------------------------------------------------------
# random: keys passed as arguments (typed and raw uint32 keys)
# ---------------------------------------------------------------------------


def _typed_key_args(dtype):
    return jax.random.key(42), _normal(_rng(80), (3,), dtype)


def _raw_key_args(dtype):
    return np.asarray(jax.random.PRNGKey(7)), _normal(_rng(81), (4,), dtype)


@_program("random", _typed_key_args)
def random_typed_key(key, x):
    k1, k2, k3 = jax.random.split(key, 3)
    dt = jnp.asarray(x).dtype
    noise = jax.random.normal(k1, (3,), dtype=dt)
    u = jax.random.uniform(jax.random.fold_in(k2, 5), (3,), dtype=dt, minval=-1.0, maxval=1.0)
    gate = jax.random.bernoulli(k3, 0.5, (3,)).astype(dt)
    return x * noise + u, x * gate


@_program("random", _raw_key_args)
def random_raw_key(key, x):
    dt = jnp.asarray(x).dtype
    k1, k2 = jax.random.split(key)
    perm_noise = jax.random.permutation(k1, x)
    trunc = jax.random.truncated_normal(k2, -1.0, 1.0, (4,), dtype=dt)
    return perm_noise + trunc * x


@_program("random", _typed_key_args, differentiable=False)
def random_bits_and_ints(key, x):
    k1, k2 = jax.random.split(key)
    bits = jax.random.bits(k1, (4,), dtype=np.uint32)
    ints = jax.random.randint(k2, (5,), 0, 10, dtype=np.int32)
    choice = jax.random.choice(k2, 5, (3,), replace=False)
    return bits, ints, choice, jax.random.key_data(key)


# ---------------------------------------------------------------------------
# int_bool: integer arguments, comparisons, logic, shifts, integer arithmetic
# ---------------------------------------------------------------------------


def _int_mix_args(dtype):
    rng = _rng(90)
    return _ints(rng, (6,), -20, 20), _ints(rng, (6,), 1, 5), _normal(rng, (6,), dtype)


@_program("int_bool", _int_mix_args, differentiable=False)
def int_float_mix(a, b, x):
    a = jnp.asarray(a)
    ge = a >= b
    both = jnp.logical_and(ge, x > 0)
    either = jnp.logical_or(a == 0, jnp.logical_not(x < 0.5))
    shifted = (a << 2) + (a >> 1) + lax.shift_right_logical(a, np.int32(3))
    arith = a // b + a % b + jnp.abs(a) * b - lax.div(a, b) + lax.rem(a, b)
    bits = (a & 7) | (b ^ 3) + (~a)
    mixed = x * a + b  # int promoted into the float dtype
    return {
        "float": jnp.where(both, mixed, -mixed),
        "ints": (shifted, arith, bits, jnp.maximum(a, b), jnp.sign(a)),
        "bools": (ge, both, either, a != b, jnp.logical_xor(ge, either)),
        "counts": (lax.population_count(a), lax.clz(b)),
    }


def _int_keys_args(dtype):
    rng = _rng(91)
    return _ints(rng, (7,), 0, 4), _normal(rng, (7,), dtype)


@_program("int_bool", _int_keys_args, differentiable=False)
def int_keys_argsort(keys, vals):
    order = jnp.argsort(keys, stable=True)
    mask = keys % 2 == 0
    return (
        order,
        jnp.asarray(vals)[order],
        jnp.where(mask, vals, 0.0),
        jnp.where(mask, keys, -1),
        jnp.sort(keys),
        jnp.sum(mask),
        jnp.asarray(keys, dtype=jnp.asarray(vals).dtype) * vals,
    )


@_program("int_bool", _normals((5,), seed=92), differentiable=False)
def bool_outputs(x):
    finite = jnp.isfinite(x)
    nan_or_pos = jnp.logical_or(jnp.isnan(x), x > 0)
    return finite, nan_or_pos, jnp.signbit(x), (x > 0).astype(np.int32), jnp.isclose(x, x * 1.0)


# ---------------------------------------------------------------------------
# conv_pool: conv_general_dilated, reduce_window (max / sum), jnp.convolve
# ---------------------------------------------------------------------------


def _conv_args(dtype):
    rng = _rng(100)
    return _normal(rng, (2, 3, 7, 7), dtype), _normal(rng, (4, 3, 3, 3), dtype, scale=0.3)


@_program("conv_pool", _conv_args)
def conv2d_nchw(x, w):
    same = lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW")
    )
    strided = lax.conv_general_dilated(
        x,
        w,
        window_strides=(2, 2),
        padding=((1, 0), (0, 1)),
        rhs_dilation=(2, 1),
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
    )
    grouped = lax.conv_general_dilated(
        x[:, :2],
        w[:2, :1],
        (1, 1),
        "VALID",
        feature_group_count=2,
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
    )
    return same, strided, grouped


@_program("conv_pool", _normals((1, 2, 6, 6), seed=101))
def pooling(x):
    neg_inf = np.asarray(-np.inf, x.dtype)
    max_pool = lax.reduce_window(x, neg_inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    sum_pool = lax.reduce_window(
        x, np.asarray(0.0, x.dtype), lax.add, (1, 1, 3, 3), (1, 1, 1, 1), "SAME"
    )
    min_pool = lax.reduce_window(
        x, np.asarray(np.inf, x.dtype), lax.min, (1, 1, 2, 2), (1, 1, 2, 2), "VALID"
    )
    return max_pool, sum_pool / 9.0, min_pool


@_program("conv_pool", _normals((8,), (3,), seed=102))
def convolve_1d(x, k):
    return jnp.convolve(x, k), jnp.convolve(x, k, mode="same"), jnp.correlate(x, k, mode="valid")


# ---------------------------------------------------------------------------
# sort
# ---------------------------------------------------------------------------


@_program("sort", _normals((3, 5), seed=110))
def sort_values(x):
    vals, _ = lax.top_k(x, 3)
    return jnp.sort(x, axis=1), jnp.sort(x, axis=0, descending=True), vals, jnp.median(x, axis=1)


@_program("sort", _normals((6,), seed=111), differentiable=False)
def sort_indices(x):
    _, idx = lax.top_k(x, 2)
    return jnp.argsort(x), jnp.argsort(-x, stable=True), idx, jnp.searchsorted(jnp.sort(x), x)


def _multi_sort_args(dtype):
    rng = _rng(112)
    return _ints(rng, (6,), 0, 3), _normal(rng, (6,), dtype), _normal(rng, (6,), dtype)


@_program("sort", _multi_sort_args)
def lax_sort_multiple_operands(keys, a, b):
    # Sort by (int key, then a); b is carried along. Output floats only.
    _, sa, sb = lax.sort((keys, a, b), num_keys=2)
    _, single = lax.sort_key_val(a, b)
    return sa, sb, single


# ---------------------------------------------------------------------------
# cumulative
# ---------------------------------------------------------------------------


@_program("cumulative", _uniforms((3, 4), low=0.5, high=1.5, seed=120))
def cumulative_ops(x):
    return (
        jnp.cumsum(x, axis=1),
        lax.cumsum(x, axis=0, reverse=True),
        jnp.cumprod(x, axis=0),
        lax.cummax(x, axis=1),
        lax.cummin(x, axis=0, reverse=True),
        lax.cumlogsumexp(x, axis=1),
        jnp.diff(x, axis=1),
    )


# ---------------------------------------------------------------------------
# complex_fft: complex arithmetic with real outputs, FFTs
# ---------------------------------------------------------------------------


@_program("complex_fft", _normals((4,), (4,), seed=130))
def complex_arithmetic(x, y):
    z = lax.complex(x, y)
    w = z * z + jnp.conj(z) * 2.0 - 1j
    q = jnp.exp(z * 0.5) / (w + 3.0)
    return jnp.abs(w), jnp.real(q), jnp.imag(q), jnp.angle(w + 0.1), jnp.abs(jnp.sqrt(z + 4.0))


@_program("complex_fft", _normals((8,), (2, 6), seed=131))
def fourier_transforms(x, m):
    f = jnp.fft.fft(x)
    back = jnp.fft.ifft(f * 0.5)
    r = jnp.fft.rfft(x)
    return (
        jnp.abs(f),
        jnp.real(back),
        jnp.abs(r),
        jnp.fft.irfft(r * 2.0, n=8),
        jnp.abs(jnp.fft.fft2(m)),
        jnp.real(jnp.fft.fftshift(jnp.fft.fft(m, axis=1), axes=1)),
    )


# ---------------------------------------------------------------------------
# effects
# ---------------------------------------------------------------------------


@_program("effects", _normals((3,), seed=140))
def debug_printing(x):
    y = jnp.sin(x) * 2.0
    jax.debug.print("corpus debug_printing: sum={s}", s=jnp.sum(y))
    return y + 1.0


# ---------------------------------------------------------------------------
# models (equinox): params are the inexact-array leaves, static part closed over
# ---------------------------------------------------------------------------


@functools.cache
def _eqx_model(kind: str):
    """Build a tiny equinox model once; return (params, static) in float32."""
    import equinox as eqx

    key = jax.random.PRNGKey(1234)
    if kind == "mlp":
        model = eqx.nn.MLP(
            in_size=4, out_size=3, width_size=8, depth=2, activation=jax.nn.tanh, key=key
        )
    elif kind == "conv":
        k1, k2 = jax.random.split(key)
        model = (
            eqx.nn.Conv2d(2, 4, kernel_size=3, padding=1, key=k1),
            eqx.nn.MaxPool2d(kernel_size=2, stride=2),
            eqx.nn.Linear(4 * 3 * 3, 2, key=k2),
        )
    elif kind == "mha":
        model = eqx.nn.MultiheadAttention(num_heads=2, query_size=8, key=key)
    elif kind == "gru":
        k1, k2 = jax.random.split(key)
        model = (eqx.nn.GRUCell(input_size=3, hidden_size=5, key=k1), eqx.nn.Linear(5, 2, key=k2))
    elif kind == "layernorm":
        k1, k2 = jax.random.split(key)
        model = (eqx.nn.Linear(6, 6, key=k1), eqx.nn.LayerNorm(6), eqx.nn.Linear(6, 6, key=k2))
    else:
        raise KeyError(kind)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    # Store float32 numpy leaves so the cached value is independent of jax_enable_x64.
    params = jax.tree_util.tree_map(lambda p: np.asarray(p, np.float32), params)
    return params, static


def _model_args(kind: str, input_shape, seed: int):
    def make_args(dtype):
        params, _ = _eqx_model(kind)
        params = jax.tree_util.tree_map(lambda p: p.astype(dtype), params)
        return params, _normal(_rng(seed), input_shape, dtype)

    return make_args


def _combine(kind: str, params):
    import equinox as eqx

    return eqx.combine(params, _eqx_model(kind)[1])


@_program("models", _model_args("mlp", (5, 4), 150))
def eqx_mlp(params, x):
    mlp = _combine("mlp", params)
    return jax.vmap(mlp)(x)


@_program("models", _model_args("conv", (2, 6, 6), 151))
def eqx_conv_pool(params, x):
    conv, pool, head = _combine("conv", params)
    h = jax.nn.relu(conv(x))  # (4, 6, 6)
    h = pool(h)  # (4, 3, 3)
    return head(jnp.ravel(h))


@_program("models", _model_args("mha", (4, 8), 152))
def eqx_multihead_attention(params, x):
    mha = _combine("mha", params)
    return mha(x, x, x)


@_program("models", _model_args("gru", (6, 3), 153))
def eqx_gru_scan(params, xs):
    cell, head = _combine("gru", params)
    h0 = jnp.zeros((5,), jnp.asarray(xs).dtype)

    def step(h, x_t):
        h = cell(x_t, h)
        return h, head(h)

    h_final, outputs = lax.scan(step, h0, xs)
    return h_final, outputs


@_program("models", _model_args("layernorm", (3, 6), 154))
def eqx_layernorm_block(params, x):
    lin1, norm, lin2 = _combine("layernorm", params)

    def block(v):
        return v + lin2(jax.nn.gelu(norm(lin1(v))))

    return jax.vmap(block)(x)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

CORPUS: tuple[Program, ...] = tuple(_PROGRAMS)
_BY_NAME = {p.name: p for p in CORPUS}


def by_name(name: str) -> Program:
    return _BY_NAME[name]


def census(dtype=np.float32) -> dict[str, set[str]]:
    """Map each primitive name to the set of corpus programs whose jaxpr uses it."""
    result: dict[str, set[str]] = {}
    for prog in CORPUS:
        jaxpr = jax.make_jaxpr(prog.fn)(*prog.make_args(np.dtype(dtype)))
        for prim in primitives_in(jaxpr):
            result.setdefault(prim, set()).add(prog.name)
    return result
