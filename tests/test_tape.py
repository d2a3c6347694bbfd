"""`adkit.trace`: the Wengert list records every executed primitive with its value."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from corpus import CORPUS
from helpers import assert_trees_close, assert_trees_identical, program_args

import adkit


def textbook(x1, x2):
    return jnp.log(x1) + x1 * x2 - jnp.sin(x2)


def test_textbook_function_rows_and_values():
    tape = adkit.trace(textbook, np.float64(2.0), np.float64(5.0))
    assert [e.label for e in tape.inputs] == ["x1", "x2"]
    assert [e.outputs for e in tape.inputs] == [("v-1",), ("v0",)]
    assert tape.ops() == ["log", "mul", "add", "sin", "sub"]
    assert [e.inputs for e in tape] == [
        ("v-1",),
        ("v-1", "v0"),
        ("v1", "v2"),
        ("v0",),
        ("v3", "v4"),
    ]
    expected = [math.log(2), 10.0, math.log(2) + 10, math.sin(5), math.log(2) + 10 - math.sin(5)]
    np.testing.assert_allclose([float(e.values[0]) for e in tape], expected, rtol=1e-15)
    assert tape.outputs == ("v5",)
    assert float(tape.output) == pytest.approx(11.652071455223084, rel=1e-15)


def test_textbook_table_rendering():
    text = str(adkit.trace(textbook, np.float64(2.0), np.float64(5.0)))
    lines = text.splitlines()
    assert lines[0] == "Wengert list of textbook: 5 primitive operations"
    assert lines[1].split() == ["var", "op", "inputs", "value"]
    assert lines[3].split() == ["v-1", "x1", "2"]
    assert lines[5].split() == ["v1", "log", "v-1", "0.6931471806"]
    assert lines[9].split() == ["v5", "sub", "v3,", "v4", "11.65207146"]
    assert lines[10].split() == ["y", "output", "v5"]


@pytest.mark.parametrize("program", [pytest.param(p, id=p.name) for p in CORPUS])
def test_tape_output_equals_the_function(program):
    # The tape applies one primitive at a time, where XLA may fuse the operations of a compiled
    # `jit` or loop body: the two may round differently in the last bits, and no more.
    args = program_args(program, np.float64)
    tape = adkit.trace(program.fn, *args)
    assert_trees_close(tape.output, program.fn(*args), rtol=1e-13)


def test_every_row_is_its_primitive_applied_to_the_rows_it_reads():
    inner = jax.jit(lambda a, b: jnp.tanh(a * b) + jnp.sin(a))
    f = jax.jit(lambda x, y: inner(x, y) * jnp.exp(inner(y, x)))
    tape = adkit.trace(f, jnp.array([0.3, -1.2]), jnp.array([2.0, 0.7]))
    values = {e.outputs[0]: e.values[0] for e in (*tape.inputs, *tape.entries)}
    checked = 0
    for entry in tape:
        prim = getattr(jax.lax, f"{entry.op}_p", None)
        if prim is None or not all(i in values for i in entry.inputs):
            continue
        recomputed = prim.bind(*(values[i] for i in entry.inputs), **entry.params)
        np.testing.assert_array_equal(recomputed, entry.values[0])
        checked += 1
    assert checked == len(tape) == 10


def test_inlines_jit_and_custom_jvp_with_scopes():
    tape = adkit.trace(lambda x: jax.jit(jax.nn.relu)(x) * 2.0, jnp.array([-1.0, 3.0]))
    assert tape.ops() == ["max", "mul"]
    assert tape[0].scope == "jit(relu)/custom_jvp/jit(relu)"
    assert tape[0].inputs == ("v0", "0.0")
    np.testing.assert_array_equal(tape[1].values[0], [0.0, 6.0])


def test_records_only_the_branch_cond_takes():
    f = lambda x: jax.lax.cond(x > 0, jnp.sin, jnp.cos, x)
    assert adkit.trace(f, 1.0).ops() == ["gt", "convert_element_type", "sin"]
    assert adkit.trace(f, -1.0).ops() == ["gt", "convert_element_type", "cos"]
    assert adkit.trace(f, 1.0)[-1].scope == "cond[branch 1]"


def test_unrolls_scan_iterations_in_order():
    def f(xs):
        return jax.lax.scan(lambda c, x: (c * x, c + x), 1.0, xs, reverse=True)

    xs = jnp.array([2.0, 3.0, 4.0])
    tape = adkit.trace(f, xs)
    assert [op for op in tape.ops() if op != "convert_element_type"] == ["mul", "add"] * 3
    index_rows = [e for e in tape if e.op == "scan.index"]
    assert [e.params["i"] for e in index_rows] == [2, 1, 0]
    [stack] = [e for e in tape if e.op == "scan.stack"]
    np.testing.assert_array_equal(stack.values[0], [14.0, 7.0, 5.0])
    assert_trees_identical(tape.output, f(xs))


def test_unrolls_while_loops_until_the_condition_fails():
    f = lambda x: jax.lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x)
    tape = adkit.trace(f, 3.0)
    assert tape.ops() == ["lt", "mul", "lt", "mul", "lt"]  # 3 -> 6 -> 12
    assert float(tape.output) == 12.0


def test_constants_get_their_own_rows():
    table = np.array([1.0, 2.0])
    tape = adkit.trace(lambda x: x * table, jnp.ones(2))
    assert tape[0].op == "const" and tape[0].outputs == ("c1",)
    assert tape[1].inputs == ("v0", "c1")


def test_pytree_arguments_are_labelled_by_path():
    tape = adkit.trace(lambda params, x: params["w"] * x + params["b"], {"w": 2.0, "b": 1.0}, 3.0)
    assert [e.label for e in tape.inputs] == ["params['b']", "params['w']", "x"]
    assert float(tape.output) == 7.0


def test_refuses_abstract_values_under_jit():
    with pytest.raises(TypeError, match=r"records concrete values.*outside `jax.jit`"):
        jax.jit(lambda x: adkit.trace(jnp.sin, x).output)(1.0)
