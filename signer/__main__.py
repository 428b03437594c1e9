"""`python -m signer` is the `signer` command."""

import sys

from signer.cli import main

sys.exit(main())
