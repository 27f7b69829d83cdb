"""One line for every failure (issue 11, items 5 and 6): usage errors exit 2, I/O and environment
failures exit 74 (lfvscan.errors), never a traceback; a lost creation race or a disk-full creation
leaves nothing behind; grids beyond max_cells are refused up front."""

from __future__ import annotations

import errno
import re
import subprocess
import sys

import numpy as np
import pytest

from lfvscan import cli
from lfvscan.errors import EXIT_IO, EXIT_USAGE
from lfvscan.spec.config import load_config
from lfvscan.scan.engine import run_scan
from lfvscan.store import open_for_scan, store_status

from _scan_cells import cheap_cell
from _scan_util import SMALL_TOML, UNDER_MPI, subprocess_env, write_config

pytestmark = pytest.mark.skipif(UNDER_MPI, reason="serial test (under mpiexec only the MPI tests run)")


def _one_line(capsys, start: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    err = [ln for ln in err if "warning:" not in ln]
    assert len(err) == 1 and err[0].startswith(start), err
    return err[0]


def _text(**over) -> str:
    text = SMALL_TOML.format(store="s.zarr", seed=7, max_attempts=3)
    for old, new in over.items():
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def done_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("done")
    out = run_scan(load_config(write_config(d / "c.toml")), str(d / "s.zarr"), cell_fn=cheap_cell, quiet=True)
    assert out.exit_code == 0
    return d / "s.zarr"


def test_non_utf8_config(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(b"seed = 1\n# caf\xe9\n")
    assert cli.main(["scan", str(cfg), "--store", str(tmp_path / "s.zarr")]) == EXIT_USAGE
    line = _one_line(capsys, "lfvscan scan: error: scan config")
    assert "is not UTF-8 text (byte 0xe9 at offset 14)" in line
    assert not (tmp_path / "s.zarr").exists()


def test_read_only_store(tmp_path, capsys, monkeypatch, done_store):
    """EROFS when taking the writer lock (root ignores permission bits, so the error is injected)."""
    import lfvscan.store.zarr_store as zs

    def read_only(path):
        raise OSError(errno.EROFS, "Read-only file system", str(path / "lfvscan.lock"))

    monkeypatch.setattr(zs, "try_lock", read_only)
    cfg = write_config(tmp_path / "c.toml")
    assert cli.main(["scan", str(cfg), "--store", str(done_store), "--quiet"]) == EXIT_IO
    line = _one_line(capsys, "lfvscan scan: I/O or environment error: Read-only file system:")
    assert "lfvscan.lock" in line and "(read-only file system)" in line


def test_disk_full_during_a_scan_loses_nothing(tmp_path, capsys, monkeypatch):
    """ENOSPC on the 4th journal append: one line, exit 74; the 3 cells journaled are kept and a
    rerun (disk freed) completes the scan."""
    from lfvscan.store.journal import Journal

    real, calls = Journal.append, []

    def filling(self, records):
        calls.append(1)
        if len(calls) == 4:
            raise OSError(errno.ENOSPC, "No space left on device", "s.zarr/journal/1-1.log")
        return real(self, records)

    monkeypatch.setattr(Journal, "append", filling)
    cfg, store = write_config(tmp_path / "c.toml"), tmp_path / "s.zarr"
    assert cli.main(["scan", str(cfg), "--store", str(store), "--quiet"]) == EXIT_IO
    assert "No space left on device" in _one_line(capsys, "lfvscan scan: I/O or environment error:")
    assert store_status(store)["counts"]["done"] == 3
    assert store_status(store)["state"].startswith("ended: I/O or environment error (No space left on device")
    monkeypatch.setattr(Journal, "append", real)
    assert cli.main(["scan", str(cfg), "--store", str(store), "--quiet"]) == 0
    assert store_status(store)["complete"]


def test_a_full_disk_still_lets_the_run_information_say_how_the_run_ended(tmp_path, monkeypatch):
    """No room for a new run-information file (ENOSPC): the existing one is overwritten in place, in
    the bytes it holds (compact, else its essential keys), so `lfvscan status` does not call a run
    ended by a full disk "killed"; without an existing file the error stands."""
    from lfvscan.store import run_info

    run_info.write_run_info(tmp_path, {"state": "running", "pid": 1, "padding": "x" * 60})
    real = run_info.write_atomic

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(run_info, "write_atomic", full)
    run_info.write_run_info(tmp_path, {"state": "ended: I/O or environment error (disk full)", "pid": 1})
    assert run_info.read_run_info(tmp_path) == {"state": "ended: I/O or environment error (disk full)", "pid": 1}
    run_info.write_run_info(tmp_path, {"state": "ended: disk full", "pid": 1, "padding": "y" * 500})
    assert run_info.read_run_info(tmp_path) == {"state": "ended: disk full", "pid": 1}  # essential keys only
    with pytest.raises(OSError, match="No space left"):
        run_info.write_run_info(tmp_path / "nowhere", {"state": "x"})
    monkeypatch.setattr(run_info, "write_atomic", real)


def test_disk_full_while_creating_a_store_leaves_nothing(tmp_path, capsys, monkeypatch):
    import lfvscan.store.layout as layout

    real = layout.create

    def half(path, config, text=""):
        real(path, config, text)  # everything written, then the last file does not fit
        raise OSError(errno.ENOSPC, "No space left on device", str(path / "zarr.json"))

    monkeypatch.setattr(layout, "create", half)
    cfg = write_config(tmp_path / "c.toml")
    assert cli.main(["scan", str(cfg), "--store", str(tmp_path / "s.zarr"), "--quiet"]) == EXIT_IO
    assert "disk full" in _one_line(capsys, "lfvscan scan: I/O or environment error: No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


@pytest.mark.slow
def test_two_scans_racing_to_create_one_store(tmp_path, capsys, monkeypatch):
    """The other scan creates the store while this one is creating it: this one stops with one
    line, exit 2, and leaves no .creating directory; the winner's store is intact."""
    import lfvscan.store.layout as layout
    from lfvscan.store import ScanStore

    cfg_path, store = write_config(tmp_path / "c.toml"), tmp_path / "s.zarr"
    real = layout.create

    def racing(path, config, text=""):
        real(path, config, text)
        monkeypatch.setattr(layout, "create", real)
        ScanStore.create(store, config, text).close()  # the winner, in between

    monkeypatch.setattr(layout, "create", racing)
    assert cli.main(["scan", str(cfg_path), "--store", str(store), "--quiet"]) == EXIT_USAGE
    assert "was created by another scan at the same moment" in _one_line(capsys, "lfvscan scan: error: store")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "s.zarr"]
    assert cli.main(["scan", str(cfg_path), "--store", str(store), "--quiet"]) == 0  # the winner's store works


def test_stale_creating_dir_of_a_live_process_is_kept(tmp_path):
    """Only leftovers of dead creators are removed (a live one may be the other racer)."""
    import os
    import socket

    live = tmp_path / f"s.zarr.{socket.gethostname()}.{os.getpid()}.abcd1234.creating"
    dead = tmp_path / f"s.zarr.{socket.gethostname()}.999999999.abcd1234.creating"
    live.mkdir(), dead.mkdir()
    store, _ = open_for_scan(tmp_path / "s.zarr", load_config(write_config(tmp_path / "c.toml")))
    store.close()
    assert live.exists() and not dead.exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["limits", "figures"])
def test_unwritable_out(tmp_path, capsys, done_store, command):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main([command, str(done_store), "--out", str(blocker / "sub")]) == EXIT_IO
    assert "Not a directory" in _one_line(capsys, f"lfvscan {command}: I/O or environment error:")


def test_figures_when_no_limit_is_finite(tmp_path, capsys):
    """Every mass above the reach: all cells closed, every limit infinite."""
    cfg = write_config(tmp_path / "c.toml", text=_text(**{"{ min = 2.0, max = 40.0, n = 5 }": "[50.0, 60.0]"}))
    assert run_scan(load_config(cfg), str(tmp_path / "s.zarr"), cell_fn=cheap_cell, quiet=True).exit_code == 0
    assert cli.main(["figures", str(tmp_path / "s.zarr"), "--out", str(tmp_path / "f")]) == EXIT_USAGE
    assert "no exclusion limit of store" in _one_line(capsys, "lfvscan figures: error:")


@pytest.mark.parametrize("line, needle", [
    ("n_xbins = 10000000", "n_xbins = 10000000 is outside the validity range"),
    ("n_xbins = 1e7", "n_xbins must be an integer, got 10000000.0"),
])
def test_huge_n_xbins_refused(tmp_path, capsys, line, needle):
    cfg = write_config(tmp_path / "c.toml", text=_text(**{"n_xbins = 8": line}))
    assert cli.main(["scan", str(cfg), "--store", str(tmp_path / "s.zarr")]) == EXIT_USAGE
    assert needle in _one_line(capsys, "lfvscan scan: error: invalid scan config")


def test_journal_path_is_a_file(tmp_path, capsys):
    cfg, store = write_config(tmp_path / "c.toml"), tmp_path / "s.zarr"
    s, _ = open_for_scan(store, load_config(cfg))
    s.close()
    (store / "journal").rmdir() if (store / "journal").is_dir() else None
    (store / "journal").write_text("not a directory")
    assert cli.main(["scan", str(cfg), "--store", str(store), "--quiet"]) == EXIT_USAGE
    assert "journal' is not a directory" in _one_line(capsys, "lfvscan scan: error: store")


def test_grid_larger_than_max_cells_refused_up_front_unless_raised(tmp_path, capsys):
    """A 1e7-point mass axis is refused before any point is made (fast, no memory); a grid over
    max_cells names its size; raising max_cells in the config accepts it."""
    big = write_config(tmp_path / "big.toml", text=_text(**{"n = 5 }": "n = 10000000 }"}))
    assert cli.main(["scan", str(big), "--store", str(tmp_path / "b.zarr")]) == EXIT_USAGE
    assert "masses_GeV.n = 10000000 exceeds max_cells = 200000" in _one_line(capsys, "lfvscan scan: error:")
    mid = write_config(tmp_path / "mid.toml", text=_text(**{"n = 5 }": "n = 30000 }"}))
    assert cli.main(["scan", str(mid), "--store", str(tmp_path / "m.zarr")]) == EXIT_USAGE
    line = _one_line(capsys, "lfvscan scan: error:")
    assert "the grid has 240000 cells (2 targets x 4 energies x 30000 masses" in line and "raise max_cells" in line
    assert not (tmp_path / "m.zarr").exists()
    raised = load_config(write_config(tmp_path / "r.toml", text="max_cells = 300000\n" + _text(**{"n = 5 }": "n = 30000 }"})))
    assert raised.shape == (2, 4, 30000) and raised.max_cells == 300000
    assert "max_cells" not in raised.physics_dict()  # a run setting: not part of the store's identity


@pytest.mark.slow
def test_help_lists_the_exit_statuses():
    r = subprocess.run([sys.executable, "-m", "lfvscan", "--help"], env=subprocess_env(), capture_output=True, text=True)
    assert re.search(r"^  74 +I/O or environment failure", r.stdout, re.M)
    assert re.search(r"^  3 +complete, but some results", r.stdout, re.M)
    r = subprocess.run([sys.executable, "-m", "lfvscan", "scan", "--help"], env=subprocess_env(), capture_output=True,
                       text=True)
    assert "74 I/O or environment" in " ".join(r.stdout.split()) and "3 complete, but some results" in " ".join(r.stdout.split())


@pytest.mark.slow
@pytest.mark.parametrize("after", [2, 4, 6])
def test_disk_full_under_mpiexec_is_one_line_and_74(tmp_path, after):
    """The disk fills up during an ``mpiexec -n 2`` scan (journal, attempt log and run information
    of rank 0 fail with ENOSPC, at several points of the run): one line, exit 74, never a traceback;
    a rerun with space completes the scan."""
    from _scan_util import MPIEXEC, scan_cmd

    cfg, store = write_config(tmp_path / "c.toml"), tmp_path / "s.zarr"
    r = subprocess.run([MPIEXEC, "-n", "2", *scan_cmd(cfg, store, "--quiet")], capture_output=True, text=True,
                       env=subprocess_env(LFVSCAN_TEST_DISK_FULL_AFTER=str(after)), timeout=120)
    lines = [ln for ln in r.stderr.strip().splitlines() if "warning:" not in ln]
    assert r.returncode == EXIT_IO, r.stderr
    assert len(lines) == 1 and lines[0].startswith("lfvscan scan: I/O or environment error: No space left on device"), \
        r.stderr
    assert store_status(store)["state"].startswith("ended: I/O or environment error (No space left on device")
    r = subprocess.run([MPIEXEC, "-n", "2", *scan_cmd(cfg, store, "--quiet")], capture_output=True, text=True,
                       env=subprocess_env(), timeout=120)
    assert r.returncode == 0, r.stderr
    assert store_status(store)["complete"]


NOT_UTF8 = b"# caf\xe9\n"


@pytest.mark.parametrize("argv, what", [
    (["limits", "{store}", "--experiments-config", "{bad}", "--out", "{tmp}/l"], "experiments config"),
    (["figures", "{store}", "--experiments-config", "{bad}", "--out", "{tmp}/f"], "experiments config"),
    (["run", "{cfg}", "--store", "{store}", "--experiments-config", "{bad}"], "experiments config"),
    (["figures", "{store}", "--id-curve", "{bad}", "--out", "{tmp}/f"], "ID limit file"),
    (["figures", "{store}", "--compare", "{bad}", "--out", "{tmp}/f"], "limits CSV"),
    (["export", "{store}", "--to", "{tmp}/x.h5", "--limits", "{bad}"], "--limits: limits CSV"),
])
def test_a_non_utf8_input_file_is_one_line_and_exit_2(tmp_path, capsys, done_store, argv, what):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(NOT_UTF8)
    cfg = write_config(tmp_path / "c.toml")
    argv = [a.format(store=done_store, bad=bad, tmp=tmp_path, cfg=cfg) for a in argv]
    assert cli.main(argv) == EXIT_USAGE
    line = _one_line(capsys, f"lfvscan {argv[0]}: error: ")
    assert f"{what} {str(bad)!r} is not UTF-8 text (byte 0xe9 at offset 5)" in line


@pytest.mark.parametrize("argv", [["limits", "{store}", "--theta", "pi/0", "--out", "{tmp}/l"],
                                  ["figures", "{store}", "--theta", "pi/0", "--out", "{tmp}/f"],
                                  ["figures", "{store}", "--thetas", "pi/0", "--out", "{tmp}/f"]])
def test_theta_divided_by_zero_is_one_line_naming_the_option(tmp_path, capsys, done_store, argv):
    argv = [a.format(store=done_store, tmp=tmp_path) for a in argv]
    assert cli.main(argv) == EXIT_USAGE
    assert "'pi/0': division by zero" in _one_line(capsys, f"lfvscan {argv[0]}: error: {argv[2]}: cannot read")


@pytest.mark.parametrize("command", ["status", "verify", "limits", "export", "scan"])
def test_a_store_without_its_config_attribute_is_one_line(tmp_path, capsys, done_store, command):
    import json
    import shutil

    store = tmp_path / "s.zarr"
    shutil.copytree(done_store, store)
    meta = json.loads((store / "zarr.json").read_text())
    del meta["attributes"]["config"]
    (store / "zarr.json").write_text(json.dumps(meta))
    argv = {"status": ["status", str(store)], "verify": ["verify", str(store)],
            "limits": ["limits", str(store), "--out", str(tmp_path / "l")],
            "export": ["export", str(store), "--to", str(tmp_path / "x.h5")],
            "scan": ["scan", str(write_config(tmp_path / "c.toml")), "--store", str(store)]}[command]
    assert cli.main(argv) == EXIT_USAGE
    assert "has no valid 'config' attribute" in _one_line(capsys, f"lfvscan {command}: error: store {str(store)!r} is damaged")


def test_a_limits_csv_with_a_byte_order_mark_is_read(tmp_path, done_store):
    from lfvscan.pheno.limits import read_limits_csv

    assert cli.main(["limits", str(done_store), "--out", str(tmp_path / "l")]) == 0
    csv = tmp_path / "l" / "limits.csv"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + csv.read_bytes())
    a, b = read_limits_csv(csv), read_limits_csv(bom)
    assert a.keys() == b.keys() and all(np.array_equal(a[k]["g_lim"], b[k]["g_lim"], equal_nan=True) for k in a)


