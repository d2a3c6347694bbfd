"""The tangent of a checkpointed scan, as one primitive that reverse mode transposes under the
schedule.

A checkpointed scan is a `jax.custom_jvp` function. Its JVP rule runs the forward sweep (the
outputs, the snapshots, the state the reverse sweep starts from) and returns the tangent as
`checkpoint_tangent_p`, a primitive linear in the input tangents:

    ṫ_out = J(consts, init, xs) · (k̇, ċ₀, ẋs)

- evaluated (forward mode, `jax.jvp`), it runs the loop's JVP as a `lax.scan`: O(1) memory;
- transposed (reverse mode, `jax.grad`), it runs the schedule's reverse sweep (see
  `_program`): restores, advances and stores snapshots, and pulls each step's cotangent back
  with the VJP of that step, accumulating the loop parameters' cotangents in ONE buffer;
- batched (`jax.vmap`), it is the same primitive on the batched step;
- differentiated again (forward over forward), its JVP is that of the scan above.

Its operands: the loop's parameters (consts), init, xs, the snapshot buffer, the held state,
then the tangents of the perturbed float leaves among consts, init and xs (the mask
`perturbed`). Its results: the tangents of the float leaves of the final carry and of ys.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _jax_compat as jc
from ..ops._primitive import define_primitive, is_undefined
from . import _seed
from ._program import Program


def is_float(leaf) -> bool:
    return jnp.issubdtype(jnp.result_type(leaf), jnp.inexact)


def call(step, n_carry: int, consts, carry, x) -> tuple[list, list]:
    """One step, on flat leaves: `(carry, y)`."""
    out = jc.jaxpr_as_fun(step)(*consts, *carry, *x)
    return list(out[:n_carry]), list(out[n_carry:])


def read_row(array, index):
    """`array[index]` for a traced in-range index: one dynamic slice (`array[index]` also
    wraps negative indices, three more operations to trace, lower and compile)."""
    return lax.dynamic_index_in_dim(array, index, keepdims=False)


def put(array, index, value):
    """`array` with row `index` set to `value`: a plain dynamic-update-slice (the index is in
    range by construction), where `array.at[index].set(value)` is a scatter that XLA lowers
    with a bounds check, two more kernels in every loop it is in."""
    return lax.dynamic_update_index_in_dim(array, value, index, 0)


def cut(values, sizes) -> list[list]:
    """`values` cut into consecutive lists of the given sizes, and the rest."""
    values, parts, start = list(values), [], 0
    for size in sizes:
        parts.append(values[start : start + size])
        start += size
    return [*parts, values[start:]]


def _unpack(operands, counts, perturbed):
    nk, nc, nx = counts
    return cut(operands, [nk, nc, nx, nc, nc])


def _masks(counts, perturbed):
    nk, nc, _ = counts
    return perturbed[:nk], perturbed[nk : nk + nc], perturbed[nk + nc :]


def _merge(values, mask, chosen):
    """`values` with the leaves where `mask` holds replaced, in order, by `chosen`."""
    chosen = iter(chosen)
    return [next(chosen) if m else v for v, m in zip(values, mask, strict=True)]


def _where(values, mask):
    return [v for v, m in zip(values, mask, strict=True) if m]


# --- evaluation: forward mode ---
def _impl(*operands, step, counts, perturbed, program):
    """The loop's JVP, J · (k̇, ċ₀, ẋs), as a scan (the primal recomputed beside the tangent)."""
    consts, init, xs, _, _, tangents = _unpack(operands, counts, perturbed)
    mask_k, mask_c, mask_x = _masks(counts, perturbed)

    def loop(k, c, x):
        consts_, init_, xs_ = (
            _merge(consts, mask_k, k),
            _merge(init, mask_c, c),
            _merge(xs, mask_x, x),
        )
        body = lambda carry, row: call(step, len(init), consts_, carry, row)
        carry, ys = lax.scan(body, init_, xs_, length=program.length)
        return [o for o in carry + ys if is_float(o)]

    primals = (_where(consts, mask_k), _where(init, mask_c), _where(xs, mask_x))
    t_k, t_c, t_x = cut(tangents, [sum(mask_k), sum(mask_c)])
    return jax.jvp(loop, primals, (t_k, t_c, t_x))[1]


def _abstract_eval(*avals, step, counts, perturbed, program):
    nc = counts[1]
    carry, ys = step.out_avals[:nc], step.out_avals[nc:]
    stacked = [jc.ShapedArray((program.length, *a.shape), a.dtype) for a in ys]
    return [jc.ShapedArray(a.shape, a.dtype) for a in carry + stacked if is_float(a)]


