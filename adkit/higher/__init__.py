"""Higher-order derivatives: Hessian-vector products in four modes, and Taylor mode.

- `hvp`: H v by forward over reverse, reverse over forward, reverse over reverse or forward over
  forward (`_hvp.py`), none forming the Hessian;
- `jet`, `derivatives`: Taylor-mode propagation of truncated Taylor series through jaxprs with
  adkit's own rules (the engine is `adkit.interpreter.jet`, its rules
  `adkit.interpreter.rules.jet`).

See the page "Higher order" for the costs.
"""

from ..interpreter.jet import derivatives, jet
from ._hvp import MODES as MODES
from ._hvp import hvp

__all__ = ["derivatives", "hvp", "jet"]  # and MODES, the names of the four HVP modes
