"""Test-session set-up: float64 on, so float64 cases are real float64.

Cases that exercise float32 build float32 inputs explicitly (`make_args(np.float32)`); the
`default_precision` fixture runs a test with JAX's default configuration (x64 off) where the
behaviour users see by default matters.
"""

import jax
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@pytest.fixture(params=DTYPES, ids=lambda d: d.name)
def dtype(request):
    return request.param


@pytest.fixture
def default_precision():
    with jax.enable_x64(False):
        yield
