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


def _signature(args) -> tuple:
    leaves, tree = jax.tree_util.tree_flatten(args)
    return tree, tuple((np.shape(x), str(jax.numpy.result_type(x))) for x in leaves)


def _sparse_transform(mode: str, doc_name: str):
    def transform(
        f: Callable[..., Any], argnums: int | Sequence[int] = 0, **options: Any
    ) -> Callable[..., Any]:
        cache: dict[tuple, tuple[Prepared, Callable[..., Any]]] = {}

        @functools.wraps(f)
        def jac(*args):
            key = _signature(args)
            if key not in cache:
                prepared = prepare(f, *args, argnums=argnums, mode=mode, **options)
                data = prepared.flat if prepared.in_place else prepared.values
                compiled = jax.jit(lambda *a, data=data: data(*a))  # seeds as constants
                cache[key] = (prepared, compiled)
            prepared, compiled = cache[key]
            if all(is_concrete(leaf) for leaf in jax.tree_util.tree_leaves(args)):
                # called on values: the compiled products, assembled around the index arrays
                # the prepared function keeps on the device (never copied out of a program)
                return prepared.assemble(compiled(*args))
            return prepared(*args)  # inside jit or vmap: traced like any JAX function

        jac.prepared = lambda *args: cache[_signature(args)][0]  # what a call prepared
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
