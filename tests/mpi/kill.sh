#!/usr/bin/env bash
# kill.sh MPIRUN MPI_KILL [MODE] - a worker rank killed mid-compute (MODE:
# WEFT_MPI_MODE, central by default, or replicated): with Open MPI's
# recovery on (so that mpirun lets the job go on), rank 0 must print one line
# naming rank 2, its host and the tasks lost, exit non-zero, and all of it
# within seconds (WEFT_MPI_TIMEOUT=3); without recovery mpirun ends the job
# itself: non-zero, no hang. The baseline (--ok) computes the right sum.
# KILL_N (ranks, default 3) and MPI_KILL_RANK (the victim, default 2) vary
# the case: in groups mode (WEFT_MPI_MODE=groups, WEFT_MPI_GROUP) a member,
# reported by its leader, or a leader, seen by rank 0; KILL_WANT is more
# text the error line must hold.
# With recovery on, Open MPI 4.1's mpirun exits 0 whatever its ranks do, so
# each rank's own exit status is written by a wrapper to status.<rank>.
set -u
mpirun=$1 prog=$2 n=${KILL_N:-3} r=${MPI_KILL_RANK:-2}
export MPI_KILL_RANK=$r
export WEFT_MPI_MODE=${3:-${WEFT_MPI_MODE:-central}}
dir=$(mktemp -d) && trap 'rm -rf "$dir"' EXIT && cd "$dir" || exit 1
fail() { echo "FAIL: $*"; echo "--- stdout"; cat out; echo "--- stderr"; cat err; exit 1; }

timeout 60 "$mpirun" --timeout 50 -n $n "$prog" --ok >out 2>err
rc=$?
[ $rc -eq 0 ] || fail "baseline exit $rc"
# leaves: sum(i+1, i<40) = 820; parts add 5, the chain 6
grep -qx "sum 831" out || fail "baseline sum"

export OMPI_MCA_orte_enable_recovery=1 WEFT_MPI_TIMEOUT=3
rm -f status.*
start=$(date +%s%N)
timeout 60 "$mpirun" --timeout 50 -n $n bash -c \
  '"$0"; echo $? >status.$OMPI_COMM_WORLD_RANK' "$prog" >out 2>err
rc=$?
secs=$(( ($(date +%s%N) - start) / 1000000000 ))
[ $rc -ne 124 ] || fail "hung (killed by timeout)"
[ -f status.0 ] || fail "rank 0 did not end"
[ "$(cat status.0)" -ne 0 ] || fail "rank 0 exited 0 after a rank died"
[ "$(cat status.$r 2>/dev/null)" = 137 ] || fail "rank $r was not killed"
c=$(grep -c "^mpi_kill: rank $r (host [^,]*, pid [0-9]*) died or stopped answering (silent for [0-9.]* s); [0-9]* tasks\? lost: 'nap-" err)
[ "$c" = 1 ] || fail "want one line naming rank $r, its host and the tasks lost"
[ -z "${KILL_WANT:-}" ] || grep -qF "$KILL_WANT" err || fail "want '$KILL_WANT'"
[ "$(grep -c "^mpi_kill:" err)" = 1 ] || fail "more than one error line"
grep -qx "worker lost: $r (1 event)" out || fail "want one WORKER_LOST event for rank $r"
grep -qx "task failed on: $r" out || fail "want a TASK_FAIL on rank $r"
[ $secs -le 30 ] || fail "took $secs s"
echo "$WEFT_MPI_MODE, recovery on: rank 0 exit $(cat status.0) after $secs s: $(grep mpi_kill: err)"

unset OMPI_MCA_orte_enable_recovery
start=$(date +%s%N)
timeout 60 "$mpirun" --timeout 50 -n $n "$prog" >out 2>err
rc=$?
secs=$(( ($(date +%s%N) - start) / 1000000000 ))
[ $rc -ne 124 ] || fail "hung without recovery"
[ $rc -ne 0 ] || fail "exit status 0 without recovery"
[ $secs -le 20 ] || fail "took $secs s without recovery"
echo "$WEFT_MPI_MODE, recovery off: mpirun ended the job, exit $rc after $secs s"
