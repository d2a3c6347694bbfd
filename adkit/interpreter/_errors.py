"""Errors and messages shared by the engines (so that none imports another for them)."""

from __future__ import annotations

NO_FORWARD_MODE = (
    "can't apply forward-mode autodiff (jvp) to a custom_vjp function. (JAX's words; adkit's "
    "reason is the same: its user-defined rule is a VJP only.) Use reverse mode "
    "(`adkit.vjp`/`adkit.grad`), or define the function with `jax.custom_jvp` to make it "
    "forward-differentiable."
)


class BatchedBeforeDifferentiated(TypeError):
    """A staged program that `jax.vmap` batched before adkit could differentiate it, in a way
    its derivative cannot be read from (see `forward/calls.py`); define-by-run, which
    differentiates in JAX's order, can (`eager/dispatch.py`)."""
