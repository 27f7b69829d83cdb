#!/bin/bash
# lfvscan scan on SLURM, resubmitting itself until the store is complete.  From the repository
# directory, with lfvscan's venv active (sbatch passes your environment to the job):
#
#   sbatch jobs/slurm.sh configs/paper.toml paper.zarr
#   sbatch --ntasks=8 --time=01:00:00 --partition=short jobs/slurm.sh configs/paper.toml paper.zarr
#   SBATCH_SIGNAL=B:TERM@30 sbatch --time=00:05:00 jobs/slurm.sh ...    (another warning lead)
#
# Drain: before the walltime SLURM sends SIGTERM to this script (--signal=B:TERM@120: 120 s ahead,
# up to 60 s earlier); the trap forwards it to the scan's job step (`scancel --signal=TERM`, not to
# srun, which would kill the step), every rank finishes its cell in flight, rank 0 writes, and
# lfvscan exits 143.  The script then checks `lfvscan status --json` and, if cells are left,
# submits itself again with the resources of this job (tasks, nodes, CPUs per task, time limit,
# partition, account, QOS, memory, constraint, reservation: from `scontrol show job`).  The warning
# signal cannot be read back by the job: change it in the header or with SBATCH_SIGNAL (exported
# to the resubmissions), not with --signal on the command line.
# Exit codes and the resubmission rules: jobs/_resubmit.sh.  Guide: docs/clusters.md.
#
# Launcher (LFVSCAN_LAUNCH): it must match the MPI library mpi4py uses, or lfvscan refuses N
# singletons with a one-line error.
#   srun (default)  `srun --mpi=$LFVSCAN_SRUN_MPI`; pmi2 (default) for the mpich wheel that pip
#                   installs (its --mpi=pmix aborts: "unsupported PMI version"); for a site MPI
#                   with mpi4py built against it, that MPI's PMI (often pmix for Open MPI)
#   mpiexec         `mpiexec -launcher fork -n $SLURM_NTASKS` (the mpich wheel's Hydra, one node
#                   only; a plain `srun -n 1 mpiexec` hangs: Hydra nests an srun)
#
# Adjust the resources below (or give them on the sbatch command line); one MPI rank per core,
# rank 0 also computes.
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
IDLE=${LFVSCAN_IDLE_JOBS:-0}
LAUNCH=${LFVSCAN_LAUNCH:-srun}
cd "$SUBMIT_DIR" || exit 2

# shellcheck source=jobs/_resubmit.sh
. "$SUBMIT_DIR/jobs/_resubmit.sh"   # require_lfvscan, done_cells, after_scan
require_lfvscan

# one thread per rank: the ranks are the parallelism
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1

# the resources of this job, as sbatch options for the next one
job_info=" $(scontrol show job -o "$SLURM_JOB_ID" 2>/dev/null) "
job_field() { local v; v=$(sed -n "s|.* $1=\([^ ]*\) .*|\1|p" <<< "$job_info"); case "$v" in ''|'(null)'|N/A|UNLIMITED|Partition_Limit|0|'*') ;; *) echo "$v" ;; esac; }
resources=()
for opt in ntasks:NumTasks nodes:NumNodes cpus-per-task:CPUs/Task time:TimeLimit partition:Partition \
           account:Account qos:QOS mem:MinMemoryNode mem-per-cpu:MinMemoryCPU constraint:Features reservation:Reservation; do
    value=$(job_field "${opt#*:}")
    [ -n "$value" ] && resources+=("--${opt%%:*}=$value")
done
echo "lfvscan job: job $SLURM_JOB_ID (resubmission $COUNT/$MAX), resources: ${resources[*]}, launcher: $LAUNCH"

before=$(done_cells)
case "$LAUNCH" in
    srun) "srun" --mpi="${LFVSCAN_SRUN_MPI:-pmi2}" "$LFVSCAN" scan "$CONFIG" --store "$STORE" --progress-interval 60 & ;;
    mpiexec) mpiexec -launcher fork -n "${SLURM_NTASKS:-1}" "$LFVSCAN" scan "$CONFIG" --store "$STORE" --progress-interval 60 & ;;
    *) echo "lfvscan job: error: LFVSCAN_LAUNCH=$LAUNCH; use srun or mpiexec" >&2; exit 2 ;;
esac
pid=$!

# SIGTERM from SLURM: forward it once to the ranks.  srun: signal the job step (retried each second
# until the step exists, if the signal came before srun created it); mpiexec: Hydra forwards it.
stop=0 forwarded=0
trap 'stop=1' TERM INT
# ending: scancel or the time limit itself (not the warning: RUNNING), SLURM signals the steps;
# cancelled: by scancel (Reason=None; at the time limit Reason=TimeLimit)
ending() { [[ "$(scontrol show job -o "$SLURM_JOB_ID" 2>/dev/null)" =~ JobState=(COMPLETING|CANCELLED|TIMEOUT)\  ]]; }
cancelled() { [[ "$(scontrol show job -o "$SLURM_JOB_ID" 2>/dev/null)" =~ JobState=(COMPLETING|CANCELLED)\ .*Reason=None ]]; }
forward_stop() {
    if ending; then   # SLURM signals the steps itself; a second TERM would abort the scan
        echo "lfvscan job: job ending (scancel or time limit): the scan drains on SLURM's own SIGTERM"
        forwarded=1
        return
    elif [ "$LAUNCH" = mpiexec ]; then
        kill -TERM "$pid" 2>/dev/null
    elif [ -n "$(squeue -h -s -j "$SLURM_JOB_ID" -o %i 2>/dev/null | grep -E '\.[0-9]+$')" ]; then
        scancel --signal=TERM "$SLURM_JOB_ID"   # every step of this job (not this script): the ranks
    else
        return 1
    fi
    echo "lfvscan job: SIGTERM (walltime near): forwarded to the scan, which drains its cells in flight"
    forwarded=1
}
while :; do
    wait "$pid"; rc=$?
    [ "$stop" = 1 ] && [ "$forwarded" = 0 ] && forward_stop
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null; last=$?; [ "$last" != 127 ] && rc=$last   # if the wait above was interrupted
        break
    fi
    [ "$stop" = 1 ] && [ "$forwarded" = 0 ] && sleep 1   # the step does not exist yet
done
trap - TERM INT
if cancelled; then
    echo "lfvscan job: scan exited with $rc; job cancelled (scancel), not resubmitting; resume with: sbatch ${resources[*]} jobs/slurm.sh $CONFIG $STORE"
    exit "$rc"
fi
after_scan "$rc" "$before"
echo "lfvscan job: sbatch ${resources[*]} $SCRIPT $CONFIG $STORE"
sbatch "${resources[@]}" --export=ALL,LFVSCAN_RESUBMIT_COUNT=$((COUNT + 1)),LFVSCAN_IDLE_JOBS=$IDLE,LFVSCAN_JOB_SCRIPT="$SCRIPT" \
    "$SCRIPT" "$CONFIG" "$STORE"
