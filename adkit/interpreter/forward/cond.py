"""Forward mode through `cond` / `switch`.

jvp(cond(i, f0, f1, ...)) = cond(i, jvp(f0), jvp(f1), ...): every branch is transformed with
`jvp_jaxpr` and returns the tangents that any branch makes nonzero, so all branches agree.
"""

from __future__ import annotations

import functools

from ... import _jax_compat as jc
from .._eval import call_closed, switch
from .._registry import JVP_RULES
from .engine import (
    jvp_jaxpr,
    merge_tangents,
    nonzero_pattern,
    nonzero_values,
)


@JVP_RULES.register(jc.cond_p)
def _cond_jvp(primals, tangents, *, branches, branches_platforms=None):
    # jvp(cond(i, f0, f1, ...)) = cond(i, jvp(f0), jvp(f1), ...); every branch returns the
    # tangents that any branch makes nonzero
    index, *operands = primals
    nonzero_in = nonzero_pattern(tangents[1:])
    patterns = [jvp_jaxpr(branch, nonzero_in)[1] for branch in branches]
    nonzero_out = tuple(any(column) for column in zip(*patterns, strict=True))
    rules = [jvp_jaxpr(branch, nonzero_in, nonzero_out)[0] for branch in branches]
    fns = [functools.partial(call_closed, rule) for rule in rules]
    outs = switch(
        index, fns, *operands, *nonzero_values(tangents[1:]), platforms=branches_platforms
    )
    n = len(branches[0].out_avals)
    return outs[:n], merge_tangents(outs[:n], nonzero_out, outs[n:])
