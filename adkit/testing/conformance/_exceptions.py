"""Tests of JAX's that adkit is not expected to pass, each with the reason.

A key is a substring of a pytest test id. The conformance page lists them; the runner counts a
listed test apart instead of as a failure.
"""

EXCEPTIONS: dict[str, str] = {}


def reason(test_id: str) -> str | None:
    """The documented reason `test_id` is exempt, or `None`."""
    for key, why in EXCEPTIONS.items():
        if key in test_id:
            return why
    return None
