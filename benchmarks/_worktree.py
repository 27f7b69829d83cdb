"""Side-by-side runs of two commits for the benchmarks' ``--against REF`` modes.

:func:`checkout` adds a detached ``git worktree`` of REF in a temporary directory; :func:`env_for`
gives the environment that makes the running interpreter import ``lfvscan`` from a given tree
(``PYTHONPATH`` first on ``sys.path``, ahead of the editable install), so both commits run with the
same Python and the same packages.  Measurements alternate between the trees so that the load of a
shared host affects both alike; the benchmarks print ratios from one run.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def checkout(ref: str):
    """A temporary detached worktree of ``ref`` (removed on exit); yields (its path, its short hash)."""
    tmp = Path(tempfile.mkdtemp(prefix="lfvscan-ref-"))
    tree = tmp / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), ref], check=True)
    try:
        short = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], check=True,
                               capture_output=True, text=True).stdout.strip()
        yield tree, short
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


def env_for(tree: Path, **extra: str) -> dict:
    """Environment importing lfvscan from ``tree``, one thread per process, plus ``extra``."""
    return dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                MKL_NUM_THREADS="1", **extra)


def python_in(tree: Path, code: str, **extra: str) -> str:
    """stdout of ``python -c code`` importing lfvscan from ``tree`` (raises on failure)."""
    r = subprocess.run([sys.executable, "-c", code], env=env_for(tree, **extra), capture_output=True, text=True,
                       cwd=tree)
    if r.returncode != 0:
        raise SystemExit(f"benchmark in {tree} failed: {r.stderr.strip()[-2000:]}")
    return r.stdout
