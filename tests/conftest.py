"""Test-session set-up shared by every test module.

Under ``mpiexec -n N`` every rank is a separate pytest process. They would all number and clean
the same ``/tmp/pytest-of-<user>/pytest-K`` directories and race each other (pytest warns
"rm_rf error removing .../garbage-..."). So when launched by an MPI process manager with more than
one rank, and no ``--basetemp`` was given, each rank gets its own fresh base directory.
Tests that need one directory on every rank broadcast rank 0's ``tmp_path`` (see
``test_engine_mpi.shared_dir``). The directory is removed after a green session and kept
(its path printed) after a red one, for post-mortems.
"""

from __future__ import annotations

import shutil
import tempfile

from _scan_util import MPI_RANK_VARS, MPI_SIZE_VARS, env_int


def pytest_configure(config):
    size = env_int(MPI_SIZE_VARS)
    rank = env_int(MPI_RANK_VARS)
    if size is None or size < 2 or rank is None or config.option.basetemp:
        return
    config.option.basetemp = tempfile.mkdtemp(prefix=f"lfvscan-pytest-rank{rank}-")
    config._lfvscan_rank_basetemp = config.option.basetemp


def pytest_sessionfinish(session, exitstatus):
    path = getattr(session.config, "_lfvscan_rank_basetemp", None)
    if path is None:
        return
    if exitstatus == 0:
        shutil.rmtree(path, ignore_errors=True)
    else:
        print(f"\nper-rank test files kept in {path}")
