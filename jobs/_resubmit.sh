# Shared by jobs/slurm.sh and jobs/pbs.sh (sourced from the repository directory): what to do
# after `lfvscan scan` returned.  Needs STORE, COUNT (resubmissions so far) and MAX set.
#
#   done_cells                 cells DONE in $STORE (0 if the store does not exist yet)
#   after_scan RC BEFORE       exits the job unless it should resubmit itself; returns 0 when it
#                              should (scan interrupted, cells left, progress made, COUNT < MAX)
#
# Exit codes of `lfvscan scan`: 0 complete, 1 finished with failed cells (not resubmitted: see
# `lfvscan status STORE`), 2 usage error, 130/143 interrupted (resubmitted).

done_cells() {
    lfvscan status "$STORE" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["done"])' 2>/dev/null || echo 0
}

after_scan() {
    local rc=$1 before=$2 finished after
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
}
