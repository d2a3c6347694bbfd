"""Transpose rules for the primitives that linearized programs apply to tangents.

Reverse mode transposes adkit's own JVP: every primitive a JVP rule applies to a tangent is
linear in it, and its transpose rule maps an output cotangent to input cotangents, so that
<f(t), c> = <t, fᵀ(c)>. One file per family, like the JVP rules.
"""

from . import elementwise, indexing, linalg, misc, structural, windows  # noqa: F401  (registration)
