"""Corruption detected and repairable (issue 11, item 4).  Every chunk ends with its CRC-32C
(zarr v3 crc32c codec); `lfvscan status` lists damaged rows and counts their cells as pending;
no command crashes; a resume recomputes the damaged rows to the bit-identical values of an
undamaged scan (reference: the uninterrupted scan, seeds are per cell)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from lfvscan import cli
from lfvscan.spec.config import load_config
from lfvscan.scan.engine import run_scan
from lfvscan.store import ScanStore, load_scan, store_status
from lfvscan.store.chunks import CRC_BYTES, crc32c, write_chunk
from lfvscan.schema import DONE, FIELDS, PENDING
from lfvscan.store.load import DamagedStoreWarning

from _scan_cells import cheap_cell
from _scan_util import UNDER_MPI, assert_same_results, run_scan_cli, subprocess_env, write_config

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (under mpiexec only the MPI tests run)")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    cfg_path = write_config(d / "c.toml")
    out = run_scan(load_config(cfg_path), str(d / "ref.zarr"), cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and out.done == 25
    return d / "ref.zarr", cfg_path


def _chunk(store, name, i=0, j=1):
    """Chunk file of row (i, j) = (Pb, 160 GeV) of ``name`` (per-bin arrays have one more 0)."""
    extra = "/0" if name in FIELDS and FIELDS[name].per_bin else ""
    return store / name / "c" / str(i) / str(j) / ("0" + extra)


def _store_of(p):
    """The store directory of chunk file ``p``."""
    return next(q for q in p.parents if (q / "zarr.json").exists() and (q / "status").exists())


def _copy_from(other_name, i=0, j=1):
    """Damage: replace the chunk by the (valid) chunk of row (i, j) of array ``other_name``."""
    return lambda p: shutil.copyfile(_chunk(_store_of(p), other_name, i, j), p)


def _truncate(p):
    p.write_bytes(p.read_bytes()[:-11])


def _garbage(p):
    n = len(p.read_bytes())
    p.write_bytes(np.random.default_rng(1).bytes(n))  # same size, random content


def _status_truncated(p):
    p.write_bytes(p.read_bytes()[:2])


def _status_invalid_code(p):
    """A valid checksum around an invalid status code (7): caught by the code check."""
    row = np.frombuffer(p.read_bytes()[:-CRC_BYTES], dtype="i1").copy()
    row[2] = 7
    p.write_bytes(row.tobytes() + crc32c(row.tobytes()))


DAMAGE = {
    "truncated sigma_pb": ("sigma_pb", _truncate),
    "same-size garbage in dsigma_dlnx_f_pb": ("dsigma_dlnx_f_pb", _garbage),
    "one flipped bit in Q": ("Q", lambda p: p.write_bytes(bytes([p.read_bytes()[0] ^ 1]) + p.read_bytes()[1:])),
    "truncated status": ("status", _status_truncated),
    "invalid status code": ("status", _status_invalid_code),
    "garbage in the error text chunk": ("error", lambda p: p.parent.mkdir(parents=True, exist_ok=True)
                                         or p.write_bytes(np.random.default_rng(2).bytes(40))),
    # valid chunks that are not the chunk of their place (lfvscan.store.row_checksums)
    "deleted sigma_pb chunk": ("sigma_pb", lambda p: p.unlink()),
    "deleted dsigma_dlnx_f_pb chunk": ("dsigma_dlnx_f_pb", lambda p: p.unlink()),
    "deleted sigma_above_x_err_pb chunk": ("sigma_above_x_err_pb", lambda p: p.unlink()),
    "deleted status chunk": ("status", lambda p: p.unlink()),
    "deleted row record": ("row_checksums", lambda p: p.unlink()),
    "sigma_pb chunk of another row": ("sigma_pb", _copy_from("sigma_pb", 1, 2)),
    "sigma_err_pb chunk in sigma_pb": ("sigma_pb", _copy_from("sigma_err_pb")),
    "row record of another row": ("row_checksums", _copy_from("row_checksums", 1, 2)),
}


def _lfvscan(*args):
    return subprocess.run([sys.executable, "-m", "lfvscan", *args], env=subprocess_env(), capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("what", list(DAMAGE))
def test_damaged_chunk_detected_no_crash_then_recomputed_bit_identical(tmp_path, reference, what, capsys):
    ref, cfg_path = reference
    store = tmp_path / "s.zarr"
    shutil.copytree(ref, store)
    name, damage = DAMAGE[what]
    damage(_chunk(store, name))

    s = store_status(store)  # status verifies every chunk
    assert [(d["target"], d["energy_GeV"], d["arrays"]) for d in s["damaged"]] == [("Pb", 160.0, [name])]
    assert not s["complete"] and s["counts"]["pending"] == 5 and s["counts"]["done"] == 20
    assert cli.main(["status", str(store)]) == 0
    assert "damaged: 1 row(s)" in capsys.readouterr().out
    assert cli.main(["verify", str(store)]) == 1  # for readers of the raw arrays (zarr, xarray)
    assert f"Pb E=160 GeV: {name}" in capsys.readouterr().out
    with pytest.warns(DamagedStoreWarning, match=r"1 damaged row\(s\) \(Pb E=160 GeV"):
        d = load_scan(store)  # post-processing: the damaged row reads as not computed, never garbage
    assert (d.status[0, 1] == PENDING).all() and np.isnan(d.sigma_pb[0, 1]).all()
    assert (d.status[1] != PENDING).all()

    with pytest.warns(UserWarning, match=r"1 damaged row\(s\).*computed again"):  # resume: row recomputed
        out = run_scan(load_config(cfg_path), str(store), cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0 and out.computed_this_run == 5
    assert_same_results(ref, store)
    assert store_status(store)["damaged"] == [] and store_status(store)["complete"]
    assert cli.main(["verify", str(store)]) == 0


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    """A complete store of the same grid with other values (another seed)."""
    d = tmp_path_factory.mktemp("other")
    out = run_scan(load_config(write_config(d / "c.toml", seed=8)), str(d / "other.zarr"), cell_fn=cheap_cell,
                   quiet=True)
    assert out.exit_code == 0
    return d / "other.zarr"


@pytest.mark.parametrize("name", ["sigma_pb", "row_checksums"])
def test_a_chunk_of_another_store_is_not_in_its_place(tmp_path, reference, other, name):
    ref, cfg_path = reference
    store = tmp_path / "s.zarr"
    shutil.copytree(ref, store)
    shutil.copyfile(_chunk(other, name), _chunk(store, name))
    assert [(d["target"], d["energy_GeV"], d["arrays"]) for d in store_status(store)["damaged"]] == [("Pb", 160.0, [name])]
    with pytest.warns(UserWarning, match=r"1 damaged row\(s\)"):
        out = run_scan(load_config(cfg_path), str(store), cell_fn=cheap_cell, quiet=True)
    assert out.computed_this_run == 5
    assert_same_results(ref, store)


def test_two_rows_swapped_are_both_damaged_and_recomputed(tmp_path, reference, capsys):
    ref, cfg_path = reference
    store = tmp_path / "s.zarr"
    shutil.copytree(ref, store)
    a, b = _chunk(store, "sigma_pb", 0, 1), _chunk(store, "sigma_pb", 1, 2)
    ca, cb = a.read_bytes(), b.read_bytes()
    a.write_bytes(cb)
    b.write_bytes(ca)
    s = store_status(store)
    assert [(d["target"], round(d["energy_GeV"]), d["arrays"]) for d in s["damaged"]] == [
        ("Pb", 160, ["sigma_pb"]), ("W", 316, ["sigma_pb"])]
    assert not s["complete"] and s["counts"]["pending"] == 10
    assert cli.main(["verify", str(store), "--json"]) == 1
    assert len(json.loads(capsys.readouterr().out)["damaged"]) == 2
    with pytest.warns(DamagedStoreWarning):
        d = load_scan(store)
    assert np.isnan(d.sigma_pb[0, 1]).all() and np.isnan(d.sigma_pb[1, 2]).all()
    with pytest.warns(UserWarning, match=r"2 damaged row\(s\)"):
        out = run_scan(load_config(cfg_path), str(store), cell_fn=cheap_cell, quiet=True)
    assert out.computed_this_run == 10
    assert_same_results(ref, store)

def test_zarr_readers_verify_the_checksum_too(tmp_path, reference):
    import zarr

    ref, _ = reference
    store = tmp_path / "s.zarr"
    shutil.copytree(ref, store)
    assert np.array_equal(zarr.open_group(str(store), mode="r")["sigma_pb"][...],
                          ScanStore.open(store).read("sigma_pb"), equal_nan=True)
    _garbage(_chunk(store, "sigma_pb"))
    with pytest.raises(Exception, match="(?i)checksum|crc"):
        zarr.open_group(str(store), mode="r")["sigma_pb"][...]


def test_chunk_file_is_zarr_bytes_then_crc32c(tmp_path, reference):
    """Our writer's chunk = what zarr writes with codecs [bytes, crc32c] (byte for byte)."""
    import zarr
    from zarr.codecs import Crc32cCodec

    row = np.array([1.5, np.nan, -2.0, 3e300])
    a = zarr.create_array(zarr.storage.LocalStore(str(tmp_path / "z")), shape=(1, 1, 4), chunks=(1, 1, 4),
                          dtype="f8", compressors=(Crc32cCodec(),), zarr_format=3)
    a[0, 0] = row
    write_chunk(tmp_path / "w", "x", (0, 0, 0), row, set())
    assert (tmp_path / "w" / "x" / "c" / "0" / "0" / "0").read_bytes() == (tmp_path / "z" / "c" / "0" / "0" / "0").read_bytes()


