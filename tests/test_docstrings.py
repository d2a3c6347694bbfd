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


PUBLIC_MODULES = (
    "adkit",
    "adkit.ops",
    "adkit.testing",
    "adkit.rules",
    "adkit.implicit",
    "adkit.checkpoint",
    "adkit.sparse",
    "adkit.higher",
)


def _public_names():
    """(module path, name, object) for every public name: each module's `__all__`."""
    for path in PUBLIC_MODULES:
        module = adkit if path == "adkit" else getattr(adkit, path.split(".")[1])
        for name in module.__all__:
            obj = getattr(module, name)
            if not inspect.ismodule(obj) and not name.startswith("__"):
                yield path, name, obj


def _resolve(dotted):
    """The object a `::: a.b.c` line of the API reference names."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(dotted)


def test_every_public_name_has_an_example_and_a_reference_entry():
    import pathlib
    import re

    reference = (pathlib.Path(__file__).parents[1] / "docs" / "api.md").read_text()
    entries = {id(_resolve(d)) for d in re.findall(r"^::: ([\w.]+)$", reference, flags=re.M)}
    no_example, no_entry = [], []
    for path, name, obj in _public_names():
        if inspect.isfunction(obj) or inspect.isclass(obj):
            if ">>>" not in (inspect.getdoc(obj) or ""):
                no_example.append(f"{path}.{name}")
            if id(obj) not in entries:
                no_entry.append(f"{path}.{name}")
        elif f"{path}.{name}" not in reference:  # a table or a primitive: named in the prose
            no_entry.append(f"{path}.{name}")
    assert not no_example, f"public functions and classes without a runnable example: {no_example}"
    assert not no_entry, f"add these to docs/api.md: {no_entry}"
    assert jax.config.jax_enable_x64  # the suite's setting is restored after each module
