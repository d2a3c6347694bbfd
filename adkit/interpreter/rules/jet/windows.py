"""Jet rules for convolutions and windowed reductions.

A convolution is bilinear in the input and the kernel: conv(x, w)ₖ = Σᵢ conv(xᵢ, wₖ₋ᵢ), a
Cauchy product. A windowed sum is linear; a windowed maximum or minimum takes the series of the
element chosen by the primals (`piecewise_linear`).
"""

from __future__ import annotations

from jax import lax

from ..._registry import JET_RULES
from ._builders import bilinear, linear, piecewise_linear

JET_RULES.register(lax.conv_general_dilated_p, bilinear(lax.conv_general_dilated_p))
JET_RULES.register(lax.reduce_window_sum_p, linear(lax.reduce_window_sum_p))
for _p in (lax.reduce_window_max_p, lax.reduce_window_min_p):
    JET_RULES.register(_p, piecewise_linear(_p))
