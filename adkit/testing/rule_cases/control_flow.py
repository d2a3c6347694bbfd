"""Rule cases for the higher-order primitives: jit, checkpoint, cond, scan, while, custom rules."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ... import _jax_compat as jc
from . import RuleCase, ints, mixed, normal, uniform


def _scan_carry_and_ys(h, xs):
    return lax.scan(lambda c, x: (jnp.tanh(c * x + 0.3), c * jnp.sin(x)), h, xs)


def _scan_reverse(h, xs):
    return lax.scan(lambda c, x: (c * x + jnp.cos(c), c), h, xs, reverse=True)


def _scan_late_tangent(w, xs):
    # the carry c starts as a constant (zero tangent) and picks up a tangent from w in the body
    return lax.scan(lambda c, x: (c + w * x, c), jnp.zeros_like(w), xs)[0]


def _scan_with_consts(w, xs):
    def step(c, x):
        return c @ w + x, jnp.sum(c)

    return lax.scan(step, jnp.ones(w.shape[0], w.dtype), xs)


def _while_counter(x):
    def body(state):
        i, v = state
        return i + 1, v * x + 0.5

    return lax.while_loop(lambda s: s[0] < 4, body, (0, x))[1]


def _fori_dynamic(x, n):
    return lax.fori_loop(0, n, lambda i, v: v * jnp.cos(v) + x, x)


def _cond_two(x, y):
    return lax.cond(jnp.sum(x) > 0, lambda a, b: jnp.sin(a) * b, lambda a, b: a + b, x, y)


def _cond_one_branch_constant(x):
    # one branch's output does not depend on x: its tangent is zero there, nonzero in the other
    return lax.cond(jnp.sum(x) > 0, lambda a: a * a, lambda a: jnp.ones_like(a), x)


def _switch(x, i):
    branches = [jnp.sin, jnp.cos, lambda a: a**3]
    return lax.switch(i, branches, x)


@jax.custom_jvp
def _seven_x(x):
    return jnp.sin(x)


_seven_x.defjvp(lambda primals, tangents: (jnp.sin(primals[0]), 7.0 * tangents[0]))


@jax.custom_vjp
def _vjp_only(x):
    return jnp.sin(x)


_vjp_only.defvjp(lambda x: (jnp.sin(x), jnp.cos(x)), lambda c, g: (c * g,))


@jax.custom_vjp
def _vjp_with_count(x, n):  # an integer argument, as a loop counter carried through
    return x * n


_vjp_with_count.defvjp(lambda x, n: (x * n, n), lambda n, g: (g * n, None))


@jax.custom_vjp
def _remat_optimized(x):  # its fwd rule's output differs on purpose: JAX then takes f's value
    return jnp.tan(x)


_remat_optimized.defvjp(
    lambda x: (jnp.sin(x), (x,)), lambda res, g: (jnp.cos(res[0]) * g,), optimize_remat=True
)


@jax.custom_vjp
def _sin_times(x):
    return jnp.sin(x) * x


_sin_times.defvjp(
    lambda x: (jnp.sin(x) * x, (x,)),
    lambda res, g: (g * (jnp.cos(res[0]) * res[0] + jnp.sin(res[0])),),
    optimize_remat=True,
)


def _remat_opt(x):  # the primal output of a VJP of an optimize_remat function is `remat_opt`'s
    return jax.vjp(_sin_times, x)[0] ** 2


with jc.custom_vjp3():  # JAX's experimental custom_vjp: the rules ride on `call_hi_primitive`

    @jax.custom_vjp
    def _vjp3(x):
        return jnp.sin(x) * x

    _vjp3.defvjp(lambda x: (jnp.sin(x) * x, (x,)), lambda r, g: (g * (jnp.cos(r[0]) * r[0]),))


@jax.custom_batching.custom_vmap
def _custom_batched(x):  # unbatched: sin x
    return jnp.sin(x) * x


@_custom_batched.def_vmap
def _custom_batched_rule(axis_size, in_batched, xs):  # batched: a different (smooth) function
    return jnp.cos(xs) * xs, in_batched[0]


_TABLE = np.arange(1.0, 4.0)  # closed over by the functions below: a const of their call


@jax.custom_vjp
def _vjp_forwarding(x, w):  # its residuals are its own inputs, forwarded as such
    return jnp.sin(x) * w * jnp.asarray(_TABLE)


_vjp_forwarding.defvjp(
    lambda x, w: (jnp.sin(x) * w * jnp.asarray(_TABLE), (x, w)),
    lambda res, g: (jnp.cos(res[0]) * res[1] * _TABLE * g, jnp.sin(res[0]) * _TABLE * g),
)


def _checkpointed(x, w):
    return jax.checkpoint(lambda a, b: jnp.sin(a @ b) @ b)(x, w)


def _checkpoint_policy(x, w):
    policy = jax.checkpoint_policies.dots_with_no_batch_dims_saveable
    return jax.checkpoint(lambda a, b: jnp.tanh(a @ b), policy=policy)(x, w)


CASES = [
    RuleCase("jit", jax.jit(lambda x, y: jnp.sin(x) * y + jnp.exp(y)), normal((3,), (3,))),
    RuleCase("jit", jax.jit(lambda x, y: (x * 2.0, y)), normal((3,), (3,)), name="passthrough"),
    RuleCase(
        "jit", lambda x: jax.jit(lambda a: jax.jit(jnp.tanh)(a) * a)(x), normal((4,)), name="nested"
    ),
    RuleCase("remat2", _checkpointed, normal((2, 3), (3, 3))),
    RuleCase("remat2", _checkpoint_policy, normal((2, 3), (3, 3)), name="policy"),
    RuleCase("cond", _cond_two, normal((3,), (3,))),
    RuleCase("cond", _cond_two, mixed(normal((3,), scale=-1.0), normal((3,))), name="false_branch"),
    RuleCase("cond", _cond_one_branch_constant, uniform(0.1, 1.0, (3,)), name="mixed_zeros"),
    RuleCase("cond", _switch, mixed(normal((3,)), lambda d, r: (jnp.int32(2),)), name="switch"),
    RuleCase("scan", _scan_carry_and_ys, normal((2,), (5, 2))),
    RuleCase("scan", _scan_reverse, normal((3,), (4, 3)), name="reverse"),
    RuleCase("scan", _scan_late_tangent, normal((3,), (4, 3)), name="late_tangent"),
    RuleCase("scan", _scan_with_consts, normal((3, 3), (4, 3), scale=0.5), name="consts"),
    RuleCase("while", _while_counter, uniform(0.5, 1.5, (3,))),
    RuleCase(
        "while",
        _fori_dynamic,
        mixed(uniform(0.1, 0.5, (3,)), lambda d, r: (jnp.int32(3),)),
        name="fori_dynamic",
    ),
    RuleCase("custom_jvp_call", _seven_x, normal((4,))),
    RuleCase("custom_jvp_call", jax.nn.relu, normal((5,)), name="relu"),
    RuleCase(
        "custom_jvp_call",
        lambda x: jax.nn.softplus(x) + jax.nn.gelu(x),
        normal((5,)),
        name="library",
    ),
    RuleCase("custom_vjp_call", _vjp_only, normal((3,)), raises=TypeError, second_order=False),
    RuleCase("remat_opt", _remat_opt, normal((3,))),
    # custom_vmap: unbatched here; the JVP under an outer vmap is checked in test_conformance.py
    RuleCase("custom_vmap_call", lambda x: _custom_batched(x) ** 2, normal(())),
    RuleCase(
        "call_hi_primitive",
        lambda x: _vjp3(x) ** 2,
        normal((3,)),
        raises=TypeError,
        second_order=False,
    ),
    RuleCase(
        "remat2",
        lambda x: jax.checkpoint(_remat_optimized)(x) ** 2,
        normal((3,)),
        name="custom-vjp-optimize-remat",
        raises=TypeError,
        second_order=False,
    ),
    RuleCase(
        "custom_vjp_call",
        _vjp_forwarding,
        normal((3,), (3,)),
        name="forwarded-residuals",
        raises=TypeError,
        second_order=False,
    ),
    RuleCase(
        "custom_vjp_call",
        _vjp_with_count,
        mixed(normal((3,)), ints(1, 5, ())),
        name="integer-argument",
        raises=TypeError,
        second_order=False,
    ),
]
