"""Checkpointing: reverse-mode through long loops in bounded memory, at the fewest recomputations.

- `schedule(length, snapshots)`: the binomial (revolve) schedule as plain Python actions;
  `optimal_evaluations(length, snapshots)`: the minimum it reaches (Griewank and Walther);
- `scan(f, init, xs, ...)`: `lax.scan` whose gradient follows such a schedule;
- `while_loop(cond, body, init, max_steps=...)`: a while loop checkpointed online (its number of
  steps known only when it stops);
- `memory_report(f, *args)`: a gradient's XLA bytes, its residuals by source line, and warnings
  about the silent pathologies (a loop-invariant value stored per step, nested accumulators).
"""

from jax import checkpoint_policies as policies  # noqa: F401  (JAX's named policies, re-exported)

from ._report import MemoryReport, memory_report
from ._scan import scan
from ._schedule import Action, evaluations, optimal_evaluations, schedule
from ._while import while_loop

__all__ = [
    "Action",
    "MemoryReport",
    "evaluations",
    "memory_report",
    "optimal_evaluations",
    "scan",
    "schedule",
    "while_loop",
]
