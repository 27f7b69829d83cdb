#!/bin/bash
# lfvscan scan on this machine with MPI (default 2 ranks); rerun the same command to resume.
#
#   jobs/local.sh [CONFIG [STORE [NP]]]        e.g. jobs/local.sh configs/demo.toml demo.zarr 2
#
# Ctrl-C (or SIGTERM) drains: cells in flight finish and are written, exit 130/143.
set -u
CONFIG=${1:-configs/demo.toml}
STORE=${2:-demo.zarr}
NP=${3:-${NP:-2}}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1
mpiexec -n "$NP" lfvscan scan "$CONFIG" --store "$STORE"
rc=$?
lfvscan status "$STORE"
exit $rc
