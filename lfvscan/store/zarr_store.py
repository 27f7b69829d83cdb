"""The scan store backend: :class:`ScanStore` (open, create, write finished cells, fold) and
:func:`open_for_scan`.  The layout on disk is described in :mod:`lfvscan.store.layout`.

Writing, atomicity and durability (only rank 0 writes; :meth:`ScanStore.write_cells`):

1. *Journal.*  Finished cells (results or failures) are first appended to the store's journal log
   as checksummed binary frames of rows (:mod:`lfvscan.store.journal`), so a ``kill -9`` loses at
   most the cells still being computed (and a worker's results not yet sent).  Values are read
   back bit-identically.
2. *Fold.*  Every ``sync_interval_s`` (default :data:`SYNC_INTERVAL_S` = 30 s), and when the store
   is closed, the journal is folded into the zarr arrays: each per-cell array has one chunk per
   (target, energy) row holding all masses, so a fold writes one file per array and touched row
   (data first, ``status`` -- the commit marker -- last), and then discards the folded logs.  Each
   chunk file is written atomically (:mod:`lfvscan.store.chunks`), so a reader sees the old or the
   new chunk, never half of one; a cell counts as present only once its ``status`` chunk says
   DONE/FAILED.  A kill during a fold leaves the journal in place; the next fold rewrites the
   same values.
3. *Resume.*  Opening a store for a scan first folds any journal left by a killed run, then
   turns the attempts that run started and never finished into FAILED "process died" records
   (:meth:`ScanStore.settle_attempts`; attempt logs: :class:`lfvscan.store.journal.StartLog`).

File creations are what costs on cluster file systems (milliseconds each on Lustre/GPFS): per
cell the journal creates none (one log per fold interval), and a fold creates ~20 files per
touched row.  A store holds ~20 files per (target, energy) row.  Readers of a running scan see
the arrays as of the last fold (``lfvscan status`` also counts the journal).

Run information for ``lfvscan status`` (start time, ranks, heartbeat, state) lives in the
side file ``lfvscan_run.json`` in the store directory, replaced atomically by rank 0.  A scan
holds the store's writer lock (:mod:`lfvscan.store.lock`) while it writes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
import warnings
from pathlib import Path

import numpy as np

from lfvscan.errors import UsageError
from lfvscan.spec.config import ScanConfig, check_same_physics, config_from_dict
from lfvscan.schema import BOOK_FIELDS, CELL_FIELDS, DONE, FAILED, FIELDS, PENDING, RESULT_FIELDS, SKIPPED
from lfvscan.store import layout
from lfvscan.store.chunks import RowCache, chunk_path, clean_partials, write_chunk
from lfvscan.store.journal import (SUSPECTS_FILE, Attempt, Journal, StartLog, Suspect, died_attempts, live_suspects,
                                   read_started, read_suspects, settled_deaths, started_logs)
from lfvscan.store.records import CellRecord, RecordBatch, as_batch
from lfvscan.store.lock import try_lock, unlock
from lfvscan.util.fileio import write_atomic

RUN_FILE = "lfvscan_run.json"
#: default seconds between folds of the journal into the arrays (module docstring, "Writing")
SYNC_INTERVAL_S = 30.0
#: fold as soon as the cells journaled since the last fold hold this many bytes of columns, whatever
#: the interval (bounds rank 0's memory at high cell rates; docs/scaling.md)
SYNC_MAX_BYTES = 256 * 2**20
#: bookkeeping arrays holding the CellRecord attribute of the same name
_RECORD_FIELDS = tuple(f for f in BOOK_FIELDS if f.name not in ("error", "status"))
#: arrays a fold writes as raw row chunks before the status rows, in store order
_DATA_FIELDS = tuple(f for f in CELL_FIELDS if f.dtype != "str" and f.name != "status")
_CELL_NAMES = frozenset(f.name for f in CELL_FIELDS)


def store_grid(group, config: ScanConfig, path: Path) -> ScanConfig:
    """``config`` with its target axis in the order of the store's ``target`` coordinate array,
    after checking that the store's coordinate arrays hold exactly ``config``'s grid.

    Cells are always addressed by the store's own axes (issue 11): a store written before the
    canonical target order (:func:`lfvscan.spec.config.canonical_target_order`) keeps its order,
    and its cells stay where its coordinates say.  Raises :class:`UsageError` if the coordinate
    arrays are unreadable or disagree with the store's config attributes (a damaged store).
    """
    try:
        targets = [str(t) for t in np.asarray(group["target"][...]).ravel()]
        energies = np.asarray(group["energy_GeV"][...], dtype=float)
        masses = np.asarray(group["mass_GeV"][...], dtype=float)
    except Exception as exc:  # noqa: BLE001 - a damaged coordinate chunk
        raise UsageError(f"store {str(path)!r}: cannot read its coordinate arrays ({exc}); the store is damaged") from None
    ordered = config.with_target_order(targets) if sorted(targets) == sorted(config.target_names) else None
    if (ordered is None or energies.tolist() != list(config.energies_GeV)
            or masses.tolist() != list(config.masses_GeV)):
        raise UsageError(f"store {str(path)!r}: its coordinate arrays (target, energy_GeV, mass_GeV) disagree "
                         f"with its config attributes; the store is damaged")
    return ordered


class ScanStore:
    """A scan store on disk.  Only rank 0 creates or writes one; anybody may read."""

    def __init__(self, path: str | Path, group, writable: bool, sync_interval_s: float = SYNC_INTERVAL_S):
        self.path = Path(path)
        self.group = group
        self.writable = writable
        #: seconds between folds of the journal into the zarr arrays (see module docstring)
        self.sync_interval_s = sync_interval_s
        self.attrs = dict(group.attrs)
        self.config = store_grid(group, config_from_dict(self.attrs["config"], source=str(self.path)), self.path)
        self.shape = self.config.shape
        self.n_xbins = self.config.n_xbins
        self.journal = Journal(self.path, self.n_xbins)
        self.attempt_log = StartLog(self.journal.dir)  #: attempts started by this run
        #: FAILED records of attempts whose process died, found when the store was opened
        self.died: list[CellRecord] = []
        #: attempts of a dead run that may have killed it (journal.died_attempts); computed alone
        self.suspects: list[Suspect] = read_suspects(self.journal.dir) if writable else []
        self._pending: list[RecordBatch] = []  # journaled, not yet folded
        self._dirty: set[tuple[int, int]] = set()  # rows changed in the cache, not yet folded
        self._errors: dict[tuple[int, int], dict[int, str]] = {}  # messages to fold, per row
        self._pending_bytes = 0
        self._journal_logs: list[Path] = []  # logs replayed at open, discarded by the next fold
        self._last_sync = time.monotonic()
        self._rows = RowCache(self.path, group)  # rows of the single writer
        self._lock_fd: int | None = None
        self._requested = self.config.requested()
        self._damaged: dict[tuple[int, int], list[str]] | None = None  # see verify()
        #: rows decoded by verify() in a read-only store, handed to read() once (each chunk is then
        #: decoded and checksummed once per load, not twice); a writer keeps none (its rows change)
        self._verified_rows: dict[tuple[str, int, int], np.ndarray] = {}

    # ------------------------------------------------------------------ creation / opening
    @classmethod
    def create(cls, path: str | Path, config: ScanConfig, config_text: str = "") -> "ScanStore":
        """Create a new store for ``config`` (refuses an existing path)."""
        path = Path(path)
        if path.exists():
            raise UsageError(f"store {str(path)!r} already exists")
        tmp = path.with_name(f"{path.name}.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}.creating")
        try:
            layout.create(tmp, config, config_text)
            try:
                os.replace(tmp, path)  # the store appears complete or not at all
            except OSError:
                if (path / "zarr.json").exists():  # another scan created it first: it owns the store
                    raise UsageError(
                        f"store {str(path)!r} was created by another scan at the same moment and is being written by "
                        f"it; see `lfvscan status {path}`, or use another --store") from None
                raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)  # disk full, a lost race, a signal: leave nothing behind
            raise
        return cls.open(path, writable=True)

    @classmethod
    def open(cls, path: str | Path, writable: bool = False) -> "ScanStore":
        """Open an existing store (raises :class:`UsageError` if it is not one)."""
        return cls(path, layout.open_group(path, writable), writable)

    def lock(self) -> None:
        """Take the store's writer lock (freed when the process dies).

        Raises :class:`UsageError` if another scan is writing this store.
        """
        fd = try_lock(self.path)
        if fd is None:
            run = self.read_run_info()
            who = f" (pid {run.get('pid')} on {run.get('host')})" if run.get("pid") else ""
            raise UsageError(
                f"store {str(self.path)!r} is being written by another scan{who}; wait for it to finish "
                f"or stop it (SIGTERM), or use another --store"
            )
        self._lock_fd = fd

    def close(self) -> None:
        """Fold the journal into the arrays (if writable) and release the writer lock (if held).

        If the fold fails the journal stays on disk and the next scan folds it (nothing is lost).
        """
        if self.writable and (self._pending or self._dirty):
            try:
                self.sync()
            except Exception as exc:  # noqa: BLE001 - the journal keeps the results
                warnings.warn(f"could not fold the journal of {str(self.path)!r} ({exc}); the next scan will")
        if self.writable and self.suspects:  # those with a finished attempt are suspects no more
            try:
                self._keep_suspects(live_suspects(self.suspects, self.read("attempts"), self.read("status")))
            except Exception as exc:  # noqa: BLE001 - the next opening filters them again
                warnings.warn(f"could not update the suspects of {str(self.path)!r} ({exc}); the next scan will")
        self.journal.close()
        self.attempt_log.close()
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            unlock(fd)

    def clean_partials(self) -> int:
        """Remove ``*.partial`` leftovers of writes interrupted by a kill; returns how many."""
        return clean_partials(self.path)

    # ------------------------------------------------------------------ reading
    def read(self, name: str) -> np.ndarray:
        """The whole array ``name`` as of the last fold.

        Per-cell arrays are read row chunk by row chunk and never raise on damage: the rows found
        damaged by :meth:`verify` read as the fill value, with ``status`` PENDING (SKIPPED where
        the config does not request the row), so a damaged row counts as not done."""
        if name not in _CELL_NAMES:
            return np.asarray(self.group[name][...])
        damaged = self.verify()
        rows = {}
        for i in range(self.shape[0]):
            for j in range(self.shape[1]):
                if (i, j) in damaged:
                    rows[i, j] = self._fill_row(name, i, j)
                else:
                    rows[i, j] = self._verified_rows.pop((name, i, j), None)
                    if rows[i, j] is None:
                        rows[i, j] = self._read_row(name, i, j)
        first = rows[0, 0]
        out = np.empty(self.shape[:2] + first.shape, dtype=first.dtype)
        for (i, j), row in rows.items():
            out[i, j] = row
        return out

    def _read_row(self, name: str, i: int, j: int) -> np.ndarray:
        """Row (i, j) of per-cell array ``name`` from its chunk (raises on damage)."""
        if self._rows.spec(name).raw:
            return self._rows.read(name, i, j)
        return np.array(self.group[name][i, j], dtype=object if FIELDS[name].dtype == "str" else None)

    def _fill_row(self, name: str, i: int, j: int) -> np.ndarray:
        """What row (i, j) of ``name`` holds once repaired: the fill value (status PENDING, or
        SKIPPED where not requested)."""
        spec = self._rows.spec(name)
        f = FIELDS[name]
        value = (PENDING if self._requested[i, j] else SKIPPED) if name == "status" else f.fill
        dtype = object if f.dtype == "str" else spec.dtype.newbyteorder("=")
        return np.full(spec.row_shape, value, dtype=dtype)

    def verify(self, refresh: bool = False) -> dict[tuple[int, int], list[str]]:
        """Damaged rows: {(i, j): names of the per-cell arrays whose chunk of that row is damaged}.

        A chunk is damaged if it cannot be decoded (wrong length; CRC-32C mismatch in stores of
        format ``lfvscan-scan/2``), or, for ``status``, if it holds a code other than PENDING,
        DONE, FAILED in a requested row, or anything but SKIPPED in a row the config does not
        request.  Computed once per open store (``refresh`` recomputes)."""
        if self._damaged is not None and not refresh:
            return self._damaged
        damaged: dict[tuple[int, int], list[str]] = {}
        for f in CELL_FIELDS:
            for i in range(self.shape[0]):
                for j in range(self.shape[1]):
                    try:
                        row = self._read_row(f.name, i, j)
                    except Exception:  # noqa: BLE001 - ChunkDamaged, or zarr's checksum/decoding errors
                        damaged.setdefault((i, j), []).append(f.name)
                        continue
                    if f.name == "status" and not _valid_status_row(row, bool(self._requested[i, j])):
                        damaged.setdefault((i, j), []).append(f.name)
                    elif not self.writable:
                        self._verified_rows[f.name, i, j] = row
        self._damaged = damaged
        return damaged

    def repair(self) -> int:
        """Reset every damaged row (:meth:`verify`) to "not computed" so the scan recomputes its
        cells (bit-identically: seeds are per cell).  Returns the number of rows reset; warns."""
        damaged = self.verify(refresh=True)
        if not damaged:
            return 0
        if not self.writable:
            raise RuntimeError("store opened read-only")
        for (i, j) in sorted(damaged):
            for f in CELL_FIELDS:
                spec = self._rows.spec(f.name)
                chunk_path(self.path, f.name, (i, j) + (0,) * len(spec.row_shape)).unlink(missing_ok=True)
            if not self._requested[i, j]:
                write_chunk(self.path, "status", (i, j, 0), self._fill_row("status", i, j), set(),
                            self._rows.spec("status").checksum)
        self._rows.forget()
        names = sorted({n for v in damaged.values() for n in v})
        warnings.warn(f"{str(self.path)!r}: {len(damaged)} damaged row(s) (chunks of {', '.join(names)}) reset; "
                      f"their cells are computed again")
        self._damaged = {}
        return len(damaged)

    def read_cells(self) -> dict[str, np.ndarray]:
        """Every per-cell array as of now: the folded arrays (damaged rows as not computed) with
        the cells journaled but not folded yet put in, so readers agree with ``lfvscan status``."""
        arrays = {f.name: self.read(f.name) for f in CELL_FIELDS}
        b, _, _ = self.journal.read_all()
        if b is None:
            return arrays
        cells = tuple(b.index.T)
        ok = tuple(b.index[b.done].T)
        for f in RESULT_FIELDS:
            arrays[f.name][ok] = b.rows[f.name][b.done]
        for f in _RECORD_FIELDS:
            arrays[f.name][cells] = getattr(b, f.name)
        arrays["status"][cells] = np.where(b.done, DONE, FAILED)
        for r in range(len(b)):
            arrays["error"][tuple(b.index[r])] = b.error(r)
        return arrays

    def cell_state(self) -> tuple[np.ndarray, np.ndarray]:
        """(status, attempts) arrays over (target, energy, mass)."""
        return self.read("status"), self.read("attempts")

    def journal_status(self) -> dict[tuple[int, int, int], int]:
        """Status (DONE/FAILED) of journaled cells not yet folded (read-only view of a running scan)."""
        b, _, _ = self.journal.read_all()
        if b is None:
            return {}
        return dict(zip(map(tuple, b.index.tolist()), np.where(b.done, DONE, FAILED).tolist()))

    # ------------------------------------------------------------------ writing
    def write_cells(self, records: RecordBatch | list[CellRecord]) -> None:
        """Record finished cells (a :class:`RecordBatch` or a list of records): appended to the
        journal now, folded into the arrays every ``sync_interval_s`` seconds, when
        :data:`SYNC_MAX_BYTES` have accumulated, and on :meth:`close` (module docstring, "Writing")."""
        if not self.writable:
            raise RuntimeError("store opened read-only")
        batch = as_batch(records, self.n_xbins)
        if not len(batch):
            return
        self.journal.append(batch)  # shapes were checked per cell on arrival (lfvscan.scan.cells)
        self._pending.append(batch)  # folded in one vectorised pass by sync()
        self._pending_bytes += batch.nbytes
        self.attempt_log.finished(batch.index)
        if time.monotonic() - self._last_sync >= self.sync_interval_s or self._pending_bytes >= SYNC_MAX_BYTES:
            self.sync()

    def _apply(self, b: RecordBatch) -> None:
        """Put the rows of ``b`` into the cached row chunks (result columns only where DONE), one
        numpy assignment per (row chunk, field); folded to disk by :meth:`sync`."""
        b = b.latest()
        rows = b.index[:, 0].astype(np.int64) * self.shape[1] + b.index[:, 1]
        order = np.argsort(rows, kind="stable")
        starts = np.flatnonzero(np.diff(rows[order], prepend=-1))
        for sel in np.split(order, starts[1:]):
            i, j = (int(v) for v in b.index[sel[0], :2])
            ks = b.index[sel, 2]
            done = b.done[sel]
            if done.any():
                good, kd = sel[done], ks[done]
                for f in RESULT_FIELDS:
                    self._rows.row(f.name, i, j)[kd] = b.rows[f.name][good]
            for f in _RECORD_FIELDS:
                self._rows.row(f.name, i, j)[ks] = getattr(b, f.name)[sel]
            self._rows.row("status", i, j)[ks] = np.where(done, DONE, FAILED)
            msgs = self._errors.setdefault((i, j), {})
            for r, k in zip(sel.tolist(), ks.tolist()):
                msgs[k] = b.error(r)
            self._dirty.add((i, j))

    def replay_journal(self) -> int:
        """Fold the journal left by an interrupted run into the arrays; returns how many cells."""
        latest, logs, bad = self.journal.read_all()
        if bad:
            warnings.warn(f"{str(self.path)!r}: {bad} torn or corrupt journal frame(s) skipped (cells cut off by a "
                          "kill; they are computed again)")
        self._journal_logs = logs
        if latest is None:
            self.journal.discard(logs)
            return 0
        self._pending.append(latest)
        self.sync()
        return len(latest)

    def start_cells(self, attempts: list[Attempt], rank: int, max_attempts: int, per_cell: bool = True,
                    exclusive: bool = False) -> None:
        """Record attempts about to start on ``rank`` (before they start; journal "Attempts")."""
        if not self.writable:
            raise RuntimeError("store opened read-only")
        self.attempt_log.started(attempts, rank, max_attempts, per_cell, exclusive)

    def return_cells(self, attempts: list[Attempt]) -> None:
        """Record attempts handed out but given back uncomputed (a drain)."""
        self.attempt_log.returned(attempts)

    def settle_attempts(self) -> list[CellRecord]:
        """Attempts left started by runs whose process died become FAILED "process died" records
        (written like any failure, so they count against ``max_attempts``); their logs are then
        deleted.  Call after :meth:`replay_journal`.  Returns the records (also in :attr:`died`)."""
        logs = started_logs(self.journal.dir)
        attempts, status = self.read("attempts"), self.read("status")
        died: list[CellRecord] = []
        suspects = list(self.suspects)
        settled = settled_deaths(status, attempts, self.read("error")) if logs else frozenset()
        for log in logs:
            records, new = died_attempts(read_started(log), attempts, settled)
            for rec in records:
                attempts[rec.index] = rec.attempts
                status[rec.index] = FAILED
                died.append(rec)
            suspects.extend(new)
        self._keep_suspects(live_suspects(suspects, attempts, status))  # before the records: a kill
        if died:                                                         # in between loses nothing
            self.write_cells(died)
            self.sync()
        for log in logs:  # the records are folded: a kill before this line settles them again, idempotently
            log.unlink(missing_ok=True)
        self.died = died
        return died

    def _keep_suspects(self, suspects: list[Suspect]) -> None:
        """Keep the suspects (``journal/suspects.json``, replaced atomically) until an attempt of
        each has finished; no file when there are none."""
        self.suspects = sorted(set(suspects))
        path = self.journal.dir / SUSPECTS_FILE
        if self.suspects:
            self.journal.dir.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps({"suspects": [[*c, a, e] for c, a, e in self.suspects]}))
        else:
            path.unlink(missing_ok=True)

    def sync(self) -> None:
        """Fold the journaled cells into the arrays: data rows first, then the status rows (the
        commit marker), then delete their journal files."""
        self._last_sync = time.monotonic()
        if self._pending:
            self._apply(RecordBatch.concat(self._pending))
            self._pending = []
        if not self._dirty:
            return
        rows = sorted(self._dirty)
        for f in _DATA_FIELDS:
            for i, j in rows:
                self._rows.write(f.name, i, j)
        self._fold_errors()
        for i, j in rows:
            self._rows.write("status", i, j)
        self.journal.discard(self._journal_logs + self.journal.open_logs())
        self._journal_logs = []
        self._dirty.clear()
        self._pending_bytes = 0

    def _fold_errors(self) -> None:
        """Error messages ('' after a success): vlen strings through zarr (atomic writes, zarr >=
        3.1.3), each touched row rewritten only if it changes."""
        for (i, j), msgs in sorted(self._errors.items()):
            errs = np.array(self.group["error"][i, j], dtype=object)
            new = errs.copy()
            for k, msg in msgs.items():
                new[k] = msg
            if not np.array_equal(new, errs):
                self.group["error"][i, j] = new
        self._errors.clear()

    # ------------------------------------------------------------------ run info side file
    def write_run_info(self, info: dict) -> None:
        """Replace the run information side file (``lfvscan_run.json``) atomically."""
        write_atomic(self.path / RUN_FILE, json.dumps(info, indent=1))

    def read_run_info(self) -> dict:
        """The run information side file ({} if absent or unreadable)."""
        try:
            return json.loads((self.path / RUN_FILE).read_text())
        except (OSError, ValueError):
            return {}


def _creator_gone(tmp: Path, name: str) -> bool:
    """True if the ``.creating`` directory ``tmp`` (``<name>.<host>.<pid>.<hex>.creating``) was left by
    a process of this host that no longer runs (older names without host and pid: True).  A
    creation still running (here or on another host) is never removed."""
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


def _valid_status_row(row: np.ndarray, requested: bool) -> bool:
    """Status codes a row can hold: PENDING/DONE/FAILED if requested, else only SKIPPED."""
    if requested:
        return bool(np.isin(row, (PENDING, DONE, FAILED)).all())
    return bool((row == SKIPPED).all())


def open_for_scan(path: str | Path, config: ScanConfig, config_text: str = "") -> tuple[ScanStore, bool]:
    """Open ``path`` to continue ``config``'s scan, or create it.  Returns (store, created).

    Refuses (UsageError) a store made from a config with different physics, naming the keys.
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
    journal = path / "journal"
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
    store.settle_attempts()
    return store, False
