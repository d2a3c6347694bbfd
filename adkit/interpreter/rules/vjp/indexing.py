"""VJP rules (tape path of reverse mode): indexing primitives.

Reading at indices (`gather`) and adding at indices (`scatter-add`, `scatter-sub`) are linear
and transpose into each other, so their VJPs are their transpose rules. The scatters that
overwrite or combine values pull back along the same choices as their JVP rules: a location
overwritten by several updates takes the cotangent to the update that won it, a product passes
each factor the product of the others, and an extremum shares the cotangent equally among the
values that attain it (JAX's tie convention). `read_back` gathers, for each update element, the
value at the location it is written to; indices get no cotangent.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import VJP_RULES
from ..builders import from_transpose, refuse_scatter_apply
from ..jvp.indexing import _add_at, _product_of_others, _where, read_back

# x̄ = scatter_add(0, i, ȳ) for y = gather(x, i);  (x̄, ū) = (ȳ, ±gather(ȳ, i)) for the
# additive scatters y = scatter_add(x, i, ±u)
for _p in (lax.gather_p, lax.scatter_add_p, lax.scatter_sub_p):
    from_transpose(_p)

# x̄ = ȳ written into a window of zeros for y = dynamic_slice(x, i); (x̄, ū) = (ȳ with the window
# zeroed, the window of ȳ) for y = dynamic_update_slice(x, u, i); the start indices get none
for _p in (lax.dynamic_slice_p, lax.dynamic_update_slice_p):
    from_transpose(_p)


@VJP_RULES.register(lax.scatter_p)
def _scatter_vjp(ct, res, *, dimension_numbers, **params):
    # y = x where nothing is written, else the update that won the location (found as in the
    # JVP rule, by scattering update ids and reading them back):
    # x̄ = [not written] ȳ,  ū = [u won its location] gather(ȳ, i)
    refuse_scatter_apply(params.get("update_jaxpr"))
    x, indices, u = res.inputs
    dnums, mode = dimension_numbers, params["mode"]
    ids = lax.reshape(lax.iota(np.int32, u.size), u.shape) + np.int32(1)
    no_ids = lax.full(x.shape, 0, np.int32)
    written = lax.scatter_p.bind(no_ids, indices, ids, dimension_numbers=dnums, **params)
    t_x = _where(written == 0, ct) if res.active[0] else None
    t_u = None
    if res.active[2]:
        won = read_back(written, indices, u.shape, dnums, mode) == ids
        t_u = _where(won, read_back(ct, indices, u.shape, dnums, mode))
    return [t_x, None, t_u]


@VJP_RULES.register(lax.scatter_mul_p)
def _scatter_mul_vjp(ct, res, *, dimension_numbers, **params):
    # y = x ∏_k u_k over the updates k written to each location:
    # x̄ = scatter_mul(ȳ, i, u),  ū_k = gather(x ȳ, i)_k ∏_{j≠k} u_j
    x, indices, u = res.inputs
    dnums = dimension_numbers
    t_x = t_u = None
    if res.active[0]:
        t_x = lax.scatter_mul_p.bind(ct, indices, u, dimension_numbers=dnums, **params)
    if res.active[2]:
        t_u = read_back(x * ct, indices, u.shape, dnums, params["mode"])
        if not params["unique_indices"]:  # with one update per location the others' product is 1
            t_u = t_u * _product_of_others(x, indices, u, dnums, params)
    return [t_x, None, t_u]


def _scatter_extremum_vjp(ct, res, *, dimension_numbers, **params):
    # y = min (or max) of x and the updates written to each location; the values equal to y
    # there share its cotangent equally: with g = ȳ / (#{u = y} + [x = y]),
    # x̄ = [x = y] g,  ū = [u = y] gather(g, i)
    x, indices, u = res.inputs
    (out,) = res.outputs
    dnums, mode = dimension_numbers, params["mode"]
    x_wins = x == out
    u_wins = u == read_back(out, indices, u.shape, dnums, mode)
    x_ones, u_ones = _where(x_wins, lax.full_like(x, 1)), _where(u_wins, lax.full_like(u, 1))
    share = ct / _add_at(x_ones, indices, u_ones, dnums, params)
    t_x = _where(x_wins, share) if res.active[0] else None
    t_u = _where(u_wins, read_back(share, indices, u.shape, dnums, mode)) if res.active[2] else None
    return [t_x, None, t_u]


for _p in (lax.scatter_min_p, lax.scatter_max_p):
    VJP_RULES.register(_p, _scatter_extremum_vjp)
