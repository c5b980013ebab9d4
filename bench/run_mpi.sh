#!/usr/bin/env bash
# bench/run_mpi.sh - the mpi scheduler's benchmark (issue 14): bench_mpi
# under `mpirun -n 3 --oversubscribe` (rank 0 + two worker ranks, shared
# memory between them, ORTE on loopback) beside the threads scheduler (2
# threads, in rank 0, same run) and Dask distributed's
# LocalCluster(n_workers=2) (bench/mpi_dask.py), measured one after the
# other in this run. Prints one table and the issue's targets; then rank
# 0's cost per task with 4 worker ranks (mpirun -n 5 --oversubscribe, one
# worker thread each) in central mode and in groups mode (two groups of
# two, WEFT_MPI_GROUP=2), one after the other in this run.
#
#   bench/run_mpi.sh [BUILD_DIR]     (default: build-bench; make bench)
# Environment: REPS (best of, default 3); ARRAY_ROWS (the big mean's rows,
# default 200000: bench_mpi's arrays part).
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-${WEFT_BENCH_BUILD:-${WEFT_BUILD_DIR:-build-bench}}}
if [ ! -d "$build" ] && [ -d "$root/$build" ]; then build=$root/$build; fi
prog=""
for p in "$build/bench_mpi" "$build/bench/bench_mpi"; do
  [ -x "$p" ] && prog=$p && break
done
if [ -z "$prog" ] || ! command -v mpirun >/dev/null; then
  echo "# bench_mpi not built (no MPI?): the mpi benchmark is left out" >&2
  exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
  OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo \
  OMPI_MCA_pml=ob1 OMPI_MCA_rmaps_base_oversubscribe=1
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

# start-up of a whole job: mpirun, 3 ranks, init, one compute, finalize
best=99
for _ in 1 2 3; do
  t0=$(date +%s%N)
  timeout 60 mpirun -n 3 "$prog" --startup >/dev/null 2>&1 || true
  t=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$t" -lt "$best" ] 2>/dev/null || [ "$best" = 99 ] && best=$t
done
echo "BENCH job_s $(awk -v t="$best" 'BEGIN{printf "%.3f", t/1000}')" >>"$raw"
timeout 400 mpirun -n 3 "$prog" >>"$raw" 2>&1 ||
  echo "# bench_mpi failed: $(tail -3 "$raw")" >&2
timeout 600 /usr/bin/python3 "$here/mpi_dask.py" >>"$raw"
for mode in central groups; do # (only its own lines: not its ranks)
  out=$(WEFT_WORKERS=1 WEFT_MPI_MODE=$mode WEFT_MPI_GROUP=2 timeout 300 \
    mpirun -n 5 --oversubscribe "$prog" --rank0 "$mode" 2>&1) ||
    echo "# bench_mpi --rank0 $mode failed: $(tail -3 <<<"$out")" >&2
  grep "^BENCH ${mode}_" <<<"$out" >>"$raw"
done

