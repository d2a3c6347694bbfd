"""Checkpointing schedules as plain Python data: what a reversed loop does, action by action.

A loop of L steps maps x₀ → x₁ → ... → x_L (step i maps xᵢ to xᵢ₊₁). Its reverse pass needs
each xᵢ again, last first. A schedule is a list of actions on a "current" state and numbered
snapshot slots (slot 0 always holds x₀, the loop's input):

- `Action("advance", i, count=k)`: run steps i .. i+k-1 from the current state xᵢ (k evaluations);
- `Action("store", i, slot=j)`: copy the current state xᵢ into slot j;
- `Action("restore", i, slot=j)`: make the state in slot j (it is xᵢ) current;
- `Action("reverse", i)`: the VJP of step i at the current state xᵢ (one evaluation).

The forward pass is every action before the first `reverse`: it advances through all L steps
(the loop's outputs need them) and keeps x_{L-1}, so the reverse pass starts at step L-1. A step
evaluation is an advance step or a reverse; `evaluations(actions)` counts them.

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

KINDS = ("advance", "store", "restore", "reverse")
SCHEDULES = ("revolve", "sqrt")


class Action(NamedTuple):
    """One action of a schedule (see the module's docstring)."""

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
        return f"reverse {self.index}"


def optimal_evaluations(length: int, snapshots: int) -> int:
    """The fewest step evaluations of a loop's value and gradient with `snapshots` states held
    (x₀ among them): p(L, s) + L + 1, with Griewank and Walther's p(L, s) (see `_revolve`).

    The forward pass evaluates all L steps; the reverse pass recomputes p(L, s) - (L - 1)
    advances and evaluates each step once more for its VJP.

    Example:
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
            exactly that many; `"sqrt"` ignores it and holds about 2√L.
        kind: `"revolve"` (binomial checkpointing: the fewest evaluations for s) or `"sqrt"`
            (segments of √L steps: store each segment's start, then the whole segment).

    Returns:
        The list of `Action`s, forward pass first.

    Example:
        >>> from adkit import checkpoint
        >>> [str(a) for a in checkpoint.schedule(2, snapshots=1)]
        ['advance 0..1', 'reverse 1', 'restore x0 <- slot 0', 'reverse 0']
    """
    _check(length, snapshots)
    if kind == "revolve":
        return _Revolve(length, snapshots).actions()
    if kind == "sqrt":
        return _sqrt(length)
    raise ValueError(f"`kind` must be one of {SCHEDULES}, but received {kind!r}.")


def evaluations(actions: list[Action]) -> int:
    """The step evaluations a schedule costs: advanced steps plus reverses.

    Example:
        >>> from adkit import checkpoint
        >>> actions = checkpoint.schedule(100, 5)
        >>> checkpoint.evaluations(actions), checkpoint.optimal_evaluations(100, 5)
        (417, 417)
    """
    return sum(a.count if a.kind == "advance" else a.kind == "reverse" for a in actions)


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


def _sqrt(length: int) -> list[Action]:
    """Segments of k = ⌈√L⌉ steps: the forward pass stores each segment's start; the reverse
    pass replays one segment at a time, storing every state in it, and reverses it."""
    k = max(1, math.isqrt(length - 1) + 1) if length > 1 else 1
    starts = list(range(0, length, k))
    out: list[Action] = []
    for j, start in enumerate(starts):
        if j > 0:
            out.append(Action("store", start, slot=j))
        out.append(Action("advance", start, count=min(k, length - start)))
    segment_slot = len(starts)  # slots above the segment starts hold the replayed segment
    current = length - 1
    out.append(Action("reverse", length - 1))
    for j in reversed(range(len(starts))):
        start, end = starts[j], min(starts[j] + k, length)
        last = end - 1 if j < len(starts) - 1 else end - 2  # step L-1 is reversed already
        if last < start:
            continue
        if current != start:
            out.append(Action("restore", start, slot=j))
        for i in range(start, last):  # tape the segment: store x_start+1 .. x_last
            out.append(Action("advance", i, count=1))
            out.append(Action("store", i + 1, slot=segment_slot + i - start))
        for i in reversed(range(start, last + 1)):
            slot = j if i == start else segment_slot + i - 1 - start
            if i != last:
                out.append(Action("restore", i, slot=slot))
            out.append(Action("reverse", i))
        current = start
    return out