def test_an_empty_store_path_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = write_config(tmp_path / "c.toml")
    for command in ("scan", "run"):
        assert cli.main([command, str(cfg), "--store", ""]) == EXIT_USAGE
        assert "empty path" in _one_line(capsys, f"lfvscan {command}: error: --store")
    assert not (tmp_path / "s.zarr").exists() and not (tmp_path / "scan.zarr").exists()


@pytest.mark.parametrize("argv, message", [
    (["--rel-err", "0.5"], "rel_err = 0.5 is outside the validity range: must be in [0.0001, 0.5)"),
    (["--seed", "-1"], "--seed -1: the seed must be an integer >= 0"),
])
def test_xsec_options_out_of_range_name_the_option_and_the_range(capsys, argv, message):
    assert cli.main(["xsec", "--target", "Pb", "--energy", "160", "--mass", "2", *argv]) == EXIT_USAGE
    assert message in _one_line(capsys, "lfvscan xsec: error: ")


def test_a_foreign_file_as_flux_is_refused_without_quoting_it(tmp_path, capsys, done_store):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the first line of a private file\nmore\n")
    assert cli.main(["limits", str(done_store), "--set", f"fasernu2.flux_file={secret}", "--out",
                     str(tmp_path / "l")]) == EXIT_USAGE
    line = _one_line(capsys, "lfvscan limits: error: ")
    assert "is not the header" in line and "root:x" not in line and "private" not in line


def test_a_target_with_more_protons_than_nucleons_is_refused():
    from lfvscan.physics.targets import Target

    with pytest.raises(ValueError, match=r"Z = 100 exceeds the mass number A = 50"):
        Target("X", Z=100, A=50, molar_mass_g_mol=50.0, density_g_cm3=1.0)


def test_a_checksum_error_is_described_not_dumped(tmp_path, capsys, done_store):
    import shutil

    store = tmp_path / "s.zarr"
    shutil.copytree(done_store, store)
    chunk = store / "mass_GeV" / "c" / "0"
    data = bytearray(chunk.read_bytes())
    data[0] ^= 1
    chunk.write_bytes(bytes(data))
    assert cli.main(["status", str(store)]) == EXIT_USAGE
    line = _one_line(capsys, "lfvscan status: error: ")
    assert "checksum mismatch: the file is damaged" in line and "b'" not in line
