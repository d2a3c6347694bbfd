"""adkit's jaxpr interpreters and their rules.

- `_staging.py` (a function to a jaxpr), `_env.py` (variables to values), `_zeros.py` (symbolic
  values), `_eval.py` (the evaluator), `_registry.py` (the rule tables): the shared core;
- `forward/`: `jvp`, `jacfwd`, `linearize`;
- `reverse/`: `vjp`, `grad`, `value_and_grad`, `jacrev`, `hessian`, by the tape (`reverse/tape/`)
  or by transposition (`reverse/transpose/`);
- `eager/`: define-by-run forward and reverse mode, for functions that branch in Python on
  values (`define_by_run`);
- `wengert/`: `trace`, the Wengert list and its adjoint table, for teaching;
- `rules/`: the first-order rules of every mode and the public extension surface.
"""

from . import forward, reverse, rules, wengert  # noqa: F401  (the folders, for `adkit.interpreter.forward`...)
from ._eval import eval_jaxpr
from ._zeros import Zero
from .eager import define_by_run
from .forward import jacfwd, jvp, linearize
from .reverse import grad, hessian, jacrev, value_and_grad, vjp
from .wengert import Tape, TapeEntry, trace

__all__ = [
    "Tape",
    "TapeEntry",
    "Zero",
    "define_by_run",
    "eval_jaxpr",
    "grad",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "rules",
    "trace",
    "value_and_grad",
    "vjp",
]
