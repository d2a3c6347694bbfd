"""The random-program fuzzer: seeded programs agree with JAX on every derivative path, and the
hypothesis strategy draws valid programs."""

import pytest
from hypothesis import HealthCheck, given, settings
from jax import lax

import adkit
from adkit.testing import check_program, programs, random_program
from adkit.testing._programs import OPERATIONS

SEEDS_PER_TEST = 10
NUM_PROGRAMS = 300  # in CI, every run


@pytest.mark.parametrize("first", range(0, NUM_PROGRAMS, SEEDS_PER_TEST))
def test_random_programs_agree_with_jax(first):
    for seed in range(first, first + SEEDS_PER_TEST):
        program = random_program(seed)
        result = check_program(program)
        assert result.ok, f"{program}\n{result.failures}"
        assert set(result.errors) == {"jvp", "vjp-tape", "vjp-transpose", "second order"}


def test_the_seeded_programs_cover_the_catalogue():
    used = {name for seed in range(NUM_PROGRAMS) for name, _ in random_program(seed).steps}
    assert used == set(OPERATIONS)
    assert random_program(7) == random_program(7)  # reproducible from the seed


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_hypothesis_programs_agree_with_jax(program):
    result = check_program(program, second_order=False)
    assert result.ok, f"{program}\n{result.failures}"


def test_a_disagreement_is_reported_with_the_program():
    old = adkit.rules.VJP_RULES[lax.tanh_p]
    adkit.register_vjp(lax.tanh_p, lambda ct, res, **p: [ct])  # the true rule: ȳ (1 - y²)
    try:
        program = next(p for p in map(random_program, range(100))
                       if any(name == "tanh" for name, _ in p.steps))  # fmt: skip
        result = check_program(program)
    finally:
        adkit.rules.VJP_RULES[lax.tanh_p] = old
    assert "vjp-tape" in result.failures and "vjp-transpose" not in result.failures
    assert "relative error" in result.failures["vjp-tape"]
