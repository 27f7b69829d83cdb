"""The store interface: :class:`ScanBackend` (one protocol, two stores).

As emcee's backends: the scan engine (:mod:`lfvscan.scan`) and the readers (:func:`lfvscan.store.load_scan`,
:func:`lfvscan.store.store_status`) reach a scan only through this protocol, never through a
concrete store, so scheduling and crash attribution can be tested without disk, and every backend
passes the same conformance suite (tests/test_backends.py).

* :class:`lfvscan.store.zarr_store.ScanStore`: the zarr v3 store on disk (journal + fold),
  opened for a scan with :func:`lfvscan.store.open_for_scan`;
* :class:`lfvscan.store.memory.MemoryStore`: everything in memory (tests, no disk, no zarr).

A backend only records and reads back; it holds no policy.  Contract (the engine's side in
:mod:`lfvscan.scan.coordinator` and :mod:`lfvscan.scan.attribution`):

* only rank 0 writes; ``write_cells`` is called by one thread at a time (the serial loop, or
  rank 0's writer thread), ``write_run_info`` also from rank 0's MPI service thread;
* cells the config does not request are SKIPPED and never written;
* a record with ``result`` None marks its cell FAILED (``error`` says why), otherwise DONE; the
  record's ``attempts`` replaces the cell's attempt count; a later record of a cell replaces an
  earlier one;
* attempt records: ``start_cells`` records attempts before they start (a batch handed to a
  worker: in the order it computes them), ``return_cells`` those given back uncomputed; a
  written record finishes its cell's attempt.  The attempt records of runs that ended are read
  back with ``ended_attempt_logs`` (before a run starts any cell) and discarded with
  ``discard_attempt_logs``; ``keep_suspects``/``read_suspects`` keep the suspects the engine
  found (:mod:`lfvscan.scan.attribution`);
* ``run_scan`` closes a backend it opened from a path; a backend object passed in stays the
  caller's (a :class:`MemoryStore` can be resumed by a second ``run_scan``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from lfvscan.spec.config import ScanConfig
    from lfvscan.store.attempt_log import Attempt, AttemptRecord, Suspect
    from lfvscan.store.records import CellRecord, RecordBatch


@runtime_checkable
class ScanBackend(Protocol):
    """What the scan engine and the readers need from a store."""

    #: the configuration the store was made for (its shape and requested cells; cells are
    #: addressed by its target order)
    config: ScanConfig

    # ------------------------------------------------------------------ reading
    def cell_state(self) -> tuple[np.ndarray, np.ndarray]:
        """(status, attempts) over (target, energy, mass): status codes of
        :mod:`lfvscan.schema` (int8), attempts so far (int32); every written record applied."""
        ...

    def read_cells(self, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """The per-cell arrays (:data:`lfvscan.schema.CELL_FIELDS`) ``names`` (None: every one the
        store has) with every written record applied; cells never written hold the fill value."""
        ...

    def read_coordinates(self) -> dict[str, np.ndarray]:
        """The coordinate arrays (:data:`lfvscan.schema.COORDINATES`): target, energy_GeV,
        mass_GeV, x_f_edges."""
        ...

    def read_attrs(self) -> dict:
        """The store's attributes (format, config, config_hash, ...; :mod:`lfvscan.store.layout`)
        with ``units``: {array name: unit}."""
        ...

    def verify(self, refresh: bool = False) -> dict[tuple[int, int], list[str]]:
        """Damaged (target, energy) rows: {(i, j): names of the arrays whose row is damaged}; their
        cells read as not computed."""
        ...

    def read_run_info(self) -> dict:
        """The last run information written ({} if none)."""
        ...

    def dropped_journal_frames(self) -> int:
        """Records of the journal that could not be read back (torn or corrupt frames) at the last
        ``read_cells``: their cells read as not computed until a resume computes them again."""
        ...

    # ------------------------------------------------------------------ writing
    def write_cells(self, records: RecordBatch | list[CellRecord]) -> None:
        """Record finished cells (results or failures; a :class:`~lfvscan.store.records.RecordBatch`
        or a list of records), durably as far as the store can."""
        ...

    def write_run_info(self, info: dict) -> None:
        """Replace the run information (state, heartbeat, ranks, ...; JSON-able) that ``lfvscan
        status`` shows."""
        ...

    def close(self) -> None:
        """Make every written cell durable and release the store."""
        ...

    # ------------------------------------------------------------------ attempt records
    def start_cells(self, attempts: list[Attempt], rank: int, max_attempts: int, reports_each: bool,
                    exclusive: bool) -> None:
        """Record that these (cell index, attempt) start now on ``rank``, in that order, with how
        their results are reported (:mod:`lfvscan.scan.attribution`)."""
        ...

    def return_cells(self, attempts: list[Attempt]) -> None:
        """Record attempts handed out but given back uncomputed."""
        ...

    def ended_attempt_logs(self) -> dict[str, list[AttemptRecord]]:
        """{log name: its records (:class:`lfvscan.store.attempt_log.AttemptRecord`, in order)} of
        the runs that ended; called before a run starts any cell."""
        ...

    def discard_attempt_logs(self, names: list[str]) -> None:
        """Forget the ended attempt logs ``names``."""
        ...

    def read_suspects(self) -> list[Suspect]:
        """The suspects kept ([] if none)."""
        ...

    def keep_suspects(self, suspects: list[Suspect]) -> None:
        """Replace the suspects kept."""
        ...
