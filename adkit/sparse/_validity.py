"""`check_coloring`: an independent check that a coloring lets every entry be recovered.

The checks follow the definitions, not the coloring algorithms:

- `"column"`: every column with entries is colored, and no two columns of one color share a
  row; `"row"` likewise on the transpose;
- `"star"`: the pattern is symmetric, adjacent vertices differ in color, and no path on four
  vertices uses only two colors. Such a path `a - b - c - d` exists iff some edge `b - c` has
  `b` with two neighbours of `c`'s color and `c` with two neighbours of `b`'s color;
- `"acyclic"`: adjacent vertices differ in color and every two color classes induce a forest.
  All pairs at once: the node `(i, color[j])` stands for vertex `i` in the subgraph of the classes
  of `i` and `j`, each edge `i - j` joins `(i, color[j])` to `(j, color[i])`, and the resulting
  graph is a forest (edges = nodes - components) iff each two-colored subgraph is;
- `"bidirectional"`: every entry `(i, j)` is the only entry of its row with its column's color,
  or the only entry of its column with its row's color.

References:
    A. H. Gebremedhin, F. Manne and A. Pothen, "What color is your Jacobian? Graph coloring for
    computing derivatives", SIAM Review 47(4), 2005.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ._coloring import Coloring
from ._pattern import Pattern

__all__ = ["check_coloring"]


def _fail(coloring: Coloring, reason: str) -> ValueError:
    return ValueError(
        f"Invalid {coloring.kind} coloring: {reason}. Color the pattern with "
        f"`color(pattern, kind={coloring.kind!r})`, or fix the colors by hand."
    )


def _counts(line: np.ndarray, color: np.ndarray) -> np.ndarray:
    # For each entry, how many entries of its line carry its color (0 where color is -1).
    colored = color >= 0
    out = np.zeros(line.shape, dtype=np.int64)
    key = line[colored] * (int(color.max(initial=0)) + 1) + color[colored]
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    out[colored] = counts[inverse]
    return out


def _check_partition(coloring, lines, others, other_colors, line_word, other_word):
    # No two `others` (columns, say) of one color share a line (a row): each (line, color) once.
    color = other_colors[others]
    if (color < 0).any():
        k = int(np.flatnonzero(color < 0)[0])
        raise _fail(coloring, f"{other_word} {others[k]} has entries but no color")
    clash = np.flatnonzero(_counts(lines, color) > 1)
    if clash.size:
        k = clash[0]
        same = np.flatnonzero((lines == lines[k]) & (color == color[k]))
        a, b = (int(others[t]) for t in same[:2])
        raise _fail(
            coloring,
            f"{other_word}s {a} and {b} share color {int(color[k])} and both have an entry in "
            f"{line_word} {int(lines[k])}",
        )


def _check_proper(coloring, pattern) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if pattern.shape[0] != pattern.shape[1] or pattern != pattern.T:
        raise _fail(coloring, f"the {pattern.shape} pattern is not square and symmetric")
    colors = coloring.col_colors
    if (colors[pattern.rows] < 0).any():
        raise _fail(coloring, f"vertex {int(pattern.rows[colors[pattern.rows] < 0][0])} has "
                              "entries but no color")  # fmt: skip
    off = pattern.rows != pattern.cols
    i, j = pattern.rows[off], pattern.cols[off]
    same = np.flatnonzero(colors[i] == colors[j])
    if same.size:
        k = same[0]
        raise _fail(coloring, f"the adjacent vertices {i[k]} and {j[k]} share color {colors[i[k]]}")
    return i, j, colors


def check_coloring(pattern: Pattern, coloring: Coloring) -> None:
    """Raises a ValueError saying what is wrong if `coloring` cannot recover `pattern`.

    Args:
        pattern: the pattern.
        coloring: a coloring of it, from `color` or built by hand.

    Raises:
        ValueError: if the shapes differ or the coloring breaks its kind's rule (module docstring).

    Examples:
        >>> import numpy as np
        >>> pattern = Pattern.from_dense(np.array([[1, 1], [0, 1]]))
        >>> check_coloring(pattern, Coloring("column", (2, 2), col_colors=np.array([0, 1])))
        >>> check_coloring(pattern, Coloring("column", (2, 2), col_colors=np.array([0, 0])))
        Traceback (most recent call last):
        ...
        ValueError: Invalid column coloring: columns 0 and 1 share color 0 ...
    """
    if tuple(pattern.shape) != tuple(coloring.shape):
        raise _fail(coloring, f"it is for a {coloring.shape} pattern, not {pattern.shape}")
    rows, cols = pattern.rows, pattern.cols
    kind = coloring.kind
    if kind == "column":
        _check_partition(coloring, rows, cols, coloring.col_colors, "row", "column")
    elif kind == "row":
        _check_partition(coloring, cols, rows, coloring.row_colors, "column", "row")
    elif kind == "bidirectional":
        forward = _counts(rows, coloring.col_colors[cols]) == 1
        reverse = _counts(cols, coloring.row_colors[rows]) == 1
        missing = np.flatnonzero(~(forward | reverse))
        if missing.size:
            k = missing[0]
            raise _fail(
                coloring,
                f"entry ({rows[k]}, {cols[k]}) is neither the only entry of row {rows[k]} with "
                f"its column's color nor the only entry of column {cols[k]} with its row's color",
            )
    elif kind == "star":
        i, j, colors = _check_proper(coloring, pattern)
        # per edge (i, j): how many neighbours of i have j's color, and of j have i's color
        at_i, at_j = _counts(i, colors[j]), _counts(j, colors[i])
        both = np.flatnonzero((at_i > 1) & (at_j > 1))
        if both.size:
            k = both[0]
            raise _fail(
                coloring,
                f"the edge {i[k]} - {j[k]} is the middle of a path on four vertices colored only "
                f"{colors[j[k]]} and {colors[i[k]]}",
            )
    else:
        i, j, colors = _check_proper(coloring, pattern)
        upper = i < j
        i, j = i[upper], j[upper]
        p = int(colors.max(initial=-1)) + 1
        keys, ends = np.unique(np.concatenate([i * p + colors[j], j * p + colors[i]]),
                               return_inverse=True)  # fmt: skip
        head, tail = ends[: i.size], ends[i.size :]
        graph = sp.coo_array((np.ones(i.size), (head, tail)), shape=(keys.size, keys.size))
        count, labels = csgraph.connected_components(graph, directed=False)
        edges = np.bincount(labels[head], minlength=count)
        nodes = np.bincount(labels, minlength=count)
        if (edges >= nodes).any():
            cyclic = int(np.flatnonzero(edges >= nodes)[0])
            vertices = np.unique(keys[labels == cyclic] // p)
            pair = sorted({int(colors[v]) for v in vertices})
            raise _fail(
                coloring,
                f"the colors {pair[0]} and {pair[1]} induce a cycle, in the subgraph on the "
                f"vertices {vertices[:10].tolist()}{' ...' if vertices.size > 10 else ''}",
            )
