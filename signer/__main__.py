"""`python -m signer` is the `signer` command."""

import sys

from signer.launcher import main

sys.exit(main())
