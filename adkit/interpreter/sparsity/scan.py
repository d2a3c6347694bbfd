"""Sparsity through `scan`: the loop run on dependency sets, step by step.

Each step walks the body with the carry's sets and the step's slice of `xs`; the sets after
step k are exactly those of k unrolled steps (20 heat-equation steps reach 20 neighbours, not
the whole grid). Once the carry's sets stop changing and the remaining slices of `xs` carry no
known values, every later step repeats the last one, and the walk stops early.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ... import _jax_compat as jc
from .._registry import SPARSITY_RULES
from ..rules.sparsity._sets import IndexSets, known, unknown
from .engine import sparsity_closed


def same_sets(a: list[IndexSets], b: list[IndexSets]) -> bool:
    """Whether two lists of sets are equal, known values included."""
    for x, y in zip(a, b, strict=True):
        if x.known != y.known or (x.matrix != y.matrix).nnz:
            return False
        if x.known and not np.array_equal(x.value, y.value):
            return False
    return True


def slice_step(xs: IndexSets, i: int) -> IndexSets:
    """Step i's slice of a scanned-over array (its leading axis)."""
    shape = xs.shape[1:]
    rows = int(np.prod(shape, dtype=np.int64))
    matrix = xs.matrix[i * rows : (i + 1) * rows]
    return IndexSets(shape, matrix, None if xs.value is None else xs.value[i])


def stack_steps(steps: list[IndexSets]) -> IndexSets:
    """The per-step outputs stacked along a new leading axis."""
    shape = (len(steps), *steps[0].shape)
    if all(s.known for s in steps):
        return known(np.stack([s.value for s in steps]), steps[0].num_inputs)
    matrix = sp.vstack([s.matrix for s in steps], format="csr")
    return IndexSets(shape, sp.csr_array(matrix))


@SPARSITY_RULES.register(jc.scan_p)
def _scan(operands, out_avals, *, jaxpr, length, reverse, num_consts, num_carry, **_):
    consts = operands[:num_consts]
    carry = operands[num_consts : num_consts + num_carry]
    xs = operands[num_consts + num_carry :]
    order = range(length - 1, -1, -1) if reverse else range(length)
    ys: dict[int, list[IndexSets]] = {}
    repeat = not any(x.known for x in xs) and all(x.independent for x in xs)
    last = None
    for i in order:
        if repeat and last is not None:
            ys[i] = last  # the carry reached its fixed point: every later step is the same
            continue
        outs = sparsity_closed(jaxpr, [*consts, *carry, *(slice_step(x, i) for x in xs)])
        new_carry, ys[i] = outs[:num_carry], outs[num_carry:]
        if repeat and same_sets(new_carry, carry):
            last = ys[i]
        carry = new_carry
    if length == 0:
        n = operands[0].num_inputs
        return [*carry, *(unknown(a.shape, n) for a in out_avals[num_carry:])]
    stacked = [
        stack_steps([ys[i][k] for i in range(length)]) for k in range(len(out_avals) - num_carry)
    ]
    return [*carry, *stacked]
