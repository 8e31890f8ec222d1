"""``python -m causalmix``: the command line (see :mod:`causalmix.cli`)."""

from causalmix.cli import main

raise SystemExit(main())
