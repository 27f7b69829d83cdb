"""The store interface of the scan engine: :class:`ScanBackend` (one protocol, two stores).

As emcee's backends: the scan engine (:mod:`lfvscan.scan`) reads and writes a scan only through
this protocol, never through a concrete store, so scheduling can be tested without disk.

* :class:`lfvscan.store.zarr_store.ScanStore`: the zarr v3 store on disk (journal + fold; see
  :mod:`lfvscan.store.zarr_store`), opened for a scan with :func:`lfvscan.store.open_for_scan`;
* :class:`lfvscan.store.memory.MemoryStore`: everything in memory (tests, no disk, no zarr).

Contract (the engine's side in :mod:`lfvscan.scan.coordinator`):

* only rank 0 uses the backend; ``write_cells`` is called by one thread at a time (the serial
  loop, or rank 0's writer thread), ``write_run_info`` also from rank 0's MPI service thread;
* ``cell_state`` is read once per run, before the first write; cells the config does not request
  are SKIPPED and never written;
* ``start_cells`` records attempts before they start (a batch handed to a worker: in the order
  it computes them), ``return_cells`` those given back uncomputed; an attempt started by a run
  that ended without its record (the process died) becomes a FAILED "process died" record when
  the store is next opened (zarr) or its ``cell_state`` next read (memory), so it counts
  against ``max_attempts``; ``died`` lists those records; attempts whose death is not certainly
  theirs become ``suspects`` instead until an attempt of each has finished
  (:func:`lfvscan.store.journal.died_attempts`);
* a record with ``result`` None marks its cell FAILED (``error`` says why), otherwise DONE; the
  record's ``attempts`` replaces the cell's attempt count; a later record of a cell replaces an
  earlier one;
* ``run_scan`` closes a backend it opened from a path; a backend object passed in stays the
  caller's (a :class:`MemoryStore` can be resumed by a second ``run_scan``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from lfvscan.spec.config import ScanConfig
    from lfvscan.store.journal import Attempt, Suspect
    from lfvscan.store.records import CellRecord, RecordBatch


@runtime_checkable
class ScanBackend(Protocol):
    """What the scan engine needs from a store."""

    #: the configuration the store was made for (its shape and requested cells)
    config: ScanConfig
    #: FAILED "process died" records of attempts a killed run left unfinished, found when the store
    #: was opened (reported by the engine at start)
    died: list[CellRecord]
    #: (cell, attempt, exclusive?) a dead run may have died of (:func:`lfvscan.store.journal.died_attempts`):
    #: the engine computes each alone, exclusive ones with nothing else running
    suspects: list[Suspect]

    def cell_state(self) -> tuple[np.ndarray, np.ndarray]:
        """(status, attempts) over (target, energy, mass): status codes of
        :mod:`lfvscan.store.scandata` (int8), attempts so far (int32)."""
        ...

    def start_cells(self, attempts: list[Attempt], rank: int, max_attempts: int, per_cell: bool = True,
                    exclusive: bool = False) -> None:
        """Record that these (cell index, attempt) start now on ``rank``, in that order; ``per_cell``:
        the rank reports each result right after its cell (else coalesced); ``exclusive``: nothing
        else runs meanwhile."""
        ...

    def return_cells(self, attempts: list[Attempt]) -> None:
        """Record attempts handed out but given back uncomputed."""
        ...

    def write_cells(self, records: RecordBatch | list[CellRecord]) -> None:
        """Record finished cells (results or failures; a :class:`~lfvscan.store.records.RecordBatch`
        or a list of records), durably as far as the store can."""
        ...

    def write_run_info(self, info: dict) -> None:
        """Replace the run information (state, heartbeat, ranks, ...; JSON-able) that ``lfvscan
        status`` shows."""
        ...

    def read_run_info(self) -> dict:
        """The last run information written ({} if none)."""
        ...

    def close(self) -> None:
        """Make every written cell durable and release the store."""
        ...
