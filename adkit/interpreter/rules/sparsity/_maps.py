"""Index maps: rules for primitives that only move elements, found by running them on indices.

A primitive that only moves, copies or drops elements (reshape, transpose, slice, pad, gather
with known indices, ...) is its own best description: applied to an array that holds each
element's index, it returns, for every output element, the index of the element it came from.
The output's dependency sets are then one row gather. Operands are numbered one after another
(operand k's first element is numbered after operand k-1's last), so a primitive with several
moved operands (concatenate, pad's padding value) needs no special case; an output element that
comes from nowhere (a gather's fill value) reads -1 and gets the empty set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._sets import IndexSets, offsets, stack_rows, take_rows, with_matrix

MOVED = np.int32  # the dtype indices travel in; 2**31 elements in one equation at most


def element_ids(operands: Sequence[IndexSets]) -> list[np.ndarray]:
    """Each operand's elements numbered, in the operand's shape, continuing across operands."""
    return [
        (np.arange(o.size, dtype=MOVED) + MOVED(start)).reshape(o.shape)
        for o, start in zip(operands, offsets(operands), strict=True)
    ]


def from_ids(operands: Sequence[IndexSets], ids) -> IndexSets:
    """The dependency sets of an output whose element `e` is operand element `ids[e]`."""
    ids = np.asarray(ids)
    flat = ids.reshape(-1)
    if len(operands) == 1 and flat.size == operands[0].size and _in_order(flat):
        return with_matrix(ids.shape, operands[0].matrix)  # a reshape: every element stays
    return with_matrix(ids.shape, take_rows(stack_rows(operands), flat))


def _in_order(ids: np.ndarray) -> bool:
    """Whether `ids` is 0, 1, 2, ... (the output is the operand, element for element)."""
    return bool(ids[0] == 0 and ids[-1] == ids.size - 1 and np.all(ids[1:] > ids[:-1]))


def index_map(move: Callable[..., object], moved: Sequence[int] | None = None):
    """A sparsity rule from `move(*ids, **params)`, which moves index arrays like the primitive.

    Args:
        move: applied to each operand's element indices (the operands listed in `moved`, the
            others passed as their known values), returns the output's indices (or a list, for
            several outputs).
        moved: which operands are moved; the rest (indices, start positions) must be known.
    """

    def rule(operands, out_avals, **params):
        chosen = range(len(operands)) if moved is None else moved
        data = [operands[i] for i in chosen]
        ids = iter(element_ids(data))
        args = [next(ids) if i in chosen else operands[i].value for i in range(len(operands))]
        out = move(*args, **params)
        outs = out if isinstance(out, list | tuple) else [out]
        return [from_ids(data, np.asarray(o)) for o in outs]

    rule.move, rule.moved = move, moved  # what `moves_through` composes
    return rule
