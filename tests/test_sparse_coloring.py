"""Colorings of sparse Jacobian and Hessian patterns: validity, exact recovery, color counts, speed.

The patterns are built here with NumPy and scipy (no tracing), the compressed products by dense
matrix products with the seeds, and the validity rules are also checked against brute force.
"""

import itertools

import numpy as np
import pytest

from adkit.sparse._bidirectional import split_sizes
from adkit.sparse._coloring import KINDS, Coloring, color
from adkit.sparse._graph import Graph, adjacency_graph, column_graph, square_graph
from adkit.sparse._greedy import greedy, iterated_greedy, num_colors
from adkit.sparse._orders import ORDERS, vertex_order
from adkit.sparse._pattern import Pattern
from adkit.sparse._recovery import Recovery, decompress_numpy, recovery
from adkit.sparse._star import star_greedy
from adkit.sparse._validity import check_coloring

ALL_ORDERS = ("best", *ORDERS)
SYMMETRIC = ("star", "acyclic")
OFFSETS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))

# --- patterns ------------------------------------------------------------------------------------


def stencil(num: int, periodic: bool) -> tuple[np.ndarray, np.ndarray]:
    """The entries of the 5-point stencil on a num x num grid (point index i * num + j)."""
    i, j = np.meshgrid(np.arange(num), np.arange(num), indexing="ij")
    rows, cols = [], []
    for di, dj in OFFSETS:
        ii, jj = i + di, j + dj
        if periodic:
            ii, jj, inside = ii % num, jj % num, np.ones_like(ii, dtype=bool)
        else:
            inside = (ii >= 0) & (ii < num) & (jj >= 0) & (jj < num)
        rows.append((i * num + j)[inside])
        cols.append((ii * num + jj)[inside])
    return np.concatenate(rows), np.concatenate(cols)


def laplacian(num: int) -> Pattern:
    """The 2D 5-point Laplacian with Dirichlet boundaries; also the Hessian pattern of the
    gradient energy sum over grid edges of (u_i - u_j)^2."""
    rows, cols = stencil(num, periodic=False)
    return Pattern((num * num, num * num), rows, cols)


def brusselator(num: int) -> Pattern:
    """The 2D Brusselator Jacobian on a periodic grid, state (num, num, 2) flattened C-order."""
    rows, cols = stencil(num, periodic=True)
    point = np.arange(num * num)
    u, v = 2 * point, 2 * point + 1
    all_rows = np.concatenate([2 * rows, 2 * rows + 1, u, v])  # u rows, v rows, couplings
    all_cols = np.concatenate([2 * cols, 2 * cols + 1, v, u])
    return Pattern((2 * num * num, 2 * num * num), all_rows, all_cols)


def tridiagonal(n: int) -> Pattern:
    i = np.arange(n)
    return Pattern((n, n), np.concatenate([i, i[1:], i[:-1]]), np.concatenate([i, i[:-1], i[1:]]))


def arrowhead(n: int) -> Pattern:
    mask = np.eye(n, dtype=bool)
    mask[0, :] = mask[:, 0] = True
    return Pattern.from_dense(mask)


def random_pattern(m: int, n: int, density: float, seed: int) -> Pattern:
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    if m > 2 and n > 2:  # a dense row, a dense column and an empty row
        mask[rng.integers(m), :] = True
        mask[:, rng.integers(n)] = True
        mask[rng.integers(m), :] = False
    return Pattern.from_dense(mask)


def random_symmetric(n: int, density: float, seed: int) -> Pattern:
    rng = np.random.default_rng(seed)
    mask = np.triu(rng.random((n, n)) < density, 1)
    mask = mask | mask.T
    mask[np.diag_indices(n)] = rng.random(n) < 0.7
    if n > 2:
        lone = rng.integers(n)
        mask[lone, :] = mask[:, lone] = False  # a vertex without any entry
    return Pattern.from_dense(mask)


def patterns_for(kind: str) -> list[Pattern]:
    if kind in SYMMETRIC:
        return [
            random_symmetric(n, d, s) for n, d, s in ((12, 0.3, 0), (30, 0.12, 1), (40, 0.08, 2))
        ]
    return [random_pattern(m, n, d, s) for m, n, d, s in ((9, 14, 0.3, 0), (31, 22, 0.12, 1),
                                                           (25, 40, 0.08, 2))]  # fmt: skip


