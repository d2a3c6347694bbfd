"""The evaluator: run a jaxpr by walking its equations, one primitive at a time.

This is the simplest adkit interpreter and the skeleton of all the others (forward mode, reverse
mode, the tape): keep an environment from variables to values, read each equation's inputs,
apply its primitive, write its outputs.

First-order primitives are applied with `bind`, JAX's way to run a primitive on any kind of
value. Higher-order primitives (`jit`, `cond`, `scan`, ...) carry sub-jaxprs; for those the
evaluator rebuilds the same construct with JAX's public API around a recursive walk of the
sub-jaxpr, so that the result stays ordinary JAX: it keeps the compilation boundaries of the
original program (so eager results equal `f(*args)` bit for bit), still composes with
`jax.jit`/`jax.vmap`, and keeps user-defined derivative rules visible to JAX's transformations.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax import lax

from .. import _jax_compat as jc
from ._env import Env, literal_value
from ._registry import EVAL_RULES
from ._while_predicate import batched_predicate, scalar_predicate


def eval_jaxpr(closed_jaxpr: jc.ClosedJaxpr, *args: Any) -> list[Any]:
    """Evaluates a closed jaxpr on flat arguments with adkit's interpreter.

    Args:
        closed_jaxpr: a jaxpr with its constants, as returned by `jax.make_jaxpr(f)(*args)`.
        *args: one array (or scalar) per input variable of the jaxpr, i.e. the flattened leaves
            of the arguments `f` was traced with.

    Returns:
        The list of output values, one per output variable (the flattened leaves of `f`'s
        result). Eagerly these equal `f(*args)` exactly; under `jax.jit` the program compiles to
        the same computation.

    Raises:
        TypeError: if `closed_jaxpr` is not a `ClosedJaxpr`, or the arguments do not match its
            input types.

    Examples:
        >>> import jax, jax.numpy as jnp, adkit
        >>> f = lambda x1, x2: jnp.log(x1) + x1 * x2 - jnp.sin(x2)
        >>> closed = jax.make_jaxpr(f)(2.0, 5.0)
        >>> [out] = adkit.eval_jaxpr(closed, 2.0, 5.0)
        >>> round(float(out), 4)
        11.6521
    """
    _check_arguments(closed_jaxpr, args)
    return eval_closed(closed_jaxpr, args)


def eval_closed(closed_jaxpr: jc.ClosedJaxpr, args: Sequence[Any]) -> list[Any]:
    """`eval_jaxpr` without argument checks, for sub-jaxprs whose inputs JAX already checked."""
    return eval_open(closed_jaxpr.jaxpr, closed_jaxpr.consts, args)


def eval_open(jaxpr: jc.Jaxpr, consts: Sequence[Any], args: Sequence[Any]) -> list[Any]:
    """Walks an open jaxpr: the loop every adkit interpreter is built around."""
    env: Env[Any] = Env(literal_value)
    env.write_all(jaxpr.constvars, consts)
    env.write_all(jaxpr.invars, args)
    for eqn in jaxpr.eqns:
        env.write_all(eqn.outvars, eval_equation(eqn, env.read_all(eqn.invars)))
    return env.read_all(jaxpr.outvars)


def eval_equation(eqn: jc.JaxprEqn, invals: Sequence[Any]) -> list[Any]:
    """Applies one equation to values; always returns the list of its outputs."""
    rule = EVAL_RULES.get(eqn.primitive)
    return rule(eqn, list(invals)) if rule else jc.bind_equation(eqn, invals)


# --- higher-order primitives: the evaluator's rules (EVAL_RULES) ---
@EVAL_RULES.register(jc.jit_p)
def _eval_jit(eqn, invals):
    # jit(body) -> jax.jit(walk of body): the same compilation unit as in the original program.
    return jitted_walk(eqn.params["jaxpr"], eqn.params["name"])(*invals)


@functools.lru_cache(maxsize=4096)
def jitted_walk(closed_jaxpr: jc.ClosedJaxpr, name: str):
    # Inner jaxprs of library functions are cached by JAX, so this cache hits on repeated calls.
    def walk(*args):
        return eval_closed(closed_jaxpr, args)

    walk.__name__ = walk.__qualname__ = name
    return jax.jit(walk)


@EVAL_RULES.register(jc.remat_p)
def _eval_remat(eqn, invals):
    # jax.checkpoint region: its body is an open jaxpr without constants.
    params = eqn.params
    body = lambda *args: eval_open(params["jaxpr"], (), args)
    remat = jax.checkpoint(body, prevent_cse=params["prevent_cse"], policy=params["policy"])
    return list(remat(*invals))


@EVAL_RULES.register(jc.custom_jvp_call_p)
@EVAL_RULES.register(jc.custom_vjp_call_p)
def _eval_custom_call(eqn, invals):
    # The primal body is walked by adkit; the user's derivative rules stay attached for JAX.
    body = functools.partial(call_closed, eqn.params["call_jaxpr"])
    return jc.bind_custom_call(eqn, body, invals)


def call_closed(closed_jaxpr, *args):
    """`eval_closed` with the arguments spread, for `functools.partial(call_closed, jaxpr)`."""
    return eval_closed(closed_jaxpr, args)


def switch(index, fns, *operands, platforms=None):
    """`lax.switch(index, fns, *operands)`, re-emitting a cond the way it was written.

    A cond from `lax.platform_dependent` carries `branches_platforms` (which platforms each
    branch is for; its index comes from the platform being compiled for): it is emitted again
    through `lax.platform_dependent`, so compiling for one platform keeps the other platforms'
    branches out of the program, gradients included.
    """
    if platforms is None:
        return lax.switch(index, fns, *operands)
    per_platform = {}
    for fn, names in zip(fns, platforms, strict=True):
        for name in names if names is not None else ("default",):
            per_platform[name] = fn
    return lax.platform_dependent(*operands, **per_platform)


@EVAL_RULES.register(jc.cond_p)
def _eval_cond(eqn, invals):
    # operand 0 is the branch index; the rest are passed to the chosen branch.
    index, *operands = invals
    branches = [functools.partial(call_closed, branch) for branch in eqn.params["branches"]]
    platforms = eqn.params.get("branches_platforms")
    return list(switch(index, branches, *operands, platforms=platforms))


@EVAL_RULES.register(jc.scan_p)
def _eval_scan(eqn, invals):
    # operands are [consts, initial carry, scanned xs]; outputs are [final carry, stacked ys].
    params = eqn.params
    n_consts, n_carry = params["num_consts"], params["num_carry"]
    consts, init, xs = _split(invals, n_consts, n_carry)

    def step(carry, x):
        out = eval_closed(params["jaxpr"], [*consts, *carry, *x])
        return out[:n_carry], out[n_carry:]

    carry, ys = lax.scan(
        step,
        init,
        xs,
        length=params["length"],
        reverse=params["reverse"],
        unroll=params["unroll"],
    )
    return [*carry, *ys]


@EVAL_RULES.register(jc.while_p)
def _eval_while(eqn, invals):
    # operands are [cond consts, body consts, initial carry].
    params = eqn.params
    if batched_predicate(params["cond_jaxpr"]):  # from vmap: one flag per batch element
        params, invals = scalar_predicate(params, invals)
    cond_consts, body_consts, init = _split(invals, params["cond_nconsts"], params["body_nconsts"])

    def keep_going(carry):
        [flag] = eval_closed(params["cond_jaxpr"], [*cond_consts, *carry])
        return flag

    def step(carry):
        return eval_closed(params["body_jaxpr"], [*body_consts, *carry])

    return list(lax.while_loop(keep_going, step, init))


def _split(values: Sequence[Any], *sizes: int) -> list[list[Any]]:
    """Splits `values` into consecutive groups of the given sizes plus the remainder."""
    groups, start = [], 0
    for size in sizes:
        groups.append(list(values[start : start + size]))
        start += size
    groups.append(list(values[start:]))
    return groups


def _check_arguments(closed_jaxpr: Any, args: Sequence[Any]) -> None:
    if not isinstance(closed_jaxpr, jc.ClosedJaxpr):
        raise TypeError(
            f"`adkit.eval_jaxpr` expects a ClosedJaxpr such as `jax.make_jaxpr(f)(*args)` returns, "
            f"but received a {type(closed_jaxpr).__name__}. Pass the closed jaxpr itself "
            "(not `.jaxpr`), followed by the flattened arguments."
        )
    expected = closed_jaxpr.in_avals
    if len(args) != len(expected):
        raise TypeError(
            f"`adkit.eval_jaxpr` received {len(args)} argument(s) but the jaxpr takes "
            f"{len(expected)} ({', '.join(a.str_short() for a in expected)}). Pass the flattened "
            "leaves of the arguments, e.g. `eval_jaxpr(closed, *jax.tree.leaves(args))`."
        )
    for position, (arg, aval) in enumerate(zip(args, expected, strict=True)):
        shape = np.shape(arg)
        dtype = getattr(arg, "dtype", None)
        if shape != aval.shape or (dtype is not None and dtype != aval.dtype):
            received = f"{dtype}{list(shape)}" if dtype is not None else f"{type(arg).__name__}"
            raise TypeError(
                f"`adkit.eval_jaxpr` argument {position} is {received} but the jaxpr expects "
                f"{aval.str_short()}. Trace the jaxpr with arguments of the types you will "
                "evaluate it on."
            )