awk '
$1 == "BENCH" { v[$2] = $3 }
function cell(k, f) { return (k in v) ? sprintf(f, v[k]) : "-" }
function ratio(a, b) { return (a in v) && (b in v) && v[a] > 0 ? sprintf("%.0fx", v[b] / v[a]) : "-" }
END {
  printf "mpi scheduler (issue 14): %s ranks, %s worker threads, %s cores; best of %s\n\n", v["ranks"], v["worker_threads"], v["cores"], ENVIRON["REPS"] ? ENVIRON["REPS"] : 3
  printf "%-40s %12s %12s %12s %10s\n", "measure", "weft mpi", "weft threads", "Dask dist.", "Dask/mpi"
  printf "%-40s %12s %12s %12s %10s\n", "empty tasks in chains, us per task", cell("mpi_chain_us", "%.2f"), cell("threads_chain_us", "%.3f"), cell("dask_chain_us", "%.0f"), ratio("mpi_chain_us", "dask_chain_us")
  printf "%-40s %12s %12s %12s %10s\n", "empty tasks, random DAG, us per task", cell("mpi_dag_us", "%.2f"), cell("threads_dag_us", "%.3f"), cell("dask_dag_us", "%.0f"), ratio("mpi_dag_us", "dask_dag_us")
  printf "%-40s %12s %12s %12s %10s\n", "METG (50% efficiency), us", cell("mpi_metg_us", "%d"), cell("threads_metg_us", "%d"), cell("dask_metg_us", "%d"), ratio("mpi_metg_us", "dask_metg_us")
  printf "%-40s %12s %12s %12s %10s\n", "start-up, s (init / LocalCluster)", cell("startup_init_s", "%.3f"), "-", cell("dask_startup_s", "%.3f"), ratio("startup_init_s", "dask_startup_s")
  printf "%-40s %12s %12s %12s %10s\n", "whole mpirun job (1 compute), s", cell("job_s", "%.3f"), "-", "-", "-"
  printf "\n%-40s %12s %12s %12s %10s\n", "arrays (" v["array_rows"] " x 4000 float64)", "weft mpi", "weft threads", "mpi/threads", "same bytes"
  printf "%-40s %12s %12s %12s %10s\n", "big mean (ones*ones[::-1,::-1]).mean(), s", cell("mpi_mean_s", "%.3f"), cell("threads_mean_s", "%.3f"), (("threads_mean_s" in v) && v["threads_mean_s"] > 0) ? sprintf("%.2fx", v["mpi_mean_s"] / v["threads_mean_s"]) : "-", ("mean_identical" in v) ? (v["mean_identical"] ? "yes" : "NO") : "-"
  printf "%-40s %12s %12s %12s %10s\n", "cos**2 row means (cos(ones)**2).mean(1), s", cell("mpi_cos2_s", "%.3f"), cell("threads_cos2_s", "%.3f"), (("threads_cos2_s" in v) && v["threads_cos2_s"] > 0) ? sprintf("%.2fx", v["mpi_cos2_s"] / v["threads_cos2_s"]) : "-", ("cos2_identical" in v) ? (v["cos2_identical"] ? "yes" : "NO") : "-"
  printf "%-40s %12s %12s %12s %10s\n", "same mean over random (" v["array_random_rows"] " rows), s", cell("mpi_rmean_s", "%.3f"), cell("threads_rmean_s", "%.3f"), (("threads_rmean_s" in v) && v["threads_rmean_s"] > 0) ? sprintf("%.2fx", v["mpi_rmean_s"] / v["threads_rmean_s"]) : "-", ("rmean_identical" in v) ? (v["rmean_identical"] ? "yes" : "NO") : "-"
  printf "%-40s %12s %12s %12s %10s\n", "cos**2 row means over random, s", cell("mpi_rcos2_s", "%.3f"), cell("threads_rcos2_s", "%.3f"), (("threads_rcos2_s" in v) && v["threads_rcos2_s"] > 0) ? sprintf("%.2fx", v["mpi_rcos2_s"] / v["threads_rcos2_s"]) : "-", ("rcos2_identical" in v) ? (v["rcos2_identical"] ? "yes" : "NO") : "-"
  printf "\n%-40s %12s %12s %12s %10s\n", "replicated mode (WEFT_MPI_MODE=replicated)", "central", "replicated", "threads", "same bytes"
  printf "%-40s %12s %12s %12s %10s\n", "empty tasks in chains, us per task", cell("mpi_chain_us", "%.2f"), cell("rep_chain_us", "%.2f"), cell("threads_chain_us", "%.3f"), "-"
  printf "%-40s %12s %12s %12s %10s\n", "empty tasks, random DAG, us per task", cell("mpi_dag_us", "%.2f"), cell("rep_dag_us", "%.2f"), cell("threads_dag_us", "%.3f"), "-"
  printf "%-40s %12s %12s %12s %10s\n", "rank 0 CPU per task, chains, us", cell("rank0_cpu_per_task_chain_us", "%.3f"), cell("rep_rank0_cpu_per_task_chain_us", "%.3f"), "-", "-"
  printf "%-40s %12s %12s %12s %10s\n", "rank 0 CPU per task, random DAG, us", cell("rank0_cpu_per_task_dag_us", "%.3f"), cell("rep_rank0_cpu_per_task_dag_us", "%.3f"), "-", "-"
  printf "%-40s %12s %12s %12s %10s\n", "rank 0 messages per task, chains", cell("msgs_per_task_chain", "%.3f"), cell("rep_msgs_per_task_chain", "%.4f"), "-", "-"
  printf "%-40s %12s %12s %12s %10s\n", "rank 0 messages per task, random DAG", cell("msgs_per_task_dag", "%.3f"), cell("rep_msgs_per_task_dag", "%.4f"), "-", "-"
  printf "%-40s %12s %12s %12s %10s\n", "big mean, s", cell("mpi_mean_s", "%.3f"), cell("rep_mean_s", "%.3f"), cell("threads_mean_s", "%.3f"), ("mean_rep_identical" in v) ? (v["mean_rep_identical"] ? "yes" : "NO") : "-"
  printf "%-40s %12s %12s %12s %10s\n", "big mean: rank 0 CPU per task, us", "-", cell("rep_mean_rank0_cpu_per_task_us", "%.3f"), "-", "-"
  printf "%-40s %12s %12s %12s %10s\n", "big mean: rank 0 messages per task", "-", cell("rep_mean_msgs_per_task", "%.4f"), "-", "-"
  printf "%-40s %12s %12s %12s %10s\n", "same mean over random, s", cell("mpi_rmean_s", "%.3f"), cell("rep_rmean_s", "%.3f"), cell("threads_rmean_s", "%.3f"), ("rmean_rep_identical" in v) ? (v["rmean_rep_identical"] ? "yes" : "NO") : "-"
  printf "%-40s %12s %12s %12s %10s\n", "cos**2 row means over random, s", cell("mpi_rcos2_s", "%.3f"), cell("rep_rcos2_s", "%.3f"), cell("threads_rcos2_s", "%.3f"), ("rcos2_rep_identical" in v) ? (v["rcos2_rep_identical"] ? "yes" : "NO") : "-"
  if (("rep_ran_replicated" in v && !v["rep_ran_replicated"]) || ("rep_mean_ran_replicated" in v && !v["rep_mean_ran_replicated"])) printf "WARNING: some replicated rows fell back to the central scheduler\n"
  printf "\nrank 0, CPU per task: %s us (chains), %s us (DAG); messages per task %s / %s; fit: %s us per task + %s us per message\n", cell("rank0_cpu_per_task_chain_us", "%.2f"), cell("rank0_cpu_per_task_dag_us", "%.2f"), cell("msgs_per_task_chain", "%.2f"), cell("msgs_per_task_dag", "%.3f"), cell("rank0_fit_task_us", "%.2f"), cell("rank0_fit_msg_us", "%.2f")
  printf "\nrank 0 with 4 worker ranks (mpirun -n 5, 1 thread each): central vs groups mode (two groups of 2)\n"
  printf "%-40s %12s %12s %10s\n", "measure", "central", "groups", "groups/c."
  split("rank0_cpu_per_task_chain_us rank0_cpu_per_task_dag_us msgs_per_task_chain msgs_per_task_dag chain_us dag_us", ks, " ")
  split("rank 0 CPU per task, chains, us|rank 0 CPU per task, DAG, us|rank 0 messages per task, chains|rank 0 messages per task, DAG|wall per task, chains, us|wall per task, DAG, us", ls, "|")
  for (j = 1; j <= 6; j++) {
    a = "central_" ks[j]; b = "groups_" ks[j]
    printf "%-40s %12s %12s %10s\n", ls[j], cell(a, "%.3f"), cell(b, "%.3f"), ((a in v) && (b in v) && v[a] > 0) ? sprintf("%.2fx", v[b] / v[a]) : "-"
  }
  oh = v["mpi_chain_us"] > v["mpi_dag_us"] ? v["mpi_chain_us"] : v["mpi_dag_us"]
  printf "\ntargets (issue 14): per-task overhead < 30 us: %.1f us -> %s; start-up < 0.2 s: %s s -> %s; METG >= 50x smaller than Dask: %s -> %s; big array mean within 2x of threads: %s -> %s\n", oh, oh < 30 ? "MET" : "NOT MET", cell("startup_init_s", "%.3f"), v["startup_init_s"] < 0.2 ? "MET" : "NOT MET", ratio("mpi_metg_us", "dask_metg_us"), (("dask_metg_us" in v) && v["mpi_metg_us"] > 0 && v["dask_metg_us"] >= 50 * v["mpi_metg_us"]) ? "MET" : (("dask_metg_us" in v) ? "NOT MET" : "not measured"), (("threads_mean_s" in v) && v["threads_mean_s"] > 0) ? sprintf("%.2fx", v["mpi_mean_s"] / v["threads_mean_s"]) : "-", (("threads_mean_s" in v) && ("mpi_mean_s" in v)) ? (v["mpi_mean_s"] <= 2 * v["threads_mean_s"] ? "MET" : "NOT MET") : "not measured"
}' "$raw"
