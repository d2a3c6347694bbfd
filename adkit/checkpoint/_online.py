"""Online checkpointing: where to keep states while a loop of unknown length runs forward, and
how to reverse it once its length is known, as small integer state machines that run in JAX.

A while loop maps x₀ → x₁ → ... → x_n, but n is known only when `cond_fun` turns False, so the
forward pass must choose its snapshots *online*. The conventions are `_schedule`'s: s snapshot
slots, slot 0 always holding x₀ (the loop's input), slots 1 .. s-1 free; the forward pass
advances through all n steps and keeps x_{n-1} (the state on which the reverse pass starts). A
step evaluation is an advanced step or a reversed step; the offline optimum (revolve, n known in
advance) is `optimal_evaluations(n, s)` = p(n, s) + n + 1.

**When a state is placed.** `place(state, i)` decides whether x_i goes into a slot, and is called
once the loop knows that step i + 1 runs too (x_i is not the last state the reverse pass needs):
in a while loop, at the start of iteration i + 1, with x_i still at hand as the previous state.
Storing x_{n-1} itself would waste a slot, since the forward pass keeps it anyway.

**Phase 1: optimal up to n = β(s, 2) = (s + 1)(s + 2)/2.** For n > s, let 0 = c₀ < c₁ < ... <
c_{s-1} < n - 1 be the stored steps and gⱼ the number of unstored steps between cⱼ and the next
stored step (or n - 1). The reverse pass reverses step n - 1 at once; when it reaches segment j,
slots c₀..cⱼ are still needed and s - 1 - j are free, so if

    gⱼ <= s - j                                                               (cap of segment j)

it advances from cⱼ once, storing the gⱼ - 1 intermediate states and keeping the last one
current, and reverses the segment recomputing each of its states exactly once. That is n forward
+ n reversed + (n - s - 1) recomputed = 3n - s - 1 evaluations, which is p(n, s) + n + 1 whenever
s + 1 < n <= β(s, 2) (repetition number 2). The n - s - 1 unstored steps fit under the caps,
Σⱼ (s - j) = s(s + 1)/2, exactly when n <= β(s, 2); at n = β(s, 2) every gap is at its cap, so
the slots must end at the *final positions*

    P₀ = 0,   P_k = P_{k-1} + (s - k + 2)   (P_k = Σ_{j<k} (s - j + 1)),   k = 1 .. s - 1.

Phase 1 reaches them online. It *commits* a slot to x_{P_k} when step P_k comes by (slot 0
commits x₀), and stores every other state into the uncommitted slot holding the oldest state
(an empty slot first), so the r = s - k uncommitted slots roll over the most recent states.
Between the commit of P_{k-1} and that of P_k = P_{k-1} + r + 2 at most r + 1 steps follow
P_{k-1} before the end, r of them stored: at most 1 unstored step after P_{k-1}, under its cap
r + 1. Rolling states older than P_{k-1} sit right below it and only shorten the gap in front of
them; every other gap is 0, or a committed gap exactly at its cap. Once all s slots are
committed (P_{s-1} = β(s, 2) - 3), nothing is stored until the gap after P_{s-1} would pass its
cap of 1, which is when n would pass β(s, 2).

**Phase 2: beyond β(s, 2), minimal repetition.** From the placement of step β(s, 2) - 1 on,
every state is stored, choosing the slot by the levels of Wang, Moin and Iaccarino's dynamic
checkpointing: every slot but x₀'s carries a level (all 0 when phase 2 starts) and a flag
"dispensable". The new state replaces the most recent dispensable slot, at level 0, if there is
one; otherwise it replaces the most recent slot and takes that slot's level l + 1, and every
slot of level below l becomes dispensable. Higher levels are rarer and older, so the stored steps
stay spread over the whole past as n grows. This is not optimal: measured, it costs at most 25%
more than `optimal_evaluations(n, s)` for s <= 20, n <= 3000 (about 5% more on average).

**The reverse pass: revolve, as a state machine.** Once n is known the reverse pass holds
x_{n-1} (current) and the stored steps. Each stored step c with no stored step between it and
the next step to reverse is the top of a stack; the segment [c, r) (r: the steps still to
reverse) is reversed by binomial checkpointing with q = f + 1 snapshots (f: the free slots).
Each call of `next_action` looks only at (slots, current step, r) and does one action:

- r = 0: done;
- current = r - 1: reverse step r - 1 (then r ← r - 1; slots holding steps >= r are freed);
- c < current < r - 1: store the current state into a free slot (it becomes the top);
- current = c: advance L - 1 steps if f = 0, else the split m of L = r - c steps (below);
- otherwise: restore c.

The split m minimises m + p(m, q) + p(L - m, q - 1). p(·, q) is convex and piecewise linear
with slope t on β(q, t-1) < x <= β(q, t), so with t the repetition number of (L, q) (the least t
with β(q, t) = C(q + t, t) >= L) the cost is optimal whenever the left part lies on p(·, q)'s
slope-(t-1) piece and the right part on p(·, q - 1)'s slope-t piece:

    m = max(β(q, t - 2), L - β(q - 1, t), 1),   β(q - 1, t) = β(q, t) - β(q, t - 1),

an interval that is never empty because β(q, t-1) < L <= β(q, t). The binomials come from
β(q, t) = β(q, t - 1) + β(q, t - 1)·q/t, which is exact in integers and never forms a number
above L·(q + 1): the state machines are exact while n·(s + 2) stays below the integer type's
maximum (2³¹ - 1 for JAX's default int32; `placement_init` checks it given `max_steps`).

Everything here is jax.numpy on fixed-size int arrays, so `place` and `next_action` run eagerly
or inside `jax.jit` / `lax.while_loop`; `online_schedule` drives both from Python and returns
the actions in `_schedule`'s format, so `evaluations` and the schedule simulators apply.

Example:
    >>> from adkit import checkpoint
    >>> from adkit.checkpoint import _online
    >>> actions = _online.online_schedule(10, snapshots=3)
    >>> [str(a) for a in actions if a.kind == "store"][:4]
    ['store x1 -> slot 1', 'store x2 -> slot 2', 'store x3 -> slot 1', 'store x4 -> slot 2']
    >>> checkpoint.evaluations(actions) == checkpoint.optimal_evaluations(10, 3)
    True

References:
    Griewank and Walther, "Algorithm 799: revolve", ACM TOMS 26 (2000).
    Heuveline and Walther, "Online checkpointing for parallel adjoint computation in PDEs",
    Euro-Par 2006; Stumm and Walther, "New algorithms for optimal online checkpointing",
    SIAM J. Sci. Comput. 32 (2010).
    Wang, Moin and Iaccarino, "Minimal repetition dynamic checkpointing algorithm for unsteady
    adjoint calculation", SIAM J. Sci. Comput. 31 (2009).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ._schedule import KINDS, Action, _check

ADVANCE, STORE, RESTORE, REVERSE, DONE = 0, 1, 2, 3, 4  # KINDS[code] for the first four
EMPTY = -1  # the position of an empty slot


class Placement(NamedTuple):
    """The forward pass's state (all int arrays, s = the number of slots).

    Attributes:
        positions: (s,) the step whose state each slot holds; `EMPTY` if none. Slot 0 holds x₀.
        committed: (s,) phase 1: 1 where a slot holds a final position P_k for good.
        levels: (s,) phase 2: each slot's level.
        dispensable: (s,) phase 2: 1 where a slot may be replaced at level 0.
        target: () phase 1: the next final position P_k.
        remaining: () phase 1: the final positions still to commit, s - k.
    """

    positions: jax.Array
    committed: jax.Array
    levels: jax.Array
    dispensable: jax.Array
    target: jax.Array
    remaining: jax.Array


class Reversal(NamedTuple):
    """The reverse pass's state (all int arrays).

    Attributes:
        positions: (s,) the step whose state each slot holds; `EMPTY` if none.
        current: () the step of the current state; it may be one already reversed.
        remaining: () r: steps r - 1 .. 0 are still to reverse.
    """

    positions: jax.Array
    current: jax.Array
    remaining: jax.Array


def _int_dtype():
    return jax.dtypes.canonicalize_dtype(jnp.int64)  # int32 unless x64 is on


def phase_two_start(snapshots: int) -> int:
    """The first step whose placement is phase 2's: β(s, 2) - 1 = (s + 1)(s + 2)/2 - 1.

    Examples:
        >>> from adkit.checkpoint import _online
        >>> _online.phase_two_start(3)   # optimal for loops of up to 10 steps
        9
    """
    return (snapshots + 1) * (snapshots + 2) // 2 - 1


def placement_init(snapshots: int, max_steps: int | None = None, dtype=None) -> Placement:
    """The forward pass's state before step 0: x₀ in slot 0, the other slots empty.

    Args:
        snapshots: s, the states held at once, x₀ among them.
        max_steps: the most steps the loop may run, if known; checked against the integer
            type's range (the state machines need max_steps·(s + 2) below its maximum).
        dtype: the integer type of the state; JAX's default integer (int32 unless x64 is on)
            if None.

    Returns:
        A `Placement`.

    Examples:
        >>> from adkit.checkpoint import _online
        >>> _online.placement_init(3).positions.tolist()
        [0, -1, -1]
    """
    if not (isinstance(snapshots, int) and snapshots >= 1):
        raise ValueError(
            f"`snapshots` must be a positive integer (the states held at once, the loop's input "
            f"among them), but received {snapshots!r}."
        )
    dtype = jnp.dtype(_int_dtype() if dtype is None else dtype)
    if max_steps is not None and max_steps * (snapshots + 2) > jnp.iinfo(dtype).max:
        raise ValueError(
            f"The online checkpointing schedule computes in {dtype.name}, which is exact only "
            f"while max_steps * (snapshots + 2) is at most {jnp.iinfo(dtype).max}, but "
            f"max_steps = {max_steps} and snapshots = {snapshots}; enable 64-bit integers "
            f"(jax_enable_x64) or lower max_steps."
        )
    s = snapshots
    zeros = jnp.zeros((s,), dtype)
    return Placement(
        positions=jnp.full((s,), EMPTY, dtype).at[0].set(0),
        committed=zeros.at[0].set(1),
        levels=zeros,
        dispensable=zeros,
        target=jnp.asarray(s + 1, dtype),  # P₁ = P₀ + (s - 1 + 2)
        remaining=jnp.asarray(s - 1, dtype),
    )


def place(state: Placement, i) -> tuple[Placement, jax.Array]:
    """Where to store x_i, called in order i = 0, 1, 2, ... once step i + 1 is known to run.

    Args:
        state: the `Placement` after steps 0 .. i - 1 were placed.
        i: the step (a Python int or an int scalar, possibly traced).

    Returns:
        `(state, slot)`: the new state and the slot to store x_i into (overwriting what it
        held), or 0 to store nothing.

    Examples:
        >>> from adkit.checkpoint import _online
        >>> state = _online.placement_init(3)
        >>> slots = []
        >>> for i in range(9):
        ...     state, slot = _online.place(state, i)
        ...     slots.append(int(slot))
        >>> slots, sorted(state.positions.tolist())   # 0, 4, 7: s = 3's final positions
        ([0, 1, 2, 1, 2, 1, 1, 1, 0], [0, 4, 7])
    """
    positions = state.positions
    s = positions.shape[0]
    dtype = positions.dtype
    i = jnp.asarray(i, dtype)
    if s == 1:  # only x₀: nothing is ever stored
        return state, jnp.zeros((), dtype)
    free_slot = jnp.arange(s) > 0  # slot 0 holds x₀ for good
    big = jnp.iinfo(dtype).max

    # phase 1: store into the uncommitted slot with the oldest state (EMPTY < any step) and
    # commit it when i is the next final position P_k; P_{k+1} = P_k + (s - (k + 1) + 2)
    phase2 = i >= phase_two_start(s)
    first = (i >= 1) & (state.remaining > 0) & ~phase2
    rolling = jnp.argmin(jnp.where(state.committed == 1, big, positions)).astype(dtype)
    commit = first & (i == state.target)
    remaining = state.remaining - commit.astype(dtype)
    target = jnp.where(commit, state.target + remaining + 2, state.target)
    committed = state.committed.at[rolling].set(jnp.where(commit, 1, state.committed[rolling]))

    # phase 2: the most recent dispensable slot at level 0; if none, the most recent slot at
    # its level l + 1, and every slot below level l becomes dispensable
    dispensable = (state.dispensable == 1) & free_slot
    any_dispensable = jnp.any(dispensable)
    newest_dispensable = jnp.argmax(jnp.where(dispensable, positions, -1)).astype(dtype)
    newest = jnp.argmax(jnp.where(free_slot, positions, -1)).astype(dtype)
    replaced = jnp.where(any_dispensable, newest_dispensable, newest)
    level = jnp.where(any_dispensable, 0, state.levels[newest] + 1)
    now_dispensable = jnp.where(
        any_dispensable,
        dispensable & (jnp.arange(s) != newest_dispensable),
        dispensable | ((state.levels < state.levels[newest]) & free_slot),
    ).astype(dtype)

    slot = jnp.where(first, rolling, jnp.where(phase2, replaced, 0)).astype(dtype)
    state = Placement(
        positions=positions.at[slot].set(jnp.where(slot > 0, i, positions[slot])),
        committed=committed,
        levels=jnp.where(phase2, state.levels.at[replaced].set(level), state.levels),
        dispensable=jnp.where(phase2, now_dispensable, state.dispensable),
        target=target,
        remaining=remaining,
    )
    return state, slot


def reversal_init(positions, length) -> Reversal:
    """The reverse pass's state right after the forward pass: x_{n-1} current, n steps to go.

    Args:
        positions: the forward pass's `Placement.positions`.
        length: n, the number of steps the loop ran (an int scalar, possibly traced).

    Returns:
        A `Reversal`.

    Examples:
        >>> from adkit.checkpoint import _online
        >>> _online.reversal_init(_online.placement_init(2).positions, 5).remaining.tolist()
        5
    """
    positions = jnp.asarray(positions)
    length = jnp.asarray(length, positions.dtype)
    return Reversal(positions=positions, current=length - 1, remaining=length)


def split(length, snapshots):
    """The optimal number of steps to advance before storing, for L >= 2 steps and q >= 2
    snapshots (the start's among them): m = max(β(q, t - 2), L - β(q - 1, t), 1).

    Smaller arguments are raised to 2 (the result is then unused), so that the loop over t
    always ends within about √(2L) iterations.

    Args:
        length: L, int scalar.
        snapshots: q, int scalar.

    Returns:
        m, with 1 <= m < L.

    Examples:
        >>> from adkit.checkpoint import _online
        >>> int(_online.split(10, 3))   # β(3, 2) = 10: advance β(3, 1) = 4 steps first
        4
    """
    length = jnp.asarray(length)
    dtype = length.dtype
    length = jnp.maximum(length, 2)
    q = jnp.maximum(jnp.asarray(snapshots, dtype), 2)

    def body(carry):  # (t, β(q, t-2), β(q, t-1), β(q, t)) -> the same for t + 1
        t, _, previous, beta = carry
        t = t + 1
        return t, previous, beta, beta + beta * q // t  # β(q,t) = β(q,t-1)(q + t)/t

    zero = jnp.zeros((), dtype)
    _, before_previous, previous, beta = lax.while_loop(
        lambda carry: carry[3] < length, body, (zero, zero, zero, zero + 1)
    )
    return jnp.maximum(jnp.maximum(before_previous, length - (beta - previous)), 1)


def next_action(state: Reversal):
    """The reverse pass's next action, and the state after it.

    Args:
        state: a `Reversal`.

    Returns:
        `(state, kind, index, count, slot)`, int scalars: `kind` is `ADVANCE`, `STORE`,
        `RESTORE`, `REVERSE` (codes into `_schedule.KINDS`) or `DONE`; `index`, `count` and
        `slot` are as in `Action` (0 where unused). After `DONE` the state no longer changes.

    Examples:
        >>> from adkit.checkpoint import _online
        >>> state = _online.reversal_init(_online.placement_init(1).positions, 3)
        >>> for _ in range(6):
        ...     state, kind, index, count, slot = _online.next_action(state)
        ...     print(int(kind), int(index), int(count), int(slot))
        3 2 0 0
        2 0 0 0
        0 0 1 0
        3 1 0 0
        2 0 0 0
        3 0 0 0
    """
    positions, current, remaining = state
    s = positions.shape[0]
    dtype = positions.dtype
    free_slot = jnp.arange(s) > 0
    live = (positions >= 0) & (positions < remaining)  # stored steps still needed
    top_slot = jnp.argmax(jnp.where(live, positions, -1)).astype(dtype)
    top = positions[top_slot]  # c: the last stored step before r
    free = s - jnp.sum(live).astype(dtype)  # f
    length = remaining - top  # L = r - c
    # the split's loop runs only when it is used (else L = 2: one iteration)
    splits = (free > 0) & (current == top)
    count = jnp.where(free > 0, split(jnp.where(splits, length, 2), free + 1), length - 1)
    store_slot = jnp.argmax(~live & free_slot).astype(dtype)

    done = remaining <= 0
    reverse = ~done & (current == remaining - 1)
    store = ~done & ~reverse & (current > top) & (current < remaining - 1)
    advance = ~done & ~reverse & ~store & (current == top)
    restore = ~done & ~reverse & ~store & ~advance

    kind = jnp.select([done, reverse, store, advance], [DONE, REVERSE, STORE, ADVANCE], RESTORE)
    kind = kind.astype(dtype)
    index = jnp.select([reverse, store, advance | restore], [remaining - 1, current, top], 0)
    slot = jnp.select([store, restore], [store_slot, top_slot], 0).astype(dtype)

    after_reverse = jnp.where(free_slot & (positions >= remaining - 1), EMPTY, positions)
    after_store = positions.at[store_slot].set(current)
    state = Reversal(
        positions=jnp.select([reverse, store], [after_reverse, after_store], positions),
        current=jnp.select([advance, restore], [top + count, top], current),
        remaining=jnp.where(reverse, remaining - 1, remaining),
    )
    return state, kind, index.astype(dtype), jnp.where(advance, count, 0).astype(dtype), slot


@functools.cache
def _jitted():
    return jax.jit(place), jax.jit(next_action)


def online_schedule(length: int, snapshots: int) -> list[Action]:
    """The actions of the online schedule for a loop that turns out to run `length` steps.

    Runs `place` for steps 0 .. n - 2 (each once the next step is known to run), advancing
    through all n steps, then `next_action` until done.

    Args:
        length: n, the number of steps the loop runs (unknown to the forward pass's choices).
        snapshots: s, the states held at once, x₀ among them.

    Returns:
        The list of `Action`s, forward pass first, as `_schedule.schedule` returns them.

    Examples:
        >>> from adkit import checkpoint
        >>> from adkit.checkpoint import _online
        >>> for action in _online.online_schedule(4, snapshots=2):
        ...     print(action)
        advance 0..0
        store x1 -> slot 1
        advance 1..1
        store x2 -> slot 1
        advance 2..3
        reverse 3
        restore x2 <- slot 1
        reverse 2
        restore x0 <- slot 0
        advance 0..0
        reverse 1
        restore x0 <- slot 0
        reverse 0
        >>> checkpoint.evaluations(_online.online_schedule(4, 2))
        9
    """
    _check(length, snapshots)
    _place, _next_action = _jitted()
    state = placement_init(snapshots, max_steps=length)
    actions, start = [], 0
    for i in range(length - 1):
        state, slot = _place(state, i)
        if int(slot):
            if i > start:
                actions.append(Action("advance", start, count=i - start))
                start = i
            actions.append(Action("store", i, slot=int(slot)))
    actions.append(Action("advance", start, count=length - start))
    reversal = reversal_init(state.positions, length)
    while True:
        reversal, kind, index, count, slot = _next_action(reversal)
        kind = int(kind)
        if kind == DONE:
            return actions
        actions.append(Action(KINDS[kind], int(index), int(count), int(slot)))
