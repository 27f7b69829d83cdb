"""Scan store (lfvscan.store): layout, xarray view, atomic cell writes, load_scan, status command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import warnings

import numpy as np
import pytest

from lfvscan.physics.constants import M_TAU
from lfvscan.xsec.result import x_f_edges
from lfvscan.spec.config import parse_config
from lfvscan.scan.plan import cell_seed
from lfvscan.errors import UsageError
from lfvscan.store import ScanStore, load_scan, open_for_scan, store_status
from lfvscan.schema import CELL_FIELDS, DONE, FAILED, PENDING, RESULT_FIELDS, SKIPPED
from lfvscan.store.chunks import RowCache, write_chunk
from lfvscan.store.records import CellRecord

from _scan_cells import cheap_cell
from _scan_util import SMALL_TOML, subprocess_env, UNDER_MPI

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (under mpiexec only the MPI tests run)")

xr = pytest.importorskip("xarray")


def config(**over):
    d = tomllib.loads(SMALL_TOML.format(store="s.zarr", seed=7, max_attempts=3))
    d.update(over)
    return parse_config(d)


def record(cfg, ijk, attempts=1, fail=""):
    i, j, k = ijk
    if fail:
        return CellRecord(ijk, None, fail, 0.5, 1, attempts)
    r = cheap_cell(cfg.target_names[i], cfg.energies_GeV[j], cfg.masses_GeV[k], n_xbins=cfg.n_xbins,
                   seed=cell_seed(cfg.seed, (i * 4 + j) * 5 + k))
    return CellRecord(ijk, r, "", 0.25, 0, attempts)


@pytest.fixture
def filled(tmp_path):
    cfg = config()
    store, created = open_for_scan(tmp_path / "s.zarr", cfg, "toml text")
    assert created
    recs = [record(cfg, (0, 1, 0)), record(cfg, (1, 3, 4)), record(cfg, (1, 0, 2), attempts=2, fail="RuntimeError: boom")]
    store.write_cells(recs)
    store.close()  # release the writer lock, as a finished scan does
    return cfg, tmp_path / "s.zarr", recs


def test_xarray_view_dims_coords_units(filled):
    cfg, path, recs = filled
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consolidated metadata: no fallback warning on open
        ds = xr.open_zarr(path)
    assert dict(ds.sizes) == {"target": 2, "energy_GeV": 4, "mass_GeV": 5, "x_f_bin": 8, "x_f_edge": 9,
                              "row_checksum_entry": 4 + 2 * len(CELL_FIELDS)}
    assert list(ds["target"].values) == ["Pb", "W"]
    assert np.array_equal(ds["energy_GeV"].values, cfg.energies_GeV)
    assert np.array_equal(ds["mass_GeV"].values, cfg.masses_GeV)
    for f in RESULT_FIELDS:
        assert f.name in ds.data_vars
        assert ds[f.name].attrs["units"] == f.unit
        assert ds[f.name].dtype == np.dtype(f.dtype)
    assert ds["sigma_pb"].dims == ("target", "energy_GeV", "mass_GeV")
    assert ds["dsigma_dlnx_f_pb"].dims == ("target", "energy_GeV", "mass_GeV", "x_f_bin")
    assert ds["x_f_edges"].dims == ("energy_GeV", "x_f_edge")
    assert np.array_equal(ds["x_f_edges"].values[2], x_f_edges(cfg.energies_GeV[2], 8, M_TAU))
    for name in ("status", "error", "wall_seconds", "rank", "attempts"):
        assert ds[name].dims == ("target", "energy_GeV", "mass_GeV")
    assert ds["status"].dtype == np.int8
    assert ds.attrs["config_hash"] == cfg.config_hash()
    assert ds.attrs["config_toml"] == "toml text"
    assert ds.attrs["config"]["seed"] == 7 and ds.attrs["lfvscan_version"]


def test_values_round_trip_bit_identical(filled):
    cfg, path, recs = filled
    ds = xr.open_zarr(path)
    r = recs[0].result
    sel = dict(target=0, energy_GeV=1, mass_GeV=0)
    for f in RESULT_FIELDS:
        if not f.per_bin:
            got, want = ds[f.name].isel(sel).values.item(), getattr(r, f.name)
            assert got == want or (got != got and want != want), f.name  # NaN: optional field not given
    assert ds["dsigma_dlnx_f_pb"].isel(sel).values.tobytes() == np.asarray(r.dsigma_dlnx_f_pb).tobytes()
    assert ds["status"].isel(sel).item() == DONE
    assert ds["error"].isel(target=1, energy_GeV=0, mass_GeV=2).item() == "RuntimeError: boom"
    assert ds["attempts"].isel(target=1, energy_GeV=0, mass_GeV=2).item() == 2
    assert np.isnan(ds["sigma_pb"].isel(target=0, energy_GeV=3, mass_GeV=0).item())  # not computed yet


def test_direct_row_reads_equal_zarr_reads(filled):
    """The writer's fast row reader (raw chunk files) returns what zarr returns, for written rows,
    never-written rows (fill values) and arrays it must leave to zarr (strings)."""
    import zarr

    cfg, path, recs = filled
    g = zarr.open_group(str(path), mode="r")
    rows = RowCache(path, g)
    for name in [f.name for f in CELL_FIELDS]:
        for i, j in [(0, 1), (1, 3), (1, 0), (0, 3)]:  # (0, 3): never written
            got = rows.read(name, i, j)
            ref = np.asarray(g[name][i, j])
            assert got.dtype == ref.dtype and got.shape == ref.shape, name
            assert got.tobytes() == ref.tobytes() if ref.dtype.kind in "biuf" else np.array_equal(got, ref), name
    assert rows.spec("sigma_pb").raw and not rows.spec("error").raw


def test_status_codes_and_load_scan(filled):
    cfg, path, recs = filled
    d = load_scan(path)
    assert d.targets == ("Pb", "W") and d.status.dtype == np.int8
    assert d.status[0, 1, 0] == DONE and d.status[1, 3, 4] == DONE and d.status[1, 0, 2] == FAILED
    assert (d.status[0, [0, 2]] == SKIPPED).all() and (d.status[1, 1] == SKIPPED).all()
    assert d.status[0, 3, 3] == PENDING
    assert d.sigma_pb[0, 1, 0] == recs[0].result.sigma_pb
    assert d.dsigma_dlnx_f_pb.shape == (2, 4, 5, 8) and d.x_f_edges.shape == (4, 9)
    assert d.closed[1, 3, 4] == recs[1].result.closed
    assert d.attrs["units"]["sigma_pb"] == "pb" and d.convention == "eq3"


def test_success_clears_previous_error(filled):
    cfg, path, recs = filled
    store = ScanStore.open(path, writable=True)
    store.write_cells([record(cfg, (1, 0, 2), attempts=3)])
    store.close()  # folds the journal into the arrays
    ds = xr.open_zarr(path)
    assert ds["error"].isel(target=1, energy_GeV=0, mass_GeV=2).item() == ""
    assert ds["status"].isel(target=1, energy_GeV=0, mass_GeV=2).item() == DONE


def test_interrupted_write_leftovers(filled):
    cfg, path, recs = filled
    # a kill during a fold leaves a *.partial file and maybe data rows without their status
    (path / "sigma_pb" / "c" / "0" / "3").mkdir(parents=True, exist_ok=True)
    (path / "sigma_pb" / "c" / "0" / "3" / ".0.abc.partial").write_bytes(b"\x00\x01")
    row = np.full(len(cfg.masses_GeV), np.nan)
    row[1] = 42.0
    write_chunk(path, "sigma_pb", (0, 3, 0), row, set())
    assert load_scan(path).status[0, 3, 1] == PENDING  # no commit marker -> not done
    store2, created = open_for_scan(path, cfg)
    assert not created and not list(path.rglob("*.partial"))


def test_journal_survives_kill_and_is_folded_on_resume(tmp_path):
    """A cell journaled but not folded (the writer was killed) is in the store after resume."""
    cfg = config()
    store, _ = open_for_scan(tmp_path / "s.zarr", cfg)
    store.sync_interval_s = 1e9  # never fold during the test: simulate a kill before the fold
    rec = record(cfg, (0, 1, 1))
    store.write_cells([rec])
    path = tmp_path / "s.zarr"
    assert ScanStore.open(path).read("status")[0, 1, 1] == PENDING  # arrays not folded yet ...
    assert store_status(path)["counts"]["done"] == 1  # ... but status counts the journal ...
    early = load_scan(path)  # ... and so does post-processing (limits agree with status)
    assert early.status[0, 1, 1] == DONE and early.sigma_pb[0, 1, 1] == rec.result.sigma_pb
    np.testing.assert_array_equal(early.dsigma_dlnx_f_pb[0, 1, 1], rec.result.dsigma_dlnx_f_pb)
    store._fold.pending.clear()  # what a kill -9 leaves: the journal file only ...
    os.close(store._lock_fd)  # ... and the writer lock released by the dying process
    store2, created = open_for_scan(path, cfg)
    store2.close()
    d = load_scan(path)
    assert not created and d.status[0, 1, 1] == DONE
    assert d.sigma_pb[0, 1, 1] == rec.result.sigma_pb  # bit-identical through the journal
    np.testing.assert_array_equal(d.dsigma_dlnx_f_pb[0, 1, 1], rec.result.dsigma_dlnx_f_pb)
    assert not list((path / "journal").glob("*"))  # folded logs are discarded


def test_journal_round_trip_exact_and_torn_frames_skipped(tmp_path):
    """Journal frames read back bit-identically (also nan/inf/-0.0/subnormals); a torn or corrupt
    frame is skipped and counted, not fatal, and the frames after a corrupt one are still read; a
    later row for the same cell wins."""
    from lfvscan.store.frames import decode_frames, encode_batch
    from lfvscan.store.journal import Journal, read_log
    from lfvscan.store.records import RecordBatch

    cfg = config()
    rec = record(cfg, (1, 2, 3))
    tricky = np.array([np.nan, np.inf, -0.0, 5e-324, 1 / 3] + [0.1] * (cfg.n_xbins - 5))
    rec.result.dsigma_dlnx_f_pb = tricky
    failed = record(cfg, (0, 0, 0), fail="RuntimeError: x \u00e9")
    (back,), bad = decode_frames(encode_batch(RecordBatch.from_records([failed, rec], cfg.n_xbins)))
    assert bad == 0 and back.index.tolist() == [[0, 0, 0], [1, 2, 3]] and back.done.tolist() == [False, True]
    assert back.values["dsigma_dlnx_f_pb"][1].tobytes() == tricky.tobytes()
    assert back.values["sigma_pb"][1] == rec.result.sigma_pb and back.errors == {0: "RuntimeError: x \u00e9"}
    assert np.isnan(back.values["sigma_pb"][0])  # a failure's result columns hold the fill value
    again = back.record(1, cfg)  # back to a CellRecord: every stored field identical
    assert again.index == (1, 2, 3) and again.error == "" and again.attempts == rec.attempts
    assert again.result.x_f_edges.tobytes() == np.asarray(rec.result.x_f_edges, dtype="f8").tobytes()

    j = Journal(tmp_path, cfg.n_xbins)
    retried = record(cfg, (0, 0, 0), attempts=2)
    j.append(RecordBatch.from_records([failed, rec], cfg.n_xbins))
    flipped = bytearray(encode_batch(RecordBatch.from_records([record(cfg, (1, 1, 0))], cfg.n_xbins)))
    flipped[60] ^= 1  # one bit flipped in a frame between two good ones: the checksum catches it
    os.write(j._fd, bytes(flipped))
    long = bytearray(encode_batch(RecordBatch.from_records([record(cfg, (1, 1, 2))], cfg.n_xbins)))
    long[4:8] = (2**31).to_bytes(4, "little")  # a damaged header length: the reader resynchronises
    os.write(j._fd, bytes(long))
    j.append(RecordBatch.from_records([retried], cfg.n_xbins))
    (log,) = j.logs()
    j.close()
    frame = encode_batch(RecordBatch.from_records([record(cfg, (1, 1, 1))], cfg.n_xbins))
    with open(log, "ab") as f:
        f.write(frame[: len(frame) // 2])  # what a kill in the middle of a write could leave
    latest, logs, bad = j.read_all()
    assert bad == 3 and logs == [log]
    assert sorted(map(tuple, latest.index.tolist())) == [(0, 0, 0), (1, 2, 3)]
    row = latest.index.tolist().index([0, 0, 0])
    assert latest.done[row] and latest.attempts[row] == 2  # the later row wins
    assert read_log(tmp_path / "missing.jnl") == ([], 0)


def test_journal_of_json_lines_is_read(tmp_path):
    """A store left by lfvscan 0.1.0 (JSON-line journal, ``*.log``) resumes: its lines, failures
    alone included, read back exactly, torn ones skipped, and newer frames win."""
    from _legacy_journal import encode_record
    from lfvscan.store.journal import Journal
    from lfvscan.store.legacy_journal import decode_record
    from lfvscan.store.records import RecordBatch

    cfg = config()
    rec = record(cfg, (1, 2, 3))
    back = decode_record(encode_record(rec))
    assert back.result.dsigma_dlnx_f_pb.tobytes() == np.asarray(rec.result.dsigma_dlnx_f_pb).tobytes()
    (tmp_path / "journal").mkdir()
    old = tmp_path / "journal" / f"{1:020d}-1.log"
    line = encode_record(record(cfg, (1, 1, 1)))
    old.write_bytes(encode_record(record(cfg, (0, 0, 0), fail="RuntimeError: x")) + encode_record(rec)
                    + line[: len(line) // 2])
    j = Journal(tmp_path, cfg.n_xbins)
    j.append(RecordBatch.from_records([record(cfg, (0, 0, 0), attempts=2)], cfg.n_xbins))
    j.close()
    latest, logs, bad = j.read_all()
    assert bad == 1 and logs[0] == old and len(logs) == 2
    rows = {tuple(ijk): r for r, ijk in enumerate(latest.index.tolist())}
    assert set(rows) == {(0, 0, 0), (1, 2, 3)} and latest.done[rows[0, 0, 0]] and latest.attempts[rows[0, 0, 0]] == 2
    assert latest.values["sigma_pb"][rows[1, 2, 3]] == rec.result.sigma_pb
    only_failure = tmp_path / "f"
    (only_failure / "journal").mkdir(parents=True)
    (only_failure / "journal" / "1-1.log").write_bytes(encode_record(record(cfg, (0, 0, 1), fail="E: y")))
    latest, _, _ = Journal(only_failure, cfg.n_xbins).read_all()
    assert latest.n_xbins == cfg.n_xbins and latest.errors == {0: "E: y"}


def test_journal_frames_of_another_schema_read_back_by_field_name(tmp_path):
    """A frame written before a field existed reads that field as its fill value (NaN); a field
    the schema does not have is ignored; the rest is bit-exact."""
    from lfvscan.store.frames import decode_frames, encode_batch
    from lfvscan.store.records import RecordBatch, row_dtype

    cfg = config()
    b = RecordBatch.from_records([record(cfg, (1, 2, 3))], cfg.n_xbins)
    old = [d for d in row_dtype(cfg.n_xbins).descr if d[0] != "sigma_scalar_pb"] + [("retired_pb", "<f8")]
    rows = np.zeros(1, dtype=old)
    for name in rows.dtype.names:
        rows[name] = 7.5 if name == "retired_pb" else b.rows[name]
    (back,), bad = decode_frames(encode_batch(RecordBatch(rows)), cfg.n_xbins)
    assert bad == 0 and back.rows.dtype == row_dtype(cfg.n_xbins)
    assert np.isnan(back.rows["sigma_scalar_pb"][0])
    for name in rows.dtype.names:
        if name != "retired_pb":
            assert back.rows[name].tobytes() == b.rows[name].tobytes(), name


def test_a_large_append_is_split_into_frames_and_the_latest_row_of_a_cell_wins(tmp_path, monkeypatch):
    """Rows beyond FRAME_MAX_BYTES go into several frames of one write (frame lengths are 32-bit);
    they read back in order, and RecordBatch.latest keeps the last row of each cell whatever the
    size of the index values."""
    from lfvscan.store import frames, journal
    from lfvscan.store.records import RecordBatch

    cfg = config()
    recs = [record(cfg, (0, 1, k), attempts=1 + k) for k in range(5)] + [record(cfg, (0, 1, 2), attempts=9)]
    batch = RecordBatch.from_records(recs, cfg.n_xbins)
    monkeypatch.setattr(frames, "FRAME_MAX_BYTES", 2 * batch.rows.dtype.itemsize)
    j = journal.Journal(tmp_path, cfg.n_xbins)
    j.append(batch)
    (log,) = j.logs()
    j.close()
    got, bad = frames.decode_frames(log.read_bytes())
    assert bad == 0 and [len(f) for f in got] == [2, 2, 2]
    assert RecordBatch.concat(got).rows.tobytes() == batch.rows.tobytes()
    latest, _, _ = j.read_all()
    assert latest.index[:, 2].tolist() == [0, 1, 3, 4, 2] and latest.attempts.tolist() == [1, 2, 4, 5, 9]
    big = RecordBatch.from_records(recs[:2], cfg.n_xbins)
    big.rows["index"] = [[0, 0, 2**21], [0, 1, 0]]  # distinct cells that a 21-bit packing would merge
    assert len(big.latest()) == 2


def test_pending_rows_are_folded_at_the_byte_limit(tmp_path, monkeypatch):
    """Rows journaled since the last fold are folded as soon as they hold SYNC_MAX_BYTES, whatever
    the interval (bounded memory at high cell rates)."""
    from lfvscan.store import zarr_store
    from lfvscan.store.records import row_dtype

    cfg = config()
    store, _ = open_for_scan(tmp_path / "s.zarr", cfg)
    store.sync_interval_s = 1e9
    one = row_dtype(cfg.n_xbins).itemsize  # bytes of one row
    monkeypatch.setattr(zarr_store, "SYNC_MAX_BYTES", 3 * one)
    store.write_cells([record(cfg, (0, 1, 0)), record(cfg, (0, 1, 1))])
    assert len(store.journal.logs()) == 1 and ScanStore.open(tmp_path / "s.zarr").read("status")[0, 1, 1] == PENDING
    store.write_cells([record(cfg, (0, 1, 2))])  # 3 rows pending: folded now
    assert store.journal.logs() == []
    assert (ScanStore.open(tmp_path / "s.zarr").read("status")[0, 1, :3] == DONE).all()
    store.close()


def test_journal_is_one_log_per_fold_interval(tmp_path):
    """Appending cells creates no file per cell; a fold discards the folded log."""
    cfg = config()
    store, _ = open_for_scan(tmp_path / "s.zarr", cfg)
    store.sync_interval_s = 1e9
    for k in range(5):
        store.write_cells([record(cfg, (0, 1, k))])
    assert len(store.journal.logs()) == 1
    store.sync()
    assert store.journal.logs() == []
    store.write_cells([record(cfg, (1, 3, 0))])
    assert len(store.journal.logs()) == 1  # a new log after the fold
    store.close()
    assert store.journal.logs() == [] and (load_scan(tmp_path / "s.zarr").status[0, 1, :5] == DONE).all()


def test_refuses_store_of_another_config(filled, tmp_path):
    cfg, path, recs = filled
    with pytest.raises(UsageError) as info:
        open_for_scan(path, config(seed=8, masses_GeV=[2.0, 3.0]))
    msg = str(info.value)
    assert "differs in: masses_GeV, seed" in msg and "--store" in msg and "delete" in msg
    # run settings may change
    open_for_scan(path, config(store="elsewhere.zarr", max_attempts=5))
    other = tmp_path / "notastore"
    other.mkdir()
    (other / "x.txt").write_text("x")
    with pytest.raises(UsageError, match="is not a scan store"):
        open_for_scan(other, cfg)


@pytest.mark.slow
def test_status_command_text_and_json(filled):
    cfg, path, recs = filled
    r = subprocess.run([sys.executable, "-m", "lfvscan", "status", str(path)], env=subprocess_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "cells: 2/25 done, 1 failed (1 to be retried), 22 pending, 15 skipped" in r.stdout
    assert "W E=100 GeV m_a=8.94427 GeV (attempts 2): RuntimeError: boom" in r.stdout
    assert r.stdout.strip().endswith("incomplete")
    r = subprocess.run([sys.executable, "-m", "lfvscan", "status", str(path), "--json"], env=subprocess_env(),
                       capture_output=True, text=True, timeout=60)
    s = json.loads(r.stdout)
    assert s["counts"] == {"pending": 22, "done": 2, "failed": 1, "skipped": 15}
    assert s["complete"] is False and s["failures"][0]["error"] == "RuntimeError: boom"


def test_status_of_missing_store_is_usage_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "lfvscan", "status", str(tmp_path / "nope")], env=subprocess_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no scan store at" in r.stderr


def test_summary_rate_and_eta_from_run_info(filled):
    cfg, path, recs = filled
    store = ScanStore.open(path, writable=True)
    store.write_run_info({"state": "running", "started_unix": 1000.0, "updated_unix": 1006.0,
                          "heartbeat_seconds": 5, "computed_this_run": 3})
    s = store_status(path, now=1007.0)
    assert s["rate_cells_per_s"] == pytest.approx(0.5)  # 3 cells in 6 s
    assert s["eta_s"] == pytest.approx(23 / 0.5)  # 22 pending + 1 failed still retryable
    assert s["state"] == "running"
    s = store_status(path, now=1006.0 + 3600)
    assert s["state"].startswith("stale")


def test_status_says_killed_when_rank0_of_this_host_is_gone(filled):
    import socket

    cfg, path, recs = filled
    store = ScanStore.open(path, writable=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    info = {"state": "running", "started_unix": 1000.0, "updated_unix": 1006.0, "heartbeat_seconds": 5,
            "computed_this_run": 3, "host": socket.gethostname()}
    store.write_run_info({**info, "pid": dead.pid})
    s = store_status(path, now=1007.0)  # fresh heartbeat, but the process is gone
    assert s["state"].startswith("killed") and str(dead.pid) in s["state"]
    store.write_run_info({**info, "pid": os.getpid()})
    assert store_status(path, now=1007.0)["state"] == "running"
    store.write_run_info({**info, "pid": dead.pid, "host": "another-node"})  # cannot check: heartbeat decides
    assert store_status(path, now=1007.0)["state"] == "running"


def test_empty_directory_and_killed_creation_leftovers(tmp_path):
    cfg = config()
    (tmp_path / "s.zarr").mkdir()
    (tmp_path / "s.zarr.deadbeef.creating").mkdir()  # a creation killed before its final rename
    store, created = open_for_scan(tmp_path / "s.zarr", cfg)
    assert created and (tmp_path / "s.zarr" / "zarr.json").exists()
    assert not list(tmp_path.glob("*.creating"))


def test_second_writer_is_refused_while_the_first_holds_the_lock(filled):
    cfg, path, recs = filled
    first, _ = open_for_scan(path, cfg)  # holds the lock, like a running scan
    with pytest.raises(UsageError, match="is being written by another scan"):
        open_for_scan(path, cfg)
    assert load_scan(path).status[0, 1, 0] == DONE  # readers never need the lock
    first.close()
    second, _ = open_for_scan(path, cfg)  # free again
    second.close()


# ------------------------------------------------------------------ the schema drives the store

def test_schema_drives_cell_result_store_journal_and_scandata(tmp_path):
    """Every schema field: a CellResult attribute (result fields), an array of a new store with the
    schema's units/description/dims/dtype/fill/chunks, bit-exact through the journal, and an array
    of load_scan's ScanData with the value written (tests/_schema_check.py)."""
    from _schema_check import check_all

    check_all(tmp_path)


