#!/bin/bash
# lfvscan scan on PBS / Torque, resubmitting itself until the store is complete.
#
#   qsub -v CONFIG=configs/paper.toml,STORE=paper.zarr jobs/pbs.sh      (from the repository directory)
#
# PBS has no early-warning signal: the scan is stopped with SIGTERM by `timeout` RUN_SECONDS after
# the start (default: walltime - 10 min), drains its cells in flight and exits 143; the script then
# resubmits itself if cells are left (see jobs/slurm.sh for the exit codes).
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

done_cells() {
    lfvscan status "$STORE" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["done"])' 2>/dev/null || echo 0
}
before=$(done_cells)
timeout --signal=TERM --kill-after=300 "$RUN_SECONDS" \
    mpiexec -n "$NP" lfvscan scan "$CONFIG" --store "$STORE" --progress-interval 60
rc=$?
[ "$rc" = 124 ] && rc=143   # timeout's own status when it had to send TERM
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
    echo "lfvscan job: resubmitted $COUNT times already, stopping"; exit 1
fi
echo "lfvscan job: $after cells done, resubmitting ($((COUNT + 1))/$MAX)"
qsub -v "CONFIG=$CONFIG,STORE=$STORE,LFVSCAN_RESUBMIT_COUNT=$((COUNT + 1)),LFVSCAN_MAX_RESUBMIT=$MAX,LFVSCAN_WALLTIME_SECONDS=$WALL" \
    "${LFVSCAN_JOB_SCRIPT:-$PWD/jobs/pbs.sh}"
