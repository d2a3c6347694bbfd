"""The tape path through `eig`, derived from its JVP rule (`rules/jvp/decompositions.py`).

The eigenvector tangent fixes each vector's free scale through an argmax and a complex
normalisation; its transpose by hand would repeat that derivation, so the VJP is the JVP rule
linearized and transposed (`transposed`), like JAX's.
"""

from __future__ import annotations

from jax.lax import linalg as lax_linalg

from .derived import transposed

transposed(lax_linalg.eig_p)
