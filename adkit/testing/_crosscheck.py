"""`crosscheck`: one function's derivatives by every path adkit has, side by side.

Each path (adkit's tape, adkit's transpose, JAX) computes a JVP along a random tangent, a VJP of
a random cotangent and, for a real scalar output, the gradient. Each is compared, leaf by leaf,
with a finite-difference reference: J t along t directly, and Jᵀ c one input element at a time
(<c, J eₖ> is element k of Jᵀ c), so the report locates a wrong value without trusting any rule.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._check_grads import (
    DerivativeCheckError,
    _Context,
    _leaves_with_paths,
    _to_float64,
    first_failing_primitive,
)
from ._finite_differences import DEFAULT_STEP, directional_derivative
from ._pairing import pairing
from ._random import random_like

PATHS = ("adkit (tape)", "adkit (transpose)", "jax")
_TRANSFORMS = {"adkit (tape)": "adkit", "adkit (transpose)": "adkit-transpose", "jax": "jax"}
MAX_REFERENCE_SIZE = 4096  # input elements; Jᵀ c by finite differences costs one call each


@dataclasses.dataclass(frozen=True)
class Cell:
    """One path's error on one leaf: max absolute and relative error, or why it failed to run."""

    abs_error: float = float("nan")
    rel_error: float = float("nan")
    ok: bool = True
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return "ERROR"
        text = f"{self.abs_error:.1e} / {self.rel_error:.1e}"
        return text if self.ok else f"FAIL {text}"


@dataclasses.dataclass(frozen=True)
class Row:
    quantity: str  # "jvp", "vjp" or "grad"
    leaf: str  # which output leaf (jvp) or argument leaf (vjp, grad)
    cells: dict[str, Cell]


