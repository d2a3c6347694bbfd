"""Random JAX programs for fuzzing derivative rules.

A program is a short straight-line sequence of steps over a few input arrays of random ranks
(0 to 3) and sizes. Each step applies an operation to values computed so far; the operations
(`OPERATIONS`) are keyed by the registered primitive they exercise and cover elementwise math in
each primitive's domain, broadcasting binary operations, reductions and cumulative operations,
reshapes, slices and padding, gathers and scatters, sorting, contractions and convolution,
windows, linear algebra, complex numbers, `cond`, `switch`, `scan`, `fori_loop`, nested `jit`,
`checkpoint` and a `custom_jvp` function (see `_program_ops.py` and its siblings).

Choices come from a *drawer*, an object with `integer(low, high)` (inclusive) and
`choice(options)`: `numpy_drawer(seed)` for seeded sweeps (`adkit check --programs N`), and
hypothesis's `draw` in `programs()`, the hypothesis strategy.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._program_arrays import COMPLEX, CONTRACTIONS, INDEXING, LINALG, SORTING
from ._program_control import CONTROL
from ._program_ops import BINARY, ELEMENTWISE, ON_THE_REAL_LINE, REDUCTIONS, STRUCTURAL, Operation

# A step draws a family, then an operation in it, so that each family is drawn equally often.
# (The elementwise functions, the largest family, come as two: on the whole real line, and
# on a domain.)
FAMILIES: dict[str, dict[str, Operation]] = {
    "elementwise on the real line": {
        n: op for n, op in ELEMENTWISE.items() if n in ON_THE_REAL_LINE
    },
    "elementwise on a domain": {
        n: op for n, op in ELEMENTWISE.items() if n not in ON_THE_REAL_LINE
    },
    "binary": BINARY,
    "reductions": REDUCTIONS,
    "structural": STRUCTURAL,
    "indexing": INDEXING,
    "sorting": SORTING,
    "contractions": CONTRACTIONS,
    "linalg": LINALG,
    "complex": COMPLEX,
    "control": CONTROL,
}
OPERATIONS: dict[str, Operation] = {n: op for f in FAMILIES.values() for n, op in f.items()}

MAX_RANK, MAX_SIZE = 4, 64  # values larger than this are not drawn (compile time)

Shape = tuple[int, ...]
Step = tuple[str, tuple[int, ...], tuple[tuple[str, Any], ...]]  # name, operands, parameters


@dataclasses.dataclass(frozen=True)
class Program:
    """A random program: `fn(*inputs)` returns `(last value, sum of all values)`.

    Attributes:
        steps: `(operation name, indices of its operands, parameters)` per step; values are
            numbered inputs first, then one per step.
        shapes: the shape of every value, inputs first.
        num_inputs: how many inputs `fn` takes.
        seed: the seed of the inputs (and of the program, for `random_program`).

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.testing import Program
        >>> program = Program(
        ...     steps=(("sin", (0,), ()), ("exp", (1,), ())),  # v0 = sin(x0), v1 = exp(v0)
        ...     shapes=((3,), (3,), (3,)),
        ...     num_inputs=1,
        ...     seed=0,
        ... )
        >>> print(program)
        program(seed=0, inputs x0: (3,)):
          v0 = sin(x0)  # sin, shape (3,)
          v1 = exp(v0)  # exp, shape (3,)
        >>> last, total = program.fn(jnp.zeros(3))  # exp(sin 0); sum(sin 0) + sum(exp(sin 0))
        >>> last.tolist(), float(total)
        ([1.0, 1.0, 1.0], 3.0)
    """

    steps: tuple[Step, ...]
    shapes: tuple[Shape, ...]
    num_inputs: int
    seed: int

    def fn(self, *inputs):
        """Runs the program: returns `(last value, sum of all values the steps computed)`."""
        values = list(inputs)
        for name, operands, params in self.steps:
            values.append(OPERATIONS[name].apply(*(values[i] for i in operands), **dict(params)))
        return values[-1], sum(jnp.sum(v) for v in values[self.num_inputs :])

    def inputs(self, dtype=np.float64) -> tuple[Any, ...]:
        """Inputs of the program's shapes, uniform in [-1.5, 1.5], drawn with its `seed`."""
        rng = np.random.default_rng(self.seed)
        return tuple(
            jnp.asarray(rng.uniform(-1.5, 1.5, shape), dtype)
            for shape in self.shapes[: self.num_inputs]
        )

    def __str__(self) -> str:
        names = [f"x{i}" for i in range(self.num_inputs)]
        inputs = ", ".join(f"{n}: {s}" for n, s in zip(names, self.shapes, strict=False))
        lines = [f"program(seed={self.seed}, inputs {inputs}):"]
        for k, (name, operands, params) in enumerate(self.steps):
            args = [names[i] for i in operands] + [f"{key}={value!r}" for key, value in params]
            shape = self.shapes[self.num_inputs + k]
            lines.append(
                f"  v{k} = {name}({', '.join(args)})  # {OPERATIONS[name].primitive}, shape {shape}"
            )
            names.append(f"v{k}")
        return "\n".join(lines)


