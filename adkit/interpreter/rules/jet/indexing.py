"""Jet rules for indexing: slices at dynamic positions, gathers and scatters.

Each is linear in its arrays for fixed indices, the indices keeping their primal values:
gather(x, i)ₖ = gather(xₖ, i). A scatter that overwrites (`x.at[i].set(u)`) is linear on each
piece fixed by which update wins a location, a choice adkit's JVP rule makes once from the
primals; the extremum scatters pick by the primals too (`piecewise_linear`).
"""

from __future__ import annotations

from jax import lax

from ..._registry import JET_RULES
from ._builders import linear, piecewise_linear

# dynamic_slice(x, i)ₖ = dynamic_slice(xₖ, i);  dynamic_update_slice(x, u, i)ₖ = dus(xₖ, uₖ, i)
JET_RULES.register(lax.dynamic_slice_p, linear(lax.dynamic_slice_p, only=(0,)))
JET_RULES.register(lax.dynamic_update_slice_p, linear(lax.dynamic_update_slice_p, only=(0, 1)))
# scatter_add(x, i, u)ₖ = scatter_add(xₖ, i, uₖ), likewise scatter_sub
for _p in (lax.scatter_add_p, lax.scatter_sub_p):
    JET_RULES.register(_p, linear(_p, only=(0, 2)))
# gather(x, i)ₖ = gather(xₖ, i), out-of-bounds reads filled with 0 (the fill is a constant);
# overwriting and extremum scatters: the piece chosen by the primals (see the docstring)
for _p in (lax.gather_p, lax.scatter_p, lax.scatter_max_p, lax.scatter_min_p):
    JET_RULES.register(_p, piecewise_linear(_p))
