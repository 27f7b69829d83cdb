"""jobs/slurm.sh and jobs/pbs.sh on a real single-node SLURM (and its Torque `qsub` wrappers).

Run only with ``LFVSCAN_TEST_SLURM=1`` (``.ci/run`` does, as root): the session fixture uses the
SLURM named by ``SLURM_CONF`` if it answers, else starts a private one with
``tests/slurm/start_slurm.sh`` (apt-get install if needed, munged/slurmctld/slurmd) and stops it by
PID afterwards.  Plain ``pytest`` skips this module (no root, no apt needed).

Synchronisation is on job states (``scontrol show job``; MinJobAge keeps finished jobs listed) and
on the job logs, with generous deadlines that fail loudly with the logs; nothing waits for a sleep
to be long enough.  The cells of the chain tests are slowed down (``_slow_cells``, a sleep per
cell) only so that the work outlasts a 1-minute job: the results do not depend on it, and the
reference is a serial scan of the same config without the sleep.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _scan_util import RESULT_ARRAYS, assert_same_results, subprocess_env

pytestmark = pytest.mark.skipif(os.environ.get("LFVSCAN_TEST_SLURM") != "1",
                                reason="real-SLURM tests: set LFVSCAN_TEST_SLURM=1 (root; .ci/run does)")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
JOB_DEADLINE_S = 240  #: one job, from submission to its end (pending included)
CHAIN_DEADLINE_S = 480  #: a whole resubmission chain
FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE",
                "PREEMPTED"}
#: sleep per open cell in the chain test [s]: 38 open cells, 76 s of rank time, more than the at
#: most ~30 s x 2 ranks one 1-minute job with the signal 30 s ahead computes (the test asserts an
#: interruption); 2-3 jobs in all
CELL_SECONDS = "2"
SLOW_CONFIG_EXTRA = 'cell_function = "_slow_cells:slow_cell"\n'


def log(msg: str) -> None:
    print(f"SLURM test: {msg}", flush=True)


def _sinfo_ok(env) -> bool:
    try:
        return subprocess.run(["sinfo", "-h"], env=env, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def slurm_env(tmp_path_factory):
    """Environment for sbatch/srun/qsub against a running test SLURM (started here if needed)."""
    env = subprocess_env()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", ""), "/usr/sbin", "/sbin"])
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env["PYTHONPATH"]])
    started = None
    if not (env.get("SLURM_CONF") and _sinfo_ok(env)):
        started = Path(os.environ.get("LFVSCAN_SLURM_DIR") or tmp_path_factory.mktemp("slurm"))
        t0 = time.monotonic()
        out = subprocess.run([str(HERE / "start_slurm.sh"), str(started)], env=env, capture_output=True, text=True,
                             timeout=900)
        assert out.returncode == 0, f"start_slurm.sh failed:\n{out.stderr}"
        env["SLURM_CONF"] = out.stdout.strip().rpartition("=")[2]
        log(f"started a single-node SLURM in {started} in {time.monotonic() - t0:.0f} s: {out.stderr.strip()}")
    assert _sinfo_ok(env), "sinfo does not answer"
    yield env
    if started is not None:
        subprocess.run([str(HERE / "stop_slurm.sh"), str(started)], env=env, timeout=300)


def job_info(jid: str, env) -> dict[str, str]:
    out = subprocess.run(["scontrol", "show", "job", "-o", jid], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"scontrol show job {jid}: {out.stderr}"
    return dict(m.groups() for m in re.finditer(r"(\S+?)=(\S*)", out.stdout))


def wait_job_end(jid: str, env, logs) -> dict[str, str]:
    """Poll `scontrol show job` until the job is in a final state; fail with its log at the deadline."""
    deadline = time.monotonic() + JOB_DEADLINE_S
    while True:
        info = job_info(jid, env)
        if info["JobState"] in FINAL_STATES:
            return info
        if time.monotonic() > deadline:
            text = "\n".join(p.read_text() for p in logs() if p.exists())
            pytest.fail(f"job {jid} still {info['JobState']} after {JOB_DEADLINE_S} s; logs:\n{text}")
        time.sleep(0.5)  # polling interval only; the job state decides


@pytest.fixture
def workdir(tmp_path):
    """A submission directory: the repository's jobs/ (linked) and a slow copy of the demo config."""
    (tmp_path / "jobs").symlink_to(REPO / "jobs")
    text = (REPO / "configs" / "demo.toml").read_text()
    (tmp_path / "demo.toml").write_text(text)
    (tmp_path / "slow.toml").write_text(SLOW_CONFIG_EXTRA + text)
    return tmp_path


