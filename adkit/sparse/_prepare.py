"""`prepare`: detect and color once, then evaluate sparse Jacobians or Hessians many times.

A `Prepared` is a pytree (an `equinox.Module`): its index arrays (the pattern, the seeds, the
recovery) are leaves, so it can be passed into `jit`, closed over, or used inside `vmap`; its
function and settings are static. Calling it on arguments of the prepared shapes evaluates the
compressed products and decompresses them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ._coloring import Coloring, color
from ._decompress import assemble, assemble_in_place, check_output, entry_values
from ._detect import _argnums_tuple, hessian_sparsity, jacobian_sparsity
from ._evaluate import METHODS, forward_products, hessian_products, reverse_products
from ._pattern import Pattern
from ._recovery import recovery

MODES = ("auto", "forward", "reverse", "bidirectional", "hessian")
_KIND = {"forward": "column", "reverse": "row", "bidirectional": "bidirectional"}


class Prepared(eqx.Module):
    """A function's sparse Jacobian (or Hessian), detected and colored, ready to evaluate.

    Call it with arguments like those it was prepared with; it returns the Jacobian of the
    flattened outputs with respect to the flattened differentiated arguments, an `m x n`
    matrix in the `output` format.

    Attributes:
        mode: `"forward"` (JVPs per column color), `"reverse"` (VJPs per row color),
            `"bidirectional"` (both) or `"hessian"` (Hessian-vector products per color).
        shape: `(m, n)`.
        num_colors: the number of compressed products one evaluation computes.
        kind: the coloring's kind.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit import sparse
        >>> jac = sparse.prepare(lambda x: x[1:] * x[:-1], jnp.ones(5), output="dense")
        >>> jac.mode, jac.kind, jac.shape, jac.num_colors, jac.nnz
        ('forward', 'column', (4, 5), 2, 8)
        >>> jac.coloring.colors.tolist()  # columns 0, 2, 4 share one JVP; 1 and 3 the other
        [1, 0, 1, 0, 1]
        >>> jac(jnp.arange(5.0))
        Array([[1., 0., 0., 0., 0.],
               [0., 2., 1., 0., 0.],
               [0., 0., 3., 2., 0.],
               [0., 0., 0., 4., 3.]], dtype=float32)
    """

    fun: Callable[..., Any] = eqx.field(static=True)
    argnums: tuple[int, ...] = eqx.field(static=True)
    mode: str = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    shape: tuple[int, int] = eqx.field(static=True)
    num_colors: int = eqx.field(static=True)
    direct: bool = eqx.field(static=True)
    in_place: bool = eqx.field(static=True)
    output: str = eqx.field(static=True)
    chunk_size: int | None = eqx.field(static=True)
    method: str = eqx.field(static=True)
    num_devices: int = eqx.field(static=True)
    rows: jax.Array
    cols: jax.Array
    indptr: jax.Array
    col_colors: jax.Array
    row_colors: jax.Array
    col_seeds: jax.Array
    row_seeds: jax.Array
    index: jax.Array
    entry: jax.Array
    weight: jax.Array
    flat_indices: jax.Array

    @property
    def nnz(self) -> int:
        return int(self.rows.shape[0])

    @property
    def pattern(self) -> Pattern:
        """The detected pattern (outside transformations)."""
        return Pattern(self.shape, np.asarray(self.rows), np.asarray(self.cols))

    @property
    def coloring(self) -> Coloring:
        """The coloring (outside transformations)."""
        m, n = self.shape
        return Coloring(self.kind, (m, n), np.asarray(self.col_colors), np.asarray(self.row_colors))

    def _flat(self, args):
        """`(x, g)`: the differentiated arguments flattened, and the function of them."""
        diff = tuple(args[i] for i in self.argnums)
        x, unravel = ravel_pytree(diff)

        def g(v):
            new = list(args)
            for i, leaf in zip(self.argnums, unravel(v), strict=True):
                new[i] = leaf
            out = self.fun(*new)
            return ravel_pytree(out)[0] if self.mode != "hessian" else out

        return x, g

    def products(self, *args):
        """`(value, B, C)`: g(x) (the gradient for a Hessian) and the compressed products."""
        x, g = self._flat(args)
        options = {"chunk_size": self.chunk_size, "method": self.method}
        p, q = self.col_seeds.shape[0], self.row_seeds.shape[0]
        m, n = self.shape
        col_seeds, row_seeds = self._spread(self.col_seeds), self._spread(self.row_seeds)
        value, b, c = None, jnp.zeros((0, m), x.dtype), jnp.zeros((0, n), x.dtype)
        if self.mode == "hessian":
            value, b = hessian_products(g, x, col_seeds, **options)
        if self.mode in ("forward", "bidirectional"):
            value, b = forward_products(g, x, col_seeds, **options)
        if self.mode in ("reverse", "bidirectional"):
            value, c = reverse_products(g, x, row_seeds, **options)
        return value, b[:p], c[:q]

    def _spread(self, seeds):
        """The seeds split over the devices along the color axis (padded with zero seeds)."""
        if self.num_devices <= 1:
            return seeds
        pad = -seeds.shape[0] % self.num_devices
        seeds = jnp.concatenate([seeds, jnp.zeros((pad, seeds.shape[1]), seeds.dtype)])
        mesh = jax.sharding.Mesh(np.array(jax.devices()[: self.num_devices]), ("colors",))
        spec = jax.sharding.PartitionSpec("colors", None)
        return jax.lax.with_sharding_constraint(seeds, jax.sharding.NamedSharding(mesh, spec))

    def values(self, *args):
        """The Jacobian's values at the pattern's entries, in pattern order."""
        return self.values_of(*self.products(*args)[1:])

    def values_of(self, b, c):
        """The values at the pattern's entries, from the compressed products `B` and `C`."""
        flat = jnp.concatenate([b.ravel(), c.ravel()])
        return entry_values(flat, self.index, self.entry, self.weight, self.nnz, self.direct)

    def flat(self, *args):
        """The compressed products, flat: `concat(B.ravel(), C.ravel())`."""
        return self.flat_of(*self.products(*args)[1:])

    @staticmethod
    def flat_of(b, c):
        """`concat(B.ravel(), C.ravel())` (`B` alone, reshaped, when there is no `C`)."""
        return jnp.concatenate([b.ravel(), c.ravel()]) if c.size else b.ravel()

    def __call__(self, *args):
        return self.assemble(self.flat(*args) if self.in_place else self.values(*args))

    def assemble(self, data):
        """The matrix in the `output` format, from `flat(*args)` when `in_place` (the products
        themselves are the data: each element holds at most one entry, padding where it holds
        none), else from `values(*args)` (pattern order)."""
        if self.in_place and self.output in ("bcoo", "dense"):
            return assemble_in_place(data, self.flat_indices, self.shape, self.output)
        if self.in_place:  # bcsr and scipy want pattern order: one gather
            data = data[self.index]
        return assemble(data, self.rows, self.cols, self.indptr, self.shape, self.output)

    def verify(self, key, *args, probes: int = 3, rtol: float | None = None) -> float:
        """Checks the sparse Jacobian against random JVP and VJP probes at `args`.

        For random v and u, compares `J v` with `jax.jvp` (forward and bidirectional modes) and
        `u J` with `jax.vjp` (reverse and bidirectional; a function may support only the mode
        it was prepared for), or, for a Hessian, `H v` with the JVP of `jax.grad`. A pattern
        that missed an entry fails.

        Returns:
            The largest relative error over the probes.

        Raises:
            ValueError: an error above `rtol` (default: 1e-10 in float64, 1e-4 in float32).
        """
        x, g = self._flat(args)
        values = self.values(*args)
        m, n = self.shape
        rtol = rtol if rtol is not None else (1e-10 if x.dtype == jnp.float64 else 1e-4)
        worst = 0.0
        for k in jax.random.split(key, probes):
            kv, ku = jax.random.split(k)
            v = jax.random.normal(kv, (n,), x.dtype)
            sparse_jv = jax.ops.segment_sum(values * v[self.cols], self.rows, num_segments=m)
            exact_jv = (
                jax.jvp(jax.grad(g), (x,), (v,))[1]
                if self.mode == "hessian"
                else jax.jvp(g, (x,), (v,))[1]
                if self.mode != "reverse"
                else None
            )
            if self.mode != "reverse":  # JVP probes (reverse mode may be all the function has)
                worst = max(worst, _relative(sparse_jv, exact_jv))
            if self.mode in ("reverse", "bidirectional"):
                u = jax.random.normal(ku, (m,), x.dtype)
                sparse_uj = jax.ops.segment_sum(values * u[self.rows], self.cols, num_segments=n)
                exact_uj = jax.vjp(g, x)[1](u)[0]
                worst = max(worst, _relative(sparse_uj, exact_uj))
        if worst > rtol:
            raise ValueError(
                f"The sparse {'Hessian' if self.mode == 'hessian' else 'Jacobian'} differs from "
                f"random JVP/VJP probes by {worst:.3g} (relative), above {rtol:.3g}: its "
                "pattern misses entries. Check custom rules and `unknown=` primitives, and "
                "report the function if it uses only JAX primitives."
            )
        return worst


