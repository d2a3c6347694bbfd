"""Sparsity of windowed primitives: convolutions and window reductions.

Both read, for each output position, a window of input positions. The window's element indices
come from `lax.conv_general_dilated_patches` applied to the input's element indices (stored
plus one, so that the zero of the padding reads as "no element"), which handles strides,
padding and dilations exactly as the primitive does.

conv: out[n, o, s] = Σ_{c, w} lhs[n, c, s·stride + w] · rhs[o, c, w], so out[n, o, s] depends on
the patch entries (c, w) where the kernel may be nonzero (all of them for an unknown kernel),
and on the kernel entries of its output channel o.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from ..._registry import SPARSITY_RULES
from ._sets import combine, dense, union, with_matrix

_EXACT = 2**24  # float32 holds every integer up to here: the indices ride through a convolution


def patches(ids, window, strides, padding, lhs_dilation, rhs_dilation):
    """Window element indices: (N, C·prod(window), *out_spatial), -1 for padding.

    `ids` is (N, C, *spatial) of element indices. Feature f of the result is channel f // W,
    window offset f % W (W = prod(window)), as `conv_general_dilated_patches` orders them.
    """
    values = jnp.asarray(ids + 1, dtype=jnp.float32)
    out = lax.conv_general_dilated_patches(
        values,
        window,
        strides,
        padding,
        lhs_dilation,
        rhs_dilation,
        precision=lax.Precision.HIGHEST,
    )
    return np.rint(np.asarray(out)).astype(np.int64) - 1


@SPARSITY_RULES.register("conv_general_dilated")
def conv(
    operands,
    out_avals,
    *,
    window_strides,
    padding,
    lhs_dilation,
    rhs_dilation,
    dimension_numbers,
    feature_group_count,
    batch_group_count,
    **_,
):
    lhs, rhs = operands
    out_shape = out_avals[0].shape
    if batch_group_count != 1 or lhs.size >= _EXACT:
        return [dense(operands, out_shape)]
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    x_ids = np.transpose(np.arange(lhs.size).reshape(lhs.shape), lhs_spec)  # (N, C, *S)
    k_ids = np.transpose(np.arange(rhs.size).reshape(rhs.shape), rhs_spec)  # (O, I, *W)
    o_ids = np.transpose(np.arange(int(np.prod(out_shape))).reshape(out_shape), out_spec)
    window = k_ids.shape[2:]
    p = patches(x_ids, window, window_strides, padding, lhs_dilation, rhs_dilation)
    n_out, n_in, w = k_ids.shape[0], k_ids.shape[1], int(np.prod(window, dtype=np.int64))
    group = np.arange(n_out) // (n_out // feature_group_count)
    # kernel entry (o, i, w) multiplies patch feature (group(o)·I + i)·W + w
    feature = (
        (group[:, None] * n_in + np.arange(n_in)[None, :])[..., None] * w + np.arange(w)
    ).reshape(n_out, n_in * w)
    kernel = k_ids.reshape(n_out, n_in * w)
    mask = (
        np.ones(kernel.shape, dtype=bool)
        if not rhs.known
        else np.asarray(rhs.value).reshape(-1)[kernel] != 0
    )
    terms = []
    n_batch, spatial = o_ids.shape[0], o_ids.shape[2:]
    flat_out = o_ids.reshape(n_batch, n_out, -1)
    flat_p = p.reshape(n_batch, p.shape[1], -1)
    if not lhs.independent:  # out[n,o,s] ∋ lhs at patch feature f where kernel[o, ·] may be ≠ 0
        o, k = np.nonzero(mask)
        groups = flat_out[:, o, :]
        members = flat_p[:, feature[o, k], :]
        terms.append(combine(groups, members, o_ids.size, lhs.matrix))
    if not rhs.independent:  # out[n,o,s] ∋ every kernel entry of channel o
        groups = np.broadcast_to(
            flat_out[:, :, None, :], (n_batch, n_out, kernel.shape[1], flat_out.shape[2])
        )
        members = np.broadcast_to(kernel[None, :, :, None], groups.shape)
        terms.append(combine(groups, members, o_ids.size, rhs.matrix))
    del spatial
    return [with_matrix(out_shape, union(*terms))]


def window_reduce(
    operands,
    out_avals,
    *,
    window_dimensions,
    window_strides,
    padding,
    base_dilation,
    window_dilation,
    **_,
):
    # out[s] = ⊕ over the window of x at s: every dimension is a window dimension
    x = operands[0]
    if x.size >= _EXACT:
        return [dense(operands[:1], out_avals[0].shape)]
    ids = np.arange(x.size).reshape((1, 1, *x.shape))
    p = patches(ids, window_dimensions, window_strides, padding, base_dilation, window_dilation)
    size = int(np.prod(out_avals[0].shape, dtype=np.int64))
    groups = np.broadcast_to(np.arange(size).reshape(1, -1), (p.shape[1], size))
    return [
        with_matrix(out_avals[0].shape, combine(groups, p.reshape(p.shape[1], -1), size, x.matrix))
    ]


for _name in ("reduce_window_sum", "reduce_window_max", "reduce_window_min"):
    SPARSITY_RULES.register(_name, window_reduce)
