"""``python -m skillmeat_ls``: the same entry point as the ``skillmeat-ls`` command."""

from skillmeat_ls.cli import main

raise SystemExit(main())
