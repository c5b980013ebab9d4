#!/usr/bin/env bash
# nompirun.sh PROG - a program calling weft_mpi_init started without mpirun
# runs alone (the mpi scheduler on threads) after exactly one warning line.
set -u
prog=$1
for v in $(env | sed -n 's/^\(OMPI_[A-Z_]*\|PMIX_[A-Z_]*\|PMI_[A-Z_]*\)=.*/\1/p'); do
  unset "$v"
done
timeout 100 "$prog" >out 2>err
rc=$?
cat out
[ $rc -eq 0 ] || { echo "FAIL: exit $rc"; cat err; exit 1; }
n=$(grep -c "^weft: not started by mpirun or srun: running in this one process" err)
[ "$n" = 1 ] || { echo "FAIL: want one warning line, got $n"; cat err; exit 1; }
echo "ok: $(cat err)"
