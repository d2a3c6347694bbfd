"""`checkpoint.scan`: `lax.scan` whose reverse pass follows a checkpointing schedule.

The forward pass is a scan that stores the schedule's snapshots (and keeps x_{L-1}); the
reverse pass, a `jax.custom_vjp` rule, executes the rest of the schedule as a loop over its
actions (advance, store, restore, reverse), so memory is the snapshots plus one step's
residuals, whatever L. The loop's parameters (closed-over arrays) get ONE cotangent
accumulator, added to at every reversed step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ._schedule import schedule as make_schedule

SCHEDULES = ("revolve", "sqrt", "store_all")


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    *,
    snapshots: int | None = None,
    schedule: str = "revolve",
    reverse: bool = False,
):
    """`lax.scan(f, init, xs, length, reverse=reverse)`, differentiated under a checkpointing
    schedule: at most `snapshots` states are held, and the fewest steps are recomputed.

    Args:
        f: the step, `f(carry, x) -> (carry, y)`; it may close over arrays (its parameters).
        init, xs, length, reverse: as in `lax.scan`.
        snapshots: the states held at once, the initial one among them (revolve; default
            ⌈log₂ L⌉, at least 2).
        schedule: `"revolve"` (binomial: the fewest evaluations for `snapshots`), `"sqrt"`
            (segments of √L steps), or `"store_all"` (`lax.scan` itself: every step's residuals).

    Returns:
        `(carry, ys)`, as `lax.scan`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from adkit import checkpoint
        >>> def loss(w):
        ...     step = lambda h, x: (jnp.tanh(w * h + x), h)
        ...     h, _ = checkpoint.scan(step, 0.0, jnp.linspace(0, 1, 100), snapshots=4)
        ...     return h
        >>> def plain(w):
        ...     return jax.lax.scan(lambda h, x: (jnp.tanh(w * h + x), h), 0.0,
        ...                         jnp.linspace(0, 1, 100))[0]
        >>> bool(jnp.allclose(jax.grad(loss)(0.5), jax.grad(plain)(0.5)))
        True
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"`schedule` must be one of {SCHEDULES}, but received {schedule!r}.")
    steps = _length(xs, length)
    if schedule == "store_all" or steps == 0:
        return lax.scan(f, init, xs, length=length, reverse=reverse)
    if reverse:  # run the steps last to first: flip xs and ys
        flip = lambda tree: jax.tree.map(lambda a: jnp.flip(a, 0), tree)
        carry, ys = scan(f, init, flip(xs), steps, snapshots=snapshots, schedule=schedule)
        return carry, flip(ys)
    if snapshots is None:
        snapshots = max(2, math.ceil(math.log2(max(steps, 2))))
    actions = make_schedule(steps, snapshots, "revolve" if schedule == "revolve" else "sqrt")
    x0 = jax.tree.map(lambda a: a[0], xs)
    step, consts = jax.closure_convert(lambda c, x: f(c, x), init, x0)
    return _checkpointed(step, actions, steps)(tuple(consts), init, xs)


def _length(xs, length):
    sizes = {np.shape(a)[0] for a in jax.tree.leaves(xs)}
    if length is not None:
        sizes.add(length)
    if len(sizes) != 1:
        raise ValueError(
            "`checkpoint.scan` needs the loop's length: pass `length=`, or `xs` whose leaves "
            f"share their leading axis (received leading axes {sorted(sizes)})."
        )
    return sizes.pop()


