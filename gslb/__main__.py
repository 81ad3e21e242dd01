"""`python -m gslb` runs the `gslb` command."""

import sys

from gslb.cli import main

sys.exit(main())
