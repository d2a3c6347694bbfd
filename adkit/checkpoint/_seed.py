"""Nested checkpointed loops share one parameter-cotangent accumulator.

A loop's reverse sweep adds each reversed step's parameter cotangent into an accumulator. When
the step itself holds a checkpointed loop, that inner loop's reverse sweep would start its own
accumulator from zeros and hand back a parameter-sized result for the outer sweep to add: one
parameter-sized buffer per nesting level. Instead the outer sweep offers its accumulator as a
seed while it pulls a step back; the inner sweep (run right then, as JAX transposes the step)
starts from the seed instead of zeros, and says so, and the outer sweep then takes the step's
cotangent as the new accumulator instead of adding it: ḡ_outer ← ḡ_step, where ḡ_step already
contains ḡ_outer. Each seed is taken at most once, by the first inner loop that differentiates
the same parameter (the same traced value).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import Any

_SEEDS: contextvars.ContextVar[dict[int, list[Any]] | None] = contextvars.ContextVar(
    "adkit_checkpoint_seeds", default=None
)


@contextlib.contextmanager
def offering(params: Sequence[Any], accumulators: Sequence[Any]) -> Iterator[list[bool]]:
    """Offers `accumulators` as seeds for `params` while the block runs; yields, per
    parameter, whether an inner loop took its seed."""
    seeds = {id(p): [a, False] for p, a in zip(params, accumulators, strict=True)}
    token = _SEEDS.set(seeds)
    taken = [False] * len(params)
    try:
        yield taken
    finally:
        _SEEDS.reset(token)
        for k, p in enumerate(params):
            taken[k] = seeds[id(p)][1]


def start(param: Any, zeros: Any) -> Any:
    """The accumulator an inner loop starts from for `param`: the outer sweep's seed if one is
    offered for this very value (and not taken yet), else `zeros`."""
    seeds = _SEEDS.get()
    seed = None if seeds is None else seeds.get(id(param))
    if seed is None or seed[1] or getattr(seed[0], "shape", None) != getattr(zeros, "shape", None):
        return zeros
    seed[1] = True
    return seed[0]
