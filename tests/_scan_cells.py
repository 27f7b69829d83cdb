"""Cheap deterministic stand-ins for lfvscan.xsec.compute_cell, used by the scan-engine tests.

Selected in a config with ``cell_function = "_scan_cells:cheap_cell"`` (tests put this directory
on PYTHONPATH).  Behaviour knobs, through environment variables so subprocess runs can use them:

* ``LFVSCAN_TEST_PAUSE_AT=k`` with ``LFVSCAN_TEST_PAUSE_DIR=DIR``: the k-th cell of this process
  creates ``DIR/paused.<pid>`` and waits there, so a test acts at a known point of the scan (k-1
  cells of this process finished, the k-th in flight) instead of after a guessed sleep.  It waits
  until the process is killed, or with ``LFVSCAN_TEST_PAUSE_UNTIL=signal`` until the process has
  handled SIGTERM/SIGINT (then the cell completes: the engine is draining).  Bounded: after
  ``LFVSCAN_TEST_PAUSE_TIMEOUT`` s (default 120) the process exits with status 3.
* ``LFVSCAN_TEST_PAUSE_RANK=r``: pause only in the process of MPI rank r (``PMI_RANK``).
* ``LFVSCAN_TEST_BLOCK_AT="target,E,m"`` with ``LFVSCAN_TEST_PAUSE_DIR``: the cell at those
  coordinates pauses as above (marker file, waits until killed or interrupted by the engine's wall
  limit), whichever process computes it: a hung cell.
* ``LFVSCAN_TEST_DIE_AT="target,E,m"`` (E, m in GeV as in the grid): the cell at those coordinates
  ends its process instead of returning, as ``LFVSCAN_TEST_DIE_HOW`` says: ``exit`` (``os._exit(7)``,
  default), ``systemexit`` (raise ``SystemExit(7)``) or ``segv`` (SIGSEGV to itself).
* ``LFVSCAN_TEST_STUCK_AT="target,E,m"``: the cell at those coordinates gets stuck in one C call
  that holds the GIL (``sum`` over a huge range: no signal handler, no other thread of its process
  runs) until its process is killed.
* ``LFVSCAN_TEST_STOP_SELF_RANK=r``: the process of MPI rank r stops itself (SIGSTOP) when this
  module is imported (run_scan imports the cell function first): a rank silent from the start.
* A pause also ends when the file ``DIR/release`` exists.
* ``LFVSCAN_TEST_DISK_FULL_AFTER=n``: in the process of MPI rank 0 (or a serial run), the disk is
  full after n journal appends: every later append to the store's journal or attempt log, and every
  new run-information file, fails with ENOSPC (overwriting the bytes of an existing file works).
* ``LFVSCAN_TEST_SLEEP``: seconds to sleep per open cell, ``LFVSCAN_TEST_SPIN``: seconds of CPU
  work (busy loop) per open cell (``benchmarks/scan.py --engine-only/--simulate``; no test relies
  on them).
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from lfvscan.xsec.result import CellResult, x_f_edges
from lfvscan.physics.constants import M_MU, M_TAU


_CALLS = itertools.count(1)  #: cells computed by this process (LFVSCAN_TEST_PAUSE_AT)

def _fill_the_disk_after(n: int) -> None:
    """LFVSCAN_TEST_DISK_FULL_AFTER (module docstring)."""
    import errno

    from lfvscan.store import attempt_log, journal, run_info

    appends = itertools.count(1)

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    def wrap(write, counts: bool):
        def write_or_fail(fd, data):
            if (next(appends) if counts else 0) > n or _DISK_FULL:
                _DISK_FULL.append(True)
                full(f"fd {fd}")
            return write(fd, data)
        return write_or_fail

    journal.write_all = wrap(journal.write_all, True)
    attempt_log.write_all = wrap(attempt_log.write_all, False)
    real_atomic = run_info.write_atomic  # a new file cannot be written; bytes a file holds can be overwritten
    run_info.write_atomic = lambda path, text: full(str(path)) if _DISK_FULL else real_atomic(path, text)


_DISK_FULL: list = []
if os.environ.get("LFVSCAN_TEST_DISK_FULL_AFTER") and os.environ.get("PMI_RANK", "0") == "0":
    _fill_the_disk_after(int(os.environ["LFVSCAN_TEST_DISK_FULL_AFTER"]))

if os.environ.get("LFVSCAN_TEST_STOP_SELF_RANK") not in (None, "") and \
        os.environ.get("LFVSCAN_TEST_STOP_SELF_RANK") == os.environ.get("PMI_RANK"):
    os.kill(os.getpid(), signal.SIGSTOP)


def _pause(pause_dir: Path, until_signal: bool, timeout_s: float) -> None:
    """Announce the pause with a marker file, then wait (see the module docstring)."""
    handled = threading.Event()
    old = {}
    if until_signal:  # chain a marker in front of the engine's handlers (cells run in the main thread)
        def chained(signum, frame):
            handled.set()
            if callable(old[signum]):
                old[signum](signum, frame)

        for s in (signal.SIGTERM, signal.SIGINT):
            old[s] = signal.getsignal(s)
            signal.signal(s, chained)
    (pause_dir / f"paused.{os.getpid()}").touch()
    deadline = time.monotonic() + timeout_s
    while not handled.is_set() and not (pause_dir / "release").exists():
        if time.monotonic() > deadline:
            print(f"_scan_cells: paused {timeout_s} s and nobody came; exiting", file=sys.stderr, flush=True)
            os._exit(3)
        time.sleep(0.001)  # polling interval only; the condition decides
    for s, h in old.items():
        signal.signal(s, h)


def _is_cell(var: str, name: str, energy_GeV: float, mass_GeV: float) -> bool:
    spec = os.environ.get(var)
    if not spec:
        return False
    t, e, m = spec.split(",")
    return t == name and math.isclose(float(e), energy_GeV, rel_tol=1e-12) and math.isclose(float(m), mass_GeV,
                                                                                            rel_tol=1e-12)


def _die(how: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    if how == "systemexit":
        raise SystemExit(7)
    if how == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    os._exit(7)


def cheap_cell(target, energy_GeV, mass_GeV, *, rel_err=0.005, theta=math.pi / 4, convention="eq3", seed=0,
               n_xbins=60):
    """Deterministic in (target, E, m, seed, n_xbins); random parts come from ``seed`` only."""
    edges = x_f_edges(energy_GeV, n_xbins, M_TAU)
    reach = math.sqrt(2 * energy_GeV + M_MU**2) - M_TAU
    name = target if isinstance(target, str) else target.name
    rank_ok = os.environ.get("LFVSCAN_TEST_PAUSE_RANK", os.environ.get("PMI_RANK")) == os.environ.get("PMI_RANK")
    paused_here = next(_CALLS) == int(os.environ.get("LFVSCAN_TEST_PAUSE_AT", "0")) and rank_ok
    if paused_here or _is_cell("LFVSCAN_TEST_BLOCK_AT", name, energy_GeV, mass_GeV):
        _pause(Path(os.environ["LFVSCAN_TEST_PAUSE_DIR"]), os.environ.get("LFVSCAN_TEST_PAUSE_UNTIL") == "signal",
               float(os.environ.get("LFVSCAN_TEST_PAUSE_TIMEOUT", "120")))
    if _is_cell("LFVSCAN_TEST_STUCK_AT", name, energy_GeV, mass_GeV):
        sum(range(10**18))  # one C call holding the GIL for years
    if _is_cell("LFVSCAN_TEST_DIE_AT", name, energy_GeV, mass_GeV):
        _die(os.environ.get("LFVSCAN_TEST_DIE_HOW", "exit"))
    if mass_GeV >= reach:
        z = np.zeros(n_xbins)
        return CellResult(name, energy_GeV, mass_GeV, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0, 0.0, True,
                          edges, z, z.copy(), theta, convention)
    time.sleep(float(os.environ.get("LFVSCAN_TEST_SLEEP", "0")))
    spin = float(os.environ.get("LFVSCAN_TEST_SPIN", "0"))
    if spin > 0:
        t_end = time.process_time() + spin
        while time.process_time() < t_end:
            pass
    rng = np.random.default_rng(seed)
    z2 = {"Pb": 82.0, "W": 74.0}.get(name, 1.0) ** 2
    sigma = z2 * (1 - mass_GeV / reach) ** 2 / mass_GeV**2 * (1 + rel_err * rng.standard_normal())
    dist = sigma * rng.dirichlet(np.ones(n_xbins)) / np.diff(np.log(edges))
    return CellResult(
        name, energy_GeV, mass_GeV, sigma, rel_err * sigma, 0.9 * sigma, 0.9 * rel_err * sigma,
        0.1 * sigma, 0.1 * rel_err * sigma, float(rng.uniform(0.5, 1.5)), float(rng.uniform()),
        int(rng.integers(1000, 100000)), 1e-3, False, edges, dist, rel_err * dist, theta, convention,
    )


@functools.lru_cache(maxsize=None)
def _zero_arrays(energy_GeV: float, n_xbins: int) -> tuple[np.ndarray, np.ndarray]:
    return x_f_edges(energy_GeV, n_xbins, M_TAU), np.zeros(n_xbins)


def zero_cell(target, energy_GeV, mass_GeV, *, rel_err=0.005, theta=math.pi / 4, convention="eq3", seed=0,
              n_xbins=60):
    """A cell that costs (almost) nothing: sigma = 0, cached arrays (``benchmarks/scan.py --dispatch``)."""
    edges, z = _zero_arrays(float(energy_GeV), int(n_xbins))
    name = target if isinstance(target, str) else target.name
    return CellResult(name, energy_GeV, mass_GeV, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0, 0.0, True,
                      edges, z, z, theta, convention)
