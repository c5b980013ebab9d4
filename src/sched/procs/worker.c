/* procs/worker.c - a worker process of a weft_procs pool.
 *
 * The pool starts a worker as a fresh copy of the program (procs/pool.c)
 * with WEFT_WORKER_FD=<fd>:<parent pid>:<worker id>:<shm threshold> in its
 * environment and "--weft-worker" as its first argument. The constructor
 * below runs while the copy is being loaded, before the program's own
 * constructors and before main(): it sees both marks, becomes the worker,
 * and never returns (_exit), so main() never runs in a worker. Anything
 * else (the variable without the argument, e.g. inherited by a program
 * that a task started) is ignored and removed from the environment.
 *
 * The worker then: sets PR_SET_PDEATHSIG(SIGKILL), so that it dies with
 * the thread that spawned it even in the middle of a task, and checks its
 * parent is still there; greets the pool (HELLO); and serves messages
 * until its socket ends, which is its signal to exit: FNDEFS extend its
 * function table (procs/fntab.c), each TASK runs its function and answers
 * with one RESULT. Results are sent when the worker has nothing left to
 * run without waiting (or 64 KiB of them are waiting): when the pool
 * queued many tiny tasks, their results go back in one write rather than
 * one each. A task that crashes takes the worker with it; the pool
 * sees the process end (its pidfd, or its socket), reaps it and decides
 * what to do.
 *
 * The socket is made close-on-exec at once (posix_spawn's dup2 cleared the
 * flag), so a program a task starts (`system("helper &")`) does not hold
 * it. And since a program that ignores SIGCHLD makes its children's exit
 * status vanish, a worker tells the pool itself how it ends: a handler of
 * the fatal signals (on its own stack, so a stack overflow is reported
 * too) and an on_exit() hook send one DYING frame, then the signal is
 * raised again with its default action. Only SIGKILL and _exit() go
 * unreported; the pool's reaping then tells what it can. In an ASan build
 * the worker runs the leak check before it _exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/task.h"
#include "impl.h"

#if WEFT__PROCS_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
#endif

#define WORKER_ARG "--weft-worker"
#define FLUSH_AT (64 * 1024) /* results held back: send at this size, */
#define FLUSH_NS 50000ull     /* or after a task this long: the pool may be
                                 waiting for it to hand out more work */

int weft__procs_worker_linked(void) { return 1; }

/* ---- telling the pool how this worker ends ---- */

/* The DYING frame, built before any task runs; the handlers only fill in
 * its two numbers and send it (send() is async-signal-safe). */
static int dying_fd = -1;
static uint8_t dying_frame[WEFT_WIRE_HEADER_SIZE + 8];

static void put_le32(uint8_t *p, uint32_t x) {
  for (int k = 0; k < 4; k++)
    p[k] = (uint8_t)(x >> (8 * k));
}

static void tell_pool(uint32_t how, uint32_t n) {
  int fd = dying_fd;
  if (fd < 0)
    return;
  dying_fd = -1; /* once */
  put_le32(dying_frame + WEFT_WIRE_HEADER_SIZE, how);
  put_le32(dying_frame + WEFT_WIRE_HEADER_SIZE + 4, n);
  ssize_t k;
  do
    k = send(fd, dying_frame, sizeof dying_frame, MSG_NOSIGNAL);
  while (k < 0 && errno == EINTR);
}

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL,  SIGFPE,
                                    SIGABRT, SIGTRAP, SIGSYS, SIGTERM};

static void on_fatal(int sig) {
  int saved = errno;
  tell_pool(WEFT__DYING_SIGNAL, (uint32_t)sig);
  /* Die of it: default action, raised again (pending until we return;
   * a fault re-executes and faults again). */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigaction(sig, &sa, NULL);
  raise(sig);
  errno = saved;
}

static void on_exit_hook(int status, void *arg) {
  (void)arg;
  tell_pool(WEFT__DYING_EXIT, (uint32_t)status & 0xffu);
}

/* Prepares the DYING report on socket fd. Failing leaves the pool to learn
 * it by reaping: not an error. */
