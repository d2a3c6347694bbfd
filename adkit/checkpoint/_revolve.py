"""Binomial checkpointing (Griewank and Walther's revolve): the fewest step evaluations that
reverse a loop of L steps while holding at most s states, x₀ among them.

With s snapshots and r repetitions, β(s, r) = C(s + r, s) steps can be reversed so that no step
is advanced more than r times. For L steps, let t be the repetition number with
β(s, t - 1) < L <= β(s, t); the fewest forward advances are

    p(L, s) = t L - β(s + 1, t - 1) = t L - C(s + t, t - 1),

and a schedule reaching it splits [0, L) at the m that minimises m + p(m, s) + p(L - m, s - 1):
advance m steps, store the state, reverse the right part with one snapshot fewer, then the left
part with the snapshot back. The cost is convex in m, so the split is found by bisection.

References:
    Griewank and Walther, "Algorithm 799: revolve: an implementation of checkpointing for the
    reverse or adjoint mode of computational differentiation", ACM TOMS 26 (2000).
"""

from __future__ import annotations

import functools
from math import comb


def repetitions(length: int, snapshots: int) -> int:
    """t, with C(s + t - 1, t - 1) < L <= C(s + t, t): the most advances any step needs."""
    t = 0
    while comb(snapshots + t, t) < length:
        t += 1
    return t


def forward_advances(length: int, snapshots: int) -> int:
    """p(L, s): the fewest forward advances that reverse L steps with s snapshots (x₀ among
    them), counting the first sweep to step L - 1 (Griewank and Walther's count)."""
    if length <= 1:
        return 0
    if snapshots <= 1:  # only x₀: advance to each step from the start
        return length * (length - 1) // 2
    t = repetitions(length, snapshots)
    return t * length - comb(snapshots + t, t - 1)


@functools.cache
def split(length: int, snapshots: int) -> int:
    """The number of steps to advance before storing the next snapshot (1 <= m < L)."""

    def cost(m: int) -> int:
        return m + forward_advances(m, snapshots) + forward_advances(length - m, snapshots - 1)

    low, high = 1, length - 1  # the smallest m whose next step does not lower the cost
    while low < high:
        middle = (low + high) // 2
        if cost(middle + 1) < cost(middle):
            low = middle + 1
        else:
            high = middle
    return low