def test_adding_a_quantity_is_one_line_in_schema_py(tmp_path):
    """schema.py with one more per-cell line and one more per-bin line: both quantities appear in
    CellResult, the store, the journal and ScanData (the same checks, in a fresh interpreter)."""
    import lfvscan.schema

    script = f"""
import importlib.util, sys
spec = importlib.util.find_spec("lfvscan.schema")
src = open(spec.origin).read()
for anchor, line in [
    ('    per_bin("dsigma_dlnx_f_pb",',
     '    per_cell("extra_count", "i4", "1", "a quantity added by the test", default=-7),'),
    ('    per_bin("dsigma_dlnx_f_err_pb",', '    per_bin("extra_hist_pb", "pb", "a histogram added by the test"),'),
]:
    assert src.count(anchor) == 1, anchor
    src = src.replace(anchor, line + "\\n" + anchor)
schema = sys.modules["lfvscan.schema"] = importlib.util.module_from_spec(spec)
exec(compile(src, spec.origin, "exec"), schema.__dict__)
assert "lfvscan.xsec.result" not in sys.modules and "lfvscan.store" not in sys.modules
from pathlib import Path
from _schema_check import check_all
from lfvscan.store import load_scan
from lfvscan.xsec.result import CellResult
check_all(Path({str(tmp_path)!r}))
d = load_scan(Path({str(tmp_path)!r}) / "s.zarr")
assert d.extra_count.dtype == "i4" and d.extra_hist_pb.shape[-1] == 8
assert CellResult.__dataclass_fields__["extra_count"].default == -7
print("extra fields OK")
"""
    r = subprocess.run([sys.executable, "-c", script], env=subprocess_env(), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "extra fields OK"
    assert "extra_count" not in lfvscan.schema.FIELDS  # this process keeps the real schema


def test_cell_result_pickles_and_scandata_rejects_unknown_or_misshapen_arrays():
    """CellResult (built from the schema) crosses MPI as a pickle; ScanData checks names/shapes."""
    import math
    import pickle

    from _schema_check import sample_record, small_config
    from lfvscan.store import ScanData
    from lfvscan.xsec.result import CellResult

    cfg = small_config()
    r = sample_record(cfg, (0, 1, 2)).result
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is CellResult and CellResult.__module__ == "lfvscan.xsec.result"
    assert back.dsigma_dlnx_f_pb.tobytes() == r.dsigma_dlnx_f_pb.tobytes() and back.Q == r.Q
    edges = np.ones((2, 4))
    status = np.zeros((1, 2, 5), np.int8)
    d = ScanData(("Pb",), [1.0, 2.0], np.arange(5.0), edges, status, Q=np.zeros((1, 2, 5)), theta=math.pi / 4)
    assert d.Q is d["Q"] and "Q" in d and "chi2_dof" not in d and d.sizes["x_f_bin"] == 3
    assert list(d.coords) == ["target", "energy_GeV", "mass_GeV", "x_f_edges"] and "Q" in repr(d)
    assert d.dims("x_f_edges") == ("energy_GeV", "x_f_edge") and d.unit("energy_GeV") == "GeV"
    with pytest.raises(AttributeError, match="no 'chi2_dof' array"):
        d.chi2_dof
    with pytest.raises(TypeError, match="unknown array"):
        ScanData(("Pb",), [1.0, 2.0], np.arange(5.0), edges, status, sigam_pb=np.zeros((1, 2, 5)))
    with pytest.raises(ValueError, match="dsigma_dlnx_f_pb has shape"):
        ScanData(("Pb",), [1.0, 2.0], np.arange(5.0), edges, status, dsigma_dlnx_f_pb=np.zeros((1, 2, 5)))


def test_settling_a_dead_run_twice_charges_nobody_twice(tmp_path):
    """A run died with cells started on rank 1 (per cell) and a coalesced batch on rank 2.  Opening
    the store charges rank 1's running cell and keeps rank 2's cells as suspects; if that settling
    is cut short by a kill after the charge was written but before the attempt log was deleted,
    opening again charges nobody a second time (not the cell queued behind) and keeps the same
    suspects."""
    import shutil

    from lfvscan.scan.attribution import settle

    cfg = config()
    path = tmp_path / "s.zarr"
    store, _ = open_for_scan(path, cfg)
    store.start_cells([((0, 1, 0), 1), ((0, 1, 1), 1)], 1, 3, reports_each=True, exclusive=False)
    store.start_cells([((1, 2, 0), 1), ((1, 2, 1), 1)], 2, 3, reports_each=False, exclusive=False)
    os.close(store.attempt_log._fd)  # the run dies here: its attempt log stays ...
    os.close(store._lock_fd)  # ... and its lock is released with the process
    (log,) = (path / "journal").glob("*.started")
    kept = tmp_path / "kept.started"
    shutil.copy(log, kept)
    again, _ = open_for_scan(path, cfg)
    first = settle(again)
    assert [(r.index, r.attempts) for r in first.died] == [((0, 1, 0), 1)]
    suspects = [((0, 1, 0), 2, False), ((1, 2, 0), 1, False), ((1, 2, 1), 1, False)]
    assert first.suspects == suspects
    again.close()
    shutil.copy(kept, log)  # as if the settling had been killed before it deleted the log
    third, _ = open_for_scan(path, cfg)
    second = settle(third)
    assert second.died == [] and second.suspects == suspects
    third.close()
    d = load_scan(path)
    assert d.attempts[0, 1, 0] == 1 and d.attempts[0, 1, 1] == 0 and d.status[0, 1, 1] == PENDING
