"""Jet rules for the FFT: linear, so fft(x)ₖ = fft(xₖ)."""

from __future__ import annotations

from jax import lax

from ..._registry import JET_RULES
from ._builders import linear

JET_RULES.register(lax.fft_p, linear(lax.fft_p))
