"""`python -m adkit.testing.conformance PATH`: see `adkit.testing.conformance`."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
