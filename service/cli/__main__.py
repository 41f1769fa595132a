"""``python -m service.cli``: the ``mediacheck`` command."""

import sys

from service.cli.main import main

sys.exit(main())
