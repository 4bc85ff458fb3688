"""``python -m geotfrecord`` is the ``geotfrecord`` command."""

from .cli import main

raise SystemExit(main())
