"""adkit.jet against `jax.experimental.jet` and nested `jax.jvp`, on the rule-case table.

One rule case per primitive with a jet rule is checked by `adkit.testing._jet_check`: the
element-wise family at order 6 and the others at order 3 against JAX's jet where JAX's jet has
the rules (and agrees with nested JVPs: `JAX_JET_DIFFERS` says where it does not), otherwise
against nested `jax.jvp`s (order 4 and 3: their cost doubles with each order), in float64.
`adkit check --jet` runs every case at order 6 against nested JVPs.
"""

import importlib

import jax
import pytest

import adkit.testing.rule_cases as rule_cases
from adkit.interpreter.rules import JET_RULES
from adkit.testing._jet_check import check_jet_case
from adkit.testing.rule_cases import all_cases

CASES = all_cases()
JET_NAMES = {p.name for p in JET_RULES}


def _suite_cases():
    """The first case of each primitive with a jet rule (a recurrence is the same at every
    shape and parameter; the first-order tests run every case). `adkit check --jet` runs them
    all."""
    out, seen = [], set()
    for case in CASES:
        if case.primitive in JET_NAMES and case.primitive not in seen:
            seen.add(case.primitive)
            out.append(case)
    return out


JET_CASES = _suite_cases()
ELEMENTWISE = {c.id for c in importlib.import_module(f"{rule_cases.__name__}.elementwise").CASES}


@pytest.fixture(scope="module", autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("case", JET_CASES, ids=lambda c: c.id)
def test_jet_rule_case(case):
    # order 6 where the order exercises the recurrences (element-wise functions); 3 for the
    # rest, linear or piecewise linear in each coefficient, where order 3 already passes every
    # coefficient through the rule
    order, nested_order = (6, 4) if case.id in ELEMENTWISE else (3, 3)
    check_jet_case(case, order, nested_order, prefer="jax-jet")


def test_every_primitive_with_a_jet_rule_has_a_case():
    missing = JET_NAMES - {c.primitive for c in CASES}
    assert not missing, f"jet rules without a rule case: {sorted(missing)}"
