"""Reverse-mode API: `vjp`, `grad`, `value_and_grad`, `jacrev`, `hessian`, like JAX's.

Two independent ways compute a VJP, and each checks the other:

- `method="tape"` (the default): a forward sweep stores each equation's residuals and a backward
  sweep applies adkit's VJP rules in reverse (`reverse/tape/`);
- `method="transpose"`: the transpose of adkit's own linearized JVP (`reverse/transpose/`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ... import _jax_compat as jc
from .._staging import flatten_function, gc_paused
from .._zeros import Zero, has_tangent_space, instantiate
from ..eager.dispatch import STAGED_ORDER_ERRORS, holds_values, staged_or_none
from ..eager.reverse import vjp_eager
from ..forward.api import as_array, jacfwd, split_argnums
from ..forward.engine import jvp_jaxpr, linearizing
from .pullback import Pullback
from .tape.engine import backward_sweep, forward_sweep
from .transpose.engine import backward_pass, forward_pass

METHODS = ("tape", "transpose")


@gc_paused
def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False, method: str = "tape"):
    """Computes `fun(*primals)` and a function pulling output cotangents back to the inputs.

    Same arguments and pytree behaviour as `jax.vjp`: integer and boolean inputs get `float0`
    cotangents.

    Args:
        fun: a function of pytrees of arrays.
        *primals: the arguments.
        has_aux: whether `fun` returns `(output, aux)`.
        method: `"tape"`: a forward sweep storing residuals, then a backward sweep applying
            adkit's VJP rules; `"transpose"`: transpose adkit's linearized JVP with adkit's
            transpose rules.

    Returns:
        `(output, vjp_fn)` or `(output, vjp_fn, aux)`; `vjp_fn(cotangent)` returns a tuple with
        one cotangent per primal.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> f = lambda x1, x2: jnp.log(x1) + x1 * x2 - jnp.sin(x2)
        >>> y, f_vjp = adkit.vjp(f, 2.0, 5.0)
        >>> [round(float(g), 4) for g in f_vjp(1.0)]   # (1/x1 + x2, x1 - cos x2)
        [5.5, 1.7163]
    """
    if method not in METHODS:
        raise ValueError(f"`adkit.vjp` method must be one of {METHODS}, but received {method!r}.")
    leaves, in_tree = jax.tree.flatten(primals)
    differentiable = [has_tangent_space(x) for x in leaves]
    pullback_of = functools.partial(flat_vjp, method=method)
    staged = staged_or_none(fun, primals, has_aux)
    if staged is not None:
        try:
            outs, pull = pullback_of(staged.closed, leaves, differentiable)
            out_tree, aux_tree = staged.out_tree, staged.aux_tree
        except STAGED_ORDER_ERRORS:
            if not holds_values(leaves):
                raise
            staged = None
    if staged is None:  # define-by-run (see `interpreter/eager/dispatch.py`)
        flat_fun, trees = flatten_function(fun, in_tree, has_aux)
        outs, pull = vjp_eager(flat_fun, leaves, differentiable, pullback_of)
        out_tree, aux_tree = trees["out"], trees.get("aux")
    n_main = out_tree.num_leaves
    outs = [as_array(o) for o in outs]  # a literal output of the jaxpr is a Python scalar
    out = jax.tree.unflatten(out_tree, outs[:n_main])

    @gc_paused
    def vjp_fn(cotangent):
        cts = _check_cotangent(cotangent, out_tree, outs[:n_main])
        cts += [None] * (len(outs) - n_main)  # aux outputs are not differentiated
        grads = [
            _cast(jnp.asarray(instantiate(g)), x)
            if diff
            else np.zeros(np.shape(x), jax.dtypes.float0)
            for g, x, diff in zip(pull(cts), leaves, differentiable, strict=True)
        ]
        return jax.tree.unflatten(in_tree, grads)

    example = jax.tree.map(lambda o: jnp.zeros(jnp.shape(o), jax.typeof(o).dtype), out)
    pullback = Pullback(vjp_fn, example)
    if has_aux:
        return out, pullback, jax.tree.unflatten(aux_tree, outs[n_main:])
    return out, pullback


def flat_vjp(
    closed: jc.ClosedJaxpr, leaves: Sequence[Any], differentiable: Sequence[bool], method: str
) -> tuple[list[Any], Callable[[list[Any]], list[Any]]]:
    """Evaluates a closed jaxpr and returns its outputs and its pullback, by `method`.

    `pull(cotangents)` takes one cotangent per output (None or `Zero` for none) and returns one
    per input (`Zero` where nothing flowed back, and for inputs not differentiated).
    """
    if method == "tape":
        outs, sweep = forward_sweep(closed.jaxpr, closed.consts, list(leaves), differentiable)
        return outs, gc_paused(lambda cts: backward_sweep(sweep, cts))
    with linearizing():
        linearized, nonzero_out = jvp_jaxpr(closed, tuple(differentiable))
    n_lin = sum(differentiable)
    state = forward_pass(
        linearized.jaxpr,
        linearized.consts,
        [*leaves, *[None] * n_lin],
        [False] * len(leaves) + [True] * n_lin,
    )
    n_out = len(closed.out_avals)
    outs = state.env.read_all(linearized.jaxpr.outvars[:n_out])

    @gc_paused
    def pull(cts):
        tangent_cts = [
            Zero.like(o) if ct is None else ct
            for o, ct, nz in zip(outs, cts, nonzero_out, strict=True)
            if nz
        ]
        tangent_in = iter(backward_pass(state, [None] * n_out + tangent_cts)[len(leaves) :])
        return [
            next(tangent_in) if d else Zero.like(x)
            for x, d in zip(leaves, differentiable, strict=True)
        ]

    return outs, pull


def _cast(g, x):
    """A cotangent in its primal's dtype (a weakly typed rule constant may have promoted it)."""
    dtype = jax.typeof(x).dtype
    return g if jax.typeof(g).dtype == dtype else g.astype(dtype)


