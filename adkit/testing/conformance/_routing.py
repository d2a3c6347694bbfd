"""Routing JAX's differentiation entry points to adkit, for running JAX's own tests.

JAX's test files reach differentiation through three doors: the `jax` module (`jax.grad(...)`),
names imported from it (`from jax import grad`), and `jax._src.api` (which `jtu.check_grads`
uses through `jax._src.public_test_util.api`). `install(mode)` points all three at one set of
functions:

- `mode="jax"`: JAX's own functions, counted; a run in this mode must match a plain run, which
  shows the routing itself changes no outcome;
- `mode="tape"` / `mode="transpose"`: adkit's, with that reverse-mode path.

Every call through a routed door is counted, so the report can say which tests differentiate.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable
from typing import Any

import jax

MODES = ("jax", "tape", "transpose")
ENTRY_POINTS = ("grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev", "hessian")
_REVERSE = ("grad", "value_and_grad", "vjp", "jacrev", "hessian")

calls = {"count": 0}


def entry_points(mode: str) -> dict[str, Callable[..., Any]]:
    """The eight differentiation functions of `mode`, each counting its calls."""
    if mode not in MODES:
        raise ValueError(f"The conformance mode must be one of {MODES}, but received {mode!r}.")
    if mode == "jax":
        table = {name: getattr(jax, name) for name in ENTRY_POINTS}
    else:
        import adkit

        table = {
            name: functools.partial(getattr(adkit, name), method=mode)
            if name in _REVERSE
            else getattr(adkit, name)
            for name in ENTRY_POINTS
        }
    return {name: _counted(fn) for name, fn in table.items()}


def _counted(fn):
    @functools.wraps(fn.func if isinstance(fn, functools.partial) else fn)
    def routed(*args, **kwargs):
        calls["count"] += 1
        return fn(*args, **kwargs)

    return routed


class _Proxy(types.ModuleType):
    """A module that answers with the routed functions and defers every other name."""

    def __init__(self, target: types.ModuleType, table: dict[str, Callable[..., Any]]):
        super().__init__(target.__name__, target.__doc__)
        self._target = target
        self.__dict__.update(table)

    def __getattr__(self, name):
        return getattr(self._target, name)


def install(mode: str, modules: list[types.ModuleType]) -> None:
    """Points the differentiation doors of `modules` and of `jtu.check_grads` at `mode`."""
    from ... import _jax_compat as jc

    jax_api, public_test_util = jc.jax_api_module(), jc.public_test_util_module()
    table = entry_points(mode)
    originals = {id(getattr(jax, name)): name for name in ENTRY_POINTS}
    jax_proxy = _Proxy(jax, table)
    api_proxy = _Proxy(jax_api, table)
    public_test_util.api = api_proxy
    for module in modules:
        namespace = vars(module)
        for key, value in list(namespace.items()):
            if value is jax:
                namespace[key] = jax_proxy
            elif value is jax_api:
                namespace[key] = api_proxy
            elif callable(value) and id(value) in originals and key == originals[id(value)]:
                namespace[key] = table[key]


def test_modules(paths: list[str]) -> list[types.ModuleType]:
    """The imported modules whose files are among `paths`."""
    wanted = {str(p) for p in paths}
    return [m for m in list(sys.modules.values()) if getattr(m, "__file__", None) in wanted]
