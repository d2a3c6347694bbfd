"""Rule cases for indexing: dynamic slices, gather and the scatter family (set, add, subtract,
multiply, min, max), with repeated and out-of-bounds indices and the clip/fill modes."""

import jax.numpy as jnp
import numpy as np
from jax import lax

from . import RuleCase, ints, mixed, normal, values

UNIQUE = np.array([3, 0, 2])
REPEATED = np.array([1, 3, 1, 1])  # location 1 receives three updates
OUT_OF_BOUNDS = np.array([4, 1, 9, -7])  # 9 and -7 are out of bounds for length 5

_VECTOR_AND_UPDATES = normal((5,), (4,))


def _scatter_mul_oracle(indices):
    """x.at[indices].multiply(u) by the product rule, one update at a time (JAX has no rule
    for the updates' tangent when indices may repeat)."""

    def oracle(args, tangents):
        (x, u), (tx, tu) = [np.array(a) for a in args], [np.array(t) for t in tangents]
        for k, i in enumerate(indices):
            tx[i] = tx[i] * u[k] + x[i] * tu[k]
            x[i] = x[i] * u[k]
        return jnp.asarray(x), jnp.asarray(tx)

    return oracle


CASES = [
    # dynamic_slice / dynamic_update_slice: the start index is an integer argument (clamped)
    RuleCase(
        "dynamic_slice",
        lambda x, i: lax.dynamic_slice(x, (i, np.int32(1)), (2, 2)),
        mixed(normal((3, 4)), ints(0, 2, ())),
    ),
    RuleCase(
        "dynamic_slice",
        lambda x: lax.dynamic_slice_in_dim(x, 7, 2),
        normal((4,)),
        name="clamped",
    ),
    RuleCase(
        "dynamic_update_slice",
        lambda x, u, i: lax.dynamic_update_slice(x, u, (i, np.int32(0))),
        mixed(normal((3, 4), (2, 3)), ints(0, 3, ())),
    ),
    RuleCase(
        "dynamic_update_slice",
        lambda x, u: lax.dynamic_update_slice_in_dim(x, u, 3, 0),
        normal((4,), (2,)),
        name="clamped",
    ),
    # gather: x[idx], x[:, idx], x[i, j], take_along_axis, clip and fill modes
    RuleCase("gather", lambda x: x[REPEATED], normal((5,)), name="vector"),
    RuleCase("gather", lambda x: x[:, UNIQUE], normal((2, 5)), name="columns"),
    RuleCase("gather", lambda x: x[UNIQUE[:2], REPEATED[:2]], normal((4, 5)), name="points"),
    RuleCase(
        "gather",
        lambda x: jnp.take_along_axis(x, jnp.array([[0, 2, 2], [1, 0, 1]]), axis=1),
        normal((2, 3)),
        name="take_along_axis",
    ),
    RuleCase(
        "gather", lambda x: jnp.take(x, OUT_OF_BOUNDS, mode="clip"), normal((5,)), name="clip"
    ),
    RuleCase(
        "gather",
        lambda x: jnp.take(x, OUT_OF_BOUNDS, mode="fill", fill_value=2.5),
        normal((5,)),
        name="fill",
    ),
    RuleCase(
        "gather",
        lambda x, i: x[i],
        mixed(normal((3, 2)), ints(0, 3, (4,))),
        name="int_argument",
    ),
    # scatter (.at[].set): repeated indices pick one winner per location
    RuleCase("scatter", lambda x, u: x.at[REPEATED].set(u), _VECTOR_AND_UPDATES, name="repeated"),
    RuleCase(
        "scatter",
        lambda x, u: x.at[UNIQUE].set(u, unique_indices=True),
        normal((5,), (3,)),
        name="unique",
    ),
    RuleCase(
        "scatter",
        lambda x, u: x.at[:, UNIQUE].set(u),
        normal((2, 5), (2, 3)),
        name="columns",
    ),
    RuleCase(
        "scatter",
        lambda x, u: x.at[OUT_OF_BOUNDS].set(u, mode="drop"),
        _VECTOR_AND_UPDATES,
        name="drop",
    ),
    RuleCase(
        "scatter",
        lambda x, u: x.at[OUT_OF_BOUNDS].set(u, mode="clip"),
        _VECTOR_AND_UPDATES,
        name="clip",
    ),
    RuleCase("scatter", lambda x: x.at[REPEATED].set(2.0), normal((5,)), name="constant"),
    # x.at[i].apply(f) carries f as the scatter's update function: refused, as JAX does
    RuleCase(
        "scatter",
        lambda x: x.at[1].apply(jnp.sin),
        normal((3,)),
        name="apply",
        raises=NotImplementedError,
        second_order=False,
    ),
    RuleCase("scatter-add", lambda x, u: x.at[REPEATED].add(u), _VECTOR_AND_UPDATES),
    RuleCase(
        "scatter-add",
        lambda x, u: x.at[:, REPEATED[:2]].add(u),
        normal((2, 5), (2, 2)),
        name="columns",
    ),
    RuleCase(
        "scatter-add",
        lambda u: jnp.zeros(5, u.dtype).at[REPEATED].add(u),
        normal((4,)),
        name="updates_only",
    ),
    RuleCase("scatter-sub", lambda x, u: x.at[REPEATED].subtract(u), _VECTOR_AND_UPDATES),
    # scatter-mul: JAX differentiates the updates only for unique indices; otherwise an oracle
    RuleCase(
        "scatter-mul",
        lambda x, u: x.at[UNIQUE].multiply(u, unique_indices=True),
        normal((5,), (3,)),
        name="unique",
    ),
    RuleCase("scatter-mul", lambda x: x.at[REPEATED].multiply(2.0), normal((5,)), name="operand"),
    RuleCase(
        "scatter-mul",
        lambda x, u: x.at[REPEATED].multiply(u),
        _VECTOR_AND_UPDATES,
        name="repeated",
        oracle=_scatter_mul_oracle(REPEATED),
    ),
    RuleCase(
        "scatter-mul",
        lambda x, u: x.at[REPEATED].multiply(u),
        values([1.0, 2.0, 3.0, 4.0, 5.0], [0.0, 3.0, 2.0, -1.5]),
        name="one_zero",
        oracle=_scatter_mul_oracle(REPEATED),
    ),
    RuleCase(
        "scatter-mul",
        lambda x, u: x.at[REPEATED].multiply(u),
        values([1.0, 2.0, 3.0, 4.0, 5.0], [0.0, 3.0, 0.0, -1.5]),
        name="two_zeros",
        oracle=_scatter_mul_oracle(REPEATED),
    ),
    # scatter-min / scatter-max: ties share the tangent equally (JAX's convention)
    RuleCase("scatter-min", lambda x, u: x.at[REPEATED].min(u), _VECTOR_AND_UPDATES),
    RuleCase("scatter-max", lambda x, u: x.at[REPEATED].max(u), _VECTOR_AND_UPDATES),
    RuleCase(
        "scatter-max",
        lambda x, u: x.at[:, REPEATED[:3]].max(u),
        normal((2, 5), (2, 3)),
        name="columns",
    ),
    RuleCase(
        "scatter-min",
        lambda x, u: x.at[REPEATED].min(u),
        values([1.0, 0.5, 3.0, 4.0, 5.0], [0.5, 4.0, 2.0, 0.5]),
        name="ties",
    ),
    RuleCase(
        "scatter-max",
        lambda x, u: x.at[REPEATED].max(u),
        values([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 4.0, 2.0, 1.0]),
        name="ties",
    ),
    RuleCase(
        "scatter-max",
        lambda x, u: x.at[OUT_OF_BOUNDS].max(u, mode="drop"),
        _VECTOR_AND_UPDATES,
        name="drop",
    ),
]