def _jvp(primals, tangents, **params):
    """J(r)·t is linear in the tangent operands t, nonlinear in the others r (the loop's
    values): d(J(r)·t) = J(r)·dt + (∂_r J(r)·t)·dr. The first term is the primitive again (so a
    reverse pass transposes it under the schedule); the second, needed only when the loop's
    values are perturbed (forward over forward), is the JVP of `_impl` in r."""
    return linear_jvp(checkpoint_tangent_p, _impl, primals, tangents, params)


def linear_jvp(primitive, impl, primals, tangents, params):
    """The JVP of a primitive linear in its last `sum(perturbed)` operands (see `_jvp`)."""
    out = primitive.bind(*primals, **params)
    n = len(primals) - sum(params["perturbed"])
    values, directions = list(primals[:n]), list(primals[n:])
    moved = [t is not None for t in tangents[n:]]
    if any(moved):
        along = [
            t if t is not None else jnp.zeros_like(d)
            for t, d in zip(tangents[n:], directions, strict=True)
        ]
        tangent = primitive.bind(*values, *along, **params)
    else:
        tangent = [jnp.zeros_like(o) for o in out]
    if any(t is not None for t in tangents[:n]):
        value_tangents = [
            _zero_tangent(p) if t is None else t for p, t in zip(values, tangents[:n], strict=True)
        ]
        curve = lambda *v: impl(*v, *directions, **params)
        extra = jax.jvp(curve, values, value_tangents)[1]
        tangent = [a + b for a, b in zip(tangent, extra, strict=True)]
    return out, tangent


def _zero_tangent(x):
    if is_float(x):
        return jnp.zeros_like(x)
    return np.zeros(np.shape(x), jax.dtypes.float0)


# --- transposition: reverse mode, under the schedule ---
def _transpose(cts, *operands, step, counts, perturbed, program):
    consts, init, xs, buffer, held, tangents = _unpack(operands, counts, perturbed)
    if any(is_undefined(v) for v in consts + init + xs + buffer + held):
        raise TypeError(
            "A checkpointed scan's tangent is linear in the tangents only; it was asked to "
            "transpose with respect to a primal value. This is an adkit bug: please report it."
        )
    wanted = iter(is_undefined(t) for t in tangents)
    want = [bool(m) and next(wanted) for m in perturbed]
    mask_k, mask_c, mask_x = _masks(counts, tuple(want))
    sweep = ReverseSweep(step, program, consts, init, xs, mask_k, mask_x)
    ct_carry, ct_k, ct_x = sweep.run(held, buffer, cts)
    ct_init = _where(ct_carry, [m for m, i in zip(mask_c, init, strict=True) if is_float(i)])
    out = iter(ct_k + ct_init + ct_x)
    answer = [next(out) if w else None for w in want]
    return [None] * (len(operands) - len(tangents)) + [
        a for a, m in zip(answer, perturbed, strict=True) if m
    ]


