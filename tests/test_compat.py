"""The JAX-internals boundary: lookups and custom-rule thunks behave as the interpreters need."""

import pathlib
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from adkit import _jax_compat as jc
from adkit import eval_jaxpr
from adkit.interpreter._eval import eval_open

PACKAGE = pathlib.Path(__file__).parents[1] / "adkit"


def test_only_the_compat_module_touches_jax_internals():
    pattern = re.compile(r"^\s*(from|import)\s+jax\.(_src|interpreters|extend\.core)", re.M)
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "_jax_compat.py" and pattern.search(path.read_text())
    ]
    assert offenders == []


def test_primitive_by_name_finds_lax_and_extend_primitives():
    assert jc.primitive_by_name("sin") is lax.sin_p
    assert jc.primitive_by_name("cond") is jc.cond_p
    assert jc.primitive_by_name("remat2") is jc.remat_p


def test_primitive_by_name_unknown_says_what_to_do():
    with pytest.raises(KeyError, match=r"No JAX primitive named 'sine'.*printed jaxpr"):
        jc.primitive_by_name("sine")


def test_primitives_in_recurses_into_every_nested_jaxpr():
    def f(x):
        y = lax.cond(x > 0, jnp.sin, jnp.cos, x)
        return lax.scan(lambda c, _: (jax.nn.relu(c), None), y, length=2)[0]

    names = jc.primitives_in(jax.make_jaxpr(f)(1.0))
    assert {"cond", "sin", "cos", "scan", "custom_jvp_call", "jit", "max", "gt"} <= names


def test_custom_jvp_rule_thunk_gives_the_users_rule():
    @jax.custom_jvp
    def f(x):
        return jnp.sin(x)

    f.defjvp(lambda primals, tangents: (f(primals[0]), 7.0 * tangents[0]))
    [eqn] = jax.make_jaxpr(f)(0.3).eqns
    jvp_jaxpr, consts, out_zero = jc.custom_jvp_rule(eqn.params, [False])
    primal_out, tangent_out = eval_open(jvp_jaxpr, consts, [0.3, 2.0])
    assert out_zero == [False]
    np.testing.assert_allclose(primal_out, np.sin(0.3), rtol=1e-15)
    assert float(tangent_out) == 14.0


def test_custom_vjp_thunks_give_the_users_fwd_and_bwd():
    @jax.custom_vjp
    def f(x):
        return jnp.sin(x)

    f.defvjp(lambda x: (jnp.sin(x), jnp.cos(x)), lambda cos_x, ct: (3.0 * cos_x * ct,))
    [eqn] = jax.make_jaxpr(f)(0.3).eqns
    fwd_jaxpr, consts, (out_tree, res_tree, _) = jc.custom_vjp_forward(eqn.params, [True])
    outs = eval_open(fwd_jaxpr, consts, [0.3])
    residuals, primal_out = outs[: res_tree.num_leaves], outs[res_tree.num_leaves :]
    np.testing.assert_allclose(primal_out, [np.sin(0.3)], rtol=1e-15)
    assert out_tree.num_leaves == 1
    [ct_x] = jc.custom_vjp_backward(eqn.params, residuals, [2.0])
    np.testing.assert_allclose(ct_x, 6.0 * np.cos(0.3), rtol=1e-15)


def test_bind_custom_call_keeps_the_users_rule_for_jax():
    closed = jax.make_jaxpr(jax.nn.relu)(0.0)
    relu_via_adkit = lambda x: eval_jaxpr(closed, x)[0]
    # relu's custom JVP says relu'(0) = 0; differentiating max(x, 0) itself would give 0.5.
    assert float(jax.grad(relu_via_adkit)(0.0)) == 0.0
    assert float(jax.grad(relu_via_adkit)(2.0)) == 1.0
