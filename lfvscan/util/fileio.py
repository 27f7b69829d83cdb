"""Atomic text-file writes: a reader (or a later run) sees the old file or the new one, never half.

Used for every small file lfvscan writes whole (limits CSV/JSON, converted flux CSVs, the scan's
run-information file).  The temporary file sits next to the target, named ``.<name>.*.partial``
(which :meth:`lfvscan.store.ScanStore.clean_partials` removes if a kill left one behind).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to the descriptor ``fd`` (``os.write`` may write less than asked,
    e.g. after a signal; a regular file takes it in one call)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same directory and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
