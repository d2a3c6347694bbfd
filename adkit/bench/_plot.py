"""Figures for the report, where a curve says more than a table (cost against size, memory
against recomputation). matplotlib is in the `bench` extra; without it there are no figures and
the report says so."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path


def can_plot() -> bool:
    """Whether matplotlib is installed (`pip install adkit[bench]`)."""
    return importlib.util.find_spec("matplotlib") is not None


def line_plot(
    path: Path,
    series: dict[str, Sequence[tuple[float, float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
) -> Path:
    """Draws one line per series (`{label: [(x, y), ...]}`) and saves it as a PNG at `path`.

    Examples:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "curve.png"
        >>> line_plot(out, {"a": [(1, 2), (2, 3)]}, title="t", xlabel="x", ylabel="y").exists()
        True
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no screen needed
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.6), dpi=120)
    for label, points in series.items():
        xs, ys = zip(*sorted(points), strict=True)
        axes.plot(xs, ys, marker="o", label=label)
    if logx:
        axes.set_xscale("log")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
