"""Transpose rules for linear solves and Fourier transforms.

A solve x = M⁻¹ b is linear in b; its transpose is the solve with Mᵀ (a transpose, not an
adjoint: complex entries are not conjugated). The Fourier transforms are linear in their
operand: the complex ones are symmetric matrices (their own transposes); the real-to-complex
and complex-to-real ones are transposed through the pairing <u, v> = Re Σ u v that adkit uses
for complex cotangents.
"""

from __future__ import annotations

import numpy as np
from jax import lax
from jax.lax import linalg as lax_linalg

from .... import _jax_compat as jc
from ..._linear import is_undefined
from ..._zeros import is_zero
from .._table import register_transpose
from ._util import materialize


# --- triangular_solve ---
@register_transpose(lax_linalg.triangular_solve_p)
def _triangular_solve_transpose(ct, a, b, *, left_side, lower, transpose_a, conjugate_a,
                                unit_diagonal):  # fmt: skip
    # X = op(A)⁻¹ B transposes to C -> op(A)⁻ᵀ C; X = B op(A)⁻¹ to C -> C op(A)⁻ᵀ.
    # op(A)ᵀ is the same triangle with transpose_a flipped (conjugation unchanged).
    assert not is_undefined(a), "adkit bug: a triangular solve linear in its matrix."
    t_b = lax_linalg.triangular_solve_p.bind(
        a,
        materialize(ct),
        left_side=left_side,
        lower=lower,
        transpose_a=not transpose_a,
        conjugate_a=conjugate_a,
        unit_diagonal=unit_diagonal,
    )
    return [None, t_b]


# --- custom_linear_solve ---
@register_transpose(jc.custom_linear_solve_p)
def _custom_linear_solve_transpose(cts, *operands, const_lengths, jaxprs):
    # x = A⁻¹ b transposes to c -> A⁻ᵀ c: the same primitive with the roles of matvec and
    # vecmat, and of solve and transpose_solve, exchanged (auxiliary outputs are not linear)
    if jaxprs.transpose_solve is None:
        raise TypeError(
            "adkit cannot transpose a custom_linear_solve without a `transpose_solve` (reverse "
            "mode needs the solve with the transposed operator); pass `transpose_solve`, or "
            "`symmetric=True` if the operator is symmetric."
        )
    n_consts = sum(const_lengths)
    consts, b = operands[:n_consts], operands[n_consts:]
    assert not any(is_undefined(c) for c in consts), "adkit bug: a solve linear in its operator."
    cts = list(cts) if isinstance(cts, list | tuple) else [cts]
    assert all(is_zero(c) for c in cts[len(b) :]), "adkit bug: a cotangent for an aux output."
    groups = np.split(np.arange(n_consts), np.cumsum(list(const_lengths))[:-1])
    grouped = [[consts[k] for k in g] for g in groups]
    matvec, vecmat, solve, transpose_solve = grouped
    swapped = [*vecmat, *matvec, *transpose_solve, *solve]
    outs = jc.custom_linear_solve_p.bind(
        *swapped,
        *(materialize(c) for c in cts[: len(b)]),
        const_lengths=const_lengths.transpose(),
        jaxprs=jaxprs.transpose(),
    )
    return [None] * n_consts + list(outs[: len(b)])


# --- fft ---
def _fft(x, fft_type, fft_lengths):
    return lax.fft_p.bind(x, fft_type=fft_type, fft_lengths=tuple(fft_lengths))


@register_transpose(lax.fft_p)
def _fft_transpose(ct, x, *, fft_type, fft_lengths):
    ct = materialize(ct)
    kind = lax.FftType(fft_type)
    if kind in (lax.FftType.FFT, lax.FftType.IFFT):
        # the DFT matrix F (and F̄ / N) is symmetric: c -> the same transform of c
        return [_fft(ct, kind, fft_lengths)]
    if kind == lax.FftType.RFFT:
        return [_rfft_transpose(ct, fft_lengths)]
    return [_irfft_transpose(ct, fft_lengths)]


def _rfft_transpose(ct, fft_lengths):
    # rfft(t) = the first n//2+1 rows of F t for real t; with the pairing Re Σ u v the transpose
    # is c -> Re(Fᵀ [c; 0]) = Re(fft(c zero-padded back to n along the last axis))
    n = fft_lengths[-1]
    config = [(0, 0, 0)] * ct.ndim
    config[-1] = (0, n - ct.shape[-1], 0)
    padded = lax.pad(ct, np.zeros((), ct.dtype), config)
    return lax.real(_fft(padded, lax.FftType.FFT, fft_lengths))


def _irfft_transpose(ct, fft_lengths):
    # irfft(z)[t] = (1/N) Σ_k w_k Re(z_k e^{+2πi k·t/n}) (times the inverse DFT over the other
    # axes), w_k = 2 except w = 1 at k = 0 and at k = n/2 for even n (those entries appear once
    # in the Hermitian spectrum). With the pairing Re Σ u v:
    #   c -> w · conj(rfft(c)) / N,   N = prod(fft_lengths)
    n = fft_lengths[-1]
    spectrum = lax.conj(_fft(ct, lax.FftType.RFFT, fft_lengths))
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    weights = weights / float(np.prod(fft_lengths))
    weights = np.broadcast_to(weights.astype(spectrum.dtype), spectrum.shape)
    return lax.mul(spectrum, weights)
