"""The pytest plugin the conformance runner loads into each run of a JAX test file.

It routes differentiation (see `_routing`) once the test modules are collected, and writes one
record per test: its outcome, the first line of the failure, and whether it differentiated
through a routed function. Settings come from the environment, so xdist workers inherit them:
`ADKIT_CONFORMANCE_MODE` (`jax`, `tape` or `transpose`) and `ADKIT_CONFORMANCE_REPORT` (a path
prefix; each process writes `<prefix>.<worker>.json`).
"""

from __future__ import annotations

import json
import os

import pytest

from . import _routing

_records: dict[str, dict] = {}


def pytest_collection_finish(session):
    paths = sorted({str(item.path) for item in session.items})
    _routing.install(os.environ["ADKIT_CONFORMANCE_MODE"], _routing.test_modules(paths))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    before = _routing.calls["count"]
    yield
    if _routing.calls["count"] > before:
        _record(item.nodeid)["routed"] = True


def pytest_runtest_logreport(report):
    record = _record(report.nodeid)
    if report.failed:
        record["outcome"] = "failed"
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash is not None else str(report.longrepr)
        record["message"] = message.strip().splitlines()[0][:300] if message.strip() else ""
    elif report.skipped and record["outcome"] != "failed":
        record["outcome"] = "skipped"
    elif report.when == "call" and report.passed and record["outcome"] == "unknown":
        record["outcome"] = "passed"


def pytest_sessionfinish(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"{os.environ['ADKIT_CONFORMANCE_REPORT']}.{worker}.json", "w") as f:
        json.dump(_records, f)


def _record(nodeid: str) -> dict:
    return _records.setdefault(nodeid, {"outcome": "unknown", "routed": False})
