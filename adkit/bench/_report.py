"""The report: a table on the terminal, a JSON file and a Markdown page for the docs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ._run import Report, Row

MEASURE_TEXT = {
    "run": "compiled run",
    "compile": "trace + lower + compile",
    "eager_first": "eager, first call",
    "eager": "eager, repeated call",
    "temp_bytes": "XLA temp bytes",
    "trace": "tracing the transform",
    "error": "relative error",
    "backward_stored": "backward: residuals stored",
    "backward_temp": "backward: XLA temp bytes",
    "evaluations": "step evaluations per step",
    "detection": "sparsity detection",
    "coloring": "coloring",
    "one_off": "one-off (detect, color, compile, call)",
    "colors": "colors (products)",
}


def value_text(value: float, unit: str) -> str:
    """`1.23 ms`, `45.6 µs`, `1.2 MiB`, `3.1e-12`: a measurement with its unit."""
    if unit == "relative":
        return f"{value:.2g}"
    if unit == "per step":
        return f"{value:.3g}"
    if unit == "count":
        return f"{value:.0f}"
    if unit == "bytes":
        for scale, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if value >= scale:
                return f"{value / scale:.2f} {name}"
        return f"{value:.0f} B"
    for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= scale:
            return f"{value / scale:.3g} {name}"
    return f"{value * 1e9:.3g} ns"


def _cells(row: Row) -> list[str]:
    spread = f"{value_text(row.low, row.unit)} .. {value_text(row.high, row.unit)}"
    ratio = "baseline" if row.ratio is None else f"{row.ratio:.2f}x"
    if row.measure == "error":  # against the reference, not the baseline
        ratio = ""
    median = value_text(row.median, row.unit)
    return [row.workload, MEASURE_TEXT[row.measure], row.variant, median, spread, ratio, _per(row)]


def _per(row: Row) -> str:
    """A compiled gradient's cost in forward passes; a trace's cost per equation."""
    if "over_forward" in row.info:
        return f"{row.info['over_forward']:.2f} forward passes"
    if row.measure == "trace" and row.info.get("equations"):
        return f"{value_text(row.median / row.info['equations'], row.unit)} per equation"
    return ""


HEADER = ["workload", "measure", "variant", "median", "min .. max", "ratio", "per"]


def machine_text(report: Report) -> str:
    m = report.machine
    mode = "quick pass" if report.quick else "full pass"
    return (
        f"{m['platform']} ({m['device']}, {m['device_count']} device(s), {m['cpu_count']} CPUs), "
        f"Python {m['python']}, jax {m['jax']}, adkit {m['adkit']}, {m['date']}, {mode}"
    )


def to_markdown(report: Report) -> str:
    """The report as Markdown, one table per suite; ratios are variant / baseline medians."""
    lines = [f"Measured on {machine_text(report)}.", ""]
    lines += [f"- {note}" for note in report.notes]
    for suite in dict.fromkeys(r.suite for r in report.rows):
        lines += ["", f"### {suite}", "", "| " + " | ".join(HEADER) + " |"]
        lines.append("|" + "---|" * len(HEADER))
        lines += ["| " + " | ".join(_cells(r)) + " |" for r in report.rows if r.suite == suite]
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> str:
    return json.dumps(dataclasses.asdict(report), indent=1, default=str)


def write(report: Report, folder: Path) -> list[Path]:
    """Writes `report.json`, `report.md` and the suites' figures into `folder`; returns the
    paths. Without matplotlib there are no figures, and the Markdown report says so."""
    from ._plot import can_plot
    from ._registry import SUITES

    folder.mkdir(parents=True, exist_ok=True)
    figures: list[Path] = []
    wanted = [SUITES[n] for n in dict.fromkeys(r.suite for r in report.rows) if n in SUITES]
    wanted = [suite for suite in wanted if suite.plot is not None]
    if wanted and can_plot():
        for suite in wanted:
            figures += suite.plot([r for r in report.rows if r.suite == suite.name], folder)
    elif wanted:
        report.notes.append("no figures: matplotlib is not installed (pip install adkit[bench])")
    if figures:
        report.notes.append("figures beside this report: " + ", ".join(p.name for p in figures))
    paths = [folder / "report.json", folder / "report.md"]
    paths[0].write_text(to_json(report))
    paths[1].write_text(to_markdown(report))
    return paths + figures


def print_table(report: Report) -> None:
    """The report as rich tables on the terminal, ratios above 1.10 in red."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a log or a pipe: wide enough that rows do not wrap
        console = Console(width=150)
    console.print(machine_text(report))
    for note in report.notes:
        console.print(f"[yellow]{note}[/yellow]")
    for suite in dict.fromkeys(r.suite for r in report.rows):
        table = Table(*HEADER, title=suite)
        for row in report.rows:
            if row.suite == suite:
                cells = _cells(row)
                if row.ratio is not None and row.ratio > 1.10:
                    cells[-1] = f"[red]{cells[-1]}[/red]"
                table.add_row(*cells)
        console.print(table)
