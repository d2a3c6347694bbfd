"""The shipped benchmark suites; importing one registers it with `adkit bench`."""

from . import checkpoint, higher, implicit, interpreter, sparse  # noqa: F401  (registration)
