"""VJP rules (tape path of reverse mode): reductions primitives.

`reduce_sum` and `cumsum` are linear: their VJPs are their transposes (broadcast back, suffix
sums). A maximum passes its cotangent to the elements attaining it, shared equally among ties;
a product passes each element the product of the others (computed without division, so zeros
are fine).

The other cumulative reductions are differentiated, as in JAX and in adkit's JVP rules, through
the parallel prefix scan of `lax.associative_scan`: a pairwise combining step z = a ⊕ b, whose
derivative dz = (∂z/∂a) da + (∂z/∂b) db is given by the weights ∂z/∂a and ∂z/∂b. The VJP walks
that scan backwards (`_scan_vjp`), so ties (cummax) get the same weights as in forward mode.

The generic `reduce` (an arbitrary computation) runs a sub-jaxpr: its rule is with the tape
engine (`reverse/tape/reduce.py`).
Booleans and indices (`reduce_and`, `argmax`, ...) have no cotangent.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import VJP_RULES
from ..builders import const_like, from_transpose, no_cotangent
from ..jvp.reductions import _product_of_others, logaddexp_weights, merge_axes

# x̄ = broadcast(ȳ) for y = Σ x;  x̄ = suffix sums of ȳ for y = cumsum(x)
for _p in (lax.reduce_sum_p, lax.cumsum_p):
    from_transpose(_p)
for _p in (lax.reduce_and_p, lax.reduce_or_p, lax.reduce_xor_p, lax.argmax_p, lax.argmin_p):
    no_cotangent(_p)
# an arbitrary computation: linearize the JVP rule (a pairwise tree of jvp(⊕)) and transpose it


# --- extrema ---
def _chooser_vjp(ct, res, *, axes):
    # x̄ = ȳ [x = y] / #{x = y} (the elements attaining the extremum share ȳ equally)
    (x,), (out,) = res.inputs, res.outputs
    kept = [d for d in range(x.ndim) if d not in axes]
    hits = lax.eq(x, lax.broadcast_in_dim(out, x.shape, kept))
    weights = lax.convert_element_type(hits, ct.dtype)
    share = lax.div(ct, lax.reduce_sum(weights, axes))
    return [lax.mul(lax.broadcast_in_dim(share, x.shape, kept), weights)]


VJP_RULES.register(lax.reduce_max_p, _chooser_vjp)
VJP_RULES.register(lax.reduce_min_p, _chooser_vjp)


# --- products ---
@VJP_RULES.register(lax.reduce_prod_p)
def _reduce_prod_vjp(ct, res, *, axes):
    # x̄_i = ȳ ∏_{j≠i} x_j, with the reduced axes merged into one (placed last) and split back
    (x,) = res.inputs
    if not axes:
        return [ct]
    kept = [d for d in range(x.ndim) if d not in axes]
    merged = merge_axes(x, kept, axes)
    others = _product_of_others(merged, merged.ndim - 1)
    t_merged = lax.mul(lax.broadcast_in_dim(ct, merged.shape, tuple(range(len(kept)))), others)
    order = (*kept, *sorted(axes))  # the merged layout; undo the merge, then the move
    t_moved = lax.reshape(t_merged, [x.shape[d] for d in order])
    return [lax.transpose(t_moved, tuple(np.argsort(order)))]


# --- cumulative reductions: backwards through the parallel prefix scan ---
def _mul_weights(a, b):
    # z = a b: ∂z/∂a = b, ∂z/∂b = a
    return lax.mul(a, b), b, a


def _extremum_weights(compare):
    # z = max(a, b): the winner's weight is 1, the loser's 0; a tie weighs 1/2 each
    def weights(a, b):
        a_wins, b_wins = compare(a, b), compare(b, a)
        ones, zeros, halves = (lax.full_like(a, v) for v in (1, 0, 0.5))
        w_a = lax.select(a_wins, ones, lax.select(b_wins, zeros, halves))
        w_b = lax.select(b_wins, ones, lax.select(a_wins, zeros, halves))
        return lax.select(a_wins, a, b), w_a, w_b

    return weights


def _scan_vjp(weights, cumulative, x, ct, axis):
    """x̄ for y = the prefix scan of x along `axis`, walking `lax.associative_scan`'s recursion
    backwards. Forwards: the pairs p_j = x_2j ⊕ x_2j+1 are scanned (recursively) into the odd
    positions y_2j+1, then each later even position is y_2j = y_2j-1 ⊕ x_2j, and y_0 = x_0.
    Backwards: ȳ_2j reaches y_2j-1 and x_2j through the weights, the odd positions pass their
    cotangent back through the half-length scan to the pairs, and each pair to its two elements.
    `weights(a, b)` returns (a ⊕ b, ∂/∂a, ∂/∂b); `cumulative` is the scan primitive itself.
    """
    n = x.shape[axis]
    if n < 2:
        return ct

    def take(v, start, stop=None, step=1):
        return lax.slice_in_dim(v, start, stop, step, axis)

    pairs, w_first, w_second = weights(take(x, 0, n - 1, 2), take(x, 1, None, 2))
    odd = cumulative(pairs)  # y_1, y_3, ...
    _, w_left, w_right = weights(take(odd, 0, (n - 1) // 2), take(x, 2, None, 2))
    ct_even, ct_odd = take(ct, 0, None, 2), take(ct, 1, None, 2)
    ct_later = take(ct_even, 1)  # the cotangents of y_2, y_4, ...
    ct_odd = lax.add(ct_odd, _pad_end(lax.mul(w_left, ct_later), n // 2, axis))
    ct_pairs = _scan_vjp(weights, cumulative, pairs, ct_odd, axis)
    from_pairs = _pad_end(lax.mul(w_first, ct_pairs), (n + 1) // 2, axis)
    from_evens = lax.concatenate([take(ct_even, 0, 1), lax.mul(w_right, ct_later)], axis)
    return _interleave(lax.add(from_pairs, from_evens), lax.mul(w_second, ct_pairs), axis)


def _pad_end(v, size, axis):
    """v padded with zeros at the end of `axis` to length `size`."""
    config = [(0, 0, 0)] * v.ndim
    config[axis] = (0, size - v.shape[axis], 0)
    return lax.pad(v, const_like(v, 0), config)


def _interleave(even, odd, axis):
    """The array whose even positions along `axis` are `even` and odd positions `odd`."""
    n = even.shape[axis] + odd.shape[axis]
    even_config, odd_config = [(0, 0, 0)] * even.ndim, [(0, 0, 0)] * odd.ndim
    even_config[axis] = (0, n - 2 * even.shape[axis] + 1, 1)
    odd_config[axis] = (1, n - 2 * odd.shape[axis], 1)
    zero = const_like(even, 0)
    return lax.add(lax.pad(even, zero, even_config), lax.pad(odd, zero, odd_config))


def _cumulative_vjp(primitive, weights):
    # x̄ = the prefix scan's VJP at x applied to ȳ (on the reversed axis for reverse=True)
    def rule(ct, res, *, axis, reverse):
        (x,) = res.inputs
        if reverse:
            x, ct = lax.rev(x, (axis,)), lax.rev(ct, (axis,))
        cumulative = lambda v: primitive.bind(v, axis=axis, reverse=False)
        t_x = _scan_vjp(weights, cumulative, x, ct, axis)
        return [lax.rev(t_x, (axis,)) if reverse else t_x]

    return rule


VJP_RULES.register(lax.cumprod_p, _cumulative_vjp(lax.cumprod_p, _mul_weights))
VJP_RULES.register(lax.cummax_p, _cumulative_vjp(lax.cummax_p, _extremum_weights(lax.gt)))
VJP_RULES.register(lax.cummin_p, _cumulative_vjp(lax.cummin_p, _extremum_weights(lax.lt)))
VJP_RULES.register(lax.cumlogsumexp_p, _cumulative_vjp(lax.cumlogsumexp_p, logaddexp_weights))
