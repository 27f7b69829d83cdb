"""Helpers shared by the scan-engine tests (configs, subprocess runs, store comparison)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from lfvscan.schema import CELL_FIELDS

TESTS_DIR = Path(__file__).resolve().parent

#: the mpiexec of the mpich wheel installed with lfvscan (beside this interpreter), else PATH's;
#: lfvscan depends on that wheel, so a missing mpiexec is a broken install and the tests fail
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec") or "mpiexec"

#: environment variables by which MPICH/Hydra (PMI_*), Open MPI and PMIx launchers announce size/rank
MPI_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")
MPI_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")


def env_int(names: tuple[str, ...]) -> int | None:
    """The first of ``names`` set to a non-negative integer in the environment, else None."""
    for name in names:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return None


#: running inside an MPI job of several ranks (e.g. `mpiexec -n 2 pytest --with-mpi --only-mpi`).
#: pytest-mpi 0.6 does not skip unmarked tests when --with-mpi and --only-mpi are both given, so
#: the serial scan tests skip themselves there (each rank would run them concurrently).
UNDER_MPI = (env_int(MPI_SIZE_VARS) or 1) > 1

#: a small grid: Pb at 2 energies, W at 3 (one shared), 5 masses; some cells closed, some skipped
SMALL_TOML = """\
store = "{store}"
seed = {seed}
rel_err = 0.01
n_xbins = 8
max_attempts = {max_attempts}
masses_GeV = {{ min = 2.0, max = 40.0, n = 5 }}
cell_function = "_scan_cells:cheap_cell"

[[targets]]
name = "Pb"
energies_GeV = [160, 1000]

[[targets]]
name = "W"
energies_GeV = {{ min = 100, max = 1000, n = 3 }}
"""


def small_config(seed: int = 7, max_attempts: int = 3):
    """The small grid as a ScanConfig, straight from the TOML text (no file)."""
    import tomllib

    from lfvscan.spec.config import parse_config

    return parse_config(tomllib.loads(SMALL_TOML.format(store="s.zarr", seed=seed, max_attempts=max_attempts)))


def write_config(path: Path, store: str = "s.zarr", seed: int = 7, max_attempts: int = 3, text: str | None = None) -> Path:
    path.write_text(text if text is not None else SMALL_TOML.format(store=store, seed=seed, max_attempts=max_attempts))
    return path


def subprocess_env(**extra: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR)] + [p for p in [env.get("PYTHONPATH")] if p])
    for k in list(env):  # a serial test must not look like an MPI launch
        if k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPI_LOCAL")):
            del env[k]
    env.update(extra)
    return env


def scan_cmd(config: Path, store: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "lfvscan", "scan", str(config), "--store", str(store), *more]


def run_scan_cli(config: Path, store: Path, *more: str, timeout: float = 120, **env) -> subprocess.CompletedProcess:
    return subprocess.run(scan_cmd(config, store, *more), env=subprocess_env(**env), capture_output=True,
                          text=True, timeout=timeout)


#: arrays whose values must be bit-identical between equivalent runs: every stored cell quantity of
#: the schema but the timings and the rank that computed the cell
TIMING_ARRAYS = ("seconds", "wall_seconds", "rank")
RESULT_ARRAYS = tuple(f.name for f in CELL_FIELDS if f.name not in TIMING_ARRAYS)


def read_results(store: Path) -> dict[str, np.ndarray]:
    import zarr

    g = zarr.open_group(str(store), mode="r")
    return {name: np.asarray(g[name][...]) for name in RESULT_ARRAYS}


def memory_results(store) -> dict[tuple[int, int, int], dict[str, bytes]]:
    """Every recorded cell of a MemoryStore: its status code and the raw bytes of each result field
    (float64 scalars and distributions), for bit-identical comparisons."""
    from lfvscan.schema import RESULT_FIELDS

    out = {}
    for index, rec in sorted(store.records.items()):
        cell = {"status": bytes([int(store.status[index])]), "attempts": bytes([int(store.attempts[index])])}
        if rec.result is not None:
            for name in (f.name for f in RESULT_FIELDS):
                if name != "seconds":
                    cell[name] = np.asarray(getattr(rec.result, name), dtype=float).tobytes()
        out[index] = cell
    return out


def assert_same_results(a: Path, b: Path, ignore: tuple[str, ...] = ()) -> None:
    """Every result array bit-identical (text: equal strings), but the arrays named in ``ignore``
    (``attempts`` after a kill: the killed attempt counts, issue 11)."""
    ra, rb = read_results(a), read_results(b)
    for name in (n for n in RESULT_ARRAYS if n not in ignore):
        x, y = ra[name], rb[name]
        assert x.dtype == y.dtype, name
        if x.dtype.kind in "biuf":  # bit-identical, NaN == NaN at the same place
            assert x.tobytes() == y.tobytes(), f"{name} differs between {a} and {b}"
        else:  # text (error messages): equal strings
            assert [str(v) for v in x.ravel()] == [str(v) for v in y.ravel()], f"{name} differs between {a} and {b}"


def extra_attempts(reference: Path, store: Path) -> np.ndarray:
    """attempts(store) - attempts(reference) per cell (attempts charged by kills)."""
    return read_results(store)["attempts"].astype(int) - read_results(reference)["attempts"].astype(int)
