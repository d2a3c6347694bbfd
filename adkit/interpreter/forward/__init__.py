"""Forward mode: `jvp`, `jacfwd`, `linearize` and the engine that pushes tangents through a jaxpr.

- `api.py`: the public functions, with JAX's arguments and pytree behaviour;
- `engine.py`: the walk (`jvp_open`) and the JVP of a sub-jaxpr as a new jaxpr (`jvp_jaxpr`);
- `calls.py`, `cond.py`, `scan.py`, `while_loop.py`, `shard_map.py`, `reduce.py`: the JVP rules
  of the higher-order primitives, which recurse into sub-jaxprs and so live with the engine.

The JVP rules of first-order primitives are in `adkit.interpreter.rules.jvp`.
"""

from . import calls, cond, reduce, scan, shard_map, while_loop  # noqa: F401  (their rules)
from .api import jacfwd, jvp, linearize

__all__ = ["jacfwd", "jvp", "linearize"]
