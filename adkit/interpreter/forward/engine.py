"""Forward mode: walk a jaxpr carrying a (primal, tangent) pair per variable.

This is the evaluator's loop (see `_eval.py`) with one change: each equation is applied through
its JVP rule, which maps input pairs to output pairs. Tangents that are known to be zero are
kept symbolic (`Zero`); an equation whose input tangents are all zero is simply evaluated, so a
JVP with respect to one argument does no tangent work for the others.

Higher-order primitives (jit, cond, scan, ...) are differentiated by transforming their
sub-jaxprs into JVP jaxprs (`jvp_jaxpr`), cached per sub-jaxpr and pattern of zero tangents.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Sequence
from typing import Any

import jax

from ... import _jax_compat as jc
from .._env import Env
from .._eval import eval_equation
from .._registry import JVP_RULES
from .._zeros import Zero, instantiate, is_zero


def jvp_open(
    jaxpr: jc.Jaxpr, consts: Sequence[Any], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[list[Any], list[Any]]:
    """Pushes `tangents` through `jaxpr` at `primals`; constants get zero tangents."""
    env: Env[tuple[Any, Any]] = Env(lambda lit: (lit.val, Zero.from_aval(lit.aval)))
    env.write_all(jaxpr.constvars, [(c, Zero.like(c)) for c in consts])
    env.write_all(jaxpr.invars, list(zip(primals, tangents, strict=True)))
    for eqn in jaxpr.eqns:
        pairs = env.read_all(eqn.invars)
        xs = [p for p, _ in pairs]
        ts = [t for _, t in pairs]
        if all(is_zero(t) for t in ts):
            outs = eval_equation(eqn, xs)
            touts = [Zero.like(o) for o in outs]
        else:
            rule = JVP_RULES.lookup(eqn.primitive)
            with eqn.ctx.manager:
                out, tout = rule(xs, ts, **eqn.params)
            multiple = eqn.primitive.multiple_results
            outs, touts = (list(out), list(tout)) if multiple else ([out], [tout])
        env.write_all(eqn.outvars, list(zip(outs, touts, strict=True)))
    results = env.read_all(jaxpr.outvars)
    return [p for p, _ in results], [t for _, t in results]


def jvp_closed(closed: jc.ClosedJaxpr, primals, tangents) -> tuple[list[Any], list[Any]]:
    return jvp_open(closed.jaxpr, closed.consts, primals, tangents)


# True while reverse mode builds the linearization it will transpose: the one place where
# forward mode and reverse mode differ (a custom_vjp function may be linearized, not pushed
# forward; see rules/custom_vjp.py).
LINEARIZING: contextvars.ContextVar[bool] = contextvars.ContextVar("linearizing", default=False)


@contextlib.contextmanager
def linearizing():
    token = LINEARIZING.set(True)
    try:
        yield
    finally:
        LINEARIZING.reset(token)


def jvp_jaxpr(
    closed: jc.ClosedJaxpr,
    nonzero_in: tuple[bool, ...],
    instantiate_out: tuple[bool, ...] | None = None,
) -> tuple[jc.ClosedJaxpr, tuple[bool, ...]]:
    """The JVP of a closed jaxpr as a new closed jaxpr (see `_jvp_jaxpr`), cached."""
    return _jvp_jaxpr(closed, nonzero_in, instantiate_out, LINEARIZING.get())


@functools.lru_cache(maxsize=4096)
def _jvp_jaxpr(
    closed: jc.ClosedJaxpr,
    nonzero_in: tuple[bool, ...],
    instantiate_out: tuple[bool, ...] | None,
    linearizing: bool,
) -> tuple[jc.ClosedJaxpr, tuple[bool, ...]]:
    """The JVP of a closed jaxpr as a new closed jaxpr, for sub-jaxprs of jit, cond, scan, ...

    The new jaxpr takes the primals followed by the nonzero tangents (`nonzero_in`) and returns
    the primal outputs followed by the nonzero output tangents. Output tangents listed in
    `instantiate_out` are returned even when zero (so branches and loop carries agree).

    Returns:
        `(jvp_closed_jaxpr, nonzero_out)`.
    """
    n = len(nonzero_in)
    nonzero_out: list[bool] = []

    def flat_jvp(*args):
        primals, nz_tangents = args[:n], iter(args[n:])
        tangents = [
            next(nz_tangents) if nz else Zero.from_aval(aval)
            for nz, aval in zip(nonzero_in, closed.in_avals, strict=True)
        ]
        outs, touts = jvp_closed(closed, primals, tangents)
        if instantiate_out is not None:
            touts = [
                instantiate(t) if inst else t
                for t, inst in zip(touts, instantiate_out, strict=True)
            ]
        nonzero_out[:] = [not is_zero(t) for t in touts]
        return [*outs, *(t for t in touts if not is_zero(t))]

    in_avals = [
        *closed.in_avals,
        *(tangent_aval(a) for a, nz in zip(closed.in_avals, nonzero_in, strict=True) if nz),
    ]
    structs = [aval_struct(a) for a in in_avals]
    new_closed = jax.make_jaxpr(flat_jvp)(*structs)
    return new_closed, tuple(nonzero_out)


def aval_struct(aval) -> jax.ShapeDtypeStruct:
    """A stand-in for tracing with a value of abstract type `aval`, keeping its layout on a
    device mesh (with explicit sharding, shard_map checks that inputs are laid out as declared)."""
    sharding = getattr(aval, "sharding", None)
    if sharding is None or sharding.mesh.empty:
        sharding = None
    return jax.ShapeDtypeStruct(aval.shape, aval.dtype, weak_type=aval.weak_type, sharding=sharding)


def tangent_aval(aval):
    """The abstract type of a tangent for a primal of abstract type `aval`."""
    return aval.update(dtype=jc.primal_dtype_to_tangent_dtype(aval.dtype))


# --- helpers for the rules of higher-order primitives (forward/calls.py, cond.py, scan.py, ...) ---
def nonzero_pattern(tangents) -> tuple[bool, ...]:
    """Which tangents are not symbolic zeros."""
    return tuple(not is_zero(t) for t in tangents)


def nonzero_values(tangents) -> list[Any]:
    """The tangents that are not symbolic zeros, in order."""
    return [t for t in tangents if not is_zero(t)]


def merge_tangents(primal_outs, nonzero_out, nz_values) -> list[Any]:
    """Tangents for `primal_outs`: the given values where nonzero, symbolic zeros elsewhere."""
    values = iter(nz_values)
    return [
        next(values) if nz else Zero.like(p) for p, nz in zip(primal_outs, nonzero_out, strict=True)
    ]


def carry_fixed_point(body, nonzero_before, nonzero_carry, nonzero_after, num_carry):
    """Widens a loop's nonzero carry tangents until the body maps the pattern into itself."""
    carry = list(nonzero_carry)
    while True:
        _, out = jvp_jaxpr(body, (*nonzero_before, *carry, *nonzero_after))
        widened = [a or b for a, b in zip(carry, out[:num_carry], strict=True)]
        if widened == carry:
            return tuple(carry)
        carry = widened
