"""Suites, workloads and variants: what the harness runs, registered by each module.

A *suite* (one per module: the interpreter, implicit, checkpoint, sparse, ...) yields
*workloads*: one computation at one size, with its arguments and two or more *variants*
computing it. The first variant is the baseline (JAX itself, or the peer library); every other
is reported as a ratio to it. Variants are built afresh by `make()` for each measurement, so no
variant profits from a cache another one filled.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

MEASURES = ("run", "compile", "eager_first", "eager", "temp_bytes")
# on request: "trace", "error", "backward_stored", "backward_temp", "evaluations", and the
# stages a variant names in `stages` ("detection", "coloring", "one_off" timed; "colors" counted)
STAGES = ("detection", "coloring", "one_off", "colors")


@dataclass(frozen=True)
class Variant:
    """One implementation of a workload.

    Attributes:
        label: how the report names it, e.g. `"jax.grad"` or `"adkit.grad (tape)"`.
        make: builds a fresh function of the workload's arguments.
        needs: the peer library (import name) it needs, or None.
        only: the measures it takes part in (None: all), for a variant too slow to run at this
            size (a peer that materialises a dense Jacobian is still compiled for its memory).
        loss: builds the scalar function whose gradient `make` computes; the measures
            "backward_stored" and "backward_temp" need it.
        count: runs the variant once and returns how many times it evaluated its loop's step;
            the measure "evaluations" reports that per step (`info["length"]`).
        compiled: `make()` returns a function that compiles itself (on its first call, which
            the warm-up round makes): the compiled-run measure calls it as it is, unwrapped by
            `jax.jit` (e.g. a transform that keeps arrays on the device outside its program).
        stages: per measure of `STAGES`, a callable: timed (from scratch each time, e.g. a
            sparsity detection, or a one-off detect + color + compile + call) or, for
            "colors", returning the count. A variant takes part only in the stages it names.
    """

    label: str
    make: Callable[[], Callable[..., Any]]
    needs: str | None = None
    only: tuple[str, ...] | None = None
    loss: Callable[[], Callable[..., Any]] | None = None
    count: Callable[[], int] | None = None  # for "evaluations": step calls in one call
    stages: dict[str, Callable[[], Any]] | None = None  # for STAGES
    compiled: bool = False  # "run" calls make() as it is, without wrapping it in jax.jit


@dataclass(frozen=True)
class Workload:
    """One computation at one size and the variants that compute it (the first is the baseline).

    Attributes:
        name: e.g. `"mlp/grad"`.
        args: the arguments every variant is called with.
        variants: the baseline first.
        measures: which of `MEASURES` to take.
        info: facts shown with the row, e.g. `{"equations": 2041}`.
        forward: the function being differentiated, if any: its compiled run is timed with the
            variants' (interleaved) and each variant's `compiled run` row reports its cost over
            the forward pass's (`info["over_forward"]`).
        reference: returns the exact result (a closed form, a converged oracle): the "error"
            measure reports each variant's relative error against it, ‖out - ref‖ / ‖ref‖.
    """

    name: str
    args: Sequence[Any]
    variants: Sequence[Variant]
    measures: Sequence[str] = MEASURES
    info: dict[str, Any] = field(default_factory=dict)
    forward: Callable[..., Any] | None = None
    reference: Callable[[], Any] | None = None  # the exact result, for the "error" measure


@dataclass(frozen=True)
class Suite:
    """A module's benchmarks: `workloads(quick)` returns the workloads to run.

    `summarize(rows)`, if given, returns lines for the report drawn from the suite's rows (a
    target's verdict, a ratio of ratios), e.g. how the cost per equation grows with the program.
    `plot(rows, folder)`, if given, draws figures into `folder` (with `adkit.bench.line_plot`,
    when matplotlib is installed) and returns their paths.
    """

    name: str
    description: str
    workloads: Callable[[bool], list[Workload]]
    peers: tuple[str, ...] = ()
    summarize: Callable[[list[Any]], list[str]] | None = None
    x64: bool | None = None  # run the suite with float64 on (True), off (False), or as it is
    plot: Callable[[list[Any], Any], list[Any]] | None = None


SUITES: dict[str, Suite] = {}


def register_suite(suite: Suite) -> Suite:
    """Adds a suite to `adkit bench` (a module's `bench` file calls this when imported)."""
    SUITES[suite.name] = suite
    return suite


def missing_peers(suite: Suite) -> list[str]:
    """The suite's peer libraries that are not installed (`pip install adkit[bench]` has them)."""
    return [p for p in suite.peers if importlib.util.find_spec(p) is None]
