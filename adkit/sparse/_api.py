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
import numpy as np

from .._jax_compat import is_concrete
from ._prepare import Prepared, prepare


def _signature(leaves, tree) -> tuple:
    dtype = lambda x: x.dtype if isinstance(x, jax.Array) else jax.numpy.result_type(x)
    return tree, tuple((np.shape(x), dtype(x)) for x in leaves)


class _Compiled:
    """What one argument signature needs on every call: the `Prepared`, its data function
    compiled once, and for an in-place BCOO the output's tree structure, so that a call on
    values wraps the compiled data and the index array kept on the device as a BCOO without
    re-validating them (`tree_unflatten`, as JAX itself rebuilds a BCOO)."""

    def __init__(self, prepared: Prepared):
        self.prepared = prepared
        data = prepared.flat if prepared.in_place else prepared.values
        self.run = jax.jit(lambda *a: data(*a))  # seeds and indices as constants
        self.treedef, self.indices = None, None
        if prepared.in_place and prepared.output == "bcoo":
            flat = jax.ShapeDtypeStruct(prepared.flat_indices.shape[:1], jax.numpy.float32)
            template = jax.eval_shape(prepared.assemble, flat)  # traced only: nothing runs
            self.treedef = jax.tree_util.tree_structure(template)
            self.indices = prepared.flat_indices

    def __call__(self, args):
        data = self.run(*args)
        if self.treedef is not None:
            return jax.tree_util.tree_unflatten(self.treedef, (data, self.indices))
        return self.prepared.assemble(data)


def _sparse_transform(mode: str, doc_name: str):
    def transform(
        f: Callable[..., Any], argnums: int | Sequence[int] = 0, **options: Any
    ) -> Callable[..., Any]:
        cache: dict[tuple, _Compiled] = {}

        @functools.wraps(f)
        def jac(*args):
            leaves, tree = jax.tree_util.tree_flatten(args)
            key = _signature(leaves, tree)
            if key not in cache:
                prepared = prepare(f, *args, argnums=argnums, mode=mode, **options)
                cache[key] = _Compiled(prepared)
            if all(is_concrete(leaf) for leaf in leaves):
                # called on values: the compiled products, assembled around the index arrays
                # the prepared function keeps on the device (never copied out of a program)
                return cache[key](args)
            return cache[key].prepared(*args)  # inside jit or vmap: traced like any function

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
