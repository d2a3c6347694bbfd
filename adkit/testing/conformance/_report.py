"""Counts per file and mode, and the list of tests JAX passes and adkit fails."""

from __future__ import annotations

from ._exceptions import reason


def summarize(results: dict[str, dict[str, dict]]) -> dict:
    """`results[file][mode][test id] = record` to per-file counts and regressions."""
    files = {}
    for name, by_mode in results.items():
        jax_records = by_mode["jax"]
        routed = sorted(t for t, r in jax_records.items() if r["routed"])
        on_jax = [t for t in routed if jax_records[t]["outcome"] == "passed"]
        row = {
            "selected": len(jax_records),
            "routed": len(routed),
            "passed": {"jax": len(on_jax)},
            "regressions": {},
            "exempt": {},
        }
        for mode, records in by_mode.items():
            if mode == "jax":
                continue
            failing = [t for t in on_jax if records.get(t, {}).get("outcome") != "passed"]
            exempt = {t: reason(t) for t in failing if reason(t)}
            row["passed"][mode] = len(on_jax) - len(failing)
            row["exempt"][mode] = exempt
            row["regressions"][mode] = {
                t: records.get(t, {}).get("message", records.get(t, {}).get("outcome", "missing"))
                for t in failing
                if t not in exempt
            }
        row["regressions"] = {m: r for m, r in row["regressions"].items() if r}
        files[name] = row
    return {"files": files}


def markdown(summary: dict) -> str:
    """The table of the conformance page, then each regression with its first error line."""
    modes = sorted({m for row in summary["files"].values() for m in row["passed"]} - {"jax"})
    head = ["file", "tests run", "differentiate", "pass on JAX"]
    head += [f"pass on adkit ({m})" for m in modes] + ["exempt"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in summary["files"].items():
        cells = [f"`{name}`", row["selected"], row["routed"], row["passed"]["jax"]]
        cells += [row["passed"].get(m, "-") for m in modes]
        cells += [max((len(row["exempt"].get(m, {})) for m in modes), default=0)]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    for name, row in summary["files"].items():
        for mode, failing in row["regressions"].items():
            lines += ["", f"### {name}, {mode}: {len(failing)} pass on JAX and fail on adkit", ""]
            lines += [f"- `{t.split('::', 1)[-1]}`: {m}" for t, m in sorted(failing.items())]
    return "\n".join(lines) + "\n"
