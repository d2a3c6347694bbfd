"""Tests of JAX's that adkit is not expected to pass, each with the reason.

A key is the end of a pytest test id (`Class::test_name`, or just `test_name`). The conformance
page lists them; the runner counts a listed test apart instead of as a failure.
"""

EXCEPTIONS: dict[str, str] = {
    "test_scan_vjp_forwards_extensive_residuals": (
        "reads JAX internals: the residuals JAX's own `vjp` stores (`vjp_fun.args_res`)"
    ),
    "testPowSecondDerivative": (
        "its third subtest asserts that d/dx x^y at x = y = 0 is NaN (a TODO in JAX's test says "
        "0 is right); adkit gives 0, the limit, and matches the other subtests"
    ),
    "testWhileGradError_loop='fori_inside_cond'": (
        "expects reverse mode to refuse a fori_loop whose bounds depend on x; adkit's tape path "
        "runs it with the bounds known eagerly and returns the right gradient (4, a test of "
        "adkit's own checks it); the transpose path refuses as JAX does"
    ),
    "test_custom_lin_pretty_print": (
        "prints the jaxpr of JAX's own JVP of a custom_vjp function (its internal `custom_lin` "
        "primitive); adkit, like JAX's public API, refuses forward mode of a custom_vjp function"
    ),
    "test_partial_eval_raises": (
        "expects reverse mode of a custom_vmap function to fail (JAX's partial evaluation cannot "
        "linearize it); adkit differentiates it through its function, checked in adkit's tests"
    ),
    "test_jvp_rule_doesnt_return_pair_error_message": (
        "matches the rule's return value in the error message: adkit traces the rule, so the "
        "message (otherwise JAX's own words) shows a tracer where JAX shows 1.0"
    ),
    "CustomJVPTest::test_symbolic_zero_custom_jvp": (
        "the unjitted, unbatched variant asserts that a Python float passes through a custom rule "
        "untouched (eager JAX); adkit's outputs are arrays"
    ),
    "CustomVJPTest::test_symbolic_zero_custom_vjp": (
        "the unjitted, unbatched variant asserts that a Python float passes through a custom rule "
        "untouched (eager JAX); adkit's outputs are arrays"
    ),
    "CustomVJP3Test::test_symbolic_zero_custom_vjp": (
        "the unjitted, unbatched variant asserts that a Python float passes through a custom rule "
        "untouched (eager JAX); adkit's outputs are arrays"
    ),
    "test_hard_stuff2": (
        "differentiates, inside `jax.jit`, a program that `jax.vmap` batched before adkit could "
        "differentiate it (a custom_jvp function whose output ignores its batched input): adkit "
        "runs it define-by-run eagerly (checked in adkit's tests) and raises a clear error "
        "under jit, where only the batched program exists"
    ),
}


def reason(test_id: str) -> str | None:
    """The documented reason `test_id` is exempt, or `None`."""
    for key, why in EXCEPTIONS.items():
        if test_id.endswith(key):
            return why
    return None
