"""JVP rules for the higher-order primitives: jit, checkpoint, cond, scan, while, custom rules.

Each transforms its sub-jaxprs with `jvp_jaxpr` (cached per sub-jaxpr and zero pattern) and
rebuilds the same construct around them, so the JVP of a `scan` is a `scan`, of a `jit` a `jit`.
Loops need the set of nonzero carry tangents to be a fixed point: a carry whose tangent starts
at zero may pick one up in the body, so the pattern is widened until it stops changing.
"""

from __future__ import annotations

import functools

import jax
from jax import lax

from ... import _jax_compat as jc
from .._eval import eval_closed, eval_open, jitted_walk
from .._jvp import jvp_jaxpr
from .._zeros import Zero, instantiate, is_zero
from ._table import register_jvp


def _nonzero(tangents) -> tuple[bool, ...]:
    return tuple(not is_zero(t) for t in tangents)


def _nonzero_values(tangents) -> list:
    return [t for t in tangents if not is_zero(t)]


def _merge(primal_outs, nonzero_out, nz_values):
    """Tangents for `primal_outs`: the given values where nonzero, symbolic zeros elsewhere."""
    values = iter(nz_values)
    return [
        next(values) if nz else Zero.like(p) for p, nz in zip(primal_outs, nonzero_out, strict=True)
    ]


def _call(closed, *args):
    return eval_closed(closed, args)


@register_jvp(jc.jit_p)
def _jit_jvp(primals, tangents, *, jaxpr, name, **_):
    # jvp(jit(f)) = jit(jvp(f)): the tangent computation compiles with the primal one
    rule, nonzero_out = jvp_jaxpr(jaxpr, _nonzero(tangents))
    outs = jitted_walk(rule, f"jvp({name})")(*primals, *_nonzero_values(tangents))
    n = len(jaxpr.out_avals)
    return outs[:n], _merge(outs[:n], nonzero_out, outs[n:])


@register_jvp(jc.remat_p)
def _remat_jvp(primals, tangents, *, jaxpr, prevent_cse, differentiated, policy):
    # jvp(checkpoint(f)) = checkpoint(jvp(f)), with the same saving policy
    del differentiated
    rule, nonzero_out = jvp_jaxpr(jc.close_jaxpr(jaxpr), _nonzero(tangents))
    body = functools.partial(_call, rule)
    remat = jax.checkpoint(body, prevent_cse=prevent_cse, policy=policy)
    outs = list(remat(*primals, *_nonzero_values(tangents)))
    n = len(jaxpr.outvars)
    return outs[:n], _merge(outs[:n], nonzero_out, outs[n:])


@register_jvp(jc.cond_p)
def _cond_jvp(primals, tangents, *, branches, **_):
    # jvp(cond(i, f0, f1, ...)) = cond(i, jvp(f0), jvp(f1), ...); every branch returns the
    # tangents that any branch makes nonzero
    index, *operands = primals
    nonzero_in = _nonzero(tangents[1:])
    patterns = [jvp_jaxpr(branch, nonzero_in)[1] for branch in branches]
    nonzero_out = tuple(any(column) for column in zip(*patterns, strict=True))
    rules = [jvp_jaxpr(branch, nonzero_in, nonzero_out)[0] for branch in branches]
    fns = [functools.partial(_call, rule) for rule in rules]
    outs = lax.switch(index, fns, *operands, *_nonzero_values(tangents[1:]))
    n = len(branches[0].out_avals)
    return outs[:n], _merge(outs[:n], nonzero_out, outs[n:])


def _carry_fixed_point(body, nonzero_before, nonzero_carry, nonzero_after, num_carry):
    """Widens the nonzero carry tangents until the body maps the pattern into itself."""
    carry = list(nonzero_carry)
    while True:
        _, out = jvp_jaxpr(body, (*nonzero_before, *carry, *nonzero_after))
        widened = [a or b for a, b in zip(carry, out[:num_carry], strict=True)]
        if widened == carry:
            return tuple(carry)
        carry = widened


