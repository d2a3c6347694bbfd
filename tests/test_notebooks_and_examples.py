"""The teaching notebooks execute top to bottom, and the example scripts run (both assert
their own numbers)."""

import os
import pathlib
import runpy
import subprocess
import sys

import jupytext
import nbformat
import pytest
from helpers import load_notebook_hook

import adkit

NOTEBOOK_HOOK = load_notebook_hook()

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_is_something_to_run():
    assert NOTEBOOKS and EXAMPLES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_paired_with_an_ipynb(path):
    # opened in Jupyter with jupytext, the .py keeps an .ipynb beside it (git ignores it)
    metadata = jupytext.read(path).metadata
    assert metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert metadata["kernelspec"]["name"] == "python3"


def test_the_teaching_track_lists_every_example():
    page = (ROOT / "docs" / "teaching.md").read_text()
    assert [p.name for p in EXAMPLES if f"examples/{p.name}" not in page] == []


def test_the_teaching_track_lists_every_notebook_in_order():
    page = (ROOT / "docs" / "teaching.md").read_text()
    positions = [page.find(f"notebooks/{path.name}") for path in NOTEBOOKS]
    assert -1 not in positions, [
        p.name for p, at in zip(NOTEBOOKS, positions, strict=True) if at == -1
    ]
    assert positions == sorted(positions)  # the track's order is the files' order


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path):
    # the docs build renders this executed copy (docs/hooks/notebooks.py)
    executed = NOTEBOOK_HOOK.execute(path)
    assert NOTEBOOK_HOOK.up_to_date(path)
    outputs = [o for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", [])]
    assert outputs, f"{path.name} printed nothing"


# What each example prints once its own checks have passed.
CONCLUSIONS = {
    "evaluate_a_model.py": "adkit and the model agree",
    "check_a_custom_rule.py": "to second order, agree with finite differences",
    "implicit_ridge_hypergradient.py": "the implicit hypergradient matches the closed form",
    "implicit_deq_classifier.py": "the deep-equilibrium classifier separates the rings",
    "implicit_qp_layer.py": "agree with the KKT formula and finite differences",
    "maml_sinusoid.py": "the exact meta-gradient matches jax.grad's",
    "scaling_out.py": "the 8-device gradients match one device's",
    "checkpoint_long_rnn.py": "the checkpointed gradient equals the plain scan's",
    "sparse_newton_bratu.py": "Newton converged on the sparse Jacobian",
}
# Examples that need simulated devices: the device count is fixed when JAX starts, so they run
# in a fresh process (each sets XLA_FLAGS itself before importing jax).
IN_A_FRESH_PROCESS = {"scaling_out.py"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys):
    if path.name in IN_A_FRESH_PROCESS:
        env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
        result = subprocess.run(
            [sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert CONCLUSIONS[path.name] in result.stdout
        return
    tables = [adkit.rules.JVP_RULES, adkit.rules.VJP_RULES, adkit.rules.TRANSPOSE_RULES]
    saved = [dict(t) for t in tables]
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:  # an example may register rules for its own primitive: keep the tables as shipped
        for table, before in zip(tables, saved, strict=True):
            table.clear()
            table.update(before)
    assert CONCLUSIONS[path.name] in capsys.readouterr().out
