"""Forward mode over whole programs: every corpus program's JVP equals JAX's, and every
primitive the corpus uses (equinox models included) has an adkit JVP rule."""

import jax
import numpy as np
import pytest
from corpus import CORPUS, census
from helpers import program_args
from test_jvp_rules import _tangent_like, assert_close

import adkit


def test_every_primitive_in_the_corpus_has_a_jvp_rule():
    used = set(census(np.float32)) | set(census(np.float64))
    missing = sorted(used - set(adkit.rules.coverage()))
    assert not missing, f"primitives in the corpus without an adkit JVP rule: {missing}"


def _tangents(args, seed=0):
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda a: _tangent_like(a, rng), args)


@pytest.mark.parametrize("program", [pytest.param(p, id=p.name) for p in CORPUS])
def test_program_jvp_matches_jax(program):
    args = program_args(program, np.float64)
    tangents = _tangents(args)
    assert_close(adkit.jvp(program.fn, args, tangents), jax.jvp(program.fn, args, tangents), 1e-10)
