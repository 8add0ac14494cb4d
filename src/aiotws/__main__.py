"""``python -m aiotws``: the same as the ``aiotws`` command."""

import sys

from aiotws.cli import main

sys.exit(main())
