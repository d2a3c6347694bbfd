"""Transpose rules for contractions and linear solves.

`dot_general` is linear in each operand with the other held: its transpose contracts the
cotangent with the other operand. A solve x = M⁻¹ b is linear in b; its transpose is the solve
with Mᵀ (a transpose, not an adjoint: complex entries are not conjugated).
"""

from __future__ import annotations

import numpy as np
from jax import lax
from jax.lax import linalg as lax_linalg

from .... import _jax_compat as jc
from ..._registry import TRANSPOSE_RULES
from ..._zeros import is_undefined, is_zero
from ._util import aval_of, materialize


# --- triangular_solve ---
@TRANSPOSE_RULES.register(lax_linalg.triangular_solve_p)
def _triangular_solve_transpose(
    ct, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal
):
    # X = op(A)⁻¹ B transposes to C -> op(A)⁻ᵀ C; X = B op(A)⁻¹ to C -> C op(A)⁻ᵀ.
    # op(A)ᵀ is the same triangle with transpose_a flipped (conjugation unchanged).
    assert not is_undefined(a), "adkit bug: a triangular solve linear in its matrix."
    t_b = lax_linalg.triangular_solve_p.bind(
        a,
        materialize(ct),
        left_side=left_side,
        lower=lower,
        transpose_a=not transpose_a,
        conjugate_a=conjugate_a,
        unit_diagonal=unit_diagonal,
    )
    return [None, t_b]


# --- custom_linear_solve ---
@TRANSPOSE_RULES.register(jc.custom_linear_solve_p)
def _custom_linear_solve_transpose(cts, *operands, const_lengths, jaxprs):
    # x = A⁻¹ b transposes to c -> A⁻ᵀ c: the same primitive with the roles of matvec and
    # vecmat, and of solve and transpose_solve, exchanged (auxiliary outputs are not linear)
    if jaxprs.transpose_solve is None:
        raise TypeError(
            "adkit cannot transpose a custom_linear_solve without a `transpose_solve` (reverse "
            "mode needs the solve with the transposed operator); pass `transpose_solve`, or "
            "`symmetric=True` if the operator is symmetric."
        )
    n_consts = sum(const_lengths)
    consts, b = operands[:n_consts], operands[n_consts:]
    assert not any(is_undefined(c) for c in consts), "adkit bug: a solve linear in its operator."
    cts = list(cts) if isinstance(cts, list | tuple) else [cts]
    assert all(is_zero(c) for c in cts[len(b) :]), "adkit bug: a cotangent for an aux output."
    groups = np.split(np.arange(n_consts), np.cumsum(list(const_lengths))[:-1])
    grouped = [[consts[k] for k in g] for g in groups]
    matvec, vecmat, solve, transpose_solve = grouped
    swapped = [*vecmat, *matvec, *transpose_solve, *solve]
    outs = jc.custom_linear_solve_p.bind(
        *swapped,
        *(materialize(c) for c in cts[: len(b)]),
        const_lengths=const_lengths.transpose(),
        jaxprs=jaxprs.transpose(),
    )
    return [None] * n_consts + list(outs[: len(b)])


@TRANSPOSE_RULES.register(lax.dot_general_p)
def _dot_general_transpose(
    ct, x, y, *, dimension_numbers, precision, preferred_element_type, out_sharding=None
):
    # t -> dot(t, y) transposes to c -> dot(c, y) contracted over y's free dimensions and put
    # back in t's dimension order; symmetrically for the second operand
    (cx, cy), (bx, by) = dimension_numbers
    ct = materialize(ct)
    x_aval, y_aval = aval_of(x), aval_of(y)
    if is_undefined(x):
        return [_dot_back(ct, y, x_aval, y_aval, (cx, cy), (bx, by), True, precision), None]
    return [None, _dot_back(ct, x, y_aval, x_aval, (cy, cx), (by, bx), False, precision)]


def _dot_back(ct, other, self_aval, other_aval, contracting, batch, first, precision):
    """The cotangent of one operand of dot_general (the first if `first`), from the output's
    cotangent and the other operand; `contracting` and `batch` are (self's, other's) dims."""
    (c_self, c_other), (b_self, b_other) = contracting, batch
    free_self = [d for d in range(self_aval.ndim) if d not in c_self and d not in b_self]
    free_other = [d for d in range(other_aval.ndim) if d not in c_other and d not in b_other]
    nb = len(b_self)
    # output dims: batch, then the first operand's free dims, then the second's
    start = nb + len(free_self) if first else nb
    ct_free_other = list(range(start, start + len(free_other)))
    dims = ((ct_free_other, free_other), (list(range(nb)), list(b_other)))
    if isinstance(precision, tuple) and not first:
        precision = precision[::-1]
    # result dims: batch, self's free dims, then other's contracting dims in ascending order
    remaining_other = [d for d in range(other_aval.ndim) if d not in free_other + list(b_other)]
    as_self = [*b_self, *free_self, *[c_self[list(c_other).index(d)] for d in remaining_other]]
    # under an Explicit mesh the cotangent is sharded like the operand (JAX cannot infer it when
    # a contracted dimension is sharded)
    sharding = jc.explicit_sharding(self_aval, as_self)
    result = lax.dot_general(ct, other, dims, precision=precision, out_sharding=sharding)
    result = lax.transpose(result, tuple(np.argsort(as_self)))
    dtype = self_aval.dtype
    return lax.convert_element_type(result, dtype) if result.dtype != dtype else result


# --- tridiagonal_solve ---
def transposed_diagonals(dl, du):
    """The sub- and super-diagonals of Aᵀ: Aᵀ[i, i-1] = A[i-1, i] = du[i-1] and
    Aᵀ[i, i+1] = A[i+1, i] = dl[i+1] (the unused ends set to zero)."""
    zero = lambda v: lax.full_like(v, 0, shape=(*v.shape[:-1], 1))
    axis = dl.ndim - 1
    sub = lax.concatenate([zero(du), lax.slice_in_dim(du, 0, du.shape[-1] - 1, axis=axis)], axis)
    sup = lax.concatenate([lax.slice_in_dim(dl, 1, dl.shape[-1], axis=axis), zero(dl)], axis)
    return sub, sup


@TRANSPOSE_RULES.register(lax_linalg.tridiagonal_solve_p)
def _tridiagonal_solve_transpose(ct, dl, d, du, b, *, perturb_singular):
    # x = A⁻¹ b is linear in b; it transposes to c -> A⁻ᵀ c, Aᵀ tridiagonal again
    assert not any(is_undefined(v) for v in (dl, d, du)), "adkit bug: a solve linear in A."
    if is_zero(ct):
        return [None] * 4
    sub, sup = transposed_diagonals(dl, du)
    t_b = lax_linalg.tridiagonal_solve_p.bind(
        sub, d, sup, materialize(ct), perturb_singular=perturb_singular
    )
    return [None, None, None, t_b]
