"""Runs JAX's test files once per mode and collects the per-test records."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The files, and the keyword expression choosing their differentiation tests (None: all tests).
GRADIENT_TESTS = (
    "grad or jvp or vjp or jac or hessian or lineariz or deriv or autodiff or transpose"
)
FILES = {
    "lax_autodiff_test.py": None,
    "lax_control_flow_test.py": GRADIENT_TESTS,
    "linalg_test.py": GRADIENT_TESTS,
    "custom_api_test.py": None,
}


def find_tests(path: str | os.PathLike) -> Path:
    """The `tests` folder of a JAX source checkout, given the checkout or the folder itself."""
    path = Path(path).resolve()
    for candidate in (path, path / "tests"):
        if (candidate / "lax_autodiff_test.py").is_file():
            return candidate
    raise FileNotFoundError(
        f"No JAX test files were found under {str(path)!r}: expected `lax_autodiff_test.py` "
        "there or in its `tests` folder. JAX's tests are not in its wheel; check out the tag of "
        "the installed version, e.g. `git clone --depth 1 --branch jax-v0.10.2 "
        "https://github.com/jax-ml/jax`, and pass the checkout's path."
    )


def run_file(
    tests: Path, name: str, mode: str, workers: int, keyword: str | None, extra: list[str]
) -> dict[str, dict]:
    """Runs one test file in one mode; returns `{test id: record}`."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "records")
        env = dict(os.environ, ADKIT_CONFORMANCE_MODE=mode, ADKIT_CONFORMANCE_REPORT=prefix)
        command = [sys.executable, "-m", "pytest", str(tests / name), "-q", "--tb=no", "-rN"]
        command += ["-p", "no:cacheprovider", "-p", "adkit.testing.conformance._plugin"]
        if workers > 1:
            command += ["-n", str(workers)]
        if keyword:
            command += ["-k", keyword]
        completed = subprocess.run(
            command + extra, cwd=tests.parent, env=env, capture_output=True, text=True
        )
        records: dict[str, dict] = {}
        for path in glob.glob(prefix + ".*.json"):  # xdist: the workers' and the controller's
            with open(path) as f:
                for test, record in json.load(f).items():
                    routed = record["routed"] or records.get(test, {}).get("routed", False)
                    records[test] = {**record, "routed": routed}
        if not records:
            raise RuntimeError(
                f"Running {name} in mode {mode!r} recorded no tests (pytest exit "
                f"{completed.returncode}). Its output ends:\n{completed.stdout[-3000:]}"
                f"\n{completed.stderr[-3000:]}"
            )
        return records
