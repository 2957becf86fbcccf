"""The ``mmm`` command line (``mmm = "mmm_core.cli:main"``; ``python -m mmm_core.cli``).

One module per subcommand (``demo``, ``fit``, ``predict``, ``optimize``, ``report``,
``attribution``), each with its ``add_parser`` and ``run_<command>``; :mod:`.app` holds the
parser, the dispatch and the error handling, :mod:`.store` the files (home, model ids, atomic
writes, reading tables and models), :mod:`.tables` the text output, :mod:`.options` the
options the commands share. See :mod:`mmm_core.cli.app` for the usage.
"""

from mmm_core.cli.app import main

__all__ = ["main"]
