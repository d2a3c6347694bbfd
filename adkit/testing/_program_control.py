"""Program operations that contain other operations: `cond` and `switch` on the data, `scan`, a
`fori_loop`, a nested `jit`, `jax.checkpoint`, and a `custom_jvp` function (see
`_program_ops.py`). Their bodies are drawn too: elementwise operations for branches and loop
bodies, any one-operand operation with its parameters inside `jit` and `checkpoint`."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from ._program_arrays import INDEXING, SORTING
from ._program_ops import ELEMENTWISE, REDUCTIONS, STRUCTURAL, Operation, fit

# Bodies of branches and loops: elementwise, so every branch has the operand's shape.
BODIES = tuple(sorted(name for name, op in ELEMENTWISE.items() if name != "integer_pow"))

# Operations a nested `jit` or `checkpoint` may wrap: any with one operand.
WRAPPABLE = {
    name: op
    for family in (ELEMENTWISE, REDUCTIONS, STRUCTURAL, INDEXING, SORTING)
    for name, op in family.items()
    if op.arity == 1
}


def _body(name):
    return ELEMENTWISE[name].apply


def _two_bodies(draw, shape, _=None):
    return {"first": draw.choice(BODIES), "second": draw.choice(BODIES)}


def _cond(a, b, first, second):  # on the sign of sum(a): body₁(a) · b or body₂(a) - b
    return lax.cond(
        jnp.sum(a) > 0,
        lambda p, q: _body(first)(p) * q,
        lambda p, q: _body(second)(p) - q,
        a,
        fit(b, a.shape),
    )


def _three_bodies(draw, shape, _=None):
    return {"bodies": tuple(draw.choice(BODIES) for _ in range(3))}


def _switch(x, bodies):  # branch floor(sum(x)) (clamped to 0..2 by switch) of three bodies
    index = jnp.floor(jnp.sum(x)).astype(jnp.int32)
    return lax.switch(index, [_body(name) for name in bodies], x)


def _scan_params(draw, shape, _=None):
    if not shape:
        return None
    return {"body": draw.choice(BODIES), "reverse": bool(draw.integer(0, 1))}


def _scan(a, b, body, reverse):  # c_k = body(c_{k-1} a_k + b_k) over a's rows, stacked
    def step(c, row):
        c = _body(body)(c * row[0] + row[1])
        return c, c

    rows = jnp.stack([a, fit(b, a.shape)], axis=1)
    return lax.scan(step, jnp.zeros(a.shape[1:], a.dtype), rows, reverse=reverse)[1]


def _fori_params(draw, shape, _=None):
    return {"body": draw.choice(BODIES), "trips": draw.integer(1, 3)}


def _fori(x, body, trips):  # c ← body(c) / 2 + x, `trips` times, from c = x
    return lax.fori_loop(0, trips, lambda i, c: _body(body)(c) * 0.5 + x, x)


def _wrapped(draw, shape, _=None):
    inner = draw.choice(sorted(WRAPPABLE))
    params = WRAPPABLE[inner].draw(draw, shape)
    return None if params is None else {"inner": inner, "params": tuple(sorted(params.items()))}


def _wrap(transform):
    def apply(x, inner, params):
        return transform(functools.partial(WRAPPABLE[inner].apply, **dict(params)))(x)

    return apply


@jax.custom_jvp
def _softplus(x):
    return jnp.logaddexp(x, 0.0)


@_softplus.defjvp
def _softplus_jvp(primals, tangents):  # d softplus(x) = logistic(x) dx
    (x,), (t,) = primals, tangents
    return _softplus(x), jax.nn.sigmoid(x) * t


@jax.custom_jvp
def _hypot1(x):  # √(1 + x²) by Newton's method: a while loop that stops on the value
    a = 1.0 + x * x

    def step(carry):
        c, k = carry
        return 0.5 * (c + a / c), k + 1

    going = lambda carry: (jnp.abs(carry[0] ** 2 - a) > 1e-5 * a) & (carry[1] < 50)
    return lax.while_loop(going, step, (a, 0))[0]


@_hypot1.defjvp
def _hypot1_jvp(primals, tangents):  # d √(1 + x²) = x / √(1 + x²) dx
    (x,), (t,) = primals, tangents
    y = _hypot1(x)
    return y, x / y * t


def _batched_while(x):  # vmapped: the loop stops when every element's own test says so
    return jax.vmap(_hypot1)(jnp.ravel(x)).reshape(jnp.shape(x))


CONTROL = {
    "cond": Operation("cond", 2, _cond, _two_bodies),
    "switch": Operation("cond", 1, _switch, _three_bodies),
    "scan": Operation("scan", 2, _scan, _scan_params),
    "fori_loop": Operation("scan", 1, _fori, _fori_params),
    "jit": Operation("jit", 1, _wrap(jax.jit), _wrapped),
    "checkpoint": Operation("remat2", 1, _wrap(jax.checkpoint), _wrapped),
    "custom_jvp": Operation("custom_jvp_call", 1, _softplus),
    "batched_while": Operation("while", 1, _batched_while),
}
