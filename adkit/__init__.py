"""adkit: composable differentiation transformations for JAX, built on a readable interpreter."""

from ._version import __version__
from .interpreter import Tape, TapeEntry, eval_jaxpr, trace

__all__ = ["Tape", "TapeEntry", "__version__", "eval_jaxpr", "trace"]
