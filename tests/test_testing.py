"""adkit.testing: finite differences, `check_grads` and `crosscheck` pass on correct derivatives,
and catch planted bugs, naming the primitive."""

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import adkit
from adkit.testing import DerivativeCheckError, check_grads, crosscheck, directional_derivative

X = jnp.array([0.3, 1.2, -0.5])
W = jnp.float32(0.7)


def smooth(x, w):
    return jnp.sum(jnp.tanh(x * w) ** 2) + jnp.sin(x[0]) * jnp.exp(-(x[1] ** 2))


@contextlib.contextmanager
def planted(table, primitive, rule):
    """Replaces one rule of an adkit table for the duration of a test."""
    old = table[primitive]
    table[primitive] = rule
    try:
        yield
    finally:
        table[primitive] = old


def wrong_vjp(backward):
    return adkit.rules.VJP_RULES[lax.sin_p].__class__(backward)


# --- the finite-difference references ---
def test_finite_difference_methods_reach_their_accuracy():
    with jax.enable_x64(True):
        x, exact = jnp.float64(0.7), np.cos(0.7) * np.exp(np.sin(0.7))
        f = lambda x: jnp.exp(jnp.sin(x))
        err = {m: abs(float(directional_derivative(f, (x,), (1.0,), m)) - exact)
               for m in ("central", "richardson", "complex_step")}  # fmt: skip
    assert err["complex_step"] < 1e-15  # no subtraction, no cancellation
    assert err["richardson"] < 1e-11 < err["central"] < 1e-9  # O(h⁴) beats O(h²)


def test_complex_step_agrees_with_adkit_grad_to_machine_precision():
    analytic = [
        lambda x: jnp.exp(jnp.sin(x)) / (1.0 + x**2),
        lambda x: jnp.log1p(x**2) * jnp.tanh(x) + jnp.sqrt(2.0 + jnp.cos(3.0 * x)),
        lambda x: jnp.arctan(x) ** 3 - x ** jnp.float64(2.5),
    ]
    with jax.enable_x64(True):
        for f in analytic:
            x = jnp.float64(0.8)
            reference = float(directional_derivative(f, (x,), (1.0,), "complex_step"))
            np.testing.assert_allclose(float(adkit.grad(f)(x)), reference, rtol=1e-13)


def test_complex_step_needs_real_inputs():
    with jax.enable_x64(True), pytest.raises(TypeError, match=r"complex-step.*real inputs"):
        directional_derivative(jnp.sin, (jnp.complex128(1.0),), (1.0,), "complex_step")


# --- check_grads passes on right derivatives ---
@pytest.mark.parametrize("transforms", ["adkit", "adkit-transpose", "jax"])
@pytest.mark.parametrize("method", ["central", "richardson"])
def test_check_grads_passes_on_correct_rules(transforms, method):
    check_grads(smooth, (X, W), order=2, transforms=transforms, method=method)


def test_check_grads_on_pytrees_integers_and_complex_inputs():
    f = lambda p, n: jnp.sum(p["w"] @ p["x"]) * n + jnp.sum(jnp.sin(p["x"]))
    params = {"w": jnp.ones((2, 3)) * 0.3, "x": X}
    check_grads(f, (params, jnp.int32(2)), order=2)
    z = jnp.array([0.3 + 0.2j, 1.0 - 0.5j])
    check_grads(lambda z: jnp.sin(z) * (1 + 2j), (z,), order=2)  # holomorphic
    check_grads(lambda z: jnp.abs(z) ** 2 + jnp.real(z), (z,), order=2)  # not holomorphic


def test_check_grads_complex_step_and_float32():
    x32 = X.astype(jnp.float32)  # checked in float64
    check_grads(lambda x: jnp.exp(jnp.sin(x)) * x, (x32,), order=2, method="complex_step")


def test_check_grads_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"method.*'simpson'"):
        check_grads(smooth, (X, W), method="simpson")
    with pytest.raises(ValueError, match=r"modes.*'sideways'"):
        check_grads(smooth, (X, W), modes=("sideways",))
    with pytest.raises(ValueError, match=r"transforms.*'torch'"):
        check_grads(smooth, (X, W), transforms="torch")


# --- planted bugs are caught and the primitive is named ---
def _sin_wrong_sign(ct, res, **params):  # the true rule is x̄ = +ȳ cos x
    return [-ct * lax.cos(res.inputs[0])]


def _mul_forgets_second_operand(ct, res, **params):  # x̄ = z̄ y, but ȳ = z̄ x is dropped
    _, y = res.inputs
    return [ct * y, None]


def _broadcast_without_sum(ct, res, *, shape, broadcast_dimensions, sharding):
    # the true rule sums ȳ over the broadcast axes; this one takes the first slice
    (x,) = res.inputs
    return [lax.index_in_dim(ct, 0, axis=0, keepdims=False).reshape(jnp.shape(x))]


PLANTED = {
    "sin": (lax.sin_p, _sin_wrong_sign, lambda x: jnp.sum(jnp.sin(x) * x)),
    "mul": (lax.mul_p, _mul_forgets_second_operand, lambda x: jnp.sum(jnp.exp(x) * jnp.exp(x))),
    "broadcast_in_dim": (lax.broadcast_in_dim_p, _broadcast_without_sum,
                         lambda x: jnp.sum(jnp.broadcast_to(x, (3, 3)) * jnp.cos(x))),
}  # fmt: skip


