"""Crash attribution: which cell a dead process is charged with, and which cells become suspects.

Every attempt is recorded in the store before it starts (:meth:`ScanBackend.start_cells`, in the
order the rank computes its cells) and finished by its record (result or failure); attempts
handed out but given back uncomputed are recorded as returned.  A run that ends normally leaves
every started attempt finished or returned.  A run whose process died (segfault, ``SystemExit``,
out-of-memory kill, ``kill -9`` of the job) leaves unfinished attempts behind; before the next run
is planned, :func:`settle` turns them into FAILED "process died" records (they count against
``max_attempts`` like any failure) or *suspects*, for every backend alike.

How a batch of attempts was reported decides what a death proves:

* ``reports_each``: the rank reports each result right after its cell, so its first attempt
  without a record was the one running when the process died (unless its result was still on
  its way); otherwise results were coalesced (a worker's fast cells, rank 0's own cells under
  MPI, written by its writer thread while it computes the next), and which cell of the batch was
  running is unknown;
* ``exclusive``: nothing else ran meanwhile and every earlier result was written before it
  started (rank 0 computing suspects at the end of a run), so a death is certainly this cell's.

Where it is unsure which cell killed the job, innocent cells may lose attempts to the guess, but
never their last one: a death fails a cell for good only when it is certain (:func:`died_attempts`).
An outside ``kill -9`` of a run counts against the cell it interrupted, like a death of that cell
(for good only in the exclusive phase).  A serial run and rank 0 compute in a child process
(:mod:`lfvscan.scan.cell_process`), whose death they charge to its cell at once.

Suspects are computed in isolation (:class:`lfvscan.scan.plan.Isolation`): each alone in a batch
of its own reported at once, the exclusive ones by rank 0 at the end of the run with nothing else
running.  The store keeps them (:meth:`ScanBackend.keep_suspects`) until an attempt of each has
finished (:func:`retire_suspects`, at the end of every run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from lfvscan.schema import DONE, FAILED
from lfvscan.store.attempt_log import Attempt, AttemptRecord, Suspect
from lfvscan.store.records import CellRecord

if TYPE_CHECKING:
    from lfvscan.store.backend import ScanBackend

__all__ = ["Attempt", "DIED_PREFIX", "Settlement", "Suspect", "died_attempts", "died_message", "is_death",
           "live_suspects", "retire_suspects", "settle", "settled_deaths"]

#: how every "process died" message begins (:func:`died_message`)
DIED_PREFIX = "process died (attempt "


def died_message(attempt: int, max_attempts: int, rank: int) -> str:
    """The error text of an attempt whose process died."""
    return (f"{DIED_PREFIX}{attempt}/{max_attempts}) on rank {rank}: the process ended while computing "
            "this cell (segfault, SystemExit, out-of-memory kill, or the job was killed)")


def is_death(message: str) -> bool:
    """Whether a cell's error message is a charged process death (:func:`died_message`)."""
    return message.startswith(DIED_PREFIX)


def _unfinished_queues(records: list[AttemptRecord], attempts: np.ndarray, settled: frozenset) -> dict[int, list]:
    """Per rank, its started attempts neither finished nor returned, in the order it computes them:
    {rank: [(cell, (attempt, max_attempts, reports_each, exclusive)), ...]}."""
    queues: dict[int, dict[tuple[int, int, int], tuple[int, int, bool, bool]]] = {}
    for r in records:
        if r.returned:
            for ijk, _ in r.attempts:
                for q in queues.values():
                    q.pop(ijk, None)
            continue
        q = queues.setdefault(r.rank, {})
        for ijk, a in r.attempts:
            q[ijk] = (a, r.max_attempts, r.reports_each, r.exclusive)
    unfinished: dict[int, list] = {}
    for rank, q in sorted(queues.items()):
        try:
            left = [(ijk, v) for ijk, v in q.items() if int(attempts[ijk]) < v[0] or (ijk, v[0]) in settled]
        except IndexError:
            continue
        if left:
            unfinished[rank] = left
    return unfinished


