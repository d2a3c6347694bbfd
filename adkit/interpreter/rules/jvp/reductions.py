"""JVP rules for reductions over axes and cumulative (prefix) reductions.

`reduce_sum` and `cumsum` are linear. The extrema spread the tangent evenly over tied maxima
(JAX's convention). `reduce_prod` uses the products of all the other elements, computed
without division so zeros in the input are handled. The other cumulative reductions are
differentiated the way JAX does it, as a parallel prefix scan of (value, tangent) pairs combined
with the JVP of the binary operation, so ties and infinities follow JAX's conventions.

The generic `reduce` primitive is differentiated as a pairwise tree of `jvp(computation)` over
(value, tangent) pairs, with the identity and zero as padding (see `monoid_jvp`, which the
generic `reduce_window` reuses).
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import JVP_RULES
from ..builders import const_like, linear, zero_tangent

# --- linear and constant reductions ---
JVP_RULES.register(lax.reduce_sum_p, linear(lax.reduce_sum_p))  # d Σx = Σ dx
JVP_RULES.register(lax.cumsum_p, linear(lax.cumsum_p))  # d cumsum(x) = cumsum(dx)
for _p in (lax.reduce_and_p, lax.reduce_or_p, lax.reduce_xor_p, lax.argmax_p, lax.argmin_p):
    JVP_RULES.register(_p, zero_tangent(_p))  # boolean results and indices: zero tangent


# --- extrema ---
def _chooser_jvp(primitive):
    # d max(x) = mean of dx over the positions where x attains the max (ties share equally)
    def rule(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        out = primitive.bind(x, axes=axes)
        kept = [d for d in range(x.ndim) if d not in axes]
        hits = lax.eq(x, lax.broadcast_in_dim(out, x.shape, kept))
        weights = lax.convert_element_type(hits, t.dtype)
        count = lax.reduce_sum(weights, axes)
        return out, lax.div(lax.reduce_sum(lax.mul(t, weights), axes), count)

    return rule


JVP_RULES.register(lax.reduce_max_p, _chooser_jvp(lax.reduce_max_p))
JVP_RULES.register(lax.reduce_min_p, _chooser_jvp(lax.reduce_min_p))


# --- products ---
def _shift(x, axis, step):
    """x moved `step` (±1) places along `axis`, the vacated place filled with 1."""
    config = [(0, 0, 0)] * x.ndim
    config[axis] = (1, -1, 0) if step > 0 else (-1, 1, 0)
    return lax.pad(x, const_like(x, 1), config)


def _product_of_others(x, axis):
    """∏_{j≠i} x_j along `axis`: (product before i) * (product after i), exact with zeros."""
    before = _shift(lax.cumprod(x, axis), axis, 1)
    after = _shift(lax.cumprod(x, axis, reverse=True), axis, -1)
    return lax.mul(before, after)


@JVP_RULES.register(lax.reduce_prod_p)
def _reduce_prod_jvp(primals, tangents, *, axes):
    # d ∏x = Σ_i dx_i ∏_{j≠i} x_j   (no division by x, so zeros in x are fine)
    (x,), (t,) = primals, tangents
    out = lax.reduce_prod(x, axes)
    if not axes:
        return out, t
    if len(axes) > 1:  # merge the reduced axes into one, placed last
        kept = [d for d in range(x.ndim) if d not in axes]
        x, t = merge_axes(x, kept, axes), merge_axes(t, kept, axes)
        axes = (len(kept),)
    others = _product_of_others(x, axes[0])
    return out, lax.reduce_sum(lax.mul(t, others), axes)


def merge_axes(v, kept, axes):
    """v with the `axes` moved last and merged into one."""
    moved = lax.transpose(v, (*kept, *sorted(axes)))
    size = int(np.prod([v.shape[d] for d in axes]))
    return lax.reshape(moved, (*moved.shape[: len(kept)], size))


# --- cumulative reductions: a prefix scan of (value, tangent) pairs ---
def _mul_pair(a, b):
    # d(x y) = dx y + x dy
    (x, dx), (y, dy) = a, b
    return lax.mul(x, y), lax.add(lax.mul(dx, y), lax.mul(x, dy))


def _extremum_pair(compare):
    # d max(x, y) = dx where x wins, dy where y wins, (dx + dy) / 2 on a tie (JAX's max rule)
    def combine(a, b):
        (x, dx), (y, dy) = a, b
        x_wins, y_wins = compare(x, y), compare(y, x)
        out = lax.select(x_wins, x, y)
        tie = lax.mul(lax.add(dx, dy), const_like(dx, 0.5))
        return out, lax.select(x_wins, dx, lax.select(y_wins, dy, tie))

    return combine


def _finite_or_zero(x):
    """+inf replaced by 0 (so inf - inf does not poison the weights below, as in JAX)."""
    return lax.select(lax.eq(x, const_like(x, np.inf)), lax.full_like(x, 0), x)


def logaddexp_weights(a, b):
    """z = log(eᵃ + eᵇ) with its partials ∂z/∂a = e^(a - z) and ∂z/∂b = e^(b - z); +inf counts
    as 0 in the weights, so inf - inf gives e⁰ = 1 instead of NaN (as in JAX)."""
    delta = lax.sub(a, b)
    stable = lax.add(lax.max(a, b), lax.log1p(lax.exp(lax.neg(lax.abs(delta)))))
    z = lax.select(lax.ne(delta, delta), lax.add(a, b), stable)  # NaN delta: equal infinities
    zf = _finite_or_zero(z)
    return z, lax.exp(lax.sub(_finite_or_zero(a), zf)), lax.exp(lax.sub(_finite_or_zero(b), zf))


def _logaddexp_pair(a, b):
    # z = log(e^x + e^y):  dz = e^(x - z) dx + e^(y - z) dy
    (x, dx), (y, dy) = a, b
    z, wx, wy = logaddexp_weights(x, y)
    return z, lax.add(lax.mul(dx, wx), lax.mul(dy, wy))


def _cumulative_jvp(primitive, combine):
    # d scan(⊕)(x) = tangent part of scan(jvp ⊕)((x, dx)), the parallel prefix scan JAX uses
    def rule(primals, tangents, *, axis, reverse):
        (x,), (t,) = primals, tangents
        out = primitive.bind(x, axis=axis, reverse=reverse)
        _, tangent = lax.associative_scan(combine, (x, t), reverse=reverse, axis=axis)
        return out, tangent

    return rule


JVP_RULES.register(lax.cumprod_p, _cumulative_jvp(lax.cumprod_p, _mul_pair))
JVP_RULES.register(lax.cummax_p, _cumulative_jvp(lax.cummax_p, _extremum_pair(lax.gt)))
JVP_RULES.register(lax.cummin_p, _cumulative_jvp(lax.cummin_p, _extremum_pair(lax.lt)))
JVP_RULES.register(lax.cumlogsumexp_p, _cumulative_jvp(lax.cumlogsumexp_p, _logaddexp_pair))
