# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Custom gradients: stable rules, surrogate gradients and new primitives
#
# Automatic differentiation differentiates the program you wrote, not the function you meant.
# When the program overflows, divides by zero on a branch that `where` throws away, or is flat
# almost everywhere (rounding), the derivative it gives is useless. This notebook fixes each
# case with the right tool:
#
# 1. softplus, from the naive formula to a stable one with its own derivative rule;
# 2. the straight-through estimator, a deliberately *wrong* derivative that makes training work;
# 3. a new primitive, defined end to end, that JAX and adkit both differentiate.

# %%
import jax
import jax.numpy as jnp
import numpy as np

import adkit
from adkit import ops
from adkit.testing import check_grads

jax.config.update("jax_enable_x64", True)

# %% [markdown]
# ## 1. Softplus: from the naive formula to a stable rule
#
# $\mathrm{softplus}(x) = \log(1 + e^x)$. Written as it reads, $e^{1000}$ overflows to `inf`,
# so the value is `inf` and the gradient, $e^x / (1 + e^x) = \infty/\infty$, is `nan`.


# %%
def naive_softplus(x):
    return jnp.log(1 + jnp.exp(x))


print(naive_softplus(1000.0), jax.grad(naive_softplus)(1000.0))
assert np.isinf(naive_softplus(1000.0)) and np.isnan(jax.grad(naive_softplus)(1000.0))

# %% [markdown]
# The value is repaired by algebra: $\log(1 + e^x) = \max(x, 0) + \log(1 + e^{-|x|})$, and
# $e^{-|x|} \le 1$ never overflows. Differentiating this program works too, but it goes through
# `max` and `abs`, whose derivatives at 0 are conventions, and it stores more than it needs.
# The derivative we want is simply the logistic function $\sigma(x) = 1 / (1 + e^{-x})$, which
# is stable on its own. `jax.custom_vjp` attaches it: the forward pass saves $x$, the backward
# pass multiplies the cotangent by $\sigma(x)$.


# %%
@jax.custom_vjp
def softplus_vjp(x):
    return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


def softplus_fwd(x):
    return softplus_vjp(x), x  # residual: x


def softplus_bwd(x, ct):
    return (ct * jax.nn.sigmoid(x),)  # x̄ = ȳ sigmoid(x)


softplus_vjp.defvjp(softplus_fwd, softplus_bwd)

xs = jnp.array([-1000.0, -3.0, 0.0, 3.0, 1000.0])
print(softplus_vjp(xs))
print(jax.vmap(jax.grad(softplus_vjp))(xs))
print(jax.vmap(adkit.grad(softplus_vjp))(xs))  # adkit runs the same fwd/bwd on its tape
assert np.allclose(jax.vmap(adkit.grad(softplus_vjp))(xs), jax.nn.sigmoid(xs), rtol=1e-15)

# %% [markdown]
# A `custom_vjp` function has no forward mode: `jax.jvp` (and `adkit.jvp`) refuse it, and so
# does every forward-over-reverse Hessian. Because the derivative $\sigma(x)\,\dot x$ is linear
# in the tangent, `jax.custom_jvp` is the better tool: one rule serves forward mode, reverse
# mode (JAX transposes the multiplication) and every higher order. That is how
# `adkit.ops.softplus` is written.

# %%
for name, jvp in (("jax", jax.jvp), ("adkit", adkit.jvp)):
    try:
        jvp(softplus_vjp, (1.0,), (1.0,))
        raise AssertionError("forward mode of a custom_vjp function should be refused")
    except TypeError as err:
        print(f"{name}.jvp: TypeError: {str(err).splitlines()[0][:70]}...")

print(ops.softplus(xs))
print(adkit.jvp(ops.softplus, (xs,), (jnp.ones_like(xs),))[1])
print(jax.vmap(adkit.hessian(ops.softplus))(xs))  # sigmoid(x) (1 - sigmoid(x))
assert float(ops.softplus(1000.0)) == 1000.0 and float(adkit.grad(ops.softplus)(1000.0)) == 1.0

# %% [markdown]
# `adkit.testing.check_grads` checks both rules against finite differences, to second order,
# through adkit's transformations and through JAX's:

# %%
check_grads(ops.softplus, (jnp.array([-2.0, 0.3, 4.0]),), order=2)
check_grads(ops.softplus, (jnp.array([-2.0, 0.3, 4.0]),), order=2, transforms="jax")
print("softplus: derivatives check out to second order")

# %% [markdown]
# The same care runs through `adkit.ops`: `logsumexp` (with `where` masks and `-inf`),
# `log_softmax`, `logaddexp`, `log1m_exp`, and the `safe_*` functions whose gradients stay
# finite where the naive `jnp.where` lets a `nan` through:

# %%
x = jnp.zeros(3)
print("grad of jnp.linalg.norm at 0:", jax.grad(jnp.linalg.norm)(x))
print("grad of ops.safe_norm at 0:  ", adkit.grad(ops.safe_norm)(x))
print("logsumexp of [1000, 1000]:   ", ops.logsumexp(jnp.array([1000.0, 1000.0])))

