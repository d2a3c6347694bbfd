"""The byte-budget schedule: per step, store the state or store the step's residuals, for the
fewest evaluations within a memory budget.

A state costs S bytes to keep, a step's residuals (its tape) R bytes. Keeping a state saves
recomputing the steps before it; keeping a step's residuals saves recomputing the step itself
when it is reversed. The schedules searched are revolve over blocks of K steps (`blocked`):
s snapshots (x₀ among them) at block starts, and one block taped at a time, in

    memory(s, K) = s S + K R   (K R only when K > 1: a single step needs no tape)

bytes. Its evaluations, for N = ⌈L / K⌉ blocks, are about K (p(N, s) + 1) + L: the block
advances of revolve (Griewank and Walther's p), plus one taped evaluation per step. K = 1 is
revolve itself (snapshot-only budgets); K = ⌈√L⌉ with s = N is √L segment taping (2
evaluations per step). Every K is tried with the most snapshots the rest of the budget buys;
the three best estimates are then counted exactly from their schedules.
"""

from __future__ import annotations

from ._revolve import forward_advances
from ._schedule import blocked, evaluations


def choose_budget(
    length: int, budget: int, state_bytes: int, residual_bytes: int
) -> tuple[int, int]:
    """`(snapshots, block)`: the blocked revolve schedule with the fewest evaluations whose
    snapshots and tape fit in `budget` bytes.

    Examples:
        >>> from adkit import checkpoint
        >>> from adkit.checkpoint._budget import choose_budget
        >>> from adkit.checkpoint._schedule import blocked
        >>> state, tape = 4096, 3 * 4096
        >>> choose_budget(10_000, 14 * state, state, tape)  # 14 states: revolve
        (14, 1)
        >>> s, block = choose_budget(10_000, 100 * (state + tape), state, tape)  # √L taping's
        >>> s, block, checkpoint.evaluations(blocked(10_000, s, block)) / 10_000
        (200, 50, 2.0)
    """
    if not (isinstance(budget, int) and budget >= state_bytes):
        raise ValueError(
            f"`memory_budget` must be an integer number of bytes that holds at least one state "
            f"({state_bytes} bytes here), but received {budget!r}."
        )
    candidates = []
    for block in sorted({-(-length // n) for n in range(1, length + 1)}):
        tape = block * residual_bytes if block > 1 else 0
        snapshots = (budget - tape) // max(state_bytes, 1)
        if snapshots < 1:
            continue
        blocks = -(-length // block)
        snapshots = min(snapshots, blocks)
        estimate = block * (forward_advances(blocks, snapshots) + 1) + length
        candidates.append((estimate, snapshots * state_bytes + tape, snapshots, block))
    candidates.sort()
    exact = [
        (evaluations(blocked(length, s, block)), memory, s, block)
        for _, memory, s, block in candidates[:3]
    ]
    _, _, snapshots, block = min(exact)
    return snapshots, block
