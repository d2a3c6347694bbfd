"""How `adkit.trace` inlines `cond` / `switch`: the rows of the branch taken."""

from __future__ import annotations

from ... import _jax_compat as jc
from .._registry import WENGERT_RULES
from .engine import nest


@WENGERT_RULES.register(jc.cond_p)
def _inline_cond(rec, eqn, nodes, scope):
    index, *operands = nodes
    branch = int(index.value)
    return rec.walk_closed(
        eqn.params["branches"][branch], operands, nest(scope, f"cond[branch {branch}]")
    )