def died_attempts(log: list[AttemptRecord], attempts: np.ndarray,
                  settled: frozenset = frozenset()) -> tuple[list[CellRecord], list[Suspect]]:
    """What a run whose process died leaves, from its attempt log's records: (FAILED "process died"
    records, suspects).

    ``attempts``: the store's attempt counts with every finished record applied; an attempt a of
    cell c finished iff attempts[c] >= a.  ``settled``: (cell, attempt) pairs already charged as
    "process died" (a settling killed before it discarded the log: that rank is not charged twice).
    Each rank computes its cells in the order they were handed out.  Per rank, its first
    unfinished attempt u:

    * u in a ``reports_each`` batch: u was running when the job died, or its result was lost in
      flight.  If u ran ``exclusive``, u certainly killed the job: it is charged (a FAILED record
      that counts against ``max_attempts``).  Otherwise (mpiexec tears the whole job down, so every
      rank has such a u, and which process died first is unknowable; or u's result was in flight)
      u is charged too, unless it was the cell's last allowed attempt: then it is not charged but
      becomes an *exclusive* suspect, so a death fails a cell for good only when it is certain.
      A charged cell's retry is a suspect (exclusive if it is the last).
    * u in a coalesced batch: the rank's results of its last fraction of a second may have died
      with it, so the cell that was running is unknown.  Nobody is charged: every unfinished
      attempt of that rank becomes a suspect with the same attempt number.
    """
    records: list[CellRecord] = []
    suspects: list[Suspect] = []
    for rank, left in _unfinished_queues(log, attempts, settled).items():
        ijk, (a, n, reports_each, exclusive) = left[0]
        if (ijk, a) in settled:
            continue  # charged by a settling that was cut short
        if not reports_each:
            suspects.extend((c, v[0], False) for c, v in left)
        elif exclusive or a < n:
            records.append(CellRecord(ijk, None, died_message(a, n, rank), float("nan"), rank, a))
            if a < n:
                suspects.append((ijk, a + 1, a + 1 == n))
        else:
            suspects.append((ijk, a, True))
    return records, suspects


def settled_deaths(status: np.ndarray, attempts: np.ndarray, error: np.ndarray) -> frozenset:
    """(cell, attempt) of the FAILED cells whose last attempt was charged as a process death."""
    failed = np.argwhere(status == FAILED)
    return frozenset((tuple(int(v) for v in c), int(attempts[tuple(c)])) for c in failed
                     if is_death(str(error[tuple(c)])))


def live_suspects(suspects: list[Suspect], attempts: np.ndarray, status: np.ndarray) -> list[Suspect]:
    """The suspects still waiting for their attempt, sorted: in the grid, not DONE, and no attempt
    finished since they became suspects (attempts[c] == a - 1)."""
    live = []
    for c, a, exclusive in suspects:
        c = tuple(int(v) for v in c)
        if len(c) == 3 and all(0 <= v < n for v, n in zip(c, attempts.shape)) and int(attempts[c]) == int(a) - 1 \
                and int(status[c]) != DONE:
            live.append((c, int(a), bool(exclusive)))
    return sorted(set(live))


@dataclass
class Settlement:
    """What :func:`settle` found: the deaths it charged and the suspects to compute in isolation."""

    died: list[CellRecord] = field(default_factory=list)  #: FAILED "process died" records written
    suspects: list[Suspect] = field(default_factory=list)  #: (cell, attempt, exclusive?)


def settle(backend: ScanBackend) -> Settlement:
    """Charge the attempts that runs whose process died left unfinished, before a run is planned.

    Reads the backend's ended attempt logs and its cell state, writes the FAILED "process died"
    records (:func:`died_attempts`), keeps the live suspects, then discards the logs.  The
    suspects are kept before the records are written and the logs discarded last, so a kill in
    between loses nothing and settles again idempotently (``settled``)."""
    logs = backend.ended_attempt_logs()
    status, attempts = backend.cell_state()
    suspects = list(backend.read_suspects())
    died: list[CellRecord] = []
    if logs:
        settled = settled_deaths(status, attempts, backend.read_cells(("error",))["error"])
        for log in logs.values():
            records, new = died_attempts(log, attempts, settled)
            for rec in records:
                attempts[rec.index] = rec.attempts
                status[rec.index] = FAILED
                died.append(rec)
            suspects.extend(new)
    suspects = live_suspects(suspects, attempts, status)
    backend.keep_suspects(suspects)
    if died:
        backend.write_cells(died)
    backend.discard_attempt_logs(list(logs))
    return Settlement(died, suspects)


def retire_suspects(backend: ScanBackend) -> None:
    """Forget the kept suspects an attempt of which has finished (at the end of a run)."""
    kept = backend.read_suspects()
    if kept:
        status, attempts = backend.cell_state()
        backend.keep_suspects(live_suspects(kept, attempts, status))
