"""VJP rules (tape path of reverse mode): random keys and bits, debug effects, platform dispatch,
total-order comparisons and optimization barriers.

Only the barrier computes a differentiable function of its floating-point inputs (the
identity); the others produce keys, integers, booleans or nothing,
so nothing flows back through them.
"""

from __future__ import annotations

from jax import lax

from .... import _jax_compat as jc
from ..builders import from_transpose, no_cotangent

# --- keys, random bits and the threefry hash: keys and unsigned integers ---
for _name in (
    "random_seed",
    "random_bits",
    "random_split",
    "random_fold_in",
    "threefry2x32",
    "random_wrap",
    "random_unwrap",
    "random_clone",
):
    no_cotangent(jc.primitive_by_name(_name))

# --- the comparisons of sort's total order: boolean outputs ---
for _p in (lax.eq_to_p, lax.le_to_p, lax.lt_to_p):
    no_cotangent(_p)

# --- the index of the platform being compiled for: no operands, an integer output ---
no_cotangent(jc.primitive_by_name("platform_index"))

# --- debug effects: no outputs, so no cotangent ever reaches them and the backward sweep never
# calls their rule (the effect happens once, on the forward sweep) ---
for _name in ("debug_print", "debug_callback"):
    no_cotangent(jc.primitive_by_name(_name))

# --- a scheduling fence, the identity on the elements ---
# barrier(x₁, …, xₙ) = (x₁, …, xₙ): x̄ₖ = ȳₖ, passed through one barrier together
from_transpose(lax.optimization_barrier_p)
