#!/usr/bin/env bash
# kill.sh MPIRUN MPI_KILL [MODE] - a worker rank killed mid-compute (MODE:
# WEFT_MPI_MODE, central by default, or replicated): with Open MPI's
# recovery on (so that mpirun lets the job go on), rank 0 must print one line
# naming rank 2, its host and the tasks lost, exit non-zero, and all of it
# within seconds (WEFT_MPI_TIMEOUT=3); without recovery mpirun ends the job
# itself: non-zero, no hang. The baseline (--ok) computes the right sum.
# With recovery on, Open MPI 4.1's mpirun exits 0 whatever its ranks do, so
# each rank's own exit status is written by a wrapper to status.<rank>.
set -u
mpirun=$1 prog=$2
export WEFT_MPI_MODE=${3:-central}
fail() { echo "FAIL: $*"; echo "--- stdout"; cat out; echo "--- stderr"; cat err; exit 1; }

timeout 60 "$mpirun" --timeout 50 -n 3 "$prog" --ok >out 2>err
rc=$?
[ $rc -eq 0 ] || fail "baseline exit $rc"
# leaves: sum(i+1, i<40) = 820; parts add 5, the chain 6
grep -qx "sum 831" out || fail "baseline sum"

export OMPI_MCA_orte_enable_recovery=1 WEFT_MPI_TIMEOUT=3
rm -f status.*
start=$(date +%s%N)
timeout 60 "$mpirun" --timeout 50 -n 3 bash -c \
  '"$0"; echo $? >status.$OMPI_COMM_WORLD_RANK' "$prog" >out 2>err
rc=$?
secs=$(( ($(date +%s%N) - start) / 1000000000 ))
[ $rc -ne 124 ] || fail "hung (killed by timeout)"
[ -f status.0 ] || fail "rank 0 did not end"
[ "$(cat status.0)" -ne 0 ] || fail "rank 0 exited 0 after a rank died"
[ "$(cat status.2 2>/dev/null)" = 137 ] || fail "rank 2 was not killed"
n=$(grep -c "^mpi_kill: rank 2 (host [^,]*, pid [0-9]*) died or stopped answering (silent for [0-9.]* s); [0-9]* tasks\? lost: 'nap-" err)
[ "$n" = 1 ] || fail "want one line naming rank 2, its host and the tasks lost"
[ "$(grep -c "^mpi_kill:" err)" = 1 ] || fail "more than one error line"
grep -qx "worker lost: 2 (1 event)" out || fail "want one WORKER_LOST event for rank 2"
grep -qx "task failed on: 2" out || fail "want a TASK_FAIL on rank 2"
[ $secs -le 30 ] || fail "took $secs s"
echo "$WEFT_MPI_MODE, recovery on: rank 0 exit $(cat status.0) after $secs s: $(grep mpi_kill: err)"

unset OMPI_MCA_orte_enable_recovery
start=$(date +%s%N)
timeout 60 "$mpirun" --timeout 50 -n 3 "$prog" >out 2>err
rc=$?
secs=$(( ($(date +%s%N) - start) / 1000000000 ))
[ $rc -ne 124 ] || fail "hung without recovery"
[ $rc -ne 0 ] || fail "exit status 0 without recovery"
[ $secs -le 20 ] || fail "took $secs s without recovery"
echo "$WEFT_MPI_MODE, recovery off: mpirun ended the job, exit $rc after $secs s"
