"""`adkit bench`: the harness's mechanics, and the quick pass as a smoke test.

Nothing here asserts a time: speed is what the benchmarks report, not what the tests check.
"""

from __future__ import annotations

import json
import math
import time

import jax.numpy as jnp
import pytest

from adkit import bench
from adkit.bench._measure import rounds as bench_rounds
from adkit.bench._run import _measure, _rows


def test_interleaved_alternates_and_counts(monkeypatch):
    from adkit.bench import _measure

    order = []
    calls = {name: (lambda n=name: order.append(n) or jnp.zeros(())) for name in "abc"}
    monkeypatch.setattr(_measure, "SAMPLE_SECONDS", 0.0)  # one call per sample
    timings = bench.interleaved(calls, repeats=12, warmup=1)
    # one warm-up round, one call each to set the calls per sample, then twelve rounds, each a
    # new order of the three: no call always follows the same one
    assert "".join(order[:6]) == "abcabc"
    rounds = ["".join(order[i : i + 3]) for i in range(6, len(order), 3)]
    assert len(rounds) == 12 and all(sorted(r) == ["a", "b", "c"] for r in rounds)
    after = {(r[i - 1], r[i]) for r in rounds for i in (1, 2)}
    assert after == {(p, q) for p in "abc" for q in "abc" if p != q}
    assert all(len(t.samples) == 12 for t in timings.values())
    # each sample is a run of calls filling SAMPLE_SECONDS, as many as that variant's own time
    # allows (a fast call beside a slow one is not timed one call at a time)
    order.clear()
    slow = lambda: order.append("b") or time.sleep(0.002) or jnp.zeros(())
    calls = {"a": calls["a"], "b": slow}
    monkeypatch.setattr(_measure, "SAMPLE_SECONDS", 0.05)
    bench.interleaved(calls, repeats=2, warmup=1)
    # per call: one warm-up, three to time it (it is under SAMPLE_SECONDS), two samples
    per_sample = {k: (order.count(k) - 4) / 2 for k in "ab"}
    assert per_sample["a"] > per_sample["b"] > 1
    assert per_sample["b"] <= 25  # 2 ms calls filling 50 ms


def test_stages_and_compile_times_are_taken_in_shuffled_rounds_too():
    # `_alternate` (compile, trace, first-call and stage times, one call per sample) takes its
    # rounds in the same shuffled orders as `interleaved`, after one discarded round
    from adkit.bench import _run

    order = []
    take = {name: (lambda n=name: order.append(n) or 0.0) for name in "abc"}
    timings = _run._alternate(take, repeats=12)
    assert "".join(order[:3]) == "abc"  # the discarded first round
    rounds = ["".join(order[i : i + 3]) for i in range(3, len(order), 3)]
    assert rounds == ["".join(r) for r in bench_rounds("abc", 12)]
    after = {(r[i - 1], r[i]) for r in rounds for i in (1, 2)}
    assert after == {(p, q) for p in "abc" for q in "abc" if p != q}
    assert all(len(t.samples) == 12 for t in timings.values())


def test_samples_are_timed_with_the_garbage_collector_paused(monkeypatch):
    # a full collection walks the whole process's heap: it is not the timed call's own cost
    import gc

    from adkit.bench import _measure, _run

    seen = []
    probe = lambda: seen.append(gc.isenabled()) or jnp.zeros(())
    monkeypatch.setattr(_measure, "SAMPLE_SECONDS", 0.0)
    bench.interleaved({"a": probe}, repeats=3, warmup=1)
    _run._alternate({"a": lambda: seen.append(gc.isenabled()) or 0.0}, repeats=3)
    assert seen and not any(seen) and gc.isenabled()
    gc.disable()  # and a collector that was off stays off
    try:
        with _measure.gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_rows_report_ratios_to_the_first_variant():
    workload = bench.Workload("w", (), [])
    timings = {
        "base": bench.Timing((1.0, 2.0, 3.0)),
        "other": bench.Timing((3.0, 4.0, 5.0)),
    }
    base, other = _rows("suite", workload, "run", timings)
    assert base.ratio is None and (base.median, base.low, base.high) == (2.0, 1.0, 3.0)
    assert other.ratio == 2.0


