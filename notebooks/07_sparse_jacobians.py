# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Sparse Jacobians
#
# `jax.jacfwd` builds an `m x n` Jacobian from n Jacobian-vector products (JVPs), one per
# column. When most of the Jacobian is zero, most of that work multiplies zeros. This notebook
# computes the same Jacobians with a handful of JVPs, in the four stages of `adkit.sparse`:
#
# 1. **detection**: which entries may be nonzero, for every input (the *pattern*);
# 2. **coloring**: which columns can share one JVP;
# 3. **compressed evaluation**: one JVP per color;
# 4. **decompression**: every entry read back from the compressed products.
#
# Every result is checked against JAX's dense Jacobians, in float64.

# %%
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from adkit import sparse
from adkit.bench.suites import sparse_problems

jax.config.update("jax_enable_x64", True)

# %% [markdown]
# ## Why: a Jacobian that is mostly zeros
#
# The 1D Bratu problem discretises u'' + eᵘ = 0 on a grid: each residual reads a point and its
# two neighbours, so its Jacobian is tridiagonal.

# %%
f, x = sparse_problems.bratu(9)
J = np.asarray(jax.jacfwd(f)(x))
print((J != 0).astype(int))
print(f"{np.count_nonzero(J)} nonzeros out of {J.size}; jax.jacfwd used {x.size} JVPs")

# %% [markdown]
# `jax.jacfwd` pushes the basis vectors e₀, e₁, ..., e₈ through the function, one JVP each. But
# columns 0, 3 and 6 never have a nonzero in the same row. Push their *sum* through the
# function once, and each row of the result holds the single entry it has among those three
# columns: three columns for the price of one JVP.

# %%
seed = np.zeros(x.size)
seed[[0, 3, 6]] = 1.0
_, compressed = jax.jvp(f, (x,), (jnp.asarray(seed),))
columns = J[:, [0, 3, 6]]
assert ((columns != 0).sum(axis=1) <= 1).all()  # at most one of the three per row
assert np.array_equal(compressed, columns.sum(axis=1))  # so the sum loses nothing
print(np.round(compressed, 1))

# %% [markdown]
# The seeds e₀+e₃+e₆, e₁+e₄+e₇ and e₂+e₅+e₈ give the whole tridiagonal Jacobian in 3 JVPs,
# whatever its size. To do this for any function, `adkit.sparse` must find where the nonzeros
# may be, then group the columns.
#
# ## Detection: the pattern from the program
#
# Our running example is the 2D Brusselator, a reaction-diffusion system of two species u and
# v on a periodic 16 x 16 grid: 512 unknowns. Each residual couples a point with its four
# neighbours (diffusion) and with the other species at the same point (reaction).

# %%
f, x = sparse_problems.brusselator(16)
pattern = sparse.jacobian_sparsity(f, x)
print(pattern)
plt.figure(figsize=(4, 4))
plt.spy(pattern.todense(), markersize=0.4)
plt.title("Brusselator Jacobian pattern, 512 x 512")

# %% [markdown]
# The pattern is *global*: it is read from the program, not from the values at `x`, so it holds
# at every input (only `x`'s shape and dtype were used). It is also exact here: the nonzeros of
# JAX's dense Jacobian are exactly the detected entries.

# %%
J_dense = np.asarray(jax.jit(jax.jacfwd(f))(x))
assert np.array_equal(pattern.todense(), J_dense != 0)
print(f"{pattern.nnz} nonzeros, {pattern.row_counts().max()} at most in a row")

# %% [markdown]
# ### How detection works: index sets
#
# Each element of each intermediate array carries the set of input indices it may depend on.
# The inputs start with their own index ({0}, {1}, ...), and every primitive of the jaxpr has a
# rule that builds its output's sets from its operands': a slice moves sets around, an
# element-wise operation takes the union of its operands' sets at each position, a sum takes
# the union over what it sums. The output's sets are the rows of the pattern.
#
# The sets of `x[1:] * x[:-1]` flow through its three primitives like this (and, one step
# further, through a cumulative sum, whose element k unions the sets of elements 0..k):

# %%
x5 = jnp.arange(1.0, 6.0)
print(jax.make_jaxpr(lambda x: x[1:] * x[:-1])(x5).pretty_print(use_color=False))


def index_sets(fun, x):
    """The set of input indices each output element may depend on: the pattern's rows."""
    p = sparse.jacobian_sparsity(fun, x)
    return [set(p.cols[p.rows == i].tolist()) for i in range(p.shape[0])]


steps = {
    "a = x": lambda x: x,
    "b = x[1:]": lambda x: x[1:],
    "c = x[:-1]": lambda x: x[:-1],
    "d = b * c": lambda x: x[1:] * x[:-1],
    "cumsum(d)": lambda x: jnp.cumsum(x[1:] * x[:-1]),
}
for name, fun in steps.items():
    print(f"{name:10s}", index_sets(fun, x5))
