"""Sparsity through `while_loop`: run on dependency sets while the predicate is known.

With a static trip count (a counter compared to a constant; a `fori_loop` with Python-int
bounds is staged as a `scan`) the predicate is known at every step, and the loop runs exactly
as the program would, giving the sets of that many unrolled steps; when the counter never
meets the sets, each step is one sparse product of the body's step map (see `scan.py`).
Where the predicate depends on data, any number of steps may run: the carry's sets are then
widened to the union over all step counts, a fixed point of `carry | body(carry)` (set
union), reached since sets only grow.
"""

from __future__ import annotations

import numpy as np

from ... import _jax_compat as jc
from .._registry import SPARSITY_RULES
from .._while_predicate import batched_predicate, scalar_predicate
from ..rules.sparsity._sets import IndexSets, union
from . import scan
from .engine import sparsity_closed
from .scan import StepMap, same_sets

MAX_EXACT_STEPS = 100_000  # beyond this many known steps, widen to the fixed point (sound)


@SPARSITY_RULES.register(jc.while_p)
def _while(operands, out_avals, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    if batched_predicate(cond_jaxpr):  # from vmap: one flag per batch element
        params = dict(cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr, cond_nconsts=cond_nconsts)
        params, operands = scalar_predicate(params | {"body_nconsts": body_nconsts}, operands)
        return _while(operands, out_avals, **params)
    cond_consts = operands[:cond_nconsts]
    body_consts = operands[cond_nconsts : cond_nconsts + body_nconsts]
    carry = operands[cond_nconsts + body_nconsts :]
    step_map = StepMap.find(body_jaxpr, body_consts, carry, []) if scan.COMPOSE else None
    for _ in range(MAX_EXACT_STEPS):
        (going,) = sparsity_closed(cond_jaxpr, [*cond_consts, *carry])
        if not going.known:
            break
        if not bool(np.asarray(going.value)):
            return carry
        stepped = None
        if step_map is not None:  # one sparse product, the counter advanced apart (scan.py)
            stepped = step_map.apply(body_jaxpr, body_consts, carry, [], canonical=False)
        if stepped is None:
            stepped = sparsity_closed(body_jaxpr, [*body_consts, *carry])
        carry = stepped
    # unknown number of further steps: the union over all of them
    carry = [IndexSets(c.shape, c.matrix) for c in carry]
    while True:
        stepped = sparsity_closed(body_jaxpr, [*body_consts, *carry])
        widened = [
            IndexSets(c.shape, union(c.matrix, s.matrix))
            for c, s in zip(carry, stepped, strict=True)
        ]
        if same_sets(widened, carry):
            return carry
        carry = widened