def _relative(a, b) -> float:
    scale = float(jnp.maximum(jnp.linalg.norm(b), jnp.finfo(b.dtype).tiny))
    return float(jnp.linalg.norm(a - b)) / scale


def _structs(args):
    """Arguments as shapes and dtypes only (detection needs nothing more)."""
    to_struct = lambda a: (
        jax.ShapeDtypeStruct(np.shape(a), jnp.result_type(a))
        if hasattr(a, "shape") or isinstance(a, float | complex)
        else a
    )
    return jax.tree_util.tree_map(to_struct, args)


def _choose(pattern: Pattern, mode: str, order: str, kind: str | None) -> Coloring:
    """The coloring for a mode; "auto" keeps the fewest products of forward, reverse and both."""
    if mode == "hessian":
        return color(pattern, kind or "star", order)
    if mode != "auto":
        return color(pattern, _KIND[mode], order)
    candidates = [color(pattern, k, order) for k in ("column", "row", "bidirectional")]
    return min(candidates, key=lambda c: c.num_colors)  # ties: forward first


def prepare(
    f: Callable[..., Any],
    *args: Any,
    argnums: int | Sequence[int] = 0,
    mode: str = "auto",
    kind: str | None = None,
    order: str = "best",
    output: str = "bcoo",
    chunk_size: int | None = None,
    method: str = "jax",
    devices: int | None = None,
    unknown: str = "error",
    pattern: Pattern | None = None,
) -> Prepared:
    """Detects `f`'s Jacobian (or Hessian) pattern and colors it, once.

    Args:
        f: the function; pytrees in and out. For `mode="hessian"`, scalar-valued.
        *args: example arguments (only shapes and dtypes are used).
        argnums: the differentiated positional arguments, as in `jax.jacfwd`.
        mode: `"forward"`, `"reverse"`, `"bidirectional"`, `"auto"` (the fewest products of
            the three) or `"hessian"`.
        kind: for a Hessian, the coloring: `"star"` (default), `"acyclic"` or `"column"`.
        order: the coloring order (see `adkit.sparse.color`).
        output: `"bcoo"` (default), `"bcsr"`, `"dense"` or `"scipy"`.
        chunk_size: at most this many compressed products at once (default: all).
        method: `"jax"` or `"adkit"`: whose transforms compute the products.
        devices: spread the colors over the first `devices` devices.
        unknown: `"error"` or `"dense"`, for primitives without a sparsity rule.
        pattern: a known pattern, to skip detection.

    Returns:
        A `Prepared`, callable like `f`'s Jacobian.

    Examples:
        >>> import jax.numpy as jnp
        >>> f = lambda x: x[1:] * x[:-1]
        >>> jac = prepare(f, jnp.ones(5))
        >>> jac.num_colors, jac(jnp.arange(5.0)).todense()[0].tolist()
        (2, [1.0, 0.0, 0.0, 0.0, 0.0])
    """
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}, but received {mode!r}.")
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, but received {method!r}.")
    check_output(output)
    if devices is not None and not 1 <= devices <= jax.device_count():
        raise ValueError(
            f"`devices={devices}` asks for more devices than the {jax.device_count()} present."
        )
    nums = _argnums_tuple(argnums, len(args))
    structs = _structs(args)
    if pattern is None:
        detect = hessian_sparsity if mode == "hessian" else jacobian_sparsity
        pattern = detect(f, *structs, argnums=nums, unknown=unknown)
    coloring = _choose(pattern, mode, order, kind)
    rec = recovery(pattern, coloring)
    chosen = mode if mode != "auto" else {v: k for k, v in _KIND.items()}[coloring.kind]
    counts = np.bincount(pattern.rows, minlength=pattern.shape[0])
    as_int = lambda a: _to_device(a, np.int32)
    flat_rows, flat_cols, in_place = _in_place_indices(pattern, rec)
    return Prepared(
        fun=f,
        argnums=nums,
        mode=chosen,
        kind=coloring.kind,
        shape=pattern.shape,
        num_colors=coloring.num_colors,
        direct=rec.direct,
        in_place=in_place,
        output=output,
        chunk_size=chunk_size,
        method=method,
        num_devices=devices or 1,
        rows=as_int(pattern.rows),
        cols=as_int(pattern.cols),
        indptr=as_int(np.concatenate([[0], np.cumsum(counts)])),
        col_colors=as_int(coloring.col_colors),
        row_colors=as_int(coloring.row_colors),
        col_seeds=_to_device(coloring.col_seeds(), np.float32),
        row_seeds=_to_device(coloring.row_seeds(), np.float32),
        index=as_int(rec.index),
        entry=as_int(rec.entry),
        weight=_to_device(rec.weight, jax.dtypes.canonicalize_dtype(np.float64)),
        flat_indices=as_int(np.stack([flat_rows, flat_cols], axis=-1)),
    )


def _to_device(a, dtype) -> jax.Array:
    """A NumPy array on the default device as `dtype`, converted on the host: `jnp.asarray`
    compiles a program for every new shape (about 17 ms each), a transfer does not."""
    return jax.device_put(np.asarray(a, dtype=dtype))


def _in_place_indices(pattern: Pattern, rec) -> tuple[np.ndarray, np.ndarray, bool]:
    """For each element of the flat compressed products, the entry it holds (row m: none).

    Possible when the recovery reads each entry from one element and no element twice (column,
    row and bidirectional colorings; a star coloring may read one element for H[i, j] and
    H[j, i]): then decompression moves nothing.
    """
    m, _ = pattern.shape
    rows = np.full(rec.size, m, dtype=np.int64)
    cols = np.zeros(rec.size, dtype=np.int64)
    if not rec.direct or np.bincount(rec.index, minlength=rec.size).max(initial=0) > 1:
        return rows[:0], cols[:0], False
    rows[rec.index], cols[rec.index] = pattern.rows, pattern.cols
    return rows, cols, True
