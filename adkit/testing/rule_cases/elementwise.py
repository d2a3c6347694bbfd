"""Rule cases for elementwise arithmetic and mathematical functions."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import RuleCase, mixed, normal, uniform, values

SHAPES = ((3,), (2, 3))  # vectors and matrices
BROADCAST = ((3, 1), (1, 4))  # jnp broadcasting: binary ops see the broadcast_in_dim


def _unary(name, fn, make_args, **kw):
    return [RuleCase(name, fn, make_args, name=n, **kw) for n, make_args in make_args]


def _domain(low, high):
    return [("vector", uniform(low, high, (5,))), ("matrix", uniform(low, high, (2, 3)))]


_REALS = [("vector", normal((5,))), ("matrix", normal((2, 3)))]
_SPECIAL = [("special", values([0.0, np.pi, -np.pi / 2, 1000.0, -1000.0]))]
_POSITIVE = _domain(0.2, 3.0)
_UNIT = _domain(-0.9, 0.9)


def _clamp_oracle(args, tangents):
    (lo, x, hi), (tlo, tx, thi) = args, tangents
    tangent = jnp.where(x < lo, tlo, jnp.where(x > hi, thi, tx))
    return lax.clamp(lo, x, hi), tangent


CASES = [
    *_unary("sin", lax.sin, _REALS + _SPECIAL),
    *_unary("cos", lax.cos, _REALS + _SPECIAL),
    *_unary("tan", lax.tan, _UNIT),
    *_unary("asin", lax.asin, _UNIT),
    *_unary("acos", lax.acos, _UNIT),
    *_unary("atan", lax.atan, _REALS + _SPECIAL),
    *_unary("sinh", lax.sinh, _REALS),
    *_unary("cosh", lax.cosh, _REALS),
    *_unary("tanh", lax.tanh, _REALS + [("special", values([0.0, 3.0, -20.0]))]),
    *_unary("asinh", lax.asinh, _REALS + _SPECIAL),
    *_unary("acosh", lax.acosh, _domain(1.1, 4.0)),
    *_unary("atanh", lax.atanh, _UNIT),
    *_unary("exp", lax.exp, _REALS + [("special", values([0.0, -1000.0, 50.0]))]),
    *_unary("exp2", lax.exp2, _REALS),
    *_unary("expm1", lax.expm1, _REALS + [("special", values([0.0, 1e-8, -30.0]))]),
    *_unary("log", lax.log, _POSITIVE + [("special", values([1.0, np.pi, 1000.0, 1e-8]))]),
    *_unary("log1p", lax.log1p, _domain(-0.5, 3.0) + [("special", values([0.0, 1e-9, 1000.0]))]),
    *_unary("logistic", lax.logistic, _REALS + [("special", values([0.0, 40.0, -40.0]))]),
    *_unary("sqrt", lax.sqrt, _POSITIVE + [("special", values([1.0, 1000.0, np.pi]))]),
    *_unary("rsqrt", lax.rsqrt, _POSITIVE),
    *_unary("cbrt", lax.cbrt, _REALS),
    *_unary("square", lax.square, _REALS),
    *_unary("erf", lax.erf, _REALS + [("special", values([0.0, 6.0, -6.0]))]),
    *_unary("erfc", lax.erfc, _REALS),
    *_unary("erf_inv", lax.erf_inv, _UNIT),
    *_unary("lgamma", lax.lgamma, _POSITIVE),
    *_unary("digamma", lax.digamma, _POSITIVE),
    *_unary("bessel_i0e", lax.bessel_i0e, _REALS),
    *_unary("bessel_i1e", lax.bessel_i1e, _REALS + [("zero", values([0.0, 1.0]))]),
    *_unary("neg", lax.neg, _REALS),
    *_unary(
        "abs",
        lax.abs,
        [
            ("vector", uniform(0.5, 2.0, (5,))),
            ("negative", uniform(-2.0, -0.5, (4,))),
            ("zero", values([0.0, -0.0, 1.5, -1.5])),  # slope 1 at ±0, JAX's convention
        ],
    ),
    RuleCase("abs", lambda x, y: lax.abs(lax.complex(x, y)), normal((4,), (4,)), name="complex"),
    *_unary("sign", lax.sign, _REALS),
    *_unary("floor", lax.floor, _REALS),
    *_unary("ceil", lax.ceil, _REALS),
    *_unary("round", lax.round, _REALS),
    *_unary("is_finite", lambda x: jnp.where(lax.is_finite(x), x * 2, 0.0), _REALS),
    *_unary(
        "reduce_precision", lambda x: lax.reduce_precision(x, 5, 10), _REALS, dot_product=False
    ),
    *_unary("copy", lambda x: lax.copy_p.bind(x) * x, _REALS),
    *_unary("stop_gradient", lambda x: x * lax.stop_gradient(x), _REALS),
    *_unary("convert_element_type", lambda x: lax.convert_element_type(x, jnp.float32) * 2, _REALS),
    RuleCase(
        "convert_element_type",
        lambda x: x * lax.convert_element_type(x, jnp.int32),
        normal((4,), scale=3),
        name="to_int",
    ),
    RuleCase(
        "integer_pow",
        lambda x: (
            lax.integer_pow(x, 3),
            lax.integer_pow(x, -2),
            lax.integer_pow(x, 1),
            lax.integer_pow(x, 0),
        ),
        uniform(0.5, 2.0, (4,)),
    ),
    RuleCase("pow", lax.pow, mixed(uniform(0.5, 2.0, (3, 4)), normal((3, 4)))),
    # exponent 0: x^y is constant in x there, but d/dy (d/dx x^y) = 1/x (a select on y == 0 in
    # the rule would make that second derivative 0)
    RuleCase("pow", lax.pow, values([4.0, 0.5, 2.0], [0.0, 0.0, 0.0]), name="zero-exponent"),
    RuleCase(
        "pow",
        lambda x, y: lax.pow(x, y),
        values([0.0, 2.0, 3.0], [2.0, 0.0, 1.5]),
        name="special",
        second_order=False,
    ),
    RuleCase("add", lambda x, y: x + y, normal(*BROADCAST)),
    RuleCase("add", lambda x: x + 2.0, normal((3,)), name="literal"),
    # JAX's own gradient programs accumulate with add_any
    RuleCase("add_any", jax.grad(lambda x: jnp.sum(jnp.sin(x) * x)), normal((3,))),
    RuleCase("sub", lambda x, y: x - y, normal(*BROADCAST)),
    RuleCase("mul", lambda x, y: x * y, normal(*BROADCAST)),
    RuleCase("mul", lambda x, y: x * x * y, normal((4,), (4,)), name="square"),
    RuleCase("div", lambda x, y: x / y, mixed(normal((3, 1)), uniform(0.5, 2.0, (1, 4)))),
    RuleCase("div", lambda x: 1.0 / x, uniform(0.5, 2.0, (4,)), name="reciprocal"),
    RuleCase("rem", lax.rem, mixed(normal((5,), scale=4.0), uniform(0.7, 2.0, (5,)))),
    RuleCase("atan2", lax.atan2, normal((5,), (5,))),
    RuleCase("max", lax.max, normal((5,), (5,))),
    RuleCase(
        "max", lax.max, values([1.0, 2.0, -1.0], [1.0, 0.0, -1.0]), name="ties", second_order=False
    ),
    RuleCase("min", lax.min, normal((5,), (5,))),
    RuleCase("min", lax.min, values([1.0, 2.0], [1.0, 3.0]), name="ties", second_order=False),
    # JAX defines no derivative for nextafter; adkit treats it as x moved by one ulp: d = dx.
    RuleCase(
        "nextafter",
        lax.nextafter,
        normal((4,), (4,)),
        oracle=lambda a, t: (lax.nextafter(*a), t[0]),
    ),
    # JAX's own clamp rule fails for scalar bounds with tangents; compare with the closed form.
    RuleCase("clamp", lax.clamp, values(-0.5, [-1.0, 0.0, 0.3, 2.0], 1.0), oracle=_clamp_oracle),
    RuleCase(
        "clamp", lambda lo, x, hi: lax.clamp(lo, x, hi), normal((4,), (4,), (4,)), name="arrays"
    ),
    RuleCase("select_n", lambda x, y: lax.select_n(x > y, x, y * 2.0), normal((5,), (5,))),
    RuleCase(
        "select_n",
        lambda x, y, z: lax.select_n(
            (x > 0).astype(jnp.int32) + (y > 0).astype(jnp.int32), x, y, z
        ),
        normal((6,), (6,), (6,)),
        name="three_way",
    ),
    RuleCase("complex", lambda x, y: lax.abs(lax.complex(x, y)) ** 2, normal((3,), (3,))),
    # operands broadcast implicitly: each cotangent is summed back to its operand's shape
    *(
        RuleCase("complex", lambda x, y: lax.abs(lax.complex(x, y)) ** 2, normal(a, b), name=n)
        for a, b, n in [
            ((3, 1), (1, 4), "implicit-both"),
            ((2, 3, 4), (2, 1, 4), "implicit-right"),
            ((), (3, 4), "implicit-scalar"),
        ]
    ),
    RuleCase(
        "real", lambda x, y: lax.real(lax.complex(x, y) * lax.complex(y, x)), normal((3,), (3,))
    ),
    RuleCase(
        "imag", lambda x, y: lax.imag(lax.complex(x, y) * lax.complex(y, x)), normal((3,), (3,))
    ),
    RuleCase(
        "conj",
        lambda x, y: lax.real(lax.conj(lax.complex(x, y)) * lax.complex(y, x)),
        normal((3,), (3,)),
    ),
    # the incomplete gamma functions: differentiable once in a (igamma_grad_a has no rule, as in
    # JAX), twice in x
    RuleCase("igamma", lax.igamma, uniform(0.5, 3.0, (4,), (4,)), second_order=False),
    RuleCase("igammac", lax.igammac, uniform(0.5, 3.0, (4,), (4,)), second_order=False),
    RuleCase(
        "igamma",
        lambda x: lax.igamma(jnp.full_like(x, 1.5), x),
        uniform(0.2, 3.0, (4,)),
        name="in-x",
    ),
    RuleCase(
        "igammac",
        lambda x: lax.igammac(jnp.full_like(x, 2.5), x),
        uniform(0.2, 3.0, (4,)),
        name="in-x",
    ),
    RuleCase("polygamma", lambda x: lax.polygamma(jnp.ones_like(x), x), uniform(0.5, 3.0, (4,))),
    RuleCase("eq", lambda x, y: jnp.where(x == y, x, y), normal((4,), (4,))),
    RuleCase("ne", lambda x, y: jnp.where(x != y, x * y, y), normal((4,), (4,))),
    RuleCase("lt", lambda x, y: jnp.where(x < y, x, y), normal((4,), (4,))),
    RuleCase("le", lambda x, y: jnp.where(x <= y, x, y), normal((4,), (4,))),
    RuleCase("gt", lambda x, y: jnp.where(x > y, x, y), normal((4,), (4,))),
    RuleCase("ge", lambda x, y: jnp.where(x >= y, x, y), normal((4,), (4,))),
]


# Binary primitives broadcast size-1 dimensions themselves: jnp hands `pow` an (2, 3) array and a
# (1, 3) one, so each rule must broadcast (JVP) and sum back (VJP) on either side.
def _implicit(name, fn, left, right):
    return [
        RuleCase(name, fn, mixed(left((2, 3)), right((3,))), name="implicit_left"),
        RuleCase(name, fn, mixed(left((3,)), right((2, 3))), name="implicit_right"),
    ]


def _normal(shape):
    return normal(shape)


def _positive(shape):
    return uniform(0.6, 2.0, shape)


for _name, _fn, _left, _right in [
    ("add", jnp.add, _normal, _normal),
    ("sub", jnp.subtract, _normal, _normal),
    ("mul", jnp.multiply, _normal, _normal),
    ("div", jnp.divide, _normal, _positive),
    ("pow", jnp.power, _positive, _normal),
    ("atan2", jnp.arctan2, _normal, _normal),
    ("rem", jnp.remainder, _normal, _positive),
    ("max", jnp.maximum, _normal, _normal),
    ("min", jnp.minimum, _normal, _normal),
]:
    CASES += _implicit(_name, _fn, _left, _right)
