"""The teaching notebooks execute top to bottom, and the example scripts run (both assert
their own numbers)."""

import pathlib
import runpy

import jupytext
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_is_something_to_run():
    assert NOTEBOOKS and EXAMPLES


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path):
    notebook = jupytext.read(path)
    NotebookClient(notebook, timeout=600, kernel_name="python3").execute()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys):
    runpy.run_path(str(path), run_name="__main__")
    assert "adkit and the model agree" in capsys.readouterr().out
