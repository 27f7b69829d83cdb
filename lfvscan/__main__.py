import sys

from lfvscan.cli import main

sys.exit(main())