@pytest.mark.parametrize("name", list(PLANTED))
def test_check_grads_catches_a_planted_vjp_bug_and_names_it(name):
    primitive, backward, f = PLANTED[name]
    with planted(adkit.rules.VJP_RULES, primitive, wrong_vjp(backward)):
        with pytest.raises(DerivativeCheckError) as info:
            check_grads(f, (X,), order=1, modes=("rev",))
        check_grads(f, (X,), order=1, modes=("rev",), transforms="adkit-transpose")
    message = str(info.value)
    assert f"fails this check on its own: '{name}'" in message, message
    assert "mode 'rev'" in message and "args[0]" in message and "tolerance" in message


@pytest.mark.parametrize("name", list(PLANTED))
def test_crosscheck_catches_a_planted_vjp_bug_and_names_it(name):
    primitive, backward, f = PLANTED[name]
    with planted(adkit.rules.VJP_RULES, primitive, wrong_vjp(backward)):
        report = crosscheck(f, X)
    failing_paths = {path for _, _, path in report.failures}
    assert failing_paths == {"adkit (tape)"}  # the transpose path and JAX are right
    with pytest.raises(DerivativeCheckError, match=rf"first primitive .* is '{name}'"):
        report.raise_if_failed()
    assert "FAIL" in str(report) and "<table>" in report._repr_html_()


def test_check_grads_catches_a_planted_jvp_bug_in_forward_mode():
    def mul_jvp_forgets_a_term(primals, tangents, **params):  # d(xy) = y dx + x dy, minus x dy
        (x, y), (tx, _) = primals, tangents
        return x * y, adkit.Zero.like(x * y) if isinstance(tx, adkit.Zero) else tx * y

    planted_rule = planted(adkit.rules.JVP_RULES, lax.mul_p, mul_jvp_forgets_a_term)
    expected = pytest.raises(DerivativeCheckError, match=r"mode 'fwd'.*on its own: 'mul'")
    with planted_rule, expected:
        check_grads(lambda x: jnp.sum(x * x), (X,), order=1, modes=("fwd",))


def test_crosscheck_report_on_a_correct_function():
    report = crosscheck(smooth, X, W)
    assert report.failures == []
    report.raise_if_failed()
    assert {r.quantity for r in report.rows} == {"jvp", "vjp", "grad"}
    worst = max(c.abs_error for r in report.rows for c in r.cells.values())
    assert worst < 1e-9  # Richardson's reference is good to about 1e-12 here


# --- the `adkit check` command ---
def test_adkit_check_sweeps_cases_and_programs(capsys):
    from adkit.cli import main

    assert main(["check", "--only", "sin", "--only", "scan", "--programs", "3", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "sin " in out and "scan " in out and "0 failed" in out
    assert "3 random programs (seeds 5..7)" in out and "0 disagreed with JAX" in out


def test_adkit_check_fails_on_a_planted_bug_naming_the_primitive(capsys):
    from adkit.cli import main

    with planted(adkit.rules.VJP_RULES, lax.sin_p, wrong_vjp(_sin_wrong_sign)):
        status = main(["check", "--only", "sin", "--programs", "0"])
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL sin-vector (sin), vjp-tape" in out
    assert "vjp-transpose" not in out.split("FAIL", 1)[1]  # only the tape path is wrong


def test_adkit_check_jet_sweeps_taylor_mode_and_fails_on_a_planted_bug(capsys):
    from adkit.cli import main

    assert main(["check", "--jet", "--only", "tanh"]) == 0
    out = capsys.readouterr().out
    assert "tanh-vector" in out and "tanh-special" in out and "0 failed" in out
    assert "(and 3 against jax.experimental.jet" in out
    # a jet rule that drops the last coefficient fails the sweep, naming the case
    rule = adkit.rules.JET_RULES[lax.tanh_p]
    wrong = lambda operands, **params: [*rule(operands, **params)[:-1], operands[0][-1] * 0]
    with planted(adkit.rules.JET_RULES, lax.tanh_p, wrong):
        assert main(["check", "--jet", "--only", "tanh"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_adkit_check_coverage_and_a_users_function(tmp_path, capsys):
    from adkit.cli import main

    assert main(["check", "--coverage"]) == 0
    assert "0 with a missing rule" in capsys.readouterr().out
    module = tmp_path / "model.py"
    source = "import jax.numpy as jnp\n\ndef loss(x, w):\n    return jnp.sum(jnp.tanh(x * w))\n"
    module.write_text(source)
    assert main(["check", f"{module}:loss", "--args", "[0.1, -0.4]", "0.7"]) == 0
    assert "crosscheck(loss)" in capsys.readouterr().out
    assert main(["check", f"{module}:missing"]) == 2


def test_adkit_check_report_holds_only_the_table(capfd):
    from adkit.cli import main

    assert main(["check", "--only", "debug_print", "--programs", "0"]) == 0
    out = capfd.readouterr().out
    assert "debug_print" in out and "0 failed" in out
    assert "adkit rule case" not in out  # the cases' own debug prints stay out of the report
