"""adkit: composable differentiation transformations for JAX, built on a readable interpreter."""

from . import ops
from ._version import __version__
from .interpreter import (
    Tape,
    TapeEntry,
    Zero,
    eval_jaxpr,
    grad,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    rules,
    trace,
    value_and_grad,
    vjp,
)
from .interpreter._registry import MissingRuleError
from .interpreter.rules import register_jvp, register_transpose, register_vjp

__all__ = [
    "MissingRuleError",
    "Tape",
    "TapeEntry",
    "Zero",
    "__version__",
    "eval_jaxpr",
    "grad",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "ops",
    "register_jvp",
    "register_transpose",
    "register_vjp",
    "rules",
    "trace",
    "value_and_grad",
    "vjp",
]
