"""The teaching notebooks execute top to bottom, and the example scripts run (both assert
their own numbers)."""

import pathlib
import runpy

import jupytext
import pytest
from nbclient import NotebookClient

import adkit

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_is_something_to_run():
    assert NOTEBOOKS and EXAMPLES


def test_the_teaching_track_lists_every_notebook_in_order():
    page = (ROOT / "docs" / "teaching.md").read_text()
    positions = [page.find(f"notebooks/{path.name}") for path in NOTEBOOKS]
    assert -1 not in positions, [
        p.name for p, at in zip(NOTEBOOKS, positions, strict=True) if at == -1
    ]
    assert positions == sorted(positions)  # the track's order is the files' order


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path):
    notebook = jupytext.read(path)
    NotebookClient(notebook, timeout=600, kernel_name="python3").execute()


# What each example prints once its own checks have passed.
CONCLUSIONS = {
    "evaluate_a_model.py": "adkit and the model agree",
    "check_a_custom_rule.py": "to second order, agree with finite differences",
    "implicit_ridge_hypergradient.py": "the implicit hypergradient matches the closed form",
    "implicit_deq_classifier.py": "the deep-equilibrium classifier separates the rings",
    "implicit_qp_layer.py": "agree with the KKT formula and finite differences",
    "maml_sinusoid.py": "the exact meta-gradient matches jax.grad's",
}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys):
    tables = [adkit.rules.JVP_RULES, adkit.rules.VJP_RULES, adkit.rules.TRANSPOSE_RULES]
    saved = [dict(t) for t in tables]
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:  # an example may register rules for its own primitive: keep the tables as shipped
        for table, before in zip(tables, saved, strict=True):
            table.clear()
            table.update(before)
    assert CONCLUSIONS[path.name] in capsys.readouterr().out
