"""`checkpoint.while_loop`: a reverse-differentiable while loop, checkpointed online.

The number of steps n is known only when the loop stops, so the forward pass places its
snapshots online (`_online.place`: optimal up to (s+1)(s+2)/2 steps, then the level rule),
and the reverse pass runs the online reversal (`_online.next_action`, iterative revolve) as a
`lax.while_loop` over actions. As for `checkpoint.scan`, the loop is a `jax.custom_jvp`
function whose tangent is one primitive: evaluated (forward mode), the loop's JVP; transposed
(reverse mode), the reverse pass; batched, the same primitive with one more leading batch axis
(every operand batched, each member reversed on its own number of steps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _jax_compat as jc
from ..ops._primitive import define_primitive, is_undefined
from . import _online, _seed
from ._tangent import ReverseSweep, call, cut, is_float, linear_jvp, put


def while_loop(
    cond_fun: Callable[[Any], Any],
    body_fun: Callable[[Any], Any],
    init_val: Any,
    *,
    max_steps: int,
    snapshots: int | None = None,
):
    """`lax.while_loop(cond_fun, body_fun, init_val)`, stopped after at most `max_steps`
    steps, and reverse-differentiable holding at most `snapshots` states.

    Args:
        cond_fun: as in `lax.while_loop`; it may close over arrays.
        body_fun: as in `lax.while_loop`; it may close over arrays (its parameters,
            differentiated).
        init_val: as in `lax.while_loop`.
        max_steps: the most steps the loop runs (it stops there even if `cond_fun` holds).
        snapshots: the states held at once, the initial one among them (default 8). The
            evaluations are revolve's optimum while the loop runs at most (s+1)(s+2)/2 steps.

    Returns:
        The final loop value.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit import checkpoint
        >>> def loss(w):  # halve x under a contraction until it is small
        ...     body = lambda c: (c[0] + 1, jnp.tanh(w * c[1]))
        ...     return checkpoint.while_loop(lambda c: c[1] > 0.1, body, (0, 1.0),
        ...                                  max_steps=100, snapshots=3)[1]
        >>> def plain(w):
        ...     body = lambda c: (c[0] + 1, jnp.tanh(w * c[1]))
        ...     return jax.lax.while_loop(lambda c: c[1] > 0.1, body, (0, 1.0))[1]
        >>> bool(jnp.allclose(jax.grad(loss)(0.5), jax.jvp(plain, (0.5,), (1.0,))[1]))
        True
    """
    if not (isinstance(max_steps, int) and max_steps >= 0):
        raise ValueError(f"`max_steps` must be a non-negative integer, but received {max_steps!r}.")
    snapshots = 8 if snapshots is None else snapshots
    if not (isinstance(snapshots, int) and snapshots >= 1):
        raise ValueError(
            "`snapshots` must be a positive integer (the states held at once, the loop's input "
            f"among them), but received {snapshots!r}."
        )
    _online.placement_init(snapshots, max_steps=max(max_steps, 1))  # checks the integer range
    leaves, tree = jax.tree.flatten(init_val)
    body, consts = jax.closure_convert(lambda c: body_fun(c), init_val)
    cond, cond_consts = jax.closure_convert(lambda c: cond_fun(c), init_val)

    def flat(f, n_consts):
        def run(*args):
            k, c = cut(args, [n_consts])
            out = f(tree.unflatten(c), *k)
            return jax.tree.leaves(out)

        return run

    avals = lambda values: [jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)) for a in values]
    step = jax.make_jaxpr(flat(body, len(consts)))(*avals(consts), *avals(leaves))
    if [(a.shape, a.dtype) for a in step.out_avals] != [(a.shape, a.dtype) for a in avals(leaves)]:
        raise TypeError(
            "The body of `checkpoint.while_loop` must return a value of the same structure, "
            "shapes and dtypes as `init_val`."
        )
    test = jax.make_jaxpr(flat(cond, len(cond_consts)))(*avals(cond_consts), *avals(leaves))
    params = dict(step=step, test=test, counts=(len(consts), len(cond_consts), len(leaves)))
    params.update(max_steps=max_steps, snapshots=snapshots)
    out = _loop(**params)(list(consts), list(cond_consts), leaves)
    return tree.unflatten(out)


def _run_plain(step, test, counts, max_steps, consts, cond_consts, init):
    nc = counts[2]
    keep_going = lambda s: (s[0] < max_steps) & jc.jaxpr_as_fun(test)(*cond_consts, *s[1])[0]
    body = lambda s: (s[0] + 1, call(step, nc, consts, s[1], [])[0])
    return lax.while_loop(keep_going, body, (jnp.int32(0), list(init)))[1]


def _loop(step, test, counts, max_steps, snapshots):
    @jax.custom_jvp
    def run(consts, cond_consts, init):
        return _run_plain(step, test, counts, max_steps, consts, cond_consts, init)

    def run_jvp(primals, tangents):
        consts, cond_consts, init = primals
        out, residuals = _forward(step, test, counts, max_steps, snapshots, *primals)
        values = [*consts, *init]
        flat_tangents = [*tangents[0], *tangents[2]]
        perturbed = tuple(
            is_float(p) and not isinstance(t, jax.custom_derivatives.SymbolicZero)
            for p, t in zip(values, flat_tangents, strict=True)
        )
        if any(perturbed):
            chosen = [t for t, m in zip(flat_tangents, perturbed, strict=True) if m]
            operands = [*consts, *cond_consts, *init, *residuals, *chosen]
            floats = iter(
                while_tangent_p.bind(
                    *operands,
                    step=step,
                    test=test,
                    counts=counts,
                    perturbed=perturbed,
                    max_steps=max_steps,
                    batch=0,
                )
            )
        else:
            floats = iter(jnp.zeros_like(o) for o in out if is_float(o))
        return out, [
            next(floats) if is_float(o) else np.zeros(np.shape(o), jax.dtypes.float0) for o in out
        ]

    run.defjvp(run_jvp, symbolic_zeros=True)
    return run


def _forward(step, test, counts, max_steps, snapshots, consts, cond_consts, init):
    """The forward pass: the final value, and the residuals `[*buffer, *held, n, positions]`
    (the snapshot buffer, one row per free slot and a spare row; x_{n-1}; the number of steps;
    the step stored in each slot)."""
    nc = counts[2]
    buffer = [jnp.zeros((snapshots, *jnp.shape(a)), jnp.result_type(a)) for a in init]
    placement = _online.placement_init(snapshots)

    def keep_going(s):
        return (s[0] < max_steps) & jc.jaxpr_as_fun(test)(*cond_consts, *s[1])[0]

    def body(s):
        i, x, previous, buffer, placement = s
        # step i runs: now x_{i-1} (previous) can be placed
        placed, slot = _online.place(
            placement, jnp.maximum(i - 1, 0).astype(placement.target.dtype)
        )
        first = i == 0
        placement = jax.tree.map(lambda old, new: jnp.where(first, old, new), placement, placed)
        slot = jnp.where(first, 0, slot)
        row = jnp.where(slot > 0, slot - 1, snapshots - 1)  # else the spare row
        buffer = [put(b, row, p) for b, p in zip(buffer, previous, strict=True)]
        return i + 1, call(step, nc, consts, x, [])[0], x, buffer, placement

    state = (jnp.int32(0), list(init), list(init), buffer, placement)
    n, out, held, buffer, placement = lax.while_loop(keep_going, body, state)
    return out, [*buffer, *held, n, placement.positions]


# --- the tangent primitive ---
def _split_operands(operands, counts, perturbed):
    nk, nq, nc = counts
    consts, cond_consts, init, buffer, held, rest = cut(operands, [nk, nq, nc, nc, nc])
    n, positions, tangents = rest[0], rest[1], rest[2:]
    return consts, cond_consts, init, buffer, held, n, positions, tangents


def _impl(*operands, step, test, counts, perturbed, max_steps, batch):
    if batch:  # one leading batch axis per level: the unbatched evaluation, vmapped
        inner = dict(step=step, test=test, counts=counts, perturbed=perturbed)
        inner.update(max_steps=max_steps, batch=batch - 1)
        return jax.vmap(lambda *ops: _impl(*ops, **inner))(*operands)
    consts, cond_consts, init, _, _, _, _, tangents = _split_operands(operands, counts, perturbed)
    nk = counts[0]
    mask_k, mask_c = perturbed[:nk], perturbed[nk:]

    def loop(k, c):
        chosen_k, chosen_c = iter(k), iter(c)
        consts_ = [next(chosen_k) if m else v for v, m in zip(consts, mask_k, strict=True)]
        init_ = [next(chosen_c) if m else v for v, m in zip(init, mask_c, strict=True)]
        out = _run_plain(step, test, counts, max_steps, consts_, cond_consts, init_)
        return [o for o in out if is_float(o)]

    primals = (
        [v for v, m in zip(consts, mask_k, strict=True) if m],
        [v for v, m in zip(init, mask_c, strict=True) if m],
    )
    t_k, t_c = cut(tangents, [sum(mask_k)])
    return jax.jvp(loop, primals, (t_k, t_c))[1]


def _abstract_eval(*avals, step, test, counts, perturbed, max_steps, batch):
    nk, nq, nc = counts  # the tangents of the float leaves of the value (batched as the operands)
    return [jc.ShapedArray(a.shape, a.dtype) for a in avals[nk + nq : nk + nq + nc] if is_float(a)]


def _jvp(primals, tangents, **params):  # linear in the tangents: see `_tangent._jvp`
    return linear_jvp(while_tangent_p, _impl, primals, tangents, params)


def _transpose(cts, *operands, step, test, counts, perturbed, max_steps, batch):
    if batch:  # each member's reverse pass on its own: vmap the unbatched transposition
        undefined = [is_undefined(o) for o in operands]
        defined = [o for o, u in zip(operands, undefined, strict=True) if not u]

        def one(cts, defined):
            values = iter(defined)
            ops = [o if u else next(values) for o, u in zip(operands, undefined, strict=True)]
            inner = dict(step=step, test=test, counts=counts, perturbed=perturbed)
            out = _transpose(cts, *ops, **inner, max_steps=max_steps, batch=batch - 1)
            return [o for o, u in zip(out, undefined, strict=True) if u]

        answers = iter(jax.vmap(one)(list(cts), defined))
        return [next(answers) if u else None for u in undefined]
    consts, _, init, buffer, held, n, positions, tangents = _split_operands(
        operands, counts, perturbed
    )
    nk = counts[0]
    wanted = iter(is_undefined(t) for t in tangents)
    want = [bool(m) and next(wanted) for m in perturbed]
    sweep = ReverseSweep(step, None, consts, init, [], want[:nk], [])  # the scan's, without xs
    spare = buffer[0].shape[0] - 1

    def until_reverse(state):
        """Runs the actions up to the next reverse, branch-free: a restore selects a slot, an
        advance runs `count` steps (0 for the other kinds), a store writes its slot (the
        others write the spare row)."""

        def act(s):
            reversal, _, current, buffer = s
            reversal, kind, _, count, slot = _online.next_action(reversal)
            current = [
                jnp.where(kind == _online.RESTORE, r, c)
                for c, r in zip(current, sweep.read(buffer, slot), strict=True)
            ]
            steps = jnp.where(kind == _online.ADVANCE, count, 0)
            current = lax.fori_loop(0, steps, sweep.advance, current)
            row = jnp.where(kind == _online.STORE, slot - 1, spare)
            buffer = [put(b, row, c) for b, c in zip(buffer, current, strict=True)]
            return reversal, kind, current, buffer

        pending = lambda s: s[1] != _online.REVERSE
        start = (state[0], jnp.asarray(-1, state[0].current.dtype), *state[1:])
        return lax.while_loop(pending, act, start)

    def reverse_one(_, s):  # one reversed step: the actions before it, then its VJP
        reversal, current, buffer, ct, acc = s
        reversal, _, current, buffer = until_reverse((reversal, current, buffer))
        _, pullback = sweep.linearize(sweep.consts, [], current)
        ct, acc, _ = sweep.pull(0, pullback, ct, acc, [], [])
        return reversal, current, buffer, ct, acc

    reversal = _online.reversal_init(positions, n)
    ct = list(cts[: len(sweep.fc)])
    acc = [_seed.start(sweep.consts[j], jnp.zeros_like(sweep.consts[j])) for j in sweep.fk]
    state = (reversal, list(held), list(buffer), ct, acc)
    *_, ct, acc = lax.fori_loop(0, n, reverse_one, state)  # n reverses, one per step
    floats = [m for m, a in zip(want[nk:], init, strict=True) if is_float(a)]
    out = iter(acc + [c for c, m in zip(ct, floats, strict=True) if m])
    answers = [next(out) if w else None for w in want]
    return [None] * (len(operands) - len(tangents)) + [
        a for a, m in zip(answers, perturbed, strict=True) if m
    ]


def _batch(args, dims, **params):
    size = next(a.shape[d] for a, d in zip(args, dims, strict=True) if d is not None)
    moved = [
        jnp.moveaxis(a, d, 0) if d is not None else jnp.broadcast_to(a, (size, *jnp.shape(a)))
        for a, d in zip(args, dims, strict=True)
    ]
    out = while_tangent_p.bind(*moved, **{**params, "batch": params["batch"] + 1})
    return out, [0] * len(out)


while_tangent_p = define_primitive(
    "checkpoint_while_tangent",
    _impl,
    jvp=_jvp,
    transpose=_transpose,
    batch=_batch,
    abstract_eval=_abstract_eval,
    multiple_results=True,
)
