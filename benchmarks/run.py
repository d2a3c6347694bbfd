"""adkit against JAX, measured in the same run.

    python benchmarks/run.py [--repeats N]

Comparisons per program: adkit's evaluator (`adkit.eval_jaxpr`) against calling `f`, adkit's
forward mode (`adkit.jvp`) against `jax.jvp`, and adkit's reverse mode (`adkit.grad` of the
summed outputs; `grad` on the tape path, `gradT` on the transpose path) against `jax.grad`.
Each prints three ratios, adkit / JAX (1.00 means no overhead):
  eager    an uncompiled call
  compile  tracing + compiling under `jax.jit` (first call)
  jitted   running the compiled function
"""

from __future__ import annotations

import argparse
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp

import adkit


def textbook():
    f = lambda x1, x2: jnp.log(x1) + x1 * x2 - jnp.sin(x2)
    return f, (jnp.float32(2.0), jnp.float32(5.0))


def mlp():
    model = eqx.nn.MLP(16, 4, width_size=64, depth=3, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    f = lambda p, x: jnp.sum(jax.vmap(eqx.combine(p, static))(x) ** 2)
    return f, (params, jnp.ones((32, 16)))


def rnn():
    def f(w, xs):
        step = lambda h, x: (jnp.tanh(w @ h + x), jnp.sum(h))
        return jax.lax.scan(step, jnp.zeros(8), xs)

    return f, (jnp.eye(8) * 0.5, jnp.ones((50, 8)))


PROGRAMS = {"textbook": textbook, "mlp": mlp, "rnn_scan": rnn}


def _median_seconds(call, repeats):
    jax.block_until_ready(call())  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(call())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _compile_seconds(fun, args):
    start = time.perf_counter()
    jax.jit(fun).lower(*args).compile()
    return time.perf_counter() - start


def _ratios(ours, theirs, args, repeats):
    eager = _median_seconds(lambda: ours(*args), repeats) / _median_seconds(
        lambda: theirs(*args), repeats
    )
    compile_ratio = _compile_seconds(ours, args) / _compile_seconds(theirs, args)
    ours_jit, theirs_jit = jax.jit(ours), jax.jit(theirs)
    jitted = _median_seconds(lambda: ours_jit(*args), repeats) / _median_seconds(
        lambda: theirs_jit(*args), repeats
    )
    return eager, compile_ratio, jitted


def comparisons(name):
    f, args = PROGRAMS[name]()
    leaves = jax.tree.leaves(args)
    tree = jax.tree.structure(args)
    flat_f = lambda *a: f(*jax.tree.unflatten(tree, a))
    closed = jax.make_jaxpr(flat_f)(*leaves)
    walk = lambda *a: adkit.eval_jaxpr(closed, *a)
    tangents = tuple(jnp.ones_like(x) for x in leaves)
    ours_jvp = lambda *a: adkit.jvp(flat_f, a, tangents)
    jax_jvp = lambda *a: jax.jvp(flat_f, a, tangents)
    loss = lambda *a: sum(jnp.sum(o) for o in jax.tree.leaves(flat_f(*a)))
    argnums = tuple(range(len(leaves)))
    ours_grad = adkit.grad(loss, argnums=argnums)
    ours_grad_t = adkit.grad(loss, argnums=argnums, method="transpose")
    jax_grad = jax.grad(loss, argnums=argnums)
    return {
        "eval": (walk, flat_f, leaves),
        "jvp": (ours_jvp, jax_jvp, leaves),
        "grad": (ours_grad, jax_grad, leaves),
        "gradT": (ours_grad_t, jax_grad, leaves),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    repeats = parser.parse_args().repeats
    print(f"adkit {adkit.__version__}, jax {jax.__version__}, {jax.devices()[0].platform}")
    print(f"{'program':<10} {'what':<5} {'eager':>7} {'compile':>8} {'jitted':>7}   (adkit / jax)")
    for name in PROGRAMS:
        for what, (ours, theirs, args) in comparisons(name).items():
            eager, compile_ratio, jitted = _ratios(ours, theirs, args, repeats)
            print(f"{name:<10} {what:<5} {eager:>7.2f} {compile_ratio:>8.2f} {jitted:>7.2f}")


if __name__ == "__main__":
    main()
