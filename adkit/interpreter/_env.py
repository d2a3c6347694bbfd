"""The variable environment every adkit interpreter keeps while it walks a jaxpr.

A jaxpr is a Wengert list: each equation reads variables (or literal constants) and writes new
variables. Every interpreter keeps a map from variables to whatever it tracks for them: a value
for the evaluator and the two reverse paths, a (primal, tangent) pair for forward mode, a node
(value, name, tangent) for the Wengert list. `kept` selects from a list by a mask, the
bookkeeping of most control-flow rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from .._jax_compat import DropVar, Literal, Var

T = TypeVar("T")


class Env(Generic[T]):
    """Maps jaxpr variables to an interpreter's values.

    `literal` says how a Literal (an inline scalar constant such as `2.0:f32[]`) becomes a value
    of the interpreter's kind.
    """

    def __init__(self, literal: Callable[[Literal], T], values: dict[Var, T] | None = None):
        self.values: dict[Var, T] = {} if values is None else values
        self._literal = literal

    def read(self, atom: Var | Literal) -> T:
        if isinstance(atom, Literal):
            return self._literal(atom)
        return self.values[atom]

    def write(self, var: Var, value: T) -> None:
        if not isinstance(var, DropVar):  # DropVar `_` marks an output nobody reads
            self.values[var] = value

    def read_all(self, atoms: Sequence[Var | Literal]) -> list[T]:
        return [self.read(a) for a in atoms]

    def write_all(self, variables: Sequence[Var], values: Sequence[T]) -> None:
        assert len(variables) == len(values), "adkit bug: arity mismatch; please report it."
        for var, value in zip(variables, values, strict=True):
            self.write(var, value)


def literal_value(lit: Literal) -> Any:
    """A literal's value, as a plain Python or numpy scalar."""
    return lit.val


# --- lists selected by a mask: the shape of most bookkeeping in the rules of control flow ---
def kept(values: Sequence[Any], mask: Sequence[bool]) -> list[Any]:
    """The values where `mask` is True, in order: `kept([a, b, c], [1, 0, 1]) == [a, c]`."""
    return [v for v, m in zip(values, mask, strict=True) if m]
