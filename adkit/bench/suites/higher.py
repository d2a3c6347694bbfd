"""The higher-order suite: the k-th derivative by one jet against k nested JVPs, and
Hessian-vector products in adkit's four modes against JAX's and against the dense Hessian.

Taylor workloads (k = 1..8; the quick pass k = 1, 2, 4): the k-th derivative of
f(x) = Σ tanh(A sin(x))² along a direction v, x of 2048 elements and A 1024 x 2048 (the quick
pass: 256 and 64 x 256); variants, baseline first:
k nested `jax.jvp`s; adkit.jet (one pass, the k-th term); `jax.experimental.jet`; k nested
`adkit.jvp`s. Nested JVPs grow like 2ᵏ (each level doubles the program), a jet like k².

HVP workloads: an MLP's mean-squared loss; variants: `jax.jvp` of `jax.grad` (baseline), the
dense `jax.hessian(f)(x) @ v`, and `adkit.hvp` in each mode.

Measures: compiled run time, compile time (and XLA temp bytes for the HVPs); each Taylor
workload also records each variant's program size (jaxpr equations, nested jaxprs included).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.experimental import jet as jax_jet
from jax.flatten_util import ravel_pytree

import adkit

from .._measure import equation_count
from .._registry import Suite, Variant, Workload, register_suite

NESTED_JAX, JET, JAX_JET, NESTED_ADKIT = (
    "nested jax.jvp",
    "adkit.jet",
    "jax.experimental.jet",
    "nested adkit.jvp",
)
HVP_JAX, DENSE = "jax.jvp(jax.grad)", "jax.hessian @ v (dense)"


def taylor_problem(n: int = 2048, m: int = 1024):
    a = jax.random.normal(jax.random.key(0), (m, n)) / jnp.sqrt(n)
    f = lambda x: jnp.sum(jnp.tanh(a @ jnp.sin(x)) ** 2)
    x = jnp.linspace(-1.0, 1.0, n)
    v = jnp.cos(jnp.arange(n, dtype=x.dtype))
    return f, x, v


def nested(jvp, f, k):
    """The k-th derivative of t ↦ f(x + t v) at 0 by k nested JVPs."""

    def kth(x, v):
        h = lambda t: f(x + t * v)
        for _ in range(k):
            h = _derivative(jvp, h)
        return h(jnp.zeros((), x.dtype))

    return kth


def _derivative(jvp, h):
    return lambda t: jvp(h, (t,), (jnp.ones_like(t),))[1]


def by_jet(jet, f, k):
    """The k-th derivative along v from one jet of the path x + t v."""

    def kth(x, v):
        zeros = [jnp.zeros_like(v)] * (k - 1)
        _, terms = jet(f, (x,), ([v, *zeros],))
        return terms[k - 1]

    return kth


def taylor_workload(k: int, quick: bool) -> Workload:
    f, x, v = taylor_problem(256, 64) if quick else taylor_problem()
    makers = {
        NESTED_JAX: lambda: nested(jax.jvp, f, k),
        JET: lambda: by_jet(adkit.jet, f, k),
        JAX_JET: lambda: by_jet(jax_jet.jet, f, k),
        NESTED_ADKIT: lambda: nested(adkit.jvp, f, k),
    }
    variants = [Variant(label, make) for label, make in makers.items()]
    sizes = {label: equation_count(make(), (x, v)) for label, make in makers.items()}
    info = {"k": k, "equations": sizes}
    return Workload(f"taylor/k={k}", (x, v), variants, ("run", "compile"), info)


def mlp_loss(width: int):
    model = eqx.nn.MLP(8, 1, width_size=width, depth=2, activation=jnp.tanh, key=jax.random.key(1))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    flat, unravel = ravel_pytree(params)
    xs = jax.random.normal(jax.random.key(2), (64, 8))
    ys = jnp.sin(xs[:, :1])

    def loss(p):
        net = eqx.combine(unravel(p), static)
        return jnp.mean((jax.vmap(net)(xs) - ys) ** 2)

    return loss, flat


def hvp_workload(width: int, quick: bool) -> Workload:
    f, x = mlp_loss(width)
    v = jnp.cos(jnp.arange(x.size, dtype=x.dtype))
    modes = ("fwd-over-rev", "rev-over-fwd") if quick else adkit.higher.MODES

    def adkit_mode(mode):
        return lambda: lambda x, v: adkit.hvp(f, (x,), (v,), mode=mode)[0]

    variants = [
        Variant(HVP_JAX, lambda: lambda x, v: jax.jvp(jax.grad(f), (x,), (v,))[1]),
        Variant(DENSE, lambda: lambda x, v: jax.hessian(f)(x) @ v),
        *(Variant(f"adkit.hvp ({m})", adkit_mode(m)) for m in modes),
    ]
    measures = ("run",) if quick else ("run", "compile", "temp_bytes")
    return Workload(f"hvp/mlp (n={x.size})", (x, v), variants, measures, {"n": int(x.size)})


def workloads(quick: bool) -> list[Workload]:
    orders = (1, 2, 4) if quick else tuple(range(1, 9))
    out = [taylor_workload(k, quick) for k in orders]
    out.append(hvp_workload(8 if quick else 32, quick))
    return out


def _growth(rows, measure) -> dict[str, dict[int, float]]:
    """`{variant: {k: seconds}}` over the Taylor workloads."""
    out: dict[str, dict[int, float]] = {}
    for r in rows:
        if r.measure == measure and r.workload.startswith("taylor/"):
            out.setdefault(r.variant, {})[r.info["k"]] = r.median
    return out


def summarize(rows) -> list[str]:
    """How each variant's cost grows with k, and adkit.jet against nested JVPs at the top k."""
    lines = []
    sizes = {r.info["k"]: r.info["equations"] for r in rows if r.workload.startswith("taylor/")}
    if len(sizes) > 1:
        low, top = min(sizes), max(sizes)
        parts = [f"{v} {sizes[low][v]} -> {sizes[top][v]}" for v in sizes[top]]
        lines.append(f"program size (jaxpr equations), k={low} -> k={top}: " + "; ".join(parts))
    for measure, text in (("run", "compiled run"), ("compile", "compile time")):
        growth = _growth(rows, measure)
        if not growth or len(next(iter(growth.values()))) < 2:
            continue
        top = max(next(iter(growth.values())))
        parts = [f"{v} {t[top] / t[1]:.1f}x" for v, t in growth.items() if 1 in t and top in t]
        lines.append(f"{text} at k={top} over k=1: " + "; ".join(parts))
        if JET in growth and NESTED_JAX in growth:
            ratio = growth[NESTED_JAX][top] / growth[JET][top]
            lines.append(
                f"{text} at k={top}, nested jax.jvp / adkit.jet = {ratio:.1f}x "
                f"[{'jet cheaper' if ratio > 1 else 'jet NOT cheaper'}]"
            )
    for r in rows:
        if r.workload.startswith("hvp/") and r.measure == "run" and r.variant != HVP_JAX:
            lines.append(f"{r.workload} {r.variant}: {r.ratio:.2f}x jax.jvp(jax.grad)")
    return lines


def plot(rows, folder) -> list:
    """Compiled run time of the k-th derivative against k, one line per variant."""
    from pathlib import Path

    from .._plot import line_plot

    growth = _growth(rows, "run")
    if not growth:
        return []
    series = {v: [(k, s * 1e6) for k, s in t.items()] for v, t in growth.items()}
    path = Path(folder) / "higher-kth-derivative.png"
    return [
        line_plot(
            path,
            series,
            title="The k-th derivative: one jet against k nested JVPs",
            xlabel="order k",
            ylabel="compiled run (µs)",
        )
    ]


register_suite(
    Suite(
        "higher",
        "the k-th derivative by adkit.jet against nested JVPs and JAX's jet; adkit.hvp's modes",
        workloads,
        summarize=summarize,
        plot=plot,
    )
)
