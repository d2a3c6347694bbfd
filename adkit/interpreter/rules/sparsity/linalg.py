"""Sparsity of `dot_general` and of the dense linear-algebra primitives.

`dot_general` in canonical form: out[b, f, g] = sum_k lhs[b, f, k] * rhs[b, k, g]. Element
(b, f, g) depends on lhs[b, f, k] for each k where rhs[b, k, g] may be nonzero, and on
rhs[b, k, g] for each k where lhs[b, f, k] may be nonzero; a known operand's zeros drop terms
(multiplying by a constant sparse matrix keeps its pattern).

Factorisations and solves (cholesky, triangular_solve, eigh, lu, qr, svd) mix every element of a
matrix into every element of the result: each output depends on all of the operands.
"""

from __future__ import annotations

import numpy as np

from ..._registry import SPARSITY_RULES
from ._sets import combine, dense, union, unknown, with_matrix


def _canonical(operand, batch, contract, free_last: bool):
    """The operand's element indices laid out (B, F, K) (or (B, K, G) when `free_last`)."""
    rank = len(operand.shape)
    free = [d for d in range(rank) if d not in batch and d not in contract]
    order = [*batch, *contract, *free] if free_last else [*batch, *free, *contract]
    ids = np.transpose(np.arange(operand.size).reshape(operand.shape), order)
    sizes = [
        int(np.prod([operand.shape[d] for d in dims], dtype=np.int64))
        for dims in (batch, contract, free)
    ]
    b, k, f = sizes
    return ids.reshape((b, k, f) if free_last else (b, f, k))


def _may_be_nonzero(operand, ids):
    """Which canonical entries may be nonzero: all, or a known operand's nonzeros."""
    if not operand.known:
        return np.ones(ids.shape, dtype=bool)
    return np.asarray(operand.value).reshape(-1)[ids] != 0


@SPARSITY_RULES.register("dot_general")
def dot_general(operands, out_avals, *, dimension_numbers, **_):
    # out[b,f,g] = Σ_k lhs[b,f,k] rhs[b,k,g]
    lhs, rhs = operands
    (lc, rc), (lb, rb) = dimension_numbers
    left = _canonical(lhs, lb, lc, free_last=False)  # (B, F, K)
    right = _canonical(rhs, rb, rc, free_last=True)  # (B, K, G)
    nf, ng = left.shape[1], right.shape[2]
    shape = out_avals[0].shape
    terms = []
    if not lhs.independent:  # out[b,f,g] ∋ lhs[b,f,k] where rhs[b,k,g] may be nonzero
        b, k, g = np.nonzero(_may_be_nonzero(rhs, right))
        f = np.arange(nf)[:, None]
        groups = (b * nf + f) * ng + g
        terms.append(combine(groups, left[b, f, k], out_avals[0].size, lhs.matrix))
    if not rhs.independent:  # out[b,f,g] ∋ rhs[b,k,g] where lhs[b,f,k] may be nonzero
        b, f, k = np.nonzero(_may_be_nonzero(lhs, left))
        g = np.arange(ng)[:, None]
        groups = (b * nf + f) * ng + g
        terms.append(combine(groups, right[b, k, g], out_avals[0].size, rhs.matrix))
    if not terms:
        return [unknown(shape, lhs.num_inputs)]
    return [with_matrix(shape, union(*terms))]


def all_to_all(operands, out_avals, **_):
    # a factorisation or solve: every output element depends on every operand element
    return [dense(operands, a.shape) for a in out_avals]


for _name in (
    "cholesky",
    "triangular_solve",
    "eigh",
    "lu",
    "qr",
    "svd",
    "eig",
    "schur",
    "tridiagonal_solve",
):
    SPARSITY_RULES.register(_name, all_to_all)
