"""`adkit bench`: one harness for every module's benchmarks, adkit and its peer in the same run.

A module registers a `Suite` of `Workload`s, each with variants (the baseline first: JAX or the
peer library). The harness interleaves the variants' repetitions, reports medians with their
spread and the ratio to the baseline, XLA's temporary bytes and the machine, and writes a table
on the terminal, `report.json` and `report.md` (which the docs' Benchmarks page includes).

Example:
    >>> from adkit import bench
    >>> sorted(bench.SUITES) == sorted(bench.load_suites())
    True
"""

from ._measure import Timing, interleaved
from ._plot import can_plot, line_plot
from ._registry import MEASURES, SUITES, Suite, Variant, Workload, register_suite
from ._report import print_table, to_markdown, write
from ._run import Report, Row, run


def load_suites() -> list[str]:
    """Imports the shipped suites (registering them) and returns the names of all suites."""
    from . import suites  # noqa: F401  (registration)

    return list(SUITES)


__all__ = [
    "MEASURES",
    "SUITES",
    "Report",
    "Row",
    "Suite",
    "Timing",
    "Variant",
    "Workload",
    "can_plot",
    "interleaved",
    "line_plot",
    "load_suites",
    "print_table",
    "register_suite",
    "run",
    "to_markdown",
    "write",
]