def serial_reference(config: Path, store: Path, env) -> None:
    out = subprocess.run([sys.executable, "-m", "lfvscan", "scan", str(config), "--store", str(store), "--quiet"],
                         env={**env, "LFVSCAN_TEST_CELL_SECONDS": "0"}, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr


def status(store: Path, env) -> dict:
    import json

    out = subprocess.run([sys.executable, "-m", "lfvscan", "status", str(store), "--json"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def sbatch(args: list[str], cwd: Path, env) -> str:
    out = subprocess.run(["sbatch", "--parsable", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"sbatch {args}: {out.stderr}"
    return out.stdout.strip().split(";")[0]


@pytest.mark.parametrize("launcher", ["srun", "mpiexec"])
def test_demo_job_completes(slurm_env, workdir, launcher):
    """`sbatch jobs/slurm.sh` on the demo config, with `srun --mpi=pmi2` (default) and with
    `mpiexec -launcher fork` (LFVSCAN_LAUNCH=mpiexec): exit 0, one 2-rank job, complete store,
    equal to a serial scan."""
    env = {**slurm_env, "LFVSCAN_LAUNCH": launcher}
    jid = sbatch(["--ntasks=2", "--time=00:05:00", "jobs/slurm.sh", "demo.toml", "demo.zarr"], workdir, env)
    logfile = workdir / f"lfvscan-{jid}.log"
    info = wait_job_end(jid, slurm_env, lambda: [logfile])
    text = logfile.read_text()
    log(f"demo job {jid} ({launcher}): {info['JobState']} ExitCode={info['ExitCode']}\n{text}")
    assert f"launcher: {launcher}" in text
    assert (info["JobState"], info["ExitCode"]) == ("COMPLETED", "0:0"), text
    assert "lfvscan job: store demo.zarr complete" in text
    assert "on 2 ranks" in text  # one 2-rank MPI job (srun --mpi=pmi2), not singletons
    st = status(workdir / "demo.zarr", slurm_env)
    assert st["complete"] and st["counts"]["done"] == st["requested"] == 50
    serial_reference(workdir / "demo.toml", workdir / "ref.zarr", slurm_env)
    assert_same_results(workdir / "demo.zarr", workdir / "ref.zarr")


def test_wrong_launch_is_refused(slurm_env, workdir):
    """Plain srun (no PMI) starts 2 singletons: each refuses with the one-line message, exit 2."""
    out = subprocess.run(["srun", "--mpi=none", "-n", "2", "--time=00:02:00", "lfvscan", "scan", "demo.toml",
                          "--store", "wrong.zarr"], cwd=workdir, env=slurm_env, capture_output=True, text=True,
                         timeout=JOB_DEADLINE_S)
    log(f"srun --mpi=none -n 2 lfvscan scan: exit {out.returncode}\n{out.stderr}")
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if not line.startswith("srun: ")]
    assert len(lines) == 2, out.stderr  # one line per task, no traceback
    for line in lines:
        assert line.startswith("lfvscan scan: error: MPI launched wrongly: SLURM_STEP_NUM_TASKS=2 but "
                               "MPI.COMM_WORLD has size 1"), line
        assert "srun --mpi=pmi2" in line and "mpiexec -launcher fork" in line
    assert not (workdir / "wrong.zarr").exists()


def test_lfvscan_not_on_path_is_a_first_line_error(slurm_env, workdir):
    env = {**slurm_env, "PATH": "/usr/bin:/bin"}
    jid = sbatch(["--ntasks=1", "--time=00:02:00", "jobs/slurm.sh", "demo.toml", "demo.zarr"], workdir, env)
    logfile = workdir / f"lfvscan-{jid}.log"
    info = wait_job_end(jid, slurm_env, lambda: [logfile])
    text = logfile.read_text()
    log(f"job {jid} without lfvscan on PATH: {info['JobState']} ExitCode={info['ExitCode']}: {text.strip()}")
    assert text.startswith("lfvscan job: error: lfvscan is not on PATH in this job"), text
    assert len(text.splitlines()) == 1 and "Traceback" not in text
    assert info["ExitCode"] == "2:0"


def test_scancel_drains_and_stops_the_chain(slurm_env, workdir):
    """`scancel JOB` while the scan computes: the scan drains on SLURM's SIGTERM (forwarded only
    once), the job does not resubmit itself and says how to resume."""
    env = {**slurm_env, "LFVSCAN_TEST_CELL_SECONDS": "1"}
    jid = sbatch(["--ntasks=2", "--time=00:05:00", "jobs/slurm.sh", "slow.toml", "cancel.zarr"], workdir, env)
    logfile = workdir / f"lfvscan-{jid}.log"
    deadline = time.monotonic() + JOB_DEADLINE_S
    while not (logfile.exists() and "lfvscan scan: created store" in logfile.read_text()):  # the scan runs
        assert time.monotonic() < deadline, f"job {jid}: the scan did not start; {job_info(jid, slurm_env)}"
        time.sleep(0.2)  # polling interval only; the log decides
    subprocess.run(["scancel", jid], env=slurm_env, check=True, timeout=60)
    info = wait_job_end(jid, slurm_env, lambda: [logfile])
    text = logfile.read_text()
    log(f"job {jid} cancelled while scanning: {info['JobState']}\n{text}")
    assert info["JobState"] == "CANCELLED"
    assert "scan interrupted by signal 15" in text and "lfvscan scan: aborted" not in text, text  # one TERM only
    assert "job cancelled (scancel), not resubmitting; resume with: sbatch --ntasks=2" in text, text
    assert "Submitted batch job" not in text


def follow_chain(first: str, logfile, env) -> list[tuple[str, dict, str]]:
    """(job id, scontrol info, log) of each job of a resubmission chain, following the logs'
    "Submitted batch job N" lines until a job that did not resubmit."""
    chain, jid, deadline = [], first, time.monotonic() + CHAIN_DEADLINE_S
    while jid is not None:
        assert time.monotonic() < deadline, f"chain not finished after {CHAIN_DEADLINE_S} s: {[c[0] for c in chain]}"
        info = wait_job_end(jid, env, lambda: [logfile(c[0]) for c in chain] + [logfile(jid)])
        text = logfile(jid).read_text()
        chain.append((jid, info, text))
        m = re.search(r"^Submitted batch job (\d+)$", text, re.M)  # printed by the job's own sbatch
        jid = m.group(1) if m else None
    return chain


def _show(jid: str, info: dict, text: str) -> None:
    keep = [line for line in text.splitlines()
            if line.startswith(("lfvscan job:", "scan interrupted", "srun:", "Submitted", "lfvscan scan:"))]
    log(f"job {jid}: {info['JobState']} ExitCode={info['ExitCode']} NumTasks={info['NumTasks']} "
        f"TimeLimit={info['TimeLimit']} Partition={info['Partition']}\n    " + "\n    ".join(keep))


RESOURCE_KEYS = ("NumTasks", "NumNodes", "CPUs/Task", "TimeLimit", "Partition")


def test_walltime_chain_drains_resubmits_and_matches_serial(slurm_env, workdir):
    """1-minute jobs, warning signal 30 s ahead: every interrupted job forwards SIGTERM to its step,
    the scan drains and exits 143, the job resubmits itself with its own resources (2 tasks, 1 min,
    not the header's 32 tasks and 4 h); the final store is bit-identical to a serial scan."""
    env = {**slurm_env, "LFVSCAN_TEST_CELL_SECONDS": CELL_SECONDS, "SBATCH_SIGNAL": "B:TERM@30"}
    t0 = time.monotonic()
    first = sbatch(["--ntasks=2", "--time=00:01:00", "jobs/slurm.sh", "slow.toml", "chain.zarr"], workdir, env)
    chain = follow_chain(first, lambda j: workdir / f"lfvscan-{j}.log", slurm_env)
    for jid, info, text in chain:
        _show(jid, info, text)
    log(f"chain of {len(chain)} jobs in {time.monotonic() - t0:.0f} s")

    resources = {k: chain[0][1][k] for k in RESOURCE_KEYS}
    assert resources["NumTasks"] == "2" and resources["TimeLimit"] == "00:01:00"
    interrupted = [c for c in chain if "scan exited with 143" in c[2]]
    assert len(interrupted) >= 1, "no job was interrupted: the scan must outlast a 1-minute job"
    for k, (jid, info, text) in enumerate(chain):
        assert {key: info[key] for key in RESOURCE_KEYS} == resources, f"job {jid} has other resources"
        assert f"(resubmission {k}/20)" in text
        assert "Traceback" not in text
        if k < len(chain) - 1:  # it resubmitted itself: interrupted by the walltime signal
            assert "SIGTERM (walltime near): forwarded to the scan" in text, text
            assert "lfvscan job: scan exited with 143" in text, text
            assert "resubmitting" in text and "--ntasks=2" in text and "--time=00:01:00" in text, text
            if re.search(r"lfvscan scan: (created|resuming) store", text):  # the scan ran: it drained
                assert "scan interrupted by signal 15" in text, text
    drained = [c for c in interrupted if "scan interrupted by signal 15" in c[2]]
    assert drained, "no scan drained"
    last = chain[-1]
    assert last[1]["JobState"] == "COMPLETED" and last[1]["ExitCode"] == "0:0", last[2]
    assert re.search(r"lfvscan job: (store chain.zarr complete|nothing left to compute)", last[2]), last[2]

    st = status(workdir / "chain.zarr", slurm_env)
    assert st["complete"] and st["counts"]["done"] == 50
    serial_reference(workdir / "slow.toml", workdir / "ref.zarr", slurm_env)
    assert_same_results(workdir / "chain.zarr", workdir / "ref.zarr")
    log(f"chain store bit-identical to a serial scan in: {', '.join(RESULT_ARRAYS)}")


def test_pbs_script_through_torque_wrappers(slurm_env, workdir):
    """jobs/pbs.sh through SLURM's qsub wrapper: `timeout` stops the scan after 10 s, it drains,
    exits 143, the job resubmits itself with qsub -V and its walltime/ncpus/select; the chain ends
    complete and bit-identical to a serial scan.  (The wrapper sets no PBS_* variables: NP and the
    working directory come from -v/-V and the submission directory here.)"""
    if shutil.which("qsub", path=slurm_env["PATH"]) is None:
        pytest.fail("qsub (slurm-wlm-torque) not installed")
    env = {**slurm_env, "LFVSCAN_TEST_CELL_SECONDS": "0.7"}  # 27 s of rank time > 2 ranks x 10 s: 2-3 jobs
    t0 = time.monotonic()
    out = subprocess.run(["qsub", "-V", "-j", "oe", "-l", "walltime=00:03:00,select=1:ncpus=2:mpiprocs=2",
                          "-v", "CONFIG=slow.toml,STORE=pbs.zarr,NP=2,LFVSCAN_RUN_SECONDS=10", "jobs/pbs.sh"],
                         cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    first = out.stdout.strip()

    def logfile(j):  # the wrapper's default names (-o/-e not given again by the resubmission)
        return workdir / f"pbs.sh.o{j}"

    chain, jid, deadline = [], first, time.monotonic() + CHAIN_DEADLINE_S
    while jid is not None:
        assert time.monotonic() < deadline, f"PBS chain not finished after {CHAIN_DEADLINE_S} s"
        info = wait_job_end(jid, slurm_env, lambda: [logfile(c[0]) for c in chain] + [logfile(jid)])
        errfile = workdir / f"pbs.sh.e{jid}"  # resubmissions: stderr apart (the wrapper ignores "#PBS -j oe")
        text = logfile(jid).read_text() + (errfile.read_text() if errfile.exists() else "")
        chain.append((jid, info, text))
        m = re.search(r"^lfvscan job: qsub .*\n(\d+)$", text, re.M)
        jid = m.group(1) if m else None
    for j, info, text in chain:
        _show(j, info, text)
    log(f"PBS chain of {len(chain)} jobs in {time.monotonic() - t0:.0f} s")
    assert len(chain) >= 2, "the PBS job was not interrupted by its RUN_SECONDS"
    for k, (j, info, text) in enumerate(chain):
        assert (info["NumTasks"], info["TimeLimit"]) == ("2", "00:03:00"), f"job {j}: {info}"
        assert "Traceback" not in text
        if k < len(chain) - 1:
            assert "scan interrupted by signal 15" in text and "lfvscan job: scan exited with 143" in text, text
            assert "qsub -V -l select=1:ncpus=2:mpiprocs=2,walltime=00:03:00" in text, text
    assert chain[-1][1]["ExitCode"] == "0:0", chain[-1][2]
    serial_reference(workdir / "slow.toml", workdir / "ref.zarr", slurm_env)
    assert_same_results(workdir / "pbs.zarr", workdir / "ref.zarr")
    log("PBS chain store bit-identical to a serial scan")
