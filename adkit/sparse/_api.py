"""`jacfwd`, `jacrev`, `jacobian`, `hessian`: sparse counterparts of JAX's, with `argnums`.

Each returns a function that prepares (detects and colors) on its first call for each set of
argument shapes and dtypes, keeps the `Prepared`, and evaluates it on every call, inside `jit`
or not. The result is the Jacobian of the flattened outputs with respect to the flattened
differentiated arguments (leaves in order), an `m x n` sparse matrix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._jax_compat import ARRAY_TYPE, aval_of, bcoo_around, is_concrete
from ._evaluate import behind_conditional
from ._prepare import Prepared, prepare


def _signature(leaves, tree) -> tuple:
    """The arguments' tree, shapes and dtypes: what a prepared function is valid for."""
    return tree, tuple(
        (x.shape, x.dtype) if isinstance(x, jax.Array) else (np.shape(x), jnp.result_type(x))
        for x in leaves
    )


class _Compiled:
    """What one argument signature needs on every call on values: the `Prepared` and its data
    function compiled once. For an in-place BCOO, the compiled data is wrapped with the index
    array kept on the device (the same buffer every call, never copied out of a program) by a
    constructor that validated the BCOO's layout once (`bcoo_around`)."""

    def __init__(self, prepared: Prepared):
        self.prepared = prepared
        finish = prepared.flat_of if prepared.in_place else prepared.values_of
        products = lambda *a: prepared.products(*a)[1:]
        # seeds and indices as constants; the products behind a conditional, so that their
        # flattening is a bitcast and not a slower flat loop (see `behind_conditional`)
        self.run = jax.jit(lambda *a: finish(*behind_conditional(products, *a)))
        self.wrap = prepared.assemble
        if prepared.in_place and prepared.output == "bcoo":
            flat = jax.ShapeDtypeStruct(prepared.flat_indices.shape[:1], jnp.float32)
            template = jax.eval_shape(prepared.assemble, flat)  # traced only: nothing runs
            self.wrap = bcoo_around(template, prepared.flat_indices)

    def __call__(self, *args):
        return self.wrap(self.run(*args))


def _sparse_transform(mode: str, doc_name: str):
    def transform(
        f: Callable[..., Any], argnums: int | Sequence[int] = 0, **options: Any
    ) -> Callable[..., Any]:
        cache: dict[tuple, _Compiled] = {}
        single: dict[tuple, _Compiled] = {}  # one concrete array argument: by shape and dtype
        last = [None, None, None]  # the last such call's aval, program and wrapper

        @functools.wraps(f)
        def jac(*args):
            # the common call, one concrete array, is looked up fast: first by the identity of
            # its aval (the same object for every array of that shape from the same program),
            # then by shape and dtype (a few hundred ns of Python are felt in a call of 10 µs)
            if len(args) == 1 and type(args[0]) is ARRAY_TYPE:
                if aval_of(args[0]) is last[0]:
                    return last[2](last[1](args[0]))
                compiled = single.get((args[0].shape, args[0].dtype))
                if compiled is not None:
                    last[:] = aval_of(args[0]), compiled.run, compiled.wrap
                    return compiled(args[0])
            leaves, tree = jax.tree_util.tree_flatten(args)
            key = _signature(leaves, tree)
            if key not in cache:
                prepared = prepare(f, *args, argnums=argnums, mode=mode, **options)
                cache[key] = _Compiled(prepared)
            if not all(is_concrete(leaf) for leaf in leaves):
                return cache[key].prepared(*args)  # inside jit or vmap: traced like any function
            if len(args) == 1 and type(args[0]) is ARRAY_TYPE:
                single[(args[0].shape, args[0].dtype)] = cache[key]
            return cache[key](*args)  # on values: the compiled products, wrapped

        jac.prepared = lambda *args: cache[_signature(*jax.tree_util.tree_flatten(args))].prepared
        return jac

    transform.__name__ = transform.__qualname__ = doc_name
    return transform


jacfwd = _sparse_transform("forward", "jacfwd")
jacfwd.__doc__ = """The sparse Jacobian of `f` by compressed forward mode (a JVP per column color).

Args:
    f: the function; pytrees in and out.
    argnums: the differentiated positional arguments, as in `jax.jacfwd`.
    **options: `order`, `output` ("bcoo", "bcsr", "dense", "scipy"), `chunk_size`, `method`
        ("jax" or "adkit"), `devices`, `unknown`: see `adkit.sparse.prepare`.

Returns:
    A function of `f`'s arguments returning the `m x n` Jacobian (BCOO by default).

Example:
    >>> import jax.numpy as jnp
    >>> J = jacfwd(lambda x: jnp.sin(x) * 2.0, output="dense")(jnp.zeros(3))
    >>> J.tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]
"""

jacrev = _sparse_transform("reverse", "jacrev")
jacrev.__doc__ = """The sparse Jacobian of `f` by compressed reverse mode (one VJP per row color).

Args and returns as `jacfwd`.

Example:
    >>> import jax.numpy as jnp
    >>> J = jacrev(lambda x: x[1:] - x[:-1], output="dense")(jnp.zeros(3))
    >>> J.tolist()
    [[-1.0, 1.0, 0.0], [0.0, -1.0, 1.0]]
"""

jacobian = _sparse_transform("auto", "jacobian")
jacobian.__doc__ = """The sparse Jacobian of `f`, by forward, reverse or bidirectional mode: the
one with the fewest compressed products for this pattern (ties go to forward).

Args and returns as `jacfwd`.

Example:
    >>> import jax.numpy as jnp
    >>> jac = jacobian(lambda x: jnp.sum(x) * x)  # a dense row and column would need n JVPs
    >>> jac(jnp.ones(4)).shape
    (4, 4)
"""

hessian = _sparse_transform("hessian", "hessian")
hessian.__doc__ = """The sparse Hessian of a scalar `f`, by Hessian-vector products (forward over
reverse), one per color of a star coloring (by default; `kind="acyclic"` or `"column"`).

Args and returns as `jacfwd` (plus `kind`); the result is `n x n`.

Example:
    >>> import jax.numpy as jnp
    >>> H = hessian(lambda x: jnp.sum(x[1:] * x[:-1]), output="dense")(jnp.ones(3))
    >>> H.tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
"""
