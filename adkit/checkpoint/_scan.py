"""`checkpoint.scan`: `lax.scan` whose reverse pass follows a checkpointing schedule.

The scan is a `jax.custom_jvp` function. Evaluated, it is `lax.scan`. Its JVP rule runs the
forward sweep, which also stores the schedule's snapshots, and returns the tangent as the
primitive of `_tangent`: evaluated, that is the loop's JVP (forward mode, no stored states);
transposed, it executes the schedule's reverse sweep, so memory is the snapshots plus one step's
residuals (one block's, for taped schedules), whatever L. The loop's parameters (closed-over
arrays) get ONE cotangent accumulator, added to at every reversed step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import _program, _tangent
from ._budget import choose_budget

SCHEDULES = ("revolve", "sqrt", "store_all", "budget")


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    *,
    snapshots: int | None = None,
    schedule: str = "revolve",
    memory_budget: int | None = None,
    reverse: bool = False,
):
    """`lax.scan(f, init, xs, length, reverse=reverse)`, differentiated under a checkpointing
    schedule: at most `snapshots` states are held, and the fewest steps are recomputed.

    Forward mode (`jax.jvp`, `adkit.jvp`) runs the loop's JVP directly; reverse mode
    (`jax.grad`, `adkit.grad`, both paths) follows the schedule; both compose with `jax.jit`,
    `jax.vmap` and each other.

    Args:
        f: the step, `f(carry, x) -> (carry, y)`; it may close over arrays (its parameters).
        init: as in `lax.scan`.
        xs: as in `lax.scan`.
        length: as in `lax.scan`.
        reverse: as in `lax.scan`.
        snapshots: the states held at once, the initial one among them (revolve; default
            ⌈log₂ L⌉, at least 2).
        schedule: `"revolve"` (binomial: the fewest evaluations for `snapshots`), `"sqrt"`
            (segments of ⌈√L⌉ steps, each reversed from its tape: 2 evaluations per step),
            `"budget"` (the fewest evaluations within `memory_budget` bytes of snapshots and
            tapes), or `"store_all"` (`lax.scan` itself: every step's residuals).
        memory_budget: bytes, for `schedule="budget"`: what the stored states and the taped
            residuals may take together.

    Returns:
        `(carry, ys)`, as `lax.scan`.

    Examples:
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
        >>> bool(jnp.allclose(jax.jvp(loss, (0.5,), (1.0,))[1], jax.grad(plain)(0.5)))
        True
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"`schedule` must be one of {SCHEDULES}, but received {schedule!r}.")
    if (schedule == "budget") != (memory_budget is not None):
        raise ValueError(
            '`memory_budget` (bytes) goes with `schedule="budget"` and only with it; received '
            f"schedule={schedule!r} and memory_budget={memory_budget!r}."
        )
    steps = _length(xs, length)
    if schedule == "store_all" or steps == 0:
        return lax.scan(f, init, xs, length=length, reverse=reverse)
    if reverse:  # run the steps last to first: flip xs and ys
        flip = lambda tree: jax.tree.map(lambda a: jnp.flip(a, 0), tree)
        carry, ys = scan(
            f,
            init,
            flip(xs),
            steps,
            snapshots=snapshots,
            schedule=schedule,
            memory_budget=memory_budget,
        )
        return carry, flip(ys)
    if snapshots is not None and not (isinstance(snapshots, int) and snapshots >= 1):
        raise ValueError(
            "`snapshots` must be a positive integer (the states held at once, the loop's input "
            f"among them), but received {snapshots!r}."
        )
    x0 = jax.tree.map(lambda a: a[0], xs)
    converted, consts = jax.closure_convert(lambda c, x: f(c, x), init, x0)
    init_leaves, carry_tree = jax.tree.flatten(init)
    x_leaves, x_tree = jax.tree.flatten(xs)
    y_tree = []

    def flat_step(*leaves):
        k, c, x = _tangent.cut(leaves, [len(consts), len(init_leaves)])
        carry, y = converted(carry_tree.unflatten(c), x_tree.unflatten(x), *k)
        carry_leaves, tree = jax.tree.flatten(carry)
        if tree != carry_tree:
            raise TypeError(
                "The step of `checkpoint.scan` must return a carry of the same structure as "
                f"`init`: received {tree}, expected {carry_tree}."
            )
        y_leaves, tree = jax.tree.flatten(y)
        y_tree[:] = [tree]
        return [*carry_leaves, *y_leaves]

    avals = [
        jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)) for a in (*consts, *init_leaves)
    ]
    avals += [jax.ShapeDtypeStruct(jnp.shape(a)[1:], jnp.result_type(a)) for a in x_leaves]
    step = jax.make_jaxpr(flat_step)(*avals)
    counts = (len(consts), len(init_leaves), len(x_leaves))
    program = _choose(schedule, steps, snapshots, memory_budget, step, counts)
    carry, ys = _checkpointed(step, counts, program)(list(consts), init_leaves, x_leaves)
    return carry_tree.unflatten(carry), y_tree[0].unflatten(ys)


