"""Sparsity through `cond` / `switch`: the branch taken when the index is known, else the union.

A pattern valid for every input must hold whichever branch runs: output element e may depend on
whatever it depends on in any branch.
"""

from __future__ import annotations

import numpy as np

from ... import _jax_compat as jc
from .._registry import SPARSITY_RULES
from ..rules.sparsity._sets import IndexSets, union
from .engine import sparsity_closed


@SPARSITY_RULES.register(jc.cond_p)
def _cond(operands, out_avals, *, branches, **_):
    index, *args = operands
    if index.known:
        taken = int(np.clip(np.asarray(index.value), 0, len(branches) - 1))
        return sparsity_closed(branches[taken], args)
    outs = [sparsity_closed(branch, args) for branch in branches]
    return [
        IndexSets(column[0].shape, union(*(o.matrix for o in column)))
        for column in zip(*outs, strict=True)
    ]