def value_and_grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
    *,
    method: str = "tape",
):
    """Returns a function computing `fun`'s value and its gradient, like `jax.value_and_grad`.

    `method` chooses the reverse-mode path, as in `adkit.vjp` (`"tape"` or `"transpose"`).
    As in JAX, `holomorphic=True` takes complex inputs and a complex output, and
    `allow_int=True` gives integer inputs `float0` gradients instead of an error.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> value, g = adkit.value_and_grad(lambda x: jnp.sum(x**2))(jnp.array([1.0, 2.0]))
        >>> float(value), g.tolist()
        (5.0, [2.0, 4.0])
    """

    def value_and_gradient(*args):
        out, vjp_fn, aux = _vjp_of_selected(fun, args, argnums, has_aux, method, allow_int)
        _check_scalar(out, holomorphic)
        grads = vjp_fn(jnp.ones_like(out))
        grads = grads[0] if isinstance(argnums, int) else grads
        return ((out, aux) if has_aux else out), grads

    return value_and_gradient


def grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
    *,
    method: str = "tape",
):
    """The gradient of a scalar function, like `jax.grad`.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> float(adkit.grad(jnp.sin)(0.0))
        1.0
    """
    value_and_gradient = value_and_grad(
        fun, argnums, has_aux, holomorphic, allow_int, method=method
    )

    def gradient(*args):
        value, g = value_and_gradient(*args)
        return (g, value[1]) if has_aux else g

    return gradient


def jacrev(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
    *,
    method: str = "tape",
):
    """The Jacobian by reverse mode: one VJP per output element, batched with vmap.

    Same output structure as `jax.jacrev`.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> adkit.jacrev(lambda x: x**2)(jnp.array([1.0, 2.0]))
        Array([[2., 0.],
               [0., 4.]], dtype=float32)
    """

    def jacobian(*args):
        out, vjp_fn, aux = _vjp_of_selected(fun, args, argnums, has_aux, method, allow_int)
        out_leaves, out_tree = jax.tree.flatten(out)
        sizes = [int(np.prod(np.shape(o))) for o in out_leaves]
        basis = _output_basis(out_leaves, sizes)
        # float0 rows (integer inputs, with allow_int) travel through vmap as booleans
        pull = lambda ct: jax.tree.map(_float0_as_bool, vjp_fn(jax.tree.unflatten(out_tree, ct)))
        rows = jax.vmap(pull)(basis)
        jac = _assemble(rows, out_leaves, sizes, out_tree, single=isinstance(argnums, int))
        jac = jax.tree.map(_bool_as_float0, jac)
        return (jac, aux) if has_aux else jac

    return jacobian


