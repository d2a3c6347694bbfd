"""JVP rule for the fast Fourier transform.

Every FFT variant (FFT, IFFT, RFFT, IRFFT) is a linear map of its operand, so its tangent is
the same transform applied to the tangent.
"""

from __future__ import annotations

from jax import lax

from ..._registry import JVP_RULES
from ..builders import linear

# d fft(x) = fft(dx), with the same fft_type and fft_lengths
JVP_RULES.register(lax.fft_p, linear(lax.fft_p))
