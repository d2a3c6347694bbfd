"""The rule-case table: one or more small programs per primitive, with inputs in its domain.

Each family module (`elementwise.py`, `structural.py`, ...) defines `CASES`, a list of
`RuleCase`. The test drivers run every case through adkit's transformations and compare with
JAX's; the coverage test fails when a primitive with an adkit rule has no case.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class RuleCase:
    """A program exercising one primitive.

    Attributes:
        primitive: the name of the primitive under test (as printed in jaxprs).
        fn: the program; takes the arguments positionally, returns a pytree of arrays.
        make_args: `make_args(dtype, rng)` -> tuple of arguments; float arguments in `dtype`,
            integer/bool arguments allowed (they get float0 tangents).
        name: distinguishes several cases of one primitive (shapes, special values).
        second_order: False where the JVP of the JVP is not defined (kinks at the inputs).
        float32: False for cases that only make sense in float64.
        oracle: `oracle(args, tangents) -> (out, tangent_out)`, a closed form to compare with
            where JAX itself has no (or a broken) rule; None compares with `jax.jvp`.
        raises: the exception type both JAX and adkit must raise in forward mode (a
            custom_vjp function has no JVP); reverse mode is still checked on such a case.
        dot_product: False where the function is not exactly linear in floating point
            (reduce_precision rounds), so <J t, c> = <t, Jᵀ c> holds only to its precision.
    """

    primitive: str
    fn: Callable[..., Any]
    make_args: Callable[[np.dtype, np.random.Generator], tuple]
    name: str = ""
    second_order: bool = True
    float32: bool = True
    oracle: Callable[[tuple, tuple], tuple] | None = None
    raises: type[Exception] | None = None
    dot_product: bool = True

    @property
    def id(self) -> str:
        return f"{self.primitive}-{self.name}" if self.name else self.primitive


# --- argument builders: each returns make_args(dtype, rng) ---
def normal(*shapes, scale=1.0):
    return lambda dtype, rng: tuple((scale * rng.standard_normal(s)).astype(dtype) for s in shapes)


def uniform(low, high, *shapes):
    return lambda dtype, rng: tuple(rng.uniform(low, high, s).astype(dtype) for s in shapes)


def values(*arrays):
    """Fixed values (special points such as 0, pi, 1000), cast to the dtype."""
    return lambda dtype, rng: tuple(np.asarray(a, dtype) for a in arrays)


def mixed(*builders):
    """Concatenates the arguments of several builders (e.g. a float array and an int index)."""
    return lambda dtype, rng: tuple(a for b in builders for a in b(dtype, rng))


def ints(low, high, *shapes):
    return lambda dtype, rng: tuple(rng.integers(low, high, s).astype(np.int32) for s in shapes)


def all_cases() -> list[RuleCase]:
    cases = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        cases += importlib.import_module(f"{__name__}.{info.name}").CASES
    return cases
