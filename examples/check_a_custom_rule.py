"""Define a primitive with adkit rules, then prove its derivatives right with adkit.testing.

Run: python examples/check_a_custom_rule.py
"""

import jax
import jax.numpy as jnp
from jax import lax
from jax.extend.core import Primitive

import adkit
from adkit.testing import check_grads, crosscheck

# cube(x) = x³, a new primitive
cube_p = Primitive("cube")
cube_p.def_impl(lambda x: x**3)
cube_p.def_abstract_eval(lambda x: x)


@adkit.register_jvp(cube_p)
def cube_jvp(primals, tangents):  # d x³ = 3x² dx
    (x,), (t,) = primals, tangents
    return cube_p.bind(x), 3 * x**2 * t


@adkit.register_vjp(cube_p)
def cube_vjp(ct, res):  # x̄ = 3x² ȳ
    (x,) = res.inputs
    return [3 * x**2 * ct]


def f(x):
    return jnp.sum(cube_p.bind(x) * lax.sin(x))


x = jnp.array([0.3, -1.2, 0.8])
check_grads(f, (x,), order=2, modes=("fwd", "rev"))  # raises if anything is off
print("check_grads: forward and reverse mode, to second order, agree with finite differences")

with jax.enable_x64(True):
    report = crosscheck(lambda x: jnp.sum(jnp.tanh(x) ** 2), x)
print(report)
report.raise_if_failed()
