"""VJP rules (tape path of reverse mode): LU, QR, eigh and SVD.

Each rule is the transpose of the JVP in `rules/decompositions.py`, step by step: the JVP maps
dA to the factors' tangents through products, triangular solves, masks and transposes, and
each of those is transposed in reverse order. For complex matrices the transpose of X -> P X Q
is C -> Pᵀ C Qᵀ (JAX's pairing <u, v> = Re Σ u v, no conjugation), the transpose of taking a
conjugate (transpose) is taking it again, and Re z transposes to c + 0i. Below, Xᵀ is a plain
transpose, Xᴴ the conjugate transpose and X* the conjugate. Integer outputs (pivots,
permutations) send nothing back.
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax
from jax.lax import linalg as lax_linalg

from ..._registry import VJP_RULES
from ..._zeros import instantiate, is_zero
from ..jvp.decompositions import (
    _along_rows,
    _columns,
    _pad_to_square,
    _permutation_matrix,
    _reciprocal_off_diagonal,
    _right_solve,
    _rows,
    check_svd_differentiable,
)
from ..jvp.linalg import eye_like, is_complex, matmul, mH, mT, triangular_solve, tril, triu


def _conj(x):
    return lax.conj(x) if is_complex(x) else x


def _as_dtype(x, like):
    """x converted to like's dtype (real eigenvalues and singular values for complex A)."""
    return lax.convert_element_type(x, jax.typeof(like).dtype)


# --- LU ---
@VJP_RULES.register(lax_linalg.lu_p)
def _lu_vjp(ct, res):
    # P A = L U with M = L⁻¹ P dA U⁻¹ and d(lu) = L tril(M, -1) + triu(M) U transposes to
    #   M̄ = tril(Lᵀ lū, -1) + triu(lū Uᵀ),   Ā = Pᵀ L⁻ᵀ M̄ U⁻ᵀ
    # (L and U completed to square invertible factors as in the JVP rule).
    lu, _, perm = res.outputs
    lu_bar = ct[0]
    unit_lower, upper = _lu_factors(lu)
    m_bar = tril(matmul(mT(unit_lower), lu_bar), -1) + triu(matmul(lu_bar, mT(upper)))
    x = triangular_solve(
        unit_lower, m_bar, left_side=True, lower=True, transpose_a=True, unit_diagonal=True
    )  # L⁻ᵀ M̄
    x = triangular_solve(upper, x, left_side=False, lower=False, transpose_a=True)  # · U⁻ᵀ
    permutation = _permutation_matrix(perm, lu.shape[-2], jax.typeof(lu).dtype)
    return [matmul(mT(permutation), x)]


