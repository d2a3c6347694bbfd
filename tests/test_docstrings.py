"""Every example in adkit's docstrings runs and prints what it shows (with JAX's defaults)."""

import doctest
import importlib
import inspect
import pkgutil

import jax
import pytest

import adkit

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(adkit.__path__, prefix="adkit.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, default_precision):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    tables = [adkit.rules.JVP_RULES, adkit.rules.VJP_RULES, adkit.rules.TRANSPOSE_RULES]
    before = [dict(t) for t in tables]
    for test in finder.find(module, name):
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) failed in {name}"
    # an example that registers a rule must remove it: the tables are shared by every test
    assert [dict(t) for t in tables] == before, f"an example in {name} left a rule behind"


def test_the_public_functions_have_examples():
    missing = [n for n in adkit.__all__ if inspect.isfunction(getattr(adkit, n))
               and ">>>" not in (getattr(adkit, n).__doc__ or "")]  # fmt: skip
    assert not missing, f"public functions without a runnable example: {missing}"
    assert jax.config.jax_enable_x64  # the suite's setting is restored after each module


def test_every_public_name_of_the_modules_is_in_the_api_reference():
    import pathlib

    reference = (pathlib.Path(__file__).parents[1] / "docs" / "api.md").read_text()
    from adkit import checkpoint, higher, implicit, sparse

    for module in (implicit, checkpoint, sparse, higher):
        names = [f"{module.__name__}.{n}" for n in module.__all__]
        missing = [n for n in names if f"::: {n}\n" not in reference]
        assert not missing, f"add these to docs/api.md: {missing}"
        undocumented = [
            n
            for n in module.__all__
            if inspect.isfunction(getattr(module, n))
            and ">>>" not in (getattr(module, n).__doc__ or "")
        ]
        assert not undocumented, f"public functions without a runnable example: {undocumented}"
