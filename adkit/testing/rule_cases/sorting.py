"""Rule cases for sorting and selection: `sort` with one or several operands, and `top_k`."""

import functools

import jax.numpy as jnp
from jax import lax

from . import RuleCase, ints, mixed, normal, values

# ties in the first key: the second key (or stability) decides
_TIED_KEYS = values([3.0, 1.0, 3.0, 2.0, 1.0, 3.0])


def _sort_by_first(x, y, z):
    return lax.sort((x, y, z), num_keys=1)


def _sort_two_keys(keys, x, y):
    return lax.sort((keys, x, y), num_keys=2)


def _sort_by_integer(labels, x):
    # an integer key (float0 tangent) decides the order of a float operand
    return lax.sort((labels, x), num_keys=1)


def _sort_rows(x, axis):
    return jnp.sort(x, axis=axis)


def _top_k(x, k, axis=-1):
    values_, indices = lax.top_k(x, k, axis=axis)
    return values_, values_ * indices


CASES = [
    RuleCase("sort", jnp.sort, normal((6,)), name="vector"),
    RuleCase("sort", functools.partial(_sort_rows, axis=1), normal((3, 4)), name="rows"),
    RuleCase("sort", functools.partial(_sort_rows, axis=0), normal((3, 4)), name="cols"),
    RuleCase("sort", lambda x: lax.sort(x, is_stable=False), normal((2, 5)), name="unstable"),
    RuleCase("sort", _sort_by_first, normal((2, 5), (2, 5), (2, 5)), name="three-operands"),
    RuleCase(
        "sort", _sort_by_first, mixed(_TIED_KEYS, normal((6,), (6,))), name="tied-keys-stable"
    ),
    RuleCase("sort", _sort_two_keys, mixed(_TIED_KEYS, normal((6,), (6,))), name="two-keys-tied"),
    RuleCase("sort", _sort_by_integer, mixed(ints(0, 3, (7,)), normal((7,))), name="int-key"),
    RuleCase("top_k", functools.partial(_top_k, k=2), normal((6,)), name="vector"),
    RuleCase("top_k", functools.partial(_top_k, k=3), normal((3, 5)), name="rows"),
    RuleCase("top_k", functools.partial(_top_k, k=2, axis=0), normal((4, 3)), name="axis-0"),
    RuleCase(
        "top_k", functools.partial(_top_k, k=3), values([1.0, 4.0, 4.0, 0.0, 4.0]), name="ties"
    ),
]
