"""adkit's evaluator against plain JAX, measured in the same run.

    python benchmarks/run.py [--repeats N]

For each program it prints three ratios, adkit / JAX (1.00 means no overhead):
  eager    calling `adkit.eval_jaxpr(closed, *args)` vs calling `f(*args)`, op by op
  compile  tracing + compiling `jax.jit` of the walk vs `jax.jit(f)` (first call)
  jitted   running the compiled walk vs the compiled `f`
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


def measure(name, repeats):
    f, args = PROGRAMS[name]()
    leaves = jax.tree.leaves(args)
    closed = jax.make_jaxpr(f)(*args)
    walk = lambda *a: adkit.eval_jaxpr(closed, *a)
    flat_f = lambda *a: f(*jax.tree.unflatten(jax.tree.structure(args), a))
    eager = _median_seconds(lambda: walk(*leaves), repeats) / _median_seconds(
        lambda: f(*args), repeats
    )
    compile_ratio = _compile_seconds(walk, leaves) / _compile_seconds(flat_f, leaves)
    walk_jit, f_jit = jax.jit(walk), jax.jit(flat_f)
    jitted = _median_seconds(lambda: walk_jit(*leaves), repeats) / _median_seconds(
        lambda: f_jit(*leaves), repeats
    )
    return eager, compile_ratio, jitted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    repeats = parser.parse_args().repeats
    print(f"adkit {adkit.__version__}, jax {jax.__version__}, {jax.devices()[0].platform}")
    print(f"{'program':<10} {'eager':>7} {'compile':>8} {'jitted':>7}   (adkit / jax)")
    for name in PROGRAMS:
        eager, compile_ratio, jitted = measure(name, repeats)
        print(f"{name:<10} {eager:>7.2f} {compile_ratio:>8.2f} {jitted:>7.2f}")


if __name__ == "__main__":
    main()