class ReverseSweep:
    """The reverse sweep of one checkpointed scan (see `_program` for the rows it executes)."""

    def __init__(self, step, program: Program, consts, init, xs, mask_k, mask_x):
        self.step, self.program, self.init = step, program, init
        # as JAX arrays (an operand may arrive as a NumPy constant); a tracer stays itself
        self.consts, self.xs = [_array(c) for c in consts], [_array(a) for a in xs]
        self.n_carry = len(init)
        self.fk = [j for j, m in enumerate(mask_k) if m]  # the parameters differentiated
        self.fx = [j for j, m in enumerate(mask_x) if m]  # the xs differentiated
        self.fc = [j for j, c in enumerate(init) if is_float(c)]
        self.fy = [j for j, a in enumerate(step.out_avals[self.n_carry :]) if is_float(a)]

    # one step, and its VJP with respect to the differentiated float leaves
    def advance(self, i, state):
        return call(self.step, self.n_carry, self.consts, state, self.row_of(i))[0]

    def linearize(self, consts, x, state):
        """`(next state, pullback)` of the step at `state` with parameters `consts`, input `x`."""

        def f(k, c, xi):
            carry, y = call(
                self.step,
                self.n_carry,
                _replace(consts, self.fk, k),
                _replace(state, self.fc, c),
                _replace(x, self.fx, xi),
            )
            floats = ([carry[j] for j in self.fc], [y[j] for j in self.fy])
            return floats, carry  # the whole next state rides along as the auxiliary output

        primals = (
            [consts[j] for j in self.fk],
            [state[j] for j in self.fc],
            [x[j] for j in self.fx],
        )
        _, pullback, carry = jax.vjp(f, *primals, has_aux=True)
        return carry, pullback

    def row_of(self, i):
        return [read_row(a, i) for a in self.xs]

    def pull(self, i, pullback, ct_carry, acc_k, ct_xs, ct_ys):
        params = [self.consts[j] for j in self.fk]
        with _seed.offering(params, acc_k) as taken:  # an inner loop may start from acc_k
            d_k, d_c, d_x = pullback((ct_carry, [read_row(a, i) for a in ct_ys]))
        acc_k = [d if t else a + d for a, d, t in zip(acc_k, d_k, taken, strict=True)]
        ct_xs = [put(a, i, d) for a, d in zip(ct_xs, d_x, strict=True)]
        return d_c, acc_k, ct_xs

    # the sweep
    def run(self, held, buffer, cts):
        program = self.program
        n_cf = len(self.fc)
        ct_carry, ct_ys = list(cts[:n_cf]), list(cts[n_cf:])
        acc_k = [_seed.start(self.consts[j], jnp.zeros_like(self.consts[j])) for j in self.fk]
        ct_xs = [jnp.zeros_like(self.xs[j]) for j in self.fx]
        steps, codes = jnp.asarray(program.step), jnp.asarray(program.code)
        counts = None if program.count is None else jnp.asarray(program.count)
        reverse_block = self.tape_block if program.block > 1 else self.reverse_one
        if program.block > 1:
            self.prepare_tape(held, self.row_of(0))
        at = lambda array, t: read_row(array, t).astype(jnp.int32)

        def advance(state):  # one advance entry: x_{i+1} from x_i, written into its row
            t, current, buffer = state
            current = self.advance(at(steps, t), current)
            buffer = [put(b, at(codes, t), c) for b, c in zip(buffer, current, strict=True)]
            return t + 1, current, buffer

        def block(state):  # restore, advance, then the reverse entry
            t, current, buffer, ct_carry, acc_k, ct_xs = state
            restore = -2 - at(codes, t - 1)  # named by the entry before the block
            restored = self.read(buffer, restore)
            if program.always_restores:  # revolve: every block starts from a snapshot
                current = restored
            else:
                current = [
                    jnp.where(restore >= 0, r, c) for c, r in zip(current, restored, strict=True)
                ]
            advancing = lambda state: at(codes, state[0]) >= 0
            t, current, buffer = lax.while_loop(advancing, advance, (t, current, buffer))
            count = 1 if counts is None else at(counts, t)
            ct_carry, acc_k, ct_xs = reverse_block(
                at(steps, t), count, current, ct_carry, acc_k, ct_xs, ct_ys
            )
            return t + 1, current, buffer, ct_carry, acc_k, ct_xs

        state = (jnp.int32(1), list(held), list(buffer), ct_carry, acc_k, ct_xs)
        size = len(program.step)
        *_, ct_carry, acc_k, ct_xs = lax.while_loop(lambda s: s[0] < size, block, state)
        return ct_carry, acc_k, ct_xs

    def read(self, buffer, slot):  # slot 0 is x₀, the loop's input
        saved = [read_row(b, jnp.maximum(slot - 1, 0)) for b in buffer]
        return [jnp.where(slot == 0, a, b) for a, b in zip(self.init, saved, strict=True)]

    def reverse_one(self, index, count, current, ct_carry, acc_k, ct_xs, ct_ys):
        _, pullback = self.linearize(self.consts, self.row_of(index), current)
        return self.pull(index, pullback, ct_carry, acc_k, ct_xs, ct_ys)

    # taping a block: residuals kept in a buffer of `program.block` rows
    def prepare_tape(self, held, x):
        """The taping step as one jaxpr, `(consts, state, x) -> (next state, the pullback's
        leaves)`, so that every evaluation yields the same leaves; and which leaves are loop
        parameters (read from the parameters again, not stored)."""

        def forward(consts, state, x):
            carry, pullback = self.linearize(consts, x, state)
            leaves, self.treedef = jax.tree.flatten(pullback)
            return carry, leaves

        self.taping = jax.make_jaxpr(forward)(self.consts, list(held), list(x))
        jaxpr = self.taping.jaxpr
        params = {v: j for j, v in enumerate(jaxpr.invars[: len(self.consts)])}
        self.const_of = [params.get(v) for v in jaxpr.outvars[self.n_carry :]]
        avals = self.taping.out_avals[self.n_carry :]
        self.tape_shapes = [a for a, j in zip(avals, self.const_of, strict=True) if j is None]

    def tape_block(self, start, count, current, ct_carry, acc_k, ct_xs, ct_ys):
        length = self.program.block
        tape = [jnp.zeros((length, *a.shape), a.dtype) for a in self.tape_shapes]

        def record(j, state):
            current, tape = state
            out = jc.jaxpr_as_fun(self.taping)(*self.consts, *current, *self.row_of(start + j))
            current, leaves = list(out[: self.n_carry]), out[self.n_carry :]
            stored = [leaf for leaf, c in zip(leaves, self.const_of, strict=True) if c is None]
            tape = [put(t, j, leaf) for t, leaf in zip(tape, stored, strict=True)]
            return current, tape

        _, tape = lax.fori_loop(0, count, record, (current, tape))

        def sweep_back(n, state):
            ct_carry, acc_k, ct_xs = state
            j = count - 1 - n
            rows = iter([read_row(t, j) for t in tape])
            flat = [next(rows) if c is None else self.consts[c] for c in self.const_of]
            pullback = jax.tree.unflatten(self.treedef, flat)
            return self.pull(start + j, pullback, ct_carry, acc_k, ct_xs, ct_ys)

        return lax.fori_loop(0, count, sweep_back, (ct_carry, acc_k, ct_xs))


