"""The `adkit` command line."""

import math
import subprocess
import sys

import adkit
from adkit import cli


def test_demo_prints_the_textbook_wengert_list(capsys):
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    value = math.log(2) + 10 - math.sin(5)
    assert f"f(2, 5)   = {value:.15g}" in out
    forward = out.split("Reverse mode")[0]
    rows = {line.split()[0]: line.split() for line in forward.splitlines() if line.startswith("v")}
    assert rows["v-1"][1:] == ["x1", "2", "1"] and rows["v0"][1:] == ["x2", "5", "0"]
    assert rows["v1"][1:3] == ["log", "v-1"]
    assert rows["v5"][1:] == ["sub", "v3,", "v4", f"{value:.10g}", "5.5"]
    assert rows["v1"][-1] == "0.5"  # d log(x1) = dx1 / x1
    assert "df/dx1    = 5.5 " in out
    assert "cross-check: adkit.jvp 5.5, jax.jvp 5.5" in out
    dx2 = 2 - math.cos(5)
    assert f"grad f    = (5.5, {dx2:.15g})   (tape sweep)" in out
    assert f"cross-check: adkit.grad (5.5, {dx2:.15g}), jax.grad (5.5, {dx2:.15g})" in out
    assert f"adkit.grad(method='transpose') (5.5, {dx2:.15g})" in out
    assert "v5   sub  1            v3 += 1, v4 += -1" in out  # the adjoint table
    assert out.rstrip().splitlines()[-3].startswith("Next: `adkit trace")  # where to go next


def test_version_and_help():
    result = subprocess.run(
        [sys.executable, "-m", "adkit.cli", "--version"], capture_output=True, text=True
    )
    assert result.stdout.strip() == f"adkit {adkit.__version__}"
    assert cli.main([]) == 2
