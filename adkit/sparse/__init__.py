"""Sparse Jacobians and Hessians: detect the pattern, color it, evaluate compressed, decompress.

The four stages, each usable on its own:
1. `jacobian_sparsity(f, *args)`, `hessian_sparsity(f, *args)` -> `Pattern`: index sets
   propagated through the jaxpr by adkit's sparsity engine (global, valid for every input);
2. `color(pattern, kind, order)` -> `Coloring`: column, row, star, acyclic or bidirectional;
3. compressed evaluation: one linearization and a `vmap` over the seeds (`Prepared.products`);
4. decompression through one precomputed gather (`Prepared.__call__`).
`prepare(f, *args)` runs stages 1-2 once; `jacfwd`, `jacrev`, `jacobian` and `hessian` are the
convenience transforms.
"""

from ._api import hessian, jacfwd, jacobian, jacrev
from ._coloring import Coloring, color
from ._detect import hessian_sparsity, jacobian_sparsity
from ._pattern import Pattern
from ._prepare import Prepared, prepare
from ._recovery import Recovery, recovery
from ._validity import check_coloring

__all__ = [
    "Coloring",
    "Pattern",
    "Prepared",
    "Recovery",
    "check_coloring",
    "color",
    "hessian",
    "hessian_sparsity",
    "jacfwd",
    "jacobian",
    "jacobian_sparsity",
    "jacrev",
    "prepare",
    "recovery",
]
