"""The `adkit` command: `adkit --version`, `adkit demo`."""

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
    """Traces the textbook function at (2, 5) in float64 and prints its Wengert list."""
    import jax

    from .interpreter import trace

    with jax.enable_x64(True):
        x1, x2 = jax.numpy.float64(2.0), jax.numpy.float64(5.0)
        tape = trace(textbook_function, x1, x2)
        direct = textbook_function(x1, x2)
    print(f"adkit {__version__} demo: {TEXTBOOK} at (x1, x2) = (2, 5), float64\n")
    print(tape)
    print(f"\nf(2, 5) = {float(tape.output):.15g}   (direct JAX call: {float(direct):.15g})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adkit", description="Composable differentiation transformations for JAX."
    )
    parser.add_argument("--version", action="version", version=f"adkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="trace the textbook function and print its Wengert list")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `adkit` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