static void arm_death_report(int fd) {
  uint8_t *h = dying_frame;
  memcpy(h, "WEFT", 4);
  h[4] = WEFT_WIRE_VERSION;
  h[5] = WEFT__PK_DYING;
  h[6] = h[7] = 0;
  put_le32(h + 8, 8);
  dying_fd = fd;
  static uint8_t altstack[64 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fatal;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (size_t k = 0; k < sizeof fatal_signals / sizeof fatal_signals[0]; k++)
    sigaction(fatal_signals[k], &sa, NULL);
#if defined(__GLIBC__)
  on_exit(on_exit_hook, NULL);
#else
  (void)on_exit_hook;
#endif
}

/* Runs one task message; queues its RESULT. */
static int run_task(weft__conn *c, const weft__fnres *fns, weft__ptask *t,
                    int id, size_t shm_min) {
  const weft_fn_info *fn = t->fn < fns->n ? fns->fns[t->fn] : NULL;
  weft_value out = weft_none();
  int status = 0;
  char *msg = NULL;
  char buf[600];
  if (!fn) {
    status = WEFT_ENOTFOUND;
    snprintf(buf, sizeof buf, "%s",
             t->fn < fns->n && fns->errs[t->fn]
                 ? fns->errs[t->fn]
                 : "the worker process was sent no such function");
    msg = buf;
  } else {
    weft_task_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.fn = fn;
    ctx.task = t->task;
    ctx.worker = id;
    ctx.key = t->key;
    weft__task_set_current(&ctx);
    int rc = fn->fn(&ctx, t->args, t->nargs, &out);
    weft__task_set_current(NULL);
    if (rc || ctx.failed) {
      weft_value_release(&out);
      status = rc < 0 ? rc : WEFT_ETASK;
      if (ctx.message) {
        snprintf(buf, sizeof buf, "%s", ctx.message);
        msg = buf;
      } else if (rc) {
        const char *why = weft__task_code_text(rc, buf, sizeof buf);
        if (why != buf)
          snprintf(buf, sizeof buf, "%s", why);
        msg = buf;
      }
    }
    free(ctx.message);
    fflush(stdout); /* what the task printed, before the pool goes on */
  }
  weft_wire_error err = {0};
  int rc = weft__pmsg_put_result(c, t->id, status, msg, &out, shm_min, &err);
  if (rc == WEFT_ENOTSUP || rc == WEFT_EINVAL) {
    snprintf(buf, sizeof buf, "its result cannot leave the worker process: %s",
             err.text);
    rc =
        weft__pmsg_put_result(c, t->id, WEFT_ENOTSUP, buf, NULL, shm_min, NULL);
  }
  weft_value_release(&out);
  weft__ptask_clear(t);
  return rc;
}

/* The worker's life; the exit status. */
static int serve(int fd, int id, size_t shm_min) {
  weft__conn c;
  weft__fnres fns = {0};
  weft__ptask t = {0};
  weft__conn_init(&c, fd, false);
  int rc = weft__pmsg_put_hello(&c);
  if (!rc)
    rc = weft__conn_flush(&c);
  int status = rc ? 2 : 0;
  while (!rc) {
    const uint8_t *frame;
    size_t len;
    while ((rc = weft__conn_next(&c, &frame, &len)) == 1) {
      /* Nothing more to do without waiting: send the results held back
       * first (while tasks were waiting, they went out together). */
      if ((rc = weft__conn_flush(&c))) {
        rc = 1; /* the pool is gone */
        break;
      }
      int f = weft__conn_fill(&c);
      if (f == 1) { /* the pool closed our socket: done */
        rc = 1;
        break;
      }
      if (f < 0) {
        rc = f;
        status = 2;
        break;
      }
    }
    if (rc) {
      if (rc < 0)
        status = 2;
      break;
    }
    unsigned kind;
    weft__prd r;
    weft_wire_error err = {0};
    if ((rc = weft__pmsg_open(frame, len, &kind, &r))) {
      status = 2;
      break;
    }
    if (kind == WEFT__PK_FNDEFS)
      rc = weft__fnres_add(&fns, &r);
    else if (kind == WEFT__PK_TASK) {
      uint64_t t0 = weft__procs_now();
      rc = weft__pmsg_get_task(&r, &c, &t, &err);
      if (!rc)
        rc = run_task(&c, &fns, &t, id, shm_min);
      if (!rc && (c.out.len - c.out_off >= FLUSH_AT ||
                  weft__procs_now() - t0 >= FLUSH_NS))
        rc = weft__conn_flush(&c);
      if (rc == WEFT_EIO) /* the pool is gone */
        rc = 1;
    } else
      rc = WEFT_EWIRE;
    if (rc < 0)
      status = 2;
  }
  weft__ptask_free(&t);
  weft__fnres_free(&fns);
  weft__conn_close(&c);
  return status;
}

#if defined(__GLIBC__)
/* glibc passes (argc, argv, envp) to ELF constructors. */
__attribute__((constructor)) static void
weft__procs_worker_main(int argc, char **argv, char **envp) {
  (void)envp;
  const char *var = getenv(WEFT__PROCS_ENV);
  if (!var)
    return;
  bool marked =
      argc >= 2 && argv && argv[1] && strcmp(argv[1], WORKER_ARG) == 0;
#else
__attribute__((constructor)) static void weft__procs_worker_main(void) {
  const char *var = getenv(WEFT__PROCS_ENV);
  if (!var)
    return;
  bool marked = true;
#endif
  int fd = -1, ppid = -1, id = -1, used = 0;
  unsigned long long shm_min = 0;
  int ok =
      sscanf(var, "%d:%d:%d:%llu%n", &fd, &ppid, &id, &shm_min, &used) == 4 &&
      var[used] == '\0';
  unsetenv(WEFT__PROCS_ENV); /* not for the programs a task may start */
  struct stat st;
  if (!marked || !ok || fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
    return; /* not started by a pool: carry on as the program */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != (pid_t)ppid) /* the pool's process is already gone */
    _exit(0);
  fcntl(fd, F_SETFD, FD_CLOEXEC); /* not for the programs a task starts */
  arm_death_report(fd);
  int status = serve(fd, id, shm_min ? (size_t)shm_min : WEFT__PROCS_SHM_MIN);
#if WEFT__PROCS_LEAK_CHECK
  /* _exit skips the leak check ASan runs at exit: run it here. A leak is
   * reported (to ASAN_OPTIONS' log_path: the test harness fails on it) and
   * ends the worker with LeakSanitizer's exit code. */
  __lsan_do_leak_check();
#endif
  _exit(status);
}
