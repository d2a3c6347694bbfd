"""`python -m adkit.testing.conformance PATH`: see `adkit.testing.conformance`."""

import sys

from . import main

sys.exit(main())
