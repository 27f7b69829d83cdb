"""Opening a store on disk for a scan: :func:`open_for_scan` (create it, or resume it)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from lfvscan.errors import UsageError
from lfvscan.spec.config import ScanConfig, check_same_physics
from lfvscan.store import layout
from lfvscan.store.journal import JOURNAL_DIR
from lfvscan.store.zarr_store import ScanStore


def _creator_gone(tmp: Path, name: str) -> bool:
    """True if the ``.creating`` directory ``tmp`` (``<name>.<host>.<pid>.<hex>.creating``) was left by
    a process of this host that has ended (names without host and pid: True).  A creation still
    running (here or on another host) is never removed."""
    middle = tmp.name[len(name) + 1: -len(".creating")]
    parts = middle.rsplit(".", 2)
    if len(parts) < 3:
        return True
    host, pid = parts[0], parts[1]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def open_for_scan(path: str | Path, config: ScanConfig, config_text: str = "") -> tuple[ScanStore, bool]:
    """Open ``path`` to continue ``config``'s scan, or create it.  Returns (store, created).

    Resuming takes the writer lock, removes leftovers of interrupted writes, resets damaged rows
    and folds the journal a killed run left.  Refuses (UsageError) a store made from a config
    with different physics, naming the keys.
    """
    path = Path(path)
    layout.check_not_other(path)
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()  # an empty directory: make the store there
    if not path.exists():
        for stale in path.parent.glob(f"{path.name}.*.creating"):  # a creation killed half-way
            if _creator_gone(stale, path.name):
                shutil.rmtree(stale, ignore_errors=True)
        store = ScanStore.create(path, config, config_text)
        store.lock()
        return store, True
    journal = path / JOURNAL_DIR
    if journal.exists() and not journal.is_dir():
        raise UsageError(f"store {str(path)!r} is damaged: {str(journal)!r} is not a directory; move it away "
                         f"(it holds no folded results) and rerun")
    store = ScanStore.open(path, writable=True)
    # identity: the grid's coordinate values (order-free) and the physics settings
    check_same_physics(store.config, config, repr(str(path)),
                       f"; start a new store with --store NEW_PATH, or delete {str(path)!r} to start over")
    store.lock()
    store.clean_partials()
    store.repair()  # damaged chunks: their rows are computed again
    store.replay_journal()
    return store, False