def _checkpointed(step, actions, steps):
    """The custom-VJP scan for one schedule (a Python list of actions)."""
    first = next(k for k, a in enumerate(actions) if a.kind == "reverse")
    stores = {a.index: a.slot for a in actions[:first] if a.kind == "store"}
    slots = max([a.slot for a in actions if a.kind == "store"], default=0)
    segments = _segments(actions[first + 1 :], slots)
    store_slot = np.zeros(steps, np.int32)  # the slot x_i goes to in the forward pass, or 0
    for index, slot in stores.items():
        store_slot[index] = slot
    call = lambda consts, carry, x: step(carry, x, *consts)

    at = lambda tree, i: jax.tree.map(lambda a: a[i], tree)

    def forward(consts, init, xs):
        # one row per slot, and a spare row that the segments' padding writes into
        buffer = jax.tree.map(lambda a: jnp.zeros((slots + 1,) + jnp.shape(a), a.dtype), init)

        def body(state, inputs):
            carry, buffer = state
            i, slot = inputs
            buffer = jax.tree.map(
                lambda b, c: b.at[jnp.maximum(slot - 1, 0)].set(
                    jnp.where(slot > 0, c, b[jnp.maximum(slot - 1, 0)])
                ),
                buffer,
                carry,
            )
            carry, y = call(consts, carry, at(xs, i))  # xs read in place, not sliced
            return (carry, buffer), y

        indices = (jnp.arange(steps - 1), jnp.asarray(store_slot[:-1]))
        (held, buffer), ys = lax.scan(body, (init, buffer), indices)
        carry, y_last = call(consts, held, at(xs, steps - 1))
        ys = jax.tree.map(lambda a, b: jnp.concatenate([a, b[None]]), ys, y_last)
        return (carry, ys), (buffer, held)

    @jax.custom_vjp
    def run(consts, init, xs):
        return forward(consts, init, xs)[0]

    def run_fwd(consts, init, xs):
        # symbolic zeros: each leaf says whether it is perturbed. The inputs `xs` get a
        # cotangent buffer (L x their size) only when they are being differentiated; the
        # answer travels to bwd in the residuals' structure (() or None), which is static.
        xs_perturbed = any(leaf.perturbed for leaf in jax.tree.leaves(xs, is_leaf=_is_primal))
        consts, init, xs = jax.tree.map(lambda p: p.value, (consts, init, xs), is_leaf=_is_primal)
        out, (buffer, held) = forward(consts, init, xs)
        return out, (consts, init, xs, buffer, held, () if xs_perturbed else None)

    def run_bwd(residuals, cotangents):
        consts, init, xs, buffer, held, xs_perturbed = residuals
        cotangents = jax.tree.map(_instantiate, cotangents, is_leaf=_is_symbolic_zero)
        ct_carry, ct_ys = cotangents
        at = lambda tree, i: jax.tree.map(lambda a: a[i], tree)

        def reverse(i, current, ct_carry, ct_consts, ct_xs):
            # the VJP of step i at xᵢ, with respect to the floating-point leaves only
            (k_f, k_i), (c_f, c_i), (x_f, x_i) = map(_split, (consts, current, at(xs, i)))
            out = lambda kf, cf, xf: call(
                eqx.combine(kf, k_i), eqx.combine(cf, c_i), eqx.combine(xf, x_i)
            )
            primal_out, pullback = jax.vjp(out, k_f, c_f, x_f)
            cotangent = _with_float0(primal_out, (ct_carry, at(ct_ys, i)))
            d_consts, d_carry, d_x = pullback(cotangent)
            ct_consts = jax.tree.map(jnp.add, ct_consts, d_consts)
            if ct_xs is not None:
                ct_xs = jax.tree.map(lambda a, d: a.at[i].set(d), ct_xs, d_x)
            return d_carry, ct_consts, ct_xs

        zeros = lambda tree: jax.tree.map(jnp.zeros_like, _split(tree)[0])
        ct_carry = _split(ct_carry)[0]
        ct_xs = None if xs_perturbed is None else zeros(xs)
        ct_carry, ct_consts, ct_xs = reverse(steps - 1, held, ct_carry, zeros(consts), ct_xs)

        def advance(current, start, count):  # steps start .. start+count-1
            return lax.fori_loop(
                start, start + count, lambda i, c: call(consts, c, at(xs, i))[0], current
            )

        def read(buffer, slot):  # slot 0 is x₀, the loop's input
            saved = jax.tree.map(lambda b: b[jnp.maximum(slot - 1, 0)], buffer)
            return jax.tree.map(lambda a, b: jnp.where(slot == 0, a, b), init, saved)

        def segment(k, state):
            # [restore] (advance, store)* advance reverse: branch-free, every write in place
            current, buffer, ct_carry, ct_consts, ct_xs = state
            restore, pairs, final, index = (jax.tree.map(lambda a: a[k], t) for t in program)
            current = jax.tree.map(
                lambda c, r: jnp.where(restore >= 0, r, c), current, read(buffer, restore)
            )

            def pair(p, carried):
                current, buffer = carried
                start, count, slot = (a[p] for a in pairs)
                current = advance(current, start, count)
                buffer = jax.tree.map(lambda b, c: b.at[slot - 1].set(c), buffer, current)
                return current, buffer

            current, buffer = lax.fori_loop(0, pairs[0].shape[0], pair, (current, buffer))
            current = advance(current, *final)
            ct_carry, ct_consts, ct_xs = reverse(index, current, ct_carry, ct_consts, ct_xs)
            return current, buffer, ct_carry, ct_consts, ct_xs

        program = jax.tree.map(jnp.asarray, segments)
        state = (held, buffer, ct_carry, ct_consts, ct_xs)
        if steps > 1:  # a loop of one step has nothing left after reversing it
            state = lax.fori_loop(0, steps - 1, segment, state)
        _, _, ct_init, ct_consts, ct_xs = state
        ct_xs = None if ct_xs is None else _with_float0(xs, ct_xs)
        return _with_float0(consts, ct_consts), _with_float0(init, ct_init), ct_xs

    run.defvjp(run_fwd, run_bwd, symbolic_zeros=True)
    return run


