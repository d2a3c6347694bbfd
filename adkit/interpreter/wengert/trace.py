"""The tape (Wengert list): every primitive a function executes, in order, with its values.

`trace(f, *args)` runs `f` through an interpreter that, unlike the evaluator, inlines everything:
`jit` bodies, `jax.checkpoint` regions, the primal bodies of custom-derivative functions, the
branch a `cond` takes, every iteration of a `scan` or `while` loop. Each primitive it applies
becomes one `TapeEntry`. This is the list a textbook writes down before differentiating by hand:
inputs v-1, v0, ..., then one intermediate v1, v2, ... per elementary operation.

Loops need two bookkeeping rows that are not primitives of the program: `scan.index` takes
iteration i's slice of a scanned input and `scan.stack` stacks a scanned output. Everything
else on the tape is a JAX primitive applied to the values shown.

Given tangents, `trace(f, *args, tangents=...)` also pushes them forward through adkit's JVP
rules and records each row's tangent: the forward-mode (dual number) table.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax

from ... import _jax_compat as jc
from .._zeros import instantiate
from ..eager.dispatch import STAGING_ERRORS
from ..eager.path import path_jaxpr
from ..forward.api import as_tangent, check_primals_and_tangents
from .adjoint import backward
from .engine import Recorder
from .entry import TapeEntry
from .render import render_tape


@dataclasses.dataclass(frozen=True)
class Tape:
    """The Wengert list of one function call; `print(tape)` shows it as a table.

    Attributes:
        name: the traced function's name.
        inputs: one `input` entry per argument leaf (v-1, v0, ... as in the textbooks).
        entries: the executed operations in order, constants (`c1`, ...) where first used.
        outputs: names (or literal text) of the output leaves.
        output: the function's result, a pytree equal to `f(*args)`.
        output_tangent: with `tangents=`, the tangent of the result (the JVP), else None.
        args: the arguments the function was traced with.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> def f(x1, x2):
        ...     return jnp.log(x1) + x1 * x2 - jnp.sin(x2)
        >>> tape = adkit.trace(f, 2.0, 5.0)
        >>> print(tape)
        Wengert list of f: 5 primitive operations
        var  op      inputs   value
        ---  ------  -------  -------------
        v-1  x1               2
        v0   x2               5
        v1   log     v-1      0.69314...
        v2   mul     v-1, v0  10
        v3   add     v1, v2   10.6931...
        v4   sin     v0       -0.95892...
        v5   sub     v3, v4   11.6520...
        y    output  v5
        >>> tape.name, len(tape), [e.label for e in tape.inputs], tape.outputs
        ('f', 5, ['x1', 'x2'], ('v5',))
        >>> tape[1].op, tape.args, round(float(tape.output), 4)
        ('mul', (2.0, 5.0), 11.6521)
    """

    name: str
    inputs: tuple[TapeEntry, ...]
    entries: tuple[TapeEntry, ...]
    outputs: tuple[str, ...]
    output: Any
    output_tangent: Any = None
    args: Any = None

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[TapeEntry]:
        return iter(self.entries)

    def __getitem__(self, i: int) -> TapeEntry:
        return self.entries[i]

    def ops(self) -> list[str]:
        """The primitive names in execution order (bookkeeping and constant rows left out)."""
        return [e.op for e in self.entries if e.op not in _BOOKKEEPING]

    def __str__(self) -> str:
        return render_tape(self)

    def backward(self, cotangent: Any = None):
        """The reverse sweep over this tape: the adjoint table, and the gradient.

        Args:
            cotangent: the output's adjoint, shaped like the output (1 for a scalar output).

        Returns:
            An `Adjoints`: `print` it for the table; `.gradient` is shaped like the arguments.

        Examples:
            >>> import jax.numpy as jnp, adkit
            >>> tape = adkit.trace(lambda x1, x2: jnp.log(x1) + x1 * x2 - jnp.sin(x2), 2.0, 5.0)
            >>> [round(float(g), 4) for g in tape.backward().gradient]
            [5.5, 1.7163]
        """
        return backward(self, cotangent)


_BOOKKEEPING = ("const", "scan.index", "scan.stack", "custom_jvp.rule")


def trace(fun: Callable[..., Any], *args: Any, tangents: tuple | None = None) -> Tape:
    """Runs `fun(*args)` through adkit's tape interpreter and returns its Wengert list.

    Args:
        fun: a function of arrays (pytrees allowed) that `jax.make_jaxpr` can trace.
        *args: concrete arguments (the tape records values, so call it outside `jax.jit`).
        tangents: optional tangents for `args` (a tuple with the same structure, as for
            `adkit.jvp`); each row then also records its tangent.

    Returns:
        A `Tape`: one entry per executed primitive, inlined through nested jaxprs, with the
        primal values; `tape.output` equals `fun(*args)`.

    Raises:
        TypeError: if an argument is an abstract tracer (inside `jax.jit` or `jax.vmap`).

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> def f(x1, x2):
        ...     return jnp.log(x1) + x1 * x2 - jnp.sin(x2)
        >>> tape = adkit.trace(f, 2.0, 5.0)
        >>> tape.ops()
        ['log', 'mul', 'add', 'sin', 'sub']
        >>> round(float(tape.output), 4)
        11.6521
        >>> float(adkit.trace(f, 2.0, 5.0, tangents=(1.0, 0.0)).output_tangent)  # df/dx1
        5.5
    """
    leaves = jax.tree.leaves(args)
    for leaf in leaves:
        if not jc.is_concrete(leaf):
            raise TypeError(
                "`adkit.trace` records concrete values, but it received an abstract tracer "
                f"({leaf}). Call `adkit.trace` outside `jax.jit`/`jax.vmap`, on real arrays."
            )
    try:
        closed, out_shape = jax.make_jaxpr(fun, return_shape=True)(*args)
        out_tree = jax.tree.structure(out_shape)
    except STAGING_ERRORS:  # Python branches on values: the path taken, recorded define-by-run
        closed, out_tree = path_jaxpr(fun, args)
    recorder = Recorder(with_tangents=tangents is not None)
    tangent_leaves = None
    if tangents is not None:
        _, tangent_leaves = check_primals_and_tangents("adkit.trace", args, tangents)
        tangent_leaves = [as_tangent(p, t) for p, t in zip(leaves, tangent_leaves, strict=True)]
    inputs = recorder.add_inputs(leaves, _input_labels(fun, args), tangent_leaves)
    consts = [recorder.constant(c) for c in closed.consts]
    outs = recorder.walk(closed.jaxpr, consts, inputs, scope="")
    output = jax.tree.unflatten(out_tree, [n.value for n in outs])
    output_tangent = None
    if tangents is not None:
        output_tangent = jax.tree.unflatten(out_tree, [instantiate(n.tangent) for n in outs])
    return Tape(
        name=getattr(fun, "__name__", type(fun).__name__),
        inputs=tuple(recorder.input_entries),
        entries=tuple(recorder.entries),
        outputs=tuple(n.name for n in outs),
        output=output,
        output_tangent=output_tangent,
        args=args,
    )


def _input_labels(fun: Callable[..., Any], args: Sequence[Any]) -> list[str]:
    """Labels such as `x1` or `params['w']`: parameter names plus pytree paths."""
    names = _parameter_names(fun, len(args))
    labels = []
    for name, arg in zip(names, args, strict=True):
        for path, _ in jax.tree_util.tree_flatten_with_path(arg)[0]:
            labels.append(name + jax.tree_util.keystr(path))
    return labels


@functools.lru_cache(maxsize=256)
def _positional_names(fun: Callable[..., Any]) -> tuple[str, ...]:
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return ()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in params if p.kind in kinds)


def _parameter_names(fun: Callable[..., Any], count: int) -> list[str]:
    try:
        names = list(_positional_names(fun))
    except TypeError:  # unhashable callables
        names = []
    return [names[k] if k < len(names) else f"arg{k}" for k in range(count)]
