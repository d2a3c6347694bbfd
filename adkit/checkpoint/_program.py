"""A schedule compiled to arrays: what the forward and the reverse sweep of a checkpointed scan
execute, branch-free, inside `lax.scan` and `lax.while_loop`.

The forward sweep runs all L steps; before step i it stores xᵢ into slot `forward_slot[i]`
(0: none) and it keeps x_held, the state the first reversed block starts from (in the spare
row that unstored states pass through, when no later state is stored: `held_in_spare`).

The reverse sweep is a list of entries read in order by one counter t, in three arrays:
`step`, `code` and, for taped blocks, `count`. Each reversed block is a run of entries:

    advance entries    (code ≥ 0): step from x_step to x_step+1 and write it into buffer row
                       `code` (the spare row, `slots`, when the schedule keeps it nowhere)
    one reverse entry  (code < 0): reverse the `count` steps from `step` (a single step, or a
                       tape of the block and a sweep back); its code also names the snapshot
                       the NEXT block starts from: restore = -2 - code (-1: go on from the
                       current state; `slots + 1`: the spare row)

Entry 0 is such a reverse entry for nothing, naming the first block's snapshot. The sweep is two
nested while loops, the outer one per block and the inner one over its advances while
code ≥ 0; both read the arrays at the counter they carry, so no loop bound is read in a kernel
of its own. The arrays are constants of the compiled program, kept narrow (`step` int16 while
L < 32,767, `code` int8 while s < 124): at L = 10,000 and s = 14 there are 46,000 entries.

A state is stored at most once in the whole reverse sweep (a stored state stays until the sweep
has reversed past it, and the sweep never advances past it again; asserted).
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
    step: np.ndarray  # [T]: the step an entry advances or reverses from
    code: np.ndarray  # [T]: an advance's buffer row (≥ 0), or -2 - the next block's restore
    count: np.ndarray | None  # [T]: the reverse entries' block lengths (None: all 1)
    always_restores: bool  # every block starts from a snapshot (revolve): no select needed


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
    stored = set()
    for index, _ in (store for r in rows for store in r["stores"]):
        assert index not in stored, f"the reverse sweep stores x_{index} twice"
        stored.add(index)
    step, code, count = [0], [], [0]
    for r, first in zip(rows, restore, strict=True):
        code.append(-2 - first)  # on the entry before the block: entry 0, or the last reverse
        slot_of = dict(r["stores"])  # x_j -> the slot it is stored into
        for i in range(r["advance_start"], r["block_start"]):
            step.append(i), code.append(slot_of.get(i + 1, slots + 1) - 1), count.append(0)
        step.append(r["block_start"]), count.append(r["block_count"])
    code.append(-1)  # after the last block: no restore
    block = int(column("block_count").max())
    return Program(
        length=length,
        slots=slots,
        held=held,
        held_in_spare=in_spare,
        block=block,
        evaluations=evaluations(actions),
        forward_slot=forward_slot,
        step=np.array(step, _narrow(length)),
        code=np.array(code, _narrow(slots + 3)),
        count=np.array(count, _narrow(block)) if block > 1 else None,
        always_restores=bool((restore >= 0).all()),
    )


def _narrow(largest: int) -> np.dtype:
    """The narrowest signed integer type that holds ±`largest`."""
    return next(np.dtype(t) for t in (np.int8, np.int16, np.int32) if largest < np.iinfo(t).max)


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
