"""Transpose rules for the Fourier transforms.

The transforms are linear in their operand: the complex ones are symmetric matrices (their own
transposes); the real-to-complex and complex-to-real ones are transposed through the pairing
<u, v> = Re Σ u v that adkit uses for complex cotangents.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import TRANSPOSE_RULES
from ._util import materialize


def _fft(x, fft_type, fft_lengths):
    return lax.fft_p.bind(x, fft_type=fft_type, fft_lengths=tuple(fft_lengths))


@TRANSPOSE_RULES.register(lax.fft_p)
def _fft_transpose(ct, x, *, fft_type, fft_lengths):
    ct = materialize(ct)
    kind = lax.FftType(fft_type)
    if kind in (lax.FftType.FFT, lax.FftType.IFFT):
        # the DFT matrix F (and F̄ / N) is symmetric: c -> the same transform of c
        return [_fft(ct, kind, fft_lengths)]
    if kind == lax.FftType.RFFT:
        return [_rfft_transpose(ct, fft_lengths)]
    return [_irfft_transpose(ct, fft_lengths)]


def _rfft_transpose(ct, fft_lengths):
    # rfft(t) = the first n//2+1 rows of F t for real t; with the pairing Re Σ u v the transpose
    # is c -> Re(Fᵀ [c; 0]) = Re(fft(c zero-padded back to n along the last axis))
    n = fft_lengths[-1]
    config = [(0, 0, 0)] * ct.ndim
    config[-1] = (0, n - ct.shape[-1], 0)
    padded = lax.pad(ct, np.zeros((), ct.dtype), config)
    return lax.real(_fft(padded, lax.FftType.FFT, fft_lengths))


def _irfft_transpose(ct, fft_lengths):
    # irfft(z)[t] = (1/N) Σ_k w_k Re(z_k e^{+2πi k·t/n}) (times the inverse DFT over the other
    # axes), w_k = 2 except w = 1 at k = 0 and at k = n/2 for even n (those entries appear once
    # in the Hermitian spectrum). With the pairing Re Σ u v:
    #   c -> w · conj(rfft(c)) / N,   N = prod(fft_lengths)
    n = fft_lengths[-1]
    spectrum = lax.conj(_fft(ct, lax.FftType.RFFT, fft_lengths))
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    weights = weights / float(np.prod(fft_lengths))
    weights = np.broadcast_to(weights.astype(spectrum.dtype), spectrum.shape)
    return lax.mul(spectrum, weights)
