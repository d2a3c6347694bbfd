"""Running the suites: every measure of every workload, the variants interleaved."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import jax

from ._measure import (
    Timing,
    backward_bytes,
    compile_time,
    gc_paused,
    interleaved,
    relative_error,
    rounds,
    temp_bytes,
    trace_time,
)
from ._registry import STAGES, SUITES, Suite, Workload, missing_peers

REPEATS = {  # per measure: repetitions in a quick pass and a full one
    "run": (5, 30),
    "compile": (1, 5),
    "eager_first": (1, 3),
    "eager": (3, 10),
    "temp_bytes": (1, 1),
    "trace": (1, 3),
    "error": (1, 1),
    "backward_stored": (1, 1),
    "backward_temp": (1, 1),
    "evaluations": (1, 1),
    "detection": (3, 10),
    "coloring": (3, 10),
    "one_off": (1, 3),
    "colors": (1, 1),
}
UNITS = {
    "temp_bytes": "bytes",
    "backward_stored": "bytes",
    "backward_temp": "bytes",
    "error": "relative",
    "evaluations": "per step",
    "colors": "count",
}
FORWARD = "(the forward pass)"  # timed with the variants when a workload names its function


@dataclasses.dataclass(frozen=True)
class Row:
    """One measure of one variant of one workload, with its ratio to the baseline's median."""

    suite: str
    workload: str
    measure: str
    variant: str
    median: float
    low: float
    high: float
    ratio: float | None  # None for the baseline itself
    unit: str = "s"
    info: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Report:
    machine: dict[str, Any]
    rows: list[Row]
    notes: list[str]
    quick: bool


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import adkit

    device = jax.devices()[0]
    return {
        "platform": device.platform,
        "device": getattr(device, "device_kind", str(device)),
        "device_count": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "adkit": adkit.__version__,
        "x64": bool(jax.config.jax_enable_x64),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "system": f"{platform.system()} {platform.machine()}",
    }


