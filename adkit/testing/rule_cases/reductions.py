"""Rule cases for reductions over axes, cumulative reductions and the generic `reduce`."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import RuleCase, mixed, normal, values

_TIED = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 0.5, 4.0, -1.0]])
_TIES, _NEGATED_TIES = values(_TIED), values(-_TIED)
_ZEROS = values([[0.0, 2.0, 3.0, -1.5], [0.0, 0.0, 1.5, 2.0], [1.2, -0.7, 0.0, 0.9]])


def _axes_cases(primitive, fn, extra=()):
    """fn(x, axes) over a vector, a matrix (each axis, all axes) and a 3-d array (axes 0, 2)."""
    shaped = [
        ("vector", (5,), (0,)),
        ("matrix-rows", (3, 4), (1,)),
        ("matrix-cols", (3, 4), (0,)),
        ("matrix-all", (3, 4), (0, 1)),
        ("cube-outer", (2, 3, 4), (0, 2)),
    ]
    cases = [
        RuleCase(primitive, functools.partial(fn, axes=axes), normal(shape), name=name)
        for name, shape, axes in shaped
    ]
    return cases + [
        RuleCase(primitive, functools.partial(fn, axes=axes), make_args, name=name, **kw)
        for name, make_args, axes, kw in extra
    ]


def _cumulative_cases(primitive, fn, extra=()):
    """fn(x, axis, reverse) forwards and backwards, over a vector and both axes of a matrix."""
    cases = []
    for reverse in (False, True):
        tag = "reverse" if reverse else "forward"
        for name, shape, axis in (("vector", (5,), 0), ("rows", (3, 4), 1), ("cols", (3, 4), 0)):
            f = functools.partial(fn, axis=axis, reverse=reverse)
            cases.append(RuleCase(primitive, f, normal(shape), name=f"{name}-{tag}"))
        for name, make_args, kw in extra:
            f = functools.partial(fn, axis=1, reverse=reverse)
            cases.append(RuleCase(primitive, f, make_args, name=f"{name}-{tag}", **kw))
    return cases


# --- the generic variadic reduce: programs whose jaxpr holds `reduce` ---
def _argmax_pair(a, b):
    # (value, index) pairs: the larger value wins, the lower index on a tie
    (av, ai), (bv, bi) = a, b
    a_wins = (av > bv) | ((av == bv) & (ai < bi))
    return lax.select(a_wins, av, bv), lax.select(a_wins, ai, bi)


def _reduce_argmax(x):
    index = lax.broadcasted_iota(jnp.int32, x.shape, 1)
    init = (jnp.array(-jnp.inf, x.dtype), jnp.array(np.iinfo(np.int32).max, jnp.int32))
    value, where = lax.reduce((x, index), init, _argmax_pair, (1,))
    return value, value * where


def _argmax_oracle(args, tangents):
    # JAX 0.10.2's own reduce JVP fails on the integer operand's symbolic-zero tangent
    (x,), (t,) = args, tangents
    where = jnp.argmax(x, axis=1, keepdims=True)
    chosen = jnp.take_along_axis(t, where, axis=1)[:, 0]
    return _reduce_argmax(x), (chosen, chosen * where[:, 0])


def _reduce_sum_and_product(x, y):
    add_mul = lambda a, b: (a[0] + b[0], a[1] * b[1])
    one = jnp.array(1, x.dtype)
    return lax.reduce((x, y), (jnp.array(0, x.dtype), one), add_mul, (0,))


def _reduce_pairwise(x):
    # (s, e) ∘ (s', e') = (s + s', e + e' + s s'): e ends as Σ_{i<j} x_i x_j. The second operand
    # starts as a constant (zero tangent) and picks one up from the first.
    combine = lambda a, b: (a[0] + b[0], a[1] + b[1] + a[0] * b[0])
    zero = jnp.array(0, x.dtype)
    return lax.reduce((x, jnp.zeros_like(x)), (zero, zero), combine, (0, 1))


def _pairwise_oracle(args, tangents):
    # Σ_{i<j} x_i x_j = ((Σx)² - Σx²) / 2, so d = Σx Σdx - Σ x dx. (JAX 0.10.2's own reduce JVP
    # fails on the symbolic-zero tangent of the second operand.)
    (x,), (t,) = args, tangents
    total = jnp.sum(x)
    return _reduce_pairwise(x), (jnp.sum(t), total * jnp.sum(t) - jnp.sum(x * t))


@jax.jit  # eagerly JAX would see a concrete 0, emit reduce_sum and ignore init's tangent
def _reduce_traced_init(x, init):
    # a non-constant initial value: neither JAX nor adkit differentiates with respect to it
    return lax.reduce(x, init, lax.add, (0,))


def _reduce_one_operand(x):
    # a single operand whose computation JAX does not recognise as a monoid
    return lax.reduce(x, jnp.array(0, x.dtype), lambda a, b: a + b + a * b, (1,))


CASES = [
    *_axes_cases("reduce_sum", lambda x, axes: jnp.sum(x, axis=axes)),
    *_axes_cases(
        "reduce_max",
        lambda x, axes: jnp.max(x, axis=axes),
        [("ties", _TIES, (1,), {}), ("ties-all", _TIES, (0, 1), {})],
    ),
    *_axes_cases(
        "reduce_min",
        lambda x, axes: jnp.min(x, axis=axes),
        [("ties", _NEGATED_TIES, (1,), {})],
    ),
    *_axes_cases(
        "reduce_prod",
        lambda x, axes: jnp.prod(x, axis=axes),
        [
            ("zeros-rows", _ZEROS, (1,), {}),
            ("zeros-cols", _ZEROS, (0,), {}),
            ("zeros-all", _ZEROS, (0, 1), {}),
            ("single-zero", values([1.5, 0.0, -2.0, 0.7]), (0,), {}),
        ],
    ),
    RuleCase("reduce_and", lambda x: x * jnp.all(x > -1.0, axis=1, keepdims=True), normal((3, 4))),
    RuleCase("reduce_or", lambda x: x * jnp.any(x > 1.0, axis=0), normal((3, 4))),
    RuleCase(
        "reduce_xor", lambda x: x * lax.reduce_xor_p.bind(x > 0, axes=(1,))[:, None], normal((3, 4))
    ),
    RuleCase("argmax", lambda x: x * jnp.argmax(x, axis=1, keepdims=True), normal((3, 4))),
    RuleCase("argmin", lambda x: jnp.sin(x) * jnp.argmin(x), normal((5,))),
    RuleCase("reduce", _reduce_argmax, normal((3, 4)), name="argmax-pairs", oracle=_argmax_oracle),
    RuleCase("reduce", _reduce_sum_and_product, normal((4, 3), (4, 3)), name="sum-and-product"),
    RuleCase(
        "reduce", _reduce_pairwise, normal((3, 4)), name="tangent-appears", oracle=_pairwise_oracle
    ),
    RuleCase("reduce", _reduce_one_operand, normal((2, 4), scale=0.5), name="one-operand"),
    RuleCase(
        "reduce",
        _reduce_traced_init,
        mixed(normal((3, 2)), values(0.0)),
        name="init-tangent",
        raises=NotImplementedError,
    ),
    *_cumulative_cases("cumsum", lax.cumsum),
    *_cumulative_cases("cumprod", lax.cumprod, [("zeros", _ZEROS, {})]),
    *_cumulative_cases("cummax", lax.cummax, [("ties", _TIES, {})]),
    *_cumulative_cases("cummin", lax.cummin, [("ties", _TIES, {})]),
    *_cumulative_cases(
        "cumlogsumexp",
        lax.cumlogsumexp,
        [
            ("large", values([[80.0, -3.0, 81.0], [-90.0, 0.0, 1.0]]), {}),
            # d/dx at x = -inf multiplies 0 by inf in the second derivative: first order only
            (
                "neg-inf",
                values([[0.5, -np.inf, 1.0], [0.0, -np.inf, 2.0]]),
                {"second_order": False},
            ),
        ],
    ),
]
