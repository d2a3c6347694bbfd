"""adkit's rule tables, one file per primitive family; importing a family registers its rules."""

from . import control_flow, elementwise  # noqa: F401  (registration)
from ._table import JVP_RULES, MissingRuleError, coverage, jvp_rule, register_jvp

__all__ = ["JVP_RULES", "MissingRuleError", "coverage", "jvp_rule", "register_jvp"]
