"""Transpose rules for windowed linear maps: `reduce_window_sum` and convolution.

Per spatial axis, with the input padded and dilated into P (P[lo + j·d] = x[j]), a windowed
sum reads y[o] = Σ_k P[o·s + k·r] w[k] (stride s, window dilation r, window weights w; all
ones for `reduce_window_sum`). Its transpose sends c[o] to every P[o·s + k·r] with weight w[k]:
that is again a windowed sum, over c dilated by s (its stride becomes a dilation), with the
window reversed, padded by (K-1)·r on the low side, and read at the positions lo + j·d
(the input dilation becomes a stride). For a convolution the kernel's input and output features
swap. The transpose in the kernel is the correlation of P with c: a convolution whose window
is c (dilated by s) striding by r over P, contracting over the batch.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import TRANSPOSE_RULES
from ..._zeros import is_undefined
from ._util import aval_of, materialize


# --- reduce_window_sum ---
@TRANSPOSE_RULES.register(lax.reduce_window_sum_p)
def _reduce_window_sum_transpose(
    ct, x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation
):
    # c -> windowed sums of c dilated by s, low-padded by (K-1)·r, window dilation r (the
    # all-ones window is its own reverse), then cropped to the padding and strided by d
    ct = materialize(ct)
    shape = x.aval.shape
    padded_sizes = [
        (n - 1) * d + 1 + lo + hi
        for n, d, (lo, hi) in zip(shape, base_dilation, padding, strict=True)
    ]
    back_padding = []
    for size, out, k, s, r in zip(
        padded_sizes, ct.shape, window_dimensions, window_strides, window_dilation, strict=True
    ):
        back_padding.append(((k - 1) * r, size - (out - 1) * s - 1))
    spread = lax.reduce_window_sum_p.bind(
        ct,
        window_dimensions=tuple(window_dimensions),
        window_strides=(1,) * ct.ndim,
        padding=tuple(back_padding),
        base_dilation=tuple(window_strides),
        window_dilation=tuple(window_dilation),
    )
    # undo pad(x, lo, hi, interior d - 1): crop, then keep every d-th element
    cropped = lax.pad(spread, np.zeros((), ct.dtype), [(-lo, -hi, 0) for lo, hi in padding])
    return [lax.slice(cropped, [0] * ct.ndim, cropped.shape, tuple(base_dilation))]


# --- conv_general_dilated ---
@TRANSPOSE_RULES.register(lax.conv_general_dilated_p)
def _conv_transpose(ct, lhs, rhs, **params):
    # conv(t, w) and conv(x, t) are linear in t; exactly one operand is linear
    ct = materialize(ct)
    if is_undefined(lhs):
        return [_conv_lhs_transpose(ct, lhs.aval, rhs, **params), None]
    return [None, _conv_rhs_transpose(ct, lhs, rhs.aval, **params)]


def _canonical(x, spec):
    """x with its axes in the order (batch or out-feature, feature or in-feature, spatial...)."""
    return lax.transpose(x, tuple(spec))


def _from_canonical(x, spec):
    """Inverse of `_canonical`: puts canonical axes back where `spec` says they live."""
    return lax.transpose(x, tuple(np.argsort(spec)))


def _conv_lhs_transpose(ct, lhs_aval, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                         dimension_numbers, feature_group_count, batch_group_count, precision,
                         **unused):  # fmt: skip
    # the cotangent of the input: c dilated by the strides, convolved with the kernel reversed
    # in space and with input/output features swapped per group, striding by the input
    # dilation. Batch groups are feature groups of this convolution whose per-group outputs
    # are then moved back into the batch.
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    if 0 in ct.shape or 0 in lhs_aval.shape:  # an empty output or input: nothing flows back
        return lax.full(lhs_aval.shape, 0, lhs_aval.dtype)
    groups = max(feature_group_count, batch_group_count)
    kernel = _canonical(_cast(rhs, ct.dtype), rhs_spec)  # (O, I, K...), in the cotangent's dtype
    n_out, n_in, *k_sizes = kernel.shape
    kernel = lax.rev(kernel, tuple(range(2, kernel.ndim)))
    per_group = n_out // groups  # (O, I) -> (G, O/G, I) -> (G, I, O/G) -> (G·I, O/G)
    kernel = lax.reshape(kernel, (groups, per_group, n_in, *k_sizes))
    kernel = lax.transpose(kernel, (0, 2, 1, *range(3, kernel.ndim)))
    kernel = lax.reshape(kernel, (groups * n_in, per_group, *k_sizes))

    in_sizes = [lhs_aval.shape[d] for d in lhs_spec[2:]]
    out_sizes = [ct.shape[d] for d in out_spec[2:]]
    sizes = _axes(k_sizes, in_sizes, out_sizes, padding, window_strides, lhs_dilation, rhs_dilation)
    # c dilated by s is read back at lo + j·d through the reversed window (reach (K-1)·r)
    back_padding = [
        ((k - 1) * r - lo, (n - 1) * d + lo - (y - 1) * s) for k, n, y, lo, s, d, r in sizes
    ]
    spatial = tuple(range(2, 2 + len(k_sizes)))
    # dilate and pad (or crop, where negative) c first: XLA's convolution takes no negative
    # padding beyond the input's size
    ct = _dilate_and_pad(ct, out_spec, back_padding, window_strides)
    result = lax.conv_general_dilated(
        ct,
        kernel,
        window_strides=tuple(lhs_dilation),
        padding=[(0, 0)] * len(k_sizes),
        rhs_dilation=tuple(rhs_dilation),
        dimension_numbers=lax.ConvDimensionNumbers(out_spec, (0, 1, *spatial), (0, 1, *spatial)),
        feature_group_count=groups,
        precision=precision,
    )  # canonical (N, C, spatial...)
    if batch_group_count > 1:  # (N/B, B·I) -> (B, N/B, I) -> (N, I)
        n_batch = result.shape[0]
        result = lax.reshape(result, (n_batch, groups, n_in, *result.shape[2:]))
        result = lax.transpose(result, (1, 0, *range(2, result.ndim)))
        result = lax.reshape(result, (groups * n_batch, n_in, *result.shape[3:]))
    return _cast(_from_canonical(result, lhs_spec), lhs_aval.dtype)


def _conv_rhs_transpose(ct, lhs, rhs_aval, *, window_strides, padding, lhs_dilation, rhs_dilation,
                         dimension_numbers, feature_group_count, batch_group_count, precision,
                         **unused):  # fmt: skip
    # the cotangent of the kernel: w̄[o, i, k] = Σ_{n, y} P[n, i, y·s + k·r] c[n, o, y], a
    # convolution of the padded input (batch and features swapped) with c as the kernel
    # (dilated by s, striding by r). Feature groups become batch groups and vice versa.
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    if 0 in ct.shape or 0 in aval_of(lhs).shape:  # an empty output or input: nothing flows back
        return lax.full(rhs_aval.shape, 0, rhs_aval.dtype)
    lhs = _cast(lhs, ct.dtype)  # a bf16 input with a float32 output: work in float32
    k_sizes = [rhs_aval.shape[d] for d in rhs_spec[2:]]
    in_sizes = [aval_of(lhs).shape[d] for d in lhs_spec[2:]]
    out_sizes = [ct.shape[d] for d in out_spec[2:]]
    sizes = _axes(k_sizes, in_sizes, out_sizes, padding, window_strides, lhs_dilation, rhs_dilation)
    # exactly K outputs, r apart, of a window of Y taps s apart over P (input dilated by d)
    back_padding = [
        (lo, (k - 1) * r + (y - 1) * s - (n - 1) * d - lo) for k, n, y, lo, s, d, r in sizes
    ]
    spatial = tuple(range(2, 2 + len(k_sizes)))
    lhs = _dilate_and_pad(lhs, lhs_spec, back_padding, lhs_dilation)
    result = lax.conv_general_dilated(
        lhs,
        ct,
        window_strides=tuple(rhs_dilation),
        padding=[(0, 0)] * len(k_sizes),
        rhs_dilation=tuple(window_strides),
        dimension_numbers=lax.ConvDimensionNumbers(
            _swap(lhs_spec), _swap(out_spec), (1, 0, *spatial)
        ),
        feature_group_count=batch_group_count,
        batch_group_count=feature_group_count,
        precision=precision,
    )  # canonical (O, I, K...) thanks to the swapped output spec
    return _cast(_from_canonical(result, rhs_spec), rhs_aval.dtype)


def _axes(k_sizes, in_sizes, out_sizes, padding, strides, lhs_dilation, rhs_dilation):
    """Per spatial axis: (kernel size, input size, output size, low padding, stride, input
    dilation, kernel dilation)."""
    lows = [lo for lo, _ in padding]
    columns = (k_sizes, in_sizes, out_sizes, lows, strides, lhs_dilation, rhs_dilation)
    return list(zip(*columns, strict=True))


def _dilate_and_pad(x, spec, padding, dilation):
    """x with its spatial axes (spec[2:]) dilated and padded as a convolution would: interior
    zeros between elements, then `padding` (negative: cropped)."""
    config = [(0, 0, 0)] * x.ndim
    for axis, (lo, hi), d in zip(spec[2:], padding, dilation, strict=True):
        config[axis] = (lo, hi, d - 1)
    return lax.pad(x, lax.full((), 0, x.dtype), config)


def _swap(spec):
    """A dimension spec with its first two entries (batch and feature) exchanged."""
    return (spec[1], spec[0], *spec[2:])


def _cast(x, dtype):
    return x if x.dtype == dtype else lax.convert_element_type(x, dtype)
