"""`adkit check`: sweep the rule table, report coverage, or cross-check a user's function."""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import io
import sys
import time
from pathlib import Path

import numpy as np


def add_parser(commands) -> None:
    check = commands.add_parser(
        "check",
        help="check every rule's derivatives against JAX (or cross-check one function)",
        description="Runs every primitive's rule cases through forward mode, both reverse-mode "
        "paths and second order, comparing with JAX in float64; or, given "
        "path/to/module.py:function, cross-checks that function's derivatives.",
    )
    check.add_argument("target", nargs="?", help="path/to/module.py:function to cross-check")
    check.add_argument(
        "--args",
        nargs="+",
        default=[],
        help="the function's arguments as Python literals, e.g. 1.5 '[0.1, 0.2]'",
    )
    check.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PRIMITIVE",
        help="check only this primitive's cases (repeatable)",
    )
    check.add_argument(
        "--coverage", action="store_true", help="print which primitives lack which rule, and exit"
    )
    check.add_argument(
        "--jet",
        action="store_true",
        help="check Taylor mode instead: every rule case with a jet rule through adkit.jet at "
        "order 6 against nested jax.jvp and jax.experimental.jet (float64)",
    )
    check.add_argument(
        "--programs",
        type=int,
        default=100,
        metavar="N",
        help="after the rule cases, check N random programs (default 100)",
    )
    check.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="the first random program's seed (programs S .. S+N-1)",
    )


def run(args: argparse.Namespace) -> int:
    if args.coverage:
        return _coverage()
    if args.target:
        return _check_function(args.target, args.args)
    if args.jet:
        return _check_jets(args.only)
    status = _check_rules(args.only)
    if args.programs > 0 and status != 2:
        status = max(status, _check_programs(args.programs, args.seed))
    return status


def _check_programs(n: int, seed: int) -> int:
    from ._programs import random_program
    from ._rule_check import check_program

    start, failed = time.perf_counter(), 0
    with _progress() as progress:
        for k in range(n):
            progress(k, n, f"program seed {seed + k}")
            program = random_program(seed + k)
            with contextlib.redirect_stdout(io.StringIO()):  # the programs' own prints
                result = check_program(program)
            if not result.ok:
                failed += 1
                print(f"FAIL {program}")
                for column, message in result.failures.items():
                    print(f"  {column}: {message}")
    what = f"{n} random programs (seeds {seed}..{seed + n - 1})"
    return _finish(start, what, f"{failed} disagreed with JAX", failed)


def _coverage() -> int:
    from .. import rules

    report = rules.coverage()
    print(f"{'primitive':<28} {'jvp':<5} {'vjp':<11} {'transpose':<11} jet")
    missing = 0
    for name, row in report.items():
        cells = [str(row["jvp"] or "-"), str(row["vjp"] or "-"), str(row["transpose"] or "-")]
        missing += "-" in cells
        jet = row["jet"] or "-"
        print(f"{name:<28} {cells[0]:<5} {cells[1]:<11} {cells[2]:<11} {jet}")
    jets = sum(bool(row["jet"]) for row in report.values())
    print(
        f"\n{len(report)} primitives; {missing} with a missing rule; {jets} with a jet rule "
        "(Taylor mode covers what it lists: `adkit.jet` names a primitive it has no rule for)."
    )
    return 1 if missing else 0


def _check_rules(only) -> int:
    from ._rule_check import COLUMNS, check_rules, summarize
    from .rule_cases import all_cases

    cases = [c for c in all_cases() if not only or c.primitive in only]
    if not cases:
        print(f"No rule cases for {only}; `adkit check --coverage` lists the primitives.")
        return 2
    start = time.perf_counter()
    # a rule case may print (debug_print's cases do): the report holds only the table
    with _progress() as progress, contextlib.redirect_stdout(io.StringIO()):
        results = check_rules(cases, progress=progress)
    rows = summarize(results)
    table = _table("primitive", *COLUMNS, "max error")
    for row in rows:
        table.add_row(row["primitive"], *(row[c] for c in COLUMNS), f"{row['max error']:.1e}")
    _console().print(table)
    failed = [r for r in results if not r.ok]
    for r in failed:
        for column, message in r.failures.items():
            print(f"FAIL {r.case} ({r.primitive}), {column}: {message}")
    for r in results:
        for column, reason in r.gaps.items():
            print(f"gap  {r.case} ({r.primitive}), {column}: {reason}")
    what = f"\n{len(results)} cases of {len(rows)} primitives"
    return _finish(start, what, f"{len(failed)} failed", failed)


def _check_jets(only, order: int = 6) -> int:
    import jax

    from ..interpreter.rules import JET_RULES
    from ._jet_check import check_jet_case
    from .rule_cases import all_cases

    names = {p.name for p in JET_RULES}
    cases = [c for c in all_cases() if c.primitive in names and (not only or c.primitive in only)]
    if not cases:
        print(f"No jet rule cases for {only}; `adkit check --coverage` lists the jet rules.")
        return 2
    start, failed, against_jax = time.perf_counter(), [], 0
    table = _table("case", "reference", "max error", "JAX's jet")
    with jax.enable_x64(True), _progress() as progress:
        for k, case in enumerate(cases):
            progress(k, len(cases), case.id)
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    error, reference = check_jet_case(case, order)
                    theirs, name = check_jet_case(case, order, prefer="jax-jet")
                against_jax += name == "jax-jet"
                jax_cell = f"{theirs:.1e}" if name == "jax-jet" else "-"
                table.add_row(case.id, reference, f"{error:.1e}", jax_cell)
            except Exception as e:  # a failed comparison, or a rule that raised
                failed.append(case.id)
                message = f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]}"
                table.add_row(case.id, "FAIL", message, "")
    _console().print(table)
    what = (
        f"\n{len(cases)} jet rule cases at order {order} against nested jax.jvp (and "
        f"{against_jax} against jax.experimental.jet, where it has the rules and agrees)"
    )
    return _finish(start, what, f"{len(failed)} failed", failed)


def _finish(start: float, what: str, outcome: str, failed) -> int:
    """Prints `<what> in <seconds> s: <outcome>.` and returns the exit status."""
    print(f"{what} in {time.perf_counter() - start:.0f} s: {outcome}.")
    return 1 if failed else 0


def _console():
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=150)


def _table(*header: str):
    from rich.table import Table

    return Table(*header, box=None, pad_edge=False)


@contextlib.contextmanager
def _progress():
    """A rich progress bar on the terminal (nothing in a log), as `progress(done, total, label)`."""
    from rich.progress import Progress

    with Progress(transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("", total=None)
        yield lambda done, total, label: bar.update(
            task, completed=done, total=total, description=label
        )


def _check_function(target: str, literals) -> int:
    from ._crosscheck import crosscheck

    path, _, name = target.rpartition(":")
    if not path or not name:
        print(f"Expected path/to/module.py:function, but received {target!r}.")
        return 2
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    if spec is None or not Path(path).is_file():
        print(f"No Python file at {path!r}; pass path/to/module.py:function.")
        return 2
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, name):
        print(f"{path} has no function {name!r}.")
        return 2
    try:
        values = [np.asarray(ast.literal_eval(a), np.float64) for a in literals]
    except (ValueError, SyntaxError):
        print(f"`--args` takes Python literals (numbers, nested lists), but received {literals}.")
        return 2
    report = crosscheck(getattr(module, name), *values)
    print(report)
    return 1 if report.failures else 0
