"""The run information side file ``<store>/lfvscan_run.json`` (state, heartbeat, ranks, ... that
``lfvscan status`` shows), replaced atomically by rank 0."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from lfvscan.util.fileio import write_atomic

RUN_FILE = "lfvscan_run.json"


#: the keys kept when the run information must fit into the bytes of the file it overwrites
ESSENTIAL_KEYS = ("state", "updated_unix", "started_unix", "n_ranks", "host", "pid")


def write_run_info(store_path: str | Path, info: dict) -> None:
    """Replace the run information of the store at ``store_path`` atomically.  On a full disk
    (ENOSPC, EDQUOT: no room for the new file) it is overwritten in place instead, within the bytes
    the file already holds (compact, else only :data:`ESSENTIAL_KEYS`), so that a run ended by a
    full disk can still say so to ``lfvscan status``; OSError if that fails too."""
    path = Path(store_path) / RUN_FILE
    try:
        write_atomic(path, json.dumps(info, indent=1))
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not _overwrite_in_place(path, info):
            raise


def _overwrite_in_place(path: Path, info: dict) -> bool:
    """Write ``info`` over the existing file ``path`` if it fits in its current size (no new disk
    blocks needed); False if there is no such file or it does not fit."""
    try:
        with open(path, "r+b") as fh:
            size = os.fstat(fh.fileno()).st_size
            for d in (info, {k: info[k] for k in ESSENTIAL_KEYS if k in info}):
                data = json.dumps(d, separators=(",", ":")).encode()
                if len(data) <= size:
                    fh.write(data)
                    fh.truncate(len(data))
                    return True
    except OSError:
        return False
    return False


def read_run_info(store_path: str | Path) -> dict:
    """The run information of the store at ``store_path`` ({} if absent or unreadable)."""
    try:
        return json.loads((Path(store_path) / RUN_FILE).read_text())
    except (OSError, ValueError):
        return {}