assert index_sets(steps["d = b * c"], x5) == [{0, 1}, {1, 2}, {2, 3}, {3, 4}]

# %% [markdown]
# Each set is one row of a sparse boolean matrix, and each rule is a whole-array operation on
# those matrices (a row gather for a slice, a sum of matrices for a union), so detection costs
# about as much as the pattern is large, never a loop over elements.
#
# ## Coloring: which columns can share a JVP
#
# Two columns can share a seed when they have no row in common: then every row of the
# compressed product holds at most one of their entries. Give each column a color so that
# columns sharing a row get different colors; one JVP per color then suffices. Finding the
# fewest colors is graph coloring, NP-hard in general, so `color` colors greedily, visiting
# the columns in some order. A row with k entries needs k different colors, so the largest
# row count is a lower bound.

# %%
coloring = sparse.color(pattern, "column")
print(coloring)
assert coloring.num_colors >= pattern.row_counts().max()
print(f"{coloring.num_colors} JVPs instead of {pattern.shape[1]}")

# %% [markdown]
# Left: the top-left corner of the pattern, each nonzero colored by its column's color; no row
# holds a color twice. Right: the colors of the u columns on the 16 x 16 grid.

# %%
colors = coloring.col_colors
corner = (pattern.rows < 64) & (pattern.cols < 64)
figure, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
left.scatter(
    pattern.cols[corner], pattern.rows[corner], c=colors[pattern.cols[corner]], cmap="tab10",
    vmin=0, vmax=9, s=8, marker="s",
)  # fmt: skip
left.invert_yaxis()
left.set_title("entries colored by column color")
right.imshow(colors.reshape(16, 16, 2)[..., 0], cmap="tab10", vmin=0, vmax=9)
right.set_title("color of each u column on the grid")
figure.tight_layout()
for row in range(pattern.shape[0]):
    in_row = colors[pattern.cols[pattern.rows == row]]
    assert len(set(in_row.tolist())) == in_row.size  # no color twice in a row

# %% [markdown]
# ### Orders
#
# Greedy coloring gives each column the smallest color its already-colored neighbours leave
# free, so the count depends on the visiting order. `color` offers `"largest_first"`,
# `"smallest_last"`, `"incidence_degree"`, `"dsatur"`, `"natural"` and `"random"`, and
# `"best"` (the default), which tries several, refines the winner, and stops early if one
# reaches the lower bound. Here on the Brusselator and on a 32 x 32 5-point Laplacian (1024
# unknowns):

# %%
orders = ["largest_first", "smallest_last", "incidence_degree", "dsatur", "natural", "random"]
f_lap, x_lap = sparse_problems.laplacian(32)
problems = {"brusselator 16": pattern, "laplacian 32": sparse.jacobian_sparsity(f_lap, x_lap)}
print(f"{'order':18s}" + "".join(f"{name:>16s}" for name in problems))
counts = {}
for order in [*orders, "best"]:
    counts[order] = [sparse.color(p, "column", order).num_colors for p in problems.values()]
    print(f"{order:18s}" + "".join(f"{c:16d}" for c in counts[order]))
for order in orders:
    assert all(b <= c for b, c in zip(counts["best"], counts[order], strict=True))
bound = [p.row_counts().max() for p in problems.values()]  # 6 and 5
assert counts["smallest_last"][1] == bound[1] < counts["largest_first"][1]
assert counts["largest_first"][0] < counts["smallest_last"][0]

# %% [markdown]
# No single order wins everywhere: on the Laplacian, smallest-last reaches 5, the lower bound,
# and largest-first does not; on the Brusselator it is the other way round. `"best"` is never
# worse than any of them.
#
# ## Compressed evaluation and decompression
#
# `sparse.prepare` runs detection and coloring once and keeps what evaluation needs. Its seed
# matrix has one row per color, 1 at the columns of that color:

# %%
prepared = sparse.prepare(f, x, mode="forward")
seeds = np.asarray(prepared.col_seeds)
print("seeds:", seeds.shape)
assert np.array_equal(seeds.sum(axis=0), np.ones(x.size))  # each column in exactly one seed

# %% [markdown]
# `Prepared.products` maps `f`'s JVP over the seeds with `vmap` (the primal part runs once):
# row c of `B` is J @ seeds[c], the compressed Jacobian (`C` would hold reverse products; there
# are none in forward mode). A `Prepared` is a pytree, so it can be passed to a jitted function
# like any array; we do that from here on, which compiles each evaluation into one program.

