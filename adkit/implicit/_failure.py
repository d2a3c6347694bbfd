"""What happens when a solve does not converge: the policy, the tolerances, the diagnostics.

Every solve adkit.implicit runs (the forward solve, the tangent or adjoint linear solve) ends
with a check of its residual against its tolerance. The check is a host callback on the solve's
statistics (a few scalars), so it runs under `jax.jit`, `jax.vmap` and inside the linear solves
JAX transposes, and it is tied to the result, so XLA cannot drop it. It records the statistics
in any open `record()` and applies the policy:

- `"raise"`: an `ImplicitSolveError` naming the solve, the residual reached, the tolerance and
  what to try (under `jax.jit` JAX re-raises it as a runtime error carrying the same message);
- `"nan"`: the result of a failed solve becomes NaN (per sample under `vmap`), so nothing
  downstream is finite;
- `"warn"`: a `RuntimeWarning` with the same message; the result is kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _jax_compat as jc

POLICIES = ("raise", "nan", "warn")


class ImplicitSolveError(RuntimeError):
    """A solve of `adkit.implicit` did not reach its tolerance (with `on_failure="raise"`).

    The message names the solve, the residual reached, the tolerance and what to try. Under
    `jax.jit`, JAX re-raises it as a runtime error carrying the same message.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit import implicit
        >>> T = lambda x, a: 0.5 * x + a  # x* = 2a
        >>> implicit.fixed_point_iteration(T, jnp.zeros(()), 1.0, maxiter=3)
        Traceback (most recent call last):
        ...
        adkit.implicit._failure.ImplicitSolveError: adkit.implicit: the forward solve
        (fixed_point_iteration) did not converge: residual 0.125 after 3 iterations, tolerance
        0.000345. Give the solver more iterations or a better start, ...
    """


@dataclasses.dataclass(frozen=True)
class SolveStats:
    """One solve's outcome, as `record()` collects it.

    Attributes:
        solve: which solve: `"forward"`, `"tangent"` (forward mode) or `"adjoint"` (reverse).
        method: the solver, e.g. `"anderson"` or `"cg"`.
        residual: the residual norm reached (relative to the right-hand side for linear solves),
            one per sample under `vmap`.
        tol: the tolerance asked for (after clamping to what the dtype can reach).
        iterations: the iterations taken (-1 where the solver does not count them).
        converged: whether `residual <= tol`, one per sample.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit import implicit
        >>> T = lambda x, a: 0.5 * x + a
        >>> solve = lambda a: implicit.fixed_point_iteration(T, jnp.zeros(()), a).value
        >>> with implicit.record() as stats:
        ...     x = jax.vmap(solve)(jnp.array([1.0, 4.0]))
        >>> s = stats[0]
        >>> s.solve, s.method, round(s.tol, 6)
        ('forward', 'fixed_point_iteration', 0.000345)
        >>> s.iterations, s.converged  # one per sample
        (array([12, 12], dtype=int32), array([ True,  True]))
        >>> bool((s.residual <= s.tol).all())
        True
    """

    solve: str
    method: str
    residual: np.ndarray
    tol: float
    iterations: np.ndarray
    converged: np.ndarray


_RECORDERS: list[list[SolveStats]] = []
_WARNED: set[tuple[float, str]] = set()


@contextlib.contextmanager
def record() -> Iterator[list[SolveStats]]:
    """Collects the statistics of every solve run inside the block (jitted or not).

    A jitted function returns before its computation ends: block on its result inside the
    block (`jax.block_until_ready`), or the statistics may arrive after it closed.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit import implicit
        >>> T = lambda x, a: 0.5 * x + a
        >>> with implicit.record() as stats:
        ...     x = implicit.fixed_point_iteration(T, jnp.zeros(()), 1.0, tol=1e-6).value
        >>> stats[0].solve, stats[0].method, bool(stats[0].converged), round(float(x), 4)
        ('forward', 'fixed_point_iteration', True, 2.0)
    """
    log: list[SolveStats] = []
    _RECORDERS.append(log)
    try:
        yield log
    finally:
        _RECORDERS.remove(log)


def check_policy(on_failure: str) -> str:
    if on_failure not in POLICIES:
        raise ValueError(
            f'`on_failure` must be one of {POLICIES}, but received {on_failure!r}: `"raise"` '
            'stops with an error, `"nan"` makes a failed result NaN, `"warn"` warns and keeps it.'
        )
    return on_failure


def tolerances(tol: float | None, dtype: Any) -> tuple[float, float]:
    """`(forward, linear)`: the forward solve's relative residual and the linear solves'.

    By default `√ε` for the forward check (1.5e-8 in float64, 3.5e-4 in float32: a solver
    stopped well before that is caught) and `ε^(2/3)` for the linear solves (3.7e-11, 2.4e-5).
    A `tol` serves both; one below what the dtype can reach (four epsilons) is raised to it,
    with one warning (per tolerance and dtype, per process).
    """
    eps = float(jnp.finfo(dtype).eps)
    if tol is None:
        return eps**0.5, eps ** (2 / 3)
    floor = 4 * eps
    if tol < floor:
        if (tol, jnp.dtype(dtype).name) in _WARNED:
            return floor, floor
        _WARNED.add((tol, jnp.dtype(dtype).name))
        warnings.warn(
            f"adkit.implicit: the tolerance {tol:g} is below what {jnp.dtype(dtype).name} can "
            f"reach; using {floor:.3g} (four machine epsilons). Pass a tolerance of at least that, "
            "or compute in float64 (`jax.config.update('jax_enable_x64', True)`).",
            RuntimeWarning,
            stacklevel=5,
        )
        tol = floor
    return float(tol), float(tol)


def enforce(
    result: Any,
    residual: jax.Array,
    iterations: jax.Array,
    *,
    tol: float,
    policy: str,
    solve: str,
    method: str,
    hint: str,
    with_factor: bool = False,
) -> Any:
    """Checks `residual <= tol` at run time, records the statistics and applies the policy.

    Returns `result` unchanged (or NaN where the solve failed, with `policy="nan"`); with
    `with_factor`, also the factor it was multiplied by (1, or NaN), for a derivative that must
    carry the same verdict: a derivative that does not read `result` (a linear F) would
    otherwise let XLA drop the check.
    """
    # the statistics are not differentiated (the check has no derivative)
    residual = lax.stop_gradient(jnp.asarray(residual))
    residual = residual.astype(jnp.float32 if residual.dtype != jnp.float64 else jnp.float64)
    iterations = jnp.asarray(iterations, jnp.int32)
    converged = residual <= tol  # False for a NaN residual

    def host(residual, iterations, converged):
        stats = SolveStats(
            solve, method, np.asarray(residual), tol, np.asarray(iterations), np.asarray(converged)
        )
        for log in _RECORDERS:
            log.append(stats)
        if policy != "nan" and not np.all(stats.converged):
            message = _message(stats, hint)
            if policy == "raise":
                raise ImplicitSolveError(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        return np.zeros(np.shape(residual), np.float32)  # one per sample under vmap

    if jc.is_concrete(residual):  # eager: check here and raise the error itself
        host(residual, iterations, converged)
        token = jnp.zeros(jnp.shape(residual), jnp.float32)
    else:
        token = _callback(host, residual, iterations, converged)

    # 1 (or NaN for a failed solve with policy "nan"), computed from the check's output, so
    # whatever uses it keeps the check in the program
    factor = 1 + token
    if policy == "nan":
        factor = jnp.where(converged, factor, jnp.nan)
    result = jax.tree.map(lambda leaf: _scale(leaf, factor), result)
    return (result, factor) if with_factor else result


def _scale(leaf, factor):
    if not jnp.issubdtype(jnp.result_type(leaf), jnp.inexact):
        return leaf
    return leaf * factor.astype(jnp.result_type(leaf))


def _callback(host, residual, iterations, converged):
    return jax.pure_callback(
        host,
        jax.ShapeDtypeStruct(jnp.shape(residual), jnp.float32),
        residual,
        iterations,
        converged,
        vmap_method="broadcast_all",
    )


def _message(stats: SolveStats, hint: str) -> str:
    worst = float(np.nanmax(stats.residual)) if np.isfinite(stats.residual).any() else np.nan
    failed = int(np.size(stats.converged) - np.count_nonzero(stats.converged))
    where = (
        f" ({failed} of {np.size(stats.converged)} samples)" if np.size(stats.converged) > 1 else ""
    )
    taken = int(np.max(stats.iterations))
    steps = f" after {taken} iterations" if taken >= 0 else ""
    return (
        f"adkit.implicit: the {stats.solve} solve ({stats.method}) did not converge{where}: "
        f"residual {worst:.3g}{steps}, tolerance {stats.tol:.3g}. {hint} "
        '(`on_failure="nan"` makes failed results NaN instead; `"warn"` only warns.)'
    )
