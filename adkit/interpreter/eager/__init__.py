"""Define-by-run: forward and reverse mode on tracers that carry concrete values.

The other modes stage a function to a jaxpr first and walk it. That cannot work for a function
that branches in Python on a value (`if x < 3:`, `while err > tol:`): staging sees abstract
values only. This mode is the textbook one (autodidax's): run the function eagerly on tracers
that hold concrete primal values, so Python sees real numbers and takes the real branch, and
differentiate each primitive as it is applied, with adkit's rules:

- forward mode (`forward.py`): a JVP tracer carries `(primal, tangent)`; each primitive goes
  through its rule in `JVP_RULES`;
- reverse mode (`reverse.py`): a recording tracer carries `(primal, node)`; each primitive is
  applied and pushed on a tape with its pullback (adkit's VJP of that one primitive, by the tape
  or the transpose path), and the tape is swept backwards.

`dispatch.py` decides which mode runs: adkit stages a function when it can; when staging stops
on a Python branch on a value and every input holds a concrete value, it runs this mode instead
(`adkit.define_by_run()` makes it run this mode always). Under `jax.jit` the inputs are abstract
and the error says what to do.
"""

from .dispatch import STAGING_ERRORS, define_by_run, staged_or_none
from .forward import jvp_eager
from .reverse import vjp_eager

__all__ = ["STAGING_ERRORS", "define_by_run", "jvp_eager", "staged_or_none", "vjp_eager"]
