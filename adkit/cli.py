"""The `adkit` command: `adkit --version`, `adkit demo` (the textbook example), `adkit trace`
(a function's Wengert list), `adkit check` (the rule sweep and random programs of
`adkit.testing`) and `adkit bench` (`adkit.bench`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__

TEXTBOOK = "f(x1, x2) = log(x1) + x1*x2 - sin(x2)"


def textbook_function(x1, x2):
    """The running example of the AD literature (Griewank & Walther; Baydin et al. 2018)."""
    import jax.numpy as jnp

    return jnp.log(x1) + x1 * x2 - jnp.sin(x2)


def demo() -> int:
    """Traces the textbook function at (2, 5) in float64: its Wengert list with the tangent
    column for d/dx1, then the derivative cross-checked against JAX."""
    import jax

    from .interpreter import grad, jvp, trace

    with jax.enable_x64(True):
        x1, x2 = jax.numpy.float64(2.0), jax.numpy.float64(5.0)
        seed = (jax.numpy.float64(1.0), jax.numpy.float64(0.0))
        tape = trace(textbook_function, x1, x2, tangents=seed)
        direct = textbook_function(x1, x2)
        _, ours = jvp(textbook_function, (x1, x2), seed)
        _, theirs = jax.jvp(textbook_function, (x1, x2), seed)
        gradient = grad(textbook_function, argnums=(0, 1))(x1, x2)
        transposed = grad(textbook_function, argnums=(0, 1), method="transpose")(x1, x2)
        jax_gradient = jax.grad(textbook_function, argnums=(0, 1))(x1, x2)
        adjoints = trace(textbook_function, x1, x2).backward()
    print(f"adkit {__version__} demo: {TEXTBOOK} at (x1, x2) = (2, 5), float64")
    print("Forward mode seeds the tangent (dx1, dx2) = (1, 0) and pushes it along the list.\n")
    print(tape)
    print(f"\nf(2, 5)   = {float(tape.output):.15g}   (direct JAX call: {float(direct):.15g})")
    print(f"df/dx1    = {float(tape.output_tangent):.15g}   (closed form 1/x1 + x2 = 5.5)")
    print(f"cross-check: adkit.jvp {float(ours):.15g}, jax.jvp {float(theirs):.15g}")
    print("\nReverse mode seeds the output's adjoint (1) and sweeps the list backwards:\n")
    print(adjoints)
    sweep = adjoints.gradient
    print(f"\ngrad f    = ({float(sweep[0]):.15g}, {float(sweep[1]):.15g})   (tape sweep)")
    pair = lambda g: f"({float(g[0]):.15g}, {float(g[1]):.15g})"
    print(
        f"cross-check: adkit.grad {pair(gradient)}, jax.grad {pair(jax_gradient)}\n"
        f"             adkit.grad(method='transpose') {pair(transposed)}"
    )
    print(
        "\nNext: `adkit trace path/to/module.py:function --args ...` prints any function's "
        "list;\nthe notebooks (notebooks/00_dual_numbers.py onwards) and the docs site (docs/, "
        "`mkdocs serve`)\ngo on to the interpreter, its modules and their benchmarks."
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adkit", description="Composable differentiation transformations for JAX."
    )
    parser.add_argument("--version", action="version", version=f"adkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "demo", help="trace the textbook function: its Wengert list and forward-mode tangents"
    )
    from .bench import _command as bench_command
    from .interpreter.wengert import _command as trace_command
    from .testing import _command

    trace_command.add_parser(commands)
    _command.add_parser(commands)
    bench_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `adkit` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    if args.command == "trace":
        from .interpreter.wengert import _command as trace_command

        return trace_command.run(args)
    if args.command == "check":
        from .testing import _command

        return _command.run(args)
    if args.command == "bench":
        from .bench import _command as bench_command

        return bench_command.run(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
