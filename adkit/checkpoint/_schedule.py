"""Checkpointing schedules as plain Python data: what a reversed loop does, action by action.

A loop of L steps maps x₀ → x₁ → ... → x_L (step i maps xᵢ to xᵢ₊₁). Its reverse pass needs
each xᵢ again, last first. A schedule is a list of actions on a "current" state and numbered
snapshot slots (slot 0 always holds x₀, the loop's input):

- `Action("advance", i, count=k)`: run steps i .. i+k-1 from the current state xᵢ (k evaluations);
- `Action("store", i, slot=j)`: copy the current state xᵢ into slot j;
- `Action("restore", i, slot=j)`: make the state in slot j (it is xᵢ) current;
- `Action("reverse", i)`: the VJP of step i at the current state xᵢ (one evaluation);
- `Action("tape", i, count=k)`: from the current state xᵢ, run steps i .. i+k-1 keeping each
  step's residuals (its tape), then reverse them last to first from the tape (k evaluations; the
  backward sweep recomputes nothing). A reverse is a tape of one step.

The forward pass is every action before the first `reverse` or `tape`: it advances through all
L steps (the loop's outputs need them) and keeps the state that first action starts from
(x_{L-1} for single-step reverses), so the reverse pass starts there. A step evaluation is an
advanced, taped or reversed step; `evaluations(actions)` counts them.

Example:
    >>> from adkit import checkpoint
    >>> for action in checkpoint.schedule(4, snapshots=2):
    ...     print(action)
    advance 0..0
    store x1 -> slot 1
    advance 1..3
    reverse 3
    restore x1 <- slot 1
    advance 1..1
    reverse 2
    restore x1 <- slot 1
    reverse 1
    restore x0 <- slot 0
    reverse 0
    >>> checkpoint.evaluations(checkpoint.schedule(4, 2)) == checkpoint.optimal_evaluations(4, 2)
    True
"""

from __future__ import annotations

import math
from typing import NamedTuple

from ._revolve import forward_advances, split

KINDS = ("advance", "store", "restore", "reverse", "tape")
SCHEDULES = ("revolve", "sqrt")


class Action(NamedTuple):
    """One action of a schedule (see the module's docstring).

    Attributes:
        kind: `"advance"`, `"store"`, `"restore"`, `"reverse"` or `"tape"`.
        index: i, the step (or state xᵢ) the action starts from.
        count: the steps run, for `"advance"` and `"tape"` (0 otherwise).
        slot: the snapshot slot, for `"store"` and `"restore"` (0 otherwise).

    Examples:
        >>> from adkit import checkpoint
        >>> actions = checkpoint.schedule(2, snapshots=1)
        >>> actions[0]
        Action(kind='advance', index=0, count=2, slot=0)
        >>> [str(a) for a in actions]
        ['advance 0..1', 'reverse 1', 'restore x0 <- slot 0', 'reverse 0']
        >>> print(checkpoint.Action("store", 3, slot=1))
        store x3 -> slot 1
    """

    kind: str
    index: int
    count: int = 0
    slot: int = 0

    def __str__(self) -> str:
        if self.kind == "advance":
            return f"advance {self.index}..{self.index + self.count - 1}"
        if self.kind == "store":
            return f"store x{self.index} -> slot {self.slot}"
        if self.kind == "restore":
            return f"restore x{self.index} <- slot {self.slot}"
        if self.kind == "tape":
            return f"tape {self.index}..{self.index + self.count - 1} and reverse it"
        return f"reverse {self.index}"


def optimal_evaluations(length: int, snapshots: int) -> int:
    """The fewest step evaluations of a loop's value and gradient with `snapshots` states held
    (x₀ among them): p(L, s) + L + 1, with Griewank and Walther's p(L, s) (see `_revolve`).

    The forward pass evaluates all L steps; the reverse pass recomputes p(L, s) - (L - 1)
    advances and evaluates each step once more for its VJP.

    Examples:
        >>> from adkit import checkpoint
        >>> checkpoint.optimal_evaluations(10_000, 14) / 10_000   # evaluations per step
        5.6125
    """
    _check(length, snapshots)
    return forward_advances(length, snapshots) + length + 1