# --- helpers -------------------------------------------------------------------------------------


def random_values(pattern: Pattern, symmetric: bool, seed: int = 0) -> np.ndarray:
    a = np.zeros(pattern.shape)
    a[pattern.rows, pattern.cols] = np.random.default_rng(seed).standard_normal(pattern.nnz)
    return np.triu(a) + np.triu(a, 1).T if symmetric else a


def compressed(coloring: Coloring, a: np.ndarray) -> np.ndarray:
    b = coloring.col_seeds() @ a.T  # B[c, i] = sum over the columns j colored c of a[i, j]
    c = coloring.row_seeds() @ a  # C[c, j] = sum over the rows i colored c of a[i, j]
    return np.concatenate([b.ravel(), c.ravel()])


def assert_recovers(pattern: Pattern, coloring: Coloring, seed: int = 0) -> Recovery:
    check_coloring(pattern, coloring)
    a = random_values(pattern, coloring.kind in SYMMETRIC, seed)
    rec = recovery(pattern, coloring)
    assert rec.nnz == pattern.nnz
    values = decompress_numpy(pattern, rec, compressed(coloring, a))
    expected = a[pattern.rows, pattern.cols]
    if rec.direct:
        np.testing.assert_array_equal(values, expected)
    else:
        np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    return rec


def neighbor_sets(pattern: Pattern) -> list[set[int]]:
    out = [set() for _ in range(pattern.shape[0])]
    for i, j in zip(pattern.rows.tolist(), pattern.cols.tolist(), strict=True):
        if i != j:
            out[i].add(j)
    return out


def brute_bicolored_p4(pattern: Pattern, colors: np.ndarray) -> bool:
    nbrs = neighbor_sets(pattern)
    for a in range(len(nbrs)):
        for b in nbrs[a]:
            for c in nbrs[b] - {a}:
                for d in nbrs[c] - {a, b}:
                    if len({colors[a], colors[b], colors[c], colors[d]}) <= 2:
                        return True
    return False


def brute_bicolored_cycle(pattern: Pattern, colors: np.ndarray) -> bool:
    nbrs = neighbor_sets(pattern)
    for pair in itertools.combinations(sorted(set(colors.tolist())), 2):
        parent = list(range(len(nbrs)))

        def find(v, parent=parent):
            while parent[v] != v:
                v = parent[v]
            return v

        for a in range(len(nbrs)):
            for b in nbrs[a]:
                if a < b and {colors[a], colors[b]} == set(pair):
                    ra, rb = find(a), find(b)
                    if ra == rb:
                        return True
                    parent[ra] = rb
    return False


def rejects(pattern: Pattern, coloring: Coloring) -> bool:
    try:
        check_coloring(pattern, coloring)
    except ValueError:
        return True
    return False


# --- every kind and order: valid and exact -------------------------------------------------------


