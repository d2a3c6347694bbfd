"""Forward-mode API: `jvp`, `jacfwd`, `linearize`, with jax's arguments and pytree behaviour."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ... import _jax_compat as jc
from .._staging import flatten_function, gc_paused
from .._zeros import Zero, instantiate
from ..eager.dispatch import STAGED_ORDER_ERRORS, holds_values, staged_or_none
from ..eager.forward import jvp_eager
from ..eager.path import path_jaxpr
from .engine import jvp_closed


@gc_paused
def jvp(
    fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False
):
    """Computes `(fun(*primals), J(primals) @ tangents)` with adkit's forward-mode interpreter.

    Same arguments and pytree behaviour as `jax.jvp`: integer and boolean primals take `float0`
    tangents, and their outputs' tangents are `float0`.

    Args:
        fun: a function of pytrees of arrays.
        primals: a tuple or list of arguments to `fun`.
        tangents: a tuple or list with the same structure, shapes and tangent dtypes.
        has_aux: whether `fun` returns `(output, aux)`; `aux` is returned, not differentiated.

    Returns:
        `(primals_out, tangents_out)`, or `(primals_out, tangents_out, aux)` with `has_aux`.

    Raises:
        TypeError: if `primals`/`tangents` are not tuples or lists, or do not match.
        adkit.MissingRuleError: if the function uses a primitive adkit has no JVP rule for.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> f = lambda x1, x2: jnp.log(x1) + x1 * x2 - jnp.sin(x2)
        >>> y, dy = adkit.jvp(f, (2.0, 5.0), (1.0, 0.0))
        >>> round(float(dy), 6)   # df/dx1 = 1/x1 + x2
        5.5
    """
    leaves_p, leaves_t = check_primals_and_tangents("adkit.jvp", primals, tangents)
    tangents_in = [as_tangent(p, t) for p, t in zip(leaves_p, leaves_t, strict=True)]
    staged = staged_or_none(fun, tuple(primals), has_aux)
    if staged is not None:
        try:
            outs, touts = jvp_closed(staged.closed, leaves_p, tangents_in)
            out_tree, aux_tree = staged.out_tree, staged.aux_tree
        except STAGED_ORDER_ERRORS:
            if not holds_values(leaves_p):
                raise
            staged = None
    if staged is None:  # define-by-run (see `interpreter/eager/dispatch.py`)
        flat_fun, trees = flatten_function(fun, jax.tree.structure(tuple(primals)), has_aux)
        outs, touts = jvp_eager(flat_fun, leaves_p, tangents_in)
        out_tree, aux_tree = trees["out"], trees.get("aux")
    n = out_tree.num_leaves
    outs = [as_array(o) for o in outs]  # a literal output of the jaxpr is a Python scalar
    out = jax.tree.unflatten(out_tree, outs[:n])
    tout = jax.tree.unflatten(out_tree, [instantiate(t) for t in touts[:n]])
    if has_aux:
        return out, tout, jax.tree.unflatten(aux_tree, outs[n:])
    return out, tout


def linearize(fun: Callable[..., Any], *primals: Any):
    """Returns `(fun(*primals), f_jvp)` where `f_jvp(*tangents)` applies the Jacobian at primals.

    Like `jax.linearize`. `f_jvp` is compiled once with `jax.jit`, with the primals held fixed;
    XLA folds what depends on the primals only. A function that branches in Python on values is
    linearized along the path it takes at `primals` (recorded define-by-run).

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> y, f_jvp = adkit.linearize(jnp.sin, 0.0)
        >>> float(f_jvp(2.0))
        2.0
    """
    in_tree = jax.tree.structure(primals)
    if staged_or_none(fun, primals) is None:  # branches on values: the path taken, as a jaxpr
        path, out_tree = path_jaxpr(fun, primals)
        on_path = lambda *args: jax.tree.unflatten(
            out_tree, jc.jaxpr_as_fun(path)(*jax.tree.leaves(args))
        )
        return linearize(on_path, *primals)
    out = jax.tree.map(lambda x: x, jvp(fun, primals, _zero_tangents(primals))[0])

    def f_jvp(*tangents):
        if jax.tree.structure(tangents) != in_tree:
            raise TypeError(
                f"`f_jvp` from `adkit.linearize` takes tangents structured like the primals "
                f"({in_tree}), but received {jax.tree.structure(tangents)}."
            )
        return jvp(fun, primals, tangents)[1]

    return out, jax.jit(f_jvp)


def jacfwd(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
):
    """The Jacobian of `fun` by forward mode: one JVP per input element, batched with vmap.

    Same arguments and output structure as `jax.jacfwd`: for each output leaf of shape `S_out`
    and input leaf of shape `S_in`, an array of shape `S_out + S_in`.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> adkit.jacfwd(lambda x: x**2)(jnp.array([1.0, 2.0]))
        Array([[2., 0.],
               [0., 4.]], dtype=float32)
    """

    def jacobian(*args):
        dyn, partial_fun = split_argnums(fun, args, argnums)
        _check_real_inputs("adkit.jacfwd", dyn, holomorphic)

        # jax's convention: an int argnums gives the input's own structure, a tuple a tuple.
        single = isinstance(argnums, int)
        target = dyn[0] if single else dyn
        basis, sizes = _standard_basis(target)
        pushforward = lambda t: jvp(partial_fun, dyn, (t,) if single else t, has_aux=has_aux)
        out_axes = (None, 0, None) if has_aux else (None, 0)
        results = jax.vmap(pushforward, out_axes=out_axes)(basis)
        jac = _unravel_jacobian(results[1], target, sizes)
        return (jac, results[2]) if has_aux else jac

    return jacobian


# --- helpers ---
def check_primals_and_tangents(name, primals, tangents):
    for what, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple | list):
            raise TypeError(
                f"`{name}` expects {what} as a tuple or list of arguments, but received a "
                f"{type(value).__name__}. Wrap a single argument: `{name}(f, (x,), (t,))`."
            )
    tree_p, tree_t = jax.tree.structure(tuple(primals)), jax.tree.structure(tuple(tangents))
    if tree_p != tree_t:
        raise TypeError(
            f"`{name}` expects primals and tangents with the same tree structure, but received "
            f"{tree_p} and {tree_t}."
        )
    leaves_p, leaves_t = jax.tree.leaves(tuple(primals)), jax.tree.leaves(tuple(tangents))
    for p, t in zip(leaves_p, leaves_t, strict=True):
        ap, at = jax.typeof(p), jax.typeof(t)
        expected = jc.primal_dtype_to_tangent_dtype(ap.dtype)
        if ap.shape != at.shape or np.dtype(at.dtype) != np.dtype(expected):
            raise TypeError(
                f"`{name}`: a primal of type {ap.str_short()} needs a tangent of shape "
                f"{ap.shape} and dtype {_dtype_name(expected)}, but received "
                f"{at.str_short()}. Integer and boolean primals take float0 tangents "
                "(`np.zeros(shape, jax.dtypes.float0)`)."
            )
    return leaves_p, leaves_t


def _dtype_name(dtype) -> str:
    return "float0" if np.dtype(dtype) == jax.dtypes.float0 else np.dtype(dtype).name


def as_array(value):
    """A value as JAX returns it: an array (a Python or numpy scalar becomes one)."""
    return value if isinstance(value, jax.Array) else jnp.asarray(value)


def as_tangent(primal, tangent):
    if np.dtype(jax.typeof(tangent).dtype) == jax.dtypes.float0:
        return Zero.like(primal)
    return tangent


def _zero_tangents(primals):
    return jax.tree.map(lambda p: instantiate(Zero.like(p)), tuple(primals))


def split_argnums(fun, args, argnums):
    """The arguments selected by `argnums`, and `fun` as a function of those only."""
    positions = _argnums_tuple(argnums, len(args))

    def partial_fun(*dyn_args):
        full = list(args)
        for i, a in zip(positions, dyn_args, strict=True):
            full[i] = a
        return fun(*full)

    return tuple(args[i] for i in positions), partial_fun


def _argnums_tuple(argnums, count):
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in positions:
        if not isinstance(i, int) or not -count <= i < count:
            raise ValueError(
                f"`argnums` must be integers indexing the {count} positional argument(s), but "
                f"received {argnums!r}."
            )
    return tuple(i % count for i in positions)


def _check_real_inputs(name, dyn, holomorphic=False):
    kind = jnp.complexfloating if holomorphic else jnp.floating
    for leaf in jax.tree.leaves(dyn):
        dtype = jax.typeof(leaf).dtype
        if not jnp.issubdtype(dtype, kind):
            wanted = "complex (holomorphic=True)" if holomorphic else "real floating-point"
            raise TypeError(
                f"`{name}` differentiates with respect to {wanted} inputs, but an input has "
                f"dtype {dtype}. Cast it (e.g. `x.astype(jnp.float32)`) or leave it out of "
                "`argnums`"
                + (
                    "."
                    if holomorphic
                    else "; for complex inputs of a holomorphic function pass `holomorphic=True`."
                )
            )


def _standard_basis(dyn):
    """A batch of tangents, one per input element: rows of the identity, shaped like `dyn`."""
    leaves, tree = jax.tree.flatten(dyn)
    sizes = [int(np.prod(jax.typeof(x).shape)) for x in leaves]
    total = sum(sizes)
    dtype = jnp.result_type(*leaves)
    eye = jnp.eye(total, dtype=dtype)
    parts, start = [], 0
    for leaf, size in zip(leaves, sizes, strict=True):
        aval = jax.typeof(leaf)
        parts.append(eye[:, start : start + size].reshape(total, *aval.shape).astype(aval.dtype))
        start += size
    return jax.tree.unflatten(tree, parts), sizes


def _unravel_jacobian(jac, dyn, sizes):
    """Batched tangents (batch axis 0, one row per input element) -> out_tree of in_tree."""
    in_leaves, in_tree = jax.tree.flatten(dyn)

    def per_output(j):
        blocks, start = [], 0
        for leaf, size in zip(in_leaves, sizes, strict=True):
            block = j[start : start + size]
            block = jnp.moveaxis(block, 0, -1).reshape(*j.shape[1:], *jax.typeof(leaf).shape)
            blocks.append(block)
            start += size
        return jax.tree.unflatten(in_tree, blocks)

    return jax.tree.map(per_output, jac)
