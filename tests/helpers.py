"""Shared assertions for adkit's tests."""

import jax
import jax.numpy as jnp
import numpy as np


def compiled(fn, *trees):
    """`fn(*trees)` as ONE compiled program, its float leaves traced and every other leaf
    (integers, keys, float0 tangents) a constant, as it is eagerly (a loop bound stays known).

    Eagerly, JAX compiles every primitive on its own, about 50 ms each on CPU: most of the time
    of a test that differentiates a whole program. The rules run the same either way; eager
    evaluation has tests of its own (test_eval, and the define-by-run engine's)."""
    leaves, tree = jax.tree.flatten(trees)
    traced = [jnp.issubdtype(getattr(leaf, "dtype", type(leaf)), jnp.inexact) for leaf in leaves]

    def run(*floats):
        chosen = iter(floats)
        rebuilt = [next(chosen) if t else leaf for leaf, t in zip(leaves, traced, strict=True)]
        return fn(*jax.tree.unflatten(tree, rebuilt))

    return jax.jit(run)(*(leaf for leaf, t in zip(leaves, traced, strict=True) if t))


def compiled_vjp(vjp, fn, args, ct, **options):
    """`(out, vjp of fn at args applied to ct)`, as one compiled program (see `compiled`)."""

    def both(args, ct):
        out, pull = vjp(fn, *args, **options)
        return out, pull(ct)

    return compiled(both, args, ct)


def assert_trees_identical(actual, expected):
    """Same tree structure, and every leaf equal bit for bit (NaNs in the same places)."""
    actual_leaves, actual_tree = jax.tree.flatten(actual)
    expected_leaves, expected_tree = jax.tree.flatten(expected)
    assert actual_tree == expected_tree, f"tree mismatch: {actual_tree} vs {expected_tree}"
    for k, (a, e) in enumerate(zip(actual_leaves, expected_leaves, strict=True)):
        a, e = _plain(a), _plain(e)
        assert a.dtype == e.dtype, f"leaf {k}: dtype {a.dtype} != {e.dtype}"
        assert a.shape == e.shape, f"leaf {k}: shape {a.shape} != {e.shape}"
        np.testing.assert_array_equal(a, e, err_msg=f"leaf {k} differs", strict=True)


def _plain(x):
    """Key arrays compare through their raw key data."""
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    return np.asarray(x)


def program_args(program, dtype):
    """A corpus program's inputs as JAX arrays (numpy inputs would make `f(*args)` run numpy)."""
    return jax.tree.map(jax.numpy.asarray, program.make_args(dtype))


def assert_trees_close(actual, expected, rtol):
    """Same structure and dtypes; floats within `rtol` (relative to each leaf's largest
    magnitude), everything else exactly equal."""
    actual_leaves, actual_tree = jax.tree.flatten(actual)
    expected_leaves, expected_tree = jax.tree.flatten(expected)
    assert actual_tree == expected_tree, f"tree mismatch: {actual_tree} vs {expected_tree}"
    for k, (a, e) in enumerate(zip(actual_leaves, expected_leaves, strict=True)):
        a, e = _plain(a), _plain(e)
        assert (a.dtype, a.shape) == (e.dtype, e.shape), (
            f"leaf {k}: {a.dtype}{a.shape} != {e.dtype}{e.shape}"
        )
        if a.dtype.kind in "fc":
            scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
            np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale, err_msg=f"leaf {k}")
        else:
            np.testing.assert_array_equal(a, e, err_msg=f"leaf {k} differs", strict=True)


def load_notebook_hook():
    """The MkDocs hook that executes the notebooks for the docs site (docs/hooks/notebooks.py)."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "docs" / "hooks" / "notebooks.py"
    spec = importlib.util.spec_from_file_location("notebook_hook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
