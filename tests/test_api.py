"""The public API of ``import lfvscan``: lazy exports (cheap import), every name resolves to the
documented module, and the session in the package docstring runs."""

from __future__ import annotations

import doctest
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lfvscan

HEAVY = ("vegas", "zarr", "matplotlib", "mpi4py")

#: where each public name is defined (the layer that owns it)
HOME = {
    "compute_cell": "lfvscan.xsec", "CellResult": "lfvscan.xsec",
    "load_config": "lfvscan.spec.config", "ScanConfig": "lfvscan.spec.config",
    "run_scan": "lfvscan.scan.engine",
    "load_scan": "lfvscan.store", "ScanData": "lfvscan.store",
    "load_experiments": "lfvscan.pheno.experiments", "load_flux": "lfvscan.pheno.flux",
    "compute_yields": "lfvscan.pheno.yields", "compute_limits": "lfvscan.pheno.limits",
    "compute_limits_for_store": "lfvscan.pheno.store_limits", "LimitsResult": "lfvscan.pheno.store_limits",
    "model_summary": "lfvscan.physics.summary",
}


def _imported_after(code: str) -> list[str]:
    """Top-level packages of HEAVY in sys.modules after running ``code`` in a fresh interpreter."""
    probe = code + f"\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_lfvscan_and_cli_is_cheap():
    assert _imported_after("import lfvscan") == []
    assert _imported_after("import lfvscan, lfvscan.cli; lfvscan.__version__; dir(lfvscan)") == []


@pytest.mark.slow
def test_status_imports_neither_vegas_nor_matplotlib(tmp_path):
    from lfvscan.spec.config import load_config
    from lfvscan.store import ScanStore

    cfg = tmp_path / "tiny.toml"
    cfg.write_text('seed = 1\nmasses_GeV = [3.0]\n[[targets]]\nname = "Pb"\nenergies_GeV = [160]\n')
    ScanStore.create(tmp_path / "s.zarr", load_config(cfg)).close()
    code = f"from lfvscan.cli import main\nassert main(['status', {str(tmp_path / 's.zarr')!r}, '--json']) == 0"
    assert set(_imported_after(code)) & {"vegas", "matplotlib", "mpi4py"} == set()


def test_every_public_name_resolves_to_its_module():
    assert lfvscan.__all__ == ["__version__", *HOME]
    assert isinstance(lfvscan.__version__, str)
    for name, module in HOME.items():
        obj = getattr(lfvscan, name)
        assert obj is getattr(importlib.import_module(module), name), name
        assert name in dir(lfvscan)
    ns: dict = {}
    exec("from lfvscan import *", ns)
    assert set(HOME) | {"__version__"} <= set(ns)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lfvscan.nope  # noqa: B018


@pytest.mark.slow
def test_docstring_session_runs(tmp_path, monkeypatch):
    """The typical session of lfvscan's docstring, as a doctest (demo config, scan into tmp_path)."""
    demo = Path(__file__).resolve().parents[1] / "configs" / "demo.toml"
    (tmp_path / "configs").mkdir()
    shutil.copy(demo, tmp_path / "configs" / "demo.toml")
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(lfvscan, verbose=False, report=True)
    assert result.attempted >= 10 and result.failed == 0
    assert (tmp_path / "demo.zarr").is_dir()
