"""``python -m mmm_core.cli``: the ``mmm`` command line."""

from mmm_core.cli.app import main

raise SystemExit(main())
