"""JVP rules for indexing: dynamic slices, gather and the scatter family.

Reading elements at (integer) indices is linear in the array read from; the indices have no
tangent. Writing is linear too when the writes do not combine values (set, add, subtract). The
scatters that combine an update with what is already there (multiply, min, max) follow the
product rule and JAX's tie convention for extrema: the tangent at a location is the average of
the tangents of every value that attains the minimum (or maximum) there.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import JVP_RULES
from ..._zeros import Zero, instantiate, is_zero
from ..builders import add_tangents, linear, refuse_scatter_apply

# d dynamic_slice(x, i) = dynamic_slice(dx, i)
JVP_RULES.register(lax.dynamic_slice_p, linear(lax.dynamic_slice_p, only=(0,)))
# d dynamic_update_slice(x, u, i) = dynamic_update_slice(dx, du, i)
JVP_RULES.register(lax.dynamic_update_slice_p, linear(lax.dynamic_update_slice_p, only=(0, 1)))
# d scatter_add(x, i, u) = scatter_add(dx, i, du), likewise for scatter_sub
for _p in (lax.scatter_add_p, lax.scatter_sub_p):
    JVP_RULES.register(_p, linear(_p, only=(0, 2)))


@JVP_RULES.register(lax.gather_p)
def _gather_jvp(primals, tangents, *, fill_value, **params):
    # d gather(x, i) = gather(dx, i); out-of-bounds reads are filled with a constant, whose
    # tangent is 0 (whatever the primal fill value is)
    (x, indices), (tx, _) = primals, tangents
    out = lax.gather_p.bind(x, indices, fill_value=fill_value, **params)
    return out, lax.gather_p.bind(tx, indices, fill_value=0, **params)


# --- helpers for scatters: reading back at the locations a scatter writes to ---
def read_back(values, indices, updates_shape, dnums, mode):
    """The gather that reads, for each update element, the element of `values` (shaped like the
    operand) that the update is written to; dropped updates read 0."""
    gather_dnums = lax.GatherDimensionNumbers(
        offset_dims=dnums.update_window_dims,
        collapsed_slice_dims=dnums.inserted_window_dims,
        start_index_map=dnums.scatter_dims_to_operand_dims,
        operand_batching_dims=dnums.operand_batching_dims,
        start_indices_batching_dims=dnums.scatter_indices_batching_dims,
    )
    window_sizes = iter(updates_shape[d] for d in dnums.update_window_dims)
    collapsed = set(dnums.inserted_window_dims) | set(dnums.operand_batching_dims)
    slice_sizes = [1 if d in collapsed else next(window_sizes) for d in range(values.ndim)]
    return lax.gather(values, indices, gather_dnums, tuple(slice_sizes), mode=mode, fill_value=0)


def _rescatter(scatter, operand, indices, updates, dnums, params):
    """`scatter` (a `lax` scatter function) with the indexing params of the scatter at hand."""
    return scatter(
        operand,
        indices,
        updates,
        dnums,
        indices_are_sorted=params["indices_are_sorted"],
        unique_indices=params["unique_indices"],
        mode=params["mode"],
    )


def _add_at(operand, indices, updates, dnums, params):
    """scatter_add with the indexing params of the scatter at hand."""
    return _rescatter(lax.scatter_add, operand, indices, updates, dnums, params)


def _zeros(x):
    return lax.full_like(x, 0)


def _where(mask, x):
    """x where mask holds, 0 elsewhere."""
    return lax.select(mask, x, _zeros(x))


_scatter_unique = linear(lax.scatter_p, only=(0, 2))


@JVP_RULES.register(lax.scatter_p)
def _scatter_jvp(primals, tangents, *, dimension_numbers, **params):
    # scatter(x, i, u) overwrites x at i with u: d scatter(x, i, u) = scatter(dx, i, du), where
    # each location takes the tangent of the value that won it. When several updates hit one
    # location the winner is unspecified, so it is found once by scattering update ids and
    # reading them back; the primal and tangent are then both built from the same choice.
    refuse_scatter_apply(params.get("update_jaxpr"))
    (x, indices, u), (tx, _, tu) = primals, tangents
    dnums = dimension_numbers
    if params["unique_indices"]:
        return _scatter_unique(primals, tangents, dimension_numbers=dnums, **params)
    ids = lax.reshape(lax.iota(np.int32, u.size), u.shape) + np.int32(1)
    no_ids = lax.full(x.shape, 0, np.int32)
    written = lax.scatter_p.bind(no_ids, indices, ids, dimension_numbers=dnums, **params)
    kept = written == 0  # operand elements nobody overwrote
    won = read_back(written, indices, u.shape, dnums, params["mode"]) == ids

    def combine(operand_part, update_part):
        return _add_at(_where(kept, operand_part), indices, _where(won, update_part), dnums, params)

    out = combine(x, u)
    return out, combine(instantiate(tx), instantiate(tu))


@JVP_RULES.register(lax.scatter_mul_p)
def _scatter_mul_jvp(primals, tangents, *, dimension_numbers, **params):
    # out = x * prod_k u_k over the updates k written to each location (product rule):
    # d out = scatter_mul(dx, i, u) + x * scatter_add(0, i, du_k * prod_{j != k} u_j)
    (x, indices, u), (tx, _, tu) = primals, tangents
    dnums = dimension_numbers
    out = lax.scatter_mul_p.bind(x, indices, u, dimension_numbers=dnums, **params)
    result = Zero.like(out)
    if not is_zero(tx):
        result = lax.scatter_mul_p.bind(tx, indices, u, dimension_numbers=dnums, **params)
    if not is_zero(tu):
        if not params["unique_indices"]:  # with one update per location the others' product is 1
            tu = tu * _product_of_others(x, indices, u, dnums, params)
        result = add_tangents(result, x * _add_at(_zeros(x), indices, tu, dnums, params))
    return out, result


def _product_of_others(x, indices, u, dnums, params):
    """For each update u_k, the product of the other updates written to its location.

    Computed without dividing by zero, and right to first order in u (so the JVP of the
    JVP is exact too): split the updates into those that are zero here (Z) and the rest (N);
    prod_{j != k} u_j = prod(N) / u_k * prod(Z) for u_k in N, and prod(N) * prod(Z - k) for u_k
    in Z. A product of m values that are all zero here is, to first order, 1 for m = 0, their
    sum for m = 1 and 0 for m >= 2.
    """
    is_zero_u = u == 0
    ones = lax.full_like(u, 1)
    safe_u = lax.select(is_zero_u, ones, u)

    def per_location(scatter, init, values):  # combine per location, read back per update
        combined = _rescatter(scatter, init, indices, values, dnums, params)
        return read_back(combined, indices, u.shape, dnums, params["mode"])

    nonzero_product = per_location(lax.scatter_mul, lax.full_like(x, 1), safe_u)
    zero_count = per_location(lax.scatter_add, _zeros(x), _where(is_zero_u, ones))
    zero_sum = per_location(lax.scatter_add, _zeros(x), _where(is_zero_u, u))
    zero_product = _product_of_zeros(zero_count, zero_sum)
    zero_product_without_k = _product_of_zeros(zero_count - ones, zero_sum - u)
    return nonzero_product * lax.select(is_zero_u, zero_product_without_k, zero_product / safe_u)


def _product_of_zeros(count, total):
    """The product of `count` values that are all zero at this point and sum to `total`, to
    first order: 1, `total` or 0 for count 0, 1 or more."""
    return lax.select(count == 0, lax.full_like(total, 1), _where(count == 1, total))


def _scatter_extremum_jvp(primitive):
    def rule(primals, tangents, *, dimension_numbers, **params):
        # out = min (or max) of x and the updates written to each location; its tangent is the
        # mean of the tangents of the values equal to out there (JAX's tie convention):
        # d out = ([x = out] dx + scatter_add(0, i, [u = out] du)) / (#{u = out} + [x = out])
        (x, indices, u), (tx, _, tu) = primals, tangents
        dnums = dimension_numbers
        out = primitive.bind(x, indices, u, dimension_numbers=dnums, **params)
        x_wins = x == out
        u_wins = u == read_back(out, indices, u.shape, dnums, params["mode"])
        x_ones, u_ones = _where(x_wins, lax.full_like(x, 1)), _where(u_wins, lax.full_like(u, 1))
        winners = _add_at(x_ones, indices, u_ones, dnums, params)
        total = Zero.like(out) if is_zero(tx) else _where(x_wins, tx)
        if not is_zero(tu):
            total = _add_at(instantiate(total), indices, _where(u_wins, tu), dnums, params)
        return out, total / winners

    return rule


for _p in (lax.scatter_min_p, lax.scatter_max_p):
    JVP_RULES.register(_p, _scatter_extremum_jvp(_p))
