"""VJP rules (tape path of reverse mode): windows primitives.

Convolution is bilinear in (input, kernel): each operand's VJP is the transpose of the
convolution with the other operand held (`from_transpose(..., multilinear=True)`).
`reduce_window_sum` is linear: its VJP is its transpose. A windowed max or min passes each
window's cotangent to the element the window selected: as in the JVP rule, the windows are laid
out as one strided slice of the padded input per window offset (`_window_views`), and the first
offset holding the window's extremum is the selected one. Each offset's share of ȳ goes back
through its slice and the padding (transposed: padded back into place, then cropped).

The generic `reduce_window` (an arbitrary computation) runs a sub-jaxpr: its rule is with the
tape engine (`reverse/tape/reduce.py`).
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import VJP_RULES
from ..builders import from_transpose
from ..jvp.windows import _window_views

# conv: x̄ = conv of ȳ with the flipped kernel, w̄ = correlation of x with ȳ (see
# rules/transpose/windows.py);  reduce_window_sum: x̄ = windowed sums of ȳ spread back
from_transpose(lax.conv_general_dilated_p, multilinear=True)
from_transpose(lax.reduce_window_sum_p)


def _window_chooser_vjp(identity):
    # x̄ = Σ_k V_kᵀ ([offset k is the first where V_k x = y] ȳ), with V_k x the view of the
    # padded input at window offset k
    def rule(ct, res, **window):
        (x,), (out,) = res.inputs, res.outputs
        views = _window_views(x, identity, **window)
        taken = lax.full_like(out, False, np.bool_)  # windows whose element is already chosen
        shares = []
        for view in views:
            chosen = lax.bitwise_and(lax.eq(view, out), lax.bitwise_not(taken))
            shares.append(lax.select(chosen, ct, lax.full_like(ct, 0)))
            taken = lax.bitwise_or(taken, chosen)
        return [_window_views_transpose(shares, x.shape, **window)]

    return rule


def _window_views_transpose(
    shares, shape, *, window_dimensions, window_strides, padding, base_dilation, window_dilation
):
    """The transpose of `_window_views`: each view's cotangent is padded back into place in
    the padded input (zeros between the strided positions), the offsets summed, and the
    padding and base-dilation holes dropped."""
    padded_shape = [
        (n - 1) * d + 1 + lo + hi
        for n, d, (lo, hi) in zip(shape, base_dilation, padding, strict=True)
    ]
    zero = np.zeros((), shares[0].dtype)
    total = lax.full(padded_shape, 0, shares[0].dtype)
    offsets = np.ndindex(*window_dimensions)  # row-major, the order of `_window_views`
    for offset, share in zip(offsets, shares, strict=True):
        config = []
        for size, o, r, s, m in zip(
            padded_shape, offset, window_dilation, window_strides, share.shape, strict=True
        ):
            last = o * r + (m - 1) * s if m else o * r - 1
            config.append((o * r, size - last - 1, s - 1))
        total = lax.add(total, lax.pad(share, zero, config))
    cropped = lax.pad(total, zero, [(-lo, -hi, 0) for lo, hi in padding])
    return lax.slice(cropped, [0] * len(shape), cropped.shape, tuple(base_dilation))


# the padding value is the identity: -inf for max, +inf for min
VJP_RULES.register(lax.reduce_window_max_p, _window_chooser_vjp(-np.inf))
VJP_RULES.register(lax.reduce_window_min_p, _window_chooser_vjp(np.inf))
