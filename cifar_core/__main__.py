"""``python -m cifar_core train|evaluate ...``: see ``cifar_core.cli``."""

import sys

from cifar_core.cli import main

sys.exit(main())