def tape_bytes(step, counts) -> int:
    """The bytes of one step's tape: its pullback's residuals, the loop parameters (read again,
    not stored) left out; every float parameter differentiated, the inputs x not."""
    nk, nc, nx = counts
    structs = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in step.in_avals]
    consts, state, x = cut(structs, [nk, nc])
    sweep = ReverseSweep(
        step,
        None,
        consts,
        state,
        [],
        [is_float(c) for c in consts],
        [False] * nx,
    )
    sweep.prepare_tape(state, x)
    return sum(a.size * a.dtype.itemsize for a in sweep.tape_shapes)


def _array(value):
    """A JAX array (NumPy constants converted); tracers and shape structs stay themselves."""
    return value if isinstance(value, jax.ShapeDtypeStruct) else jnp.asarray(value)


def _replace(values, indices, chosen):
    values = list(values)
    for j, v in zip(indices, chosen, strict=True):
        values[j] = v
    return values


# --- batching: the same primitive on the batched step ---
def _batch(args, dims, *, step, counts, perturbed, program):
    nk, nc, nx = counts
    size = next(a.shape[d] for a, d in zip(args, dims, strict=True) if d is not None)
    consts, init, xs, buffer, held, tangents = _unpack(
        list(zip(args, dims, strict=True)), counts, perturbed
    )
    tangent_of = iter(tangents)
    paired = [next(tangent_of) if m else None for m in perturbed]
    batched_k = [
        d is not None or (t is not None and t[1] is not None)
        for (_, d), t in zip(consts, paired[:nk], strict=True)
    ]

    def move(pair, axis, batched=True):
        value, dim = pair
        if not batched:
            return value
        if dim is None:
            value = jnp.expand_dims(value, axis)
            return jnp.broadcast_to(value, (*value.shape[:axis], size, *value.shape[axis + 1 :]))
        return jnp.moveaxis(value, dim, axis)

    moved = (
        [move(c, 0, b) for c, b in zip(consts, batched_k, strict=True)]
        + [move(c, 0) for c in init]
        + [move(x, 1) for x in xs]
        + [move(b, 1) for b in buffer]
        + [move(h, 0) for h in held]
    )
    kinds = (
        [("k", j) for j in range(nk)]
        + [("c", j) for j in range(nc)]
        + [("x", j) for j in range(nx)]
    )
    for (kind, j), t in zip(kinds, paired, strict=True):
        if t is not None:
            moved.append(move(t, 1 if kind == "x" else 0, batched_k[j] if kind == "k" else True))

    def batched_step(*leaves):
        in_axes = [0 if b else None for b in batched_k] + [0] * (len(leaves) - nk)
        return jax.vmap(jc.jaxpr_as_fun(step), in_axes=in_axes)(*leaves)

    avals = [
        jax.ShapeDtypeStruct(((size,) if b else ()) + tuple(a.shape), a.dtype)
        for a, b in zip(step.in_avals, batched_k + [True] * (len(step.in_avals) - nk), strict=True)
    ]
    new_step = jax.make_jaxpr(batched_step)(*avals)
    out = checkpoint_tangent_p.bind(
        *moved, step=new_step, counts=counts, perturbed=perturbed, program=program
    )
    floats_carry = sum(is_float(a) for a in step.out_avals[:nc])
    return out, [0] * floats_carry + [1] * (len(out) - floats_carry)


checkpoint_tangent_p = define_primitive(
    "checkpoint_tangent",
    _impl,
    jvp=_jvp,
    transpose=_transpose,
    batch=_batch,
    abstract_eval=_abstract_eval,
    multiple_results=True,
)


def bind(consts, init, xs, buffer, held, tangents, **params: Any) -> list:
    return checkpoint_tangent_p.bind(*consts, *init, *xs, *buffer, *held, *tangents, **params)
