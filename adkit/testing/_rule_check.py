"""The rule sweep behind `adkit check`: every rule case through every adkit derivative path.

For each case of the rule-case table (`adkit.testing.rule_cases`), in float64:

- `jvp`: `adkit.jvp` against `jax.jvp`;
- `vjp-tape`, `vjp-transpose`: `adkit.vjp` by each path against `jax.vjp`;
- `second order`: forward over reverse (the JVP of x -> Jᵀ(x) c) against JAX's.

Where JAX refuses (a `while_loop` in reverse mode, a linear solve without a transpose) adkit must
refuse with the same exception type; where JAX has no rule at all, adkit is checked against
finite differences (the JVP) and the dot-product test against its own JVP (the VJPs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._finite_differences import directional_derivative
from ._pairing import pairing
from ._random import random_like
from .rule_cases import RuleCase, all_cases

COLUMNS = ("jvp", "vjp-tape", "vjp-transpose", "second order")
TOLERANCE = 1e-9  # relative, against JAX in float64 (both are exact up to rounding)
FD_TOLERANCE = 1e-6  # relative, against Richardson finite differences
REFUSED = -1.0  # the error recorded where adkit and JAX both have no rule for the case

# What adkit cannot do yet that JAX can, by case and column, with the reason. The sweep reports
# these as "gap" (not as failures); the test suite checks that each still fails, so a fix has to
# remove its entry.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def rule_check_gaps() -> dict[str, str]:
    """The known gaps of the rule sweep: `{case id: reason}`.

    A gap is a case and column where adkit cannot yet do what JAX can. `check_rules` reports it
    in `CaseResult.gaps` rather than as a failure; the test suite checks that each gap still
    fails, so fixing one means removing its entry.

    Returns:
        The reason of each case with a known gap (one reason per case).

    Examples:
        >>> from adkit.testing import rule_check_gaps
        >>> rule_check_gaps()  # none at present
        {}
    """
    return {case: reason for (case, _), reason in KNOWN_GAPS.items()}


@dataclasses.dataclass(frozen=True)
class CaseResult:
    """One case's outcome per column: the max relative error, or a message if it failed.

    The columns are `"jvp"`, `"vjp-tape"`, `"vjp-transpose"` and (for cases that have it)
    `"second order"`.

    Attributes:
        case: the case's id, e.g. `"sin-vector"`.
        primitive: the name of the primitive the case exercises.
        errors: per column that passed, the max relative error against the reference (-1.0
            where neither adkit nor JAX has a rule for the case).
        failures: per column that failed, what went wrong.
        gaps: per column with a known gap (`rule_check_gaps`), its reason.

    Examples:
        >>> from adkit.testing import check_rules
        >>> from adkit.testing.rule_cases import all_cases
        >>> (result,) = check_rules([c for c in all_cases() if c.id == "sin-vector"])
        >>> result.case, result.primitive, result.ok
        ('sin-vector', 'sin', True)
        >>> sorted(result.errors), result.failures, result.gaps
        (['jvp', 'second order', 'vjp-tape', 'vjp-transpose'], {}, {})
    """

    case: str
    primitive: str
    errors: dict[str, float]
    failures: dict[str, str]
    gaps: dict[str, str] = dataclasses.field(default_factory=dict)  # known, with the reason

    @property
    def ok(self) -> bool:
        """Whether no column failed (known gaps do not count as failures)."""
        return not self.failures


def check_rules(
    cases: Sequence[RuleCase] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[CaseResult]:
    """Runs rule cases through every path and returns one `CaseResult` per case.

    Args:
        cases: the cases to run (default: the whole rule-case table).
        progress: called as `progress(done, total, case_id)` before each case.

    Returns:
        The results, in the order of `cases`.

    Examples:
        >>> from adkit.testing import check_rules
        >>> from adkit.testing.rule_cases import all_cases
        >>> [r.ok for r in check_rules([c for c in all_cases() if c.id == "sin-vector"])]
        [True]
    """
    # (a case that `raises` does so in forward mode, where the jvp column checks that both refuse)
    cases = [c for c in (all_cases() if cases is None else cases) if c.oracle is None]
    results = []
    with jax.enable_x64(True):
        for k, case in enumerate(cases):
            if progress:
                progress(k, len(cases), case.id)
            results.append(_check_case(case))
    if progress:
        progress(len(cases), len(cases), "")
    return results


def _check_case(case: RuleCase) -> CaseResult:
    rng = np.random.default_rng(0)
    args = tuple(jnp.asarray(a) for a in case.make_args(np.dtype(np.float64), rng))
    return check_function(case, args, rng)


def check_program(program, second_order: bool = True, jit: bool = True) -> CaseResult:
    """Runs a random program (`adkit.testing.random_program`) through every path, like a case.

    With `jit`, each path runs under `jax.jit` (one compilation per path, much faster than
    running the program's loops and branches eagerly).

    The program runs in float64, on its own inputs (`program.inputs`), with a random tangent
    and cotangent; each path's derivatives are compared with JAX's.

    Args:
        program: a `Program`, from `random_program` or the `programs` hypothesis strategy.
        second_order: whether to check forward over reverse as well (the `"second order"`
            column).
        jit: whether to run each path under `jax.jit`.

    Returns:
        A `CaseResult` for the case `"program-seed-<seed>"`.

    Examples:
        >>> from adkit.testing import check_program, random_program
        >>> result = check_program(random_program(0))
        >>> result.case, result.ok
        ('program-seed-0', True)
        >>> sorted(result.errors)
        ['jvp', 'second order', 'vjp-tape', 'vjp-transpose']
    """
    case = RuleCase(
        "program",
        program.fn,
        lambda dtype, rng: (),
        name=f"seed-{program.seed}",
        second_order=second_order,
    )
    with jax.enable_x64(True):
        return check_function(case, program.inputs(np.float64), np.random.default_rng(0), jit)


def check_function(case: RuleCase, args: tuple, rng, jit: bool = False) -> CaseResult:
    """Every path's derivatives of `case.fn` at `args` against JAX's (float64)."""
    import adkit

    t = random_like(args, rng)
    ct = random_like(jax.eval_shape(case.fn, *args), rng)
    errors: dict[str, float] = {}
    failures: dict[str, str] = {}
    f = case.fn
    pairs = {  # column -> (adkit's, JAX's), each a function of (args, t, ct)
        "jvp": (lambda a, t, c: adkit.jvp(f, a, t), lambda a, t, c: jax.jvp(f, a, t)),
        "vjp-tape": (lambda a, t, c: adkit.vjp(f, *a)[1](c), lambda a, t, c: jax.vjp(f, *a)[1](c)),
        "vjp-transpose": (
            lambda a, t, c: adkit.vjp(f, *a, method="transpose")[1](c),
            lambda a, t, c: jax.vjp(f, *a)[1](c),
        ),
    }
    if case.second_order:
        pairs["second order"] = (
            lambda a, t, c: _fwd_over_rev(adkit.jvp, adkit.vjp, f, a, t, c),
            lambda a, t, c: _fwd_over_rev(jax.jvp, jax.vjp, f, a, t, c),
        )
    if jit:  # every path in one compiled program; on any error, column by column below
        try:
            return _all_at_once(case, pairs, args, t, ct)
        except Exception:  # each column is rerun on its own below, to report its error
            pass
    run = (lambda g: lambda: jax.jit(g)(args, t, ct)) if jit else (lambda g: lambda: g(args, t, ct))
    jobs = {column: (run(ours), run(theirs)) for column, (ours, theirs) in pairs.items()}
    gaps = {}
    for column, (ours, theirs) in jobs.items():
        try:
            errors[column] = _compare(column, ours, theirs, case, args, t, ct)
        except _Mismatch as err:
            if (case.id, column) in KNOWN_GAPS:
                gaps[column] = KNOWN_GAPS[case.id, column]
            else:
                failures[column] = str(err)
    return CaseResult(case.id, case.primitive, errors, failures, gaps)


def _all_at_once(case, pairs, args, t, ct) -> CaseResult:
    # adkit's paths in one compiled program and JAX's in another: in a single program XLA may
    # merge and reorder the two sides' work differently, and at an exact tie (max(o, o[0]) after
    # a complex abs) one such program gave adkit's gradient 1.73 where each side compiled on its
    # own, and finite differences, give 0.916; the reference must not share the program tested
    def side(index):
        return jax.jit(lambda a, t, c: {k: pair[index](a, t, c) for k, pair in pairs.items()})

    ours, theirs = side(0)(args, t, ct), side(1)(args, t, ct)
    errors, failures = {}, {}
    for column in pairs:
        actual, expected = ours[column], theirs[column]
        try:
            errors[column] = _max_rel_error(actual, expected, TOLERANCE)
        except _Mismatch as err:
            failures[column] = str(err)
    return CaseResult(case.id, case.primitive, errors, failures)


class _Mismatch(Exception):
    pass


def _compare(column, ours, theirs, case, args, t, ct) -> float:
    try:
        expected = theirs()
    except (TypeError, ValueError) as err:  # JAX refuses: adkit must refuse the same way
        try:
            ours()
        except type(err):
            return 0.0
        except NotImplementedError:  # adkit has no rule where JAX refuses: neither reverses it
            return REFUSED
        except Exception as mine:
            raise _Mismatch(
                f"JAX raises {type(err).__name__}, adkit {type(mine).__name__}: {mine}"
            ) from None
        raise _Mismatch(f"JAX raises {type(err).__name__} ({err}) but adkit does not") from None
    except NotImplementedError:  # JAX has no rule: use an oracle that needs none
        expected = None
    try:
        actual = ours()
    except NotImplementedError as err:
        if expected is None:  # neither JAX nor adkit differentiates this case this way
            return REFUSED
        raise _Mismatch(f"{type(err).__name__}: {err}") from None
    except Exception as err:
        raise _Mismatch(f"{type(err).__name__}: {err}") from None
    if expected is not None:
        return _max_rel_error(actual, expected, TOLERANCE)
    if column == "jvp":
        reference = directional_derivative(case.fn, args, t, "richardson")
        return _max_rel_error(actual[1], reference, FD_TOLERANCE)
    if column.startswith("vjp"):
        import adkit

        _, jt = adkit.jvp(case.fn, args, t)
        lhs, rhs = pairing(actual, t), pairing(ct, jt)  # <Jᵀ c, t> = <c, J t>
        error = abs(lhs - rhs) / max(1.0, abs(rhs))
        if error > TOLERANCE:
            raise _Mismatch(f"dot-product test: <Jᵀ c, t> = {lhs!r}, <c, J t> = {rhs!r}")
        return error
    return 0.0  # second order where JAX has none: covered by the test suite's path comparison


def _fwd_over_rev(jvp, vjp, f, args, t, ct):
    return jvp(lambda *a: vjp(f, *a)[1](ct), args, t)[1]


def _max_rel_error(actual: Any, expected: Any, tol: float) -> float:
    worst = 0.0
    a_leaves, e_leaves = jax.tree.leaves(actual), jax.tree.leaves(expected)
    if len(a_leaves) != len(e_leaves):
        raise _Mismatch(f"{len(a_leaves)} output leaves, expected {len(e_leaves)}")
    for a, e in zip(a_leaves, e_leaves, strict=True):
        a, e = np.asarray(a), np.asarray(e)
        if e.dtype == jax.dtypes.float0 or a.dtype == jax.dtypes.float0:
            continue
        if a.shape != e.shape:
            raise _Mismatch(f"shape {a.shape}, expected {e.shape}")
        scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
        error = float(np.max(np.abs(a - e), initial=0.0)) / scale
        if not error <= tol:  # NaN fails too
            index = np.unravel_index(int(np.nanargmax(np.abs(a - e))), a.shape) if a.ndim else ()
            raise _Mismatch(
                f"element {index}: {a[index]!r}, expected {e[index]!r} "
                f"(relative error {error:.2e} > {tol:g})"
            )
        worst = max(worst, error)
    return worst


def summarize(results: Sequence[CaseResult]) -> list[dict[str, Any]]:
    """One row per primitive: per column "ok", "FAIL", "gap" (a known gap, see `KNOWN_GAPS`),
    "n/a" (neither adkit nor JAX has a rule for it) or "-" (not run), and the max relative
    error."""
    rows: dict[str, dict[str, Any]] = {}
    for r in results:
        row = rows.setdefault(
            r.primitive, {"primitive": r.primitive, "max error": 0.0, **dict.fromkeys(COLUMNS, "-")}
        )
        for column in COLUMNS:
            if column in r.failures:
                row[column] = "FAIL"
            elif column in r.gaps and row[column] != "FAIL":
                row[column] = "gap"
            elif column in r.errors and row[column] in ("-", "n/a"):
                row[column] = "n/a" if r.errors[column] == REFUSED else "ok"
        row["max error"] = max([row["max error"], *r.errors.values()])
    return list(rows.values())
