#!/bin/bash
# lfvscan scan on SLURM, resubmitting itself until the store is complete.
#
#   sbatch jobs/slurm.sh configs/paper.toml paper.zarr        (from the repository directory)
#
# Before the walltime SLURM sends SIGTERM to this script (--signal=B:TERM@120, 120 s ahead); the
# trap forwards it to srun, every rank finishes its cell in flight, rank 0 writes, and lfvscan
# exits 143.  The script then checks `lfvscan status --json` and, if cells are left, submits itself
# again (at most LFVSCAN_MAX_RESUBMIT times, and never after a run that made no progress).
# Exit codes and the resubmission rules: jobs/_resubmit.sh.
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

# shellcheck source=jobs/_resubmit.sh
. "$SUBMIT_DIR/jobs/_resubmit.sh"   # done_cells, after_scan
before=$(done_cells)

# srun must start the ranks with the PMI of the MPI library mpi4py uses (mpich wheel: pmi2 or pmix);
# lfvscan refuses to run if it sees N singletons instead of one N-rank job.
srun --mpi="${LFVSCAN_SRUN_MPI:-pmi2}" lfvscan scan "$CONFIG" --store "$STORE" --progress-interval 60 &
pid=$!
trap 'echo "lfvscan job: SIGTERM (walltime near), draining"; kill -TERM "$pid" 2>/dev/null' TERM INT
wait "$pid"; rc=$?
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done   # wait again after the trap fired
after_scan "$rc" "$before"
sbatch --export=ALL,LFVSCAN_RESUBMIT_COUNT=$((COUNT + 1)),LFVSCAN_JOB_SCRIPT="$SCRIPT" "$SCRIPT" "$CONFIG" "$STORE"