@pytest.mark.slow
def test_limits_agree_with_status_before_the_first_fold(tmp_path):
    """A scan killed before its first fold: post-processing reads the journaled cells."""
    from lfvscan.store import open_for_scan

    cfg = load_config(write_config(tmp_path / "c.toml"))
    store, _ = open_for_scan(tmp_path / "s.zarr", cfg)
    store.sync_interval_s = 1e9  # never fold
    out = run_scan(cfg, store, cell_fn=cheap_cell, quiet=True)
    assert out.done == 25
    path = tmp_path / "s.zarr"
    assert (ScanStore.open(path).read("status") == DONE).sum() == 0  # nothing folded
    d = load_scan(path)
    assert int((d.status == DONE).sum()) == store_status(path)["counts"]["done"] == 25
    assert np.isfinite(d.sigma_pb[d.status == DONE]).all()
    store.close()


def test_status_reports_torn_journal_frames(tmp_path, reference, capsys):
    """A frame cut off by a kill in the middle of a journal append: its cell counts as pending and
    `lfvscan status` says that frames were skipped."""
    from lfvscan.store.frames import encode_batch
    from lfvscan.store.records import CellRecord, RecordBatch

    ref, cfg_path = reference
    store = tmp_path / "s.zarr"
    shutil.copytree(ref, store)
    cfg = load_config(cfg_path)
    rec = CellRecord((0, 1, 0), cheap_cell("Pb", 160.0, cfg.masses_GeV[0], n_xbins=cfg.n_xbins), "", 0.1, 0, 2)
    frame = encode_batch(RecordBatch.from_records([rec], cfg.n_xbins))
    (store / "journal").mkdir(exist_ok=True)
    (store / "journal" / "1-1.jnl").write_bytes(frame[: len(frame) // 2])
    s = store_status(store)
    assert s["dropped_journal_frames"] == 1 and s["complete"]  # the folded cell stays DONE
    assert cli.main(["status", str(store)]) == 0
    assert "journal: 1 torn or corrupt frame(s) skipped" in capsys.readouterr().out
