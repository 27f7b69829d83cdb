"""What ``lfvscan status`` reports about a scan store: :func:`store_status` (read-only; safe while
a scan runs: cells finished but not yet folded are counted from the journal)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import numpy as np

from lfvscan.schema import DONE, FAILED, PENDING, SKIPPED, STATUS_NAMES
from lfvscan.store.backend import ScanBackend
from lfvscan.store.load import open_backend


def _writer_gone(run: dict) -> bool:
    """True if the run file names a rank-0 process on this host that has ended (other
    hosts cannot be checked: there the heartbeat age decides)."""
    pid = run.get("pid")
    if not isinstance(pid, int) or run.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by somebody else
        return False
    return False


def _failures(st: ScanBackend, status: np.ndarray, attempts: np.ndarray, errors: np.ndarray) -> list[dict]:
    """One dict per FAILED cell: its coordinates, attempts and last error message."""
    failed_idx = np.argwhere(status == FAILED)
    if not failed_idx.size:
        return []
    tn, en, mn = st.config.target_names, st.config.energies_GeV, st.config.masses_GeV
    return [
        {
            "target": tn[i],
            "energy_GeV": en[j],
            "mass_GeV": mn[k],
            "attempts": int(attempts[i, j, k]),
            "error": str(errors[i, j, k]),
        }
        for i, j, k in failed_idx
    ]


def _unconverged(st: ScanBackend, status: np.ndarray, converged: np.ndarray) -> list[dict]:
    """Coordinates of the DONE cells stored with ``converged`` False."""
    tn, en, mn = st.config.target_names, st.config.energies_GeV, st.config.masses_GeV
    return [{"target": tn[i], "energy_GeV": en[j], "mass_GeV": mn[k]}
            for i, j, k in np.argwhere((status == DONE) & ~converged)]


def _run_state(run: dict, now: float) -> str:
    """State of the last run from the run file: as written by rank 0, unless it says running but
    rank 0 is gone (killed) or its heartbeat is old (stale)."""
    state = run.get("state", "never run")
    if state == "running" and _writer_gone(run):
        return (f"killed (rank 0, pid {run.get('pid')} on this host, is gone; "
                "run the scan command again to resume)")
    if state == "running" and now - run.get("updated_unix", 0) > max(60.0, 5 * run.get("heartbeat_seconds", 10)):
        return "stale (no heartbeat: the scan was probably killed; run the scan command again to resume)"
    return state


def store_status(store: str | Path | ScanBackend, now: float | None = None) -> dict:
    """Progress of a store (a path or a backend) for ``lfvscan status`` (read-only; safe while a
    scan runs).

    Keys: store, config_hash, shape, requested, counts (per status name), complete, finished,
    retryable_failed, failures, damaged (rows whose chunks fail their checksum or hold invalid
    status codes: their cells count as pending; a resume recomputes them), dropped_journal_frames (torn or
    corrupt journal frames skipped: their cells count as pending), unconverged (DONE cells that did not reach the requested
    precision within their evaluation budget: stored with ``converged`` False and their honest,
    larger error), unconverged_cells (their coordinates), state, n_ranks, rate_cells_per_s [1/s], eta_s [s],
    summed_cell_seconds [s].
    """
    st = open_backend(store)
    cells = st.read_cells()  # with the cells finished but not folded yet; damaged rows as pending
    status = cells["status"]
    converged = cells["converged"].astype(bool)
    attempts = cells["attempts"]
    wall = cells["wall_seconds"]
    damaged = st.verify()
    run = st.read_run_info()
    now = time.time() if now is None else now
    counts = {STATUS_NAMES[c]: int((status == c).sum()) for c in (PENDING, DONE, FAILED, SKIPPED)}
    unconverged = _unconverged(st, status, converged)
    requested = int(status.size - counts["skipped"])
    max_attempts = int(run.get("max_attempts", st.config.max_attempts))
    failures = _failures(st, status, attempts, cells["error"])
    retryable = sum(1 for f in failures if f["attempts"] < max_attempts)
    # throughput of the current / last run, from rank 0's heartbeat in the run file
    rate = eta = None
    started, updated = run.get("started_unix"), run.get("updated_unix")
    n_run = run.get("computed_this_run", 0)
    if started and updated and n_run and updated > started:
        rate = n_run / (updated - started)
        eta = (counts["pending"] + retryable) / rate
    return {
        "store": str(store),
        "config_hash": st.read_attrs().get("config_hash"),
        "shape": list(st.config.shape),
        "requested": requested,
        "counts": counts,
        "complete": counts["done"] == requested,
        "finished": counts["pending"] == 0 and retryable == 0,
        "retryable_failed": retryable,
        "failures": failures,
        "damaged": [{"target": st.config.target_names[i], "energy_GeV": st.config.energies_GeV[j],
                     "arrays": names} for (i, j), names in sorted(damaged.items())],
        "dropped_journal_frames": st.dropped_journal_frames(),
        "unconverged": len(unconverged),
        "unconverged_cells": unconverged,
        "state": _run_state(run, now),
        "n_ranks": run.get("n_ranks"),
        "rate_cells_per_s": rate,
        "eta_s": eta,
        "summed_cell_seconds": float(np.nansum(np.where(status == DONE, wall, np.nan))),
    }