# %%
products = jax.jit(lambda p, x: p.products(x))
evaluate = jax.jit(lambda p, x: p(x))
value, B, C = products(prepared, x)
print("B:", B.shape, " C:", C.shape)
assert np.allclose(value, f(x), rtol=1e-14)  # f(x) comes along
assert np.array_equal(B, seeds @ J_dense.T)

# %% [markdown]
# Decompression reads entry (i, j) of the Jacobian from B[color of j, i], since row i has no other
# entry of that color: `Prepared.values` gathers the entries in the pattern's row-major order.
# A `BCOO` (the default output of `Prepared.__call__`) does not even need that gather: each
# element of B holds at most one entry, so B itself, raveled, is the sparse matrix's data, and a
# precomputed index array says which entry each element holds (an out-of-range row for the few
# elements that hold none). Either way it is the dense Jacobian, to the last bit.

# %%
rows, cols = pattern.rows, pattern.cols
by_hand = np.asarray(B)[colors[cols], rows]  # the entries, in the pattern's row-major order
assert np.array_equal(jax.jit(lambda p, x: p.values(x))(prepared, x), by_hand)
J_sparse = evaluate(prepared, x)
print(type(J_sparse).__name__, J_sparse.shape, J_sparse.nse, "stored entries")
assert np.array_equal(J_sparse.data, np.asarray(B).ravel())  # B in place: no gather
assert np.array_equal(J_sparse.todense(), J_dense)

# %% [markdown]
# ## Hessians: star coloring
#
# A Hessian is symmetric, and symmetry is information: H[i, j] = H[j, i], so an off-diagonal
# entry may be read from column j's product or from column i's. A *star* coloring uses this.
# It colors the variables, one Hessian-vector product per color, so that adjacent variables
# differ and every path on four variables uses at least three colors; then each entry can be
# read directly from one of its two sides. Column coloring must read every entry from its own
# column: with a nonzero diagonal, any column coloring of a symmetric pattern is also a star
# coloring, so the fewest star colors never exceed the fewest column colors.
#
# The gradient energy Σ (uᵢ - uⱼ)² over the edges of a 16 x 16 grid (plus Σ u⁴/4) has the
# 5-point Hessian pattern; its star coloring needs 5 Hessian-vector products.

# %%
f_energy, x_energy = sparse_problems.gradient_energy(16)
hessian_pattern = sparse.hessian_sparsity(f_energy, x_energy)
H_dense = np.asarray(jax.jit(jax.hessian(f_energy))(x_energy))
assert np.array_equal(hessian_pattern.todense(), H_dense != 0)
prepared_hessian = sparse.prepare(f_energy, x_energy, mode="hessian")
print(prepared_hessian.kind, prepared_hessian.num_colors, "colors for", x_energy.size, "unknowns")
assert (prepared_hessian.kind, prepared_hessian.num_colors) == ("star", 5)
assert np.array_equal(evaluate(prepared_hessian, x_energy).todense(), H_dense)

# %% [markdown]
# On this grid a row has 5 entries, so column coloring needs 5 as well. Symmetry pays where
# rows are uneven. The function x₀ Σ xᵢ² couples x₀ with every variable: its Hessian has a
# dense row and a dense column, so every column shares a row with every other, and column
# coloring needs n colors; a star coloring needs 2 (x₀ alone, everything else together).

# %%
arrow_energy = lambda x: x[0] * jnp.sum(x**2)
x_arrow = jnp.arange(1.0, 21.0)
arrow_pattern = sparse.hessian_sparsity(arrow_energy, x_arrow)
for kind in ("column", "star", "acyclic"):
    print(f"{kind:8s}", sparse.color(arrow_pattern, kind).num_colors, "colors")
for name, p in [("grid", hessian_pattern), ("arrowhead", arrow_pattern)]:
    assert sparse.color(p, "star").num_colors <= sparse.color(p, "column").num_colors, name
star = sparse.color(arrow_pattern, "star").colors
assert star.max() == 1 and (star[1:] != star[0]).all() and (star[1:] == star[1]).all()
H_arrow = jax.jit(sparse.hessian(arrow_energy, output="dense"))(x_arrow)
assert np.array_equal(H_arrow, jax.jit(jax.hessian(arrow_energy))(x_arrow))

# %% [markdown]
# An *acyclic* coloring (`kind="acyclic"`) asks only that every cycle use three colors, so it
# often needs fewer colors still, at the price of recovering entries by substitution (signed
# sums along two-colored trees) instead of a single read; the last bits may then differ. Here
# the pattern detected above is passed in, so `prepare` skips detection.

# %%
acyclic = sparse.prepare(
    f_energy, x_energy, mode="hessian", kind="acyclic", pattern=hessian_pattern
)
print(acyclic.num_colors, "acyclic colors; every entry a single read:", acyclic.direct)
assert acyclic.num_colors == 4 and not acyclic.direct
H_acyclic = evaluate(acyclic, x_energy).todense()
assert np.allclose(H_acyclic, H_dense, rtol=1e-12, atol=1e-12)

