"""How the harness measures: interleaved repetitions, fresh functions, XLA's memory analysis.

Two implementations of the same computation are timed *interleaved*: call A, call B, then B, A,
... (each round in a shuffled order) so that a slow spell of the machine (another process, a
frequency change) lands on both rather than on whichever ran second, and neither always runs
right after the same neighbour. Compile times are measured on functions built afresh
for every repetition, so that neither side profits from JAX's trace cache. Python's garbage
collector is paused while a sample is timed (as `timeit` does): a full collection costs in
proportion to every object the process holds, so it would charge whichever call happened to
trigger it for the whole process's heap.
"""

from __future__ import annotations

import contextlib
import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax


@dataclass(frozen=True)
class Timing:
    """Repeated measurements of one quantity, in seconds (or bytes)."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)


SAMPLE_SECONDS = 20e-3  # a sample of a fast call times enough calls to fill about this long
MAX_CALLS = 5000  # and at most this many


@contextlib.contextmanager
def gc_paused():
    """Python's garbage collector off inside the block, and as it was after it.

    Why: a call that allocates many Python objects (a detection that loops over elements, a
    trace) triggers collections, and a full one walks every object of the process. Measured:
    asdex's sparsity detection of a 1D Bratu problem (n = 8192) took 27 ms when no full
    collection fell in it and 80 to 90 ms when one did, in a process holding little more than
    JAX. Its time then depended on what else the process held, not on its own work.

    Examples:
        >>> import gc
        >>> with gc_paused():
        ...     inside = gc.isenabled()
        >>> inside, gc.isenabled()
        (False, True)
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _seconds(call: Callable[[], Any], number: int = 1) -> float:
    """Seconds per call, over `number` calls in a row (the garbage collector paused)."""
    with gc_paused():
        start = time.perf_counter()
        for _ in range(number):
            out = call()
        jax.block_until_ready(out)
        return (time.perf_counter() - start) / number


def interleaved(calls: dict[str, Callable[[], Any]], repeats: int, warmup: int = 1):
    """Times each call `repeats` times, alternating between them; returns `{name: Timing}`.

    A call of a few microseconds is timed over enough calls in a row to fill `SAMPLE_SECONDS`
    (each variant's number set by its own time after the warm-up round: a sparse Jacobian of
    50 µs timed beside a dense one of 20 ms is still timed over 400 calls), so that a sample is
    not one dispatch's noise, and the first calls after a neighbour's sample (with caches to
    fill again) weigh little in it.

    Each round calls them in a new order (shuffled, the same orders every run), so that no call
    always follows the same one: on a 2-core CPU a 20 µs sparse Jacobian always called after a
    peer's was measured 15% slower than the same function called after other ones.

    Examples:
        >>> import jax.numpy as jnp
        >>> t = interleaved({"a": lambda: jnp.ones(3), "b": lambda: jnp.zeros(3)}, repeats=3)
        >>> sorted(t), len(t["a"].samples)
        (['a', 'b'], 3)
    """
    for _ in range(warmup):
        for call in calls.values():
            _seconds(call)
    number = {}
    for name, call in calls.items():  # a warm call's time (the fastest of three if it is fast)
        took = _seconds(call)
        if took < SAMPLE_SECONDS:
            took = min(took, _seconds(call), _seconds(call))
        number[name] = max(1, min(MAX_CALLS, int(SAMPLE_SECONDS / max(took, 1e-9))))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for names in rounds(calls, repeats):
        for name in names:
            samples[name].append(_seconds(calls[name], number[name]))
    return {name: Timing(tuple(s)) for name, s in samples.items()}


def rounds(names: Sequence[str], repeats: int) -> list[list[str]]:
    """`repeats` orders of `names`, each shuffled (seeded: the same orders every run), so that
    in interleaved measurements no variant always runs right after the same other one.

    Examples:
        >>> orders = rounds(["a", "b", "c"], 4)
        >>> len(orders), all(sorted(o) == ["a", "b", "c"] for o in orders)
        (4, True)
    """
    names, shuffle, orders = list(names), random.Random(0).shuffle, []
    for _ in range(repeats):
        shuffle(names)
        orders.append(list(names))
    return orders