@pytest.mark.parametrize("order", ALL_ORDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_coloring_is_valid_and_recovery_exact(kind, order):
    for index, pattern in enumerate(patterns_for(kind)):
        coloring = color(pattern, kind, order, seed=index)
        assert coloring.kind == kind
        rec = assert_recovers(pattern, coloring, seed=index)
        assert rec.direct or kind == "acyclic"
        if kind == "star":
            assert not brute_bicolored_p4(pattern, coloring.colors)
        if kind == "acyclic":
            assert not brute_bicolored_cycle(pattern, coloring.colors)


@pytest.mark.parametrize("kind", KINDS)
def test_best_is_never_worse_than_a_single_order(kind):
    pattern = patterns_for(kind)[1]
    best = color(pattern, kind, "best").num_colors
    singles = [color(pattern, kind, order).num_colors for order in ORDERS if order != "random"]
    assert best <= min(singles)


def test_bidirectional_best_is_never_worse_than_column_or_row():
    for pattern in patterns_for("column"):
        both = color(pattern, "bidirectional").num_colors
        assert both <= min(color(pattern, "column").num_colors, color(pattern, "row").num_colors)


def test_the_seeds_are_one_hot_and_equal_seeds_give_equal_colorings():
    pattern = random_pattern(20, 15, 0.2, 3)
    coloring = color(pattern, "bidirectional", seed=4)
    s, r = coloring.col_seeds(), coloring.row_seeds()
    assert s.shape == (coloring.num_col_colors, 15) and r.shape == (coloring.num_row_colors, 20)
    np.testing.assert_array_equal(s.sum(axis=0), coloring.col_colors >= 0)
    np.testing.assert_array_equal(r.sum(axis=0), coloring.row_colors >= 0)
    assert coloring.num_colors == coloring.num_col_colors + coloring.num_row_colors
    np.testing.assert_array_equal(coloring.colors, coloring.col_colors)
    for order in ("random", "best"):
        one, two = color(pattern, "column", order, seed=7), color(pattern, "column", order, seed=7)
        np.testing.assert_array_equal(one.colors, two.colors)
    assert "num_colors=" in repr(coloring)


# --- targets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("num", "most"), [(32, 10), (64, 11)])
def test_brusselator_column_colors(num, most):
    pattern = brusselator(num)
    assert pattern.row_counts().max() == 6  # so 6 is a lower bound
    coloring = color(pattern, "column")
    assert 6 <= coloring.num_colors <= most
    assert_recovers(pattern, coloring)


def test_laplacian_needs_five_column_colors():
    pattern = laplacian(32)
    coloring = color(pattern, "column")
    assert coloring.num_colors == 5
    assert_recovers(pattern, coloring)
    (i, j) = np.divmod(np.arange(32 * 32), 32)  # the optimum is (i + 2 j) mod 5
    check_coloring(pattern, Coloring("column", pattern.shape, col_colors=(i + 2 * j) % 5))


def test_tridiagonal_needs_three_colors():
    pattern = tridiagonal(1000)
    for kind in ("column", "row", "star", "bidirectional"):
        coloring = color(pattern, kind)
        assert coloring.num_colors == 3, kind
        assert_recovers(pattern, coloring)
    assert color(pattern, "acyclic").num_colors == 2  # a path is a forest in any two colors


@pytest.mark.parametrize("num", [16, 32])
def test_star_coloring_of_the_grid_hessian_needs_five_colors(num):
    pattern = laplacian(num)
    coloring = color(pattern, "star")
    assert coloring.num_colors == 5
    assert assert_recovers(pattern, coloring, seed=num).direct
    acyclic = color(pattern, "acyclic")
    assert acyclic.num_colors <= 4
    assert not assert_recovers(pattern, acyclic).direct  # substitution along the trees


def test_arrowhead_splits_into_three_colors():
    pattern = arrowhead(50)
    assert color(pattern, "column").num_colors == 50
    assert color(pattern, "row").num_colors == 50
    coloring = color(pattern, "bidirectional")
    assert (coloring.num_colors, coloring.num_col_colors, coloring.num_row_colors) == (3, 2, 1)
    assert_recovers(pattern, coloring)
    # dense columns only: the column split alone (forward for the dense column) wins
    mask = np.eye(30, dtype=bool)
    mask[:, 0] = mask[:, 7] = True
    wide = Pattern.from_dense(mask)
    assert color(wide, "bidirectional").num_colors <= 3
    assert_recovers(wide, color(wide, "bidirectional"))


def test_a_hundred_thousand_column_stencil_is_colored_validly():
    # speed is the benchmark's business (adkit bench --only sparse); here the large case's result
    large = Pattern((316 * 317, 316 * 317), *stencil_rect(316, 317))
    coloring = color(large, "column", "largest_first")
    check_coloring(large, coloring)
    assert coloring.num_colors <= 7


def stencil_rect(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.meshgrid(np.arange(a), np.arange(b), indexing="ij")
    rows, cols = [], []
    for di, dj in OFFSETS:
        inside = (i + di >= 0) & (i + di < a) & (j + dj >= 0) & (j + dj < b)
        rows.append((i * b + j)[inside])
        cols.append(((i + di) * b + j + dj)[inside])
    return np.concatenate(rows), np.concatenate(cols)


# --- edge cases ----------------------------------------------------------------------------------


def edge_patterns(kind: str) -> dict[str, Pattern]:
    out = {
        "empty": Pattern((3, 3), [], []),
        "nothing": Pattern((0, 0), [], []),
        "one": Pattern((1, 1), [0], [0]),
        "one_off_diagonal_pair": Pattern.from_dense(np.array([[0, 1], [1, 0]])),
    }
    if kind in SYMMETRIC:
        out["dense_column"] = arrowhead(7)  # a star graph: a hub and leaves
        out["empty_row"] = Pattern.from_dense(np.diag([1, 0, 1, 1]))
    else:
        out["rectangular_empty"] = Pattern((0, 4), [], [])
        mask = np.eye(5, 6, dtype=bool)
        mask[:, 2] = True
        out["dense_column"] = Pattern.from_dense(mask)
        mask = np.ones((4, 3), dtype=bool)
        mask[1] = False
        out["empty_row"] = Pattern.from_dense(mask)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_edge_cases(kind):
    for name, pattern in edge_patterns(kind).items():
        coloring = color(pattern, kind)
        assert_recovers(pattern, coloring)
        if pattern.nnz == 0:
            assert coloring.num_colors == 0, name
            assert coloring.col_seeds().shape == (0, pattern.shape[1])
            assert coloring.row_seeds().shape == (0, pattern.shape[0])
        if name == "one":
            assert coloring.num_colors == 1
        if name == "empty_row" and kind in ("column", *SYMMETRIC):
            idle = 1 if kind in SYMMETRIC else None
            assert idle is None or coloring.colors[idle] == -1
        if name == "empty_row" and kind == "row":
            assert coloring.colors[1] == -1


# --- the validity check --------------------------------------------------------------------------


def path(n: int, cycle: bool = False) -> Pattern:
    i = np.arange(n - 1)
    rows, cols = [i, i + 1], [i + 1, i]
    if cycle:
        rows, cols = [*rows, [0, n - 1]], [*cols, [n - 1, 0]]
    return Pattern((n, n), np.concatenate(rows), np.concatenate(cols))


INVALID = {
    "column": [
        (Pattern.from_dense(np.array([[1, 1], [0, 1]])), dict(col_colors=[0, 0]), "share color"),
        (Pattern.from_dense(np.array([[1, 1], [0, 1]])), dict(col_colors=[0, -1]), "no color"),
    ],
    "row": [(Pattern.from_dense(np.array([[1, 0], [1, 1]])), dict(row_colors=[0, 0]), "column 0")],
    "star": [
        (path(4), dict(col_colors=[0, 1, 0, 1]), "path on four vertices"),
        (path(3), dict(col_colors=[0, 0, 1]), "adjacent vertices 0 and 1"),
        (Pattern.from_dense(np.array([[1, 1], [0, 1]])), dict(col_colors=[0, 1]), "symmetric"),
    ],
    "acyclic": [
        (path(4, cycle=True), dict(col_colors=[0, 1, 0, 1]), "induce a cycle"),
        (path(3), dict(col_colors=[1, 2, 2]), "share color"),
    ],
    "bidirectional": [
        (arrowhead(5), dict(col_colors=[0, 0, 0, 0, 0]), "neither"),
        (arrowhead(5), dict(col_colors=[1, 0, 0, 0, 0], row_colors=[-1] * 5), "entry \\(0, 1\\)"),
    ],
}


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_colorings_are_rejected(kind):
    for pattern, colors, message in INVALID[kind]:
        coloring = Coloring(kind, pattern.shape, **colors)
        with pytest.raises(ValueError, match=message):
            check_coloring(pattern, coloring)
        # recovery refuses, or (without diagonal entries a shared color can be harmless) is exact
        try:
            rec = recovery(pattern, coloring)
        except ValueError as error:
            assert "not valid" in str(error) or "cannot recover" in str(error)
            continue
        a = random_values(pattern, kind in SYMMETRIC)
        values = decompress_numpy(pattern, rec, compressed(coloring, a))
        np.testing.assert_allclose(values, a[pattern.rows, pattern.cols], rtol=0, atol=1e-12)


def test_star_and_acyclic_checks_agree_with_brute_force():
    disagreements = []
    for seed in range(40):
        pattern = random_symmetric(9, 0.35, seed)
        graph = adjacency_graph(pattern)
        rng = np.random.default_rng(seed)
        colors = greedy(graph.neighbors, rng.permutation(9).tolist())  # proper, often not star
        for kind, brute in (("star", brute_bicolored_p4), ("acyclic", brute_bicolored_cycle)):
            if rejects(pattern, Coloring(kind, (9, 9), col_colors=colors)) != brute(
                pattern, colors
            ):
                disagreements.append((seed, kind))
    assert not disagreements


def test_a_distance_two_coloring_is_a_star_coloring():
    pattern = random_symmetric(30, 0.1, 5)
    graph = square_graph(adjacency_graph(pattern))
    colors = greedy(graph.neighbors, list(range(30)))
    check_coloring(pattern, Coloring("star", (30, 30), col_colors=colors))


def test_bidirectional_check_matches_recovery():
    # perturbed split colorings: the check accepts exactly those that recovery can read exactly
    pattern = random_pattern(8, 7, 0.3, 11)
    valid = color(pattern, "bidirectional")
    rng = np.random.default_rng(0)
    verdicts = set()
    for _ in range(100):
        col_colors, row_colors = valid.col_colors.copy(), valid.row_colors.copy()
        for _ in range(rng.integers(1, 3)):
            colors = col_colors if rng.random() < 0.5 else row_colors
            colors[rng.integers(colors.size)] = rng.integers(-1, valid.num_colors + 1)
        coloring = Coloring("bidirectional", (8, 7), col_colors, row_colors)
        rejected = rejects(pattern, coloring)
        verdicts.add(rejected)
        if rejected:
            with pytest.raises(ValueError, match="cannot recover"):
                recovery(pattern, coloring)
        else:
            assert_recovers(pattern, coloring)
    assert verdicts == {True, False}


# --- errors --------------------------------------------------------------------------------------


def test_clear_errors():
    pattern = random_pattern(5, 4, 0.5, 0)
    with pytest.raises(ValueError, match=r"Unknown coloring kind 'diagonal'.*'column'"):
        color(pattern, "diagonal")
    with pytest.raises(ValueError, match=r"Unknown coloring order 'fastest'.*'smallest_last'"):
        color(pattern, "column", "fastest")
    for kind in SYMMETRIC:
        with pytest.raises(ValueError, match=r"square, symmetric.*5 x 4"):
            color(pattern, kind)
        with pytest.raises(ValueError, match="not symmetric"):
            color(Pattern.from_dense(np.array([[1, 1], [0, 1]])), kind)
    with pytest.raises(ValueError, match="Unknown vertex order"):
        vertex_order(column_graph(pattern), "fastest")
    with pytest.raises(ValueError, match="shape \\(4,\\)"):
        Coloring("column", (5, 4), col_colors=[0, 1])
    with pytest.raises(ValueError, match="-1 \\(no seed\\) or >= 0"):
        Coloring("column", (5, 4), col_colors=[0, 1, -2, 0])
    with pytest.raises(ValueError, match="kind 'bidirectional'"):
        Coloring("column", (2, 2), col_colors=[0, 1], row_colors=[0, -1])
    with pytest.raises(ValueError, match="Unknown coloring kind"):
        Coloring("diagonal", (2, 2))
    coloring = color(pattern)
    with pytest.raises(ValueError, match="Pass the pattern that was colored"):
        recovery(pattern.T, coloring)
    with pytest.raises(ValueError, match="length"):
        decompress_numpy(pattern, recovery(pattern, coloring), np.zeros(3))


# --- building blocks -----------------------------------------------------------------------------


def test_orders_are_permutations_and_iterated_greedy_never_adds_colors():
    rng = np.random.default_rng(0)
    for seed in range(5):
        graph = column_graph(random_pattern(30, 40, 0.06, seed))
        for name in ORDERS:
            order = vertex_order(graph, name, rng)
            assert sorted(order) == list(range(40)), name
            colors = greedy(graph.neighbors, order)
            refined, improved = iterated_greedy(graph.neighbors, colors, rng)
            assert num_colors(refined) <= num_colors(colors)
            assert improved == (num_colors(refined) < num_colors(colors))
            heads = np.repeat(np.arange(40), graph.degrees())
            assert not (refined[heads] == refined[graph.indices]).any()  # still proper


def test_graph_construction():
    g = Graph.from_edges(4, np.array([0, 1, 1, 2]), np.array([1, 0, 2, 2]))  # repeats, a loop
    assert g.neighbors == [[1], [0, 2], [1], []]
    assert g.num_edges == 2 and g.degrees().tolist() == [1, 2, 1, 0]
    # star greedy on a path of five vertices: three colors, never a two-colored P4
    p5 = path(5)
    colors = star_greedy(adjacency_graph(p5).neighbors, list(range(5)))
    assert not brute_bicolored_p4(p5, colors) and num_colors(colors) == 3


def test_split_sizes():
    sizes = split_sizes(np.arange(100))
    assert sizes[0] == 0 and len(sizes) <= 24 and (np.diff(sizes) > 0).all()
    assert split_sizes(np.array([3, 3, 1, 0])).tolist() == [0, 2, 3]
    assert split_sizes(np.zeros(4, dtype=np.int64)).tolist() == [0]


def test_best_skips_an_order_equal_to_one_already_tried():
    # on a regular graph largest-first (stable) is the natural order: one greedy pass, not two
    from adkit.sparse._search import search

    n = 2000  # above LARGE: the three cheap orders
    graph = Graph.from_edges(n, np.arange(n), (np.arange(n) + 1) % n)
    seen = []

    def recording(neighbors, order):
        seen.append(list(order))
        return greedy(neighbors, order)

    search(graph, "best", greedy_fn=recording)
    assert seen.count(list(range(n))) == 1


# --- the compiled loops against the Python loops they replace ----------------------------------
def _greedy_reference(neighbors, order):
    color = [-1] * len(neighbors)
    for v in order:
        taken = {color[w] for w in neighbors[v]}
        c = 0
        while c in taken:
            c += 1
        color[v] = c
    return np.asarray(color)


def _smallest_last_reference(neighbors, degrees):
    # buckets by current degree, stacks with lazy deletion, filled by decreasing degree
    deg = degrees.tolist()
    buckets = [[] for _ in range(max(deg, default=0) + 1)]
    for v in np.argsort(-degrees, kind="stable").tolist():
        buckets[deg[v]].append(v)
    removed, removal, low = [False] * len(neighbors), [], 0
    for _ in range(len(neighbors)):
        while True:
            bucket = buckets[low]
            while bucket and (removed[bucket[-1]] or deg[bucket[-1]] != low):
                bucket.pop()
            if bucket:
                break
            low += 1
        v = bucket.pop()
        removed[v] = True
        removal.append(v)
        for w in neighbors[v]:
            if not removed[w]:
                deg[w] -= 1
                buckets[deg[w]].append(w)
        low = max(low - 1, 0)
    return removal[::-1]


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_greedy_and_smallest_last_equal_the_python_loops(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    heads, tails = rng.integers(0, n, size=(2, 3 * n))
    graph = Graph.from_edges(n, heads, tails)
    order = rng.permutation(n).tolist()
    np.testing.assert_array_equal(greedy(graph, order), _greedy_reference(graph.neighbors, order))
    np.testing.assert_array_equal(greedy(graph.neighbors, order), greedy(graph, order))
    assert vertex_order(graph, "smallest_last") == _smallest_last_reference(
        graph.neighbors, graph.degrees()
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_intersection_graph_is_the_pattern_of_st_s_without_its_diagonal(seed):
    # against SciPy's product SᵀS (the off-diagonal stored entries, rows sorted), on random
    # patterns with an empty column, an empty row and one dense row (a column adjacent to all)
    import scipy.sparse as sp

    from adkit.sparse._graph import intersection_graph

    rng = np.random.default_rng(seed)
    m, n = 40, 60
    dense = rng.random((m, n)) < 0.06
    dense[3] = False  # an empty row
    dense[11] = seed % 2 == 0  # a dense row on even seeds: all columns adjacent to each other
    dense[:, 7] = False  # but for an isolated column
    rows, cols = np.nonzero(dense)
    shuffled = rng.permutation(rows.size)  # the entries in no particular order
    graph = intersection_graph(rows[shuffled], cols[shuffled], (m, n))
    s = sp.csr_array(dense.astype(np.float64))
    product = (s.T @ s).tocsr()
    product.setdiag(0)
    product.eliminate_zeros()
    product.sort_indices()
    np.testing.assert_array_equal(graph.indptr, product.indptr)
    np.testing.assert_array_equal(graph.indices, product.indices)
    assert graph.neighbors[7] == [] and graph.indptr.dtype == graph.indices.dtype == np.int64
    # the same graph from the kernel's two ways: one pass into a buffer of sum(row length²)
    # slots (what intersection_graph took here), or count then fill (for a limit below that)
    from adkit.sparse._kernels import ONE_PASS_LIMIT, column_adjacency

    visits = int((np.bincount(rows, minlength=m) ** 2).sum())
    assert visits <= ONE_PASS_LIMIT
    for limit in (visits, visits - 1, 0):
        indptr, indices = column_adjacency(rows[shuffled], cols[shuffled], m, n, limit)
        np.testing.assert_array_equal(indptr, product.indptr)
        np.testing.assert_array_equal(indices, product.indices)
