"""Which engine runs: staged (a jaxpr, walked) or define-by-run (tracers with values).

adkit stages when it can: a jaxpr composes with `jit`, is walked once and can be printed. When
every input holds a concrete value, the function is run again in define-by-run mode where
staging cannot serve:

- staging stops because Python asked for a value (a `bool`, `int` or `float` of a traced
  array): define-by-run gives Python the values;
- the staged program cannot be differentiated because `jax.vmap` ran inside it before adkit
  could differentiate, or because a custom rule (traced when the staged program runs) branches
  on a value (`STAGED_ORDER_ERRORS`): define-by-run differentiates in JAX's order, on values.

Inside `jax.jit` the inputs hold no values; the error then keeps JAX's words and adds what to
do.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax

from ... import _jax_compat as jc
from .._errors import BatchedBeforeDifferentiated
from .._staging import Staged, stage

STAGING_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError)


# Errors of a staged program that define-by-run avoids, because it differentiates while the
# function runs, in JAX's order: a custom rule that closes over a `jax.vmap` tracer (the rule
# runs after staging, when that tracer is gone), `BatchedBeforeDifferentiated`, and a custom
# rule that branches on a value (it is traced, abstractly, when the staged program runs).
STAGED_ORDER_ERRORS = (
    jax.errors.UnexpectedTracerError,
    BatchedBeforeDifferentiated,
    *STAGING_ERRORS,
)

_FORCED: contextvars.ContextVar[bool] = contextvars.ContextVar("define_by_run", default=False)

ADVICE = (
    "adkit stages a function to a jaxpr before differentiating it, and here Python needed the "
    "value of a traced array (a branch or a loop on a value). Outside `jax.jit`, on concrete "
    "inputs, adkit runs such a function define-by-run instead, so this input held no value: it "
    "comes from `jax.jit`, `jax.vmap` or another transformation. Express the branch with "
    "`jax.lax.cond`, `jax.lax.while_loop` or `jnp.where`, or call the adkit function outside "
    "that transformation."
)


@contextlib.contextmanager
def define_by_run() -> Iterator[None]:
    """Within this block, adkit differentiates functions of concrete inputs define-by-run.

    By default adkit stages a function to a jaxpr and runs define-by-run only when staging
    needs a value; this makes every call on concrete inputs run define-by-run (to compare the
    two engines, or to see the branch taken).

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> def f(x):
        ...     return jnp.sin(x) if x < 3 else jnp.cos(x)
        >>> with adkit.define_by_run():
        ...     print(round(float(adkit.grad(f)(1.0)), 4))
        0.5403
    """
    token = _FORCED.set(True)
    try:
        yield
    finally:
        _FORCED.reset(token)


def holds_values(leaves: Sequence[Any]) -> bool:
    """Whether every input holds a concrete value (an array, or a tracer carrying one)."""
    return all(jc.is_concrete(x) or jc.to_concrete_value(x) is not None for x in leaves)


def staged_or_none(
    fun: Callable[..., Any], args: tuple[Any, ...], has_aux: bool = False
) -> Staged | None:
    """`stage(fun, args)`, or None when the function is to run define-by-run instead."""
    leaves = jax.tree.leaves(args)
    if _FORCED.get() and holds_values(leaves):
        return None
    try:
        return stage(fun, args, has_aux)
    except STAGING_ERRORS as error:
        if holds_values(leaves):
            return None
        error.add_note(ADVICE)
        raise
