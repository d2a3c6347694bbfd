"""JVP rules for windowed operations: convolution and the reduce_window family.

Convolution is bilinear in (input, kernel); `reduce_window_sum` is linear. A windowed max or min
passes on the tangent of the element each window selects: the windows are laid out as one
strided slice of the padded input per window offset, and the first offset holding the
window's extremum supplies the tangent, as JAX's `select_and_gather_add` does on CPU. Slices,
pads and selects can be differentiated again; the price is one slice and one select per window
offset, which is small for pooling windows. The generic `reduce_window` becomes
`reduce_window(jvp(computation))` over (value, tangent) operands.
"""

from __future__ import annotations

import itertools

import numpy as np
from jax import lax

from ..._registry import JVP_RULES
from ..._zeros import Zero, is_zero
from ..builders import add_tangents, linear


# --- convolution ---
@JVP_RULES.register(lax.conv_general_dilated_p)
def _conv_jvp(primals, tangents, **params):
    # bilinear: d conv(x, w) = conv(dx, w) + conv(x, dw)
    (x, w), (tx, tw) = primals, tangents
    conv = lambda a, b: lax.conv_general_dilated_p.bind(a, b, **params)
    out = conv(x, w)
    by_input = Zero.like(out) if is_zero(tx) else conv(tx, w)
    by_kernel = Zero.like(out) if is_zero(tw) else conv(x, tw)
    return out, add_tangents(by_input, by_kernel)


# --- windowed sums, maxima and minima ---
JVP_RULES.register(lax.reduce_window_sum_p, linear(lax.reduce_window_sum_p))  # d Σ_w x = Σ_w dx


def _window_views(
    x, fill, *, window_dimensions, window_strides, padding, base_dilation, window_dilation
):
    """One array per window offset (in row-major order) holding, at each output position,
    the element at that offset of its window; padding and base-dilation holes read `fill`."""
    config = [(lo, hi, d - 1) for (lo, hi), d in zip(padding, base_dilation, strict=True)]
    padded = lax.pad(x, np.array(fill, x.dtype), config)
    sizes = zip(padded.shape, window_dimensions, window_dilation, window_strides, strict=True)
    out_shape = [(size - (w - 1) * wd - 1) // s + 1 for size, w, wd, s in sizes]
    views = []
    for offset in itertools.product(*(range(w) for w in window_dimensions)):
        start = [o * wd for o, wd in zip(offset, window_dilation, strict=True)]
        limit = [
            b + (n - 1) * s + 1 for b, n, s in zip(start, out_shape, window_strides, strict=True)
        ]
        views.append(lax.slice(padded, start, limit, window_strides))
    return views


def _window_chooser_jvp(primitive, identity):
    # d max_w x = dx at the first position of the window where x equals the max
    def rule(primals, tangents, **window):
        (x,), (t,) = primals, tangents
        out = primitive.bind(x, **window)
        values = _window_views(x, identity, **window)
        slopes = _window_views(t, 0, **window)
        tangent = lax.full_like(out, 0, t.dtype)
        # walk the offsets backwards, so the first offset holding the extremum has the last word
        for value, slope in zip(values[::-1], slopes[::-1], strict=True):
            tangent = lax.select(lax.eq(value, out), slope, tangent)
        return out, tangent

    return rule


# the padding value is the identity: -inf for max, +inf for min (tangents exist only for floats)
JVP_RULES.register(lax.reduce_window_max_p, _window_chooser_jvp(lax.reduce_window_max_p, -np.inf))
JVP_RULES.register(lax.reduce_window_min_p, _window_chooser_jvp(lax.reduce_window_min_p, np.inf))
