#!/bin/bash
# lfvscan scan on PBS / Torque, resubmitting itself until the store is complete.
#
#   qsub -v CONFIG=configs/paper.toml,STORE=paper.zarr jobs/pbs.sh      (from the repository directory)
#
# PBS has no early-warning signal: the scan is stopped with SIGTERM by `timeout` RUN_SECONDS after
# the start (default: walltime - 10 min), drains its cells in flight and exits 143; the script then
# resubmits itself if cells are left (exit codes and rules: jobs/_resubmit.sh).
#PBS -N lfvscan
#PBS -l select=1:ncpus=32:mpiprocs=32
#PBS -l walltime=04:00:00
#PBS -j oe

set -u
cd "${PBS_O_WORKDIR:-$PWD}" || exit 2
CONFIG=${CONFIG:?qsub -v CONFIG=...,STORE=... jobs/pbs.sh}
STORE=${STORE:?qsub -v CONFIG=...,STORE=... jobs/pbs.sh}
NP=${NP:-$(wc -l < "${PBS_NODEFILE:-/dev/null}" 2>/dev/null || echo 1)}
[ "${NP:-0}" -ge 1 ] 2>/dev/null || NP=1
WALL=${LFVSCAN_WALLTIME_SECONDS:-14400}
RUN_SECONDS=${LFVSCAN_RUN_SECONDS:-$((WALL - 600))}
COUNT=${LFVSCAN_RESUBMIT_COUNT:-0}
MAX=${LFVSCAN_MAX_RESUBMIT:-20}

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1

# shellcheck source=jobs/_resubmit.sh
. "$PWD/jobs/_resubmit.sh"   # done_cells, after_scan
before=$(done_cells)
timeout --signal=TERM --kill-after=300 "$RUN_SECONDS" \
    mpiexec -n "$NP" lfvscan scan "$CONFIG" --store "$STORE" --progress-interval 60
rc=$?
[ "$rc" = 124 ] && rc=143   # timeout's own status when it had to send TERM
after_scan "$rc" "$before"
qsub -v "CONFIG=$CONFIG,STORE=$STORE,LFVSCAN_RESUBMIT_COUNT=$((COUNT + 1)),LFVSCAN_MAX_RESUBMIT=$MAX,LFVSCAN_WALLTIME_SECONDS=$WALL" \
    "${LFVSCAN_JOB_SCRIPT:-$PWD/jobs/pbs.sh}"