def _choose(schedule, steps, snapshots, memory_budget, step, counts):
    if schedule == "budget":
        state = sum(a.size * a.dtype.itemsize for a in step.out_avals[: counts[1]])
        residual = _tangent.tape_bytes(step, counts)
        snapshots, block = choose_budget(steps, memory_budget, state, residual)
        return _program.cached("blocked", steps, snapshots, block)
    if schedule == "sqrt":
        return _program.cached("sqrt", steps, 1)
    if snapshots is None:
        snapshots = max(2, math.ceil(math.log2(max(steps, 2))))
    return _program.cached("revolve", steps, snapshots)


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


def _checkpointed(step, counts, program):
    """The custom-JVP scan over flat leaves: `(consts, init, xs) -> (carry, ys)`."""
    n_carry = counts[1]

    @jax.custom_jvp
    def run(consts, init, xs):
        body = lambda carry, i: _tangent.call(
            step, n_carry, consts, carry, [_tangent.read_row(a, i) for a in xs]
        )
        return lax.scan(body, init, jnp.arange(program.length))

    def run_jvp(primals, tangents):
        consts, init, xs = primals
        (carry, ys), buffer, held = _forward(step, n_carry, program, consts, init, xs)
        leaves = [*consts, *init, *xs]
        flat_tangents = [*tangents[0], *tangents[1], *tangents[2]]
        perturbed = tuple(
            _tangent.is_float(p) and not _is_symbolic_zero(t)
            for p, t in zip(leaves, flat_tangents, strict=True)
        )
        outs = [*carry, *ys]
        if any(perturbed):
            chosen = [t for t, m in zip(flat_tangents, perturbed, strict=True) if m]
            float_tangents = iter(
                _tangent.bind(
                    consts,
                    init,
                    xs,
                    buffer,
                    held,
                    chosen,
                    step=step,
                    counts=counts,
                    perturbed=perturbed,
                    program=program,
                )
            )
        else:
            float_tangents = iter(jnp.zeros_like(o) for o in outs if _tangent.is_float(o))
        out_tangents = [
            next(float_tangents) if _tangent.is_float(o) else np.zeros(o.shape, jax.dtypes.float0)
            for o in outs
        ]
        return (carry, ys), (out_tangents[:n_carry], out_tangents[n_carry:])

    run.defjvp(run_jvp, symbolic_zeros=True)
    return run


def _forward(step, n_carry, program, consts, init, xs):
    """The forward sweep: the outputs, the snapshot buffer (one row per slot and a spare row
    that the other steps write into) and the held state x_held.

    A `while_loop`, not a `scan`: JAX's partial evaluation of a scan hoists loop-invariant
    operations out of it, a step's `jax.debug.callback` without data among them, which would
    then run once instead of once per step."""
    length = program.length
    xs = [jnp.asarray(a) for a in xs]  # indexed by a traced step number
    buffer = [jnp.zeros((program.slots + 1, *jnp.shape(a)), jnp.result_type(a)) for a in init]
    y_avals = step.out_avals[n_carry:]
    ys = [jnp.zeros((length, *a.shape), a.dtype) for a in y_avals]
    forward_slot = jnp.asarray(program.forward_slot)

    def body(state):
        i, carry, buffer, held, ys = state
        slot = _tangent.read_row(forward_slot, i)
        row = jnp.where(slot > 0, slot - 1, program.slots)
        buffer = [_tangent.put(b, row, c) for b, c in zip(buffer, carry, strict=True)]
        if not program.held_in_spare:  # else the reverse sweep restores x_held from the spare row
            held = [jnp.where(i == program.held, c, h) for c, h in zip(carry, held, strict=True)]
        x = [_tangent.read_row(a, i) for a in xs]  # xs read in place
        carry, y = _tangent.call(step, n_carry, consts, carry, x)
        ys = [_tangent.put(a, i, b) for a, b in zip(ys, y, strict=True)]
        return i + 1, carry, buffer, held, ys

    held = [] if program.held_in_spare else list(init)
    _, carry, buffer, held, ys = lax.while_loop(
        lambda s: s[0] < length, body, (jnp.int32(0), list(init), buffer, held, ys)
    )
    return (carry, ys), buffer, held or list(init)  # init: a stand-in the sweep overwrites


def _is_symbolic_zero(leaf) -> bool:
    return isinstance(leaf, jax.custom_derivatives.SymbolicZero)
