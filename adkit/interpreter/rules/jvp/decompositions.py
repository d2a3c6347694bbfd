"""JVP rules for matrix decompositions with several outputs: LU, QR, eigh, SVD and eig.

Each differentiates the defining identity (P A = L U, A = Q R, A V = V diag(w),
A = U diag(s) Vᴴ) and solves for the factors' tangents with the factors already computed,
following JAX's conventions (the same formulas, so the same choices where a factor is not
unique, and the same inf/nan where eigenvalues or singular values coincide). Integer outputs
(pivots, permutations) get zero tangents.
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax
from jax.lax import linalg as lax_linalg

from ..._registry import JVP_RULES
from ..._zeros import Zero
from .linalg import (
    diagonal_of_product,
    eye_like,
    is_complex,
    matmul,
    mH,
    mT,
    triangular_solve,
    tril,
    triu,
)


def _permutation_matrix(perm, n, dtype):
    """P with P[i, j] = 1 where perm[i] = j, so (P @ X)[i] = X[perm[i]]."""
    shape = (*perm.shape, n)
    rows = lax.broadcast_in_dim(perm, shape, tuple(range(perm.ndim)))
    columns = lax.broadcasted_iota(perm.dtype, shape, perm.ndim)
    return lax.convert_element_type(lax.eq(rows, columns), dtype)


def _columns(x, start, stop):
    return lax.slice_in_dim(x, start, stop, axis=x.ndim - 1)


def _rows(x, start, stop):
    return lax.slice_in_dim(x, start, stop, axis=x.ndim - 2)


def _pad_to_square(x, size):
    """Zero-pads the last two axes of x at their ends to size x size."""
    dtype = jax.typeof(x).dtype
    config = [(0, 0, 0)] * (x.ndim - 2)
    config += [(0, size - x.shape[-2], 0), (0, size - x.shape[-1], 0)]
    return lax.pad(x, np.zeros((), dtype), config)


# --- LU ---
@JVP_RULES.register(lax_linalg.lu_p)
def _lu_jvp(primals, tangents):
    # P A = L U:  L⁻¹ P dA U⁻¹ = L⁻¹ dL + dU U⁻¹ (strictly lower + upper), so with
    # M = L⁻¹ P dA U⁻¹:  dL = L tril(M, -1),  dU = triu(M) U, packed into one matrix like lu.
    (a,), (ta,) = primals, tangents
    lu, pivots, perm = lax_linalg.lu_p.bind(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    dtype = jax.typeof(a).dtype
    unit_lower = _pad_to_square(tril(_columns(lu, 0, k), -1), m) + eye_like(lu, m)
    upper = _pad_to_square(triu(_rows(lu, 0, k)), n)
    if n > k:  # a wide matrix: complete U with an identity block to make it invertible
        upper = upper + np.pad(np.eye(n - k, dtype=dtype), ((k, 0), (k, 0)))
    permuted = matmul(_permutation_matrix(perm, m, dtype), ta)
    inner = triangular_solve(unit_lower, permuted, left_side=True, lower=True, unit_diagonal=True)
    inner = triangular_solve(upper, inner, left_side=False, lower=False)
    d_lu = matmul(unit_lower, tril(inner, -1)) + matmul(triu(inner), upper)
    return [lu, pivots, perm], [d_lu, Zero.like(pivots), Zero.like(perm)]


# --- QR ---
def _thin_qr_jvp(q, r, dx):
    # X = Q R with m >= n:  with C = Qᴴ dX R⁻¹ and Ω = tril(C, -1) - tril(C, -1)ᴴ (skew),
    #   dQ = Q (Ω - C) + dX R⁻¹,   dR = (C - Ω) R
    # (complex: Ω also gets C's imaginary diagonal, which keeps R's diagonal real).
    dx_rinv = triangular_solve(r, dx)
    c = matmul(mH(q), dx_rinv)
    low = tril(c, -1)
    omega = low - mH(low)
    if is_complex(c):
        imaginary = c - lax.convert_element_type(lax.real(c), jax.typeof(c).dtype)
        omega = omega + eye_like(c) * imaginary
    return matmul(q, omega - c) + dx_rinv, matmul(c - omega, r)


@JVP_RULES.register(lax_linalg.qr_p)
def _qr_jvp(primals, tangents, *, pivoting, full_matrices, use_magma):
    # A P = Q R; the column permutation P (pivoting) is piecewise constant
    (x,), (dx,) = primals, tangents
    outs = lax_linalg.qr_p.bind(
        x, pivoting=pivoting, full_matrices=full_matrices, use_magma=use_magma
    )
    q, r = outs[:2]
    m, n = x.shape[-2:]
    if pivoting:  # dX P: the columns of dX in pivot order
        dx = matmul(dx, mT(_permutation_matrix(outs[2], n, jax.typeof(dx).dtype)))
    if m < n:
        dq, dr = _wide_qr_jvp(x, q, r, dx, m)
    elif full_matrices and m > n:
        dq, dr = _complete_qr_jvp(q, r, dx, n)
    else:
        dq, dr = _thin_qr_jvp(q, r, dx)
    return list(outs), [dq, dr, *(Zero.like(p) for p in outs[2:])]


def _wide_qr_jvp(x, q, r, dx, m):
    # [X1 X2] = Q [R1 R2] with X1 square: (dQ, dR1) from the square QR of X1, and
    # R2 = Qᴴ X2 gives dR2 = dQᴴ X2 + Qᴴ dX2
    n = x.shape[-1]
    dq, dr1 = _thin_qr_jvp(q, _columns(r, 0, m), _columns(dx, 0, m))
    dr2 = matmul(mH(dq), _columns(x, m, n)) + matmul(mH(q), _columns(dx, m, n))
    return dq, lax.concatenate([dr1, dr2], x.ndim - 1)


def _complete_qr_jvp(q, r, dx, n):
    # Q = [Q1 Q2] with Q1 = [Q_nn; Q_pn] the thin factor, whose tangent is the thin rule's.
    # The completion Q2 is not unique; JAX's choice (arXiv:2409.13374, eqs. 32-33):
    #   Z = Q_pn (Q_nn - I)⁻¹,   dQ2 = dQ1 Zᴴ - (Q1 + Q2 Z)(dQ_pn - Z dQ_nn)ᴴ;   dR = [dR1; 0]
    m = q.shape[-2]
    q1, q2 = _columns(q, 0, n), _columns(q, n, m)
    dq1, dr1 = _thin_qr_jvp(q1, _rows(r, 0, n), dx)
    z = _right_solve(_rows(q1, n, m), _rows(q1, 0, n) - eye_like(q1, n))
    dq_gap = _rows(dq1, n, m) - matmul(z, _rows(dq1, 0, n))
    dq2 = matmul(dq1, mH(z)) - matmul(q1 + matmul(q2, z), mH(dq_gap))
    zeros = np.zeros((*dr1.shape[:-2], m - n, n), jax.typeof(dr1).dtype)
    dr = lax.concatenate([dr1, zeros], dr1.ndim - 2)
    return lax.concatenate([dq1, dq2], dq1.ndim - 1), dr


def _right_solve(b, a):
    """b a⁻¹ through an LU factorization: a = Pᵀ L U, so b a⁻¹ = (b U⁻¹ L⁻¹) P."""
    lu, _, perm = lax_linalg.lu_p.bind(a)
    y = triangular_solve(lu, b, left_side=False, lower=False)
    y = triangular_solve(lu, y, left_side=False, lower=True, unit_diagonal=True)
    return matmul(y, _permutation_matrix(perm, a.shape[-1], jax.typeof(a).dtype))


# --- eigh ---
@JVP_RULES.register(lax_linalg.eigh_p)
def _eigh_jvp(primals, tangents, *, lower, sort_eigenvalues, subset_by_index, algorithm):
    # A = V diag(w) Vᴴ with distinct eigenvalues:  with C = Vᴴ dA V,
    #   dw = diag(C) (real),   dV = V (F ∘ C),   F[i, j] = 1 / (w[j] - w[i]) off the diagonal
    # (coinciding eigenvalues give inf, as in JAX).
    (a,), (ta,) = primals, tangents
    n = a.shape[-1]
    if subset_by_index is not None and tuple(subset_by_index) != (0, n):
        raise NotImplementedError(
            "adkit has no JVP for a partial eigendecomposition (`subset_by_index`): the "
            "derivative of a subset of eigenvectors needs the others. Compute all of them."
        )
    v, w = lax_linalg.eigh_p.bind(
        a,
        lower=lower,
        sort_eigenvalues=sort_eigenvalues,
        subset_by_index=subset_by_index,
        algorithm=algorithm,
    )
    c = matmul(matmul(mH(v), ta), v)
    dw = diagonal_of_product(mH(v), matmul(ta, v))
    dw = lax.real(dw) if is_complex(dw) else dw
    w_row = _along_rows(lax.convert_element_type(w, jax.typeof(a).dtype))
    f = _reciprocal_off_diagonal(w_row - mT(w_row))
    return [v, w], [matmul(v, f * c), dw]


def _reciprocal_off_diagonal(gaps):
    """1 / gaps off the diagonal and 0 on it (a zero gap off the diagonal gives inf)."""
    eye = eye_like(gaps)
    return lax.integer_pow(eye + gaps, -1) - eye


def _along_rows(values):
    """values[..., None, :]: values[j] in every row (a function of the column index j)."""
    return lax.expand_dims(values, (values.ndim - 1,))


# --- SVD ---
def check_svd_differentiable(m, n, compute_uv, full_matrices, what):
    """Refuses the SVD of a non-square matrix with `full_matrices=True`, as JAX does."""
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError(
            f"adkit, like JAX, has no {what} for the SVD of a non-square matrix with "
            "`full_matrices=True`: the extra singular vectors are not unique. Use "
            "`full_matrices=False`."
        )


@JVP_RULES.register(lax_linalg.svd_p)
def _svd_jvp(primals, tangents, *, full_matrices, compute_uv, subset_by_index, algorithm):
    # A = U diag(s) Vᴴ (thin) with distinct nonzero singular values:  with C = Uᴴ dA V,
    #   ds = diag(C) (real),  F[i, j] = 1 / (s[j]² - s[i]²) off the diagonal,
    #   dU = U (F ∘ (C S + S Cᴴ)) + (I - U Uᴴ) dA V S⁻¹                 (second term if m > n)
    #   dV = V (F ∘ (S C + Cᴴ S)) + (I - V Vᴴ) dAᴴ U S⁻¹                (second term if n > m)
    # (complex: dU also gets the diagonal (C - Cᴴ)/(2s)).
    (a,), (ta,) = primals, tangents
    m, n = a.shape[-2:]
    check_svd_differentiable(m, n, compute_uv, full_matrices, "JVP")
    params = dict(subset_by_index=subset_by_index, algorithm=algorithm)
    outs = lax_linalg.svd_p.bind(a, full_matrices=full_matrices, compute_uv=compute_uv, **params)
    if compute_uv:
        s, u, vt = outs
    else:
        s, u, vt = lax_linalg.svd_p.bind(a, full_matrices=False, compute_uv=True, **params)
    dtype = jax.typeof(a).dtype
    v = mH(vt)
    c = matmul(matmul(mH(u), ta), v)
    ds = diagonal_of_product(mH(u), matmul(ta, v))
    ds = lax.real(ds) if is_complex(ds) else ds
    if not compute_uv:
        return outs, [ds]
    s_row = _along_rows(lax.convert_element_type(s, dtype))  # s[j]
    s_column = mT(s_row)  # s[i]
    f = _reciprocal_off_diagonal((s_row + s_column) * (s_row - s_column))
    cs = c * s_row
    sc = s_column * c
    du = matmul(u, f * (cs + mH(cs)))
    dv = matmul(v, f * (sc + mH(sc)))
    if is_complex(c):
        du = du + matmul(u, 0.5 * (c - mH(c)) * eye_like(c) / s_row)
    if m > n:
        dav = matmul(ta, v)
        du = du + (dav - matmul(u, matmul(mH(u), dav))) / s_row
    if n > m:
        dahu = matmul(mH(ta), u)
        dv = dv + (dahu - matmul(v, matmul(vt, dahu))) / s_row
    return list(outs), [ds, du, mH(dv)]


# --- eig (non-symmetric) ---
def _eigenvector_tangent(w, v, da):
    """The tangent of right eigenvectors `v` (columns, eigenvalues `w`) along `da`.

    With P = V⁻¹ dA V and F[i, j] = 1 / (w[j] - w[i]) off the diagonal:
        dw = diag(P),   dV = V (F ∘ P) + V diag(c),
    where c fixes the scale each eigenvector is free to take, as LAPACK fixes it: unit norm
    (Re(vⱼᴴ dvⱼ) = 0) and a real largest-magnitude entry k (Im(dv[k, j]) = 0):
        c[j] = -Re(vⱼᴴ uⱼ) - i Im(u[k, j]) / v[k, j],   u = V (F ∘ P).
    """
    p = matmul(_left_solve(v, da), v)
    w_row = _along_rows(w)
    u = matmul(v, _reciprocal_off_diagonal(w_row - mT(w_row)) * p)
    rows = v.ndim - 2
    largest = lax.argmax(lax.abs(v), axis=rows, index_dtype=np.int32)
    at_largest = lax.convert_element_type(
        lax.eq(lax.broadcasted_iota(np.int32, v.shape, rows), lax.expand_dims(largest, (rows,))),
        jax.typeof(v).dtype,
    )
    norm_part = -lax.real(lax.reduce_sum(lax.conj(v) * u, (rows,)))
    phase_part = -lax.imag(lax.reduce_sum(at_largest * u, (rows,))) / lax.real(
        lax.reduce_sum(at_largest * v, (rows,))
    )
    c = lax.complex(norm_part, phase_part)
    return diagonal_of_product(eye_like(p), p), u + v * lax.expand_dims(c, (rows,))


def _left_solve(a, b):
    """a⁻¹ b through an LU factorization (a = Pᵀ L U)."""
    lu, _, perm = lax_linalg.lu_p.bind(a)
    pb = matmul(_permutation_matrix(perm, a.shape[-1], jax.typeof(a).dtype), b)
    y = triangular_solve(lu, pb, left_side=True, lower=True, unit_diagonal=True)
    return triangular_solve(lu, y, left_side=True, lower=False)


@JVP_RULES.register(lax_linalg.eig_p)
def _eig_jvp(primals, tangents, **params):
    # A V = V diag(w): dw = diag(V⁻¹ dA V); eigenvectors by `_eigenvector_tangent`, the left
    # ones as the right eigenvectors of Aᴴ (eigenvalues w̄). Eigenvector derivatives assume
    # distinct eigenvalues; like JAX, adkit gives them only with `enable_eigvec_derivs=True`.
    (a,), (ta,) = primals, tangents
    left, right = params["compute_left_eigenvectors"], params["compute_right_eigenvectors"]
    if (left or right) and not params["enable_eigvec_derivs"]:
        raise NotImplementedError(
            "adkit, like JAX, differentiates the eigenvectors of a non-symmetric matrix only "
            "where its eigenvalues are distinct, which it cannot check: pass "
            "`enable_eigvec_derivs=True` to `jax.lax.linalg.eig` to accept that, or "
            "differentiate the eigenvalues only (`jnp.linalg.eigvals`)."
        )
    outs = lax_linalg.eig_p.bind(a, **{**params, "compute_right_eigenvectors": True})
    w, vr = outs[0], outs[-1]
    ta = lax.convert_element_type(ta, jax.typeof(vr).dtype)
    dw, dvr = _eigenvector_tangent(w, vr, ta)
    primal, tangent = [w], [dw]
    if left:
        primal.append(outs[1])
        tangent.append(_eigenvector_tangent(lax.conj(w), outs[1], mH(ta))[1])
    if right:
        primal.append(vr)
        tangent.append(dvr)
    return primal, tangent
