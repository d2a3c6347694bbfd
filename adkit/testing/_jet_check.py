"""The jet sweep: every rule case of a primitive with a jet rule through `adkit.jet`, in float64.

A random polynomial path x(t) = x + Σₖ sₖ tᵏ / k! through the case's float inputs is pushed
through the case's program by `adkit.jet` and compared with a reference for the first K
derivatives of t ↦ f(x(t)) at 0:

- `"nested"`: K nested `jax.jvp`s (exact; the program doubles at each level);
- `"jax-jet"`: `jax.experimental.jet`, where JAX's jet has rules for the program and agrees with
  nested JVPs (`JAX_JET_DIFFERS` lists where it does not, and why);
- `"closed form"`: for piecewise-linear cases where JAX has no usable derivative, each term
  through the case's first-order closed form.

`check_jet_case` runs adkit's jet and its reference as one compiled program. The test suite
uses it case by case; `adkit check --jet` runs every case at order 6 against nested JVPs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .rule_cases import RuleCase

TOLERANCE = 1e-9  # relative, float64

# Where JAX's jet gives other numbers than nested `jax.jvp`s (and adkit), with the reason.
JAX_JET_DIFFERS = {
    "custom_jvp_call": "JAX's jet calls the primal body, not the custom rule (and in JAX 0.10.2 "
    "fails there with an escaped-tracer error)",
    "rem": "JAX's jet rounds x / y down where rem truncates it (wrong for negative x / y)",
    "gather-fill": "JAX's jet fills the terms of out-of-bounds reads with the fill value, not 0",
    "convert_element_type-to_int": "JAX's jet converts the terms to integers (nonzero terms of "
    "a piecewise-constant function)",
    "pow-special": "JAX's jet gives NaN for the first term of x(t)^y(t) at x = 0, where jax.jvp "
    "gives 0 (it takes the derivative in y as 0 at x = 0)",
}
# reduce_precision rounds each normalised coefficient to 10 mantissa bits, the reference rounds
# the derivatives: they agree to the rounding
ROUNDING = {"reduce_precision": 1e-3}


def _total_order(primitive):
    return lambda args, terms: jnp.where(primitive.bind(*args), terms[0], terms[1])


# Piecewise-linear cases compared with a closed form: the total-order comparisons tell -0.0
# from +0.0, which the path x + t s cannot keep at t = 0.
CLOSED_FORMS: dict[str, Callable[..., Any]] = {
    "eq_to-special": _total_order(lax.eq_to_p),
    "lt_to-special": _total_order(lax.lt_to_p),
}


def is_float(x) -> bool:
    return bool(jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact))


def random_path(case: RuleCase, k: int, seed: int = 0):
    """The case's float64 arguments and a random series of k terms for each (zeros for ints)."""
    rng = np.random.default_rng(seed)
    args = tuple(jnp.asarray(a) for a in case.make_args(np.dtype(np.float64), rng))
    series = tuple(
        [
            jnp.asarray(rng.standard_normal(a.shape), a.dtype)
            if is_float(a)
            else jnp.zeros(a.shape, a.dtype)
            for _ in range(k)
        ]
        for a in args
    )
    return args, series


def _derivative_of(h):
    return lambda t: jax.jvp(h, (t,), (jnp.ones_like(t),))[1]


def nested_jvps(f, args, series) -> list[Any]:
    """The first K derivatives of t ↦ f(x(t)) at 0, x(t) = x + Σₖ sₖ tᵏ / k!, by nested jvps:
    a list of K trees shaped like f's output."""
    k = len(series[0])

    def along(t):
        xs = [
            x + sum(s[n - 1] * t**n / math.factorial(n) for n in range(1, k + 1))
            if is_float(x)
            else x
            for x, s in zip(args, series, strict=True)
        ]
        return f(*xs)

    outs, h = [], along
    for _ in range(k):
        h = _derivative_of(h)
        outs.append(h(jnp.zeros((), jnp.result_type(float))))
    return outs


def jax_jet_terms(f, args, series) -> list[Any]:
    """`jax.experimental.jet`'s terms, as a list of K trees shaped like f's output."""
    from jax.experimental import jet as jax_jet

    out, theirs = jax_jet.jet(f, args, series)
    tree = jax.tree.structure(out)
    per_leaf = tree.flatten_up_to(theirs)
    return [tree.unflatten([leaf[n] for leaf in per_leaf]) for n in range(len(series[0]))]