def test_a_peer_that_is_missing_is_left_out_with_a_note(monkeypatch):
    workload = bench.Workload(
        "w",
        (jnp.ones(3),),
        [
            bench.Variant("jnp", lambda: jnp.sin),
            bench.Variant("peer", lambda: jnp.cos, needs="not_an_installed_library"),
        ],
        measures=("temp_bytes",),
    )
    suite = bench.Suite("fake", "", lambda quick: [workload], peers=("not_an_installed_library",))
    monkeypatch.setitem(bench.SUITES, "fake", suite)
    report = bench.run(["fake"], quick=True)
    assert [r.variant for r in report.rows] == ["jnp"]
    assert report.notes and "not_an_installed_library" in report.notes[0]
    rows = _measure(suite, workload, "temp_bytes", True, set())
    assert [r.variant for r in rows] == ["jnp", "peer"]


def test_an_unknown_suite_is_a_clear_error():
    with pytest.raises(ValueError, match="suites are"):
        bench.run(["no-such-suite"], quick=True)


def _quick_pass(tmp_path, suite):
    """Runs one suite's quick pass through the CLI; checks every row group; returns the report.

    One test per suite, so that the test runner's workers share them out.
    """
    from adkit.cli import main

    assert main(["bench", "--quick", "--only", suite, "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    rows = report["rows"]
    assert report["machine"]["jax"] and report["quick"] is True
    assert rows and {r["suite"] for r in rows} == {suite}
    for name in {r["workload"] for r in rows}:
        mine = [r for r in rows if r["workload"] == name]
        for measure in {r["measure"] for r in mine}:
            group = [r for r in mine if r["measure"] == measure]
            assert group[0]["ratio"] is None  # the baseline comes first
            assert len(group) >= 2
            if measure == "error":  # against the reference: no ratio, a small error
                assert all(r["ratio"] is None and 0 <= r["median"] < 1e-4 for r in group)
            else:
                assert all(math.isfinite(r["ratio"]) for r in group[1:])
            assert all(r["low"] <= r["median"] <= r["high"] for r in group)
    return report, rows


def test_the_quick_pass_of_the_interpreter_suite_writes_the_report(tmp_path):
    report, rows = _quick_pass(tmp_path, "interpreter")
    workloads = {r["workload"] for r in rows}
    assert {"mlp/grad", "mlp/jvp", "rnn_scan/grad", "textbook/grad"} <= workloads
    grads = [r for r in rows if r["workload"] == "mlp/grad" and r["measure"] == "temp_bytes"]
    assert [r["variant"] for r in grads] == [
        "jax.grad",
        "adkit.grad (tape)",
        "adkit.grad (transpose)",
    ]
    markdown = (tmp_path / "report.md").read_text()
    assert "| mlp/grad | compiled run | adkit.grad (tape) |" in markdown
    # a gradient's compiled run is also reported in forward passes (the forward timed with it)
    runs = [r for r in rows if r["workload"] == "mlp/grad" and r["measure"] == "run"]
    assert all(r["info"]["over_forward"] > 0 for r in runs)
    assert "forward passes" in markdown
    # the suite's verdicts on its targets, and its figure
    assert any("compiled run (median <= 1.02" in note for note in report["notes"])
    assert (tmp_path / "interpreter-trace-per-equation.png").stat().st_size > 0


def test_the_quick_pass_of_the_implicit_suite_compares_with_its_peers(tmp_path):
    # the test command installs the bench extra, so the peers are there
    report, rows = _quick_pass(tmp_path, "implicit")
    deq = [r for r in rows if r["workload"].startswith("deq") and r["measure"] == "backward_stored"]
    memory = {r["variant"]: r["median"] for r in deq}
    # implicit differentiation stores the solution, unrolling every iterate: bytes, not time
    assert (
        memory["adkit.implicit fixed point + Neumann"] < memory["unrolled, 60 steps (backprop)"] / 4
    )
    assert any(note.startswith("implicit: ridge:") for note in report["notes"])


def test_the_quick_pass_of_the_checkpoint_suite_counts_evaluations(tmp_path):
    _, rows = _quick_pass(tmp_path, "checkpoint")
    counted = [r for r in rows if r["measure"] == "evaluations"]
    assert counted and all(
        r["median"] >= 1.0 for r in counted
    )  # every step evaluated at least once


def test_the_quick_pass_of_the_sparse_suite_has_every_stage_and_verdict(tmp_path):
    report, rows = _quick_pass(tmp_path, "sparse")
    colors = {r["variant"]: r["median"] for r in rows if r["measure"] == "colors"}
    assert colors["adkit.sparse.jacfwd"] <= min(colors["asdex (fwd)"], colors["sparsejac.jacfwd"])
    measures = {r["measure"] for r in rows if r["variant"] == "adkit.sparse.jacfwd"}
    assert measures == {"colors", "detection", "coloring", "run", "one_off"}
    assert any("compressed JVPs" in r["variant"] for r in rows if r["measure"] == "run")
    assert any("compiled program alone" in r["variant"] for r in rows if r["measure"] == "run")
    assert any(note.startswith("sparse: brusselator") for note in report["notes"])
    assert any("its compiled program alone" in note for note in report["notes"])


def test_summaries_give_each_target_a_verdict():
    from adkit.bench.suites.interpreter import summarize

    def row(workload, measure, variant, median, ratio, equations=1):
        info = {"equations": equations}
        return bench.Row(
            "interpreter", workload, measure, variant, median, median, median, ratio, info=info
        )

    rows = [
        row("a/grad", "run", "adkit.grad (tape)", 1.0, 1.00),
        row("b/grad", "run", "adkit.grad (tape)", 1.0, 1.20),  # one model above 1.10: not met
        row("a/grad", "temp_bytes", "adkit.grad (tape)", 1.0, 1.04),
        row("chain_2000/grad", "trace", "jax.grad", 2.0, None, 2000),
        row("chain_2000/grad", "trace", "adkit.grad (tape)", 1.0, 0.5, 2000),
        row("chain_20000/grad", "trace", "jax.grad", 30.0, None, 20000),
        row("chain_20000/grad", "trace", "adkit.grad (tape)", 11.0, 0.4, 20000),
    ]
    lines = summarize(rows)
    assert lines[0].startswith("compiled run") and lines[0].endswith("[NOT met]")
    assert "median 1.10, worst 1.20" in lines[0]
    assert lines[1].startswith("XLA temp bytes") and lines[1].endswith("[met]")
    assert "jax.grad 1.50; adkit.grad (tape) 1.10 [met]" in lines[2]


def test_the_sparse_summary_gives_each_target_a_verdict_and_the_added_time():
    from adkit.bench.suites import sparse as suite

    def row(measure, variant, median, n=8192):
        info = {"n": n}
        return bench.Row("sparse", "p", measure, variant, median, median, median, None, info=info)

    rows = [
        row("colors", suite.ADKIT, 5.0),
        row("colors", suite.ASDEX, 7.0),
        row("detection", suite.ADKIT, 1e-3),
        row("detection", suite.ASDEX, 9e-3),  # 9x: below the 10x target
        row("run", suite.ADKIT, 12e-6),
        row("run", suite.BARE, 10e-6),  # 1.20x, 2 µs added: not met
        row("one_off", suite.ADKIT, 0.05),
        row("one_off", suite.DENSE_FWD, 0.1),
    ]
    (line,) = suite.summarize(rows)
    assert "colors adkit.sparse.jacfwd 5, asdex (fwd) 7 [met]" in line
    assert "detection 9.0x faster than asdex [NOT met]" in line
    assert "evaluation 1.20x the bare JVPs (+2.0 µs) [NOT met]" in line
    assert "one-off 0.50x the better dense mode [met]" in line


def test_the_quick_pass_of_the_higher_suite_compares_jets_with_nested_jvps(tmp_path):
    report, rows = _quick_pass(tmp_path, "higher")
    variants = {r["variant"] for r in rows if r["workload"] == "taylor/k=4"}
    assert variants == {"nested jax.jvp", "adkit.jet", "jax.experimental.jet", "nested adkit.jvp"}
    # the algorithmic fact: nested JVPs' programs grow faster with k than one jet's
    sizes = {
        r["workload"]: r["info"]["equations"]
        for r in rows
        if r["measure"] == "run" and r["workload"].startswith("taylor/")
    }
    grow = lambda label: sizes["taylor/k=4"][label] / sizes["taylor/k=1"][label]
    assert grow("nested jax.jvp") > 2 * grow("adkit.jet")
    assert any(note.startswith("higher: program size") for note in report["notes"])
    assert (tmp_path / "higher-kth-derivative.png").stat().st_size > 0
