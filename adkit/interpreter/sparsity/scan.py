"""Sparsity through `scan`: the loop run on dependency sets, step by step.

The sets after step k are exactly those of k unrolled steps (20 heat-equation steps reach 20
neighbours, not the whole grid). Every sparsity rule maps sets by unions of operand elements'
sets (row gathers, unions, boolean products), so while no carry and no slice of `xs` has a
known value the body is one fixed map: output element e depends on the union of the sets of
the body inputs in row e of a boolean matrix D. The body is walked once, on identity sets (each
body input element its own index), to find D; each step is then one sparse product `D @ sets`
instead of a walk of every equation (heat steps: about 6x faster). A known carry (the counter
of a `fori_loop`) is allowed when no equation reads it together with a value that depends on
the inputs: it is then advanced by a walk on empty sets, which only folds known values. Where
a known carry meets the sets (a product with a step's known factor), or a slice of `xs` is
known, the body may act differently at each step, and each step walks it. Once the carry's
sets stop changing and the remaining slices of `xs` carry no known values, every later step
repeats the last one, and the walk stops early.
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


def _apart(jaxpr: jc.Jaxpr, counters: list[bool], moving: list[bool]) -> bool:
    """Whether the body's known carries (`counters`, a loop counter) never meet a value that
    depends on the inputs: no equation reads both, so what the rules do with sets (a product
    with a known zero, a gather at known indices) cannot change from one step to the next.
    `moving` marks the body inputs whose sets are not empty."""
    known_from = {v for v, c in zip(jaxpr.invars, counters, strict=True) if c}
    sets_from = {v for v, m in zip(jaxpr.invars, moving, strict=True) if m}
    for eqn in jaxpr.eqns:
        reads = [v for v in eqn.invars if not isinstance(v, jc.Literal)]
        counted = any(v in known_from for v in reads)
        depends = any(v in sets_from for v in reads)
        if counted and depends:
            return False
        (known_from if counted else sets_from if depends else set()).update(eqn.outvars)
    return True


class StepMap:
    """One body step as a fixed boolean map from its inputs' sets to its outputs' sets.

    Known carries (a loop counter) are allowed when they never meet the sets (`_apart`): they
    are then advanced each step by a walk on empty sets (each equation either folds known
    values or is skipped), and the map gives the other outputs.
    """

    def __init__(self, outputs, fixed, counters, known_outputs):
        self.outputs = outputs  # per body output: its sets over the body inputs' elements
        self.fixed = fixed  # the constants' sets, the same at every step
        self.counters = counters  # which carries are known (their values change per step)
        self.known_outputs = known_outputs  # which body outputs are known values

    @classmethod
    def find(cls, jaxpr, consts, carry, steps) -> StepMap | None:
        """The map, or None where a slice is known or a known carry meets the sets."""
        if any(x.known for x in steps):
            return None
        counters = [c.known for c in carry]
        moving = [c for c in consts if not c.known and not c.independent]
        live = [c for c in carry if not c.known] + list(steps)
        total = int(sum(c.size for c in [*moving, *live]))
        args, offset, marks = [], 0, []
        for c in consts:
            if c.known:
                args.append(known(c.value, total))
            elif c.independent:
                args.append(unknown(c.shape, total))
            else:
                args.append(identity(c.shape, offset, total))
                offset += c.size
            marks.append(not c.known and not c.independent)
        for c in [*carry, *steps]:
            if c.known:
                args.append(known(c.value, total))
            else:
                args.append(identity(c.shape, offset, total))
                offset += c.size
            marks.append(not c.known)
        if any(counters) and not _apart(jaxpr.jaxpr, [False] * len(consts) + counters, marks):
            return None
        outs = sparsity_closed(jaxpr, args)
        known_outputs = [o.known for o in outs]
        if any(k != c for k, c in zip(known_outputs, counters, strict=False)):
            return None  # a carry would change from known to not, or back
        return cls(outs, moving, counters, known_outputs)

    def apply(self, jaxpr, consts, carry, steps, canonical: bool) -> list[IndexSets] | None:
        """One step: each output's sets, the union over the body inputs each element reads
        (sorted within rows if `canonical`, so that `same_sets` compares arrays); None if the
        carries' known values do not follow the pattern the map was found with."""
        if [c.known for c in carry] != self.counters:
            return None
        values = None
        if any(self.known_outputs):  # advance the counters: a walk on empty sets
            operands = [*consts, *carry, *steps]
            n = operands[0].num_inputs
            empty = [c if c.known else unknown(c.shape, n) for c in operands]
            values = sparsity_closed(jaxpr, empty)
        stacked = stack_rows([*self.fixed, *(c for c in carry if not c.known), *steps])
        outs = []
        for k, o in enumerate(self.outputs):
            if self.known_outputs[k]:
                if not values[k].known:
                    return None
                outs.append(values[k])
                continue
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
        StepMap.find(jaxpr, consts, carry, [slice_step(x, 0) for x in xs])
        if (length and COMPOSE)
        else None
    )
    for i in order:
        if repeat and last is not None:
            ys[i] = last  # the carry reached its fixed point: every later step is the same
            continue
        steps = [slice_step(x, i) for x in xs]
        outs = None
        if step_map is not None:
            outs = step_map.apply(jaxpr, consts, carry, steps, canonical=repeat)
        if outs is None:
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
