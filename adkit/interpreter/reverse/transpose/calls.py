"""The transpose path through `custom_vjp`: the user's bwd is the transpose of its linearization.

When reverse mode linearizes a `jax.custom_vjp` function, its JVP rule (`forward/calls.py`) runs
the user's fwd and leaves one opaque linear equation, `custom_vjp_lin(residuals, tangents)`.
Its transpose applies the user's bwd to the residuals and the output cotangents. (`jit` and
`jax.checkpoint` regions are linearized through by the engine itself.)
"""

from __future__ import annotations

from .... import _jax_compat as jc
from ..._registry import TRANSPOSE_RULES
from ..._zeros import is_zero
from ...forward.calls import custom_vjp_lin_p


@TRANSPOSE_RULES.register(custom_vjp_lin_p)
def _custom_vjp_lin_transpose(cts, *operands, num_residuals, bwd, out_avals, symbolic_zeros):
    # the user's bwd: (residuals, output cotangents) -> input cotangents
    residuals = operands[:num_residuals]
    cts = [None if is_zero(c) else c for c in cts]
    input_cts = jc.custom_vjp_backward(
        {"bwd": bwd.value}, residuals, cts, out_avals, symbolic_zeros
    )
    return [None] * num_residuals + [None if ct is None else ct for ct in input_cts]
