"""The jaxpr of the path a function took: a define-by-run recording, replayed and staged.

`adkit.trace` prints a Wengert list, which it reads from a jaxpr. A function that branches in
Python on values has no jaxpr of its own; what it has, at given inputs, is the straight-line
program it actually ran. `path_jaxpr` records that program (the primitives applied to values
that depend on the inputs; everything else is a constant) and stages its replay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from ... import _jax_compat as jc
from .._staging import flatten_function
from .reverse import record


def path_jaxpr(fun: Callable[..., Any], args: tuple[Any, ...]) -> tuple[jc.ClosedJaxpr, Any]:
    """The closed jaxpr of the path `fun(*args)` takes, over the leaves of `args`.

    Returns:
        `(closed_jaxpr, out_tree)`.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.interpreter.eager.path import path_jaxpr
        >>> f = lambda x: jnp.sin(x) if x < 3 else jnp.cos(x)
        >>> [e.primitive.name for e in path_jaxpr(f, (4.0,))[0].eqns]
        ['lt', 'cos']
    """
    leaves, in_tree = jax.tree.flatten(args)
    flat_fun, trees = flatten_function(fun, in_tree)
    inexact = [jax.dtypes.issubdtype(jax.typeof(x).dtype, jax.numpy.inexact) for x in leaves]
    run = record(flat_fun, leaves, inexact, None)  # no pullbacks: the path only

    def replay(*inputs):
        env = {n: x for n, x in zip(run.in_nodes, inputs, strict=True) if n is not None}
        for entry in run.tape:
            values = [
                env[n] if n is not None else v
                for n, v in zip(entry.inputs, entry.values, strict=True)
            ]
            outs = entry.replay(*values)
            env.update((n, o) for n, o in zip(entry.outputs, outs, strict=True) if n is not None)
        return [
            env[n] if n is not None else o for n, o in zip(run.out_nodes, run.outputs, strict=True)
        ]

    return jax.make_jaxpr(replay)(*leaves), trees["out"]
