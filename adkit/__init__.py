"""adkit: composable differentiation transformations for JAX, built on a readable interpreter.

The transformations (`jvp`, `vjp`, `grad`, `value_and_grad`, `jacfwd`, `jacrev`, `hessian`,
`linearize`, `trace`) come from `adkit.interpreter`; `adkit.higher` adds Hessian-vector products
and Taylor mode (`hvp`, `jet`, `derivatives`); `adkit.ops` holds stable operations and new
primitives; `adkit.testing` the derivative checks.
"""

from . import higher, interpreter, ops
from ._version import __version__
from .higher import derivatives, hvp, jet
from .interpreter import *  # noqa: F403  (the transformations: interpreter.__all__)
from .interpreter.rules import MissingRuleError, register_jvp, register_transpose, register_vjp

__all__ = [
    *interpreter.__all__,
    "MissingRuleError",
    "__version__",
    "derivatives",
    "higher",
    "hvp",
    "jet",
    "ops",
    "register_jvp",
    "register_transpose",
    "register_vjp",
]
