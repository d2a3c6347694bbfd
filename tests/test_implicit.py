"""adkit.implicit: derivatives of solutions against closed forms, backprop and JAX's transforms.

The oracles: closed forms (ridge regression's hypergradient and its second derivative), backprop
through a forward iteration unrolled to convergence (the DEQ), `jax.jacfwd` of a dense solve,
and the JVP/VJP dot-product test. The failure probes check that no solve that missed its
tolerance yields a finite derivative silently.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adkit
from adkit import implicit
from adkit.bench.suites.implicit_problems import (
    deq_cell,
    deq_params,
    deq_unrolled,
    ridge_closed_form,
    ridge_data,
    ridge_solver,
    validation_loss,
)


# --- ridge regression (n=800, d=80): the hypergradient against its closed form ---
@pytest.fixture(scope="module")
def ridge64():
    return ridge_data(n=800, d=80, dtype=np.float64)


def _hyper(solver, X, y, V, w):
    d = X.shape[1]
    return lambda lam: validation_loss(solver(jnp.zeros(d, X.dtype), lam, X, y), V, w)


def test_ridge_hypergradient_matches_the_closed_form_in_float64(ridge64):
    _X, _y, _V, _w = ridge64
    loss = _hyper(ridge_solver(1e-12), *ridge64)
    lam = 0.7
    _, d1, d2 = ridge_closed_form(lam, *ridge64)
    np.testing.assert_allclose(jax.grad(loss)(lam), d1, rtol=1e-10)
    np.testing.assert_allclose(jax.jvp(loss, (lam,), (1.0,))[1], d1, rtol=1e-10)
    np.testing.assert_allclose(jax.jit(jax.grad(loss))(lam), d1, rtol=1e-10)
    np.testing.assert_allclose(jax.hessian(loss)(lam), d2, rtol=1e-8)
    for method in ("tape", "transpose"):  # adkit's own reverse mode: the same numbers
        np.testing.assert_allclose(adkit.grad(loss, method=method)(lam), d1, rtol=1e-10)
    np.testing.assert_allclose(adkit.jvp(loss, (lam,), (1.0,))[1], d1, rtol=1e-10)


def test_ridge_hypergradient_under_vmap_over_eight_values(ridge64):
    loss = _hyper(ridge_solver(1e-12), *ridge64)
    lams = jnp.linspace(0.1, 2.0, 8)
    expected = [ridge_closed_form(float(lam), *ridge64)[1] for lam in lams]
    with implicit.record() as stats:
        got = jax.block_until_ready(jax.jit(jax.vmap(jax.grad(loss)))(lams))
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    # batch-aware: one adjoint solve per value of λ (a residual and a count for each)
    adjoint = [s for s in stats if s.solve == "adjoint"]
    assert adjoint and all(s.residual.shape == (8,) for s in adjoint)
    assert all(np.all(s.converged) for s in stats)


def test_ridge_hypergradient_in_float32():
    data = ridge_data(dtype=np.float32)
    loss = _hyper(ridge_solver(1e-6), *data)
    _, d1, _ = ridge_closed_form(0.7, *data)
    np.testing.assert_allclose(jax.grad(loss)(jnp.float32(0.7)), d1, rtol=1e-5)


# --- a deep-equilibrium layer: implicit gradients equal backprop through the converged loop ---
def test_deq_gradients_equal_backprop_through_the_unrolled_iteration():
    params = deq_params(width=256, inputs=32)
    xs = jax.random.normal(jax.random.key(0), (64, 32), jnp.float64)
    target = jax.random.normal(jax.random.key(1), (64, 256), jnp.float64)

    def loss(params, solve):
        z = jax.vmap(lambda x: solve(params, x))(xs)
        return jnp.mean((z - target) ** 2)

    implicit_solve = lambda p, x: (
        implicit.anderson(
            deq_cell, jnp.zeros(256, jnp.float64), p, x, tol=1e-12, solve="neumann"
        ).value
    )
    unrolled = lambda p, x: deq_unrolled(p, x, steps=120)  # contraction 0.5: 2⁻¹²⁰ away
    got = jax.jit(jax.grad(loss), static_argnums=1)(params, implicit_solve)
    expected = jax.jit(jax.grad(loss), static_argnums=1)(params, unrolled)
    for name in ("W", "U", "b"):
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, atol=1e-12)


def test_the_deq_module_trains_with_optax_and_equinox():
    class Cell(eqx.Module):
        linear: eqx.nn.Linear
        inject: eqx.nn.Linear

        def __call__(self, z, x):
            return jnp.tanh(0.5 * self.linear(z) + self.inject(x))

    keys = jax.random.split(jax.random.key(0), 3)
    layer = implicit.DEQ(
        Cell(eqx.nn.Linear(8, 8, key=keys[0]), eqx.nn.Linear(4, 8, key=keys[1])), (8,)
    )
    xs = jax.random.normal(keys[2], (16, 4))
    ys = jnp.sin(xs.sum(1, keepdims=True)) * jnp.ones((1, 8))
    loss = lambda m: jnp.mean((jax.vmap(m)(xs) - ys) ** 2)
    optimizer = optax.adam(1e-2)
    state = optimizer.init(eqx.filter(layer, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(layer, state):
        value, grads = eqx.filter_value_and_grad(loss)(layer)
        updates, state = optimizer.update(grads, state)
        return eqx.apply_updates(layer, updates), state, value

    first = loss(layer)
    for _ in range(30):
        layer, state, _ = step(layer, state)
    assert loss(layer) < 0.8 * first


# --- the solvers, each against a closed form ---
def test_fixed_point_solvers_and_their_derivatives():
    T = lambda x, a: 0.5 * x + a  # x* = 2a
    for solver in (implicit.fixed_point_iteration, implicit.anderson):
        sol = solver(T, jnp.zeros(3), jnp.arange(3.0), tol=1e-12)
        np.testing.assert_allclose(sol.value, 2 * jnp.arange(3.0), rtol=1e-12)
        assert sol.residual <= 1e-12 and sol.iterations > 0
        jac = jax.jacfwd(lambda a, s=solver: s(T, jnp.zeros(3), a, tol=1e-12).value)(jnp.ones(3))
        np.testing.assert_allclose(jac, 2 * np.eye(3), rtol=1e-10)


def test_anderson_takes_fewer_iterations_than_plain_iteration():
    T = lambda x, a: 0.95 * jnp.cos(x) + a  # a slow contraction
    plain = implicit.fixed_point_iteration(T, jnp.zeros(4), 0.1, tol=1e-10)
    accelerated = implicit.anderson(T, jnp.zeros(4), 0.1, tol=1e-10)
    np.testing.assert_allclose(accelerated.value, plain.value, rtol=1e-8)
    assert accelerated.iterations < plain.iterations // 2


def test_newton_and_its_derivative():
    F = lambda x, a: x**3 - a
    sol = implicit.newton(F, jnp.ones(2), jnp.array([8.0, 27.0]), tol=1e-12)
    np.testing.assert_allclose(sol.value, [2.0, 3.0], rtol=1e-12)
    jac = jax.jacrev(lambda a: implicit.newton(F, jnp.ones(2), a, tol=1e-12).value)
    np.testing.assert_allclose(jac(jnp.array([8.0, 27.0])), np.diag([1 / 12, 1 / 27]), rtol=1e-10)


def test_minimize_with_an_optax_optimizer_differentiates_the_argmin():
    # x*(a) = argmin ½‖x - a‖² + ½ x·Dx = (I + D)⁻¹ a
    D = jnp.array([1.0, 2.0, 3.0])
    f = lambda x, a: 0.5 * jnp.sum((x - a) ** 2) + 0.5 * jnp.sum(D * x**2)
    argmin = lambda a: implicit.minimize(f, jnp.zeros(3), a, optimizer=optax.lbfgs(), tol=1e-12)
    a = jnp.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(argmin(a).value, a / (1 + D), rtol=1e-10)
    np.testing.assert_allclose(jax.jacrev(lambda a: argmin(a).value)(a), np.diag(1 / (1 + D)))


# --- every linear method, on a system where all apply ---
@pytest.mark.parametrize(
    "solve", ["auto", "cg", "gmres", "bicgstab", "neumann", "lu", "cholesky", "function"]
)
def test_every_linear_method_gives_the_same_derivative(solve):
    # T(x) = M x + a with M symmetric, ‖M‖ < 1: x* = (I - M)⁻¹ a, dx*/da = (I - M)⁻¹
    rng = np.random.default_rng(0)
    M = rng.normal(size=(6, 6))
    M = 0.4 * (M + M.T) / np.linalg.norm(M + M.T, 2)
    T = lambda x, a: M @ x + a
    if solve == "function":
        solve = lambda matvec, b: jnp.linalg.solve(jax.jacfwd(matvec)(jnp.zeros_like(b)), b)
    solver = implicit.custom_fixed_point(T, solve=solve, symmetric=True, tol=1e-12)(
        lambda init, a: jax.lax.fori_loop(0, 200, lambda i, x: T(x, a), init)
    )
    expected = np.linalg.inv(np.eye(6) - M)
    np.testing.assert_allclose(
        jax.jacrev(lambda a: solver(jnp.zeros(6), a))(jnp.ones(6)), expected, rtol=1e-9
    )
    np.testing.assert_allclose(
        jax.jacfwd(lambda a: solver(jnp.zeros(6), a))(jnp.ones(6)), expected, rtol=1e-9
    )


def test_root_jvp_and_root_vjp_pass_the_dot_product_test():
    F = lambda x, a, b: jnp.tanh(x) + x - a * b  # dF/dx = 1 + sech² x > 0
    a, b = jnp.array([0.3, -0.2, 0.5]), jnp.array([1.0, 2.0, -1.0])
    x = implicit.newton(F, jnp.zeros(3), a, b, tol=1e-13).value
    da, db, xbar = (jax.random.normal(jax.random.key(i), (3,)) for i in range(3))
    xdot = implicit.root_jvp(F, x, (a, b), (da, db), tol=1e-12)
    abar, bbar = implicit.root_vjp(F, x, (a, b), xbar, tol=1e-12)
    np.testing.assert_allclose(
        jnp.vdot(xbar, xdot), jnp.vdot(abar, da) + jnp.vdot(bbar, db), rtol=1e-10
    )

    # and against JAX differentiating a dense Newton unrolled to convergence
    def unrolled(a, b):
        step = lambda i, x: x - F(x, a, b) / (1 + 1 / jnp.cosh(x) ** 2)
        return jax.lax.fori_loop(0, 50, step, jnp.zeros(3))

    np.testing.assert_allclose(xdot, jax.jvp(unrolled, (a, b), (da, db))[1], rtol=1e-10)


# --- pytrees, kwargs, aux, init ---
def test_pytrees_kwargs_aux_and_a_zero_derivative_for_init():
    def F(x, params, *, scale):
        return {"u": x["u"] - scale * params["p"], "v": x["v"] ** 3 - params["q"]}

    @implicit.custom_root(F, has_aux=True, tol=1e-12)
    def solver(init, params, *, scale):
        x = {"u": scale * params["p"], "v": jnp.cbrt(params["q"])}
        return x, {"note": jnp.int32(7)}

    params = {"p": jnp.array([1.0, 2.0]), "q": jnp.array(8.0)}
    init = {"u": jnp.zeros(2), "v": jnp.array(1.0)}

    def loss(init, params, scale):
        x, _aux = solver(init, params, scale=scale)
        return jnp.sum(x["u"] ** 2) + x["v"] ** 2

    g_init, g_params, g_scale = jax.grad(loss, argnums=(0, 1, 2))(init, params, 3.0)
    assert all(np.all(leaf == 0) for leaf in jax.tree.leaves(g_init))
    np.testing.assert_allclose(g_params["p"], 2 * 9.0 * params["p"])  # d(s p)²/dp = 2 s² p
    np.testing.assert_allclose(g_params["q"], 2 * 2.0 / (3 * 4.0))  # d(∛q)²/dq = 2x/(3x²)
    np.testing.assert_allclose(g_scale, 2 * 3.0 * jnp.sum(params["p"] ** 2))
    _, aux = solver(init, params, scale=3.0)
    assert int(aux["note"]) == 7


# --- failure probes: none returns a finite wrong derivative silently ---
def _diverging(on_failure):  # T(x) = 1.5 x + a has spectral radius 1.5: the iteration diverges
    return lambda a: (
        implicit.fixed_point_iteration(
            lambda x, a: 1.5 * x + a, jnp.zeros(3), a, maxiter=50, on_failure=on_failure
        ).value
    )


def _cut_off(on_failure):  # the adjoint CG stopped after 2 iterations of a 100-unknown system
    X, y, _, _ = ridge_data(n=300, d=100, seed=1)
    solver = ridge_solver(1e-10, maxiter=2, solve="cg", on_failure=on_failure)
    return lambda lam: jnp.sum(solver(jnp.zeros(100), lam, X, y) * jnp.arange(100.0))


def _singular(on_failure):  # x³ = a at a = 0: ∂F/∂x = 3x² = 0, the theorem does not apply
    solver = implicit.custom_root(lambda x, a: x**3 - a, solve="lu", on_failure=on_failure)(
        lambda init, a: jnp.cbrt(a)
    )
    return lambda a: solver(jnp.ones(()), a)


PROBES = {
    "forward": (_diverging, jnp.ones(3)),
    "adjoint": (_cut_off, 0.5),
    "singular": (_singular, 0.0),
}


def _derivative(probe, on_failure, jit):
    make, arg = PROBES[probe]
    f = make(on_failure)
    g = jax.grad(lambda a: jnp.sum(f(a)))
    return (jax.jit(g) if jit else g)(arg)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("probe", list(PROBES))
def test_a_failed_solve_raises(probe, jit):
    with pytest.raises(Exception, match="did not converge") as info:
        _derivative(probe, "raise", jit)
    assert "tolerance" in str(info.value) and "residual" in str(info.value)


@pytest.mark.parametrize("probe", list(PROBES))
def test_a_failed_solve_gives_nan_or_warns(probe):
    assert np.all(np.isnan(_derivative(probe, "nan", jit=True)))
    with pytest.warns(RuntimeWarning, match="did not converge"):
        _derivative(probe, "warn", jit=True)


def test_a_tolerance_the_dtype_cannot_reach_is_clamped_with_one_warning():
    implicit._failure._WARNED.clear()
    T = lambda x, a: 0.5 * x + a
    with pytest.warns(RuntimeWarning, match="below what float32 can reach") as caught:
        for _ in range(3):
            implicit.fixed_point_iteration(
                T, jnp.zeros(2, jnp.float32), jnp.float32(1.0), tol=1e-12
            )
    assert len([w for w in caught if "below what" in str(w.message)]) == 1


def test_bad_arguments_are_clear_errors():
    F = lambda x, a: x - a
    with pytest.raises(ValueError, match="`on_failure` must be one of"):
        implicit.custom_root(F, on_failure="ignore")
    with pytest.raises(ValueError, match="`solve` must be one of"):
        implicit.custom_root(F, solve="qr")
    with pytest.raises(ValueError, match="needs a symmetric positive definite"):
        solver = implicit.custom_root(F, solve="cg")(lambda init, a: a)
        jax.grad(lambda a: jnp.sum(solver(jnp.zeros(100), a)))(jnp.ones(100))
    with pytest.raises(TypeError, match="shaped like `init`"):
        implicit.custom_root(F)(lambda init, a: (a, a))(jnp.zeros(2), jnp.ones(2))


def test_a_batch_sharded_over_eight_devices():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).with_name("sharded_implicit.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sharded implicit gradient ok" in result.stdout


@pytest.mark.parametrize("solver", ["anderson", "newton", "minimize"])
def test_adkit_own_transforms_give_jax_numbers_through_every_solver(solver):
    a = jnp.array([0.3, -0.2, 0.5])
    if solver == "anderson":
        run = lambda a: implicit.anderson(lambda x, a: 0.5 * jnp.cos(x) + a, jnp.zeros(3), a)
    elif solver == "newton":
        run = lambda a: implicit.newton(lambda x, a: jnp.tanh(x) + x - a, jnp.zeros(3), a)
    else:
        f = lambda x, a: jnp.sum(jnp.cosh(x - a)) + 0.5 * jnp.sum(x**2)
        run = lambda a: implicit.minimize(f, jnp.zeros(3), a, optimizer=optax.lbfgs(), tol=1e-10)
    loss = lambda a: jnp.sum(run(a).value ** 2)
    expected = jax.grad(loss)(a)
    for method in ("tape", "transpose"):
        np.testing.assert_allclose(adkit.grad(loss, method=method)(a), expected, rtol=1e-12)
    tangent = jnp.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(
        adkit.jvp(loss, (a,), (tangent,))[1], jax.jvp(loss, (a,), (tangent,))[1], rtol=1e-12
    )
