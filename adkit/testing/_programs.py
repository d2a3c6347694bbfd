"""Random JAX programs for fuzzing derivative rules.

A program is a short straight-line sequence of steps over a few arrays of one shape (m, n). Each
step applies an operation from the catalogue below to values computed so far, so programs mix
elementwise math, broadcasting, reductions, indexing and scatters, matrix products, sorting,
`cond`, `scan`, nested `jit` and a `custom_jvp` function. Operations keep their inputs in their
domain (log of 1 + x², division by 1 + y², exp of tanh x), so derivatives are finite.

Choices come from a *drawer*, an object with `integer(low, high)` (inclusive) and
`choice(options)`: `numpy_drawer(seed)` for seeded sweeps (`adkit check --programs N`), and
hypothesis's `draw` in `programs()`, the hypothesis strategy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


@jax.custom_jvp
def _softplus(x):
    return jnp.logaddexp(x, 0.0)


@_softplus.defjvp
def _softplus_jvp(primals, tangents):  # d softplus(x) = logistic(x) dx
    (x,), (t,) = primals, tangents
    return _softplus(x), jax.nn.sigmoid(x) * t


def _scan_rows(a, b):  # c_k = tanh(c_{k-1} * a_k + b_k), stacked
    def step(c, row):
        c = jnp.tanh(c * row[0] + row[1])
        return c, c

    _, ys = lax.scan(step, jnp.zeros(a.shape[1:], a.dtype), jnp.stack([a, b], axis=1))
    return ys


# name -> (number of operands, function of (m, n) arrays returning an (m, n) array)
OPERATIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "sin": (1, jnp.sin),
    "tanh": (1, jnp.tanh),
    "exp_tanh": (1, lambda a: jnp.exp(jnp.tanh(a))),
    "log1p_square": (1, lambda a: jnp.log1p(a * a)),
    "sqrt_1p_square": (1, lambda a: jnp.sqrt(1.0 + a * a)),
    "logistic": (1, jax.nn.sigmoid),
    "square": (1, lambda a: a * a),
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (1.0 + b * b)),
    "row_broadcast": (2, lambda a, b: a * jnp.sum(b, axis=0)),  # (n,) broadcast over rows
    "column_broadcast": (2, lambda a, b: a + jnp.mean(b, axis=1, keepdims=True)),
    "max_reduce": (1, lambda a: a - jnp.max(a, axis=1, keepdims=True)),
    "matmul": (2, lambda a, b: a @ (b.T @ b) / b.size),
    "roll": (1, lambda a: jnp.concatenate([a[1:], a[:1]], axis=0)),
    "gather": (1, lambda a: a[::-1, np.arange(a.shape[1])[::-1]]),
    "scatter_add": (2, lambda a, b: a.at[0].add(b[-1])),
    "sort": (1, lambda a: jnp.sort(a, axis=1)),
    "cumsum": (1, lambda a: jnp.cumsum(a, axis=0)),
    "where": (2, lambda a, b: jnp.where(a > b, a * b, a - b)),
    "cond": (2, lambda a, b: lax.cond(jnp.sum(a) > 0, lambda x, y: x * y, jnp.subtract, a, b)),
    "scan": (2, _scan_rows),
    "jit": (1, jax.jit(lambda a: jnp.sin(a) * a)),
    "custom_jvp": (1, _softplus),
}


@dataclasses.dataclass(frozen=True)
class Program:
    """A random program: `fn(*inputs)` returns `(last value, sum of all values)`."""

    steps: tuple[tuple[str, tuple[int, ...]], ...]  # (operation, indices of its operands)
    num_inputs: int
    shape: tuple[int, int]
    seed: int

    def fn(self, *inputs):
        values = list(inputs)
        for name, operands in self.steps:
            _, op = OPERATIONS[name]
            values.append(op(*(values[i] for i in operands)))
        return values[-1], sum(jnp.sum(v) for v in values[self.num_inputs :])

    def inputs(self, dtype=np.float64) -> tuple[Any, ...]:
        rng = np.random.default_rng(self.seed)
        return tuple(jnp.asarray(rng.uniform(-1.5, 1.5, self.shape), dtype)
                     for _ in range(self.num_inputs))  # fmt: skip

    def __str__(self) -> str:
        names = [f"x{i}" for i in range(self.num_inputs)]
        lines = [f"program(seed={self.seed}, shape={self.shape}, inputs={', '.join(names)}):"]
        for k, (name, operands) in enumerate(self.steps):
            lines.append(f"  v{k} = {name}({', '.join(names[i] for i in operands)})")
            names.append(f"v{k}")
        return "\n".join(lines)


def build_program(draw, seed: int = 0) -> Program:
    """Builds a random program from a drawer's choices (see the module docstring)."""
    shape = (draw.integer(2, 4), draw.integer(2, 4))
    num_inputs = draw.integer(1, 3)
    steps = []
    for k in range(draw.integer(2, 7)):
        name = draw.choice(sorted(OPERATIONS))
        arity, _ = OPERATIONS[name]
        steps.append((name, tuple(draw.integer(0, num_inputs + k - 1) for _ in range(arity))))
    return Program(tuple(steps), num_inputs, shape, seed)


class numpy_drawer:
    """Draws from a seeded numpy generator."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def integer(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1))

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]


def random_program(seed: int) -> Program:
    """The program of `adkit check --programs` number `seed`."""
    return build_program(numpy_drawer(seed), seed)


def programs():
    """A hypothesis strategy of random `Program`s (requires `hypothesis`).

    Example:
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
