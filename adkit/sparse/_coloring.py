"""`color`: partition the columns (or rows) of a sparse Jacobian or Hessian into few seeds.

A sparse Jacobian `J` (`m x n`) can be computed from far fewer than `n` Jacobian-vector products:
columns that share no row can be summed into one seed, and every entry read back from the
compressed product. Choosing the groups is a graph coloring problem (Coleman and Moré;
Gebremedhin, Manne and Pothen); `color` solves it for the kinds

- `"column"`: one forward product per color; columns of one color share no row;
- `"row"`: one reverse product per color; rows of one color share no column;
- `"star"`: for a symmetric (Hessian) pattern, one Hessian-vector product per color, every entry
  read off directly (a star coloring of the adjacency graph);
- `"acyclic"`: likewise, usually with fewer colors, entries recovered by substitution;
- `"bidirectional"`: forward products for some entries and reverse products for the others, for
  Jacobians with both dense rows and dense columns (Coleman and Verma).

How the products are formed from the seeds, and how the entries are recovered from them, is
described in `adkit.sparse._recovery`.

References:
    A. H. Gebremedhin, F. Manne and A. Pothen, "What color is your Jacobian? Graph coloring for
    computing derivatives", SIAM Review 47(4), 2005.
    T. F. Coleman and J. J. Moré, "Estimation of sparse Jacobian matrices and graph coloring
    problems", SIAM Journal on Numerical Analysis 20(1), 1983.
    J. C. Culberson, "Iterated greedy graph coloring and the difficulty landscape", Technical
    Report TR 92-07, University of Alberta, 1992.
    T. F. Coleman and A. Verma, "The efficient computation of sparse Jacobian matrices using
    automatic differentiation", SIAM Journal on Scientific Computing 19(4), 1998.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._acyclic import acyclic_greedy
from ._bidirectional import bidirectional
from ._graph import adjacency_graph, is_symmetric, square_graph
from ._greedy import greedy, num_colors
from ._pattern import Pattern
from ._search import check_order, color_columns, compact, search
from ._star import star_greedy

__all__ = ["KINDS", "Coloring", "color"]

KINDS = ("column", "row", "star", "acyclic", "bidirectional")


def _colors(values, length: int, what: str) -> np.ndarray:
    if values is None:
        return np.full(length, -1, dtype=np.int64)
    array = np.asarray(values)
    if array.shape != (length,) or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(
            f"A Coloring's {what} must be an integer array of shape ({length},), one color per "
            f"{'column' if what == 'col_colors' else 'row'} of the pattern, but received shape "
            f"{array.shape} and dtype {array.dtype}. Pass one color (or -1 for none) per line."
        )
    array = array.astype(np.int64)
    if array.size and array.min() < -1:
        raise ValueError(
            f"A Coloring's colors must be -1 (no seed) or >= 0, but {what} contains "
            f"{int(array.min())}. Number the colors from 0."
        )
    array.flags.writeable = False
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class Coloring:
    """A coloring of the columns and/or rows of a sparsity pattern, and the seeds it gives.

    Column color `c` stands for the forward seed that is 1 at the columns colored `c`; row color
    `c` for the reverse seed that is 1 at the rows colored `c`. Color -1 means no seed (the line
    has no entries, or its entries are read the other way).

    Attributes:
        kind: `"column"`, `"row"`, `"star"`, `"acyclic"` or `"bidirectional"`.
        shape: `(m, n)`, the shape of the pattern colored.
        col_colors: one color per column (length `n`); all -1 for kind `"row"`.
        row_colors: one color per row (length `m`); all -1 unless the kind is `"row"` or
            `"bidirectional"`.
        order: the vertex order that gave the coloring (`"given"` for one built by hand).

    Examples:
        >>> import numpy as np
        >>> c = Coloring("column", (2, 3), col_colors=np.array([0, 1, 0]))
        >>> c.num_colors, c.colors.tolist()
        (2, [0, 1, 0])
        >>> c.col_seeds()
        array([[1., 0., 1.],
               [0., 1., 0.]])
        >>> c.row_seeds().shape
        (0, 2)
    """

    kind: str
    shape: tuple[int, int]
    col_colors: np.ndarray | None = None
    row_colors: np.ndarray | None = None
    order: str = "given"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(_unknown("kind", self.kind, KINDS))
        m, n = (int(d) for d in self.shape)
        col_colors = _colors(self.col_colors, n, "col_colors")
        row_colors = _colors(self.row_colors, m, "row_colors")
        other, unused = (
            ("col_colors", col_colors) if self.kind == "row" else ("row_colors", row_colors)
        )
        if self.kind != "bidirectional" and (unused >= 0).any():
            raise ValueError(
                f"A Coloring of kind {self.kind!r} reads every entry one way, but received "
                f"{other} with colors >= 0. Leave {other} out, or use kind 'bidirectional'."
            )
        for name, value in (("shape", (m, n)), ("col_colors", col_colors),
                            ("row_colors", row_colors)):  # fmt: skip
            object.__setattr__(self, name, value)

    @property
    def colors(self) -> np.ndarray:
        """The row colors for kind `"row"`, else the column colors."""
        return self.row_colors if self.kind == "row" else self.col_colors

    @property
    def num_col_colors(self) -> int:
        """`p`: the number of forward seeds (one more than the largest column color)."""
        return num_colors(self.col_colors)

    @property
    def num_row_colors(self) -> int:
        """`q`: the number of reverse seeds (one more than the largest row color)."""
        return num_colors(self.row_colors)

    @property
    def num_colors(self) -> int:
        """`p + q`: the number of products the compressed evaluation needs."""
        return self.num_col_colors + self.num_row_colors

    def col_seeds(self) -> np.ndarray:
        """The forward seeds, a float64 array `(p, n)`: row `c` is 1 at the columns colored `c`."""
        return _one_hot(self.col_colors, self.num_col_colors)

    def row_seeds(self) -> np.ndarray:
        """The reverse seeds, a float64 array `(q, m)`: row `c` is 1 at the rows colored `c`."""
        return _one_hot(self.row_colors, self.num_row_colors)

    def __repr__(self) -> str:
        m, n = self.shape
        counts = f"num_colors={self.num_colors}"
        if self.kind == "bidirectional":
            counts += f" (columns {self.num_col_colors}, rows {self.num_row_colors})"
        return f"Coloring(kind={self.kind!r}, shape=({m}, {n}), {counts}, order={self.order!r})"


def _one_hot(colors: np.ndarray, count: int) -> np.ndarray:
    seeds = np.zeros((count, colors.size))
    used = np.flatnonzero(colors >= 0)
    seeds[colors[used], used] = 1.0
    return seeds


def _unknown(what: str, value, valid) -> str:
    names = ", ".join(repr(v) for v in valid)
    return f"Unknown coloring {what} {value!r}. Expected one of {names}; pass one of these."


def color(
    pattern: Pattern, kind: str = "column", order: str = "best", *, seed: int = 0
) -> Coloring:
    """Colors a Jacobian or Hessian pattern so that it can be computed from few products.

    Args:
        pattern: the structural nonzeros, `m x n` (square and symmetric for `"star"` and
            `"acyclic"`).
        kind: `"column"`, `"row"`, `"star"`, `"acyclic"` or `"bidirectional"` (see the module
            docstring).
        order: the greedy vertex order: `"largest_first"`, `"smallest_last"`,
            `"incidence_degree"`, `"dsatur"`, `"natural"` or `"random"`; or `"best"`, which
            tries them (dsatur only up to 1000 vertices; above 1024 vertices only
            largest_first, natural and smallest_last) and random orders, keeps the
            fewest colors and refines the winner by iterated greedy, stopping early at a
            known lower bound (for columns, the most entries in one row). For `"star"`,
            `"best"` also tries distance-2 colorings.
        seed: seeds `"random"` (and the random choices of `"best"`): equal seeds, equal result.

    Returns:
        The `Coloring`; lines without entries get color -1.

    Raises:
        ValueError: for an unknown `kind` or `order`, or a `"star"` or `"acyclic"` request on a
            pattern that is not square and symmetric.

    Examples:
        >>> import numpy as np
        >>> tridiagonal = Pattern.from_dense(np.eye(6) + np.eye(6, k=1) + np.eye(6, k=-1))
        >>> coloring = color(tridiagonal)
        >>> coloring.num_colors, coloring.colors.tolist()
        (3, [1, 2, 0, 1, 2, 0])
        >>> color(tridiagonal, "star").num_colors
        3
    """
    if kind not in KINDS:
        raise ValueError(_unknown("kind", kind, KINDS))
    check_order(order)
    m, n = pattern.shape
    if kind == "column":
        colors, winner = color_columns(pattern.rows, pattern.cols, (m, n), order, seed)
        return Coloring(kind, (m, n), col_colors=colors, order=winner)
    if kind == "row":
        colors, winner = color_columns(pattern.cols, pattern.rows, (n, m), order, seed)
        return Coloring(kind, (m, n), row_colors=colors, order=winner)
    if kind == "bidirectional":
        col_colors, row_colors, winner = bidirectional(pattern, order, seed)
        return Coloring(kind, (m, n), col_colors, row_colors, order=winner)
    if not is_symmetric(pattern):
        raise ValueError(
            f"A {kind} coloring needs a square, symmetric pattern (a Hessian's), but received a "
            f"{m} x {n} pattern that is not symmetric. Symmetrize it first (the union of `p` and "
            "`p.T`: `Pattern(p.shape, np.concatenate([p.rows, p.cols]), np.concatenate([p.cols, "
            "p.rows]))`), or use kind='column' for a Jacobian."
        )
    graph = adjacency_graph(pattern)
    greedy_fn = star_greedy if kind == "star" else acyclic_greedy
    colors, winner = search(graph, order, seed, greedy_fn)
    if kind == "star" and order == "best":  # a distance-2 coloring is a star coloring
        other, other_winner = search(square_graph(graph), order, seed, greedy)
        if num_colors(other) < num_colors(colors):
            colors, winner = other, f"{other_winner} (distance-2)"
    colors = compact(colors, pattern.row_counts() > 0)
    return Coloring(kind, (m, n), col_colors=colors, order=winner)
