"""The backward sweep over a tape (`Tape.backward`): the textbook adjoint table, and gradients
equal to JAX's, through control flow that the tape unrolls (while loops included)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from corpus import by_name
from helpers import program_args
from test_jvp_rules import assert_close

import adkit


def textbook(x1, x2):
    return jnp.log(x1) + x1 * x2 - jnp.sin(x2)


def test_textbook_adjoint_table():
    adjoints = adkit.trace(textbook, np.float64(2.0), np.float64(5.0)).backward()
    steps = {row.name: row for row in adjoints.rows}
    assert [row.name for row in adjoints.rows] == ["v5", "v4", "v3", "v2", "v1"]
    assert [(n, float(v)) for n, v in steps["v5"].sends] == [("v3", 1.0), ("v4", -1.0)]
    assert [(n, float(v)) for n, v in steps["v2"].sends] == [("v-1", 5.0), ("v0", 2.0)]
    assert float(steps["v4"].sends[0][1]) == pytest.approx(-math.cos(5.0), rel=1e-15)
    x1_bar, x2_bar = adjoints.gradient
    assert float(x1_bar) == 5.5
    assert float(x2_bar) == pytest.approx(2.0 - math.cos(5.0), rel=1e-15)
    lines = str(adjoints).splitlines()
    assert lines[3].split() == ["v5", "sub", "1", "v3", "+=", "1,", "v4", "+=", "-1"]
    assert lines[-2].split()[:3] == ["v-1", "x1", "5.5"]


@pytest.mark.parametrize(
    "name",
    [
        "nn_normalizers",
        "scan_forward",
        "scan_reverse",
        "cond_on_data",
        "nested_jit",
        "eqx_mlp",
        "pooling",
    ],
)
def test_sweep_gradient_matches_jax(name):
    program = by_name(name)
    args = program_args(program, np.float64)
    loss = lambda *a: sum(jnp.sum(jnp.sin(o)) for o in jax.tree.leaves(program.fn(*a)))
    argnums = tuple(range(len(args)))
    ours = adkit.trace(loss, *args).backward().gradient
    assert_close(ours, jax.grad(loss, argnums)(*args), 1e-10)


def test_sweep_goes_through_while_loops():
    # JAX cannot reverse a while loop; the tape has unrolled it, so the sweep can
    f = lambda x: jax.lax.while_loop(lambda c: c[1] < 3, lambda c: (c[0] * x, c[1] + 1), (1.0, 0))[
        0
    ]
    [g] = adkit.trace(f, 1.3).backward().gradient
    assert float(g) == pytest.approx(3 * 1.3**2, rel=1e-14)


def test_sweep_needs_a_cotangent_for_non_scalar_outputs():
    tape = adkit.trace(jnp.sin, jnp.ones(3))
    with pytest.raises(TypeError, match=r"scalar output.*cotangent="):
        tape.backward()
    [g] = tape.backward(jnp.array([1.0, 2.0, 3.0])).gradient
    np.testing.assert_allclose(g, np.cos(1.0) * np.array([1.0, 2.0, 3.0]), rtol=1e-15)
