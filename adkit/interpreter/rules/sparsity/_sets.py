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
import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from ._kernels import gather_rows, merge_rows


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
        return math.prod(self.shape)  # Python ints: exact, and 20x faster than np.prod here

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
    dtype = _index_dtype(max(num_inputs, size + 1))
    indices = np.arange(offset, offset + size, dtype=dtype)
    indptr = np.arange(size + 1, dtype=dtype)
    return IndexSets(shape, _csr(indptr, indices, num_inputs, canonical=True))


def as_csr(matrix) -> sp.csr_array:
    """`matrix` as a `csr_array`, unchanged if it is one (constructing one costs ~20 µs)."""
    return matrix if type(matrix) is sp.csr_array else sp.csr_array(matrix)


def with_matrix(shape: Sequence[int], matrix: sp.csr_array) -> IndexSets:
    return IndexSets(tuple(int(d) for d in shape), as_csr(matrix))


def stack_rows(operands: Sequence[IndexSets]) -> sp.csr_array:
    """The operands' matrices one above the other (operand k's rows follow operand k-1's):
    their CSR arrays concatenated, each `indptr` shifted by the entries above it."""
    if len(operands) == 1:
        return operands[0].matrix
    matrices = [o.matrix for o in operands]
    shifts = np.cumsum([0, *(m.nnz for m in matrices)])
    n = operands[0].num_inputs
    dtype = _index_dtype(n) if shifts[-1] < 2**31 - 1 else np.int64
    tails = [m.indptr[1:].astype(dtype) + dtype(s) for m, s in zip(matrices, shifts, strict=False)]
    indptr = np.concatenate([np.zeros(1, dtype), *tails])
    indices = np.concatenate([m.indices.astype(dtype, copy=False) for m in matrices])
    canonical = all(m.has_canonical_format for m in matrices)
    return _csr(indptr, indices, n, canonical)


def _csr(indptr: np.ndarray, indices: np.ndarray, num_inputs: int, canonical: bool):
    """A boolean CSR matrix from its index arrays (one integer dtype, valid as the kernels make
    them); `canonical` (each row sorted, without duplicates) is recorded so that later rules
    need not check it."""
    shape = (indptr.size - 1, num_inputs)
    data = _ones(indices.size)
    if _ASSEMBLE:
        out = object.__new__(sp.csr_array)
        out.__dict__.update(_ASSEMBLE, _shape=shape, indptr=indptr, indices=indices, data=data)
    else:
        out = sp.csr_array((data, indices, indptr), shape=shape)
    if canonical:
        out.has_canonical_format = True
    return out


_ONES = np.ones(0, dtype=bool)


def _ones(size: int) -> np.ndarray:
    """`size` Trues, read-only: a view of one shared buffer (grown when needed), since every
    matrix's data is all True and no rule writes to it (SciPy copies before it changes one)."""
    global _ONES
    if _ONES.size < size:
        _ONES = np.ones(max(size, 2 * _ONES.size), dtype=bool)
        _ONES.flags.writeable = False
    return _ONES[:size]


def _assembly_fields() -> dict:
    """The attributes, other than its arrays and shape, that SciPy gives a CSR array, when
    setting them directly builds the same array as SciPy's constructor; else an empty dict
    (then `_csr` calls the constructor).

    Why: the constructor checks and converts its arrays, about 15 µs a call; a detection of a
    2D Brusselator makes 55 matrices from arrays the kernels just built valid. The check below
    runs once, at import, so that a SciPy that stores a CSR array differently falls back to the
    constructor instead of building a broken one.
    """
    indptr, indices = np.array([0, 2, 2, 3], np.int64), np.array([0, 3, 1], np.int64)
    made = sp.csr_array((np.ones(3, dtype=bool), indices, indptr), shape=(3, 4))
    arrays = ("_shape", "indptr", "indices", "data")
    fields = {k: v for k, v in made.__dict__.items() if k not in arrays}
    if not set(arrays) <= set(made.__dict__):
        return {}
    built = object.__new__(sp.csr_array)
    built.__dict__.update(fields, _shape=(3, 4), indptr=indptr, indices=indices, data=made.data)
    try:
        same = (built != made).nnz == 0 and np.array_equal(built.toarray(), made.toarray())
        same = same and np.array_equal((built @ built.T).toarray(), (made @ made.T).toarray())
    except Exception:  # a SciPy whose arrays need more than these attributes
        return {}
    return fields if same else {}


_ASSEMBLE = _assembly_fields()


def _canonical(matrix: sp.csr_array) -> sp.csr_array:
    """`matrix` with each row sorted and free of duplicates (itself when it already is)."""
    if matrix.has_canonical_format:
        return matrix
    matrix = matrix.copy()
    matrix.sum_duplicates()
    return matrix


def offsets(operands: Sequence[IndexSets]) -> list[int]:
    """Where each operand's rows start in `stack_rows(operands)`."""
    return list(np.cumsum([0, *(o.size for o in operands)])[:-1])


def take_rows(matrix: sp.csr_array, ids: np.ndarray) -> sp.csr_array:
    """Row `r` of the result is row `ids[r]` of `matrix`, or empty where `ids[r] < 0`.

    One compiled pass over the rows it copies (`gather_rows`), no Python loop over rows.
    """
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    for dtype in (_index_dtype(matrix.shape[1]), np.int64):
        indptr, indices, total = gather_rows(*_index_arrays(matrix, dtype), ids)
        if total <= np.iinfo(dtype).max:
            break  # else the int32 offsets overflowed: again in int64
    return _csr(indptr, indices, matrix.shape[1], matrix.has_canonical_format)


def union(*matrices: sp.csr_array) -> sp.csr_array:
    """Element-wise union of equally shaped dependency matrices: their rows merged pairwise
    (`merge_rows`, after putting a matrix that is not in canonical form into it)."""
    live = [m for m in matrices if m.nnz] or matrices[:1]
    out = as_csr(live[0])
    if len(live) == 1:
        return out
    out = _canonical(out)
    for m in live[1:]:
        m = _canonical(as_csr(m))
        for dtype in (_index_dtype(out.shape[1]), np.int64):
            indptr, indices, total = merge_rows(
                *_index_arrays(out, dtype), *_index_arrays(m, dtype)
            )
            if total <= np.iinfo(dtype).max:
                break
        out = _csr(indptr, indices, out.shape[1], True)
    return out


def _index_dtype(num_inputs: int):
    """int32 indices while they fit (half the memory to write and read), else int64."""
    return np.int32 if num_inputs < 2**31 - 1 else np.int64


def _index_arrays(matrix: sp.csr_array, dtype) -> tuple[np.ndarray, np.ndarray]:
    """`matrix.indptr` and `matrix.indices` as `dtype` (no copy when they are)."""
    return matrix.indptr.astype(dtype, copy=False), matrix.indices.astype(dtype, copy=False)


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
