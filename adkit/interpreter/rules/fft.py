"""JVP rule for the fast Fourier transform.

Every FFT variant (FFT, IFFT, RFFT, IRFFT) is a linear map of its operand, so its tangent is
the same transform applied to the tangent.
"""

from __future__ import annotations

from jax import lax

from ._helpers import linear
from ._table import register_jvp

# d fft(x) = fft(dx), with the same fft_type and fft_lengths
register_jvp(lax.fft_p, linear(lax.fft_p))
