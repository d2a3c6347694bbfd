"""Forward mode through `shard_map` and its collectives, on 4 simulated CPU devices."""

import pathlib
import subprocess
import sys


def test_shard_map_jvp_matches_jax_on_four_devices():
    script = pathlib.Path(__file__).with_name("sharded_program.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sharded jvp ok" in result.stdout
    assert "explicit mesh grad ok" in result.stdout
