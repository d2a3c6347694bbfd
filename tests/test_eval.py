"""`adkit.eval_jaxpr` reproduces every corpus program exactly, eagerly and under `jax.jit`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from corpus import CORPUS
from helpers import assert_trees_close, assert_trees_identical, program_args

import adkit

PROGRAMS = [pytest.param(p, id=p.name) for p in CORPUS]


def _staged(program, dtype):
    args = program_args(program, dtype)
    closed, out_shape = jax.make_jaxpr(program.fn, return_shape=True)(*args)
    out_tree = jax.tree.structure(out_shape)
    run = lambda *leaves: jax.tree.unflatten(out_tree, adkit.eval_jaxpr(closed, *leaves))
    return args, jax.tree.leaves(args), run


# Library functions wrapped in `jit(inline=True)` (jnp.logaddexp, for one) compile as one unit
# when called eagerly, but tracing inlines them: the jaxpr no longer marks that unit, so an eager
# walk applies their primitives one by one, which may round differently in the last bit.
# Under `jax.jit` both sides are one computation and agree exactly (next test).
INLINED_JIT = {"custom_jvp_functions": "jnp.logaddexp inside a custom_jvp body"}


@pytest.mark.parametrize("program", PROGRAMS)
def test_eager_evaluation_is_exact(program):
    # eagerly every primitive dispatches on its own (slow); float64 here, float32 under jit
    dtype = np.dtype(np.float64)
    args, leaves, run = _staged(program, dtype)
    expected = program.fn(*args)
    for leaf in jax.tree.leaves(expected):
        if jnp.issubdtype(leaf.dtype, jnp.inexact):
            assert jnp.all(jnp.isfinite(leaf)), "corpus inputs must lie in the program's domain"
    if program.name in INLINED_JIT:
        assert_trees_close(run(*leaves), expected, rtol=4 * jnp.finfo(dtype).eps)
    else:
        assert_trees_identical(run(*leaves), expected)


@pytest.mark.parametrize("program", PROGRAMS)
def test_evaluation_under_jit_is_exact(program):
    args, leaves, run = _staged(program, np.dtype(np.float32))
    expected = jax.jit(program.fn)(*args)
    assert_trees_identical(jax.jit(run)(*leaves), expected)


def test_composes_with_vmap():
    def f(x, y):
        return jax.lax.cond(x > 0, lambda: jnp.sin(x) * y, lambda: jnp.cos(x) + y)

    closed = jax.make_jaxpr(f)(1.0, 2.0)
    xs, ys = jnp.linspace(-1.0, 1.0, 5), jnp.arange(5.0)
    batched = jax.vmap(lambda x, y: adkit.eval_jaxpr(closed, x, y)[0])(xs, ys)
    np.testing.assert_array_equal(batched, jax.vmap(f)(xs, ys))


def test_jax_grad_through_the_evaluator_keeps_custom_rules():
    closed = jax.make_jaxpr(lambda x: jnp.sum(jax.nn.relu(x)))(jnp.zeros(3))
    x = jnp.array([-1.0, 0.0, 2.0])
    grad = jax.grad(lambda x: adkit.eval_jaxpr(closed, x)[0])(x)
    np.testing.assert_array_equal(grad, [0.0, 0.0, 1.0])  # relu'(0) = 0 by relu's custom JVP


def test_literals_constants_and_dropped_outputs():
    table = np.array([1.0, 2.0, 3.0])  # closed over: becomes a jaxpr const

    def f(x):
        _, rest = jnp.split(x, [1])  # the first piece is never used
        return rest * table[1:] + 2.0

    x = jnp.array([5.0, 6.0, 7.0])
    closed = jax.make_jaxpr(f)(x)
    assert closed.consts, "the test needs a const"
    np.testing.assert_array_equal(adkit.eval_jaxpr(closed, x)[0], [14.0, 23.0])


def test_rejects_an_open_jaxpr():
    closed = jax.make_jaxpr(jnp.sin)(1.0)
    with pytest.raises(TypeError, match=r"expects a ClosedJaxpr.*received a Jaxpr.*not `\.jaxpr`"):
        adkit.eval_jaxpr(closed.jaxpr, 1.0)


def test_rejects_the_wrong_number_of_arguments():
    closed = jax.make_jaxpr(jnp.add)(1.0, 2.0)
    with pytest.raises(TypeError, match=r"received 1 argument\(s\) but the jaxpr takes 2"):
        adkit.eval_jaxpr(closed, 1.0)


def test_rejects_arguments_of_the_wrong_type():
    closed = jax.make_jaxpr(jnp.sin)(jnp.zeros(3, jnp.float32))
    with pytest.raises(TypeError, match=r"argument 0 is float32\[4\].*expects float32\[3\]"):
        adkit.eval_jaxpr(closed, jnp.zeros(4, jnp.float32))
    with pytest.raises(TypeError, match=r"argument 0 is float64\[3\].*expects float32\[3\]"):
        adkit.eval_jaxpr(closed, jnp.zeros(3, jnp.float64))
