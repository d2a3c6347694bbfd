"""Sparsity of reductions and cumulative reductions.

`reduce_sum(x, axes)[g]` depends on every element of x in group g (the elements that share g's
kept coordinates): one sparse product `G @ X` with `G[g, e] = 1` when element e is in group g.
`cumsum(x, axis)[k]` depends on x[0..k] along the axis (x[k..] when reversed). An argmax is an
integer: no dependence (the engine empties integer outputs).
"""

from __future__ import annotations

import numpy as np

from ..._registry import SPARSITY_RULES
from ._sets import combine, with_matrix
from .elementwise import no_dependence


def reduce(operands, out_avals, *, axes, **_):
    # out[g] = ⊕_{e in group g} x[e]: the union over the group
    x = operands[0]
    shape = out_avals[0].shape
    kept = [d for d in range(len(x.shape)) if d not in axes]
    out_ids = np.arange(int(np.prod(shape, dtype=np.int64))).reshape([x.shape[d] for d in kept])
    expanded = np.expand_dims(out_ids, tuple(axes)) if axes else out_ids
    groups = np.broadcast_to(expanded, x.shape)
    return [with_matrix(shape, combine(groups, np.arange(x.size), out_ids.size, x.matrix))]


def cumulative(operands, out_avals, *, axis, reverse, **_):
    # out[k] = ⊕_{j <= k} x[j] along `axis` (j >= k when reversed): a triangle of pairs
    (x,) = operands
    ids = np.moveaxis(np.arange(x.size).reshape(x.shape), axis, -1)
    length = x.shape[axis]
    k, j = np.tril_indices(length) if not reverse else np.triu_indices(length)
    groups, members = ids[..., k], ids[..., j]
    return [with_matrix(x.shape, combine(groups, members, x.size, x.matrix))]


for _name in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod"):
    SPARSITY_RULES.register(_name, reduce)
for _name in ("cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"):
    SPARSITY_RULES.register(_name, cumulative)
for _name in ("argmax", "argmin", "reduce_and", "reduce_or", "reduce_xor"):
    SPARSITY_RULES.register(_name, no_dependence)
