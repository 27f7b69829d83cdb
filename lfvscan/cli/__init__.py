"""Command-line layer: parsing and printing only.  ``lfvscan.cli.main`` is the ``lfvscan`` entry
point; each subcommand is one module here with ``add_parser(sub)`` and ``run(args)``."""

from lfvscan.cli.main import main

__all__ = ["main"]
