"""Rule cases for convolution and the windowed reductions (reduce_window and its monoids)."""

import functools

import jax.numpy as jnp
import numpy as np
from jax import lax

from . import RuleCase, normal, values

# --- convolution: (input shape, kernel shape, conv_general_dilated keyword arguments) ---
_NHWC = ("NHWC", "HWIO", "NHWC")
_CONVS = {
    "nchw-same": ((2, 3, 5, 5), (4, 3, 3, 3), dict(window_strides=(1, 1), padding="SAME")),
    "nchw-strided": ((1, 2, 6, 5), (3, 2, 2, 3), dict(window_strides=(2, 1), padding="VALID")),
    "nhwc-padded": (
        (2, 5, 4, 3),
        (3, 2, 3, 2),
        dict(window_strides=(1, 2), padding=((1, 2), (0, 1)), dimension_numbers=_NHWC),
    ),
    "lhs-dilation": (
        (1, 2, 4, 4),
        (2, 2, 3, 3),
        dict(window_strides=(1, 1), padding=((2, 1), (1, 1)), lhs_dilation=(2, 1)),
    ),
    "rhs-dilation": (
        (1, 2, 6, 6),
        (2, 2, 2, 2),
        dict(window_strides=(1, 1), padding="VALID", rhs_dilation=(2, 3)),
    ),
    "feature-groups": (
        (2, 4, 5, 5),
        (6, 2, 3, 3),
        dict(window_strides=(1, 1), padding="SAME", feature_group_count=2),
    ),
    "batch-groups": (
        (4, 2, 5, 5),
        (4, 2, 2, 2),
        dict(window_strides=(1, 1), padding="VALID", batch_group_count=2),
    ),
    "one-d": ((2, 3, 7), (2, 3, 3), dict(window_strides=(2,), padding=((2, 1),))),
    "nhwc-groups-dilated": (
        (1, 6, 6, 4),
        (2, 2, 2, 4),
        dict(
            window_strides=(2, 1),
            padding="SAME",
            rhs_dilation=(1, 2),
            feature_group_count=2,
            dimension_numbers=_NHWC,
        ),
    ),
    # negative padding crops: the transposes must crop (not pad) where the forward pass did
    "negative-padding": (
        (1, 2, 6, 7),
        (2, 2, 1, 2),
        dict(window_strides=(1, 2), padding=((0, -1), (0, 0)), lhs_dilation=(2, 1)),
    ),
    "empty-spatial": ((2, 2, 0, 4), (2, 2, 1, 2), dict(window_strides=(1, 1), padding="VALID")),
}


def _bf16_conv(x, w):  # bf16 operands, a float32 result: the cotangent is float32
    bf16 = jnp.bfloat16
    return lax.conv_general_dilated(
        x.astype(bf16),
        w.astype(bf16),
        (1,),
        "VALID",
        dimension_numbers=("NLC", "LIO", "NLC"),
        preferred_element_type=jnp.float32,
    )


def _conv_cases():
    return [
        *(
            RuleCase(
                "conv_general_dilated",
                functools.partial(lax.conv_general_dilated, **kwargs),
                normal(lhs, rhs),
                name=name,
            )
            for name, (lhs, rhs, kwargs) in _CONVS.items()
        ),
        RuleCase(
            "conv_general_dilated",
            _bf16_conv,
            normal((1, 8, 4), (3, 4, 8)),
            name="bf16-preferred-f32",
            dot_product=False,  # bf16 rounding: <J t, c> = <t, Jᵀ c> only to bf16 precision
        ),
    ]


# --- windowed reductions: (operand shape, reduce_window keyword arguments) ---
_WINDOWS = {
    "valid": ((4, 5), dict(window_dimensions=(2, 2), window_strides=(1, 1), padding="VALID")),
    "strided-same": ((5, 6), dict(window_dimensions=(3, 2), window_strides=(2, 2), padding="SAME")),
    "padded": (
        (4, 4),
        dict(window_dimensions=(2, 3), window_strides=(1, 2), padding=((1, 0), (2, 1))),
    ),
    "base-dilation": (
        (3, 4),
        dict(
            window_dimensions=(2, 2), window_strides=(1, 1), padding="VALID", base_dilation=(2, 1)
        ),
    ),
    "window-dilation": (
        (5, 6),
        dict(
            window_dimensions=(2, 2),
            window_strides=(1, 2),
            padding=((0, 1), (1, 1)),
            window_dilation=(2, 2),
        ),
    ),
    "pool-nchw": (
        (2, 2, 4, 4),
        dict(window_dimensions=(1, 1, 2, 2), window_strides=(1, 1, 2, 2), padding="VALID"),
    ),
    "vector": ((7,), dict(window_dimensions=(3,), window_strides=(2,), padding="SAME")),
}

