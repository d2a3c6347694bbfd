"""Self-checks of the program corpus in tests/corpus.py."""

import os
import sys

import jax
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import corpus

DTYPES = (np.float32, np.float64)

REQUIRED_PRIMITIVES = (
    "jit",
    "cond",
    "scan",
    "while",
    "remat2",
    "custom_jvp_call",
    "custom_vjp_call",
    "custom_linear_solve",
    "gather",
    "scatter-add",
    "dot_general",
    "conv_general_dilated",
    "reduce_window_max",
    "cumsum",
    "sort",
    "top_k",
    "cholesky",
    "triangular_solve",
    "eigh",
    "svd",
    "select_n",
    "iota",
    "random_bits",
)


def test_names_unique_and_families_covered():
    names = [p.name for p in corpus.CORPUS]
    assert len(names) == len(set(names)), "duplicate program names"
    assert all(p.family in corpus.FAMILIES for p in corpus.CORPUS)
    missing = [f for f in corpus.FAMILIES if not any(p.family == f for p in corpus.CORPUS)]
    assert not missing, f"families without programs: {missing}"
    assert len(corpus.CORPUS) >= 60
    assert corpus.by_name("scan_forward").family == "control_flow"
    with pytest.raises(KeyError):
        corpus.by_name("no_such_program")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("prog", corpus.CORPUS, ids=lambda p: p.name)
def test_program_inputs_and_output_types(prog, dtype):
    # Values (finite, in the domain) are checked where the programs run: test_eval.py.
    args = prog.make_args(np.dtype(dtype))
    again = prog.make_args(np.dtype(dtype))
    for a, b in zip(jax.tree.leaves(args), jax.tree.leaves(again), strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg="make_args is not deterministic")
            if np.issubdtype(a.dtype, np.floating):
                assert a.dtype == dtype, f"float input of dtype {a.dtype}, wanted {np.dtype(dtype)}"
    out_leaves = jax.tree.leaves(jax.eval_shape(prog.fn, *args))
    assert out_leaves, "program returns no arrays"
    complex_dtype = np.result_type(dtype, np.complex64)
    for i, leaf in enumerate(out_leaves):
        if np.issubdtype(leaf.dtype, np.inexact):
            assert leaf.dtype in (np.dtype(dtype), complex_dtype), f"leaf {i}: {leaf.dtype}"
        elif prog.differentiable:
            raise AssertionError(f"differentiable program has a {leaf.dtype} output (leaf {i})")


def test_census_has_required_primitives():
    found = corpus.census(np.float32)
    missing = [p for p in REQUIRED_PRIMITIVES if p not in found]
    assert not missing, f"primitives missing from the census: {missing}"
    names = {p.name for p in corpus.CORPUS}
    assert all(users <= names for users in found.values())
    # Primitives that only occur inside sub-jaxprs must still be found (recursion works).
    assert "cond" in found and "scan_with_cond_inside" in found["cond"]
    assert "explicit_custom_linear_solve" in found["triangular_solve"]


def test_primitives_in_recurses_into_nested_params():
    def f(x):
        def body(c, _):
            return jax.lax.cond(c.sum() > 0, jax.numpy.sin, jax.numpy.cos, c), None

        return jax.lax.scan(body, x, None, length=2)[0]

    prims = corpus.primitives_in(jax.make_jaxpr(f)(np.ones(3, np.float32)))
    assert {"scan", "cond", "sin", "cos"} <= prims
