"""Transpose rules for elementwise linear maps.

For a map linear in one operand, the transpose applies the same coefficients to the
cotangent: <a·t, c> = <t, a·c>. Sums send the cotangent to every linear summand.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from .... import _jax_compat as jc
from ..._registry import TRANSPOSE_RULES
from ..._zeros import is_undefined
from ._util import aval_of, materialize, unbroadcast, zeros


def _only_linear(operands, cts):
    """Cotangents for the linear operands, None for the others."""
    return [ct if is_undefined(x) else None for x, ct in zip(operands, cts, strict=True)]


@TRANSPOSE_RULES.register(lax.add_p)
@TRANSPOSE_RULES.register(jc.add_any_p)
def _add_transpose(ct, x, y):
    # (t1, t2) -> t1 + t2 transposes to c -> (c, c)
    return _only_linear((x, y), (unbroadcast(ct, aval_of(x)), unbroadcast(ct, aval_of(y))))


@TRANSPOSE_RULES.register(lax.sub_p)
def _sub_transpose(ct, x, y):
    # (t1, t2) -> t1 - t2 transposes to c -> (c, -c)
    return _only_linear((x, y), (unbroadcast(ct, aval_of(x)), unbroadcast(lax.neg(ct), aval_of(y))))


@TRANSPOSE_RULES.register(lax.neg_p)
def _neg_transpose(ct, x):
    return [lax.neg(ct)]  # -t  ->  -c


@TRANSPOSE_RULES.register(lax.mul_p)
def _mul_transpose(ct, x, y, *, out_dtype=None):
    # t -> a t (a fixed) transposes to c -> a c; exactly one factor is linear
    assert is_undefined(x) != is_undefined(y), "adkit bug: mul of two tangents; please report it."
    if is_undefined(x):
        return [unbroadcast(lax.mul(ct, y), x.aval), None]
    return [None, unbroadcast(lax.mul(x, ct), y.aval)]


@TRANSPOSE_RULES.register(lax.div_p)
def _div_transpose(ct, x, y):
    # t -> t / y transposes to c -> c / y (only the numerator can be linear)
    assert not is_undefined(y), "adkit bug: a tangent in a denominator; please report it."
    return [unbroadcast(lax.div(ct, y), x.aval), None]


@TRANSPOSE_RULES.register(lax.convert_element_type_p)
def _convert_transpose(ct, x, *, new_dtype, weak_type, sharding):
    # a change of precision transposes to the change back (real part if it became complex)
    if np.issubdtype(ct.dtype, np.complexfloating) and not np.issubdtype(
        x.aval.dtype, np.complexfloating
    ):
        ct = lax.real(ct)
    return [lax.convert_element_type(ct, x.aval.dtype)]


@TRANSPOSE_RULES.register(lax.reduce_precision_p)
def _reduce_precision_transpose(ct, x, *, exponent_bits, mantissa_bits):
    return [lax.reduce_precision(ct, exponent_bits, mantissa_bits)]


@TRANSPOSE_RULES.register(lax.copy_p)
def _copy_transpose(ct, x):
    return [lax.copy_p.bind(materialize(ct))]


@TRANSPOSE_RULES.register(lax.real_p)
def _real_transpose(ct, x):
    # Re(z) transposes to c -> c + 0i
    return [lax.complex(ct, np.zeros((), ct.dtype))]


@TRANSPOSE_RULES.register(lax.imag_p)
def _imag_transpose(ct, x):
    # Im(z) transposes to c -> 0 - c i  (so that <Im z, c> = Re<z, -ic>)
    return [lax.complex(np.zeros((), ct.dtype), lax.neg(ct))]


@TRANSPOSE_RULES.register(lax.complex_p)
def _complex_transpose(ct, x, y):
    # (a, b) -> a + b i transposes to c -> (Re c, -Im c)... with JAX's pairing <u, v> = Re Σ u v
    # (operands broadcast implicitly get their cotangents summed back to their shapes)
    parts = (lax.real(ct), lax.neg(lax.imag(ct)))
    return _only_linear(
        (x, y), [unbroadcast(c, aval_of(v)) for c, v in zip(parts, (x, y), strict=True)]
    )


@TRANSPOSE_RULES.register(lax.conj_p)
def _conj_transpose(ct, x, *, input_dtype):
    # conj transposes to conj for complex inputs; for a real input it was real -> complex
    if np.issubdtype(np.dtype(input_dtype), np.complexfloating):
        return [lax.conj(ct)]
    return [lax.real(ct)]


@TRANSPOSE_RULES.register(lax.select_n_p)
def _select_n_transpose(ct, which, *cases):
    # each case receives the cotangent where it was selected, zero elsewhere
    assert not is_undefined(which), "adkit bug: a tangent as a predicate; please report it."
    zero = zeros(aval_of(cases[0]))
    out = [None]
    for k, case in enumerate(cases):
        if not is_undefined(case):
            out.append(None)
            continue
        picks = [zero] * len(cases)
        picks[k] = materialize(ct)
        out.append(lax.select_n(which, *picks))
    return out