def build_program(draw, seed: int = 0) -> Program:
    """Builds a random program from a drawer's choices (see the module docstring)."""
    num_inputs = draw.integer(1, 3)
    shapes = [
        tuple(draw.integer(1, 3) for _ in range(draw.choice((0, 1, 2, 2, 3))))
        for _ in range(num_inputs)
    ]
    steps = []
    for _ in range(draw.integer(2, 7)):
        step, shape = _draw_step(draw, shapes)
        steps.append(step)
        shapes.append(shape)
    return Program(tuple(steps), tuple(shapes), num_inputs, seed)


def _draw_step(draw, shapes: list[Shape]) -> tuple[Step, Shape]:
    """One step whose operation applies to the operands drawn for it, and its result's shape."""
    for _ in range(100):
        family = FAMILIES[draw.choice(sorted(FAMILIES))]
        name = draw.choice(sorted(family))
        op = family[name]
        operands = tuple(draw.integer(0, len(shapes) - 1) for _ in range(op.arity))
        params = op.draw(draw, *(shapes[i] for i in operands))
        if params is None:
            continue
        structs = [jax.ShapeDtypeStruct(shapes[i], np.float32) for i in operands]
        shape = jax.eval_shape(functools.partial(op.apply, **params), *structs).shape
        if len(shape) <= MAX_RANK and math.prod(shape) <= MAX_SIZE:
            return (name, operands, tuple(sorted(params.items()))), shape
    raise AssertionError("no operation applies to these values; please report this as a bug")


class numpy_drawer:
    """Draws from a seeded numpy generator."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def integer(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1))

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]


def random_program(seed: int) -> Program:
    """The program of `adkit check --programs` number `seed`.

    The same seed always gives the same program (and, by `Program.inputs`, the same inputs), so
    a failure found by a sweep can be reproduced from its seed alone.

    Args:
        seed: seeds the draws of the program's inputs and steps.

    Returns:
        The `Program`.

    Examples:
        >>> import numpy as np
        >>> from adkit.testing import random_program
        >>> program = random_program(0)
        >>> program == random_program(0)
        True
        >>> print(program)
        program(seed=0, inputs x0: (2, 1), x1: (1,), x2: ()):
          v0 = ...
        >>> last, total = program.fn(*program.inputs(np.float32))
        >>> last.shape == program.shapes[-1]
        True
    """
    return build_program(numpy_drawer(seed), seed)


def programs():
    """A hypothesis strategy of random `Program`s (requires `hypothesis`).

    Examples:
        >>> from hypothesis import given, settings
        >>> import numpy as np
        >>> from adkit.testing import programs
        >>> @settings(max_examples=3, deadline=None)
        ... @given(programs())
        ... def test_runs(program):
        ...     program.fn(*program.inputs(np.float32))
        >>> test_runs()
    """
    try:
        from hypothesis import strategies as st
    except ImportError as err:
        raise ImportError(
            "`adkit.testing.programs` is a hypothesis strategy; install hypothesis "
            "(`pip install hypothesis`), or use `adkit.testing.random_program(seed)`."
        ) from err

    @st.composite
    def strategy(draw):
        class _Drawer:
            def integer(self, low, high):
                return draw(st.integers(low, high))

            def choice(self, options):
                return draw(st.sampled_from(options))

        return build_program(_Drawer(), seed=draw(st.integers(0, 2**31 - 1)))

    return strategy()
