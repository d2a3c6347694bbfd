"""`adkit trace path/to/module.py:function --args 2.0 5.0`: a function's Wengert list, printed.

The list has a value, a tangent and an adjoint column: forward mode seeds the tangents
(`--tangents`, or 1 for the arguments `--wrt` names), reverse mode seeds the output's adjoint
(1; the output must then be a scalar) and sweeps back. Arguments are read as numbers or nested
lists of numbers (`ast.literal_eval`, never evaluated as code), in float64. `--dot` writes the
computational graph for Graphviz; `--svg` also renders it when the `dot` program is installed.
Every bad input is a one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


class BadInput(Exception):
    """A bad target or argument: its message is the one line `adkit trace` prints."""


def add_parser(commands) -> None:
    trace = commands.add_parser(
        "trace",
        help="print a function's Wengert list with value, tangent and adjoint columns",
        description="Traces path/to/module.py:function at the given arguments (float64) and "
        "prints its Wengert list: each value, its tangent (forward mode) and its adjoint "
        "(reverse mode), then the derivatives.",
    )
    trace.add_argument("target", help="path/to/module.py:function")
    trace.add_argument(
        "--args",
        nargs="+",
        default=[],
        help="the arguments as numbers or nested lists, e.g. 2.0 5.0 or '[1, 2]'",
    )
    trace.add_argument(
        "--wrt",
        nargs="+",
        type=int,
        default=[0],
        metavar="I",
        help="the arguments the tangent seeds with ones (default: 0)",
    )
    trace.add_argument(
        "--tangents", nargs="+", metavar="T", help="the tangents, one per argument (not --wrt)"
    )
    trace.add_argument("--dot", metavar="FILE", help="write the graph in Graphviz format")
    trace.add_argument("--svg", metavar="FILE", help="render the graph (needs Graphviz's `dot`)")


def run(args: argparse.Namespace) -> int:
    try:
        fun = load_function(args.target)
        values = [parse_value(text, "--args") for text in args.args]
        check_arity(fun, args.target, len(values))
        tangents = seed_tangents(values, args.wrt, args.tangents)
    except BadInput as error:
        print(f"adkit trace: {error}", file=sys.stderr)
        return 2
    return _trace_and_print(fun, values, tangents, args)


def load_function(target: str):
    """The function `name` of the module file `path`, from `path:name`."""
    path, _, name = target.rpartition(":")
    if not path or not name:
        raise BadInput(f"expected path/to/module.py:function, but received {target!r}.")
    if not Path(path).is_file():
        raise BadInput(f"no Python file at {path!r}; pass path/to/module.py:function.")
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's module failed to import
        raise BadInput(f"importing {path} failed: {type(error).__name__}: {error}") from None
    fun = getattr(module, name, None)
    if not callable(fun):
        raise BadInput(f"{path} has no function {name!r}.")
    return fun


def parse_value(text: str, option: str):
    """A number or a nested list of numbers, as a float64 array; never evaluated as code."""
    import numpy as np

    try:
        value = ast.literal_eval(text)
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, SyntaxError, TypeError):
        raise BadInput(
            f"{option} takes numbers or nested lists of numbers (e.g. 2.0 or '[1, 2]'), but "
            f"received {text!r}."
        ) from None
    if isinstance(value, bool | str) or array.dtype.kind != "f":
        raise BadInput(f"{option} takes numbers, but received {text!r}.")
    return array


def check_arity(fun, target: str, count: int) -> None:
    try:
        inspect.signature(fun).bind(*range(count))
    except TypeError:
        raise BadInput(
            f"{target} takes {_parameters(fun)}, but --args gave {count} argument(s)."
        ) from None
    except ValueError:  # no signature (a builtin): let the call decide
        return


def _parameters(fun) -> str:
    try:
        return f"({', '.join(inspect.signature(fun).parameters)})"
    except ValueError:
        return "other arguments"


def seed_tangents(values, wrt, tangent_texts):
    """The tangents: the given ones, or ones for the arguments in `wrt` and zeros elsewhere."""
    import numpy as np

    if tangent_texts is not None:
        tangents = [parse_value(t, "--tangents") for t in tangent_texts]
        if len(tangents) != len(values):
            raise BadInput(
                f"--tangents needs one tangent per argument ({len(values)}), but received "
                f"{len(tangents)}."
            )
        for t, v in zip(tangents, values, strict=True):
            if t.shape != v.shape:
                raise BadInput(
                    f"a tangent of shape {t.shape} was given for an argument of shape {v.shape}."
                )
        return tangents
    for i in wrt:
        if not 0 <= i < len(values):
            raise BadInput(f"--wrt {i} is not an argument index (0..{len(values) - 1}).")
    return [np.ones_like(v) if i in wrt else np.zeros_like(v) for i, v in enumerate(values)]


def _trace_and_print(fun, values, tangents, args) -> int:
    import jax
    import jax.numpy as jnp

    from .render import render_with_adjoints, to_dot
    from .trace import trace

    with jax.enable_x64(True):
        arrays = [jnp.asarray(v) for v in values]
        tape = trace(fun, *arrays, tangents=tuple(jnp.asarray(t) for t in tangents))
        leaves = jax.tree.leaves(tape.output)
        scalar = len(leaves) == 1 and jnp.ndim(leaves[0]) == 0
        adjoints = tape.backward() if scalar else None
        print(render_with_adjoints(tape, adjoints.adjoints if adjoints else {}))
        print(f"\nf = {_text(tape.output)}")
        print(f"tangent of f (forward mode, the seeded direction) = {_text(tape.output_tangent)}")
        if adjoints is None:
            print("adjoints: the output is not a scalar, so no reverse sweep (seed 1) was run.")
        else:
            gradient = ", ".join(_text(g) for g in adjoints.gradient)
            print(f"gradient (reverse mode, adjoint seed 1) = ({gradient})")
    return _write_graph(tape, args.dot, args.svg, to_dot)


def _text(value: Any) -> str:
    import jax

    from .render import format_value

    leaves = jax.tree.leaves(value)
    return format_value(leaves[0]) if len(leaves) == 1 else str([format_value(x) for x in leaves])


def _write_graph(tape, dot_path, svg_path, to_dot) -> int:
    if not (dot_path or svg_path):
        return 0
    source = to_dot(tape)
    if dot_path:
        Path(dot_path).write_text(source)
        print(f"wrote {dot_path}")
    if svg_path:
        program = shutil.which("dot")
        if program is None:
            print(
                "adkit trace: --svg needs Graphviz's `dot` program, which is not installed "
                "(e.g. `apt install graphviz`); --dot writes the graph without it.",
                file=sys.stderr,
            )
            return 2
        subprocess.run([program, "-Tsvg", "-o", svg_path], input=source, text=True, check=True)
        print(f"wrote {svg_path}")
    return 0
