"""Taylor mode through `cond` / `switch`: the branch index is a primal value, so the series of
a cond is the series of the branch it takes: cond(i, f0, f1, ...) becomes
switch(i, jet(f0), jet(f1), ...). Every branch returns the full series of each floating-point
output, so that all branches agree on their outputs."""

from __future__ import annotations

from ... import _jax_compat as jc
from .._eval import switch
from .._registry import JET_RULES
from .engine import has_series, jet_closed, moves, pack, unpack


@JET_RULES.register(jc.cond_p)
def _cond(operands, *, branches, branches_platforms=None):
    index, *args = operands
    k = len(index) - 1
    moving_in = [moves(a) for a in args]
    moving_out = [has_series(a) for a in branches[0].out_avals]

    def branch_fn(branch):
        def run(*flat):
            outs = jet_closed(branch, unpack(flat, moving_in, k))
            return pack(outs, moving_out)

        return run

    fns = [branch_fn(b) for b in branches]
    flat = switch(index[0], fns, *pack(args, moving_in), platforms=branches_platforms)
    return unpack(flat, moving_out, k)
