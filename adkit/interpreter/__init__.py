"""adkit's jaxpr interpreters: the evaluator, the tape (Wengert list) and forward mode."""

from . import rules
from ._eval import eval_jaxpr
from ._forward import jacfwd, jvp, linearize
from ._reverse import grad, hessian, jacrev, value_and_grad, vjp
from ._tape import Tape, TapeEntry, trace
from ._zeros import Zero

__all__ = [
    "Tape",
    "TapeEntry",
    "Zero",
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
