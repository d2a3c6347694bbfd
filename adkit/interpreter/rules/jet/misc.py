"""Jet rules for plumbing: random keys and bits, total-order comparisons, platform dispatch,
debug effects (integers, booleans, keys or nothing: every higher coefficient is zero), and the
optimization barrier (the identity, so linear)."""

from __future__ import annotations

from jax import lax

from .... import _jax_compat as jc
from ..._registry import JET_RULES
from ._builders import constant_output, linear

_CONSTANT = (
    "random_seed",
    "random_bits",
    "random_split",
    "random_fold_in",
    "threefry2x32",
    "random_wrap",
    "random_unwrap",
    "random_clone",
    "platform_index",
    "debug_print",
    "debug_callback",
)
for _name in _CONSTANT:
    _p = jc.primitive_by_name(_name)
    JET_RULES.register(_p, constant_output(_p))
for _p in (lax.eq_to_p, lax.le_to_p, lax.lt_to_p):
    JET_RULES.register(_p, constant_output(_p))

JET_RULES.register(lax.optimization_barrier_p, linear(lax.optimization_barrier_p))
