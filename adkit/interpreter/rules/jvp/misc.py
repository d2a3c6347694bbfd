"""JVP rules for plumbing primitives: random keys and bits, debug effects, platform dispatch,
total-order comparisons and optimization barriers.

None of these computes a differentiable function of floating-point inputs except the barrier,
which is the identity: the others produce keys, integers, booleans or nothing, so their tangent
is zero (or there is none), and the rule only has to run the primitive on the primals, once
(a debug print in the program prints once in its JVP).
"""

from __future__ import annotations

from jax import lax

from .... import _jax_compat as jc
from ..._registry import JVP_RULES
from ..._zeros import Zero, is_zero
from ..builders import zero_tangent

# --- keys, random bits and the threefry hash: keys and unsigned integers, zero tangent ---
for _name in ("random_seed", "random_bits", "random_split", "random_fold_in", "threefry2x32"):
    _p = jc.primitive_by_name(_name)
    JVP_RULES.register(_p, zero_tangent(_p))
for _name in ("random_wrap", "random_unwrap", "random_clone"):
    _p = jc.primitive_by_name(_name)
    JVP_RULES.register(_p, zero_tangent(_p))

# --- the comparisons of sort's total order (NaNs and signed zeros ordered): boolean outputs ---
for _p in (lax.eq_to_p, lax.le_to_p, lax.lt_to_p):
    JVP_RULES.register(_p, zero_tangent(_p))

# --- the index of the platform being compiled for: no operands, an integer output ---
_p = jc.primitive_by_name("platform_index")
JVP_RULES.register(_p, zero_tangent(_p))

# --- debug effects: no outputs; the rule binds the primitive on the primals (printing once) ---
for _name in ("debug_print", "debug_callback"):
    _p = jc.primitive_by_name(_name)
    JVP_RULES.register(_p, zero_tangent(_p))


@JVP_RULES.register(lax.optimization_barrier_p)
def _optimization_barrier_jvp(primals, tangents):
    # the identity, d barrier(x) = barrier(dx): the nonzero tangents pass through a barrier of
    # their own (one barrier over primals and tangents together would make the primal outputs
    # depend on the tangents, which reverse mode cannot split into a forward and a linear part)
    outs = lax.optimization_barrier_p.bind(*primals)
    nonzero = [t for t in tangents if not is_zero(t)]
    tangent_outs = iter(lax.optimization_barrier_p.bind(*nonzero))
    return outs, [
        Zero.like(p) if is_zero(t) else next(tangent_outs)
        for p, t in zip(outs, tangents, strict=True)
    ]
