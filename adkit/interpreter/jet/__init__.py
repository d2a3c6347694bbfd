"""Taylor mode: `jet` and `derivatives`, and the engine that pushes Taylor series through a jaxpr.

- `api.py`: the public functions, in `jax.experimental.jet`'s convention;
- `engine.py`: the walk (`jet_open`) and the packing of series for loop and branch bodies;
- `calls.py`, `cond.py`, `scan.py`, `while_loop.py`, `shard_map.py`: the jet rules of the
  higher-order primitives, which walk sub-jaxprs and so live with the engine.

The jet rules of first-order primitives are in `adkit.interpreter.rules.jet`.
"""

from . import calls, cond, derived, scan, shard_map, while_loop  # noqa: F401  (their rules)
from .api import derivatives, jet

__all__ = ["derivatives", "jet"]
