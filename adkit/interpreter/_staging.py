"""Turning a Python function of pytrees into a closed jaxpr over flat leaves.

Every adkit transformation starts here: `stage(fun, args)` flattens the arguments, traces `fun`
with `jax.make_jaxpr` and remembers the output structure. Integer scalars given as concrete
values are passed to `fun` as they are (see `_known_integer`), so that Python and `fori_loop`
see their values as they do when JAX runs the function eagerly.

A function is traced again at every call, as JAX's eager transformations do: a jaxpr bakes in the
values of the globals and closure cells the function read, so a cache keyed on the function and
its input types would return a stale derivative after such a value changed. Under `jax.jit` the
tracing happens once per compilation anyway.

`gc_paused` wraps every entry point (staging, the interpreter's walk, the backward sweep).
Tracing makes many long-lived objects (tracers, equations, residuals) and no garbage cycles to
speak of, so Python's cyclic collector runs its full-heap collections over and over for nothing:
per equation, tracing a 20,000-equation gradient cost 1.6x what a 2,000-equation one did, and
the same with the collector paused. Pausing it keeps the interpreter's cost linear in the
program. The collector is restored as it was found, and a nested entry leaves it alone.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
from collections.abc import Callable
from typing import Any

import jax

from .. import _jax_compat as jc


@dataclasses.dataclass(frozen=True)
class Staged:
    """A traced function: its closed jaxpr over flat leaves and the pytree structures.

    With `has_aux`, the jaxpr's outputs are the main output leaves followed by the aux leaves.
    """

    closed: jc.ClosedJaxpr
    in_tree: Any
    out_tree: Any
    aux_tree: Any = None

    @property
    def num_main_outputs(self) -> int:
        return self.out_tree.num_leaves


def gc_paused(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Runs `fn` with Python's cyclic garbage collector paused (see the module's docstring)."""

    @functools.wraps(fn)
    def paused(*args, **kwargs):
        if not gc.isenabled():  # paused already: by an outer entry point, or by the user
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused


def stage(fun: Callable[..., Any], args: tuple[Any, ...], has_aux: bool = False) -> Staged:
    """Traces `fun(*args)` into a closed jaxpr over the flattened leaves of `args`."""
    leaves, in_tree = jax.tree.flatten(args)
    known = {i: int(x) for i, x in enumerate(leaves) if _known_integer(x)}
    flat_fun, trees = flatten_function(fun, in_tree, has_aux)

    def with_known_integers(*flat_args):
        return flat_fun(*[leaves[i] if i in known else a for i, a in enumerate(flat_args)])

    closed = jax.make_jaxpr(with_known_integers)(*leaves)
    return Staged(closed, in_tree, trees["out"], trees.get("aux"))


def flatten_function(
    fun: Callable[..., Any], in_tree: Any, has_aux: bool = False
) -> tuple[Callable[..., list[Any]], dict[str, Any]]:
    """`fun` as a function of flat leaves returning its output leaves, then its aux leaves.

    Returns:
        `(flat_fun, trees)`: after a call, `trees["out"]` (and with `has_aux`, `trees["aux"]`)
        hold the output structures.
    """
    trees: dict[str, Any] = {}

    def flat_fun(*flat_args):
        out = fun(*jax.tree.unflatten(in_tree, flat_args))
        if has_aux:
            out, aux = _split_aux(out)
            aux_leaves, trees["aux"] = jax.tree.flatten(aux)
        else:
            aux_leaves = []
        out_leaves, trees["out"] = jax.tree.flatten(out)
        return [*out_leaves, *aux_leaves]

    return flat_fun, trees


def _known_integer(x: Any) -> bool:
    """An integer scalar known now (not a tracer): the function sees its value, as it would when
    JAX runs it eagerly, so a `fori_loop(0, n, ...)` with such an `n` is a loop of known length
    (a scan) rather than a while loop. Its jaxpr input stays, unused."""
    if not jc.is_concrete(x) or isinstance(x, bool):
        return False
    aval = jax.typeof(x)
    return aval.shape == () and jax.numpy.issubdtype(aval.dtype, jax.numpy.integer)


def _split_aux(out: Any) -> tuple[Any, Any]:
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise TypeError(
            "With `has_aux=True` the function must return a pair `(output, auxiliary_data)`, "
            f"but it returned {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, tuple | list) else "")
            + ". Return a 2-tuple, or drop `has_aux=True`."
        )
    return out[0], out[1]
