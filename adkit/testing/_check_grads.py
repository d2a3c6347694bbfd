"""`check_grads`: derivatives against finite differences, to any order, naming what is wrong.

Forward mode is checked directly: J t from the JVP against the finite-difference estimate of the
derivative along t, element by element. Reverse mode is checked with the dot-product test: for a
cotangent c and a tangent t, <Jᵀ c, t> must equal <c, J t>, with J t again from finite
differences (so a VJP is checked against the function itself, not against a JVP rule). Both are
repeated for each argument leaf separately, so a failure names the leaf. Order k checks the
derivative functions x -> J(x) t and x -> J(x)ᵀ c at order k - 1.

When a check fails, the function is traced and each primitive it applies is checked on its own
at the recorded inputs; the message names the first one that fails.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..interpreter import trace
from ._finite_differences import DEFAULT_STEP, METHODS, directional_derivative
from ._pairing import pairing
from ._random import random_like

# Default tolerances per method (absolute and relative), for the float64 comparison.
TOLERANCE = {"central": 1e-5, "richardson": 1e-8, "complex_step": 1e-11}


class DerivativeCheckError(AssertionError):
    """A derivative disagrees with its finite-difference reference.

    `check_grads` raises it. It is an `AssertionError`, so test runners report it as a failed
    check; its message names what disagrees (see `check_grads`).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.testing import check_grads
        >>> @jax.custom_jvp
        ... def f(x):
        ...     return jnp.sin(x)
        >>> @f.defjvp
        ... def f_jvp(primals, tangents):  # wrong: twice the derivative cos(x)
        ...     return f(primals[0]), 2 * jnp.cos(primals[0]) * tangents[0]
        >>> check_grads(f, (jnp.array(1.0),), order=1, modes=("fwd",))
        Traceback (most recent call last):
        ...
        adkit.testing._check_grads.DerivativeCheckError: check_grads(f): order 1, mode 'fwd', ...
    """


def check_grads(
    f: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = ("fwd", "rev"),
    transforms: str = "adkit",
    method: str = "central",
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    seed: int = 0,
) -> None:
    """Checks `f`'s derivatives up to `order` against finite differences.

    Args:
        f: a function of pytrees of arrays.
        args: the arguments, a tuple (float32 leaves are checked in float64).
        order: how many derivatives deep to check (1: J; 2: also the derivatives of J t, Jᵀ c).
        modes: `"fwd"` (JVP against finite differences) and/or `"rev"` (dot-product test).
        transforms: `"adkit"` (adkit's tape path), `"adkit-transpose"` (its transpose path) or
            `"jax"` (JAX's own transforms, to check JAX or a custom rule the same way).
        method: the finite-difference reference: `"central"`, `"richardson"` or
            `"complex_step"` (real-analytic f of real inputs; exact to machine precision).
        eps: the finite-difference step (the method's default when None).
        atol: absolute tolerance (the method's default when None).
        rtol: relative tolerance (the method's default when None).
        seed: seeds the random tangents and cotangents.

    Raises:
        DerivativeCheckError: naming the function, the mode and order, the argument leaf (and
            for forward mode the output leaf and element), both values, the tolerance, the
            transform, and the first primitive of `f` that fails the same check on its own.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.testing import check_grads
        >>> check_grads(lambda x: jnp.sin(x) * x, (jnp.array([0.3, 1.2]),), order=2)
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, but received {method!r}.")
    unknown = set(modes) - {"fwd", "rev"}
    if unknown or not modes:
        raise ValueError(f"`modes` must be a subset of ('fwd', 'rev'), but received {modes!r}.")
    tol = TOLERANCE[method]
    ctx = _Context(
        transforms=transforms,
        method=method,
        eps=DEFAULT_STEP[method] if eps is None else eps,
        atol=tol if atol is None else atol,
        rtol=tol if rtol is None else rtol,
        rng=np.random.default_rng(seed),
        name=getattr(f, "__name__", repr(f)),
        localizing=False,
    )
    jvp, vjp = _transform_functions(transforms)
    with jax.enable_x64(True):
        args = tuple(jax.tree.map(_to_float64, tuple(args)))
        ctx.top_f, ctx.top_args = f, args
        _check(f, args, order, tuple(modes), ctx, jvp, vjp, level=1)


class _Context:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _transform_functions(transforms):
    import adkit

    if transforms == "adkit":
        return adkit.jvp, adkit.vjp
    if transforms == "adkit-transpose":
        return adkit.jvp, lambda f, *a: adkit.vjp(f, *a, method="transpose")
    if transforms == "jax":
        return jax.jvp, jax.vjp
    raise ValueError(
        f"`transforms` must be 'adkit', 'adkit-transpose' or 'jax', but received {transforms!r}."
    )


def _to_float64(x):
    x = jnp.asarray(x)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        return x.astype(jnp.complex128)
    if jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(jnp.float64)
    return x


def _check(f, args, order, modes, ctx, jvp, vjp, level):
    t = random_like(args, ctx.rng)
    out = f(*args)
    ct = random_like(out, ctx.rng)
    if "fwd" in modes:
        _check_forward(f, args, t, ctx, jvp, level)
    if "rev" in modes:
        _check_reverse(f, args, t, ct, ctx, vjp, level)
    if order > 1:
        # (the complex-step method calls these at complex points: tangents follow the dtype)
        if "fwd" in modes:
            push = lambda *a: jvp(f, a, _cast_like(t, a))[1]
            push.__name__ = f"jvp({ctx.name})"
            _check(push, args, order - 1, modes, ctx, jvp, vjp, level + 1)
        if "rev" in modes:
            pull = lambda *a: (lambda out, back: back(_cast_like(ct, out)))(*vjp(f, *a))
            pull.__name__ = f"vjp({ctx.name})"
            _check(pull, args, order - 1, modes, ctx, jvp, vjp, level + 1)


def _cast_like(tree, like):
    def cast(x, y):
        if jnp.result_type(x) == jax.dtypes.float0:
            return x
        return jnp.asarray(x, jnp.result_type(y))

    return jax.tree.map(cast, tree, like)


def _check_forward(f, args, t, ctx, jvp, level):
    for path, t_leaf in _one_leaf_at_a_time(args, t):
        _, ours = jvp(f, args, t_leaf)
        reference = directional_derivative(f, args, t_leaf, ctx.method, ctx.eps)
        pairs = zip(_leaves_with_paths(ours), jax.tree.leaves(reference), strict=True)
        for (out_path, a), e in pairs:
            if jnp.result_type(a) == jax.dtypes.float0:
                continue
            a, e = np.asarray(a), np.asarray(e)
            excess = np.abs(a - e) - (ctx.atol + ctx.rtol * np.abs(e))
            if np.any(excess > 0):
                i = np.unravel_index(int(np.argmax(excess)), np.shape(excess)) if a.ndim else ()
                _fail(
                    f,
                    args,
                    ctx,
                    "fwd",
                    level,
                    path,
                    f"the JVP along {path}: output{out_path} element {i} is {a[i]!r}, "
                    f"finite differences give {e[i]!r}",
                )


def _check_reverse(f, args, t, ct, ctx, vjp, level):
    _, pull = vjp(f, *args)
    cts = pull(ct)
    for path, t_leaf in _one_leaf_at_a_time(args, t):
        reference = directional_derivative(f, args, t_leaf, ctx.method, ctx.eps)
        lhs = pairing(cts, t_leaf)  # <Jᵀ c, t>
        rhs = pairing(ct, reference)  # <c, J t>
        scale = _inner_abs(ct, reference)
        if abs(lhs - rhs) > ctx.atol + ctx.rtol * scale:
            _fail(
                f,
                args,
                ctx,
                "rev",
                level,
                path,
                f"the dot-product test for {path}: <Jᵀ c, t> = {lhs!r} from the VJP, "
                f"<c, J t> = {rhs!r} from finite differences",
            )


def _one_leaf_at_a_time(args, t):
    """(path, tangents nonzero in that leaf only) for each inexact leaf of the arguments."""
    leaves, tree = jax.tree_util.tree_flatten_with_path(t)
    for k, (path, leaf) in enumerate(leaves):
        if jnp.result_type(leaf) == jax.dtypes.float0:
            continue
        only = [x if j == k else _zero_like(x) for j, (_, x) in enumerate(leaves)]
        yield "args" + jax.tree_util.keystr(path), jax.tree.unflatten(tree, only)


def _zero_like(x):
    if jnp.result_type(x) == jax.dtypes.float0:
        return x
    return jnp.zeros_like(x)


def _leaves_with_paths(tree):
    return [(jax.tree_util.keystr(p), x) for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]]


def _inner_abs(a, b):
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    return float(
        sum(
            np.sum(np.abs(np.asarray(x)) * np.abs(np.asarray(y)))
            for x, y in pairs
            if jnp.result_type(x) != jax.dtypes.float0
        )
    )


def _fail(f, args, ctx, mode, level, path, detail):
    culprit = None if ctx.localizing else first_failing_primitive(ctx, mode, level)
    where = f" The first primitive that fails this check on its own: {culprit}." if culprit else ""
    raise DerivativeCheckError(
        f"check_grads({ctx.name}): order {level}, mode {mode!r}, transforms "
        f"{ctx.transforms!r}: {detail}; tolerance atol={ctx.atol:g} + rtol={ctx.rtol:g}·|ref| "
        f"(finite differences: {ctx.method}, step {ctx.eps:g}).{where}"
    )


# --- finding the primitive behind a failed check ---
# A whole function's derivative is built from its primitives' rules, so when it is wrong, some
# primitive's rule is wrong at the values it sees. `adkit.trace` records every primitive the
# function applies and its input values; each is then checked on its own, in the same mode, to
# the same order and with the same transforms, and the first that fails is named.
def first_failing_primitive(ctx, mode: str, level: int) -> str | None:
    """Names the first primitive of `ctx.top_f` failing the check alone, e.g. "'sin' (row v4)"."""
    try:
        tape = trace(ctx.top_f, *ctx.top_args)
    except Exception:  # a function the tape cannot record: report without a culprit
        return None
    jvp, vjp = _transform_functions(ctx.transforms)
    local = copy.copy(ctx)
    local.localizing = True
    for entry in tape.entries:
        if entry.primitive is None or not any(_inexact(v) for v in entry.input_values):
            continue
        prim, params = entry.primitive, entry.rule_params

        def apply(*xs, prim=prim, params=params):
            return prim.bind(*xs, **prim.get_bind_params(params))

        local.name = entry.op
        try:
            _check(apply, tuple(entry.input_values), level, (mode,), local, jvp, vjp, 1)
        except DerivativeCheckError:
            return f"'{entry.op}' (row {entry.outputs[0]} of the tape)"
        except Exception:  # a primitive that cannot be checked on its own is passed over
            continue
    return None


def _inexact(x) -> bool:
    return jnp.issubdtype(jnp.result_type(x), jnp.inexact)
