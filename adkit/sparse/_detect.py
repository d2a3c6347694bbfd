"""Detection: the global sparsity pattern of a Jacobian or Hessian, read from the jaxpr."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
import scipy.sparse as sp

from ..interpreter.rules.sparsity._sets import IndexSets, identity, stack_rows, unknown
from ..interpreter.sparsity import sparsity_closed, unknown_primitives
from ._pattern import Pattern

_UNKNOWN = ("error", "dense")


def _argnums_tuple(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(
                f"argnums {argnums!r} names argument {i}, but the function was given {nargs} "
                "positional arguments. Pass argnums within range, like `jax.jacfwd`'s."
            )
    return tuple(i % nargs for i in nums)


def _is_inexact(leaf) -> bool:
    return bool(jax.numpy.issubdtype(jax.numpy.result_type(leaf), jax.numpy.inexact))


def jacobian_sparsity(
    f: Callable[..., Any], *args: Any, argnums: int | Sequence[int] = 0, unknown: str = "error"
) -> Pattern:
    """The pattern of `f`'s Jacobian, valid for every value of the differentiated arguments.

    Index sets are propagated through `jax.make_jaxpr(f)(*args)` by adkit's sparsity engine:
    each element of each intermediate carries the set of input elements it may depend on, as
    one row of a sparse boolean matrix, and each primitive's rule builds its outputs' rows from
    its operands' with whole-array operations. Only the shapes and dtypes of the differentiated
    arguments matter (pass `jax.ShapeDtypeStruct`s if you like); other arguments are treated as
    unknown values, so the pattern holds for any of them too.

    Args:
        f: the function; pytrees in and out.
        *args: example arguments (arrays or `jax.ShapeDtypeStruct`s).
        argnums: which positional arguments to differentiate with respect to, as in
            `jax.jacfwd`; their leaves are flattened in order into the Jacobian's columns.
        unknown: `"error"` (default): a primitive without a sparsity rule raises an error
            naming it; `"dense"`: its outputs depend on everything its operands depend on.

    Returns:
        A `Pattern` of shape `(m, n)`: m output elements (all output leaves, flattened in
        order) by n input elements.

    Raises:
        MissingRuleError: a primitive has no sparsity rule and `unknown="error"`.

    Examples:
        >>> import jax.numpy as jnp
        >>> p = jacobian_sparsity(lambda x: x[1:] - x[:-1], jnp.zeros(4))
        >>> p.todense().astype(int).tolist()
        [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]
    """
    if unknown not in _UNKNOWN:
        raise ValueError(f'`unknown` must be "error" or "dense", but received {unknown!r}.')
    nums = _argnums_tuple(argnums, len(args))
    closed = jax.make_jaxpr(f)(*args)
    sets, n = _input_sets(args, nums)
    # inside `jit` (a sparse Jacobian prepared on first call) the engine still computes on
    # values: its index maps and folded constants are NumPy arrays, never tracers
    with unknown_primitives(unknown), jax.ensure_compile_time_eval():
        outs = sparsity_closed(closed, sets)
    m = sum(o.size for o in outs)
    if not outs:
        return Pattern((0, n), np.zeros(0, np.int64), np.zeros(0, np.int64))
    matrix = stack_rows(outs)  # rows in order, each row's columns sorted: the Pattern's order
    rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(matrix.indptr))
    return Pattern((m, n), rows, matrix.indices)


def _input_sets(args, nums) -> tuple[list[IndexSets], int]:
    """Identity sets for the differentiated leaves (numbered in order), unknown for the rest."""
    flat = [(i, leaf) for i, a in enumerate(args) for leaf in jax.tree_util.tree_leaves(a)]
    diff = [i in nums and _is_inexact(leaf) for i, leaf in flat]
    for (i, leaf), d in zip(flat, diff, strict=True):
        if i in nums and not d:
            raise TypeError(
                f"Argument {i} has a leaf of dtype {jax.numpy.result_type(leaf)}; sparsity "
                "detection differentiates floating-point inputs only. Pass integer inputs as "
                "arguments that `argnums` does not name."
            )
    sizes = [int(np.prod(np.shape(leaf), dtype=np.int64)) for _, leaf in flat]
    n = sum(size for size, d in zip(sizes, diff, strict=True) if d)
    sets, start = [], 0
    for (_, leaf), d in zip(flat, diff, strict=True):
        shape = np.shape(leaf)
        if d:
            sets.append(identity(shape, start, n))
            start += int(np.prod(shape, dtype=np.int64))
        else:
            sets.append(unknown(shape, n))
    return sets, n


def hessian_sparsity(
    f: Callable[..., Any], *args: Any, argnums: int | Sequence[int] = 0, unknown: str = "error"
) -> Pattern:
    """The pattern of the Hessian of a scalar `f`, valid for every input.

    It is the Jacobian pattern of `adkit.grad(f)`: the gradient is staged by adkit's own
    reverse mode and its jaxpr walked by the sparsity engine, so a product of two inputs gives
    the off-diagonal pair and a square the diagonal, nothing more.

    Args:
        f: a scalar-valued function.
        *args: as for `jacobian_sparsity`.
        argnums: as for `jacobian_sparsity`.
        unknown: as for `jacobian_sparsity`.

    Returns:
        A symmetric `Pattern` of shape `(n, n)`.

    Examples:
        >>> import jax.numpy as jnp
        >>> p = hessian_sparsity(lambda x: jnp.sum(x[1:] * x[:-1]), jnp.zeros(3))
        >>> p.todense().astype(int).tolist()
        [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    from ..interpreter import grad

    pattern = jacobian_sparsity(grad(f, argnums=argnums), *args, argnums=argnums, unknown=unknown)
    both = sp.coo_array(pattern.to_scipy() + pattern.to_scipy().T)  # symmetric by construction
    return Pattern(pattern.shape, both.row, both.col)
