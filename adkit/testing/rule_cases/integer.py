"""Rule cases for integer and boolean plumbing: their tangents are float0 zeros, and float
values computed from them have zero tangent contributions through them."""

import jax.numpy as jnp
from jax import lax

from . import RuleCase, ints, mixed, normal


def _float(i):
    return i.astype(jnp.float32)


_X_AND_INTS = mixed(normal((4,)), ints(0, 64, (4,), (4,)))

CASES = [
    RuleCase("and", lambda x, i, j: x * _float(lax.bitwise_and(i, j)), _X_AND_INTS),
    RuleCase("or", lambda x, i, j: x * _float(lax.bitwise_or(i, j)), _X_AND_INTS),
    RuleCase("xor", lambda x, i, j: x * _float(lax.bitwise_xor(i, j)), _X_AND_INTS),
    RuleCase("not", lambda x, i, j: x * _float(lax.bitwise_not(i) + j), _X_AND_INTS),
    RuleCase("and", lambda x, i, j: jnp.where((x > 0) & (i > j), x, -x), _X_AND_INTS, name="bool"),
    RuleCase("shift_left", lambda x, i, j: x * _float(lax.shift_left(i, j % 4)), _X_AND_INTS),
    RuleCase(
        "shift_right_arithmetic",
        lambda x, i, j: x * _float(lax.shift_right_arithmetic(i, j % 4)),
        _X_AND_INTS,
    ),
    RuleCase(
        "shift_right_logical",
        lambda x, i, j: x * _float(lax.shift_right_logical(i, j % 4)),
        _X_AND_INTS,
    ),
    RuleCase("population_count", lambda x, i, j: x * _float(lax.population_count(i)), _X_AND_INTS),
    RuleCase("clz", lambda x, i, j: x * _float(lax.clz(i)), _X_AND_INTS),
    RuleCase("rem", lambda x, i, j: x * _float(lax.rem(i, j + 1)), _X_AND_INTS, name="integer"),
    RuleCase("mul", lambda x, i, j: (x * 2.0, i * j), _X_AND_INTS, name="int_output"),
]
