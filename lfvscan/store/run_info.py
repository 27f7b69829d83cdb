"""The run information side file ``<store>/lfvscan_run.json`` (state, heartbeat, ranks, ... that
``lfvscan status`` shows), replaced atomically by rank 0."""

from __future__ import annotations

import json
from pathlib import Path

from lfvscan.util.fileio import write_atomic

RUN_FILE = "lfvscan_run.json"


def write_run_info(store_path: str | Path, info: dict) -> None:
    """Replace the run information of the store at ``store_path`` atomically."""
    write_atomic(Path(store_path) / RUN_FILE, json.dumps(info, indent=1))


def read_run_info(store_path: str | Path) -> dict:
    """The run information of the store at ``store_path`` ({} if absent or unreadable)."""
    try:
        return json.loads((Path(store_path) / RUN_FILE).read_text())
    except (OSError, ValueError):
        return {}
