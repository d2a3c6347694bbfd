"""Implicit differentiation: derivatives of solutions of equations, without unrolling solvers.

- `custom_root`, `custom_fixed_point`: decorate a solver so its result is differentiated by the
  implicit function theorem (`jaxopt.implicit_diff`'s call shape);
- `root_jvp`, `root_vjp`: the tangent and the cotangent at a given root, for direct use;
- solvers with implicit differentiation attached: `fixed_point_iteration`, `anderson`, `newton`,
  `minimize` (an optax optimizer, differentiated through its stationarity condition);
- `DEQ`: an equinox module for deep-equilibrium layers;
- `record()`: every solve's residual and iterations; `ImplicitSolveError` when one fails.

Every solve is checked: a solve that misses its tolerance raises (or gives NaN, or warns, as
`on_failure=` says), under `jit` and `vmap` too. It never yields a silently wrong derivative.
"""

from ._deq import DEQ
from ._failure import ImplicitSolveError, SolveStats, record
from ._fixed_point import anderson, fixed_point_iteration
from ._minimize import minimize
from ._newton import newton
from ._root import custom_fixed_point, custom_root, root_jvp, root_vjp
from ._solution import Solution

__all__ = [
    "DEQ",
    "ImplicitSolveError",
    "Solution",
    "SolveStats",
    "anderson",
    "custom_fixed_point",
    "custom_root",
    "fixed_point_iteration",
    "minimize",
    "newton",
    "record",
    "root_jvp",
    "root_vjp",
]
