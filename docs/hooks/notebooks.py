"""The teaching notebooks on the docs site, with their outputs and plots.

The notebooks are stored as jupytext ``.py`` files under ``notebooks/``. The test command
executes each one (``tests/test_notebooks_and_examples.py`` calls :func:`execute`) and keeps the
executed copy under ``build/executed/notebooks/``; this MkDocs hook adds those copies to the site
as ``notebooks/<name>.ipynb`` pages, which mkdocs-jupyter renders. A copy is used only when it was
executed from the notebook's current text (its hash is stored in the copy); otherwise the hook
executes the notebook itself, so the site never shows a stale or unexecuted notebook.
"""

from __future__ import annotations

import hashlib
import logging
import pathlib

import jupytext
import nbformat
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = ROOT / "notebooks"
EXECUTED = ROOT / "build" / "executed"
log = logging.getLogger("mkdocs.hooks.notebooks")


def _digest(source: pathlib.Path) -> str:
    return hashlib.sha256(source.read_bytes()).hexdigest()


def executed_path(source: pathlib.Path) -> pathlib.Path:
    """Where the executed copy of ``notebooks/<name>.py`` is kept."""
    return EXECUTED / "notebooks" / f"{source.stem}.ipynb"


def execute(source: pathlib.Path, timeout: int = 600) -> pathlib.Path:
    """Executes a jupytext notebook top to bottom and keeps the executed copy.

    A cell that raises stops the run with nbclient's ``CellExecutionError`` (the notebooks assert
    their own numbers). The kernel runs in the repository's root, like the test command.
    """
    notebook = jupytext.read(source)
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    ).execute()
    notebook.metadata["adkit_source_sha256"] = _digest(source)
    target = executed_path(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def up_to_date(source: pathlib.Path) -> bool:
    """Whether the kept copy was executed from the notebook's current text."""
    target = executed_path(source)
    if not target.exists():
        return False
    kept = nbformat.read(target, as_version=4)
    return kept.metadata.get("adkit_source_sha256") == _digest(source)


@event_priority(100)  # before mkdocs-jupyter turns the .ipynb files into pages
def on_files(files, config):
    for source in sorted(SOURCES.glob("*.py")):
        if not up_to_date(source):
            log.info("executing %s (no executed copy of its current text)", source.name)
            execute(source)
        files.append(
            File(
                f"notebooks/{source.stem}.ipynb",
                src_dir=str(EXECUTED),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files
