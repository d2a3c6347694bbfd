"""Sparsity detection: which inputs each output element of a function may depend on.

`engine.py` walks a jaxpr with `IndexSets` (one sparse row of input indices per element) using
the rules in `rules/sparsity/`; `calls.py`, `cond.py`, `scan.py` and `while_loop.py` hold the
rules of the higher-order primitives, which walk their sub-jaxprs with the engine. The public
functions (`adkit.sparse.jacobian_sparsity`, `hessian_sparsity`) are built on `sparsity_closed`.
"""

from . import calls, cond, scan, while_loop  # noqa: F401  (registration)
from .engine import sparsity_closed, sparsity_open, unknown_primitives

__all__ = ["sparsity_closed", "sparsity_open", "unknown_primitives"]