# %% [markdown]

# ## A dense row and a dense column: bidirectional coloring
#
# A Jacobian that is not symmetric may still have a dense row and a dense column. The function
# below adds the sum of all inputs to its first output and scales every output by x₀: row 0
# and column 0 are dense. Column coloring then needs n colors (every column meets row 0), and
# row coloring (vector-Jacobian products, one per group of rows that share no column) needs n
# too (every row meets column 0). A *bidirectional* coloring reads row 0 from one VJP and the
# other entries from two JVPs (column 0 alone, all other columns together): 3 in all.

# %%
arrow = lambda x: x.at[0].add(jnp.sum(x)) + x[0] * x
x_arrow = jnp.arange(1.0, 31.0)
arrow_pattern = sparse.jacobian_sparsity(arrow, x_arrow)
for kind in ("column", "row", "bidirectional"):
    print(f"{kind:14s}", sparse.color(arrow_pattern, kind))
assert sparse.color(arrow_pattern, "column").num_colors == x_arrow.size
assert sparse.color(arrow_pattern, "row").num_colors == x_arrow.size
both = sparse.color(arrow_pattern, "bidirectional")
assert (both.num_col_colors, both.num_row_colors) == (2, 1)
assert both.row_colors[0] == 0 and (both.row_colors[1:] == -1).all()  # only row 0 by VJP

# %% [markdown]
# `sparse.jacobian` tries column, row and bidirectional colorings and keeps the fewest
# products, so it picks the split by itself. Like `jax.jacfwd`, it returns a function; that
# function prepares on its first call (inside `jit` too: detection needs only shapes).

# %%
jacobian = sparse.jacobian(arrow)
J_arrow = jax.jit(jacobian)(x_arrow)
chosen = jacobian.prepared(x_arrow)
print(chosen.mode, chosen.num_colors, "products")
assert (chosen.mode, chosen.num_colors) == ("bidirectional", 3)
assert np.array_equal(J_arrow.todense(), jax.jit(jax.jacfwd(arrow))(x_arrow))

# %% [markdown]
# ## Cost against n
#
# A dense Jacobian of the 2D Laplacian costs n JVPs and n² numbers; the sparse one costs 5
# JVPs (whatever n) and 5n numbers. Both are jitted and timed after a warm-up; the sparse one
# is `evaluate` from above, with the `Prepared` passed in. Detection and coloring (`prepare`)
# run once per shape and are timed separately. The timings depend on the machine; nothing is
# asserted about them.


# %%
def best_time(fun, *args, repeats=5):
    jax.block_until_ready(fun(*args))  # warm-up: compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fun(*args))
        times.append(time.perf_counter() - start)
    return min(times)


sizes, dense_times, sparse_times = [], [], []
print(f"{'n':>6s} {'colors':>7s} {'prepare':>9s} {'dense jacfwd':>13s} {'sparse':>10s}")
for side in (8, 16, 32, 48, 64):
    f_lap, x_lap = sparse_problems.laplacian(side)
    start = time.perf_counter()
    prepared_lap = sparse.prepare(f_lap, x_lap, mode="forward")
    prepare_time = time.perf_counter() - start
    assert prepared_lap.num_colors == 5  # whatever the size
    sizes.append(x_lap.size)
    dense_times.append(best_time(jax.jit(jax.jacfwd(f_lap)), x_lap))
    sparse_times.append(best_time(evaluate, prepared_lap, x_lap))
    print(
        f"{x_lap.size:6d} {prepared_lap.num_colors:7d} {prepare_time * 1e3:7.0f}ms "
        f"{dense_times[-1] * 1e3:11.2f}ms {sparse_times[-1] * 1e3:8.3f}ms"
    )
plt.figure(figsize=(5, 3.5))
plt.loglog(sizes, dense_times, "o-", label="dense jax.jacfwd")
plt.loglog(sizes, sparse_times, "s-", label="sparse (5 colors)")
plt.xlabel("n")
plt.ylabel("seconds per Jacobian")
plt.legend()

# %% [markdown]
# The dense Jacobian's work grows like n² (n JVPs of cost n each, n² numbers written), the
# sparse one's like n (5 JVPs, 5n numbers); at the smallest sizes both are mostly fixed
# overhead.
#
# ## Further
#
# - The docs page "Sparse Jacobians" (`docs/sparse.md`) covers the rest: what detection handles
#   exactly (control flow, indexing, custom derivatives), the coloring kinds, evaluation
#   options (`chunk_size`, `method`, `devices`), the output formats and `Prepared.verify`.
# - `adkit bench --only sparse` measures sparse Jacobians against dense ones on larger problems.
