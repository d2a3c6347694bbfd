"""The tape path through the generic `reduce` and `reduce_window`, which run a user computation.

Their VJP is derived from their JVP rule (`forward/reduce.py`) by linearizing and transposing it
(`transposed`). For `reduce_window` with a computation other than a sum, max or min that
transposition needs a transpose of `reduce_window`, which adkit (like JAX) does not have: the
derivation reports the missing rule by name.
"""

from __future__ import annotations

from jax import lax

from .derived import transposed

transposed(lax.reduce_p)
transposed(lax.reduce_window_p)
