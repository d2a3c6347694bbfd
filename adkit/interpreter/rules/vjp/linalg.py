"""VJP rules (tape path of reverse mode): products, triangular solves and Cholesky.

Each rule is the transpose of the JVP in `rules/linalg.py` (the same masks, the same
conventions), written out. For complex matrices the transpose of X -> P X Q is C -> Pᵀ C Qᵀ
(no conjugation: JAX's pairing <u, v> = Re Σ u v), and the transpose of conjugation is
conjugation. Below, Xᵀ is a plain transpose, Xᴴ the conjugate transpose and X* the conjugate.
"""

from __future__ import annotations

from jax import lax
from jax.lax import linalg as lax_linalg

from ..._registry import VJP_RULES
from ..builders import from_transpose
from ..jvp.linalg import _phi, is_complex, matmul, mT, triangular_solve, tril, triu
from ..transpose.linalg import transposed_diagonals

# dot_general is bilinear: each operand's cotangent is its transpose rule with the other held,
# Ā = C̄ contracted with B over B's free axes, B̄ = A contracted with C̄ over A's free axes
from_transpose(lax.dot_general_p, multilinear=True)


# --- triangular_solve ---
@VJP_RULES.register(lax_linalg.triangular_solve_p)
def _triangular_solve_vjp(ct, res, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    # X = op(A)⁻¹ B (left side) or B op(A)⁻¹ (right side), op ∈ {A, Aᵀ, A*, Aᴴ}:
    #   B̄ = op(A)⁻ᵀ X̄   or   X̄ op(A)⁻ᵀ    (the same solve with transpose_a flipped)
    #   Ā = tri(opᵀ(-B̄ Xᵀ))   or   tri(opᵀ(-Xᵀ B̄)),
    # where opᵀ transposes back if op transposes and conjugates if op conjugates, and tri keeps
    # the triangle the solve reads (the strict triangle if unit_diagonal).
    a, _ = res.inputs
    (x,) = res.outputs
    b_bar = triangular_solve(
        a,
        ct,
        left_side=left_side,
        lower=lower,
        transpose_a=not transpose_a,
        conjugate_a=conjugate_a,
        unit_diagonal=unit_diagonal,
    )
    a_bar = None
    if res.active[0]:
        g = lax.neg(matmul(b_bar, mT(x)) if left_side else matmul(mT(x), b_bar))
        g = mT(g) if transpose_a else g
        g = lax.conj(g) if conjugate_a and is_complex(g) else g
        skip = 1 if unit_diagonal else 0
        a_bar = tril(g, -skip) if lower else triu(g, skip)
    return [a_bar, b_bar if res.active[1] else None]


# --- cholesky ---
@VJP_RULES.register(lax_linalg.cholesky_p)
def _cholesky_vjp(ct, res):
    # A = L Lᴴ with dL = L Φ(L⁻¹ dA L⁻ᴴ), Φ = lower triangle with the diagonal halved, transposes
    # to Ā = L⁻ᵀ Φ(Lᵀ L̄) L*⁻¹ (for real matrices L⁻ᵀ Φ(Lᵀ L̄) L⁻¹). Like JAX, no symmetrization:
    # the primitive is a function of the whole matrix here; jnp.linalg.cholesky symmetrizes its
    # input before the primitive, and reverse mode goes through that too. Only tril(output) is L
    # (the primitive leaves the input's upper triangle in its output, with zero derivative).
    (low,) = res.outputs
    low = tril(low)
    inner = _phi(matmul(mT(low), ct))  # Φ(Lᵀ L̄)
    left = triangular_solve(low, inner, left_side=True, lower=True, transpose_a=True)  # L⁻ᵀ ·
    return [triangular_solve(low, left, left_side=False, lower=True, conjugate_a=True)]  # · L*⁻¹


# --- tridiagonal_solve ---
@VJP_RULES.register(lax_linalg.tridiagonal_solve_p)
def _tridiagonal_solve_vjp(ct, res, *, perturb_singular):
    # x = A⁻¹ b:  b̄ = A⁻ᵀ x̄;  with g = -b̄ (the cotangent of A is -b̄ xᵀ, kept on the three
    # diagonals):  d̄l[i] = Σₙ g[i] x[i-1],  d̄[i] = Σₙ g[i] x[i],  d̄u[i] = Σₙ g[i] x[i+1]
    dl, d, du, _ = res.inputs
    (x,) = res.outputs
    sub, sup = transposed_diagonals(dl, du)
    b_bar = lax_linalg.tridiagonal_solve_p.bind(sub, d, sup, ct, perturb_singular=perturb_singular)
    sends = [None, None, None, b_bar if res.active[3] else None]
    if any(res.active[:3]):
        g, m, rows = lax.neg(b_bar), x.shape[-2], x.ndim - 2
        pad = [(0, 0, 0)] * rows
        zero = lax.full_like(x, 0, shape=())
        below = lax.pad(
            lax.slice_in_dim(x, 0, m - 1, axis=rows), zero, [*pad, (1, 0, 0), (0, 0, 0)]
        )
        above = lax.pad(lax.slice_in_dim(x, 1, m, axis=rows), zero, [*pad, (0, 1, 0), (0, 0, 0)])
        for i, shifted in enumerate((below, x, above)):
            if res.active[i]:
                sends[i] = lax.reduce_sum(g * shifted, (x.ndim - 1,))
    return sends
