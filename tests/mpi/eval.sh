#!/usr/bin/env bash
# eval.sh MPIRUN WEFT - `mpirun -n 3 weft eval "<expression>"` computes on
# the mpi scheduler (the default under mpirun) and prints the right value;
# an array expression does too, with the bytes the threads scheduler gives
# (--npy files compared); WEFT_PROGRESS and WEFT_TRACE draw one bar and
# trace one track per rank; `weft info` there lists mpi; WEFT_SCHEDULER=mpi
# or --scheduler mpi without mpirun warns once and computes on threads.
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
big="(ones((600, 400), chunks=(100, 100)) * ones((600, 400), chunks=(100, 100))[::-1, ::-1]).mean()"
timeout 60 "$mpirun" --timeout 50 -n 3 "$weft" eval "$big" >out 2>err ||
  fail "exit $? (array)"
grep -qx 1.0 out || fail "want 1.0 (array)"
grep -q "mpi scheduler, 3 workers" out || fail "array not on the mpi scheduler"
rows="(cos(random((2000, 400), chunks=(300, 100), seed=3)) ** 2).mean(axis=1)[::-1]"
timeout 60 "$mpirun" --timeout 50 -n 3 "$weft" eval "$rows" --npy mpi.npy \
  >out 2>err || fail "exit $? (array rows)"
grep -q "mpi scheduler" out || fail "array rows not on the mpi scheduler"
"$weft" eval "$rows" --scheduler threads --npy threads.npy >out 2>err ||
  fail "exit $? (array rows, threads)"
cmp mpi.npy threads.npy || fail "mpi and threads .npy differ"
# diagnostics: the progress bar on rank 0 only (one last line), the trace
# with one track per rank (rank 0's program, ranks 1 and 2)
rm -f trace.json
WEFT_PROGRESS=1 WEFT_TRACE=trace.json timeout 60 "$mpirun" --timeout 50 -n 3 \
  "$weft" eval "((1 + 2) * (3 + 4) + (5 + 6) * (7 + 8)) * 2" --delay 0.1 \
  >out 2>err || fail "exit $? (diagnostics)"
grep -qx 372 out || fail "want 372 (diagnostics)"
[ "$(tr '\r' '\n' <err | grep -c '100% .* tasks .* done')" = 1 ] ||
  fail "want one finished progress bar"
for track in '"rank 1"' '"rank 2"' '"compute 1 (mpi, 3 workers)"'; do
  grep -q "$track" trace.json || fail "trace has no $track track"
done
timeout 60 "$mpirun" --timeout 50 -n 2 "$weft" info >out 2>err || fail "info"
grep -q "mpi (yes)" out || fail "info does not list mpi"
for v in $(env | sed -n 's/^\(OMPI_[A-Z_]*\|PMIX_[A-Z_]*\|PMI_[A-Z_]*\)=.*/\1/p'); do
  unset "$v"
done
WEFT_SCHEDULER=mpi timeout 60 "$weft" eval "6 * 7" >out 2>err || fail "alone"
grep -qx 42 out || fail "want 42 alone"
[ "$(grep -c "not started by mpirun" err)" = 1 ] || fail "want one warning"
# weft eval's own option asks for mpi as WEFT_SCHEDULER does (it once
# failed: "the mpi scheduler needs weft_mpi_init")
for opt in "--scheduler mpi" "--scheduler=MPI"; do
  # shellcheck disable=SC2086
  timeout 60 "$weft" eval "6 * 7" $opt >out 2>err || fail "alone ($opt)"
  grep -qx 42 out || fail "want 42 alone ($opt)"
  [ "$(grep -c "not started by mpirun" err)" = 1 ] ||
    fail "want one warning ($opt)"
done
echo ok
