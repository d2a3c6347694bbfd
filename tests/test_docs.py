"""The docs site's pages: the quick start runs, the comparison cites benchmarks that exist,
and the hook that puts the executed notebooks on the site never shows a stale one."""

import pathlib
import re

import nbformat
import pytest
from helpers import load_notebook_hook
from nbclient.exceptions import CellExecutionError

ROOT = pathlib.Path(__file__).parents[1]
DOCS = ROOT / "docs"


def python_blocks(page):
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S)


def test_the_quick_start_runs_in_order(default_precision):
    blocks = python_blocks("quickstart.md")
    assert len(blocks) >= 5
    assert "jax_enable_x64" not in "".join(blocks)  # a page that flips it globally would leak
    namespace = {}
    for block in blocks:  # one session, as a reader would type them
        exec(compile(block, "docs/quickstart.md", "exec"), namespace)


def test_every_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    assert [p for p in pages if f": {p}" not in nav] == []


def test_the_comparison_cites_benchmarks_that_exist():
    from adkit.bench import (
        _registry,
        suites,  # noqa: F401  (registers the suites)
    )

    page = (DOCS / "compare.md").read_text()
    cited = set(re.findall(r"adkit bench --only (\w+)", page))
    assert cited == set(_registry.SUITES), cited ^ set(_registry.SUITES)  # every suite, no other
    peers = {p for suite in _registry.SUITES.values() for p in suite.peers}
    for library in sorted(peers | {"equinox", "jax.grad", "jax.experimental.jet"}):
        assert library in page, f"the comparison does not mention {library}"


def test_the_scaling_page_shows_the_example_it_runs():
    page = (DOCS / "scaling.md").read_text()
    example = (ROOT / "examples" / "scaling_out.py").read_text()
    assert '--8<-- "examples/scaling_out.py:main"' in page
    assert "# --8<-- [start:main]" in example and "# --8<-- [end:main]" in example
    assert "jax.distributed.initialize" in page


# --- the notebook hook ---
@pytest.fixture
def hook(tmp_path, monkeypatch):
    module = load_notebook_hook()
    monkeypatch.setattr(module, "EXECUTED", tmp_path / "executed")
    return module


def test_the_hook_keeps_the_outputs_and_knows_a_stale_copy(hook, tmp_path):
    source = tmp_path / "tiny.py"
    source.write_text("# %%\nprint(6 * 7)\n")
    assert not hook.up_to_date(source)
    target = hook.execute(source, timeout=120)
    cell = nbformat.read(target, as_version=4).cells[0]
    assert cell.outputs[0]["text"] == "42\n"
    assert hook.up_to_date(source)
    source.write_text("# %%\nprint(6 * 9)\n")
    assert not hook.up_to_date(source)  # edited since: the hook will execute it again


def test_the_hook_fails_on_a_failing_notebook(hook, tmp_path):
    source = tmp_path / "broken.py"
    source.write_text("# %%\nassert 1 + 1 == 3, 'arithmetic'\n")
    with pytest.raises(CellExecutionError, match="arithmetic"):
        hook.execute(source, timeout=120)
    assert not hook.executed_path(source).exists()


def test_the_test_command_builds_the_docs_strictly_and_shows_the_warnings():
    # `mkdocs build --strict --quiet` passes with warnings: --quiet keeps them from --strict
    script = (ROOT / "scripts" / "dev.sh").read_text()
    [build] = [line for line in script.splitlines() if 'mkdocs" build' in line]
    assert "--strict" in build and "--quiet" not in build and " -q" not in build, build
