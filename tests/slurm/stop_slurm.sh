#!/usr/bin/env bash
# Stop the test SLURM started by tests/slurm/start_slurm.sh: cancel its jobs, wait until none runs,
# then stop slurmd, slurmctld and munged by the PIDs it recorded (TERM, then KILL after 30 s).
set -uo pipefail
DIR=$(realpath -m "${1:-${LFVSCAN_SLURM_DIR:-/tmp/lfvscan-slurm}}")
say() { echo "stop_slurm: $*" >&2; }
[ -f "$DIR/pids" ] || { say "no $DIR/pids: nothing to stop"; exit 0; }
export SLURM_CONF=$DIR/slurm.conf
if scancel --user=root 2>/dev/null; then
    deadline=$((SECONDS + 60))
    while [ -n "$(squeue -h -t RUNNING,COMPLETING,PENDING -o %i 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do
        sleep 0.5
    done
fi
for name in slurmd slurmctld munged; do
    pid=$(awk -v n="$name" '$1 == n {print $2}' "$DIR/pids")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid"
    deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then say "$name ($pid) ignored TERM for 30 s, killing"; kill -KILL "$pid"; fi
done
rm -f "$DIR/pids"
say "stopped the test SLURM in $DIR"
