"""Tools to prove derivatives right: finite differences, `check_grads`, `crosscheck`, the rule
sweep behind `adkit check`, and random programs for fuzzing."""

from ._check_grads import DerivativeCheckError, check_grads
from ._crosscheck import CrosscheckReport, crosscheck
from ._finite_differences import directional_derivative
from ._programs import Program, programs, random_program
from ._rule_check import CaseResult, check_program, check_rules, rule_check_gaps

__all__ = [
    "CaseResult",
    "CrosscheckReport",
    "DerivativeCheckError",
    "Program",
    "check_grads",
    "check_program",
    "check_rules",
    "crosscheck",
    "directional_derivative",
    "programs",
    "random_program",
    "rule_check_gaps",
]
