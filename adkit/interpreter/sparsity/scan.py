"""Sparsity through `scan`: the loop run on dependency sets, step by step.

The sets after step k are exactly those of k unrolled steps (20 heat-equation steps reach 20
neighbours, not the whole grid). Every sparsity rule maps sets by unions of operand elements'
sets (row gathers, unions, boolean products), so while no carry and no slice of `xs` has a
known value the body is one fixed map: output element e depends on the union of the sets of
the body inputs in row e of a boolean matrix D. The body is walked once, on identity sets (each
body input element its own index), to find D; each step is then one sparse product `D @ sets`
instead of a walk of every equation (heat steps: about 6x faster). Where a carry or a slice is
known (a loop counter, a per-step constant), the body may act differently at each step, and
each step walks it. Once the carry's sets stop changing and the remaining slices of `xs` carry
no known values, every later step repeats the last one, and the walk stops early.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ... import _jax_compat as jc
from .._registry import SPARSITY_RULES
from ..rules.sparsity._sets import IndexSets, as_csr, identity, known, stack_rows, unknown
from .engine import sparsity_closed


def same_sets(a: list[IndexSets], b: list[IndexSets]) -> bool:
    """Whether two lists of sets are equal, known values included."""
    for x, y in zip(a, b, strict=True):
        if x.known != y.known or not _same_matrix(x.matrix, y.matrix):
            return False
        if x.known and not np.array_equal(x.value, y.value):
            return False
    return True


COMPOSE = True  # False: walk the body at every step (the tests compare the two)


def _same_matrix(a, b) -> bool:
    """Whether two dependency matrices hold the same entries (array compare when both are in
    canonical form, sorted and without duplicates, as the rules leave them)."""
    if a.has_canonical_format and b.has_canonical_format:
        return a.nnz == b.nnz and (
            np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        )
    return not (a != b).nnz


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
    return IndexSets(shape, as_csr(matrix))


class _StepMap:
    """One body step as a fixed boolean map from its inputs' sets to its outputs' sets."""

    def __init__(self, outputs: list[IndexSets], fixed: list[IndexSets]):
        self.outputs = outputs  # per body output: its sets over the body inputs' elements
        self.fixed = fixed  # the constants' sets, the same at every step

    @classmethod
    def find(cls, jaxpr, consts, carry, steps) -> _StepMap | None:
        """The map, or None where some carry or slice has a known value."""
        if any(c.known for c in carry) or any(x.known for x in steps):
            return None
        moving = [c for c in consts if not c.known and not c.independent]
        sizes = [c.size for c in moving] + [c.size for c in [*carry, *steps]]
        total = int(sum(sizes))
        args, offset = [], 0
        for c in consts:
            if c.known:
                args.append(known(c.value, total))
            elif c.independent:
                args.append(unknown(c.shape, total))
            else:
                args.append(identity(c.shape, offset, total))
                offset += c.size
        for c in [*carry, *steps]:
            args.append(identity(c.shape, offset, total))
            offset += c.size
        outs = sparsity_closed(jaxpr, args)
        if any(o.known for o in outs):
            return None
        return cls(outs, moving)

    def apply(self, carry, steps, canonical: bool) -> list[IndexSets]:
        """One step: each output's sets, the union over the body inputs each element reads
        (sorted within rows if `canonical`, so that `same_sets` compares arrays)."""
        stacked = stack_rows([*self.fixed, *carry, *steps])
        outs = []
        for o in self.outputs:
            product = as_csr(o.matrix @ stacked)
            if canonical:
                product.sort_indices()
            outs.append(IndexSets(o.shape, product))
        return outs


@SPARSITY_RULES.register(jc.scan_p)
def _scan(operands, out_avals, *, jaxpr, length, reverse, num_consts, num_carry, **_):
    consts = operands[:num_consts]
    carry = operands[num_consts : num_consts + num_carry]
    xs = operands[num_consts + num_carry :]
    order = range(length - 1, -1, -1) if reverse else range(length)
    ys: dict[int, list[IndexSets]] = {}
    repeat = not any(x.known for x in xs) and all(x.independent for x in xs)
    last = None
    step_map = (
        _StepMap.find(jaxpr, consts, carry, [slice_step(x, 0) for x in xs])
        if (length and COMPOSE)
        else None
    )
    for i in order:
        if repeat and last is not None:
            ys[i] = last  # the carry reached its fixed point: every later step is the same
            continue
        steps = [slice_step(x, i) for x in xs]
        if step_map is not None and not any(c.known for c in carry):
            outs = step_map.apply(carry, steps, canonical=repeat)
        else:
            outs = sparsity_closed(jaxpr, [*consts, *carry, *steps])
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
