#!/bin/bash
# lfvscan scan on PBS / Torque, resubmitting itself until the store is complete.  From the
# repository directory, with lfvscan's venv active (-V passes your environment, so lfvscan is on
# PATH in the job):
#
#   qsub -V -v CONFIG=configs/paper.toml,STORE=paper.zarr jobs/pbs.sh
#
# PBS has no early-warning signal: the scan is stopped with SIGTERM by `timeout` RUN_SECONDS after
# the start (default: walltime - 10 min, walltime read from `qstat -f`), drains its cells in flight
# and exits 143; the script then resubmits itself (with -V and the walltime, select/nodes, ncpus,
# mem and queue of this job, from `qstat -f`) if cells are left.  Exit codes and the resubmission
# rules: jobs/_resubmit.sh.  Guide: docs/clusters.md.
# Ranks: NP (default: the lines of $PBS_NODEFILE, one per MPI slot), started with the mpiexec of
# the MPI mpi4py uses (one node tested; on several nodes check that it spreads the ranks over
# $PBS_NODEFILE, e.g. Hydra's `mpiexec -f $PBS_NODEFILE`).
#PBS -N lfvscan
#PBS -l select=1:ncpus=32:mpiprocs=32
#PBS -l walltime=04:00:00
#PBS -j oe

set -u
cd "${PBS_O_WORKDIR:-$PWD}" || exit 2
CONFIG=${CONFIG:?qsub -V -v CONFIG=...,STORE=... jobs/pbs.sh}
STORE=${STORE:?qsub -V -v CONFIG=...,STORE=... jobs/pbs.sh}
COUNT=${LFVSCAN_RESUBMIT_COUNT:-0}
MAX=${LFVSCAN_MAX_RESUBMIT:-20}
IDLE=${LFVSCAN_IDLE_JOBS:-0}

# shellcheck source=jobs/_resubmit.sh
. "$PWD/jobs/_resubmit.sh"   # require_lfvscan, done_cells, after_scan
require_lfvscan

NP=${NP:-${PBS_NP:-$(wc -l < "${PBS_NODEFILE:-/dev/null}" 2>/dev/null || echo 1)}}
[ "${NP:-0}" -ge 1 ] 2>/dev/null || NP=1

# the resources of this job (qstat -f: "    Resource_List.walltime = 04:00:00"), for the next one
job_id=${PBS_JOBID:-${SLURM_JOB_ID:-}}
job_info=$(qstat -f "$job_id" 2>/dev/null)
job_field() { sed -n "s|^[[:space:]]*$1 = \(.*\)$|\1|p" <<< "$job_info" | head -n 1; }
resources=()
for res in walltime select nodes ncpus mem place; do
    value=$(job_field "Resource_List.$res")
    [ -n "$value" ] && resources+=("$res=$value")
done
if [ -z "$(job_field Resource_List.select)$(job_field Resource_List.nodes)" ]; then
    resources=("select=1:ncpus=$NP:mpiprocs=$NP" "${resources[@]}")   # not reported (SLURM's qstat wrapper): the ranks of this job
fi
queue=$(job_field queue)
walltime=$(job_field Resource_List.walltime)
if [ -z "${LFVSCAN_WALLTIME_SECONDS:-}" ] && [[ "$walltime" =~ ^([0-9]+):([0-9]+):([0-9]+)$ ]]; then
    LFVSCAN_WALLTIME_SECONDS=$(( 10#${BASH_REMATCH[1]} * 3600 + 10#${BASH_REMATCH[2]} * 60 + 10#${BASH_REMATCH[3]} ))
fi
WALL=${LFVSCAN_WALLTIME_SECONDS:-14400}
RUN_SECONDS=${LFVSCAN_RUN_SECONDS:-$((WALL - 600))}
list=$(IFS=,; echo "${resources[*]}")
echo "lfvscan job: job $job_id (resubmission $COUNT/$MAX), resources: ${list:-unknown} queue ${queue:-default}, $NP ranks, scan stopped after $RUN_SECONDS s"

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1

before=$(done_cells)
timeout --signal=TERM --kill-after=300 "$RUN_SECONDS" \
    mpiexec -n "$NP" "$LFVSCAN" scan "$CONFIG" --store "$STORE" --progress-interval 60
rc=$?
[ "$rc" = 124 ] && rc=143   # timeout's own status when it had to send TERM
after_scan "$rc" "$before"
submit=(qsub -V)
[ -n "$list" ] && submit+=(-l "$list")
[ -n "$queue" ] && submit+=(-q "$queue")
submit+=(-v "CONFIG=$CONFIG,STORE=$STORE,LFVSCAN_RESUBMIT_COUNT=$((COUNT + 1)),LFVSCAN_MAX_RESUBMIT=$MAX,LFVSCAN_IDLE_JOBS=$IDLE"
         "${LFVSCAN_JOB_SCRIPT:-$PWD/jobs/pbs.sh}")
echo "lfvscan job: ${submit[*]}"
"${submit[@]}"