def hessian(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    *,
    method: str = "tape",
):
    """The Hessian by forward-over-reverse, `jacfwd(jacrev(fun))`, like `jax.hessian`.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> adkit.hessian(lambda x: jnp.sum(x**3))(jnp.array([1.0, 2.0]))
        Array([[ 6.,  0.],
               [ 0., 12.]], dtype=float32)
    """
    inner = jacrev(fun, argnums, has_aux, holomorphic, method=method)
    return jacfwd(inner, argnums, has_aux, holomorphic)


# --- helpers ---
def _vjp_of_selected(fun, args, argnums, has_aux, method, allow_int=False):
    """`(out, vjp_fn, aux)` of `fun` as a function of the arguments `argnums` selects."""
    dyn, partial_fun = split_argnums(fun, args, argnums)
    if not allow_int:
        _check_differentiable_inputs(dyn)
    result = vjp(partial_fun, *dyn, has_aux=has_aux, method=method)
    return result[0], result[1], (result[2] if has_aux else None)


def _check_cotangent(cotangent, out_tree, outs):
    if jax.tree.structure(cotangent) != out_tree:
        raise TypeError(
            f"The function returned by `adkit.vjp` expects a cotangent structured like the "
            f"output ({out_tree}), but received {jax.tree.structure(cotangent)}."
        )
    leaves = jax.tree.leaves(cotangent)
    for ct, o in zip(leaves, outs, strict=True):
        if np.shape(ct) != np.shape(o):
            raise TypeError(
                f"A cotangent has shape {np.shape(ct)} but its output has shape {np.shape(o)}; "
                "pass one cotangent per output, shaped like it."
            )
    return list(leaves)


def _check_differentiable_inputs(dyn):
    for leaf in jax.tree.leaves(dyn):
        dtype = jax.typeof(leaf).dtype
        if not jnp.issubdtype(dtype, jnp.inexact):
            raise TypeError(
                "adkit's reverse mode differentiates with respect to real or complex inputs, but "
                f"an input has dtype {dtype}. Cast it (`x.astype(jnp.float32)`), leave it out "
                "of `argnums`, or pass `allow_int=True` to get a `float0` zero for it."
            )


def _check_scalar(out, holomorphic=False):
    shape = np.shape(out)
    if holomorphic and not jnp.issubdtype(jax.typeof(out).dtype, jnp.complexfloating):
        raise TypeError(
            "`adkit.grad` with `holomorphic=True` needs a function returning a complex scalar, "
            f"but it returned {jax.typeof(out).str_short()}."
        )
    kind = jnp.complexfloating if holomorphic else jnp.floating
    if shape != () or not jnp.issubdtype(jax.typeof(out).dtype, kind):
        raise TypeError(
            "`adkit.grad` needs a function returning a real scalar, but it returned "
            f"{jax.typeof(out).str_short()}. Reduce the output (e.g. `jnp.sum`), or use "
            "`adkit.jacrev` / `adkit.vjp` for non-scalar outputs."
        )


def _output_basis(out_leaves, sizes):
    total = sum(sizes)
    parts, start = [], 0
    for o, size in zip(out_leaves, sizes, strict=True):
        eye = jnp.eye(total, dtype=jax.typeof(o).dtype)[:, start : start + size]
        parts.append(eye.reshape(total, *np.shape(o)))
        start += size
    return parts


def _float0_as_bool(g):
    return jnp.zeros(np.shape(g), bool) if g.dtype == jax.dtypes.float0 else g


def _bool_as_float0(g):
    return np.zeros(np.shape(g), jax.dtypes.float0) if g.dtype == np.bool_ else g


def _assemble(rows, out_leaves, sizes, out_tree, single):
    """Rows (batch axis 0 = output element) -> out_tree of in-trees, shapes out + in; with
    `single` (an int argnums), the input level is that one argument rather than a tuple."""
    per_out, start = [], 0
    for o, size in zip(out_leaves, sizes, strict=True):
        block = jax.tree.map(lambda r, s=start, n=size: r[s : s + n], rows)
        block = jax.tree.map(lambda r, o=o: r.reshape(*np.shape(o), *r.shape[1:]), block)
        per_out.append(block[0] if single else block)
        start += size
    return jax.tree.unflatten(out_tree, per_out)
