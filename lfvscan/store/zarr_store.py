"""Scan store: a zarr v3 directory (LocalStore) holding one scan (architecture.md, issue 4).

Layout (dimension names in each array's zarr v3 ``dimension_names``; opens with
``xarray.open_zarr(path)`` thanks to consolidated metadata written once at creation):

* coordinates ``target`` (str), ``energy_GeV``, ``mass_GeV``;
* ``x_tau_edges`` (energy_GeV, x_tau_edge): the fixed x_tau grid of :func:`lfvscan.cell.x_tau_edges`;
* every field of :data:`lfvscan.cell.SCALAR_FIELDS` over (target, energy_GeV, mass_GeV) and of
  :data:`lfvscan.cell.DIST_FIELDS` over (target, energy_GeV, mass_GeV, x_tau_bin);
* bookkeeping over (target, energy_GeV, mass_GeV): ``status`` (int8, codes of
  :mod:`lfvscan.scandata`), ``error`` (str, last failure message), ``wall_seconds`` (wall time of
  the cell on its rank), ``rank``, ``attempts``;
* root attributes: ``config`` (resolved config, JSON), ``config_toml`` (the TOML text),
  ``config_hash``, ``lfvscan_version``, ``status_codes``, ``created_unix``; every array has
  ``units`` and ``description`` attributes.

Writing, atomicity and durability (only rank 0 writes; :meth:`ScanStore.write_cells`):

1. *Journal.*  Each finished cell (result or failure) is first appended as one checksummed line
   to the store's journal log (:mod:`lfvscan.journal`), so a ``kill -9`` loses at most the cells
   still being computed.  Values are read back bit-identically.
2. *Fold.*  Every ``sync_interval_s`` (default :data:`SYNC_INTERVAL_S` = 30 s), and when the store
   is closed, the journal is folded into the zarr arrays: each array has one chunk per
   (target, energy) row holding all masses, so a fold writes one file per array and touched row
   (data first, ``status`` -- the commit marker -- last), and then discards the folded logs.  Each
   chunk file is written to a ``*.partial`` file and renamed, so a reader sees the old or the new
   chunk, never half of one; a cell counts as present only once its ``status`` chunk says
   DONE/FAILED.  A kill during a fold leaves the journal in place; the next fold rewrites the
   same values.
3. *Resume.*  Opening a store for a scan first folds any journal left by a killed run.

File creations are what costs on cluster file systems (milliseconds each on Lustre/GPFS): per
cell the journal creates none (one log per fold interval), and a fold creates ~20 files per
touched row.  A store holds ~20 files per (target, energy) row.  Readers of a running scan see
the arrays as of the last fold (``lfvscan status`` also counts the journal).
Numeric chunks are written directly as their ``bytes``-codec encoding (the raw little-endian
array), ~20x cheaper than going through zarr's async machinery; tests check that zarr and xarray
read back exactly what was written.  Array metadata never changes after creation, so the
consolidated metadata stays valid.

Run information for ``lfvscan status`` (start time, ranks, heartbeat, state) lives in the
side file ``lfvscan_run.json`` in the store directory, replaced atomically by rank 0.  A scan
holds an exclusive ``flock`` on ``lfvscan.lock`` while it writes, so two scans never write one
store at the same time (the lock dies with the process, also on ``kill -9``).
"""

from __future__ import annotations

import fcntl
import itertools
import json
import math
import os
import shutil
import socket
import time
import uuid
import warnings
from pathlib import Path

import numpy as np

from lfvscan import __version__
from lfvscan import schema
from lfvscan.xsec.result import x_tau_edges
from lfvscan.scan.config import RUN_KEYS, ScanConfig, config_from_dict, physics_diff
from lfvscan.errors import UsageError
from lfvscan.util.fileio import write_atomic
from lfvscan.store.journal import CellRecord, Journal
from lfvscan.store.scandata import DONE, FAILED, PENDING, SKIPPED, STATUS_NAMES, ScanData

DIMS = ("target", "energy_GeV", "mass_GeV")
DIST_DIMS = DIMS + ("x_tau_bin",)
RUN_FILE = "lfvscan_run.json"
LOCK_FILE = "lfvscan.lock"
#: default seconds between folds of the journal into the arrays (module docstring, "Writing")
SYNC_INTERVAL_S = 30.0
FORMAT = "lfvscan-scan/1"

