"""`adkit bench`: run the benchmark suites, print the table, write the JSON and Markdown report."""

from __future__ import annotations

import sys
from pathlib import Path


def add_parser(commands) -> None:
    bench = commands.add_parser(
        "bench",
        help="benchmark adkit against JAX and the peer libraries, in the same run",
        description="Runs the registered suites, interleaving adkit's and the baseline's "
        "repetitions; prints a table and writes report.json and report.md.",
    )
    bench.add_argument("--quick", action="store_true", help="a small pass (under two minutes)")
    bench.add_argument(
        "--only", action="append", default=[], metavar="SUITE", help="run only this suite"
    )
    bench.add_argument("--out", default="bench-report", help="folder for report.json and report.md")


def run(args) -> int:
    from rich.progress import Progress

    from . import print_table, write
    from . import run as run_suites

    with Progress(transient=True) as progress:
        task = progress.add_task("benchmarks", total=None)

        def show(what):
            progress.update(task, description=what, advance=1)
            if not progress.console.is_terminal:  # a log: one line per step
                print(what, file=sys.stderr, flush=True)

        report = run_suites(args.only or None, quick=args.quick, progress=show)
    print_table(report)
    for path in write(report, Path(args.out)):
        print(f"wrote {path}")
    return 0
