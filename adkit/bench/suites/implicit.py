"""The implicit suite: hypergradients and equilibrium layers, adkit.implicit against its peers.

Two workloads, each a gradient computed several ways in the same run:

- **ridge**: the gradient of a validation loss with respect to the ridge penalty λ, the ridge
  solution found by CG (n=2000, d=200, float64). Baseline: the closed form's computation
  (JAX differentiating a dense solve). Peers: jaxopt's `custom_root` with its default backward
  solve (CG on the normal equations) around the same CG forward; optimistix's `root_find`
  (Newton) with its default `ImplicitAdjoint`; unrolled CG (`jax.grad` through 50 steps).
- **deq**: z = tanh(W z + U x + b), width 256, batch 64, float64; the gradient of a loss of z*
  with respect to W, U, b. Baseline: backprop through 60 plain iterations. adkit with the same
  plain forward iteration and a Neumann backward, and with Anderson; jaxopt's
  `FixedPointIteration` with its default implicit differentiation; optimistix's `fixed_point`
  with its default `ImplicitAdjoint` (it materialises the 16384 x 16384 Jacobian, so it is
  only compiled: its XLA temp bytes, not run).

Memory is measured twice: XLA's temp bytes for the whole jitted gradient (forward solve
included), and the backward pass's own memory: the residuals the forward pass stored for it
(every iterate, when unrolling; the solution, implicitly) plus XLA's temp bytes for the backward
alone. Errors are relative to the exact gradient: the closed form in float64 (ridge), and backprop
through 120 iterations of a contraction of rate 1/2 (deq).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from adkit import implicit

from .._registry import Suite, Variant, Workload, register_suite
from .implicit_problems import (
    deq_params,
    deq_unrolled,
    ridge_closed_form,
    ridge_data,
    ridge_optimality,
    ridge_solver,
    validation_loss,
)

TOL = 1e-8  # what the iterative variants are asked for (the targets are at <= 1e-6 error)


# --- ridge ---
def _ridge_closed(lam, X, y, V, w):
    A = X.T @ X + lam * jnp.eye(X.shape[1], dtype=X.dtype)
    return validation_loss(jnp.linalg.solve(A, y @ X), V, w)


def _cg(init, lam, X, y):
    from jax.scipy.sparse.linalg import cg

    matvec = lambda v: (X @ v) @ X + lam * v
    return cg(matvec, y @ X, x0=init, tol=TOL * 1e-2, maxiter=10 * X.shape[1])[0]


def _ridge_adkit(lam, X, y, V, w):
    x = ridge_solver(TOL)(jnp.zeros(X.shape[1], X.dtype), lam, X, y)
    return validation_loss(x, V, w)


def _ridge_jaxopt(lam, X, y, V, w):
    from jaxopt.implicit_diff import custom_root

    x = custom_root(ridge_optimality)(_cg)(jnp.zeros(X.shape[1], X.dtype), lam, X, y)
    return validation_loss(x, V, w)


def _ridge_optimistix(lam, X, y, V, w):
    import optimistix as optx

    F = lambda x, args: ridge_optimality(x, *args)
    solver = optx.Newton(rtol=TOL, atol=TOL)
    x = optx.root_find(F, solver, jnp.zeros(X.shape[1], X.dtype), (lam, X, y)).value
    return validation_loss(x, V, w)


def _ridge_unrolled(lam, X, y, V, w, steps=50):
    matvec = lambda v: (X @ v) @ X + lam * v

    def step(i, state):  # conjugate gradients, differentiated step by step
        x, r, p, rr = state
        Ap = matvec(p)
        alpha = rr / jnp.vdot(p, Ap)
        x, r = x + alpha * p, r - alpha * Ap
        rr_new = jnp.vdot(r, r)
        return x, r, r + (rr_new / rr) * p, rr_new

    b = y @ X
    x = jax.lax.fori_loop(0, steps, step, (jnp.zeros_like(b), b, b, jnp.vdot(b, b)))[0]
    return validation_loss(x, V, w)


def ridge_workload(quick: bool) -> Workload:
    n, d = (500, 50) if quick else (2000, 200)
    X, y, V, w = ridge_data(n, d, np.float64)
    lam = jnp.float64(0.7)
    variants = [
        _gradient("closed form (dense solve)", _ridge_closed),
        _gradient("adkit.implicit.custom_root", _ridge_adkit),
        _gradient("jaxopt custom_root (default solve)", _ridge_jaxopt, needs="jaxopt"),
        _gradient("optimistix ImplicitAdjoint (default)", _ridge_optimistix, needs="optimistix"),
        _gradient("unrolled CG, 50 steps", _ridge_unrolled),
    ]
    reference = lambda: ridge_closed_form(0.7, X, y, V, w)[1]
    return Workload(
        f"ridge n={n} d={d}/hypergradient",
        (lam, X, y, V, w),
        variants,
        measures=("run", "error") if quick else ("run", "compile", "temp_bytes", "error"),
        reference=reference,
    )


# --- deq ---
def _deq_loss(z, target):
    return jnp.mean((z - target) ** 2)


def _batched_cell(z, params, xs):  # z: (batch, width); einsum: no transposed copy of W or U
    mix = jnp.einsum("bj,ij->bi", z, params["W"]) + jnp.einsum("bk,ik->bi", xs, params["U"])
    return jnp.tanh(mix + params["b"])


def _deq_adkit(solver, **options):
    def loss(params, xs, target):
        z0 = jnp.zeros(target.shape, target.dtype)
        z = solver(_batched_cell, z0, params, xs, tol=TOL, solve="neumann", **options).value
        return _deq_loss(z, target)

    return loss


def _deq_unrolled(steps):
    def loss(params, xs, target):
        z = jax.vmap(lambda x: deq_unrolled(params, x, steps))(xs)
        return _deq_loss(z, target)

    return loss


def _deq_jaxopt(params, xs, target):
    from jaxopt import FixedPointIteration

    solver = FixedPointIteration(_batched_cell, maxiter=200, tol=TOL, implicit_diff=True)
    z = solver.run(jnp.zeros(target.shape, target.dtype), params, xs).params
    return _deq_loss(z, target)


def _deq_optimistix(params, xs, target):
    import optimistix as optx

    fn = lambda z, args: _batched_cell(z, *args)
    solver = optx.FixedPointIteration(rtol=TOL, atol=TOL)
    z = optx.fixed_point(fn, solver, jnp.zeros(target.shape, target.dtype), (params, xs)).value
    return _deq_loss(z, target)


def deq_workload(quick: bool) -> Workload:
    width, batch, inputs = (64, 8, 16) if quick else (256, 64, 32)
    params = deq_params(width, inputs, np.float64)
    xs = jax.random.normal(jax.random.key(0), (batch, inputs), jnp.float64)
    target = jax.random.normal(jax.random.key(1), (batch, width), jnp.float64)
    memory_only = None if quick else ("compile", "temp_bytes", "backward_stored", "backward_temp")
    variants = [
        _gradient("unrolled, 60 steps (backprop)", _deq_unrolled(60)),
        _gradient(
            "adkit.implicit fixed point + Neumann", _deq_adkit(implicit.fixed_point_iteration)
        ),
        _gradient("adkit.implicit Anderson + Neumann", _deq_adkit(implicit.anderson)),
        _gradient("jaxopt FixedPointIteration (default)", _deq_jaxopt, needs="jaxopt"),
        _gradient(
            "optimistix ImplicitAdjoint (default)",
            _deq_optimistix,
            needs="optimistix",
            only=memory_only,
        ),
    ]
    reference = lambda: jax.jit(jax.grad(_deq_unrolled(120)))(params, xs, target)
    return Workload(
        f"deq {batch}x{width}/gradient",
        (params, xs, target),
        variants,
        measures=("run", "backward_stored")
        if quick
        else ("run", "compile", "temp_bytes", "backward_stored", "backward_temp", "error"),
        reference=reference,
    )


def _gradient(label, loss, **options) -> Variant:
    """A variant computing `jax.grad(loss)` (and naming `loss`, for its backward memory)."""
    return Variant(label, lambda: jax.grad(loss), loss=lambda: loss, **options)


# --- the targets ---
def summarize(rows) -> list[str]:
    """The issue's targets: the ridge gradient within 1.5x of the closed form's time at <= 1e-6
    error; the DEQ gradient's XLA temp memory <= 0.5 MiB at <= 2e-6 error."""
    lines = []

    def pick(workload_prefix, measure, label):
        for r in rows:
            if (
                r.workload.startswith(workload_prefix)
                and r.measure == measure
                and r.variant == label
            ):
                return r
        return None

    run = pick("ridge", "run", "adkit.implicit.custom_root")
    error = pick("ridge", "error", "adkit.implicit.custom_root")
    if run and error:
        met = run.ratio <= 1.5 and error.median <= 1e-6
        lines.append(
            f"ridge: adkit's hypergradient {run.ratio:.2f}x the closed form's time at "
            f"{error.median:.1g} error (target <= 1.5x at <= 1e-6) [{'met' if met else 'NOT met'}]"
        )
    label = "adkit.implicit fixed point + Neumann"
    temp, error = pick("deq", "backward_temp", label), pick("deq", "error", label)
    stored, whole = pick("deq", "backward_stored", label), pick("deq", "temp_bytes", label)
    if temp and error and stored and whole:
        mib = temp.median / 2**20
        verdict = "met" if mib <= 0.5 and error.median <= 2e-6 else "NOT met"
        lines.append(
            f"deq: adkit's backward pass asks XLA for {mib:.2f} MiB of temp memory at "
            f"{error.median:.1g} error (target <= 0.5 MiB at <= 2e-6) [{verdict}]; beside it "
            f"the forward pass stored {stored.median / 2**20:.2f} MiB of residuals, and the whole "
            f"jitted gradient (forward solve included) asks for {whole.median / 2**20:.2f} MiB"
        )
    return lines


def workloads(quick: bool) -> list[Workload]:
    return [ridge_workload(quick), deq_workload(quick)]


register_suite(
    Suite(
        "implicit",
        "adkit.implicit against jaxopt, optimistix, unrolling and closed forms",
        workloads,
        peers=("jaxopt", "optimistix"),
        summarize=summarize,
        x64=True,
    )
)