#: result arrays (from lfvscan.schema): name -> (numpy dtype, unit), per cell and per x_tau bin
SCALAR_FIELDS = {f.name: (f.dtype, f.unit) for f in schema.RESULT_FIELDS if not f.per_bin}
DIST_FIELDS = {f.name: (f.dtype, f.unit) for f in schema.RESULT_FIELDS if f.per_bin}
#: numeric bookkeeping arrays over DIMS: name -> (dtype, fill value, units, description)
BOOK_FIELDS = {f.name: (f.dtype, f.fill, f.unit, f.description) for f in schema.BOOK_FIELDS
               if f.name not in ("error", "status")}
DESCRIPTIONS = {f.name: f.description for f in schema.RESULT_FIELDS}


def _fill(dtype: str):
    if dtype.startswith("f"):
        return math.nan
    if dtype == "bool":
        return False
    return 0


def _check_not_store(path: Path) -> None:
    if path.exists() and not (path / "zarr.json").exists():
        if path.is_dir() and any(path.iterdir()):
            raise UsageError(f"{str(path)!r} exists and is not a scan store (no zarr.json); choose another --store")
        if not path.is_dir():
            raise UsageError(f"{str(path)!r} exists and is not a directory; choose another --store")


class ScanStore:
    """A scan store on disk.  Only rank 0 creates or writes one; anybody may read."""

    def __init__(self, path: str | Path, group, writable: bool, sync_interval_s: float = SYNC_INTERVAL_S):
        self.path = Path(path)
        self.group = group
        self.writable = writable
        #: seconds between folds of the journal into the zarr arrays (see module docstring)
        self.sync_interval_s = sync_interval_s
        self._pending: dict[tuple[int, int, int], CellRecord] = {}  # journaled, not yet folded
        self.journal = Journal(self.path)
        self._journal_logs: list[Path] = []  # logs replayed at open, discarded by the next fold
        self._last_sync = time.monotonic()
        self._rows: dict[tuple[str, int, int], np.ndarray] = {}  # row cache of the single writer
        self._chunk_specs: dict[str, tuple] = {}  # name -> (raw bytes codec?, dtype, fill, chunks)
        self.attrs = dict(group.attrs)
        self.config = config_from_dict(self.attrs["config"], source=str(self.path))
        self.shape = self.config.shape
        self.n_xbins = self.config.n_xbins
        self._dirs: set[str] = set()  # chunk directories already created by this writer

    # ------------------------------------------------------------------ creation / opening
    @classmethod
    def create(cls, path: str | Path, config: ScanConfig, config_text: str = "") -> "ScanStore":
        """Create a new store for ``config`` (refuses an existing path)."""
        import zarr

        path = Path(path)
        if path.exists():
            raise UsageError(f"store {str(path)!r} already exists")
        nT, nE, nM = config.shape
        nb = config.n_xbins
        energies = np.array(config.energies_GeV)
        attrs = {
            "format": FORMAT,
            "lfvscan_version": __version__,
            "config": config.to_dict(),
            "config_toml": config_text,
            "config_hash": config.config_hash(),
            "status_codes": {str(k): v for k, v in STATUS_NAMES.items()},
            "created_unix": time.time(),
        }
        tmp = path.with_name(path.name + f".{uuid.uuid4().hex[:8]}.creating")
        root = zarr.storage.LocalStore(str(tmp))
        g = zarr.create_group(root, zarr_format=3, attributes=attrs)

        def arr(name, shape, dtype, dims, chunks, fill, units, desc, compressed=False):
            kw = {} if compressed else {"compressors": None}
            return g.create_array(
                name,
                shape=shape,
                chunks=chunks,
                dtype=dtype,
                fill_value=fill,
                dimension_names=dims,
                attributes={"units": units, "description": desc},
                **kw,
            )

        arr("target", (nT,), str, ("target",), (nT,), "", "", "target element", True)[:] = np.array(
            config.target_names, dtype=object
        )
        arr("energy_GeV", (nE,), "f8", ("energy_GeV",), (nE,), math.nan, "GeV", "muon beam energy", True)[:] = energies
        arr("mass_GeV", (nM,), "f8", ("mass_GeV",), (nM,), math.nan, "GeV", "ALP mass", True)[:] = np.array(
            config.masses_GeV
        )
        edges = np.array([x_tau_edges(e, nb) for e in energies]).reshape(nE, nb + 1)
        arr(
            "x_tau_edges", (nE, nb + 1), "f8", ("energy_GeV", "x_tau_edge"), (nE, nb + 1), math.nan, "1",
            "edges of the log x_tau = E_tau/E bins (m_tau/E .. 1)", True,
        )[:] = edges
        row = (1, 1, nM)  # one chunk per (target, energy) row: see "Writing" in the module docstring
        for name, (dtype, units) in SCALAR_FIELDS.items():
            arr(name, (nT, nE, nM), dtype, DIMS, row, _fill(dtype), units, DESCRIPTIONS.get(name, name))
        for name, (dtype, units) in DIST_FIELDS.items():
            arr(name, (nT, nE, nM, nb), dtype, DIST_DIMS, row + (nb,), _fill(dtype), units, DESCRIPTIONS.get(name, name))
        for name, (dtype, fill, units, desc) in BOOK_FIELDS.items():
            arr(name, (nT, nE, nM), dtype, DIMS, row, fill, units, desc)
        arr("error", (nT, nE, nM), str, DIMS, row, "", "", "message of the last failure ('' if none)", True)
        arr(
            "status", (nT, nE, nM), "i1", DIMS, row, PENDING, "1",
            "cell status (commit marker, written last): " + ", ".join(f"{k}={v}" for k, v in STATUS_NAMES.items()),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "consolidated metadata not part of the v3 spec"
            zarr.consolidate_metadata(root)
        dirs: set[Path] = set()
        for i, j in zip(*np.nonzero(~config.requested())):
            _write_chunk(tmp, "status", (int(i), int(j), 0), np.full(nM, SKIPPED, dtype="i1"), dirs)
        os.replace(tmp, path)  # the store appears complete or not at all
        return cls.open(path, writable=True)

    @classmethod
    def open(cls, path: str | Path, writable: bool = False) -> "ScanStore":
        """Open an existing store (raises :class:`UsageError` if it is not one)."""
        import zarr

        path = Path(path)
        if not (path / "zarr.json").exists():
            raise UsageError(f"no scan store at {str(path)!r} (missing zarr.json)")
        try:
            g = zarr.open_group(zarr.storage.LocalStore(str(path), read_only=not writable), mode="r+" if writable else "r")
            if g.attrs.get("format") != FORMAT:
                raise UsageError(f"{str(path)!r} is a zarr store but not an lfvscan scan store")
        except UsageError:
            raise
        except Exception as exc:  # corrupt metadata
            raise UsageError(f"cannot open scan store {str(path)!r}: {exc}") from None
        return cls(path, g, writable)

    def lock(self) -> None:
        """Take the store's writer lock (flock on ``lfvscan.lock``; freed when the process dies).

        Raises :class:`UsageError` if another scan is writing this store.
        """
        fd = os.open(str(self.path / LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            run = self.read_run_info()
            who = f" (pid {run.get('pid')} on {run.get('host')})" if run.get("pid") else ""
            raise UsageError(
                f"store {str(self.path)!r} is being written by another scan{who}; wait for it to finish "
                f"or stop it (SIGTERM), or use another --store"
            ) from None
        self._lock_fd = fd

    def close(self) -> None:
        """Fold the journal into the arrays (if writable) and release the writer lock (if held).

        If the fold fails the journal stays on disk and the next scan folds it (nothing is lost).
        """
        if self.writable and self._pending:
            try:
                self.sync()
            except Exception as exc:  # noqa: BLE001 - the journal keeps the results
                warnings.warn(f"could not fold the journal of {str(self.path)!r} ({exc}); the next scan will")
        self.journal.close()
        fd, self._lock_fd = getattr(self, "_lock_fd", None), None
        if fd is not None:
            os.close(fd)

    def clean_partials(self) -> int:
        """Remove ``*.partial`` leftovers of writes interrupted by a kill; returns how many."""
        n = 0
        for p in self.path.rglob("*.partial"):
            p.unlink(missing_ok=True)
            n += 1
        return n

    # ------------------------------------------------------------------ reading
    def read(self, name: str) -> np.ndarray:
        return np.asarray(self.group[name][...])

    def cell_state(self) -> tuple[np.ndarray, np.ndarray]:
        """(status, attempts) arrays over (target, energy, mass)."""
        return self.read("status"), self.read("attempts")

    # ------------------------------------------------------------------ writing
    def _chunk_path(self, name: str, index: tuple[int, ...]) -> Path:
        return _chunk_path(self.path, name, index)

    def _write_chunk(self, name: str, index: tuple[int, ...], values: np.ndarray) -> None:
        _write_chunk(self.path, name, index, values, self._dirs)

    def write_cells(self, records: list[CellRecord]) -> None:
        """Record finished cells: appended to the journal now, folded into the arrays every
        ``sync_interval_s`` seconds and on :meth:`close` (module docstring, "Writing")."""
        if not self.writable:
            raise RuntimeError("store opened read-only")
        nb = self.n_xbins
        for rec in records:
            if rec.result is not None:
                for name in DIST_FIELDS:
                    shape = np.shape(getattr(rec.result, name))
                    if shape != (nb,):
                        raise ValueError(f"{name} has shape {shape}, store expects ({nb},)")
        self.journal.append(records)
        for rec in records:
            self._pending[tuple(int(v) for v in rec.index)] = rec
        if time.monotonic() - self._last_sync >= self.sync_interval_s:
            self.sync()

    def replay_journal(self) -> int:
        """Fold the journal left by an interrupted run into the arrays; returns how many cells."""
        latest, logs, bad = self.journal.read_all()
        if bad:
            warnings.warn(f"{str(self.path)!r}: {bad} torn journal line(s) skipped (cells cut off by a kill; "
                          "they are computed again)")
        self._pending.update(latest)
        self._journal_logs = logs
        n = len(self._pending)
        if n:
            self.sync()
        else:
            self.journal.discard(logs)
        return n

    def _row(self, name: str, i: int, j: int) -> np.ndarray:
        """Row (i, j) of array ``name`` (all masses), cached: this store is its only writer."""
        key = (name, i, j)
        if key not in self._rows:
            self._rows[key] = self._read_row(name, i, j)
        return self._rows[key]

    def _read_row(self, name: str, i: int, j: int) -> np.ndarray:
        """Read one row chunk straight from its file (the raw ``bytes``-codec encoding this module
        writes; the fill value when the chunk was never written), through zarr for arrays with
        other codecs.  ~50x cheaper than zarr's indexing for the first fold of a new store."""
        if name not in self._chunk_specs:
            a = self.group[name]
            raw = not a.compressors and not a.filters and a.dtype.kind in "biuf"
            dtype = np.dtype(a.dtype).newbyteorder("<") if raw else a.dtype
            self._chunk_specs[name] = (raw, dtype, a.fill_value, a.chunks)
        raw, dtype, fill, chunks = self._chunk_specs[name]
        if not raw:
            return np.array(self.group[name][i, j])
        shape = chunks[2:]
        path = self._chunk_path(name, (i, j) + (0,) * len(shape))
        try:
            data = np.fromfile(path, dtype=dtype)
        except FileNotFoundError:
            return np.full(shape, fill, dtype=dtype.newbyteorder("="))
        return data.reshape(shape).astype(dtype.newbyteorder("="), copy=False)

    def sync(self) -> None:
        """Fold the journaled cells into the arrays: data rows first, then the status rows (the
        commit marker), then delete their journal files."""
        self._last_sync = time.monotonic()
        if not self._pending:
            return
        recs = list(self._pending.values())
        rows = sorted({(r.index[0], r.index[1]) for r in recs})
        for rec in recs:
            i, j, k = rec.index
            if rec.result is not None:
                for name in SCALAR_FIELDS:
                    self._row(name, i, j)[k] = getattr(rec.result, name)
                for name in DIST_FIELDS:
                    self._row(name, i, j)[k] = getattr(rec.result, name)
            self._row("wall_seconds", i, j)[k] = rec.wall_seconds
            self._row("rank", i, j)[k] = rec.rank
            self._row("attempts", i, j)[k] = rec.attempts
        names = list(SCALAR_FIELDS) + list(DIST_FIELDS) + list(BOOK_FIELDS)
        for name in names:
            for i, j in rows:
                row = self._row(name, i, j)
                self._write_chunk(name, (i, j) + (0,) * (row.ndim), row)
        for i, j in rows:  # error messages: vlen strings through zarr (atomic writes, zarr >= 3.1.3)
            errs = np.array(self.group["error"][i, j], dtype=object)
            new = errs.copy()
            for rec in recs:
                if (rec.index[0], rec.index[1]) == (i, j):
                    new[rec.index[2]] = "" if rec.result is not None else (rec.error or "unknown error")
            if not np.array_equal(new, errs):
                self.group["error"][i, j] = new
        for rec in recs:
            self._row("status", *rec.index[:2])[rec.index[2]] = DONE if rec.result is not None else FAILED
        for i, j in rows:
            self._write_chunk("status", (i, j, 0), self._row("status", i, j))
        logs = self._journal_logs + self.journal.open_logs()
        self.journal.discard(logs)
        self._journal_logs = []
        self._pending.clear()

    def journal_status(self) -> dict[tuple[int, int, int], int]:
        """Status (DONE/FAILED) of journaled cells not yet folded (read-only view of a running scan)."""
        latest, _, _ = self.journal.read_all()
        return {ijk: DONE if rec.result is not None else FAILED for ijk, rec in latest.items()}

    # ------------------------------------------------------------------ run info side file
    def write_run_info(self, info: dict) -> None:
        write_atomic(self.path / RUN_FILE, json.dumps(info, indent=1))

    def read_run_info(self) -> dict:
        try:
            return json.loads((self.path / RUN_FILE).read_text())
        except (OSError, ValueError):
            return {}


def _chunk_path(root: Path, name: str, index: tuple[int, ...]) -> Path:
    """Path of a chunk file (zarr v3 default chunk key encoding, separator "/")."""
    return root / name / "c" / "/".join(str(i) for i in index)


_TMP_COUNTER = itertools.count()


def _write_chunk(root: Path, name: str, index: tuple[int, ...], values: np.ndarray, dirs: set) -> None:
    """Write one uncompressed chunk (zarr v3 ``bytes`` codec, little endian) atomically.

    Plain ``os`` calls on strings (no pathlib, no uuid): a fold calls it once per array and touched
    row.  ``dirs``: chunk directories known to exist (created here once).
    """
    parent = f"{root}/{name}/c/" + "/".join(str(i) for i in index[:-1])
    if parent not in dirs:
        os.makedirs(parent, exist_ok=True)
        dirs.add(parent)
    data = np.ascontiguousarray(values)
    if data.dtype.itemsize > 1 and (data.dtype.byteorder == ">" or (data.dtype.byteorder == "=" and not np.little_endian)):
        data = data.astype(data.dtype.newbyteorder("<"))
    path = f"{parent}/{index[-1]}"
    tmp = f"{parent}/.{index[-1]}.{os.getpid()}-{next(_TMP_COUNTER)}.partial"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data.tobytes())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def open_for_scan(path: str | Path, config: ScanConfig, config_text: str = "") -> tuple[ScanStore, bool]:
    """Open ``path`` to continue ``config``'s scan, or create it.  Returns (store, created).

    Refuses (UsageError) a store made from a config with different physics, naming the keys.
    """
    path = Path(path)
    _check_not_store(path)
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()  # an empty directory: make the store there
    if not path.exists():
        for stale in path.parent.glob(f"{path.name}.*.creating"):  # a creation killed half-way
            shutil.rmtree(stale, ignore_errors=True)
        store = ScanStore.create(path, config, config_text)
        store.lock()
        return store, True
    store = ScanStore.open(path, writable=True)
    if store.attrs.get("config_hash") != config.config_hash():
        old = {k: v for k, v in store.attrs["config"].items() if k not in RUN_KEYS}
        diff = physics_diff(old, config.physics_dict()) or ["config hash"]
        raise UsageError(
            f"store {str(path)!r} was made from a different config (differs in: {', '.join(diff)}); "
            f"start a new store with --store NEW_PATH, or delete {str(path)!r} to start over"
        )
    store.lock()
    store.clean_partials()
    store.replay_journal()
    return store, False


def load_scan(path: str | Path) -> ScanData:
    """Read a (possibly partial, possibly still running) store into a :class:`ScanData`.

    ``status`` is read first, so a cell marked DONE always has its data complete.
    """
    st = ScanStore.open(path)
    status = st.read("status")
    cfg = st.config
    attrs = dict(st.attrs)
    attrs["units"] = {name: st.group[name].attrs.get("units", "") for name in st.group.array_keys()}
    return ScanData(
        targets=tuple(str(t) for t in st.read("target")),
        energies_GeV=st.read("energy_GeV"),
        masses_GeV=st.read("mass_GeV"),
        x_tau_edges=st.read("x_tau_edges"),
        status=status.astype(np.int8),
        sigma_pb=st.read("sigma_pb"),
        sigma_err_pb=st.read("sigma_err_pb"),
        sigma_coherent_pb=st.read("sigma_coherent_pb"),
        sigma_incoherent_pb=st.read("sigma_incoherent_pb"),
        dsigma_dlnx_tau_pb=st.read("dsigma_dlnx_tau_pb"),
        dsigma_dlnx_tau_err_pb=st.read("dsigma_dlnx_tau_err_pb"),
        closed=st.read("closed").astype(bool),
        theta=cfg.theta,
        convention=cfg.convention,
        attrs=attrs,
    )


def _writer_gone(run: dict) -> bool:
    """True if the run file names a rank-0 process on this host that no longer exists (other
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


def summarize(path: str | Path, now: float | None = None) -> dict:
    """Progress summary of a store for ``lfvscan status`` (read-only; safe while a scan runs)."""
    st = ScanStore.open(path)
    status = st.read("status")
    for ijk, code in st.journal_status().items():  # finished but not folded yet
        status[ijk] = code
    attempts = st.read("attempts")
    wall = st.read("wall_seconds")
    run = st.read_run_info()
    now = time.time() if now is None else now
    counts = {STATUS_NAMES[c]: int((status == c).sum()) for c in (PENDING, DONE, FAILED, SKIPPED)}
    requested = int(status.size - counts["skipped"])
    max_attempts = int(run.get("max_attempts", st.config.max_attempts))
    failed_idx = np.argwhere(status == FAILED)
    failures = []
    if failed_idx.size:
        errors = st.read("error")
        tn, en, mn = st.config.target_names, st.config.energies_GeV, st.config.masses_GeV
        for i, j, k in failed_idx:
            failures.append(
                {
                    "target": tn[i],
                    "energy_GeV": en[j],
                    "mass_GeV": mn[k],
                    "attempts": int(attempts[i, j, k]),
                    "error": str(errors[i, j, k]),
                }
            )
    retryable = sum(1 for f in failures if f["attempts"] < max_attempts)
    # throughput of the current / last run, from rank 0's heartbeat in the run file
    rate = eta = None
    started, updated = run.get("started_unix"), run.get("updated_unix")
    n_run = run.get("computed_this_run", 0)
    if started and updated and n_run and updated > started:
        rate = n_run / (updated - started)
        eta = (counts["pending"] + retryable) / rate
    state = run.get("state", "never run")
    if state == "running" and _writer_gone(run):
        state = (f"killed (rank 0, pid {run.get('pid')} on this host, is gone; "
                 "run the scan command again to resume)")
    elif state == "running" and now - run.get("updated_unix", 0) > max(60.0, 5 * run.get("heartbeat_seconds", 10)):
        state = "stale (no heartbeat: the scan was probably killed; run the scan command again to resume)"
    return {
        "store": str(path),
        "config_hash": st.attrs.get("config_hash"),
        "shape": list(st.shape),
        "requested": requested,
        "counts": counts,
        "complete": counts["done"] == requested,
        "finished": counts["pending"] == 0 and retryable == 0,
        "retryable_failed": retryable,
        "failures": failures,
        "state": state,
        "n_ranks": run.get("n_ranks"),
        "rate_cells_per_s": rate,
        "eta_s": eta,
        "summed_cell_seconds": float(np.nansum(np.where(status == DONE, wall, np.nan))),
    }
