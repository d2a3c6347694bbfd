"""`memory_report`: where a gradient's memory goes, and the known ways it silently grows."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from .. import _jax_compat as jc

LOOPS = ("scan", "while")


@dataclasses.dataclass(frozen=True)
class MemoryReport:
    """A gradient's memory.

    Attributes:
        temp_bytes, argument_bytes, output_bytes: XLA's `memory_analysis()` of the compiled
            gradient.
        residuals: `(shape, bytes, source)` of every value the forward pass keeps for the
            backward pass (JAX's linearization of the function).
        by_line: the residual bytes grouped by the source line that made them, largest first.
        warnings: the known pathologies found (empty when none).

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit import checkpoint
        >>> report = checkpoint.memory_report(lambda x: jnp.sum(jnp.sin(x) ** 2), jnp.ones(100))
        >>> print(report)
        XLA: temp ..., arguments ..., outputs ...
        residuals: ... values, ...
        ...
        >>> sorted({shape for shape, _, _ in report.residuals})
        ['float32[100]']
        >>> report.residual_bytes == sum(report.by_line.values()), report.warnings
        (True, [])
    """

    temp_bytes: int
    argument_bytes: int
    output_bytes: int
    residuals: list[tuple[str, int, str]]
    by_line: dict[str, int]
    warnings: list[str]

    @property
    def residual_bytes(self) -> int:
        return sum(size for _, size, _ in self.residuals)

    def __str__(self) -> str:
        lines = [
            f"XLA: temp {_text(self.temp_bytes)}, arguments {_text(self.argument_bytes)}, "
            f"outputs {_text(self.output_bytes)}",
            f"residuals: {len(self.residuals)} values, {_text(self.residual_bytes)}",
        ]
        lines += [f"  {_text(size):>10}  {line}" for line, size in self.by_line.items()]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def memory_report(
    f: Callable[..., Any], *args: Any, gradient: Callable[..., Callable] = jax.grad
) -> MemoryReport:
    """Reports the memory of the gradient of the scalar function `f` at `args`.

    Args:
        f: a scalar function of `args`.
        *args: its arguments (all differentiated).
        gradient: the transform compiled for XLA's numbers: `jax.grad` or `adkit.grad`.

    Returns:
        A `MemoryReport`; `print(report)` shows a table. Its warnings name three silent
        pathologies: a loop-invariant value stored once per step of a scan, one
        parameter-cotangent accumulator per level of nested loops, and a `jax.checkpoint`
        whose policy saves every value it computes (so it saves no memory).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit import checkpoint
        >>> def f(w, xs):
        ...     return jax.lax.scan(lambda h, x: (jnp.tanh(w * h + x), None), 0.0, xs)[0]
        >>> report = checkpoint.memory_report(f, 0.5, jnp.ones(100))
        >>> report.residual_bytes >= 100 * 4, report.warnings
        (True, [])
    """
    argnums = tuple(range(len(args)))
    compiled = jax.jit(gradient(f, argnums)).lower(*args).compile()
    analysis = compiled.memory_analysis()
    residuals = [
        (aval.str_short(), int(np.prod(aval.shape)) * aval.dtype.itemsize, source)
        for aval, source in jc.saved_residuals(f, *args)
        if hasattr(aval, "shape")
    ]
    by_line: dict[str, int] = defaultdict(int)
    for _, size, source in residuals:
        by_line[_line(source)] += size
    warnings = _stacked_invariants(f, args) + _nested_accumulators(gradient(f, argnums), args)
    warnings += _checkpoints_saving_nothing(f, args)
    return MemoryReport(
        int(getattr(analysis, "temp_size_in_bytes", 0)),
        int(getattr(analysis, "argument_size_in_bytes", 0)),
        int(getattr(analysis, "output_size_in_bytes", 0)),
        residuals,
        dict(sorted(by_line.items(), key=lambda item: -item[1])),
        warnings,
    )


def _line(source: str) -> str:
    match = re.search(r"from (\S+:\d+)", source)
    return match.group(1) if match else source


def _text(size: int) -> str:
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if size >= scale:
            return f"{size / scale:.2f} {unit}"
    return f"{size} B"


def _stacked_invariants(f, args) -> list[str]:
    """Residuals of a loop (leading axis of the loop's length) that are the same at every step."""
    _, pullback = jax.vjp(f, *args)
    inputs = {id(a) for a in jax.tree.leaves(args)}  # an argument is not a stacked copy
    found = []
    for leaf in jax.tree.leaves(pullback):
        if id(leaf) in inputs:
            continue
        leaf = np.asarray(leaf)
        loop_shaped = leaf.ndim >= 2 and leaf.shape[0] >= 2 and leaf[0].size >= 2
        if loop_shaped and np.array_equal(leaf, np.broadcast_to(leaf[:1], leaf.shape)):
            found.append(
                f"a value of shape {leaf.shape[1:]} is stored {leaf.shape[0]} times, the same "
                "at every step: it does not depend on the loop (a closed-over constant "
                "transformed inside the step?). Compute it outside the loop and close over "
                "the result."
            )
    return found


def _nested_accumulators(gradient_fn, args) -> list[str]:
    """Parameter-shaped values carried by loops at two or more nesting levels."""
    shapes = {
        (tuple(np.shape(a)), jax.typeof(a).dtype.name)
        for a in jax.tree.leaves(args)
        if np.size(a) >= 2
    }
    depths: dict[tuple, set[int]] = defaultdict(set)

    def walk(jaxpr, depth):
        for eqn in jaxpr.eqns:
            inner = depth + (eqn.primitive.name in LOOPS)
            if eqn.primitive.name in LOOPS:
                for aval in _carried(eqn):
                    key = (tuple(aval.shape), aval.dtype.name)
                    if key in shapes:
                        depths[key].add(inner)
            for sub in jc.sub_jaxprs(eqn):
                walk(sub, inner)

    walk(jax.make_jaxpr(gradient_fn)(*args).jaxpr, 0)
    return [
        f"a parameter of shape {shape} gets a cotangent accumulator in loops at {len(levels)} "
        "nesting levels (one per level): each holds a parameter-sized buffer; flatten the "
        "loops, or differentiate the inner loop's parameters explicitly."
        for (shape, _), levels in depths.items()
        if len(levels) >= 2
    ]


def _checkpoints_saving_nothing(f, args) -> list[str]:
    """`jax.checkpoint`s whose policy marks every operation inside them saveable: the backward
    pass stores all they compute, as without the checkpoint, and recomputes nothing."""
    found = []

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive is jc.remat_p and eqn.params.get("policy") is not None:
                policy, inner = eqn.params["policy"], eqn.params["jaxpr"]
                computed = [e for e in inner.eqns if e.outvars]
                saved = [
                    policy(e.primitive, *[v.aval for v in e.invars], **e.params) is True
                    for e in computed
                ]
                if computed and all(saved):
                    name = getattr(policy, "__name__", repr(policy))
                    found.append(
                        f"a `jax.checkpoint` with policy {name} saves nothing: the policy keeps "
                        f"all {len(computed)} values it computes, so the backward pass stores "
                        "them as if there were no checkpoint. Use a policy that saves less "
                        "(`nothing_saveable`, `dots_saveable`), or remove the checkpoint."
                    )
            for sub in jc.sub_jaxprs(eqn):
                walk(sub)

    walk(jax.make_jaxpr(f)(*args).jaxpr)
    return found


def _carried(eqn) -> list[Any]:
    if eqn.primitive.name == "scan":
        jaxpr, consts, carry = (
            eqn.params["jaxpr"],
            eqn.params["num_consts"],
            eqn.params["num_carry"],
        )
        return list(jaxpr.in_avals[consts : consts + carry])
    body = eqn.params["body_jaxpr"]
    return list(body.in_avals[eqn.params["body_nconsts"] :])
