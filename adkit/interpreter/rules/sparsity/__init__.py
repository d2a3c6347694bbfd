"""adkit's sparsity rules: for each primitive, which inputs each output element may depend on.

Rules receive the operands' `IndexSets` (see `_sets.py`) and the outputs' abstract values, and
return the outputs' `IndexSets`: `rule(operands, out_avals, **params) -> list[IndexSets]`. They
are registered in `SPARSITY_RULES`; the engine that walks jaxprs with them (and the rules of
higher-order primitives) is `adkit.interpreter.sparsity`. Importing a family registers its rules.
"""

from ..._registry import import_family_files

FAMILIES = import_family_files(__name__, __path__)

# the extension surface: the value type and the building blocks of new rules
from ._maps import index_map  # noqa: E402
from ._sets import IndexSets, dense, take_rows, unknown, with_matrix  # noqa: E402
from .elementwise import elementwise  # noqa: E402

__all__ = [
    "FAMILIES",
    "IndexSets",
    "dense",
    "elementwise",
    "index_map",
    "take_rows",
    "unknown",
    "with_matrix",
]
