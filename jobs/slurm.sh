#!/bin/bash
# lfvscan scan on SLURM, resubmitting itself until the store is complete.
#
#   sbatch jobs/slurm.sh configs/paper.toml paper.zarr        (from the repository directory)
#
# Before the walltime SLURM sends SIGTERM to this script (--signal=B:TERM@120, 120 s ahead); the
# trap forwards it to srun, every rank finishes its cell in flight, rank 0 writes, and lfvscan
# exits 143.  The script then checks `lfvscan status --json` and, if cells are left, submits itself
# again (at most LFVSCAN_MAX_RESUBMIT times, and never after a run that made no progress).
# Exit codes of `lfvscan scan`: 0 complete, 1 finished with failed cells (not resubmitted: see
# `lfvscan status STORE`), 2 usage error, 130/143 interrupted (resubmitted).
#
# Adjust the resources below; one MPI rank per core, rank 0 also computes.
#SBATCH --job-name=lfvscan
#SBATCH --nodes=1
#SBATCH --ntasks=32
#SBATCH --cpus-per-task=1
#SBATCH --time=04:00:00
#SBATCH --signal=B:TERM@120
#SBATCH --output=lfvscan-%j.log
#SBATCH --open-mode=append

set -u
CONFIG=${1:?usage: sbatch jobs/slurm.sh CONFIG STORE}
STORE=${2:?usage: sbatch jobs/slurm.sh CONFIG STORE}
SUBMIT_DIR=${SLURM_SUBMIT_DIR:-$PWD}
SCRIPT=${LFVSCAN_JOB_SCRIPT:-$SUBMIT_DIR/jobs/slurm.sh}   # sbatch runs a spooled copy: resubmit the original
COUNT=${LFVSCAN_RESUBMIT_COUNT:-0}
MAX=${LFVSCAN_MAX_RESUBMIT:-20}
cd "$SUBMIT_DIR" || exit 2

# one thread per rank: the ranks are the parallelism
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1

done_cells() {
    lfvscan status "$STORE" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["done"])' 2>/dev/null || echo 0
}
before=$(done_cells)

# srun must start the ranks with the PMI of the MPI library mpi4py uses (mpich wheel: pmi2 or pmix);
# lfvscan refuses to run if it sees N singletons instead of one N-rank job.
srun --mpi="${LFVSCAN_SRUN_MPI:-pmi2}" lfvscan scan "$CONFIG" --store "$STORE" --progress-interval 60 &
pid=$!
trap 'echo "lfvscan job: SIGTERM (walltime near), draining"; kill -TERM "$pid" 2>/dev/null' TERM INT
wait "$pid"; rc=$?
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done   # wait again after the trap fired
echo "lfvscan job: scan exited with $rc"

case "$rc" in
    0) echo "lfvscan job: store $STORE complete"; exit 0 ;;
    1) echo "lfvscan job: finished with failed cells; see: lfvscan status $STORE"; exit 1 ;;
    2) echo "lfvscan job: usage error, not resubmitting"; exit 2 ;;
esac
finished=$(lfvscan status "$STORE" --json | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["finished"]))')
after=$(done_cells)
if [ "$finished" = 1 ]; then
    echo "lfvscan job: nothing left to compute"; exit 0
elif [ "$after" -le "$before" ]; then
    echo "lfvscan job: no progress in this job ($before -> $after cells), not resubmitting"; exit 1
elif [ "$COUNT" -ge "$MAX" ]; then
    echo "lfvscan job: resubmitted $COUNT times already (LFVSCAN_MAX_RESUBMIT=$MAX), stopping"; exit 1
fi
echo "lfvscan job: $after cells done, resubmitting ($((COUNT + 1))/$MAX)"
sbatch --export=ALL,LFVSCAN_RESUBMIT_COUNT=$((COUNT + 1)),LFVSCAN_JOB_SCRIPT="$SCRIPT" "$SCRIPT" "$CONFIG" "$STORE"
