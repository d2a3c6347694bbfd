"""A schedule compiled to arrays: what the forward and the reverse sweep of a checkpointed scan
execute, branch-free, inside `lax.scan` and `lax.fori_loop`.

The forward sweep runs all L steps; before step i it stores xᵢ into slot `forward_slot[i]`
(0: none) and it keeps x_held, the state the first reversed block starts from (in the spare
row that unstored states pass through, when no later state is stored: `held_in_spare`).

The reverse sweep is one row per reversed block, each of the same shape:

    [restore a slot]  advance from `advance_start` for `advance_count` steps, storing on the way
    reverse the block [block_start, block_start + block_count) (a single-step reverse, or a
    tape of the block and a sweep back)

A state is stored at most once in the whole reverse sweep (a stored state stays until the
sweep has reversed past it, and the sweep never advances past it again), so the stores are one
table by step, like the forward sweep's: after advancing to x_j, store it into slot
`reverse_slot[j]` (0: none). The advance loop then carries no pointer, and reads one entry per
step. Rows that need less are padded: no restore (-1), empty advances.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ._schedule import Action, evaluations


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: a JAX primitive's param
class Program:
    """The arrays of one schedule (see the module's docstring)."""

    length: int
    slots: int  # the highest slot the schedule stores into; the buffer has one spare row more
    held: int
    held_in_spare: bool  # x_held is the spare row's last write: the first row restores it there
    block: int  # the longest reversed block: the tape's length
    evaluations: int
    forward_slot: np.ndarray  # [L]
    restore: np.ndarray  # [N]
    advance_start: np.ndarray  # [N]
    advance_count: np.ndarray  # [N]
    reverse_slot: np.ndarray  # [L + 1]: where the reverse sweep stores x_j (0: not stored)
    block_start: np.ndarray  # [N]
    block_count: np.ndarray  # [N]


def compile_schedule(actions: list[Action], length: int) -> Program:
    """The `Program` that executes `actions` (a schedule in `_schedule`'s conventions)."""
    first = next(k for k, a in enumerate(actions) if a.kind in ("reverse", "tape"))
    forward_slot = np.zeros(length, np.int32)
    position = 0
    for action in actions[:first]:
        if action.kind == "advance":
            assert action.index == position, f"the forward sweep skips to {action}"
            position += action.count
        elif action.kind == "store":
            forward_slot[action.index] = action.slot
        else:
            raise AssertionError(f"the forward sweep cannot {action}")
    assert position == length, "the forward sweep must run every step"

    rows, row = [], _Row()
    for action in actions[first:]:
        if action.kind in ("reverse", "tape"):
            rows.append(row.close(action))
            row = _Row()
        else:
            row.add(action)
    slots = max((a.slot for a in actions if a.kind == "store"), default=0)
    column = lambda key: np.array([r[key] for r in rows], np.int32)
    assert (column("advance_start") + column("advance_count") == column("block_start")).all()
    # x_held stays in the spare row when no later state is stored (revolve: x_held = x_{L-1});
    # the first row then restores it from there (pseudo-slot `slots + 1`), and the forward
    # sweep need not carry it
    held = actions[first].index
    in_spare = bool(forward_slot[held] == 0 and (forward_slot[held + 1 :] > 0).all())
    restore = column("restore")
    if in_spare:
        assert restore[0] < 0, "the first reversed block starts from x_held, restoring nothing"
        restore[0] = slots + 1
    reverse_slot = np.zeros(length + 1, np.int32)
    for index, slot in (store for r in rows for store in r["stores"]):
        assert reverse_slot[index] == 0, f"the reverse sweep stores x_{index} twice"
        reverse_slot[index] = slot
    return Program(
        length=length,
        slots=slots,
        held=held,
        held_in_spare=in_spare,
        block=int(column("block_count").max()),
        evaluations=evaluations(actions),
        forward_slot=forward_slot,
        restore=restore,
        advance_start=column("advance_start"),
        advance_count=column("advance_count"),
        reverse_slot=reverse_slot,
        block_start=column("block_start"),
        block_count=column("block_count"),
    )


class _Row:
    """One row of the reverse sweep, gathered action by action."""

    def __init__(self):
        self.restore, self.start, self.position, self.stores = -1, None, None, []

    def add(self, action: Action) -> None:
        if action.kind == "restore":
            assert self.start is None, f"{action} in the middle of a row"
            self.restore, self.position = action.slot, action.index
        elif action.kind == "advance":
            if self.start is None:
                self.start = self.position = action.index
            assert self.position == action.index, f"{action} does not continue the row"
            self.position += action.count
        else:  # a store: of a state just advanced to
            assert self.start is not None and action.index == self.position, action
            self.stores.append((action.index, action.slot))

    def close(self, action: Action) -> dict:
        start = action.index if self.start is None else self.start
        assert self.start is None or self.position == action.index, action
        return {
            "restore": self.restore,
            "advance_start": start,
            "advance_count": action.index - start,
            "stores": self.stores,
            "block_start": action.index,
            "block_count": action.count if action.kind == "tape" else 1,
        }


@functools.lru_cache(maxsize=64)
def cached(kind: str, length: int, snapshots: int, block: int = 1) -> Program:
    """The program of a named schedule (the same object for the same arguments, so that traces
    of the same loop share it)."""
    from ._schedule import blocked, schedule

    if kind == "blocked":
        return compile_schedule(blocked(length, snapshots, block), length)
    return compile_schedule(schedule(length, snapshots, kind), length)
