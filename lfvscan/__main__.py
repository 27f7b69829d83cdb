"""``python -m lfvscan``: the command line (:func:`lfvscan.cli.main`)."""

import sys

from lfvscan.cli import main

if __name__ == "__main__":
    sys.exit(main())
