#!/usr/bin/env bash
# Bring up a private single-node SLURM on this machine for tests/slurm (root; CI or a throw-away box).
#
#   eval "$(tests/slurm/start_slurm.sh [DIR])"      # prints `export SLURM_CONF=DIR/slurm.conf`
#   ... sbatch / srun / qsub ...
#   tests/slurm/stop_slurm.sh [DIR]                  # cancels the jobs, stops the daemons by PID
#
# Installs the Debian packages if missing (slurm-wlm, slurm-wlm-torque for the qsub wrapper), then
# runs its own munged, slurmctld and slurmd with everything (config, key, socket, state, logs, PIDs)
# in DIR (default /tmp/lfvscan-slurm) and its own ports, so a system SLURM or munge is left alone.
# The node has as many CPUs as this machine; proctrack/linuxproc and task/none (no cgroups needed
# in a container), select/cons_tres, no accounting.  Returns once `sinfo` shows the node idle
# (deadline LFVSCAN_SLURM_START_TIMEOUT s, default 120; on failure the daemon logs are printed).
set -euo pipefail
DIR=$(realpath -m "${1:-${LFVSCAN_SLURM_DIR:-/tmp/lfvscan-slurm}}")
TIMEOUT=${LFVSCAN_SLURM_START_TIMEOUT:-120}
say() { echo "start_slurm: $*" >&2; }
die() { say "error: $*"; for f in "$DIR"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it starts slurmd and munged); run it in CI or a throw-away machine"
if [ -f "$DIR/pids" ]; then die "$DIR/pids exists: a test SLURM may be running; stop it with tests/slurm/stop_slurm.sh $DIR"; fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v qsub >/dev/null; then
    say "installing slurm-wlm slurm-wlm-torque with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends slurm-wlm slurm-wlm-torque munge >&2
fi
PATH=$PATH:/usr/sbin:/sbin

mkdir -p "$DIR"/{state,spool,run}
chmod 700 "$DIR"
host=$(hostname -s)
ncpu=$(nproc --all)   # --all: plain nproc obeys OMP_NUM_THREADS (CI sets it to 1)

# munge: a fresh key and a private socket
dd if=/dev/urandom of="$DIR/munge.key" bs=1024 count=1 status=none
chmod 400 "$DIR/munge.key"
: > "$DIR/pids"
munged --foreground --force --socket="$DIR/run/munge.socket" --key-file="$DIR/munge.key" \
    --pid-file="$DIR/run/munged.pid" --log-file="$DIR/munged.log" --seed-file="$DIR/run/munged.seed" \
    </dev/null >>"$DIR/munged.log" 2>&1 &
echo "munged $!" >> "$DIR/pids"

cat > "$DIR/slurm.conf" <<CONF
# written by tests/slurm/start_slurm.sh
ClusterName=lfvscan-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/run/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MinJobAge=3600
KillWait=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$ncpu State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$DIR/slurm.conf

deadline=$((SECONDS + TIMEOUT))
until [ -S "$DIR/run/munge.socket" ]; do
    [ $SECONDS -lt $deadline ] || die "munged did not create its socket within $TIMEOUT s"
    sleep 0.2
done
slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$DIR/slurmctld.log" 2>&1 &
echo "slurmctld $!" >> "$DIR/pids"
slurmd -D -f "$SLURM_CONF" </dev/null >>"$DIR/slurmd.log" 2>&1 &
echo "slurmd $!" >> "$DIR/pids"

until state=$(sinfo -h -N -o %t 2>/dev/null) && [ "$state" = idle ]; do
    [ $SECONDS -lt $deadline ] || die "node not idle within $TIMEOUT s (sinfo state: '${state:-none}')"
    sleep 0.5
done
say "SLURM up in $DIR (node $host, $ncpu CPUs, state $state)"
echo "export SLURM_CONF=$SLURM_CONF"
