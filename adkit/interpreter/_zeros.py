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
    """A tangent that is zero, standing for an array of `shape` and `dtype`.

    A JVP rule receives one for every operand the derivative is not taken with respect to (a
    constant, an integer value), so it can skip that operand's term; `instantiate` turns it into
    an array of zeros where one is needed.

    Attributes:
        shape: the shape of the zero array it stands for.
        dtype: its tangent dtype (float0 for the tangent of an integer or boolean value).

    Examples:
        >>> import jax, jax.numpy as jnp, adkit
        >>> adkit.Zero.like(jnp.ones((2, 3)))
        Zero(shape=(2, 3), dtype=dtype('float32'))
        >>> adkit.Zero.like(jnp.arange(3)).dtype == jax.dtypes.float0
        True
        >>> from jax.extend.core import Primitive
        >>> mul_p = Primitive("mul_zero_example")
        >>> _ = mul_p.def_impl(lambda x, y: x * y)
        >>> _ = mul_p.def_abstract_eval(lambda x, y: x)
        >>> def mul_jvp(primals, tangents):
        ...     print(tangents)  # y is a constant: its tangent is a Zero
        ...     (x, y), (dx, _) = primals, tangents
        ...     return mul_p.bind(x, y), mul_p.bind(dx, y)
        >>> _ = adkit.register_jvp(mul_p, mul_jvp)
        >>> _, dy = adkit.jvp(lambda x: mul_p.bind(x, 3.0), (2.0,), (1.0,))
        [1.0, Zero(shape=(), dtype=dtype('float32'))]
        >>> float(dy)
        3.0
        >>> del adkit.rules.JVP_RULES[mul_p]  # (keeps the shipped table as it was)
    """

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
    """Whether a tangent is a symbolic zero (a `Zero`), not an array.

    An array that happens to hold zeros is not a symbolic zero: only a `Zero` lets a rule skip
    the work for its operand.

    Args:
        tangent: a tangent (or cotangent), as a rule receives it.

    Returns:
        True for a `Zero`, False for anything else.

    Examples:
        >>> import numpy as np, jax.numpy as jnp
        >>> from adkit.interpreter.rules import Zero, is_zero
        >>> is_zero(Zero((3,), np.dtype(np.float32))), is_zero(jnp.zeros(3))
        (True, False)
    """
    return type(tangent) is Zero


def instantiate(tangent: Any) -> Any:
    """An array for a tangent: zeros of the right shape and dtype for a `Zero`.

    Rules call it where an operation needs an actual array (a JAX primitive cannot take a
    `Zero`). A tangent that is already an array is returned as it is.

    Args:
        tangent: an array, or a `Zero`.

    Returns:
        `tangent` itself if it is not a `Zero`; otherwise an array of zeros of its shape and
            dtype (a numpy array of dtype float0 for the tangent of an integer or boolean value).

    Examples:
        >>> import numpy as np, jax.numpy as jnp
        >>> from adkit.interpreter.rules import Zero, instantiate
        >>> instantiate(Zero((2,), np.dtype(np.float32)))
        Array([0., 0.], dtype=float32)
        >>> instantiate(jnp.array([1.0, 2.0]))
        Array([1., 2.], dtype=float32)
    """
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
    abstract type; its cotangent is what the transpose rule computes.

    Attributes:
        aval: the input's abstract value (its shape and dtype), as `jax.typeof` gives it.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.interpreter.rules import UndefinedPrimal, transpose_rule
        >>> x = UndefinedPrimal(jax.typeof(jnp.zeros(2)))  # the unknown operand of x * y
        >>> x
        UndefinedPrimal(aval=ShapedArray(float32[2]))
        >>> y = jnp.array([3.0, 4.0])
        >>> transpose_rule(jax.lax.mul_p)(jnp.array([1.0, 2.0]), x, y)  # x̄ = ȳ y; y gets None
        [Array([3., 8.], dtype=float32), None]
    """

    aval: Any


def is_undefined(x: Any) -> bool:
    """Whether an operand of a transpose rule is an `UndefinedPrimal` (a linear input).

    A transpose rule receives the operands it is linear in as `UndefinedPrimal` (their cotangent
    is what it computes) and the others as values; this tells the two apart.

    Args:
        x: an operand, as a transpose rule receives it.

    Returns:
        True for an `UndefinedPrimal`, False for anything else.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.interpreter.rules import UndefinedPrimal, is_undefined
        >>> x = jnp.ones(3)
        >>> is_undefined(UndefinedPrimal(jax.typeof(x))), is_undefined(x)
        (True, False)
    """
    return type(x) is UndefinedPrimal