def compile_time(make: Callable[[], Callable[..., Any]], args: Sequence[Any]) -> float:
    """Seconds to trace, lower and compile `jax.jit` of a function built afresh by `make()`."""
    fn = make()
    start = time.perf_counter()
    jax.jit(fn).lower(*args).compile()
    return time.perf_counter() - start


def trace_time(make: Callable[[], Callable[..., Any]], args: Sequence[Any]) -> float:
    """Seconds a freshly built function takes when called on tracers: the transformation's own
    work (adkit's interpreter, or JAX's autodiff), with no lowering and no compiling.

    The clock stops when the function returns, before `jax.make_jaxpr` assembles the outer
    jaxpr: that last step is JAX's, costs about the same for every variant, and grows faster
    than the program (it runs with Python's garbage collector on).
    """
    fn = make()
    seconds = []

    def timed(*a):
        start = time.perf_counter()
        out = fn(*a)
        seconds.append(time.perf_counter() - start)
        return out

    jax.make_jaxpr(timed)(*args)
    return seconds[0]


def temp_bytes(fn: Callable[..., Any], args: Sequence[Any]) -> int:
    """XLA's temporary buffer bytes for the compiled `fn` (`memory_analysis`), -1 if unknown."""
    analysis = jax.jit(fn).lower(*args).compile().memory_analysis()
    return -1 if analysis is None else int(analysis.temp_size_in_bytes)


def backward_bytes(loss: Callable[..., Any], args: Sequence[Any]) -> tuple[int, int]:
    """The memory of a gradient's backward pass, `(stored, temp)`: the residuals `jax.vjp`'s
    forward pass stored for it (other than the arguments themselves), and XLA's temporary bytes
    for the backward pass alone, compiled with those residuals as its arguments.

    Unrolling a solver stores every iterate; implicit differentiation stores the solution.

    Examples:
        >>> import jax.numpy as jnp
        >>> f = lambda x: jnp.sum(jnp.sin(jnp.sin(x)))
        >>> stored, temp = backward_bytes(f, (jnp.ones(1000),))
        >>> stored >= 8000   # cos(x) and cos(sin x), 1000 float32 each
        True
    """
    out, pullback = jax.vjp(loss, *args)
    inputs = {id(leaf) for leaf in jax.tree.leaves(args)}
    stored = sum(leaf.nbytes for leaf in jax.tree.leaves(pullback) if id(leaf) not in inputs)
    backward = jax.jit(lambda f, ct: f(ct)).lower(pullback, jax.numpy.ones_like(out)).compile()
    analysis = backward.memory_analysis()
    return stored, (0 if analysis is None else int(analysis.temp_size_in_bytes))


def relative_error(value: Any, reference: Any) -> float:
    """‖value - reference‖ / ‖reference‖ over all leaves of two pytrees of the same structure.

    Examples:
        >>> import jax.numpy as jnp
        >>> relative_error({"a": jnp.array([3.0, 4.0])}, {"a": jnp.array([3.0, 4.5])})
        0.0924...
    """
    import numpy as np

    value_leaves = [np.asarray(v, np.float64) for v in jax.tree.leaves(value)]
    reference_leaves = [np.asarray(r, np.float64) for r in jax.tree.leaves(reference)]
    if len(value_leaves) != len(reference_leaves):
        raise ValueError(
            f"A variant returned {len(value_leaves)} arrays but the workload's reference has "
            f"{len(reference_leaves)}; make both return the same structure."
        )
    difference = sum(
        np.sum((v - r) ** 2) for v, r in zip(value_leaves, reference_leaves, strict=True)
    )
    scale = sum(np.sum(r**2) for r in reference_leaves)
    return float(np.sqrt(difference / scale)) if scale > 0 else float(np.sqrt(difference))


def equation_count(fn: Callable[..., Any], args: Sequence[Any]) -> int:
    """Equations in `fn`'s jaxpr, counting those inside nested jaxprs."""
    from .._jax_compat import count_equations

    return count_equations(jax.make_jaxpr(fn)(*args))
