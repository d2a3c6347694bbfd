"""Reverse mode: `vjp`, `grad`, `value_and_grad`, `jacrev`, `hessian`, computed two ways.

- `api.py`: the public functions; `method="tape"` or `method="transpose"` chooses the path;
- `tape/`: a forward sweep that stores residuals and a backward sweep applying VJP rules;
- `transpose/`: the transpose of adkit's own linearized JVP, with transpose rules.

Both path folders use the same file names for the same constructs: `engine.py` (the walk),
`calls.py`, `cond.py`, `scan.py`, `while_loop.py`, `shard_map.py`.
"""

from . import tape, transpose  # noqa: F401  (their rules)
from .api import grad, hessian, jacrev, value_and_grad, vjp

__all__ = ["grad", "hessian", "jacrev", "value_and_grad", "vjp"]
