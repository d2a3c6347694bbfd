"""Taylor mode: walk a jaxpr carrying a truncated Taylor series per variable.

This is the evaluator's loop (see `_eval.py`) over a different kind of value: each variable
holds its coefficients `[x0, x1, ..., xK]` (normalised, xk = x⁽ᵏ⁾(0) / k!), a higher
coefficient a symbolic `Zero` where the series does not move it. For each equation:
- no operand has a nonzero higher coefficient: evaluate it, its outputs are constants;
- otherwise its rule in `JET_RULES` maps the operands' series to the outputs' series.
Outputs that are not floating point (integers, booleans, keys) keep only their value. Rules of
higher-order primitives (jit, cond, scan, while, custom_jvp) walk their sub-jaxprs with this
engine and live beside it, in this folder.

One pass costs O(K²) array operations per equation (Cauchy products and recurrences), where
K nested JVPs cost O(2ᴷ): see the page "Higher order".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from ... import _jax_compat as jc
from .._env import Env
from .._eval import eval_equation
from .._registry import JET_RULES
from .._zeros import instantiate, is_zero
from ..rules import jet as _rules  # noqa: F401  (registers the first-order rules)
from ..rules.jet._series import Series, constant, derivative, integrate


def jet_open(jaxpr: jc.Jaxpr, consts: Sequence[Any], args: Sequence[Series]) -> list[Series]:
    """The outputs' series, given the inputs' (the constants do not move)."""
    k = len(args[0]) - 1 if args else 0
    env: Env[Series] = Env(lambda lit: constant(lit.val, k))
    env.write_all(jaxpr.constvars, [constant(c, k) for c in consts])
    env.write_all(jaxpr.invars, list(args))
    for eqn in jaxpr.eqns:
        env.write_all(eqn.outvars, apply_equation(eqn, env.read_all(eqn.invars), k))
    return env.read_all(jaxpr.outvars)


def jet_closed(closed: jc.ClosedJaxpr, args: Sequence[Series]) -> list[Series]:
    return jet_open(closed.jaxpr, closed.consts, args)


def apply_equation(eqn: jc.JaxprEqn, operands: list[Series], k: int) -> list[Series]:
    """One equation: evaluate it when nothing moves, else apply its rule."""
    if not any(moves(o) for o in operands):
        return [constant(o, k) for o in eval_equation(eqn, [o[0] for o in operands])]
    rule = JET_RULES.lookup(eqn.primitive)
    with eqn.ctx.manager:
        out = rule(operands, **eqn.params)
    outs = out if eqn.primitive.multiple_results else [out]
    return [s if has_series(s[0]) else constant(s[0], k) for s in outs]


def moves(series: Series) -> bool:
    """Whether any higher coefficient is nonzero (not a symbolic `Zero`)."""
    return any(not is_zero(c) for c in series[1:])


def has_series(value: Any) -> bool:
    """Whether values of this type (a value or an abstract value) have Taylor series: floating
    point, real or complex."""
    dtype = value.dtype if hasattr(value, "dtype") else jax.typeof(value).dtype
    try:
        return bool(jnp.issubdtype(dtype, jnp.inexact))
    except TypeError:  # extended dtypes (PRNG keys)
        return False


# --- packing series into flat lists of arrays, for the bodies of loops and branches ---
def pack(series: Sequence[Series], moving: Sequence[bool]) -> list[Any]:
    """The primal of each value, then all its higher coefficients (as arrays) where `moving`."""
    flat: list[Any] = []
    for s, m in zip(series, moving, strict=True):
        flat.append(s[0])
        if m:
            flat.extend(instantiate(c) for c in s[1:])
    return flat


def unpack(flat: Sequence[Any], moving: Sequence[bool], k: int) -> list[Series]:
    """The inverse of `pack`: values that do not move get symbolic zeros."""
    it = iter(flat)
    out = []
    for m in moving:
        x0 = next(it)
        out.append([x0, *(next(it) for _ in range(k))] if m else constant(x0, k))
    return out


# --- following a JVP along the path: custom_jvp rules (calls.py) and derived rules (derived.py) ---
def along_jvp(
    jvp: jc.Jaxpr,
    consts: Sequence[Any],
    operands: Sequence[Series],
    moving: Sequence[bool],
    nonzero_out: Sequence[bool],
) -> list[Series]:
    """The outputs' series of a function given by its JVP, z' = ż(x, x'), along x's path.

    `jvp` takes the primals, then the tangents of the operands marked `moving`, and returns
    the primal outputs, then the tangents of those marked `nonzero_out`. It is walked at order
    K - 1 with x(t) and x'(t), and the tangents integrated: zₖ = (ż(x(t), x'(t)))ₖ₋₁ / k.
    """
    k = len(operands[0]) - 1
    primals = [o[:k] for o in operands]  # x(t) to order K - 1
    slopes_in = [_slope(o) for o, m in zip(operands, moving, strict=True) if m]
    outs = jet_open(jvp, consts, [*primals, *slopes_in])
    n = len(nonzero_out)
    slopes = iter(outs[n:])
    result = []
    for out, nonzero in zip(outs[:n], nonzero_out, strict=True):
        slope = next(slopes) if nonzero else None
        if slope is None or not has_series(out[0]):
            result.append(constant(out[0], k))
        else:
            result.append(integrate(out[0], [instantiate(slope[0]), *slope[1:]]))
    return result


def _slope(series: Series) -> Series:
    """x'(t)'s series (order K - 1), its value an array (a JVP's tangent input)."""
    d = derivative(series)
    return [instantiate(d[0]), *d[1:]]
