"""Test-session set-up: float64 on, so float64 cases are real float64.

Cases that exercise float32 build float32 inputs explicitly (`make_args(np.float32)`); the
`default_precision` fixture runs a test with JAX's default configuration (x64 off) where the
behaviour users see by default matters.
"""

import gc
import os

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


def _resident_bytes() -> int:
    """This process's resident memory now (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drops JAX's trace and compilation caches after a test module once the process holds
    more than 4 GiB.

    A pytest-xdist worker runs thousands of tests in one process; kept, the caches of every
    program compiled so far grew one worker past 18 GiB and slowed the whole suite to a crawl
    in memory pressure. Below the threshold the caches stay: modules running the same corpus
    programs eagerly share their compiled operations. `ADKIT_TEST_CACHE_LIMIT` (bytes) moves the
    threshold (0: drop them after every module).
    """
    yield
    if not jax.config.jax_enable_x64:  # a module switched float64 off for the modules after it
        jax.config.update("jax_enable_x64", True)
        pytest.fail(
            "a test of this module left jax_enable_x64 off; use the default_precision fixture"
        )
    if _resident_bytes() > float(os.environ.get("ADKIT_TEST_CACHE_LIMIT", 4 * 2**30)):
        jax.clear_caches()
        gc.collect()
