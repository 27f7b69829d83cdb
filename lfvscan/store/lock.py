"""The writer lock of a store: an exclusive ``flock`` on ``<store>/lfvscan.lock``.

A scan holds it while it writes, so two scans never write one store at the same time.  The
kernel releases it when the holding process dies, also on ``kill -9`` (no stale lock files).
Readers never take it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "lfvscan.lock"


def try_lock(store_path: str | Path) -> int | None:
    """A descriptor holding the lock of the store at ``store_path``, or None if another process
    holds it.  Keep the descriptor open while writing; :func:`unlock` releases it."""
    fd = os.open(str(Path(store_path) / LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def unlock(fd: int) -> None:
    """Release a lock taken by :func:`try_lock`."""
    os.close(fd)
