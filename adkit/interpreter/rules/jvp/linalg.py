"""JVP rules for linear algebra: products, triangular solves, Cholesky, custom linear solves.

Matrix factorizations with several outputs (LU, QR, eigh, SVD) are in `decompositions.py`,
which shares the small matrix helpers defined here. The helpers are written with `lax`
primitives that adkit can differentiate again (dot_general, triangular_solve, select_n,
transpose, ...), so the JVP of a JVP works.

Conventions follow JAX's rules where it defines one: operands a primitive reads only one
triangle of (triangular_solve, cholesky) get their tangents masked the same way.
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax
from jax.lax import linalg as lax_linalg

from ..._registry import JVP_RULES
from ..._zeros import Zero, instantiate, is_zero
from ..builders import add_tangents

HIGHEST = lax.Precision.HIGHEST


# --- matrix helpers (batched over leading dimensions) ---
def is_complex(x) -> bool:
    return jax.dtypes.issubdtype(jax.typeof(x).dtype, np.complexfloating)


def matmul(a, b):
    """a @ b for arrays of equal rank: the last axis of a against the second-to-last of b."""
    batch = tuple(range(a.ndim - 2))
    dims = (((a.ndim - 1,), (b.ndim - 2,)), (batch, batch))
    return lax.dot_general(a, b, dims, precision=(HIGHEST, HIGHEST))


def mT(x):
    """Transpose of the last two axes."""
    return lax.transpose(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


def mH(x):
    """Conjugate transpose of the last two axes."""
    return lax.conj(mT(x)) if is_complex(x) else mT(x)


def tril(x, k: int = 0):
    """Entries on or below the k-th diagonal; the rest set to zero."""
    mask = np.tri(x.shape[-2], x.shape[-1], k, dtype=bool)
    return _keep(x, mask)


def triu(x, k: int = 0):
    """Entries on or above the k-th diagonal; the rest set to zero."""
    mask = ~np.tri(x.shape[-2], x.shape[-1], k - 1, dtype=bool)
    return _keep(x, mask)


def _keep(x, mask):
    mask = np.broadcast_to(mask, x.shape)
    return lax.select(mask, x, np.zeros(x.shape, jax.typeof(x).dtype))


def eye_like(x, n: int | None = None):
    """An n x n identity (n defaults to x's last axis), broadcast over x's batch axes."""
    n = x.shape[-1] if n is None else n
    return np.broadcast_to(np.eye(n, dtype=jax.typeof(x).dtype), (*x.shape[:-2], n, n))


def diagonal_of_product(a, b):
    """diag(a @ b) without forming the product: sum_k a[i, k] b[k, i], as a dot_general whose
    batch axes are the leading ones and the row index i."""
    rank = a.ndim
    batch = tuple(range(rank - 2))
    b_rows = mT(b)  # b_rows[i, k] = b[k, i]
    dims = (((rank - 1,), (rank - 1,)), ((*batch, rank - 2), (*batch, rank - 2)))
    return lax.dot_general(a, b_rows, dims, precision=(HIGHEST, HIGHEST))


def triangular_solve(a, b, **params):
    """The triangular_solve primitive with keyword defaults (right side, upper, no transpose)."""
    defaults = dict(
        left_side=False, lower=False, transpose_a=False, conjugate_a=False, unit_diagonal=False
    )
    return lax_linalg.triangular_solve_p.bind(a, b, **{**defaults, **params})


# --- dot_general ---
@JVP_RULES.register(lax.dot_general_p)
def _dot_general_jvp(primals, tangents, **params):
    # bilinear: d(A·B) = dA·B + A·dB, with the same contraction, batch axes and precision
    (a, b), (ta, tb) = primals, tangents
    out = lax.dot_general_p.bind(a, b, **params)
    left = Zero.like(out) if is_zero(ta) else lax.dot_general_p.bind(ta, b, **params)
    right = Zero.like(out) if is_zero(tb) else lax.dot_general_p.bind(a, tb, **params)
    return out, add_tangents(left, right)


# --- triangular_solve ---
@JVP_RULES.register(lax_linalg.triangular_solve_p)
def _triangular_solve_jvp(primals, tangents, **params):
    # X = op(A)⁻¹ B (left side) or B op(A)⁻¹ (right side), op ∈ {A, Aᵀ, Ā, Aᴴ}:
    #   dX = op(A)⁻¹ (dB - op(dA) X)   or   (dB - X op(dA)) op(A)⁻¹
    # where dA is restricted to the triangle the solve reads (strict if unit_diagonal).
    (a, b), (ta, tb) = primals, tangents
    out = lax_linalg.triangular_solve_p.bind(a, b, **params)
    rhs = tb
    if not is_zero(ta):
        op_ta = _triangle_operator(ta, **params)
        correction = matmul(op_ta, out) if params["left_side"] else matmul(out, op_ta)
        rhs = add_tangents(rhs, -correction)
    return out, lax_linalg.triangular_solve_p.bind(a, rhs, **params)


def _triangle_operator(ta, *, lower, transpose_a, conjugate_a, unit_diagonal, **_):
    """op(dA) restricted to the triangle a triangular solve reads."""
    skip = 1 if unit_diagonal else 0
    ta = tril(ta, -skip) if lower else triu(ta, skip)
    ta = mT(ta) if transpose_a else ta
    return lax.conj(ta) if conjugate_a and is_complex(ta) else ta


# --- cholesky ---
@JVP_RULES.register(lax_linalg.cholesky_p)
def _cholesky_jvp(primals, tangents):
    # A = L Lᴴ:  dL = L Φ(L⁻¹ dA L⁻ᴴ), Φ = lower triangle with the diagonal halved
    # (the primitive leaves the input's upper triangle in its output; only tril(L) is L).
    (x,), (tx,) = primals, tangents
    out = lax_linalg.cholesky_p.bind(x)
    low = tril(out)
    right = triangular_solve(
        low, tx, left_side=False, lower=True, transpose_a=True, conjugate_a=True
    )  # dA L⁻ᴴ
    inner = triangular_solve(low, right, left_side=True, lower=True)  # L⁻¹ dA L⁻ᴴ
    return out, matmul(low, _phi(inner))


def _phi(x):
    """Lower triangle of x with its diagonal halved."""
    halves = np.where(np.eye(x.shape[-1], dtype=bool), 0.5, 1.0).astype(jax.typeof(x).dtype)
    return tril(x) * halves


# --- tridiagonal_solve ---
def tridiagonal_product(dl, d, du, x):
    """A x for the tridiagonal A with sub-, main and super-diagonals dl, d, du (each [..., m];
    dl[0] and du[m-1] unused) and x [..., m, n]:
    (A x)[i] = dl[i] x[i-1] + d[i] x[i] + du[i] x[i+1]."""
    column = lambda v: lax.expand_dims(v, (v.ndim,))
    m = x.shape[-2]
    below = lax.slice_in_dim(x, 0, m - 1, axis=x.ndim - 2)  # x[i-1] for rows 1..m-1
    above = lax.slice_in_dim(x, 1, m, axis=x.ndim - 2)  # x[i+1] for rows 0..m-2
    pad = [(0, 0, 0)] * (x.ndim - 2)
    zero = lax.full_like(x, 0, shape=())
    from_below = lax.pad(column(dl)[..., 1:, :] * below, zero, [*pad, (1, 0, 0), (0, 0, 0)])
    from_above = lax.pad(column(du)[..., :-1, :] * above, zero, [*pad, (0, 1, 0), (0, 0, 0)])
    return column(d) * x + from_below + from_above


@JVP_RULES.register(lax_linalg.tridiagonal_solve_p)
def _tridiagonal_solve_jvp(primals, tangents, *, perturb_singular):
    # A x = b:  dx = A⁻¹ (db - dA x), dA tridiagonal with the diagonals' tangents
    dl, d, du, b = primals
    x = lax_linalg.tridiagonal_solve_p.bind(dl, d, du, b, perturb_singular=perturb_singular)
    rhs = tangents[3]
    if not all(is_zero(t) for t in tangents[:3]):
        t_dl, t_d, t_du = (instantiate(t) for t in tangents[:3])
        rhs = add_tangents(rhs, lax.neg(tridiagonal_product(t_dl, t_d, t_du, x)))
    if is_zero(rhs):
        return x, Zero.like(x)
    return x, lax_linalg.tridiagonal_solve_p.bind(dl, d, du, rhs, perturb_singular=perturb_singular)
