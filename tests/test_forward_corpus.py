"""Forward mode over whole programs: every corpus program's JVP equals JAX's, and every
primitive the corpus uses (equinox models included) has an adkit JVP rule."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from corpus import CORPUS, census
from helpers import compiled, program_args
from test_jvp_rules import _tangent_like, assert_close

import adkit


def test_every_primitive_in_the_corpus_has_a_jvp_rule():
    used = set(census(np.float32)) | set(census(np.float64))
    missing = sorted(used - set(adkit.rules.coverage()))
    assert not missing, f"primitives in the corpus without an adkit JVP rule: {missing}"


def _tangents(args, seed=0):
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda a: _tangent_like(a, rng), args)


def _central_difference(fn, args, tangents, eps=1e-6):
    shift = lambda s: jax.tree.map(
        lambda a, t: a + s * t if jnp.issubdtype(a.dtype, jnp.inexact) else a, args, tangents
    )
    plus, minus = fn(*shift(eps)), fn(*shift(-eps))
    return jax.tree.map(
        lambda p, m: (p - m) / (2 * eps) if jnp.issubdtype(p.dtype, jnp.inexact) else None,
        plus,
        minus,
    )


@pytest.mark.parametrize("program", [pytest.param(p, id=p.name) for p in CORPUS])
def test_program_jvp_matches_jax(program):
    args = program_args(program, np.float64)
    tangents = _tangents(args)
    try:
        expected = compiled(lambda a, t: jax.jvp(program.fn, a, t), args, tangents)
    except TypeError:  # forward mode of a custom_vjp function: adkit refuses it the same way
        with pytest.raises(TypeError, match="custom_vjp"):
            adkit.jvp(program.fn, args, tangents)
        return
    except NotImplementedError:
        # JAX has no forward rule for some primitive here (nextafter, scatter-mul with repeated
        # indices): check adkit against float64 central differences instead.
        _, ours = adkit.jvp(program.fn, args, tangents)
        reference = _central_difference(program.fn, args, tangents)
        for o, r in zip(jax.tree.leaves(ours), jax.tree.leaves(reference), strict=True):
            np.testing.assert_allclose(o, r, rtol=1e-6, atol=1e-6)
        return
    ours = compiled(lambda a, t: adkit.jvp(program.fn, a, t), args, tangents)
    assert_close(ours, expected, 1e-10)
