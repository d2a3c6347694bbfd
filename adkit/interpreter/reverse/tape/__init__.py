"""The tape path of reverse mode (`method="tape"`, the default).

- `engine.py`: `forward_sweep` records each active equation's residuals; `backward_sweep` applies
  the VJP rules to the tape in reverse;
- `calls.py`, `cond.py`, `scan.py`, `while_loop.py`, `shard_map.py`, `reduce.py`: the tape rules
  of the higher-order primitives (they sweep sub-jaxprs);
- `decompositions.py`: `eig`, whose VJP is derived from its JVP rule;
- `derived.py`: `transposed`, a VJP rule derived from a JVP rule by linearizing and transposing it.

The VJP rules of first-order primitives are in `adkit.interpreter.rules.vjp`.
"""

from . import calls, cond, decompositions, reduce, scan, shard_map, while_loop  # noqa: F401
from .derived import transposed
from .engine import backward_sweep, forward_sweep

__all__ = ["backward_sweep", "forward_sweep", "transposed"]
