"""Finding the primitive behind a failed derivative check.

A whole function's derivative is built from its primitives' rules, so when it is wrong, some
primitive's rule is wrong at the values it sees. `adkit.trace` records every primitive the
function applies and its input values; each is then checked on its own, in the same mode, to
the same order and with the same transforms, and the first that fails is named.
"""

from __future__ import annotations

import copy

import jax.numpy as jnp


def first_failing_primitive(ctx, mode: str, level: int) -> str | None:
    """Names the first primitive of `ctx.top_f` failing the check alone, e.g. "'sin' (row v4)"."""
    from ..interpreter import trace
    from ._check_grads import DerivativeCheckError, _check, _transform_functions

    try:
        tape = trace(ctx.top_f, *ctx.top_args)
    except Exception:  # a function the tape cannot record: report without a culprit
        return None
    jvp, vjp = _transform_functions(ctx.transforms)
    local = copy.copy(ctx)
    local.localizing = True
    for entry in tape.entries:
        if entry.primitive is None or not any(_inexact(v) for v in entry.input_values):
            continue
        prim, params = entry.primitive, entry.rule_params

        def apply(*xs, prim=prim, params=params):
            return prim.bind(*xs, **prim.get_bind_params(params))

        local.name = entry.op
        try:
            _check(apply, tuple(entry.input_values), level, (mode,), local, jvp, vjp, 1)
        except DerivativeCheckError:
            return f"'{entry.op}' (row {entry.outputs[0]} of the tape)"
        except Exception:  # a primitive that cannot be checked on its own is passed over
            continue
    return None


def _inexact(x) -> bool:
    return jnp.issubdtype(jnp.result_type(x), jnp.inexact)
