"""Transpose rules for the primitives that linearized programs apply to tangents.

Reverse mode transposes adkit's own JVP: every primitive a JVP rule applies to a tangent is
linear in it, and its transpose rule maps an output cotangent to input cotangents, so that
<f(t), c> = <t, fᵀ(c)>. Importing a family registers its rules in `TRANSPOSE_RULES`; the file
names are those of `rules/jvp/` (only the families with linear primitives have a file).
"""

from ..._registry import import_family_files

FAMILIES = import_family_files(__name__, __path__)
