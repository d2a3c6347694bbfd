"""MAML on sinusoid regression: the exact second-order meta-gradient, through adkit.grad.

Each task is a sinusoid y = a sin(x + φ) (amplitude a in [0.1, 5], phase φ in [0, π]); a model
sees ten points of a new task, takes one gradient step on them, and is scored on ten others.
MAML (Finn et al., 2017) learns the starting parameters θ for that one step:

    θ' = θ - η ∇L_support(θ),      meta-loss = L_query(θ'(θ)).

The meta-gradient ∇θ L_query(θ') = (I - η ∇²L_support(θ)) ∇L_query(θ') contains a Hessian: it
is a gradient of a gradient, which adkit computes by reverse mode over its own reverse mode.
First-order MAML drops the Hessian term (the inner gradient is held constant). This script:

1. checks adkit's exact meta-gradient against `jax.grad`'s (float32, 1e-5), and that the
   first-order one differs from it (the Hessian term is not negligible here);
2. meta-trains an equinox MLP with optax twice, exact and first order, from the same start;
3. scores both, after one step of adaptation, on held-out tasks.

References:
    Finn, Abbeel and Levine (2017). Model-Agnostic Meta-Learning for Fast Adaptation of Deep
    Networks. ICML.

python examples/maml_sinusoid.py
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import adkit

INNER_LR, META_LR, TASKS, STEPS, SHOTS = 0.01, 1e-3, 8, 400, 10


def sample_tasks(key, n):
    """n tasks: amplitudes, phases, and the support and query inputs of each."""
    ka, kp, kx = jax.random.split(key, 3)
    amplitude = jax.random.uniform(ka, (n, 1, 1), minval=0.1, maxval=5.0)
    phase = jax.random.uniform(kp, (n, 1, 1), maxval=jnp.pi)
    x = jax.random.uniform(kx, (n, 2, SHOTS, 1), minval=-5.0, maxval=5.0)
    y = amplitude[:, None] * jnp.sin(x + phase[:, None])
    return (x[:, 0], y[:, 0]), (x[:, 1], y[:, 1])  # (support, query)


def mse(params, static, data):
    x, y = data
    model = eqx.combine(params, static)
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def adapt(grad, params, static, support, first_order=False):
    """One inner step θ' = θ - η ∇L_support(θ) (its gradient held constant in first order)."""
    g = grad(mse)(params, static, support)
    if first_order:
        g = jax.lax.stop_gradient(g)
    return jax.tree.map(lambda p, gi: p - INNER_LR * gi, params, g)


def meta_loss(grad, first_order=False):
    def loss(params, static, tasks):
        def one(support, query):
            adapted = adapt(grad, params, static, support, first_order)
            return mse(adapted, static, query)

        (support, query) = tasks
        return jnp.mean(jax.vmap(one)(support, query))

    return loss


def meta_gradient(grad, first_order=False):
    return grad(meta_loss(grad, first_order))


def check_meta_gradients(params, static, tasks):
    exact = meta_gradient(adkit.grad)(params, static, tasks)
    reference = meta_gradient(jax.grad)(params, static, tasks)
    first = meta_gradient(adkit.grad, first_order=True)(params, static, tasks)
    flat = lambda t: jnp.concatenate([leaf.ravel() for leaf in jax.tree.leaves(t)])
    error = float(jnp.linalg.norm(flat(exact) - flat(reference)) / jnp.linalg.norm(flat(reference)))
    gap = float(jnp.linalg.norm(flat(first) - flat(exact)) / jnp.linalg.norm(flat(exact)))
    print(f"exact meta-gradient, adkit vs jax.grad: relative difference {error:.1e}")
    print(f"first-order MAML vs exact: relative difference {gap:.1e} (the Hessian term)")
    assert error < 1e-5, error
    assert gap > 1e-3, gap


def train(params, static, first_order, key):
    optimizer = optax.adam(META_LR)
    grad_fn = meta_gradient(adkit.grad, first_order)

    @jax.jit
    def step(params, state, key):
        g = grad_fn(params, static, sample_tasks(key, TASKS))
        updates, state = optimizer.update(g, state)
        return optax.apply_updates(params, updates), state

    state = optimizer.init(params)
    for k in jax.random.split(key, STEPS):
        params, state = step(params, state, k)
    return params


def post_adaptation_loss(params, static, key, n=200):
    support, query = sample_tasks(key, n)
    one = lambda s, q: mse(adapt(jax.grad, params, static, s), static, q)
    return float(jnp.mean(jax.vmap(one)(support, query)))


def main():
    model = eqx.nn.MLP(1, 1, width_size=40, depth=2, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    check_meta_gradients(params, static, sample_tasks(jax.random.key(1), TASKS))
    key_train, key_test = jax.random.split(jax.random.key(2))
    results = {"no meta-training": post_adaptation_loss(params, static, key_test)}
    for name, first_order in (("exact MAML (adkit.grad)", False), ("first-order MAML", True)):
        trained = train(params, static, first_order, key_train)
        results[name] = post_adaptation_loss(trained, static, key_test)
    print(f"\n{'meta-training':<26} query MSE after one step, 200 held-out tasks")
    for name, loss in results.items():
        print(f"{name:<26} {loss:.3f}")
    assert results["exact MAML (adkit.grad)"] < 0.8 * results["no meta-training"], results
    assert np.isfinite(results["first-order MAML"])
    print("\nMAML: the exact meta-gradient matches jax.grad's and meta-training helps")


if __name__ == "__main__":
    main()
