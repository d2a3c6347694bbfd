"""Sparsity of the element-wise primitives: an output element depends on the same element of
each operand (a scalar operand: on its one element).

`out[e] = f(x[e], y[e], ...)` depends on the union of what `x[e]`, `y[e]`, ... depend on. Three
refinements keep patterns tight without losing soundness:
- a piecewise-constant function (floor, sign, a comparison) has derivative zero: no dependence;
- `mul` by a known zero is zero, whatever the other factor: `0 * y` depends on nothing;
- `select_n` with a known predicate picks one case per element: an index map.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..._registry import SPARSITY_RULES
from ._maps import from_ids
from ._sets import IndexSets, take_rows, union, unknown, with_matrix


def _rows_for(operand: IndexSets, shape) -> sp.csr_array:
    """The operand's matrix with one row per output element: a scalar's row repeated, a size-1
    axis stretched (lax's element-wise operations broadcast size-1 axes of equal-rank operands)."""
    if operand.shape == tuple(shape):
        return operand.matrix
    ids = np.arange(operand.size).reshape(operand.shape)
    return take_rows(operand.matrix, np.broadcast_to(ids, shape).reshape(-1))


def elementwise(operands, out_avals, **_):
    # out[e] = f(x[e], y[e], ...): the union of the operands' sets at e
    shape = out_avals[0].shape
    live = [o for o in operands if not o.independent]
    return [with_matrix(shape, union(*(_rows_for(o, shape) for o in live)))]


def no_dependence(operands, out_avals, **_):
    # d floor(x) = 0 (almost everywhere): a piecewise-constant output depends on nothing
    return [unknown(a.shape, operands[0].num_inputs) for a in out_avals]


def mul(operands, out_avals, **_):
    # x * y, where a known factor is zero the product is zero: d(0 * y) = 0
    (out,) = elementwise(operands, out_avals)
    zero = np.zeros(out.shape, dtype=bool)
    for o in operands:
        if o.known:
            zero |= np.broadcast_to(np.asarray(o.value) == 0, out.shape)
    if not zero.any():
        return [out]
    ids = np.where(zero.reshape(-1), -1, np.arange(out.size))
    return [with_matrix(out.shape, take_rows(out.matrix, ids))]


def select_n(operands, out_avals, **_):
    # out[e] = cases[which[e]][e]: with `which` known, each element reads one case
    which, *cases = operands
    if not which.known:
        return elementwise(cases, out_avals)
    shape = out_avals[0].shape
    size = int(np.prod(shape, dtype=np.int64))
    picked = np.broadcast_to(np.asarray(which.value).astype(np.int64), shape).reshape(-1)
    ids = picked * size + np.arange(size)
    full = [IndexSets(shape, _rows_for(c, shape)) for c in cases]
    return [from_ids(full, ids.reshape(shape))]


_SMOOTH = (
    "abs",
    "acos",
    "acosh",
    "add",
    "add_any",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "bessel_i0e",
    "bessel_i1e",
    "cbrt",
    "clamp",
    "complex",
    "conj",
    "convert_element_type",
    "cos",
    "cosh",
    "digamma",
    "div",
    "erf",
    "erf_inv",
    "erfc",
    "exp",
    "exp2",
    "expm1",
    "igamma",
    "igammac",
    "imag",
    "integer_pow",
    "lgamma",
    "log",
    "log1p",
    "logistic",
    "max",
    "min",
    "neg",
    "nextafter",
    "polygamma",
    "pow",
    "real",
    "rem",
    "rsqrt",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "sub",
    "tan",
    "tanh",
    "zeta",
    "regularized_incomplete_beta",
)
_PIECEWISE_CONSTANT = (
    "ceil",
    "floor",
    "round",
    "sign",
    "is_finite",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "and",
    "or",
    "not",
    "xor",
    "clz",
    "population_count",
    "shift_left",
    "shift_right_arithmetic",
    "shift_right_logical",
    "stop_gradient",
    "eq_to",
    "le_to",
    "lt_to",
)

for _name in _SMOOTH:
    SPARSITY_RULES.register(_name, elementwise)
for _name in _PIECEWISE_CONSTANT:
    SPARSITY_RULES.register(_name, no_dependence)
SPARSITY_RULES.register("mul", mul)
SPARSITY_RULES.register("select_n", select_n)
