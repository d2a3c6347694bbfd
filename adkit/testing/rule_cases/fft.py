"""Rule cases for the fast Fourier transform: FFT, IFFT, RFFT and IRFFT, in one and more axes.

Complex results are returned as their real and imaginary parts.
"""

import jax.numpy as jnp
from jax import lax

from . import RuleCase, normal


def _parts(fn):
    def program(*args):
        z = fn(*args)
        return jnp.real(z), jnp.imag(z)

    return program


def _complex(fn):
    """fn applied to the complex array x + i y (the FFTs whose input is complex)."""
    return lambda x, y: fn(lax.complex(x, y))


CASES = [
    RuleCase("fft", _parts(jnp.fft.fft), normal((8,)), name="fft-real-input"),
    RuleCase("fft", _parts(_complex(jnp.fft.fft)), normal((5,), (5,)), name="fft"),
    RuleCase(
        "fft",
        _parts(_complex(lambda z: jnp.fft.fft(z, axis=0))),
        normal((4, 3), (4, 3)),
        name="fft-axis",
    ),
    RuleCase("fft", _parts(_complex(jnp.fft.fft2)), normal((3, 4), (3, 4)), name="fft2"),
    RuleCase("fft", _parts(_complex(jnp.fft.ifft)), normal((6,), (6,)), name="ifft"),
    RuleCase("fft", _parts(_complex(jnp.fft.ifftn)), normal((2, 3, 4), (2, 3, 4)), name="ifftn"),
    RuleCase("fft", _parts(jnp.fft.rfft), normal((8,)), name="rfft"),
    RuleCase("fft", _parts(jnp.fft.rfft2), normal((2, 3, 4)), name="rfft2"),
    RuleCase("fft", _complex(jnp.fft.irfft), normal((5,), (5,)), name="irfft"),
    RuleCase(
        "fft", _complex(lambda z: jnp.fft.irfft(z, n=9)), normal((5,), (5,)), name="irfft-odd"
    ),
    RuleCase("fft", _complex(jnp.fft.irfft2), normal((3, 3), (3, 3)), name="irfft2"),
    RuleCase(
        "fft",
        lambda x: jnp.fft.irfft(jnp.fft.rfft(x) * jnp.fft.rfft(x)),
        normal((6,)),
        name="convolution",
    ),
    RuleCase("fft", lambda x: jnp.abs(jnp.fft.fft(x)) ** 2, normal((4,)), name="power"),
]
