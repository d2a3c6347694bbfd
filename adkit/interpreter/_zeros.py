"""Symbolic values: zeros known from their type only, and the unknown inputs of a transposition.

Most tangents in a JVP are zero: every constant, every input the derivative is not taken with
respect to, every integer value. A `Zero` records the shape and tangent dtype such a value would
have, so rules can skip work on it (`d(x * c) = c * dx` never computes `x * dc`), and an array of
zeros is only built where one is really needed (outputs, the carry of a loop).

An `UndefinedPrimal` is the other symbolic value: a transpose rule receives it for each linear
operand, whose value is not known (only its type) and whose cotangent the rule computes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from .._jax_compat import primal_dtype_to_tangent_dtype


@dataclasses.dataclass(frozen=True)
class Zero:
    """A tangent that is zero, standing for an array of `shape` and `dtype`."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @staticmethod
    def like(primal: Any) -> Zero:
        """The zero tangent of a primal value (float0 for integer and boolean primals)."""
        aval = jax.typeof(primal)
        return Zero(tuple(aval.shape), np.dtype(primal_dtype_to_tangent_dtype(aval.dtype)))

    @staticmethod
    def from_aval(aval: Any) -> Zero:
        """The zero tangent of a value of abstract type `aval`."""
        return Zero(tuple(aval.shape), np.dtype(primal_dtype_to_tangent_dtype(aval.dtype)))


def is_zero(tangent: Any) -> bool:
    return type(tangent) is Zero


def instantiate(tangent: Any) -> Any:
    """An array for a tangent: zeros of the right shape and dtype for a `Zero`."""
    if not is_zero(tangent):
        return tangent
    if tangent.dtype == jax.dtypes.float0:
        return np.zeros(tangent.shape, jax.dtypes.float0)
    return jax.numpy.zeros(tangent.shape, tangent.dtype)


def has_tangent_space(primal: Any) -> bool:
    """False for integer, boolean and key values, whose tangents are always float0 zeros."""
    return jax.dtypes.issubdtype(jax.typeof(primal).dtype, np.inexact)


@dataclasses.dataclass(frozen=True)
class UndefinedPrimal:
    """Marks a linear input of an equation being transposed: its value is not known, only its
    abstract type; its cotangent is what the transpose rule computes."""

    aval: Any


def is_undefined(x: Any) -> bool:
    return type(x) is UndefinedPrimal
