"""VJP rules (tape path of reverse mode): the fast Fourier transform."""

from __future__ import annotations

from jax import lax

from ..builders import from_transpose

# every FFT variant is linear in its operand, so its VJP is its transpose: the same transform
# for FFT and IFFT (the DFT matrix is symmetric), and the padded FFT / weighted RFFT pairing
# for RFFT / IRFFT (see rules/transpose/linalg.py)
from_transpose(lax.fft_p)
