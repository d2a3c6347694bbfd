"""`IndexSets`: for each element of an array, the set of input indices it may depend on.

The sparsity engine gives every variable of a jaxpr an `IndexSets`: a boolean sparse matrix with
one row per element of the array (row-major) and one column per element of the differentiated
inputs. Row `e` holds the indices that element `e` may depend on; the Jacobian's pattern is the
matrix of the outputs. Rules build new matrices from old ones with whole-array operations only
(a row gather, a sum, a sparse product), never a Python loop over elements.

A variable whose value the engine knows (a constant, an iota, a loop counter) carries it in
`value`; such a value depends on no input. Gather and scatter indices, dynamic-slice starts and
branch indices that are known make those rules exact instead of conservative.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp


@dataclasses.dataclass(frozen=True, eq=False)
class IndexSets:
    """The dependency sets of one array: `matrix[e, j]` is True if element `e` may depend on
    input `j`.

    Attributes:
        shape: the array's shape.
        matrix: a `scipy.sparse.csr_array` of bools, shape `(size, num_inputs)`.
        value: the array's value as a NumPy array when the engine knows it (then `matrix` is
            empty), else None.
    """

    shape: tuple[int, ...]
    matrix: sp.csr_array
    value: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def num_inputs(self) -> int:
        return self.matrix.shape[1]

    @property
    def known(self) -> bool:
        return self.value is not None

    @property
    def independent(self) -> bool:
        """Whether no element depends on any input."""
        return self.matrix.nnz == 0


@functools.lru_cache(maxsize=256)
def empty_matrix(rows: int, num_inputs: int) -> sp.csr_array:
    """A `rows x num_inputs` matrix with no entry (one shared object per shape: the rules build
    new matrices and never change one in place)."""
    return sp.csr_array((rows, num_inputs), dtype=bool)


def unknown(shape: Sequence[int], num_inputs: int) -> IndexSets:
    """An array of unknown value that depends on no input."""
    shape = tuple(int(d) for d in shape)
    return IndexSets(shape, empty_matrix(int(np.prod(shape, dtype=np.int64)), num_inputs))


def known(value, num_inputs: int) -> IndexSets:
    """A known array (a constant)."""
    value = np.asarray(value)
    return IndexSets(value.shape, empty_matrix(value.size, num_inputs), value)


def identity(shape: Sequence[int], offset: int, num_inputs: int) -> IndexSets:
    """An input: element `e` depends on input index `offset + e` only."""
    shape = tuple(int(d) for d in shape)
    size = int(np.prod(shape, dtype=np.int64))
    data = np.ones(size, dtype=bool)
    indices = np.arange(offset, offset + size, dtype=np.int64)
    indptr = np.arange(size + 1, dtype=np.int64)
    return IndexSets(shape, sp.csr_array((data, indices, indptr), shape=(size, num_inputs)))


def as_csr(matrix) -> sp.csr_array:
    """`matrix` as a `csr_array`, unchanged if it is one (constructing one costs ~20 µs)."""
    return matrix if type(matrix) is sp.csr_array else sp.csr_array(matrix)


def with_matrix(shape: Sequence[int], matrix: sp.csr_array) -> IndexSets:
    return IndexSets(tuple(int(d) for d in shape), as_csr(matrix))


def stack_rows(operands: Sequence[IndexSets]) -> sp.csr_array:
    """The operands' matrices one above the other (operand k's rows follow operand k-1's)."""
    if len(operands) == 1:
        return operands[0].matrix
    return as_csr(sp.vstack([o.matrix for o in operands], format="csr"))


def offsets(operands: Sequence[IndexSets]) -> list[int]:
    """Where each operand's rows start in `stack_rows(operands)`."""
    return list(np.cumsum([0, *(o.size for o in operands)])[:-1])


def take_rows(matrix: sp.csr_array, ids: np.ndarray) -> sp.csr_array:
    """Row `r` of the result is row `ids[r]` of `matrix`, or empty where `ids[r] < 0`.

    A vectorised row gather on the CSR arrays (no loop over rows).
    """
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    indptr = matrix.indptr.astype(np.int64)
    valid = ids >= 0
    safe = np.where(valid, ids, 0)
    counts = np.where(valid, indptr[safe + 1] - indptr[safe], 0)
    new_indptr = np.zeros(ids.size + 1, dtype=np.int64)
    np.cumsum(counts, out=new_indptr[1:])
    total = int(new_indptr[-1])
    starts = np.where(valid, indptr[safe], 0)
    # position t of the result reads matrix.indices[starts[row(t)] + (t - new_indptr[row(t)])]
    source = np.repeat(starts - new_indptr[:-1], counts) + np.arange(total, dtype=np.int64)
    out = sp.csr_array(
        (np.ones(total, dtype=bool), matrix.indices[source], new_indptr),
        shape=(ids.size, matrix.shape[1]),
    )
    out.has_sorted_indices = matrix.has_sorted_indices
    return out


def union(*matrices: sp.csr_array) -> sp.csr_array:
    """Element-wise union of equally shaped dependency matrices."""
    live = [m for m in matrices if m.nnz] or matrices[:1]
    out = live[0]
    for m in live[1:]:
        out = out + m
    return as_csr(out)


def combine(groups: np.ndarray, members: np.ndarray, rows: int, matrix: sp.csr_array):
    """Row `g` of the result is the union of rows `members[t]` of `matrix` over `groups[t] == g`.

    Built as one sparse product `G @ matrix`, with `G[groups[t], members[t]] = True`; pairs with
    a negative group or member (a dropped scatter update, a padded window) are skipped.
    """
    groups = np.asarray(groups, dtype=np.int64).reshape(-1)
    members = np.asarray(members, dtype=np.int64).reshape(-1)
    keep = (members >= 0) & (groups >= 0)
    g = sp.csr_array(
        (np.ones(int(keep.sum()), dtype=bool), (groups[keep], members[keep])),
        shape=(rows, matrix.shape[0]),
    )
    return as_csr(g @ matrix)


def all_of(operands: Sequence[IndexSets]) -> sp.csr_array:
    """One row: the union of every row of every operand (what a dense dependence reaches)."""
    n = operands[0].num_inputs
    cols = np.unique(np.concatenate([o.matrix.indices for o in operands] or [np.zeros(0, int)]))
    return sp.csr_array(
        (np.ones(cols.size, dtype=bool), cols, np.array([0, cols.size])), shape=(1, n)
    )


def dense(operands: Sequence[IndexSets], shape: Sequence[int]) -> IndexSets:
    """Every element of an array of `shape` depends on everything the operands depend on."""
    row = all_of(operands)
    size = int(np.prod(shape, dtype=np.int64))
    return with_matrix(shape, take_rows(row, np.zeros(size, dtype=np.int64)))