# %% [markdown]
# ## 2. The straight-through estimator
#
# Rounding is flat almost everywhere, so its derivative is 0 and nothing upstream of a rounding
# step learns. The straight-through estimator (STE) keeps the rounded value in the forward pass
# and pretends, in the backward pass, that the step was the identity. As a `custom_jvp`: the
# tangent passes through unchanged.


# %%
@jax.custom_jvp
def round_ste(x):
    return jnp.round(x)


@round_ste.defjvp
def round_ste_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return jnp.round(x), t  # d round(x) "=" dx


x = jnp.array([0.2, 0.7, 1.4])
print(jax.grad(lambda x: jnp.sum(jnp.round(x) ** 2))(x))  # zeros: nothing to learn from
print(adkit.grad(lambda x: jnp.sum(round_ste(x) ** 2))(x))  # 2 round(x)
assert np.array_equal(adkit.grad(lambda x: jnp.sum(round_ste(x) ** 2))(x), 2 * jnp.round(x))

# %% [markdown]
# `adkit.ops.straight_through(fn)` builds this for any `fn`; `fake_quantize` clips it to the
# representable range (no gradient where the value saturates), and `scale_gradient` /
# `clip_gradient` rescale or clip what flows back without touching the forward value.

# %%
ste_round = ops.straight_through(jnp.round)
print(adkit.grad(lambda x: jnp.sum(ste_round(x) ** 2))(x))
print(adkit.grad(lambda x: jnp.sum(ops.scale_gradient(x, -1.0)))(x))  # gradient reversal

# %% [markdown]
# ## 3. A new primitive, end to end
#
# `jax.custom_jvp` changes a function's derivative, but the function stays a composition of
# existing primitives. A *primitive* is opaque: a jaxpr shows it as one equation, and every
# transformation needs a rule for it. `adkit.ops.define_primitive` builds a
# `jax.extend.core.Primitive` from an implementation in plain JAX and registers, with JAX and
# with adkit at once: evaluation, shape inference, the lowering to XLA (so it compiles on CPU,
# GPU and TPU), a JVP rule, a transpose rule if it is linear, and a batching rule.
#
# Here is a small linear one: $y_i = x_i - x_{i-1}$ (a first difference, with $x_{-1} = 0$).
# Its transpose, $\bar x_i = \bar y_i - \bar y_{i+1}$, is a *backward* difference.


# %%
def diff_impl(x):
    return x - jnp.concatenate([jnp.zeros_like(x[:1]), x[:-1]])


def diff_jvp(primals, tangents):  # linear: d diff(x) = diff(dx)
    (x,), (t,) = primals, tangents
    return diff_p.bind(x), diff_p.bind(t)


def diff_transpose(ct, x):  # x̄_i = ȳ_i - ȳ_{i+1}
    return [ct - jnp.concatenate([ct[1:], jnp.zeros_like(ct[:1])])]


diff_p = ops.define_primitive("first_difference", diff_impl, jvp=diff_jvp,
                              transpose=diff_transpose)  # fmt: skip

x = jnp.array([1.0, 4.0, 9.0, 16.0])
print(jax.make_jaxpr(diff_p.bind)(x))
print(diff_p.bind(x), jax.jit(diff_p.bind)(x))

# %% [markdown]
# Reverse mode runs the transpose rule; JAX and both of adkit's reverse-mode paths agree, and
# the dot-product test $\langle D x, y \rangle = \langle x, D^\top y \rangle$ holds:

# %%
y = jnp.array([0.5, -1.0, 2.0, 0.25])
f = lambda x: jnp.vdot(y, diff_p.bind(x))
print(jax.grad(f)(x), adkit.grad(f)(x), adkit.grad(f, method="transpose")(x))
_, pullback = adkit.vjp(diff_p.bind, x)
assert np.isclose(jnp.vdot(diff_p.bind(x), y), jnp.vdot(x, pullback(y)[0]), rtol=1e-15)
check_grads(lambda x: jnp.sin(diff_p.bind(x)), (x,), order=2)

# %% [markdown]
# `adkit.ops` ships two primitives written this way: `tridiagonal_matvec`, linear in the vector
# and in the bands (its transpose is another call of itself, with the bands swapped), and
# `logcosh`, nonlinear, whose JVP $\tanh(x)\,\dot x$ is a multiplication that JAX and adkit can
# transpose, so reverse mode and Hessians need no transpose rule of its own.

# %%
print(ops.logcosh(jnp.array([-1000.0, 0.5, 1000.0])))
print(jnp.log(jnp.cosh(jnp.array([-1000.0, 0.5, 1000.0]))))  # the naive formula overflows
print(jax.hessian(ops.logcosh)(0.5), adkit.hessian(ops.logcosh)(0.5))

ops.remove_adkit_rules(diff_p)  # (leaves adkit's rule tables as shipped)