def _split(tree):
    """`(floating-point leaves, the others)`: only the first have cotangents."""
    return eqx.partition(tree, _is_float)


def _is_float(leaf) -> bool:
    return jnp.issubdtype(jnp.result_type(leaf), jnp.inexact)


def _with_float0(primal, cotangent_floats):
    """The cotangent of `primal` given that of its floating-point leaves (float0 zeros for the
    others)."""
    floats = iter(jax.tree.leaves(cotangent_floats))
    return jax.tree.map(
        lambda p: next(floats) if _is_float(p) else np.zeros(np.shape(p), jax.dtypes.float0),
        primal,
    )


def _is_primal(leaf) -> bool:
    return isinstance(leaf, jax.custom_derivatives.CustomVJPPrimal)


def _is_symbolic_zero(leaf) -> bool:
    return isinstance(leaf, jax.custom_derivatives.SymbolicZero)


def _instantiate(leaf):
    if _is_symbolic_zero(leaf):
        return jnp.zeros(leaf.shape, leaf.dtype)
    return leaf


def _segments(actions, slots):
    """The reverse pass as one segment per reversed step, `[restore] (advance, store)*
    advance reverse`, in arrays: `(restore_slot (-1: none), (pair_start, pair_count,
    pair_slot), (advance_start, advance_count), reverse_index)`. Shorter segments are padded
    with empty advances that store into the spare slot `slots + 1`."""
    rows, pending = [], None

    def fresh():
        return {"restore": -1, "pairs": [], "final": (0, 0)}

    row = fresh()
    for action in actions:
        if action.kind == "restore":
            assert not row["pairs"] and pending is None, "a restore inside a segment"
            row["restore"] = action.slot
        elif action.kind == "advance":
            assert pending is None or pending[0] + pending[1] == action.index
            pending = (
                (action.index, action.count)
                if pending is None
                else (pending[0], pending[1] + action.count)
            )
        elif action.kind == "store":
            start, count = pending if pending is not None else (action.index, 0)
            row["pairs"].append((start, count, action.slot))
            pending = None
        else:
            row["final"] = pending if pending is not None else (action.index, 0)
            rows.append((row, action.index))
            row, pending = fresh(), None
    width = max([len(r["pairs"]) for r, _ in rows], default=0) or 1
    spare = slots + 1
    restore = np.array([r["restore"] for r, _ in rows], np.int32)
    pairs = np.zeros((3, len(rows), width), np.int32)
    pairs[2] = spare
    for k, (r, _) in enumerate(rows):
        for p, triple in enumerate(r["pairs"]):
            pairs[:, k, p] = triple
    final = np.array([r["final"] for r, _ in rows], np.int32).reshape(-1, 2)
    index = np.array([i for _, i in rows], np.int32)
    return restore, tuple(pairs), (final[:, 0], final[:, 1]), index
