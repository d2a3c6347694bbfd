"""`adkit.trace`: the Wengert list of a function call, and its adjoint table.

- `trace.py`: `trace` and the `Tape` it returns; `entry.py`: one row (`TapeEntry`);
- `engine.py`: the `Recorder`, which walks a jaxpr inlining every sub-jaxpr;
- `calls.py`, `cond.py`, `scan.py`, `while_loop.py`: how each higher-order primitive is inlined
  (`WENGERT_RULES`);
- `render.py`: the table as text; `adjoint.py`: `Tape.backward`, the reverse sweep by hand.
"""

from . import calls, cond, scan, while_loop  # noqa: F401  (their rules)
from .adjoint import AdjointRow, Adjoints
from .entry import TapeEntry
from .trace import Tape, trace

__all__ = ["AdjointRow", "Adjoints", "Tape", "TapeEntry", "trace"]
