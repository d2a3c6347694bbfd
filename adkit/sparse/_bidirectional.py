"""Bidirectional partitioning: some entries from forward products, the others from reverse ones.

A Jacobian with a few dense rows needs many column colors (a dense row joins every column), and
one with a few dense columns needs many row colors. Splitting the work helps when it has both.

Row split: choose a set `R` of rows (the densest). The rows of `R` are row-colored (two rows of
`R` conflict iff they share a column) and every entry in a row of `R` is read from the reverse
products `C`; the other rows form a submatrix that is column-colored (two columns conflict iff
they share a row outside `R`) and its entries are read from the forward products `B`. The
column split swaps the roles: the densest columns `K` are column-colored and read from `B`, the
entries outside `K` are read from `C` under a row coloring of the submatrix without `K`.

Both splits are tried for sizes `|R|` (or `|K|`) equal to 0 and to the number of rows (columns)
with at least `t` entries, for each distinct count `t` (at most `MAX_SIZES` sizes); the split
with the fewest colors in total wins. Every entry is then read with one gather.

References:
    T. F. Coleman and A. Verma, "The efficient computation of sparse Jacobian matrices using
    automatic differentiation", SIAM Journal on Scientific Computing 19(4), 1998.
    A. H. Gebremedhin, F. Manne and A. Pothen, "What color is your Jacobian? Graph coloring for
    computing derivatives", SIAM Review 47(4), 2005.
"""

from __future__ import annotations

import numpy as np

from ._pattern import Pattern
from ._search import color_columns

__all__ = ["MAX_SIZES", "bidirectional", "split_sizes"]

MAX_SIZES = 24  # the most split sizes tried per direction
NUM_REFINED = 3  # with order="best": the splits recolored with every order


def split_sizes(counts: np.ndarray, limit: int = MAX_SIZES) -> np.ndarray:
    """The sizes `k` of the sets of densest lines to try: 0 and one per distinct count.

    Args:
        counts: the number of entries of each line (row or column).
        limit: the most sizes returned; beyond it the smallest half is kept and the rest thinned
            out evenly.

    Returns:
        Increasing sizes, starting at 0.

    Examples:
        >>> import numpy as np
        >>> split_sizes(np.array([5, 1, 1, 5, 2, 0])).tolist()  # >= 5, >= 2, >= 1 entries
        [0, 2, 3, 5]
    """
    ascending = np.sort(counts)
    thresholds = np.flatnonzero(np.bincount(counts))  # the distinct counts, increasing
    thresholds = thresholds[thresholds > 0]
    sizes = np.unique(np.concatenate([[0], counts.size - np.searchsorted(ascending, thresholds)]))
    if sizes.size > limit:
        head = sizes[: limit // 2]
        tail = sizes[limit // 2 :]
        pick = np.unique(np.round(np.linspace(0, tail.size - 1, limit - head.size)).astype(int))
        sizes = np.concatenate([head, tail[pick]])
    return sizes


def _split(rows, cols, shape, k, order, seed):
    # Row split with the k densest rows in R: (col_colors, row_colors, col_winner, row_winner).
    m, n = shape
    in_r = np.zeros(m, dtype=bool)
    in_r[np.argsort(-np.bincount(rows, minlength=m), kind="stable")[:k]] = True
    reverse = in_r[rows]
    row_colors, row_winner = color_columns(cols[reverse], rows[reverse], (n, m), order, seed)
    col_colors, col_winner = color_columns(rows[~reverse], cols[~reverse], (m, n), order, seed)
    return col_colors, row_colors, col_winner, row_winner


def _total(split) -> int:
    col_colors, row_colors = split[0], split[1]
    return int(col_colors.max(initial=-1)) + int(row_colors.max(initial=-1)) + 2


def bidirectional(
    pattern: Pattern, order: str, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """The row or column split of `pattern` with the fewest colors in total.

    Args:
        pattern: the Jacobian pattern, `m x n`.
        order: the vertex order for every coloring (a name of `adkit.sparse._orders.ORDERS`), or
            `"best"`: every split is screened with `"smallest_last"`, and the `NUM_REFINED` most
            promising ones and the two plain ones (all forward, all reverse) are recolored with
            `"best"`, so the result never needs more colors than `kind="column"` or `"row"`.
        seed: seeds the random orders.

    Returns:
        `(col_colors, row_colors, winner)`: the column colors (length `n`, -1 for columns not
        seeded) and row colors (length `m`, likewise), and the orders that gave them.

    Examples:
        >>> import numpy as np
        >>> arrow = np.eye(6, dtype=bool)
        >>> arrow[0, :] = arrow[:, 0] = True
        >>> col_colors, row_colors, _ = bidirectional(Pattern.from_dense(arrow), "best")
        >>> col_colors.tolist(), row_colors.tolist()  # row 0 by reverse, the rest by forward
        ([0, 1, 1, 1, 1, 1], [0, -1, -1, -1, -1, -1])
    """
    m, n = pattern.shape
    rows, cols = pattern.rows, pattern.cols
    screen = "smallest_last" if order == "best" else order

    def run(variant, k, how):
        if variant == "rows":
            return _split(rows, cols, (m, n), k, how, seed)
        row_colors, col_colors, row_winner, col_winner = _split(cols, rows, (n, m), k, how, seed)
        return col_colors, row_colors, col_winner, row_winner

    candidates = [("rows", int(k)) for k in split_sizes(pattern.row_counts())]
    candidates += [("cols", int(k)) for k in split_sizes(pattern.col_counts())]
    screened = sorted(
        ((run(v, k, screen), (v, k)) for v, k in candidates), key=lambda t: _total(t[0])
    )
    best = screened[0][0]
    if order == "best":
        finalists = [("rows", 0), ("cols", 0)]
        finalists += [c for _, c in screened[:NUM_REFINED] if c not in finalists]
        refined = [run(v, k, "best") for v, k in finalists]
        best = min([*refined, best], key=_total)
    col_colors, row_colors, col_winner, row_winner = best
    winner = [f"{col_winner} (columns)"] if (col_colors >= 0).any() else []
    winner += [f"{row_winner} (rows)"] if (row_colors >= 0).any() else []
    return col_colors, row_colors, ", ".join(winner) or "none"
