"""The interpreter suite: adkit's gradients and JVPs against JAX's on a zoo of models.

Each model is a function of parameters and data; its gradient workload differentiates the sum of
its outputs with respect to every argument (`jax.grad`, then `adkit.grad` on the tape path and
on the transpose path), its JVP workload pushes tangents of ones (`jax.jvp`, `adkit.jvp`).
The two long chains (about 2,000 and 20,000 equations) measure how the cost of interpreting a
program grows with its length.
"""

from __future__ import annotations

import statistics

import equinox as eqx
import jax
import jax.numpy as jnp

import adkit

from .._registry import Suite, Variant, Workload, register_suite


# --- the zoo: each returns (f, args) ---
def textbook():
    f = lambda x1, x2: jnp.log(x1) + x1 * x2 - jnp.sin(x2)
    return f, (jnp.float32(2.0), jnp.float32(5.0))


def mlp():
    model = eqx.nn.MLP(16, 4, width_size=64, depth=3, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    f = lambda p, x: jnp.sum(jax.vmap(eqx.combine(p, static))(x) ** 2)
    return f, (params, jnp.ones((32, 16)))


def rnn_scan():
    def f(w, xs):
        step = lambda h, x: (jnp.tanh(w @ h + x), jnp.sum(h))
        return jax.lax.scan(step, jnp.zeros(8), xs)

    return f, (jnp.eye(8) * 0.5, jnp.ones((50, 8)))


def cnn():
    keys = jax.random.split(jax.random.key(1), 3)
    model = [
        eqx.nn.Conv2d(3, 8, 3, padding=1, key=keys[0]),
        eqx.nn.Conv2d(8, 8, 3, padding=1, key=keys[1]),
        eqx.nn.Linear(8 * 8 * 8, 10, key=keys[2]),
    ]
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def f(p, images):
        c1, c2, dense = eqx.combine(p, static)
        pool = eqx.nn.MaxPool2d(2, 2)

        def one(x):
            x = pool(jax.nn.relu(c1(x)))
            x = pool(jax.nn.relu(c2(x)))
            return jax.nn.log_softmax(dense(x.reshape(-1)))

        return jnp.sum(jax.vmap(one)(images))

    return f, (params, jnp.ones((8, 3, 32, 32)))


def transformer_block():
    keys = jax.random.split(jax.random.key(2), 3)
    dim, heads, seq = 64, 4, 32
    model = {
        "attention": eqx.nn.MultiheadAttention(heads, dim, key=keys[0]),
        "norm1": eqx.nn.LayerNorm(dim),
        "norm2": eqx.nn.LayerNorm(dim),
        "mlp": eqx.nn.MLP(dim, dim, width_size=4 * dim, depth=1, key=keys[1]),
    }
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def f(p, x):
        m = eqx.combine(p, static)
        h = jax.vmap(m["norm1"])(x)
        x = x + m["attention"](h, h, h)
        x = x + jax.vmap(m["mlp"])(jax.vmap(m["norm2"])(x))
        return jnp.sum(x**2)

    return f, (params, jax.random.normal(keys[2], (seq, dim)))


def gru_scan():
    cell = eqx.nn.GRUCell(16, 32, key=jax.random.key(3))
    params, static = eqx.partition(cell, eqx.is_inexact_array)

    def f(p, xs):
        c = eqx.combine(p, static)
        h, hs = jax.lax.scan(lambda h, x: (c(x, h),) * 2, jnp.zeros(32), xs)
        return jnp.sum(h) + jnp.sum(hs**2)

    return f, (params, jnp.ones((40, 16)))


def chain(length: int):
    """A straight-line program of about `length` equations (five per step)."""

    def f(w, x):
        for i in range(length // 5):
            x = jnp.sin(x * w[i % 8]) + x
        return jnp.sum(x)

    return f, (jnp.linspace(0.1, 0.8, 8), jnp.ones(16))


ZOO = {
    "textbook": textbook,
    "mlp": mlp,
    "rnn_scan": rnn_scan,
    "cnn": cnn,
    "transformer_block": transformer_block,
    "gru_scan": gru_scan,
}
QUICK = ("textbook", "mlp", "rnn_scan")
QUICK_MEASURES = ("run", "temp_bytes")  # each a compile per variant, not several


# --- the workloads ---
def _loss(f):
    return lambda *a: sum(jnp.sum(o) for o in jax.tree.leaves(f(*a)))


def grad_workload(name, f, args, measures=None) -> Workload:
    argnums = tuple(range(len(args)))
    variants = [
        Variant("jax.grad", lambda: jax.grad(_loss(f), argnums)),
        Variant("adkit.grad (tape)", lambda: adkit.grad(_loss(f), argnums)),
        Variant(
            "adkit.grad (transpose)", lambda: adkit.grad(_loss(f), argnums, method="transpose")
        ),
    ]
    info = {"equations": _equations(f, args)}
    extra = {} if measures is None else {"measures": measures}
    return Workload(f"{name}/grad", args, variants, info=info, forward=_loss(f), **extra)


def jvp_workload(name, f, args, measures=None) -> Workload:
    tangents = jax.tree.map(jnp.ones_like, tuple(args))
    variants = [
        Variant("jax.jvp", lambda: lambda *a: jax.jvp(_fresh(f), a, tangents)),
        Variant("adkit.jvp", lambda: lambda *a: adkit.jvp(_fresh(f), a, tangents)),
    ]
    extra = {} if measures is None else {"measures": measures}
    return Workload(f"{name}/jvp", args, variants, forward=f, **extra)


def _fresh(f):
    return lambda *a: f(*a)


def _equations(f, args) -> int:
    from .._measure import equation_count

    return equation_count(f, args)


def workloads(quick: bool) -> list[Workload]:
    names = QUICK if quick else tuple(ZOO)
    smoke = QUICK_MEASURES if quick else None  # the quick pass: no compile-time measures
    out = []
    for name in names:
        f, args = ZOO[name]()
        out.append(grad_workload(name, f, args, smoke))
        if name in ("mlp", "transformer_block"):
            out.append(jvp_workload(name, f, args, smoke))
    # the cost of interpreting a program against its length (trace time per equation); XLA's
    # compile time grows faster than the program (minutes at 2,000 equations on a 2-core CPU),
    # so the long chains are only traced and the 500-equation one is also compiled and run
    # (the quick pass traces the chain only: compiling a 500-equation gradient three times is
    # most of its time, and the zoo's workloads already smoke-test the compiled run)
    measures = {500: ("trace",) if quick else ("trace", "compile", "run", "temp_bytes")}
    for length in (500,) if quick else (500, 2_000, 20_000):
        f, args = chain(length)
        out.append(grad_workload(f"chain_{length}", f, args, measures.get(length, ("trace",))))
    return out


# --- the targets (issue: "an interpreter as fast as jax.grad once compiled") ---
TARGETS = {  # measure: (what is compared, the bound on the median over the zoo, on the worst)
    "run": ("compiled run", 1.02, 1.10),
    "compile": ("trace + lower + compile", None, 1.3),
    "eager": ("eager, repeated call", None, 1.5),
    "temp_bytes": ("XLA temp bytes", None, 1.05),
}
LINEAR = 1.2  # cost per equation at 20k equations within this factor of that at 2k


def summarize(rows) -> list[str]:
    """Each target's verdict: adkit's ratios to JAX, median and worst over the zoo."""
    lines = []
    adkit_labels = list(dict.fromkeys(r.variant for r in rows if r.variant.startswith("adkit")))
    for measure, (text, median_bound, worst_bound) in TARGETS.items():
        parts, met = [], True
        for label in adkit_labels:
            ratios = [r.ratio for r in rows if r.measure == measure and r.variant == label]
            if not ratios:
                continue
            median, worst = statistics.median(ratios), max(ratios)
            met &= worst <= worst_bound and (median_bound is None or median <= median_bound)
            parts.append(f"{label} median {median:.2f}, worst {worst:.2f}")
        if parts:
            bound = f"median <= {median_bound}, " if median_bound else ""
            verdict = "met" if met else "NOT met"
            lines.append(f"{text} ({bound}worst <= {worst_bound}): {'; '.join(parts)} [{verdict}]")
    per_eq = _per_equation(rows)
    if {2_000, 20_000} <= {n for points in per_eq.values() for n, _ in points}:
        growth = {label: dict(p)[20_000] / dict(p)[2_000] for label, p in per_eq.items()}
        parts = [f"{label} {g:.2f}" for label, g in growth.items()]
        worst = max(g for label, g in growth.items() if label.startswith("adkit"))
        verdict = "met" if worst <= LINEAR else "NOT met"
        lines.append(
            f"tracing cost per equation, 20k over 2k equations (adkit <= {LINEAR}): "
            + "; ".join(parts)
            + f" [{verdict}]"
        )
    return lines


def _per_equation(rows) -> dict[str, list[tuple[int, float]]]:
    """`{variant: [(equations, seconds per equation), ...]}` over the chains' tracing rows."""
    out: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if r.measure == "trace" and r.workload.startswith("chain_"):
            length = int(r.workload.split("/")[0].removeprefix("chain_"))
            out.setdefault(r.variant, []).append((length, r.median / r.info["equations"]))
    return out


def plot(rows, folder) -> list:
    """The tracing cost per equation against the program's length, one line per variant."""
    from pathlib import Path

    from .._plot import line_plot

    series = {
        label: [(n, seconds * 1e6) for n, seconds in points]
        for label, points in _per_equation(rows).items()
    }
    if not series:
        return []
    path = Path(folder) / "interpreter-trace-per-equation.png"
    return [
        line_plot(
            path,
            series,
            title="Tracing a gradient: cost per equation against program length",
            xlabel="the chain's length (steps x 5 equations)",
            ylabel="µs per equation",
            logx=True,
        )
    ]


register_suite(
    Suite(
        "interpreter",
        "adkit.grad (both reverse paths) and adkit.jvp against jax.grad and jax.jvp",
        workloads,
        summarize=summarize,
        plot=plot,
    )
)
