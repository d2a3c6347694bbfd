"""The shipped benchmark suites; importing one registers it with `adkit bench`."""

from . import implicit, interpreter  # noqa: F401  (registration)
