"""Conformance: JAX's own autodiff tests, with their differentiation routed through adkit.

`python -m adkit.testing.conformance PATH` runs `lax_autodiff_test.py`, the gradient tests of
`lax_control_flow_test.py` and `linalg_test.py`, and `custom_api_test.py` from a JAX source
checkout at PATH (JAX's tests are not in its wheel), once with JAX's own differentiation behind
the same routing, then once per adkit reverse-mode path (`tape`, `transpose`), and prints per
file how many differentiating tests pass on each. Every test that passes on JAX and fails on
adkit is listed with its first error line; documented exceptions are counted apart.

Example:
    ```
    git clone --depth 1 --branch jax-v0.10.2 https://github.com/jax-ml/jax /tmp/jax
    python -m adkit.testing.conformance /tmp/jax --out conformance
    ```
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from . import _report, _runner
from ._routing import MODES

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """The command line; returns 0 when adkit passes every test JAX passes (bar the exempt)."""
    parser = argparse.ArgumentParser(
        prog="python -m adkit.testing.conformance", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("path", help="a JAX source checkout, or its tests folder")
    parser.add_argument("--files", nargs="*", default=list(_runner.FILES), help="test files")
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    parser.add_argument("-n", "--workers", type=int, default=2, help="pytest-xdist workers")
    parser.add_argument("-k", dest="keyword", default=None, help="narrow each file's tests")
    parser.add_argument("--out", default=None, help="folder for report.json and report.md")
    args = parser.parse_args(argv)
    tests = _runner.find_tests(args.path)
    if "jax" not in args.modes:
        args.modes = ["jax", *args.modes]
    results: dict[str, dict[str, dict]] = {}
    for name in args.files:
        if name not in _runner.FILES:
            parser.error(f"unknown file {name!r}; choose from {list(_runner.FILES)}")
        keyword = _runner.FILES[name]
        if args.keyword:
            keyword = f"({keyword}) and ({args.keyword})" if keyword else args.keyword
        for mode in args.modes:
            start = time.perf_counter()
            records = _runner.run_file(tests, name, mode, args.workers, keyword, [])
            results.setdefault(name, {})[mode] = records
            print(
                f"{name} [{mode}]: {len(records)} tests in {time.perf_counter() - start:.0f} s",
                flush=True,
            )
    summary = _report.summarize(results)
    text = _report.markdown(summary)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
        (out / "report.md").write_text(text)
        (out / "records.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    return 0 if all(not row["regressions"] for row in summary["files"].values()) else 1
