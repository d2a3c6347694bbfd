"""adkit: composable differentiation transformations for JAX, built on a readable interpreter."""

from ._version import __version__
from .interpreter import Tape, TapeEntry, Zero, eval_jaxpr, jacfwd, jvp, linearize, rules, trace
from .interpreter.rules import MissingRuleError, register_jvp

__all__ = [
    "MissingRuleError",
    "Tape",
    "TapeEntry",
    "Zero",
    "__version__",
    "eval_jaxpr",
    "jacfwd",
    "jvp",
    "linearize",
    "register_jvp",
    "rules",
    "trace",
]