def run(
    names: list[str] | None = None,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Runs the registered suites (all, or those named) and returns the report."""
    from . import suites  # noqa: F401  (registers the shipped suites)

    unknown = [n for n in names or () if n not in SUITES]
    if unknown:
        raise ValueError(
            f"`adkit bench --only` received {unknown}, but the suites are {sorted(SUITES)}. "
            "Pass one of those names."
        )
    chosen = [SUITES[n] for n in (names or list(SUITES))]
    rows, notes = [], []
    for suite in chosen:
        missing = missing_peers(suite)
        if missing:
            notes.append(f"{suite.name}: peer {', '.join(missing)} not installed; adkit runs alone")
        mine = []
        precision = contextlib.nullcontext() if suite.x64 is None else jax.enable_x64(suite.x64)
        with precision:
            for workload in suite.workloads(quick):
                for measure in workload.measures:
                    if progress:
                        progress(f"{suite.name} {workload.name} {measure}")
                    mine += _measure(suite, workload, measure, quick, set(missing))
        rows += mine
        if suite.summarize is not None:
            notes += [f"{suite.name}: {line}" for line in suite.summarize(mine)]
    return Report(machine(), rows, notes, quick)


def _measure(suite: Suite, workload: Workload, measure: str, quick: bool, missing) -> list[Row]:
    variants = [
        v
        for v in workload.variants
        if v.needs not in missing
        and (v.only is None or measure in v.only)
        and (measure not in STAGES or measure in (v.stages or {}))
    ]
    repeats = REPEATS[measure][0 if quick else 1]
    args = workload.args
    if measure == "run":
        fns = {v.label: v.make() if v.compiled else jax.jit(v.make()) for v in variants}
        if workload.forward is not None:
            fns[FORWARD] = jax.jit(workload.forward)
        timings = interleaved({k: (lambda f=f: f(*args)) for k, f in fns.items()}, repeats)
        if workload.forward is not None:
            forward = timings.pop(FORWARD).median
            return _rows(suite.name, workload, measure, timings, forward)
    elif measure == "eager":
        fns = {v.label: v.make() for v in variants}
        timings = interleaved({k: (lambda f=f: f(*args)) for k, f in fns.items()}, repeats)
    elif measure == "eager_first":  # a fresh function's first call: tracing included
        timings = _alternate(
            {v.label: (lambda v=v: _first_call(v.make(), args)) for v in variants}, repeats
        )
    elif measure == "trace":  # staging to a jaxpr: where the interpreter's own cost is
        timings = _alternate(
            {v.label: (lambda v=v: trace_time(v.make, args)) for v in variants}, repeats
        )
    elif measure == "compile":
        timings = _alternate(
            {v.label: (lambda v=v: compile_time(v.make, args)) for v in variants}, repeats
        )
    elif measure == "error":  # against the workload's reference: no ratio (the baseline's may be 0)
        reference = workload.reference()
        timings = {
            v.label: Timing((relative_error(jax.jit(v.make())(*args), reference),))
            for v in variants
        }
        return [
            dataclasses.replace(r, ratio=None)
            for r in _rows(suite.name, workload, measure, timings)
        ]
    elif measure == "evaluations":  # step evaluations per step of the loop, counted
        length = workload.info["length"]
        timings = {v.label: Timing((v.count() / length,)) for v in variants}
    elif measure == "colors":  # how many compressed products (seeds) the variant needs
        timings = {v.label: Timing((float(v.stages["colors"]()),)) for v in variants}
    elif measure in STAGES:  # a stage timed from scratch: detection, coloring, one-off
        timings = _alternate(
            {v.label: (lambda v=v: _timed(v.stages[measure])) for v in variants}, repeats
        )
    elif measure in ("backward_stored", "backward_temp"):
        part = 0 if measure == "backward_stored" else 1
        timings = {
            v.label: Timing((float(backward_bytes(v.loss(), args)[part]),)) for v in variants
        }
    else:  # temp_bytes
        timings = {v.label: Timing((float(temp_bytes(v.make(), args)),)) for v in variants}
    return _rows(suite.name, workload, measure, timings)


def _timed(take: Callable[[], Any]) -> float:
    start = time.perf_counter()
    jax.block_until_ready(take())
    return time.perf_counter() - start


def _first_call(fn, args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def _alternate(measure: dict[str, Callable[[], float]], repeats: int) -> dict[str, Timing]:
    """Takes each measurement `repeats` times, alternating, each round in a shuffled order (as
    `interleaved`), with the garbage collector paused; a first round is discarded (it pays the
    process's one-time costs, such as compiling the primitives JAX runs eagerly)."""
    for take in measure.values():
        with gc_paused():
            take()
    samples: dict[str, list[float]] = {k: [] for k in measure}
    for names in rounds(measure, repeats):
        for k in names:
            with gc_paused():  # see `gc_paused`: a full collection is the process's cost
                samples[k].append(measure[k]())
    return {k: Timing(tuple(s)) for k, s in samples.items()}


def _rows(suite, workload, measure, timings: dict[str, Timing], forward=None) -> list[Row]:
    """One row per variant, with its ratio to the first (the baseline) and, when the forward
    pass's median is given, its cost over the forward pass's in `info["over_forward"]`."""
    labels = list(timings)
    base = timings[labels[0]].median
    rows = []
    for k, label in enumerate(labels):
        t = timings[label]
        ratio = None if k == 0 else _ratio(t.median, base)
        unit = UNITS.get(measure, "s")
        info = dict(workload.info)
        if forward is not None:
            info["over_forward"] = _ratio(t.median, forward)
        rows.append(
            Row(
                suite,
                workload.name,
                measure,
                label,
                t.median,
                t.low,
                t.high,
                ratio,
                unit,
                info,
            )
        )
    return rows


def _ratio(value: float, base: float) -> float:
    if base > 0:
        return value / base
    return 1.0 if value == 0 else float("inf")