@dataclasses.dataclass(frozen=True)
class CrosscheckReport:
    """The result of `crosscheck`: a table of errors, and `raise_if_failed()`.

    Attributes:
        name: the checked function's name.
        rows: one row per quantity (`"jvp"`, `"vjp"`, `"grad"`) and leaf, with one cell (max
            absolute and relative error, or the error raised) per path.
        method: the finite-difference method of the reference.
        atol, rtol: the tolerances the cells were judged by.
        culprits: for each adkit path that failed, the first primitive that fails on its own.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.testing import crosscheck
        >>> report = crosscheck(jnp.sin, 1.0)
        >>> print(report)
        crosscheck(sin): max abs / rel error against finite differences (richardson)
        quantity  leaf  adkit (tape)  adkit (transpose)  jax
        ...
        jvp       out      ...
        vjp       args[0]  ...
        grad      args[0]  ...
        >>> [(row.quantity, row.leaf) for row in report.rows]
        [('jvp', 'out'), ('vjp', 'args[0]'), ('grad', 'args[0]')]
        >>> report.failures, report.culprits
        ([], {})
        >>> report.raise_if_failed()  # nothing failed: no error
    """

    name: str
    rows: tuple[Row, ...]
    method: str
    atol: float
    rtol: float
    culprits: dict[str, str]

    @property
    def failures(self) -> list[tuple[str, str, str]]:
        """(quantity, leaf, path) for every cell that failed or did not run."""
        return [
            (r.quantity, r.leaf, p)
            for r in self.rows
            for p, c in r.cells.items()
            if not c.ok or c.error
        ]

    def raise_if_failed(self) -> None:
        """Raises `DerivativeCheckError` listing the failures and the primitives behind them."""
        if not self.failures:
            return
        lines = [f"crosscheck({self.name}) found {len(self.failures)} disagreement(s):"]
        for quantity, leaf, path in self.failures:
            row = next(r for r in self.rows if (r.quantity, r.leaf) == (quantity, leaf))
            cell = row.cells[path]
            what = cell.error or f"max abs error {cell.abs_error:.3g}, rel {cell.rel_error:.3g}"
            lines.append(f"  {quantity} {leaf} by {path}: {what}")
        for path, culprit in self.culprits.items():
            lines.append(f"  {path}: the first primitive that fails on its own is {culprit}")
        lines.append(f"  (tolerance atol={self.atol:g} + rtol={self.rtol:g}·max|ref|)")
        raise DerivativeCheckError("\n".join(lines))

    def _table(self) -> list[list[str]]:
        header = ["quantity", "leaf", *PATHS]
        return [header] + [
            [r.quantity, r.leaf, *(str(r.cells[p]) for p in PATHS)] for r in self.rows
        ]

    def __str__(self) -> str:
        table = self._table()
        widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
        lines = [
            f"crosscheck({self.name}): max abs / rel error against finite differences "
            f"({self.method})"
        ]
        for i, row in enumerate(table):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += [f"{p}: the first failing primitive is {c}" for p, c in self.culprits.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        table = self._table()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in table[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in table[1:]
        )
        caption = html.escape(str(self).splitlines()[0])
        return f"<table><caption>{caption}</caption><tr>{head}</tr>{body}</table>"


def crosscheck(
    f: Callable[..., Any],
    *args: Any,
    method: str = "richardson",
    atol: float = 1e-6,
    rtol: float = 1e-6,
    seed: int = 0,
) -> CrosscheckReport:
    """Compares adkit (tape), adkit (transpose) and JAX with finite differences on `f(*args)`.

    Args:
        f: a function of pytrees of arrays.
        *args: its arguments (checked in float64).
        method: the finite-difference method of the reference (see `directional_derivative`).
        atol: absolute tolerance against the reference.
        rtol: relative tolerance, scaled by the leaf's largest reference value.
        seed: seeds the random tangent and cotangent.

    Returns:
        A `CrosscheckReport`; print it for the table, or call `raise_if_failed()`.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.testing import crosscheck
        >>> report = crosscheck(lambda x: jnp.sum(jnp.sin(x) ** 2), jnp.array([0.5, 1.0]))
        >>> report.failures
        []
    """
    name = getattr(f, "__name__", repr(f))
    rng = np.random.default_rng(seed)
    with jax.enable_x64(True):
        args = tuple(jax.tree.map(_to_float64, args))
        out = f(*args)
        t, ct = random_like(args, rng), random_like(out, rng)
        reference = _references(f, args, out, t, ct, method)
        results = {p: _derivatives(_TRANSFORMS[p], f, args, out, t, ct) for p in PATHS}
    rows = []
    for quantity, ref in reference.items():
        for leaf, ref_value in _leaves_with_paths(ref):
            label = ("out" if quantity == "jvp" else "args") + leaf
            cells = {p: _compare(results[p], quantity, leaf, ref_value, atol, rtol) for p in PATHS}
            rows.append(Row(quantity, label, cells))
    report = CrosscheckReport(name, tuple(rows), method, atol, rtol, {})
    culprits = _culprits(f, args, report, method)
    return dataclasses.replace(report, culprits=culprits)


def _references(f, args, out, t, ct, method):
    ref = {"jvp": directional_derivative(f, args, t, method)}
    ref["vjp"] = _transpose_by_differences(f, args, ct, method)
    if _is_real_scalar(out):
        ref["grad"] = _transpose_by_differences(f, args, jnp.ones_like(out), method)
    return ref


def _is_real_scalar(out):
    leaves = jax.tree.leaves(out)
    return len(leaves) == 1 and jnp.shape(leaves[0]) == () and jnp.isrealobj(leaves[0])


def _transpose_by_differences(f, args, ct, method):
    """Jᵀ c one input element at a time: element k is <c, J eₖ>."""
    leaves, tree = jax.tree.flatten(args)
    size = sum(int(np.size(x)) for x in leaves if _inexact(x))
    if size > MAX_REFERENCE_SIZE:
        raise ValueError(
            f"`crosscheck` builds Jᵀ c by finite differences, one call per input element, but "
            f"the inputs have {size} elements (more than {MAX_REFERENCE_SIZE}). Use smaller "
            "inputs, or `adkit.testing.check_grads`, whose checks use random directions."
        )
    grads = []
    for k, x in enumerate(leaves):
        if not _inexact(x):
            grads.append(np.zeros(np.shape(x), jax.dtypes.float0))
            continue
        g = np.zeros(np.shape(x), jnp.result_type(x))
        for index in np.ndindex(*np.shape(x)):
            for unit in (1.0, 1j) if jnp.iscomplexobj(x) else (1.0,):
                basis = [
                    np.zeros(np.shape(y), jnp.result_type(y))
                    if _inexact(y)
                    else np.zeros(np.shape(y), jax.dtypes.float0)
                    for y in leaves
                ]
                basis[k][index] = unit
                d = directional_derivative(f, args, jax.tree.unflatten(tree, basis), method)
                # JAX pairs cotangents with tangents by P(u, v) = Re Σ u·v (no conjugate), so
                # P(g, eₖ) = Re gₖ and P(g, i eₖ) = -Im gₖ
                g[index] += pairing(ct, d) * (1.0 if unit == 1.0 else -1j)
        grads.append(g)
    return jax.tree.unflatten(tree, grads)


def _inexact(x):
    return jnp.issubdtype(jnp.result_type(x), jnp.inexact)


def _derivatives(transforms, f, args, out, t, ct):
    import adkit

    method = "transpose" if transforms == "adkit-transpose" else "tape"
    jvp = jax.jvp if transforms == "jax" else adkit.jvp
    if transforms == "jax":
        vjp, grad = jax.vjp, jax.grad
    else:
        vjp = lambda f, *a: adkit.vjp(f, *a, method=method)
        grad = lambda f, argnums: adkit.grad(f, argnums, method=method)
    results: dict[str, Any] = {}
    argnums = tuple(range(len(args)))
    jobs = {"jvp": lambda: jvp(f, args, t)[1], "vjp": lambda: vjp(f, *args)[1](ct)}
    if _is_real_scalar(out):
        jobs["grad"] = lambda: grad(lambda *a: jax.tree.leaves(f(*a))[0], argnums)(*args)
    for quantity, job in jobs.items():
        try:
            results[quantity] = dict(_leaves_with_paths(job()))
        except Exception as err:  # reported in the table, not raised
            results[quantity] = f"{type(err).__name__}: {err}"
    return results


def _compare(result, quantity, leaf, ref, atol, rtol):
    value = result.get(quantity)
    if isinstance(value, str):
        return Cell(ok=False, error=value)
    a, e = np.asarray(value[leaf]), np.asarray(ref)
    if a.dtype == jax.dtypes.float0:
        return Cell(0.0, 0.0)
    abs_error = float(np.max(np.abs(a - e), initial=0.0))
    scale = float(np.max(np.abs(e), initial=0.0))
    rel_error = abs_error / scale if scale else abs_error
    return Cell(abs_error, rel_error, abs_error <= atol + rtol * scale)


def _culprits(f, args, report, method):
    """For each adkit path with a failure, the first primitive failing the same check alone."""
    culprits = {}
    for path in ("adkit (tape)", "adkit (transpose)"):
        modes = {q for q, _, p in report.failures if p == path}
        if not modes:
            continue
        ctx = _Context(
            transforms=_TRANSFORMS[path],
            method="central",
            eps=DEFAULT_STEP["central"],
            atol=1e-5,
            rtol=1e-5,
            rng=np.random.default_rng(0),
            name="",
            localizing=True,
            top_f=f,
            top_args=args,
        )
        mode = "fwd" if modes == {"jvp"} else "rev"
        with jax.enable_x64(True):
            culprit = first_failing_primitive(ctx, mode, 1)
        if culprit:
            culprits[path] = culprit
    return culprits