# ties inside windows: the first position of the window holding the extremum gives the tangent
_TIED = values([[1.0, 3.0, 3.0, 0.0, 2.0], [3.0, 3.0, -1.0, 2.0, 2.0], [0.0, 1.0, 1.0, 1.0, 2.0]])
_TIED_WINDOW = dict(window_dimensions=(2, 3), window_strides=(1, 1), padding="SAME")


def _window_cases(primitive, init, op):
    cases = [
        RuleCase(
            primitive,
            functools.partial(lax.reduce_window, init_value=init, computation=op, **kwargs),
            normal(shape),
            name=name,
        )
        for name, (shape, kwargs) in _WINDOWS.items()
    ]
    if primitive != "reduce_window_sum":
        negate = -1.0 if primitive == "reduce_window_min" else 1.0
        tied = functools.partial(lax.reduce_window, init_value=init, computation=op, **_TIED_WINDOW)
        # the chosen element is locally constant, so there is a second derivative
        cases.append(RuleCase(primitive, lambda x: tied(negate * x), _TIED, name="ties"))
    return cases


# --- the generic reduce_window: computations JAX does not recognise as a monoid ---
def _soft_sum(x):
    # a ∘ b = a + b + a b (identity 0): the window's ∏(1 + x) - 1
    return lax.reduce_window(
        x, jnp.array(0, x.dtype), lambda a, b: a + b + a * b, (2, 2), (1, 1), "SAME"
    )


def _argmax_pair(a, b):
    (av, ai), (bv, bi) = a, b
    a_wins = (av > bv) | ((av == bv) & (ai < bi))
    return lax.select(a_wins, av, bv), lax.select(a_wins, ai, bi)


def _argmax_pool(x):
    index = lax.broadcasted_iota(jnp.int32, x.shape, 1)
    init = (jnp.array(-jnp.inf, x.dtype), jnp.array(np.iinfo(np.int32).max, jnp.int32))
    value, where = lax.reduce_window((x, index), init, _argmax_pair, (1, 2), (1, 1), "VALID")
    return value, value * where


def _two_sums(x, y):
    add_mul = lambda a, b: (a[0] + b[0], a[1] * b[1])
    init = (jnp.array(0, x.dtype), jnp.array(1, x.dtype))
    return lax.reduce_window((x, y), init, add_mul, (2, 1), (1, 1), ((1, 0), (0, 0)))


def _argmax_pool_oracle(args, tangents):
    # JAX 0.10.2's own reduce_window JVP fails on the integer operand's float0 tangent
    (x,), (t,) = args, tangents
    first = x[:, :-1] >= x[:, 1:]
    chosen = jnp.where(first, t[:, :-1], t[:, 1:])
    where = jnp.where(first, 0, 1) + jnp.arange(x.shape[1] - 1)
    return _argmax_pool(x), (chosen, chosen * where)


CASES = [
    *_conv_cases(),
    *_window_cases("reduce_window_sum", 0.0, lax.add),
    *_window_cases("reduce_window_max", -jnp.inf, lax.max),
    *_window_cases("reduce_window_min", jnp.inf, lax.min),
    # second order: JAX 0.10.2's reduce_window JVP cannot take its own JVP (it hands symbolic
    # zeros to reduce_window); adkit's is checked against a closed form in the next case
    *(
        RuleCase("reduce_window", f, make_args, name=name, second_order=False)
        for name, f, make_args in (
            ("one-operand", _soft_sum, normal((3, 4), scale=0.5)),
            ("two-operands", _two_sums, normal((3, 2), (3, 2))),
        )
    ),
    RuleCase(
        "reduce_window",
        _argmax_pool,
        normal((3, 5)),
        name="argmax-pool",
        oracle=_argmax_pool_oracle,
    ),
]