@register_jvp(jc.scan_p)
def _scan_jvp(primals, tangents, *, reverse, length, jaxpr, num_consts, num_carry, unroll, **_):
    # jvp(scan(f)) = scan(jvp(f)): tangents of the consts are consts, of the carry carried,
    # of the xs scanned; the stacked ys get stacked tangents
    nc, nk = num_consts, num_carry
    consts, init, xs = primals[:nc], primals[nc : nc + nk], primals[nc + nk :]
    t_consts, t_init, t_xs = tangents[:nc], tangents[nc : nc + nk], tangents[nc + nk :]
    nz_consts, nz_xs = _nonzero(t_consts), _nonzero(t_xs)
    nz_carry = _carry_fixed_point(jaxpr, nz_consts, _nonzero(t_init), nz_xs, nk)
    n_ys = len(jaxpr.out_avals) - nk
    rule, nonzero_out = jvp_jaxpr(
        jaxpr, (*nz_consts, *nz_carry, *nz_xs), (*nz_carry, *[False] * n_ys)
    )
    const_t = _nonzero_values(t_consts)
    init_t = [instantiate(t) for t, nz in zip(t_init, nz_carry, strict=True) if nz]
    n_carry_t = sum(nz_carry)

    def step(carry, x):
        c, ct = carry
        xv, xt = x
        outs = eval_closed(rule, [*consts, *c, *xv, *const_t, *ct, *xt])
        primal_outs, tangent_outs = outs[: nk + n_ys], outs[nk + n_ys :]
        return (primal_outs[:nk], tangent_outs[:n_carry_t]), (
            primal_outs[nk:],
            tangent_outs[n_carry_t:],
        )

    (carry, carry_t), (ys, ys_t) = lax.scan(
        step, (list(init), init_t), (list(xs), _nonzero_values(t_xs)),
        length=length, reverse=reverse, unroll=unroll,
    )  # fmt: skip
    outs = [*carry, *ys]
    return outs, _merge(outs, nonzero_out, [*carry_t, *ys_t])


@register_jvp(jc.while_p)
def _while_jvp(primals, tangents, *, cond_nconsts, cond_jaxpr, body_nconsts, body_jaxpr):
    # jvp(while(cond, body)) = while(cond on primals, jvp(body)); the condition has no tangent
    nc, nb = cond_nconsts, body_nconsts
    cond_consts, body_consts, init = primals[:nc], primals[nc : nc + nb], primals[nc + nb :]
    t_body_consts, t_init = tangents[nc : nc + nb], tangents[nc + nb :]
    nz_consts = _nonzero(t_body_consts)
    nz_carry = _carry_fixed_point(body_jaxpr, nz_consts, _nonzero(t_init), (), len(init))
    rule, _ = jvp_jaxpr(body_jaxpr, (*nz_consts, *nz_carry), nz_carry)
    const_t = _nonzero_values(t_body_consts)
    n = len(init)

    def keep_going(carry):
        c, _ = carry
        return eval_closed(cond_jaxpr, [*cond_consts, *c])[0]

    def step(carry):
        c, ct = carry
        outs = eval_closed(rule, [*body_consts, *c, *const_t, *ct])
        return outs[:n], outs[n:]

    init_t = [instantiate(t) for t, nz in zip(t_init, nz_carry, strict=True) if nz]
    carry, carry_t = lax.while_loop(keep_going, step, (list(init), init_t))
    return list(carry), _merge(carry, nz_carry, carry_t)


@register_jvp(jc.custom_jvp_call_p)
def _custom_jvp_call_jvp(primals, tangents, *, call_jaxpr, jvp_jaxpr_fun, num_consts,
                         symbolic_zeros):  # fmt: skip
    # the user's rule: evaluate the JVP jaxpr it defines (constants hoisted out of the function
    # body are not differentiated, as in JAX)
    params = {"jvp_jaxpr_fun": jvp_jaxpr_fun}
    args, arg_tangents = primals[num_consts:], tangents[num_consts:]
    if not symbolic_zeros:
        arg_tangents = [instantiate(t) for t in arg_tangents]
    zero_flags = [is_zero(t) for t in arg_tangents]
    rule, consts, out_zero = jc.custom_jvp_rule(params, zero_flags)
    outs = eval_open(rule, consts, [*args, *_nonzero_values(arg_tangents)])
    n = len(out_zero)
    return outs[:n], _merge(outs[:n], [not z for z in out_zero], outs[n:])
