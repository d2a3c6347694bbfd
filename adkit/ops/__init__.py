"""Operations with derivatives chosen on purpose.

- Numerically stable functions and their stable derivative rules (`softplus`, `logsumexp`,
  `log_softmax`, ...) and `safe_*` functions with finite gradients at their singular points.
- Surrogate gradients: the straight-through estimator, fake quantization, gradient clipping,
  scaling and reversal, and the Gumbel-softmax.
- New JAX primitives with every rule, for JAX and for adkit: `define_primitive`, and two
  primitives built with it (`tridiagonal_matvec`, linear; `logcosh`, nonlinear).
"""

from ..interpreter.rules import is_undefined
from ._logcosh import logcosh, logcosh_p
from ._primitive import define_primitive, elementwise_batching, remove_adkit_rules
from ._safe import safe_div, safe_log, safe_norm, safe_sqrt
from ._stable import (
    log1m_exp,
    log1p_exp,
    log_sigmoid,
    log_softmax,
    logaddexp,
    logsumexp,
    softmax,
    softplus,
)
from ._surrogate import (
    clip_gradient,
    fake_quantize,
    gumbel_softmax,
    scale_gradient,
    straight_through,
)
from ._tridiagonal import tridiagonal_matvec, tridiagonal_matvec_p

__all__ = [
    "clip_gradient",
    "define_primitive",
    "elementwise_batching",
    "fake_quantize",
    "gumbel_softmax",
    "is_undefined",
    "log1m_exp",
    "log1p_exp",
    "log_sigmoid",
    "log_softmax",
    "logaddexp",
    "logcosh",
    "logcosh_p",
    "logsumexp",
    "remove_adkit_rules",
    "safe_div",
    "safe_log",
    "safe_norm",
    "safe_sqrt",
    "scale_gradient",
    "softmax",
    "softplus",
    "straight_through",
    "tridiagonal_matvec",
    "tridiagonal_matvec_p",
]