def _lu_factors(lu):
    """The m x m unit lower L and n x n upper U packed in lu (m x n), U completed with an
    identity block when lu is wide (the same completion as the JVP rule)."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    unit_lower = _pad_to_square(tril(_columns(lu, 0, k), -1), m) + eye_like(lu, m)
    upper = _pad_to_square(triu(_rows(lu, 0, k)), n)
    if n > k:
        upper = upper + np.pad(np.eye(n - k, dtype=jax.typeof(lu).dtype), ((k, 0), (k, 0)))
    return unit_lower, upper


# --- QR ---
@VJP_RULES.register(lax_linalg.qr_p)
def _qr_vjp(ct, res, *, pivoting, full_matrices, use_magma):
    # A P = Q R; the column permutation P is piecewise constant: dA -> dA Pᵀ transposes to
    # X̄ -> X̄ P
    (x,) = res.inputs
    q, r = res.outputs[:2]
    q_bar, r_bar = ct[:2]
    m, n = x.shape[-2:]
    if m < n:
        x_bar = _wide_qr_vjp(x, q, r, q_bar, r_bar, m)
    elif full_matrices and m > n:
        x_bar = _complete_qr_vjp(q, r, q_bar, r_bar, n)
    else:
        x_bar = _thin_qr_vjp(q, r, q_bar, r_bar)
    if pivoting:
        x_bar = matmul(x_bar, _permutation_matrix(res.outputs[2], n, jax.typeof(x).dtype))
    return [x_bar]


def _thin_qr_vjp(q, r, q_bar, r_bar):
    # The JVP (m >= n): Y = dX R⁻¹, C = Qᴴ Y, Ω = tril(C, -1) - tril(C, -1)ᴴ (+ i Im diag C if
    # complex), dQ = Q (Ω - C) + Y, dR = (C - Ω) R. Transposed, with G = R̄ Rᵀ - Qᵀ Q̄
    # (so C̄ = G from dQ and dR directly, and Ω̄ = -G):
    #   C̄ = G - tril(G - Gᴴ, -1)   (- i Im diag G if complex),
    #   Ȳ = Q̄ + Q* C̄,   X̄ = Ȳ R⁻ᵀ
    # (for real matrices C̄ = triu(G) + tril(Gᵀ, -1), the familiar "copy lower to upper").
    g = matmul(r_bar, mT(r)) - matmul(mT(q), q_bar)
    c_bar = g - tril(g - mH(g), -1)
    if is_complex(g):
        imaginary = g - _as_dtype(lax.real(g), g)
        c_bar = c_bar - eye_like(g) * imaginary
    y_bar = q_bar + matmul(_conj(q), c_bar)
    return triangular_solve(r, y_bar, left_side=False, lower=False, transpose_a=True)


def _wide_qr_vjp(x, q, r, q_bar, r_bar, m):
    # [X1 X2] = Q [R1 R2] with X1 square: (dQ, dR1) = thin JVP of X1, dR2 = dQᴴ X2 + Qᴴ dX2.
    # Transposed: X̄2 = Q* R̄2, and the thin rule for X1 with Q̄ + (R̄2 X2ᵀ)ᴴ and R̄1.
    n = x.shape[-1]
    r2_bar = _columns(r_bar, m, n)
    q_bar = q_bar + mH(matmul(r2_bar, mT(_columns(x, m, n))))
    x1_bar = _thin_qr_vjp(q, _columns(r, 0, m), q_bar, _columns(r_bar, 0, m))
    x2_bar = matmul(_conj(q), r2_bar)
    return lax.concatenate([x1_bar, x2_bar], x.ndim - 1)


def _complete_qr_vjp(q, r, q_bar, r_bar, n):
    # Q = [Q1 Q2], Q1 = [Q_nn; Q_pn] the thin factor. The JVP: (dQ1, dR1) = thin JVP,
    #   Z = Q_pn (Q_nn - I)⁻¹,  W = Q1 + Q2 Z,  D = dQ_pn - Z dQ_nn,  dQ2 = dQ1 Zᴴ - W Dᴴ,
    # and dR = [dR1; 0]. Transposed: D̄ = -(Wᵀ Q̄2)ᴴ, and
    #   Q̄1 + Q̄2 Z* + [-Zᵀ D̄; D̄]   goes into the thin rule with R̄1.
    m = q.shape[-2]
    q1, q2 = _columns(q, 0, n), _columns(q, n, m)
    q1_bar, q2_bar = _columns(q_bar, 0, n), _columns(q_bar, n, m)
    z = _right_solve(_rows(q1, n, m), _rows(q1, 0, n) - eye_like(q1, n))
    w = q1 + matmul(q2, z)
    d_bar = -mH(matmul(mT(w), q2_bar))
    through_d = lax.concatenate([-matmul(mT(z), d_bar), d_bar], d_bar.ndim - 2)
    q1_bar = q1_bar + matmul(q2_bar, _conj(z)) + through_d
    return _thin_qr_vjp(q1, _rows(r, 0, n), q1_bar, _rows(r_bar, 0, n))


# --- eigh ---
@VJP_RULES.register(lax_linalg.eigh_p, symbolic_zeros=True)
def _eigh_vjp(ct, res, *, lower, sort_eigenvalues, subset_by_index, algorithm):
    # A = V diag(w) Vᴴ; with C = Vᴴ dA V the JVP is dw = Re diag(C), dV = V (F ∘ C), F[i, j] =
    # 1 / (w[j] - w[i]) off the diagonal and 0 on it. Transposed:
    #   Ā = V* (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ      (real: V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ)
    # Like JAX, no symmetrization: jnp.linalg.eigh symmetrizes its input before the primitive.
    (a,) = res.inputs
    v, w = res.outputs
    v_bar, w_bar = ct
    n = a.shape[-1]
    if subset_by_index is not None and tuple(subset_by_index) != (0, n):
        raise NotImplementedError(
            "adkit has no reverse mode for a partial eigendecomposition (`subset_by_index`): the "
            "derivative of a subset of eigenvectors needs the others. Compute all of them."
        )
    # Eigenvalues alone (jnp.linalg.eigvalsh) leave V̄ a symbolic zero: no F term, which would
    # be 0 · ∞ where eigenvalues repeat.
    c_bar = eye_like(v) * _along_rows(_as_dtype(instantiate(w_bar), a))
    if not is_zero(v_bar):
        w_row = _along_rows(_as_dtype(w, a))  # w[j]
        f = _reciprocal_off_diagonal(w_row - mT(w_row))
        c_bar = c_bar + f * matmul(mT(v), v_bar)
    return [matmul(matmul(_conj(v), c_bar), mT(v))]


# --- SVD ---
@VJP_RULES.register(lax_linalg.svd_p)
def _svd_vjp(ct, res, *, full_matrices, compute_uv, subset_by_index, algorithm):
    # A = U diag(s) Vᴴ (thin) with distinct nonzero singular values. The JVP, with C = Uᴴ dA V
    # and F[i, j] = 1 / (s[j]² - s[i]²) off the diagonal:
    #   ds = Re diag(C),   dU = U (F ∘ (C S + S Cᴴ)) + (I - U Uᴴ) dA V S⁻¹,
    #   dV = V (F ∘ (S C + Cᴴ S)) + (I - V Vᴴ) dAᴴ U S⁻¹
    # (complex: dU += U (I ∘ (C - Cᴴ)) S⁻¹ / 2; the projection terms only for tall, resp. wide, A).
    # Transposed, with K_U = F ∘ (Uᵀ Ū), K_V = F ∘ (Vᵀ V̄) and J = I ∘ (Uᵀ Ū) S⁻¹ / 2:
    #   C̄ = diag(s̄) + (K_U + K_Uᴴ) S + S (K_V + K_Vᴴ)   (+ J - Jᴴ if complex),
    #   Ā = U* C̄ Vᵀ + (I - U* Uᵀ) Ū S⁻¹ Vᵀ + ((I - V* Vᵀ) V̄ S⁻¹ Uᵀ)ᴴ
    (a,) = res.inputs
    m, n = a.shape[-2:]
    check_svd_differentiable(m, n, compute_uv, full_matrices, "reverse mode")
    if compute_uv:
        s, u, vt = res.outputs
        s_bar, u_bar, vt_bar = ct
    else:  # the singular vectors are needed: compute them again
        s, u, vt = lax_linalg.svd_p.bind(
            a,
            full_matrices=False,
            compute_uv=True,
            subset_by_index=subset_by_index,
            algorithm=algorithm,
        )
        (s_bar,) = ct
    v = mH(vt)
    s_row = _along_rows(_as_dtype(s, a))  # s[j]
    c_bar = eye_like(s_row) * _along_rows(_as_dtype(s_bar, a))
    a_bar = None
    if compute_uv:
        v_bar = mH(vt_bar)  # Vᴴ transposes to taking Vᴴ again
        c_bar, a_bar = _svd_vectors_vjp(a, u, v, s_row, u_bar, v_bar, c_bar)
    a_from_c = matmul(matmul(_conj(u), c_bar), mT(v))
    return [a_from_c if a_bar is None else a_from_c + a_bar]


def _svd_vectors_vjp(a, u, v, s_row, u_bar, v_bar, c_bar):
    """The singular vectors' share: C̄ updated, and Ā's projection terms (None if square)."""
    m, n = a.shape[-2:]
    s_column = mT(s_row)  # s[i]
    f = _reciprocal_off_diagonal((s_row + s_column) * (s_row - s_column))
    u_bar_in_u = matmul(mT(u), u_bar)
    k_u = f * u_bar_in_u
    k_v = f * matmul(mT(v), v_bar)
    c_bar = c_bar + (k_u + mH(k_u)) * s_row + s_column * (k_v + mH(k_v))
    if is_complex(c_bar):
        j = 0.5 * eye_like(k_u) * u_bar_in_u / s_row
        c_bar = c_bar + j - mH(j)
    a_bar = None
    if m > n:  # (I - U Uᴴ) dA V S⁻¹
        y = u_bar / s_row
        y = y - matmul(_conj(u), matmul(mT(u), y))
        a_bar = matmul(y, mT(v))
    if n > m:  # (I - V Vᴴ) dAᴴ U S⁻¹
        y = v_bar / s_row
        y = y - matmul(_conj(v), matmul(mT(v), y))
        a_bar = mH(matmul(y, mT(u)))
    return c_bar, a_bar