def jax_jet_applies(case: RuleCase, args, series) -> bool:
    """Whether JAX's jet has rules for the case's program (traced, not run) and agrees."""
    if case.id in JAX_JET_DIFFERS or case.primitive in JAX_JET_DIFFERS:
        return False
    try:
        jax.eval_shape(lambda a, s: jax_jet_terms(case.fn, a, s), args, series)
    except Exception:  # a primitive without a rule in JAX's jet
        return False
    return True


def compare_terms(out, terms, reference, rtol: float) -> float:
    """The largest relative error of adkit's `terms` (`out`'s tree with lists of terms at the
    leaves) against `reference` (a list of trees shaped like `out`); AssertionError if above
    `rtol`."""
    worst = 0.0
    for j, leaf_terms in enumerate(jax.tree.structure(out).flatten_up_to(terms)):
        for n, a in enumerate(leaf_terms):
            b = np.asarray(jax.tree.leaves(reference[n])[j])
            if b.dtype == jax.dtypes.float0 or not is_float(b):
                continue
            a = np.asarray(a)
            assert a.shape == b.shape, f"term {n + 1}: shape {a.shape}, expected {b.shape}"
            scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=f"term {n + 1}")
            if a.size:
                worst = max(worst, float(np.max(np.abs(a - b))) / scale)
    return worst


def tolerance(case: RuleCase, args, out) -> float:
    """The comparison's relative tolerance: float64's, unless the case computes in fewer bits
    (the jet rounds the normalised coefficients xₖ / k!, the reference the derivatives)."""
    if case.primitive in ROUNDING:
        return ROUNDING[case.primitive]
    jaxpr = jax.make_jaxpr(case.fn)(*args).jaxpr
    values = [*jax.tree.leaves((args, out)), *(v.aval for e in jaxpr.eqns for v in e.outvars)]
    dtypes = {d for d in map(_numeric_dtype, values) if d is not None}
    if any(d.itemsize <= 2 and jnp.issubdtype(d, jnp.floating) for d in dtypes):
        return 2e-2  # bfloat16, float16 somewhere in the program
    return 1e-5 if np.dtype(np.float32) in dtypes else TOLERANCE


def _numeric_dtype(value) -> np.dtype | None:
    """The NumPy dtype of an array or abstract value; None for keys and other extended dtypes."""
    try:
        return np.dtype(value.dtype)
    except (TypeError, AttributeError):
        return None


def check_jet_case(case: RuleCase, order: int, nested_order: int | None = None, prefer=None):
    """Checks one case; returns `(largest relative error, the reference's name)`.

    Args:
        case: a rule case whose primitive has a jet rule (float64 must be on).
        order: the number of terms against JAX's jet or a closed form.
        nested_order: the number of terms against nested JVPs (default `order`). A case marked
            `second_order=False` (its inputs on a kink) is checked to order 1.
        prefer: `"jax-jet"` to compare with JAX's jet where it applies; None for nested JVPs.

    Raises:
        AssertionError: if adkit's jet disagrees with the reference, or its primal output with
            the case's function.
    """
    import adkit

    def compiled(*oracles):
        def run(args, series):
            return [adkit.jet(case.fn, args, series), *(o(case.fn, args, series) for o in oracles)]

        return jax.jit(run)

    if case.raises is not None:
        args, series = random_path(case, 2)
        try:
            adkit.jet(case.fn, args, series)
        except case.raises:
            return 0.0, f"refused ({case.raises.__name__}, as JAX)"
        raise AssertionError(f"adkit.jet did not raise {case.raises.__name__}")
    if not case.second_order:  # the case's inputs sit on a kink: only f' is defined there
        order = nested_order = 1
    closed_form = CLOSED_FORMS.get(case.id) or (case.oracle and (lambda a, t: case.oracle(a, t)[1]))
    args, series = random_path(case, order)
    if closed_form is not None:  # piecewise linear: each term through the first-order map
        [(out, terms)] = compiled()(args, series)
        reference = [closed_form(args, [s[n] for s in series]) for n in range(order)]
        name = "closed form"
    elif prefer == "jax-jet" and jax_jet_applies(case, args, series):
        (out, terms), reference = compiled(jax_jet_terms)(args, series)
        name = "jax-jet"
    else:
        args, series = random_path(case, nested_order or order)
        (out, terms), reference = compiled(nested_jvps)(args, series)
        name = "nested"
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(case.fn(*args)), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
    return compare_terms(out, terms, reference, tolerance(case, args, out)), name
