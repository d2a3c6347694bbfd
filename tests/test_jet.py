"""adkit.jet against `jax.experimental.jet` and nested `jax.jvp`, on the rule-case table.

Every rule case whose primitive has a jet rule is checked by `adkit.testing._jet_check`: the
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
_IDS = {c.id for c in CASES}
DERIVED = {p.name for p, rule in JET_RULES.items() if getattr(rule, "derived", False)}


def _suite_cases():
    """Every case of a primitive with its own jet rule, but the "-matrix" twins of element-wise
    "-vector" cases (the same recurrence at another shape); the first case of a primitive with
    a derived rule (one generic mechanism, and nested JVPs of a factorization are slow to
    compile). `adkit check --jet` runs them all."""
    out, seen = [], set()
    for case in CASES:
        if case.primitive not in JET_NAMES or case.primitive in seen:
            continue
        if case.primitive in DERIVED:
            seen.add(case.primitive)
        elif case.id.endswith("-matrix") and case.id.replace("-matrix", "-vector") in _IDS:
            continue
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
