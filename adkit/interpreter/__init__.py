"""adkit's jaxpr interpreters: the evaluator and the tape (Wengert list)."""

from ._eval import eval_jaxpr
from ._tape import Tape, TapeEntry, trace

__all__ = ["Tape", "TapeEntry", "eval_jaxpr", "trace"]
