#!/usr/bin/env bash
# eval.sh MPIRUN WEFT - `mpirun -n 3 weft eval "<expression>"` computes on
# the mpi scheduler (the default under mpirun) and prints the right value;
# `weft info` there lists mpi; WEFT_SCHEDULER=mpi without mpirun warns once
# and computes on threads.
set -u
mpirun=$1 weft=$2
fail() { echo "FAIL: $*"; cat out err; exit 1; }
timeout 60 "$mpirun" --timeout 50 -n 3 "$weft" eval \
  "(3 + 7) * (2 + 8) * ((2 * 3) - 1)" >out 2>err || fail "exit $?"
grep -qx 500 out || fail "want 500"
grep -q "mpi scheduler" out || fail "not on the mpi scheduler"
timeout 60 "$mpirun" --timeout 50 -n 3 "$weft" eval "2 ** 10 - 1" --delay 0.05 \
  >out 2>err || fail "exit $? (--delay)"
grep -qx 1023 out || fail "want 1023"
timeout 60 "$mpirun" --timeout 50 -n 2 "$weft" info >out 2>err || fail "info"
grep -q "mpi (yes)" out || fail "info does not list mpi"
for v in $(env | sed -n 's/^\(OMPI_[A-Z_]*\|PMIX_[A-Z_]*\|PMI_[A-Z_]*\)=.*/\1/p'); do
  unset "$v"
done
WEFT_SCHEDULER=mpi timeout 60 "$weft" eval "6 * 7" >out 2>err || fail "alone"
grep -qx 42 out || fail "want 42 alone"
[ "$(grep -c "not started by mpirun" err)" = 1 ] || fail "want one warning"
echo ok
