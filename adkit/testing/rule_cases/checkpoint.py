"""Rule cases for the tangent primitives of `adkit.checkpoint`'s loops.

Each program binds the primitive itself: the tangent of a small RNN loop (5 steps, h ← tanh(w h
+ x) + 0.1 sin(h)) with respect to its parameter and initial state, at a fixed point (w, h₀,
xs), as a function of the tangents (the arguments). The program is linear in them, so reverse
mode runs the primitive's transpose (the schedule's reverse sweep) and the dot-product test
pairs it with the JVP; JAX's derivatives of the same program are the reference.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...checkpoint import _online
from ...checkpoint._program import cached
from ...checkpoint._tangent import checkpoint_tangent_p
from ...checkpoint._while import while_tangent_p
from . import RuleCase, normal

STEPS = 5


def _step(w, h, x):
    return jnp.tanh(w * h + x) + 0.1 * jnp.sin(h)


def _point(dtype):
    rng = np.random.default_rng(7)
    normal = lambda *shape: jnp.asarray(rng.standard_normal(shape), dtype)
    return normal(3), normal(3), normal(STEPS, 3)


def _scan_tangent(tw, th):
    w, h0, xs = _point(tw.dtype)
    program = cached("revolve", STEPS, 2)
    step = jax.make_jaxpr(lambda w, h, x: [_step(w, h, x), jnp.sum(h)])(w, h0, xs[0])
    states = [h0]
    for i in range(STEPS):
        states.append(_step(w, states[-1], xs[i]))
    buffer = jnp.zeros((program.slots + 1, *h0.shape), h0.dtype)
    for i, slot in enumerate(program.forward_slot):  # as the forward sweep writes it: unstored
        buffer = buffer.at[slot - 1 if slot else program.slots].set(states[i])  # to the spare row
    operands = (w, h0, xs, buffer, states[program.held], tw, th)
    params = dict(counts=(1, 1, 1), perturbed=(True, True, False), program=program)
    return checkpoint_tangent_p.bind(*operands, step=step, **params)


def _while_tangent(tw, th):
    w, h0, _ = _point(tw.dtype)
    snapshots = 2
    step = jax.make_jaxpr(lambda w, h: [_step(w, h, 0.5)])(w, h0)
    test = jax.make_jaxpr(lambda h: [True])(h0)
    with jax.ensure_compile_time_eval():  # the placement depends on the step count only
        placement, slots = _online.placement_init(snapshots), []
        for i in range(STEPS - 1):  # x_i is placed once step i + 1 runs
            placement, slot = _online.place(placement, i)
            slots.append(int(slot))
    states = [h0]
    for _ in range(STEPS):
        states.append(_step(w, states[-1], 0.5))
    buffer = jnp.zeros((snapshots, *h0.shape), h0.dtype)
    for i, slot in enumerate(slots):
        buffer = buffer.at[slot - 1 if slot else snapshots - 1].set(states[i])
    operands = (w, h0, buffer, states[STEPS - 1], jnp.int32(STEPS), placement.positions, tw, th)
    params = dict(counts=(1, 0, 1), perturbed=(True, True), max_steps=STEPS, batch=0)
    return while_tangent_p.bind(*operands, step=step, test=test, **params)


CASES = [
    RuleCase("checkpoint_tangent", _scan_tangent, normal((3,), (3,))),
    RuleCase("checkpoint_while_tangent", _while_tangent, normal((3,), (3,))),
]
