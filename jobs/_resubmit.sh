# Shared by jobs/slurm.sh and jobs/pbs.sh (sourced from the repository directory): the checks
# before and the decision after `lfvscan scan`.  Needs STORE, COUNT (resubmissions so far), MAX.
#
#   require_lfvscan            exits 2 with a one-line error if `lfvscan` is not on PATH in the job;
#                              sets LFVSCAN to its absolute path (srun would also try ./lfvscan)
#   done_cells                 cells done in $STORE (0 if there is no readable store yet)
#   after_scan RC BEFORE       exits the job unless it should resubmit itself; returns 0 when it
#                              should (scan interrupted, cells left, COUNT < MAX, and not
#                              LFVSCAN_MAX_IDLE_JOBS (default 2) jobs in a row without progress)
#
# Exit codes of `lfvscan scan`: lfvscan/errors.py EXIT_STATUSES (`lfvscan scan --help`).  Not
# resubmitted: 0 complete, 1 failed cells (see `lfvscan status STORE`), 2 usage error, 3 some cells
# short of the requested precision (rerunning gives the same numbers), 74 I/O or environment
# failure (it needs a person).  Resubmitted: 75 a rank fell silent, 128+signal interrupted, and any
# other status (137: killed, e.g. at the walltime): the journal keeps finished cells.
#
# No progress in one job is normal when the walltime signal comes right after the start (SLURM may
# send it up to 60 s early): the chain stops only after LFVSCAN_MAX_IDLE_JOBS such jobs in a row.
# IDLE (no-progress jobs in a row so far) travels to the next job in LFVSCAN_IDLE_JOBS.

require_lfvscan() {
    LFVSCAN=$(command -v lfvscan) || {
        echo "lfvscan job: error: lfvscan is not on PATH in this job (PATH=$PATH): activate its venv before submitting (sbatch passes your environment; qsub needs -V), or set PATH in the job script" >&2
        exit 2
    }
}

# "<cells done> <finished: 0|1>" of $STORE; "0 0" if there is no readable store (no traceback)
store_state() {
    "$LFVSCAN" status "$STORE" --json 2>/dev/null | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
    print(int(s["counts"]["done"]), int(bool(s["finished"])))
except Exception:
    print(0, 0)' 2>/dev/null || echo "0 0"
}

done_cells() {
    local state
    state=$(store_state)
    echo "${state% *}"
}

after_scan() {
    local rc=$1 before=$2 state after finished max_idle=${LFVSCAN_MAX_IDLE_JOBS:-2}
    echo "lfvscan job: scan exited with $rc"
    case "$rc" in
        0) echo "lfvscan job: store $STORE complete"; exit 0 ;;
        1) echo "lfvscan job: finished with failed cells; see: lfvscan status $STORE"; exit 1 ;;
        2) echo "lfvscan job: usage error, not resubmitting"; exit 2 ;;
        3) echo "lfvscan job: store $STORE complete, some cells short of the requested precision; see: lfvscan status $STORE"; exit 3 ;;
        74) echo "lfvscan job: I/O or environment failure (see the line above), not resubmitting"; exit 74 ;;
    esac
    state=$(store_state)
    after=${state% *} finished=${state#* }
    if [ "$after" -gt "$before" ]; then IDLE=0; else IDLE=$((${IDLE:-0} + 1)); fi
    if [ "$finished" = 1 ]; then
        echo "lfvscan job: nothing left to compute"; exit 0
    elif [ "$IDLE" -ge "$max_idle" ]; then
        echo "lfvscan job: no progress in $IDLE jobs in a row ($before -> $after cells; LFVSCAN_MAX_IDLE_JOBS=$max_idle), not resubmitting; see the log above and: lfvscan status $STORE"; exit 1
    elif [ "$COUNT" -ge "$MAX" ]; then
        echo "lfvscan job: resubmitted $COUNT times already (LFVSCAN_MAX_RESUBMIT=$MAX), stopping"; exit 1
    fi
    echo "lfvscan job: $after cells done ($before at the start of this job), resubmitting ($((COUNT + 1))/$MAX)"
}
