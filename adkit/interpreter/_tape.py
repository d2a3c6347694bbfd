"""The tape (Wengert list): every primitive a function executes, in order, with its values.

`trace(f, *args)` runs `f` through an interpreter that, unlike the evaluator, inlines everything:
`jit` bodies, `jax.checkpoint` regions, the primal bodies of custom-derivative functions, the
branch a `cond` takes, every iteration of a `scan` or `while` loop. Each primitive it applies
becomes one `TapeEntry`. This is the list a textbook writes down before differentiating by hand:
inputs v-1, v0, ..., then one intermediate v1, v2, ... per elementary operation.

Loops need two bookkeeping rows that are not primitives of the program: `scan.index` takes
iteration i's slice of a scanned input and `scan.stack` stacks a scanned output. Everything
else on the tape is a JAX primitive applied to the values shown.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _jax_compat as jc
from ._env import Env
from ._render import render_tape


@dataclasses.dataclass(frozen=True)
class TapeEntry:
    """One row of the Wengert list.

    Attributes:
        op: the primitive's name, or `input`, `const`, `scan.index`, `scan.stack`.
        inputs: names of the values read (`v3`, `c1`, ...) or the text of an inline literal.
        outputs: names of the values written.
        values: the output values, in the order of `outputs`.
        params: the primitive's parameters (jaxpr-valued ones left out).
        scope: where the equation sat, e.g. `jit(relu)/custom_jvp` or `scan[2]`; empty at top.
        label: for inputs, the argument it came from, e.g. `x1` or `params['w']`.
    """

    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    values: tuple[Any, ...]
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    scope: str = ""
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Tape:
    """The Wengert list of one function call; `print(tape)` shows it as a table.

    Attributes:
        name: the traced function's name.
        inputs: one `input` entry per argument leaf (v-1, v0, ... as in the textbooks).
        entries: the executed operations in order, constants (`c1`, ...) where first used.
        outputs: names (or literal text) of the output leaves.
        output: the function's result, a pytree equal to `f(*args)`.
    """

    name: str
    inputs: tuple[TapeEntry, ...]
    entries: tuple[TapeEntry, ...]
    outputs: tuple[str, ...]
    output: Any

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


_BOOKKEEPING = ("const", "scan.index", "scan.stack")


def trace(fun: Callable[..., Any], *args: Any) -> Tape:
    """Runs `fun(*args)` through adkit's tape interpreter and returns its Wengert list.

    Args:
        fun: a function of arrays (pytrees allowed) that `jax.make_jaxpr` can trace.
        *args: concrete arguments (the tape records values, so call it outside `jax.jit`).

    Returns:
        A `Tape`: one entry per executed primitive, inlined through nested jaxprs, with the
        primal values; `tape.output` equals `fun(*args)`.

    Raises:
        TypeError: if an argument is an abstract tracer (inside `jax.jit` or `jax.vmap`).

    Example:
        >>> import jax.numpy as jnp, adkit
        >>> def f(x1, x2):
        ...     return jnp.log(x1) + x1 * x2 - jnp.sin(x2)
        >>> tape = adkit.trace(f, 2.0, 5.0)
        >>> tape.ops()
        ['log', 'mul', 'add', 'sin', 'sub']
        >>> round(float(tape.output), 4)
        11.6521
    """
    leaves = jax.tree.leaves(args)
    for leaf in leaves:
        if not jc.is_concrete(leaf):
            raise TypeError(
                "`adkit.trace` records concrete values, but it received an abstract tracer "
                f"({leaf}). Call `adkit.trace` outside `jax.jit`/`jax.vmap`, on real arrays."
            )
    closed, out_shape = jax.make_jaxpr(fun, return_shape=True)(*args)
    recorder = _Recorder()
    inputs = recorder.add_inputs(leaves, _input_labels(fun, args))
    consts = [recorder.constant(c) for c in closed.consts]
    outs = recorder.walk(closed.jaxpr, consts, inputs, scope="")
    output = jax.tree.unflatten(jax.tree.structure(out_shape), [n.value for n in outs])
    return Tape(
        name=getattr(fun, "__name__", type(fun).__name__),
        inputs=tuple(recorder.input_entries),
        entries=tuple(recorder.entries),
        outputs=tuple(n.name for n in outs),
        output=output,
    )


@dataclasses.dataclass(frozen=True)
class _Node:
    """What the tape interpreter keeps per variable: the value and its name on the tape."""

    value: Any
    name: str


class _Recorder:
    """Walks jaxprs, inlining every sub-jaxpr, and appends one entry per primitive applied."""

    def __init__(self) -> None:
        self.entries: list[TapeEntry] = []
        self.input_entries: list[TapeEntry] = []
        self._count = 0
        self._consts = 0

    def add_inputs(self, leaves: Sequence[Any], labels: Sequence[str]) -> list[_Node]:
        nodes = []
        for k, (leaf, label) in enumerate(zip(leaves, labels, strict=True)):
            name = f"v{k + 1 - len(leaves)}"  # v-1, v0 for two inputs, as in the textbooks
            value = jnp.asarray(leaf)
            self.input_entries.append(TapeEntry("input", (), (name,), (value,), label=label))
            nodes.append(_Node(value, name))
        return nodes

    def constant(self, value: Any, scope: str = "") -> _Node:
        self._consts += 1
        name = f"c{self._consts}"
        self.entries.append(TapeEntry("const", (), (name,), (value,), scope=scope))
        return _Node(value, name)

    def record(self, op: str, inputs: Sequence[_Node], values, params, scope) -> list[_Node]:
        names = []
        for _ in values:
            self._count += 1
            names.append(f"v{self._count}")
        self.entries.append(
            TapeEntry(op, tuple(n.name for n in inputs), tuple(names), tuple(values), params, scope)
        )
        return [_Node(v, n) for v, n in zip(values, names, strict=True)]

    def walk(self, jaxpr: jc.Jaxpr, consts, args, scope: str) -> list[_Node]:
        env: Env[_Node] = Env(lambda lit: _Node(lit.val, _literal_text(lit)))
        env.write_all(jaxpr.constvars, consts)
        env.write_all(jaxpr.invars, args)
        for eqn in jaxpr.eqns:
            nodes = env.read_all(eqn.invars)
            inline = INLINE_RULES.get(eqn.primitive)
            if inline is not None:
                outs = inline(self, eqn, nodes, scope)
            else:
                values = jc.bind_equation(eqn, [n.value for n in nodes])
                outs = self.record(eqn.primitive.name, nodes, values, _shown(eqn.params), scope)
            env.write_all(eqn.outvars, outs)
        return env.read_all(jaxpr.outvars)

    def walk_closed(self, closed: jc.ClosedJaxpr, args, scope: str) -> list[_Node]:
        consts = [self.constant(c, scope) for c in closed.consts]
        return self.walk(closed.jaxpr, consts, args, scope)


# --- how the tape inlines each higher-order primitive ---
InlineRule = Callable[[_Recorder, jc.JaxprEqn, list[_Node], str], list[_Node]]
INLINE_RULES: dict[jc.Primitive, InlineRule] = {}


def _inline(*primitives: jc.Primitive):
    def register(rule: InlineRule) -> InlineRule:
        for p in primitives:
            INLINE_RULES[p] = rule
        return rule

    return register


def _nest(scope: str, inner: str) -> str:
    return f"{scope}/{inner}" if scope else inner


@_inline(jc.jit_p)
def _inline_jit(rec, eqn, nodes, scope):
    inner = _nest(scope, f"jit({eqn.params['name']})")
    return rec.walk_closed(eqn.params["jaxpr"], nodes, inner)


@_inline(jc.remat_p)
def _inline_remat(rec, eqn, nodes, scope):
    return rec.walk(eqn.params["jaxpr"], [], nodes, _nest(scope, "checkpoint"))


@_inline(jc.custom_jvp_call_p, jc.custom_vjp_call_p)
def _inline_custom(rec, eqn, nodes, scope):
    kind = "custom_jvp" if eqn.primitive is jc.custom_jvp_call_p else "custom_vjp"
    return rec.walk_closed(eqn.params["call_jaxpr"], nodes, _nest(scope, kind))


@_inline(jc.cond_p)
def _inline_cond(rec, eqn, nodes, scope):
    index, *operands = nodes
    branch = int(index.value)
    return rec.walk_closed(
        eqn.params["branches"][branch], operands, _nest(scope, f"cond[branch {branch}]")
    )


@_inline(jc.while_p)
def _inline_while(rec, eqn, nodes, scope):
    p = eqn.params
    n_cond, n_body = p["cond_nconsts"], p["body_nconsts"]
    cond_consts, body_consts, carry = (
        nodes[:n_cond],
        nodes[n_cond : n_cond + n_body],
        nodes[n_cond + n_body :],
    )
    step = 0
    while True:
        [flag] = rec.walk_closed(
            p["cond_jaxpr"], [*cond_consts, *carry], _nest(scope, f"while[{step}].cond")
        )
        if not bool(flag.value):
            return carry
        carry = rec.walk_closed(
            p["body_jaxpr"], [*body_consts, *carry], _nest(scope, f"while[{step}]")
        )
        step += 1


@_inline(jc.scan_p)
def _inline_scan(rec, eqn, nodes, scope):
    p = eqn.params
    n_consts, n_carry, length = p["num_consts"], p["num_carry"], p["length"]
    consts, carry, xs = (
        nodes[:n_consts],
        nodes[n_consts : n_consts + n_carry],
        nodes[n_consts + n_carry :],
    )
    steps = range(length - 1, -1, -1) if p["reverse"] else range(length)
    ys_per_step: dict[int, list[_Node]] = {}
    for i in steps:
        here = _nest(scope, f"scan[{i}]")
        x_i = [rec.record("scan.index", [x], [x.value[i]], {"i": i}, here)[0] for x in xs]
        out = rec.walk_closed(p["jaxpr"], [*consts, *carry, *x_i], here)
        carry, ys_per_step[i] = out[:n_carry], out[n_carry:]
    ys_avals = eqn.params["jaxpr"].out_avals[n_carry:]
    stacked = []
    for k, aval in enumerate(ys_avals):
        parts = [ys_per_step[i][k] for i in range(length)]
        value = (
            jnp.stack([n.value for n in parts])
            if parts
            else jnp.zeros((0, *aval.shape), aval.dtype)
        )
        stacked += rec.record("scan.stack", parts, [value], {}, scope)
    return [*carry, *stacked]


# --- helpers ---
def _literal_text(lit: jc.Literal) -> str:
    value = np.asarray(lit.val)
    return str(value.item()) if value.ndim == 0 else np.array2string(value)


def _shown(params: dict[str, Any]) -> dict[str, Any]:
    """The params without jaxprs (which the tape inlines rather than shows)."""
    return {k: v for k, v in params.items() if not isinstance(v, jc.ClosedJaxpr | jc.Jaxpr)}


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
