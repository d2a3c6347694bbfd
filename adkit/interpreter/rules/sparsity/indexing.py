"""Sparsity of indexing: gather, scatter, dynamic_slice, dynamic_update_slice.

With known indices each is exact: gather and dynamic_slice are index maps; a scatter sends each
update element to one output element, which the scatter's own transpose (a gather of the
output's element indices with the same dimension numbers) names. With unknown indices they are
conservative: any output element may read any element of what was indexed.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import SPARSITY_RULES
from ..jvp.indexing import read_back
from ._maps import index_map
from ._sets import combine, dense, take_rows, union, with_matrix


def _all_known(operands) -> bool:
    return all(o.known for o in operands)


def _gather(x, indices, *, dimension_numbers, slice_sizes, mode, **_):
    # out = x[indices]: element indices gathered, -1 where the gather fills out of bounds
    return np.asarray(
        lax.gather(x, indices, dimension_numbers, slice_sizes, mode=mode, fill_value=-1)
    )


@SPARSITY_RULES.register("gather")
def gather(operands, out_avals, **params):
    if operands[1].known:
        return index_map(_gather, moved=(0,))(operands, out_avals, **params)
    return [dense(operands[:1], out_avals[0].shape)]


@SPARSITY_RULES.register("dynamic_slice")
def dynamic_slice(operands, out_avals, *, slice_sizes):
    # out = x[i:i+k] at known starts: an index map; else any element of x
    if _all_known(operands[1:]):
        move = lambda x, *starts: np.asarray(lax.dynamic_slice(x, starts, slice_sizes))
        return index_map(move, moved=(0,))(operands, out_avals)
    return [dense(operands[:1], out_avals[0].shape)]


@SPARSITY_RULES.register("dynamic_update_slice")
def dynamic_update_slice(operands, out_avals):
    # out = x with x[i:i+k] replaced by u: at known starts an index map over (x, u)
    if _all_known(operands[2:]):
        move = lambda x, u, *starts: np.asarray(lax.dynamic_update_slice(x, u, starts))
        return index_map(move, moved=(0, 1))(operands, out_avals)
    x, u = operands[:2]
    return [with_matrix(x.shape, union(x.matrix, dense([u], x.shape).matrix))]


def scatter_targets(shape, indices, updates_shape, *, dimension_numbers, mode):
    """For each update element, the output element it lands on (-1 if dropped).

    A scatter's transpose with respect to its updates is the gather with the matching dimension
    numbers (the JVP rules' `read_back`): gathering the output's element indices, numbered from 1
    so that a dropped update's 0 reads as -1, names each update element's target.
    """
    ids = np.arange(1, int(np.prod(shape)) + 1, dtype=np.int32).reshape(shape)
    landed = read_back(ids, indices, updates_shape, dimension_numbers, mode)
    return np.asarray(landed).reshape(-1).astype(np.int64) - 1


def scatter(operands, out_avals, *, dimension_numbers, mode, update_jaxpr=None, **_):
    x, indices, u = operands
    if not indices.known:
        # any update element may land anywhere
        return [with_matrix(x.shape, union(x.matrix, dense([u], x.shape).matrix))]
    targets = scatter_targets(
        x.shape, indices.value, u.shape, dimension_numbers=dimension_numbers, mode=mode
    )
    # out[t] = combine(x[t], updates landing on t): x's sets plus the updates' sets at their targets
    landed = combine(targets, np.arange(u.size), x.size, u.matrix)
    return [with_matrix(x.shape, union(x.matrix, landed))]


@SPARSITY_RULES.register("scatter")
def scatter_replace(operands, out_avals, **params):
    # out[t] = u (the element written last) where an update lands, x[t] elsewhere; with an
    # update_jaxpr (x.at[i].apply(f)) out[t] = f(x[t]): x's set stays
    (out,) = scatter(operands, out_avals, **params)
    x, indices, u = operands
    if params.get("update_jaxpr") is not None or not indices.known:
        return [out]
    targets = scatter_targets(
        x.shape,
        indices.value,
        u.shape,
        dimension_numbers=params["dimension_numbers"],
        mode=params["mode"],
    )
    overwritten = np.zeros(x.size, dtype=bool)
    overwritten[targets[targets >= 0]] = True
    kept = take_rows(x.matrix, np.where(overwritten, -1, np.arange(x.size)))
    landed = combine(targets, np.arange(u.size), x.size, u.matrix)
    return [with_matrix(x.shape, union(kept, landed))]


for _name in ("scatter-add", "scatter-sub", "scatter-mul", "scatter-min", "scatter-max"):
    SPARSITY_RULES.register(_name, scatter)
