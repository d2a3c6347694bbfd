"""The transpose path of reverse mode (`method="transpose"`).

- `engine.py`: `forward_pass` evaluates the primal part of a linearized jaxpr and keeps the
  residuals; `backward_pass` applies the transpose rules to its linear part in reverse;
- `calls.py`: the transpose of a `custom_vjp` function's linearization (the user's bwd);
- `cond.py`, `scan.py`, `while_loop.py`, `shard_map.py`: control flow split into a primal and a
  linear part (`SPLIT_RULES`).

The transpose rules of first-order primitives are in `adkit.interpreter.rules.transpose`.
"""

from . import calls, cond, scan, shard_map, while_loop  # noqa: F401  (their rules)
from .engine import backward_pass, forward_pass

__all__ = ["backward_pass", "forward_pass"]
