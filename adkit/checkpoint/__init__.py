"""Checkpointing: reverse-mode through long loops in bounded memory, at the fewest recomputations.

- `schedule(length, snapshots)`: the binomial (revolve) schedule as plain Python actions;
  `optimal_evaluations(length, snapshots)`: the minimum it reaches (Griewank and Walther);
- `scan(f, init, xs, ...)`: `lax.scan` whose gradient follows such a schedule.
"""

from ._scan import scan
from ._schedule import Action, evaluations, optimal_evaluations, schedule

__all__ = ["Action", "evaluations", "optimal_evaluations", "scan", "schedule"]
