"""The sparse suite: sparse Jacobians by adkit.sparse, its peers and dense JAX, in one run.

Workloads: stencil and local problems (2D Brusselator, 2D 5-point Laplacian, 1D Bratu, a 1D
convolution net, heat-equation steps in a scan) at n from 2048 up. Variants, baseline first:
dense `jax.jacfwd`; dense `jax.jacrev`; asdex (its own detection, coloring and evaluation, in
forward mode); sparsejac (forward mode, given adkit's pattern: it has no detection); adkit.sparse
(forward mode, order "best"), called as users call it: its first call prepares and compiles, the
later ones run the compiled products and wrap them, with the index array it keeps on the device,
as a BCOO; the same inside `jax.jit` returning the BCOO (the program then copies the constant
index array into its outputs on every call, as for any array a jitted function returns); and
adkit's compressed JVPs alone, compiled, without decompression (the floor the evaluation is
measured against); and the program a call on values runs, called alone (no Python around it).

Measures: colors (compressed products), detection time, coloring time, compiled evaluation time,
and one-off time (detect, color, trace, compile and one call, from scratch). Targets (issue 15):
detection at least 10x faster than asdex from n = 8192; evaluation within 1.15x of the bare
compressed JVPs; one-off faster than the better dense mode from n = 2048.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np

from adkit import sparse

from .._registry import Suite, Variant, Workload, register_suite
from . import sparse_problems as problems

DENSE_FWD, DENSE_REV = "jax.jacfwd (dense)", "jax.jacrev (dense)"
ADKIT, BARE = "adkit.sparse.jacfwd", "adkit compressed JVPs (no decompression)"
ADKIT_JIT = "adkit.sparse.jacfwd inside jax.jit (BCOO returned)"
ADKIT_PROGRAM = "adkit.sparse.jacfwd's compiled program alone (BCOO data, no Python)"
ASDEX, SPARSEJAC = "asdex (fwd)", "sparsejac.jacfwd"


def _dense(transform, f, x, size):
    return {"one_off": lambda: jax.jit(transform(f))(x), "colors": lambda: size}


def _asdex_variant(f, x) -> Variant:
    import asdex

    detected = asdex.jacobian_sparsity(f, x)
    color = lambda: asdex.jacobian_coloring_from_sparsity(detected, mode="fwd")
    stages = {
        "detection": lambda: asdex.jacobian_sparsity(f, x),
        "coloring": color,
        "colors": lambda: color().num_colors,
        "one_off": lambda: jax.jit(asdex.jacobian(f, x, mode="fwd"))(x),
    }
    return Variant(ASDEX, lambda: asdex.jacobian(f, x, mode="fwd"), needs="asdex", stages=stages)


def _sparsejac_variant(f, x, bcoo) -> Variant:
    import sparsejac
    from sparsejac import sparsejac as internals

    def colors():
        scipy_pattern = internals.ssparse.coo_matrix(
            (np.asarray(bcoo.data), np.asarray(bcoo.indices).T), shape=bcoo.shape
        )
        connectivity = internals._input_connectivity_from_sparsity(scipy_pattern)
        return internals._greedy_color(connectivity, "largest_first")[1]

    def one_off():  # sparsejac has no detection: adkit's, then its coloring and evaluation
        detected = sparse.jacobian_sparsity(f, x).to_bcoo()
        return jax.jit(sparsejac.jacfwd(f, sparsity=detected))(x)

    stages = {
        "coloring": lambda: sparsejac.jacfwd(f, sparsity=bcoo),  # its coloring runs here
        "colors": colors,
        "one_off": one_off,
    }
    return Variant(
        SPARSEJAC, lambda: sparsejac.jacfwd(f, sparsity=bcoo), needs="sparsejac", stages=stages
    )


def _called(jac, x):
    """`jac` after its first call (which detects, colors and compiles), as users call it."""
    jax.block_until_ready(jac(x))
    return jac


def _program(prepared):
    """What a call on values runs, without the Python around it (the signature lookup and the
    BCOO wrapping): the products behind their conditional, flattened, as one compiled call."""
    from adkit.sparse._api import _Compiled

    return _Compiled(prepared).run


def workload(name: str, f, x) -> Workload:
    pattern = sparse.jacobian_sparsity(f, x)
    prepared = sparse.prepare(f, x, mode="forward", pattern=pattern)  # for the bare products
    m, n = pattern.shape
    adkit_stages = {
        "detection": lambda: sparse.jacobian_sparsity(f, x),
        "coloring": lambda: sparse.color(pattern, "column"),
        "colors": lambda: sparse.color(pattern, "column").num_colors,
        "one_off": lambda: jax.jit(sparse.jacfwd(f))(x),
    }
    variants = [
        Variant(DENSE_FWD, lambda: jax.jacfwd(f), stages=_dense(jax.jacfwd, f, x, n)),
        Variant(DENSE_REV, lambda: jax.jacrev(f), stages=_dense(jax.jacrev, f, x, m)),
        _asdex_variant(f, x),
        _sparsejac_variant(f, x, pattern.to_bcoo(np.ones(pattern.nnz))),
        Variant(ADKIT, lambda: _called(sparse.jacfwd(f), x), compiled=True, stages=adkit_stages),
        Variant(ADKIT_JIT, lambda: lambda v: prepared(v), only=("run",)),
        Variant(BARE, lambda: lambda v: prepared.products(v)[1], only=("run",)),
        Variant(ADKIT_PROGRAM, lambda: _program(prepared), compiled=True, only=("run",)),
    ]
    info = {"n": n, "m": m, "nnz": pattern.nnz}
    measures = ("colors", "detection", "coloring", "run", "one_off")
    return Workload(f"{name} (n={n})", (x,), variants, measures, info)


def workloads(quick: bool) -> list[Workload]:
    warnings.filterwarnings("ignore", module="asdex")  # its dense-coloring hints
    if quick:
        return [workload("brusselator", *problems.brusselator(16))]
    chosen = [
        ("brusselator", problems.brusselator(32)),
        ("brusselator", problems.brusselator(64)),
        ("laplacian", problems.laplacian(64)),
        ("laplacian", problems.laplacian(128)),
        ("bratu", problems.bratu(8192)),
        ("conv_net", problems.conv_net(2048)),
        ("heat_scan_20", problems.heat_steps(2048)),
    ]
    return [workload(name, *made) for name, made in chosen]


def summarize(rows) -> list[str]:
    """The targets' verdicts: detection vs asdex, evaluation vs bare JVPs, one-off vs dense."""

    def pick(workload, measure, variant):
        found = [
            r for r in rows if (r.workload, r.measure, r.variant) == (workload, measure, variant)
        ]
        return found[0].median if found else None

    lines = []
    for name in dict.fromkeys(r.workload for r in rows):
        n = next(r.info.get("n", 0) for r in rows if r.workload == name)
        colors = {v: pick(name, "colors", v) for v in (ADKIT, ASDEX, SPARSEJAC)}
        counts = ", ".join(f"{v} {c:.0f}" for v, c in colors.items() if c is not None)
        adkit_colors = colors[ADKIT]
        fewest = all(c is None or adkit_colors <= c for c in colors.values())
        line = f"{name}: colors {counts} [{'met' if fewest else 'NOT met'}]"
        detect_a, detect_b = pick(name, "detection", ASDEX), pick(name, "detection", ADKIT)
        if detect_a and detect_b:
            speedup = detect_a / detect_b
            verdict = "" if n < 8192 else (" [met]" if speedup >= 10 else " [NOT met]")
            line += f"; detection {speedup:.1f}x faster than asdex{verdict}"
        run, bare = pick(name, "run", ADKIT), pick(name, "run", BARE)
        if run and bare:
            ratio = run / bare
            verdict = "met" if ratio <= 1.15 else "NOT met"
            added = (run - bare) * 1e6  # the call's fixed costs weigh most on the fastest
            line += f"; evaluation {ratio:.2f}x the bare JVPs ({added:+.1f} µs) [{verdict}]"
            in_jit = pick(name, "run", ADKIT_JIT)
            program = pick(name, "run", ADKIT_PROGRAM)
            if program:
                line += f" (its compiled program alone: {program / bare:.2f}x)"
            if in_jit:
                line += f" (inside jit, the BCOO returned: {in_jit / bare:.2f}x)"
        one = pick(name, "one_off", ADKIT)
        dense = [
            d
            for d in (pick(name, "one_off", DENSE_FWD), pick(name, "one_off", DENSE_REV))
            if d is not None
        ]
        if one and dense:
            ratio = one / min(dense)
            verdict = "" if n < 2048 else (" [met]" if ratio < 1 else " [NOT met]")
            line += f"; one-off {ratio:.2f}x the better dense mode{verdict}"
        lines.append(line)
    return lines


register_suite(
    Suite(
        "sparse",
        "sparse Jacobians: adkit.sparse against asdex, sparsejac and dense jacfwd/jacrev",
        workloads,
        peers=("asdex", "sparsejac"),
        summarize=summarize,
        x64=False,
    )
)