def schedule(length: int, snapshots: int, kind: str = "revolve") -> list[Action]:
    """The actions that reverse a loop of `length` steps holding at most `snapshots` states.

    Args:
        length: L, the number of steps.
        snapshots: s, the states held at once, x₀ among them (s >= 1). `"revolve"` uses
            exactly that many; `"sqrt"` ignores it and holds the ⌈√L⌉ segment starts.
        kind: `"revolve"` (binomial checkpointing: the fewest evaluations for s) or `"sqrt"`
            (segments of ⌈√L⌉ steps: store each segment's start; reverse a segment by taping
            it; 2 evaluations per step).

    Returns:
        The list of `Action`s, forward pass first.

    Examples:
        >>> from adkit import checkpoint
        >>> [str(a) for a in checkpoint.schedule(2, snapshots=1)]
        ['advance 0..1', 'reverse 1', 'restore x0 <- slot 0', 'reverse 0']
    """
    _check(length, snapshots)
    if kind == "revolve":
        return _Revolve(length, snapshots).actions()
    if kind == "sqrt":
        block = math.isqrt(length - 1) + 1 if length > 1 else 1
        return blocked(length, -(-length // block), block)
    raise ValueError(f"`kind` must be one of {SCHEDULES}, but received {kind!r}.")


def evaluations(actions: list[Action]) -> int:
    """The step evaluations a schedule costs: advanced steps plus reverses.

    Examples:
        >>> from adkit import checkpoint
        >>> actions = checkpoint.schedule(100, 5)
        >>> checkpoint.evaluations(actions), checkpoint.optimal_evaluations(100, 5)
        (417, 417)
    """
    return sum(a.count if a.kind in ("advance", "tape") else a.kind == "reverse" for a in actions)


def blocked(length: int, snapshots: int, block: int) -> list[Action]:
    """Revolve over blocks of `block` steps, each block reversed from its tape.

    The loop is cut into N = ⌈L / block⌉ blocks (the last may be shorter). Revolve with
    `snapshots` states runs on the chain of blocks; reversing a block tapes it (`block`
    evaluations) and sweeps back through the tape. Memory: the snapshots and one block's
    residuals. With snapshots >= N every block start is stored once and each step is evaluated
    twice (√L segment taping, `kind="sqrt"`); with block = 1 it is revolve itself.

    Examples:
        >>> from adkit import checkpoint
        >>> from adkit.checkpoint._schedule import blocked
        >>> for action in blocked(6, snapshots=3, block=2):
        ...     print(action)
        advance 0..1
        store x2 -> slot 1
        advance 2..3
        store x4 -> slot 2
        advance 4..5
        tape 4..5 and reverse it
        restore x2 <- slot 1
        tape 2..3 and reverse it
        restore x0 <- slot 0
        tape 0..1 and reverse it
        >>> checkpoint.evaluations(blocked(6, 3, 2))   # each step twice
        12
    """
    _check(length, snapshots)
    if not (isinstance(block, int) and block >= 1):
        raise ValueError(f"`block` must be a positive integer, but received {block!r}.")
    if block == 1:
        return _Revolve(length, snapshots).actions()
    starts = list(range(0, length, block)) + [length]  # block j is [starts[j], starts[j + 1])
    out = []
    for action in _Revolve(len(starts) - 1, snapshots).actions():
        j = action.index
        if action.kind == "advance":
            count = starts[j + action.count] - starts[j]
            out.append(Action("advance", starts[j], count=count))
        elif action.kind == "reverse":
            count = starts[j + 1] - starts[j]
            out.append(
                Action("tape", starts[j], count=count)
                if count > 1
                else action._replace(index=starts[j])
            )
        else:
            out.append(action._replace(index=starts[j]))
    return out


def slots_needed(actions: list[Action]) -> int:
    """The highest slot number a schedule stores into (slot 0, x₀, is the input)."""
    return max((a.slot for a in actions if a.kind == "store"), default=0)


def _check(length: int, snapshots: int) -> None:
    if not (isinstance(length, int) and length >= 1):
        raise ValueError(f"The loop's length must be a positive integer, but received {length!r}.")
    if not (isinstance(snapshots, int) and snapshots >= 1):
        raise ValueError(
            f"`snapshots` must be a positive integer (the states held at once, the loop's input "
            f"among them), but received {snapshots!r}."
        )


class _Revolve:
    """Builds the revolve schedule: the right-most chain of splits is the forward pass."""

    def __init__(self, length: int, snapshots: int):
        self.length, self.snapshots = length, snapshots
        self.out: list[Action] = []
        self.current = 0
        self.free_slots = list(range(snapshots - 1, 0, -1))  # slot 0 is x₀

    def actions(self) -> list[Action]:
        chain = []  # the left parts still to reverse: (start, end, free, slot)
        start, slot, free = 0, 0, self.snapshots - 1
        while self.length - start > 1 and free > 0:
            m = split(self.length - start, free + 1)
            self._advance(start, m)
            new = self.free_slots.pop()
            self.out.append(Action("store", start + m, slot=new))
            chain.append((start, start + m, free, slot, new))
            start, slot, free = start + m, new, free - 1
        self._advance(start, self.length - start)  # to the end: the loop's outputs need it
        self.current = self.length - 1  # the forward pass keeps x_{L-1}
        self.out.append(Action("reverse", self.length - 1))
        self._reverse(start, self.length - 1, free, slot)
        for start, end, free, slot, stored in reversed(chain):
            self.free_slots.append(stored)  # x_end is reversed: its slot is free again
            self._reverse(start, end, free, slot)
        return self.out

    def _advance(self, start: int, count: int) -> None:
        if count > 0:
            self.out.append(Action("advance", start, count=count))
        self.current = start + count

    def _restore(self, index: int, slot: int) -> None:
        if self.current != index:
            self.out.append(Action("restore", index, slot=slot))
            self.current = index

    def _reverse(self, start: int, end: int, free: int, slot: int) -> None:
        """Reverse steps end-1 .. start, with x_start in `slot` and `free` slots to spare."""
        n = end - start
        if n <= 0:
            return
        if n == 1 or free == 0:
            for i in reversed(range(start, end)):
                self._restore(start, slot)
                self._advance(start, i - start)
                self.out.append(Action("reverse", i))
            return
        m = split(n, free + 1)
        self._restore(start, slot)
        self._advance(start, m)
        new = self.free_slots.pop()
        self.out.append(Action("store", start + m, slot=new))
        self._reverse(start + m, end, free - 1, new)
        self.free_slots.append(new)
        self._reverse(start, start + m, free, slot)
