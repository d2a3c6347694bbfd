"""Sparsity of primitives without a derivative: random bits, keys, debugging, platform queries.

Their outputs (random bits, keys, nothing at all) depend on no input in the derivative's sense.
"""

from __future__ import annotations

from ..._registry import SPARSITY_RULES
from .elementwise import no_dependence

for _name in (
    "random_bits",
    "random_seed",
    "random_wrap",
    "random_unwrap",
    "random_split",
    "random_fold_in",
    "random_clone",
    "threefry2x32",
    "debug_callback",
    "debug_print",
    "platform_index",
    "iota",
):
    SPARSITY_RULES.register(_name, no_dependence)
