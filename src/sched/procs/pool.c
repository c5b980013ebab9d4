/* procs/pool.c - weft_procs, a pool of worker processes: starting them,
 * listening to them, and making sure none is left behind.
 *
 * Starting: forking a multithreaded program is unsafe (only the forking
 * thread survives, holding whatever locks the others held), so a worker is
 * a fresh copy of the program: posix_spawn() of /proc/self/exe (glibc
 * spawns with CLONE_VFORK: no copy of the address space, safe from any
 * thread) with WEFT_WORKER_FD in its environment and "--weft-worker" as its
 * first argument. libweft's constructor in the copy sees them and becomes
 * the worker (procs/worker.c). The child gets: its end of a socketpair as
 * fd 3 (or 4), stdin from /dev/null, the parent's stdout and stderr, no
 * other descriptor (closefrom), default signal dispositions, an empty
 * signal mask, and a process group of its own (a terminal's Ctrl-C goes to
 * the program, whose death then ends the workers). Workers of a pool start
 * in parallel; weft_procs_new waits for each one's HELLO.
 *
 * Who spawns: a worker sets PR_SET_PDEATHSIG(SIGKILL), so that it dies with
 * the program even in the middle of a task. But that signal follows the
 * *thread* that spawned the process, not the process: a pool made in a
 * thread that then ends would lose its workers. So each pool has a small
 * thread of its own (all signals blocked, asleep on a condition variable)
 * that does every posix_spawn of the pool, initial and replacements alike,
 * and lives exactly as long as the pool.
 *
 * Stopping: a worker exits when its socket closes; the pool also kills it
 * (SIGKILL) and always waits for it by its pid (never waitpid(-1), which
 * would steal the program's other children), so no zombie remains.
 *
 * A worker that dies is reaped here and its slot restarted by the
 * scheduler; weft__procs_reap describes how it ended ("signal 11,
 * Segmentation fault", "exit status 3") for the error message. A death is
 * seen from the process itself, through a pidfd (pidfd_open, Linux 5.3;
 * without it the scheduler asks waitid every 50 ms), not only from the end
 * of its socket, which a background child started by a task may keep
 * open. How it ended comes from the worker's own DYING report (worker.c)
 * or from waitpid; when neither can tell - SIGKILL or _exit() in a program
 * that ignores SIGCHLD, whose children's status the system discards - the
 * message says so and how to avoid it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "impl.h"

extern char **environ;

typedef struct weft__spawn_job {
  posix_spawn_file_actions_t *fa;
  posix_spawnattr_t *at;
  char **argv, **env;
  pid_t pid;
  int rc;
  bool done;
} weft__spawn_job;

static int do_spawn(weft__spawn_job *j) {
  int rc =
      posix_spawn(&j->pid, "/proc/self/exe", j->fa, j->at, j->argv, j->env);
  if (rc == ENOENT) { /* no /proc: the path this program was started by */
    const char *exe = (const char *)getauxval(AT_EXECFN);
    if (exe)
      rc = posix_spawn(&j->pid, exe, j->fa, j->at, j->argv, j->env);
  }
  return rc;
}

static void *spawner_main(void *arg) {
  weft_procs *p = arg;
  pthread_mutex_lock(&p->smu);
  for (;;) {
    while (!p->job && !p->quit)
      pthread_cond_wait(&p->scv, &p->smu);
    if (!p->job)
      break;
    weft__spawn_job *j = p->job;
    pthread_mutex_unlock(&p->smu);
    j->rc = do_spawn(j);
    pthread_mutex_lock(&p->smu);
    j->done = true;
    p->job = NULL;
    pthread_cond_broadcast(&p->scv);
  }
  pthread_mutex_unlock(&p->smu);
  return NULL;
}

/* Runs j on the pool's spawning thread and waits for it. */
static int spawn_on_thread(weft_procs *p, weft__spawn_job *j) {
  pthread_mutex_lock(&p->smu);
  while (p->job)
    pthread_cond_wait(&p->scv, &p->smu);
  p->job = j;
  pthread_cond_broadcast(&p->scv);
  while (!j->done)
    pthread_cond_wait(&p->scv, &p->smu);
  pthread_mutex_unlock(&p->smu);
  return j->rc;
}

static int start_spawner(weft_procs *p) {
  if (pthread_mutex_init(&p->smu, NULL))
    return WEFT_ESYS;
  if (pthread_cond_init(&p->scv, NULL)) {
    pthread_mutex_destroy(&p->smu);
    return WEFT_ESYS;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits it */
  int rc = pthread_create(&p->spawner, NULL, spawner_main, p);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc) {
    pthread_cond_destroy(&p->scv);
    pthread_mutex_destroy(&p->smu);
    return WEFT_ESYS;
  }
  p->spawner_up = true;
  return 0;
}

static void stop_spawner(weft_procs *p) {
  if (!p->spawner_up)
    return;
  pthread_mutex_lock(&p->smu);
  p->quit = true;
  pthread_cond_broadcast(&p->scv);
  pthread_mutex_unlock(&p->smu);
  pthread_join(p->spawner, NULL);
  pthread_cond_destroy(&p->scv);
  pthread_mutex_destroy(&p->smu);
  p->spawner_up = false;
}

uint64_t weft__procs_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void weft_procs_opts_init(weft_procs_opts *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof *opts);
  opts->retries = -1;
}

int weft_procs_workers(const weft_procs *pool) { return pool ? pool->n : 0; }

/* ---- spawning ---- */

/* environ without WEFT_WORKER_FD, plus ours. */
static char **worker_env(const char *ours) {
  size_t n = 0;
  for (char **e = environ; e && *e; e++)
    n++;
  char **env = malloc((n + 2) * sizeof *env);
  if (!env)
    return NULL;
  size_t k = 0, plen = strlen(WEFT__PROCS_ENV);
  for (char **e = environ; e && *e; e++)
    if (strncmp(*e, WEFT__PROCS_ENV, plen) != 0 || (*e)[plen] != '=')
      env[k++] = *e;
  env[k++] = (char *)ours;
  env[k] = NULL;
  return env;
}

int weft__procs_spawn(weft_procs *p, weft__pworker *w, char *msg,
                      size_t msgsize) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    snprintf(msg, msgsize, "cannot start worker %d: socketpair: %s", w->id,
             strerror(errno));
    return WEFT_ESYS;
  }
  int target = sv[1] == 3 ? 4 : 3;
  char var[128];
  snprintf(var, sizeof var, "%s=%d:%d:%d:%llu", WEFT__PROCS_ENV, target,
           (int)getpid(), w->id, (unsigned long long)p->shm_min);
  char **env = worker_env(var);
  char *argv[] = {program_invocation_name, (char *)"--weft-worker", NULL};
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  int rc = env ? 0 : ENOMEM;
  bool fa_ok = false, at_ok = false;
  if (!rc && !(rc = posix_spawn_file_actions_init(&fa)))
    fa_ok = true;
  if (!rc && !(rc = posix_spawnattr_init(&at)))
    at_ok = true;
  if (!rc)
    rc = posix_spawn_file_actions_adddup2(&fa, sv[1], target);
  if (!rc)
    rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
  if (!rc)
    rc = posix_spawn_file_actions_addclosefrom_np(&fa, target + 1);
#endif
  if (!rc)
    rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
                                           POSIX_SPAWN_SETSIGDEF |
                                           POSIX_SPAWN_SETPGROUP);
  if (!rc)
    rc = posix_spawnattr_setsigmask(&at, &none);
  if (!rc)
    rc = posix_spawnattr_setsigdefault(&at, &all);
  if (!rc)
    rc = posix_spawnattr_setpgroup(&at, 0);
  weft__spawn_job job = {&fa, &at, argv, env, -1, 0, false};
  if (!rc)
    rc = spawn_on_thread(p, &job);
  pid_t pid = job.pid;
  if (fa_ok)
    posix_spawn_file_actions_destroy(&fa);
  if (at_ok)
    posix_spawnattr_destroy(&at);
  free(env);
  close(sv[1]);
  if (rc) {
    close(sv[0]);
    snprintf(msg, msgsize, "cannot start worker %d: posix_spawn: %s", w->id,
             strerror(rc));
    return rc == ENOMEM ? WEFT_ENOMEM : WEFT_ESYS;
  }
  int fl = fcntl(sv[0], F_GETFL);
  if (fl >= 0)
    fcntl(sv[0], F_SETFL, fl | O_NONBLOCK);
  weft__conn_init(&w->conn, sv[0], true);
  w->pid = pid;
#ifdef SYS_pidfd_open
  w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* close-on-exec */
#else
  w->pidfd = -1;
#endif
  w->state = WEFT__W_STARTING;
  w->deadline = weft__procs_now() + (uint64_t)p->start_ms * 1000000ull;
  w->fns_sent = 0;
  w->ninflight = 0;
  w->head = 0;
  w->why[0] = '\0';
  if ((rc = weft__procs_send_fns(p, w))) {
    snprintf(msg, msgsize, "cannot start worker %d: out of memory", w->id);
    weft__procs_kill(w);
    snprintf(w->why, sizeof w->why, "stopped");
    weft__procs_reap(p, w);
    return rc;
  }
  weft__conn_flush(&w->conn); /* errors show up as the worker's death */
  return 0;
}

int weft__procs_send_fns(weft_procs *p, weft__pworker *w) {
  if (w->fns_sent >= p->fns.n)
    return 0;
  int rc = weft__fntab_put_defs(&p->fns, w->fns_sent, &w->conn);
  if (!rc)
    w->fns_sent = p->fns.n;
  return rc;
}

/* ---- reaping ---- */

void weft__procs_kill(const weft__pworker *w) {
  if (w->pid <= 0)
    return;
#ifdef SYS_pidfd_send_signal
  /* by pidfd: never another process that was given a reaped worker's pid */
  if (w->pidfd >= 0 &&
      syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0) == 0)
    return;
  if (w->pidfd >= 0 && errno == ESRCH)
    return;
#endif
  kill(w->pid, SIGKILL);
}

bool weft__procs_exited(const weft__pworker *w) {
  if (w->pid <= 0)
    return true;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do
    rc = waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT);
  while (rc < 0 && errno == EINTR);
  if (rc < 0)
    return errno == ECHILD; /* reaped already: by the system or another */
  return si.si_pid == w->pid;
}

void weft__procs_drain(weft_procs *p, weft__pworker *w, weft__result_fn fn,
                       void *ud) {
  for (int rounds = 0; rounds < 1 << 16; rounds++) {
    struct pollfd pf = {w->conn.fd, POLLIN, 0};
    if (poll(&pf, 1, 0) <= 0 || !(pf.revents & (POLLIN | POLLHUP | POLLERR)))
      return;
    if (weft__procs_pump(p, w, fn, ud))
      return;
  }
}

/* Why the exit status of a worker could not be collected. */
static void status_lost(weft__pworker *w) {
  struct sigaction sa;
  if (sigaction(SIGCHLD, NULL, &sa) == 0 &&
      (sa.sa_handler == SIG_IGN || (sa.sa_flags & SA_NOCLDWAIT)))
    snprintf(w->why, sizeof w->why,
             "killed without a word, e.g. by SIGKILL; its exit status was "
             "discarded because this program ignores SIGCHLD: keep "
             "SIGCHLD's default action to see it");
  else
    snprintf(w->why, sizeof w->why,
             "its exit status was collected by someone else (a "
             "waitpid(-1) or SIGCHLD handler of the program?)");
}

static void describe(weft__pworker *w, int st) {
  if (w->why[0])
    return;
  if (WIFSIGNALED(st)) {
    int sig = WTERMSIG(st);
    const char *name = strsignal(sig);
    snprintf(w->why, sizeof w->why, "signal %d, %s", sig,
             name ? name : "unknown signal");
  } else if (WIFEXITED(st)) {
    snprintf(w->why, sizeof w->why, "exit status %d", WEXITSTATUS(st));
  } else {
    snprintf(w->why, sizeof w->why, "wait status 0x%x", (unsigned)st);
  }
}

void weft__procs_reap(weft_procs *p, weft__pworker *w) {
  (void)p;
  if (w->state == WEFT__W_DEAD)
    return;
  weft__conn_close(&w->conn);
  int st = 0;
  pid_t got;
  /* A worker whose socket ended is exiting on its own: give it a moment
   * (at most about 0.2 s) to finish, so that its own exit status or signal
   * is what we report; then SIGKILL. Callers that stop a live worker send
   * SIGKILL first, so this returns at once for them. */
  for (int spin = 0; spin < 200; spin++) {
    do
      got = waitpid(w->pid, &st, WNOHANG);
    while (got < 0 && errno == EINTR);
    if (got != 0)
      break;
    struct timespec ts = {0, spin < 20 ? 50000 : 1000000};
    nanosleep(&ts, NULL);
  }
  if (got == 0) {
    weft__procs_kill(w);
    do
      got = waitpid(w->pid, &st, 0);
    while (got < 0 && errno == EINTR);
  }
  if (got == w->pid)
    describe(w, st);
  else if (!w->why[0])
    status_lost(w);
  if (w->pidfd >= 0)
    close(w->pidfd);
  w->pidfd = -1;
  w->state = WEFT__W_DEAD;
  w->pid = -1;
  w->ninflight = 0;
  w->head = 0;
}

/* ---- reading ---- */

int weft__procs_pump(weft_procs *p, weft__pworker *w, weft__result_fn fn,
                     void *ud) {
  (void)p;
  int frc = weft__conn_fill(&w->conn);
  const uint8_t *frame;
  size_t len;
  int rc;
  weft__presult res;
  while ((rc = weft__conn_next(&w->conn, &frame, &len)) == 0) {
    unsigned kind;
    weft__prd r;
    weft_wire_error err = {0};
    if ((rc = weft__pmsg_open(frame, len, &kind, &r)))
      break;
    if (kind == WEFT__PK_HELLO && w->state == WEFT__W_STARTING) {
      uint32_t proto, pid;
      if (weft__pmsg_get_hello(&r, &proto, &pid) ||
          proto != WEFT__PROCS_PROTO || pid != (uint32_t)w->pid) {
        snprintf(w->why, sizeof w->why,
                 "protocol error: unexpected greeting (protocol %u)",
                 (unsigned)proto);
        return 1;
      }
      w->state = WEFT__W_READY;
    } else if (kind == WEFT__PK_DYING) {
      uint32_t how = 0, n = 0;
      if (weft__prd_u32(&r, &how) || weft__prd_u32(&r, &n))
        how = 0;
      if (how == WEFT__DYING_SIGNAL) {
        const char *name = strsignal((int)n);
        snprintf(w->why, sizeof w->why, "signal %u, %s", (unsigned)n,
                 name ? name : "unknown signal");
      } else if (how == WEFT__DYING_EXIT) {
        snprintf(w->why, sizeof w->why, "exit status %u", (unsigned)n);
      } else {
        snprintf(w->why, sizeof w->why, "protocol error: bad DYING report");
      }
      return 1;
    } else if (kind == WEFT__PK_RESULT && w->state == WEFT__W_READY) {
      if ((rc = weft__pmsg_get_result(&r, &w->conn, &res, &err))) {
        snprintf(w->why, sizeof w->why, "protocol error: %.140s", err.text);
        return 1;
      }
      if (!fn) {
        weft_value_release(&res.value);
        continue;
      }
      if ((rc = fn(ud, w, &res)))
        return rc;
    } else {
      snprintf(w->why, sizeof w->why,
               "protocol error: unexpected message of kind %u", kind);
      return 1;
    }
  }
  if (rc < 0) {
    snprintf(w->why, sizeof w->why, "protocol error: %s", weft_strerror(rc));
    return 1;
  }
  if (frc == 1)
    return 1; /* end of stream: the worker is gone; w->why from waitpid */
  if (frc < 0) {
    snprintf(w->why, sizeof w->why, "read error: %s", strerror(errno));
    return 1;
  }
  return 0;
}

/* ---- the pool ---- */

/* Waits until no worker is STARTING. 0, or an error with msg set. */
static int wait_started(weft_procs *p, char *msg, size_t msgsize) {
  struct pollfd *pf = malloc((size_t)p->n * sizeof *pf);
  int *who = malloc((size_t)p->n * sizeof *who);
  int rc = pf && who ? 0 : WEFT_ENOMEM;
  if (rc)
    snprintf(msg, msgsize, "out of memory");
  while (!rc) {
    int k = 0;
    uint64_t now = weft__procs_now(), next = UINT64_MAX;
    for (int i = 0; i < p->n && !rc; i++) {
      weft__pworker *w = &p->w[i];
      if (w->state != WEFT__W_STARTING)
        continue;
      if (now >= w->deadline) {
        weft__procs_kill(w);
        snprintf(w->why, sizeof w->why, "did not start in time");
        weft__procs_reap(p, w);
        snprintf(msg, msgsize,
                 "worker %d did not start within %d ms (a program must "
                 "link libweft, not load it with dlopen, to have worker "
                 "processes)",
                 w->id, p->start_ms);
        rc = WEFT_ESYS;
        break;
      }
      if (w->deadline < next)
        next = w->deadline;
      pf[k].fd = w->conn.fd;
      pf[k].events =
          (short)(POLLIN | (weft__conn_pending(&w->conn) ? POLLOUT : 0));
      pf[k].revents = 0;
      who[k++] = i;
    }
    if (rc || k == 0)
      break;
    int ms = (int)((next - now) / 1000000ull) + 1;
    int n = poll(pf, (nfds_t)k, ms);
    if (n < 0 && errno != EINTR) {
      snprintf(msg, msgsize, "poll: %s", strerror(errno));
      rc = WEFT_ESYS;
    }
    for (int j = 0; n > 0 && j < k && !rc; j++) {
      weft__pworker *w = &p->w[who[j]];
      bool dead = false;
      if (pf[j].revents & POLLOUT)
        dead = weft__conn_flush(&w->conn) < 0;
      if (!dead && (pf[j].revents & (POLLIN | POLLHUP | POLLERR)))
        dead = weft__procs_pump(p, w, NULL, NULL) != 0;
      if (dead) {
        pid_t pid = w->pid;
        weft__procs_reap(p, w);
        snprintf(msg, msgsize, "worker %d (pid %d) died while starting (%s)",
                 w->id, (int)pid, w->why);
        rc = WEFT_ESYS;
      }
    }
  }
  free(pf);
  free(who);
  return rc;
}

int weft__procs_new(int workers, const weft_procs_opts *opts, weft_procs **out,
                    char *msg, size_t msgsize) {
  if (!out) {
    snprintf(msg, msgsize, "weft_procs_new: NULL output");
    return WEFT_EINVAL;
  }
  *out = NULL;
  if (workers > 4096) {
    snprintf(msg, msgsize, "weft_procs_new: %d workers (at most 4096)",
             workers);
    return WEFT_EINVAL;
  }
  weft_procs_opts def;
  if (!opts) {
    weft_procs_opts_init(&def);
    opts = &def;
  }
  weft_procs *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(msg, msgsize, "out of memory");
    return WEFT_ENOMEM;
  }
  p->n = workers > 0 ? workers : weft_cpu_count();
  p->retries = opts->retries >= 0 ? opts->retries : 1;
  p->start_ms = opts->start_timeout_ms > 0 ? opts->start_timeout_ms
                                           : WEFT__PROCS_START_MS;
  p->shm_min = opts->shm_threshold ? opts->shm_threshold : WEFT__PROCS_SHM_MIN;
  p->next_id = 1;
  p->w = calloc((size_t)p->n, sizeof *p->w);
  if (!p->w || pthread_mutex_init(&p->mu, NULL)) {
    free(p->w);
    free(p);
    snprintf(msg, msgsize, "out of memory");
    return WEFT_ENOMEM;
  }
  for (int i = 0; i < p->n; i++) {
    p->w[i].id = i;
    p->w[i].pid = -1;
    p->w[i].conn.fd = -1;
    p->w[i].pidfd = -1;
  }
  int rc = start_spawner(p);
  if (rc)
    snprintf(msg, msgsize, "cannot start the pool's spawning thread");
  if (!rc && (rc = weft__fntab_sync(&p->fns)))
    snprintf(msg, msgsize, "out of memory");
  for (int i = 0; !rc && i < p->n; i++)
    rc = weft__procs_spawn(p, &p->w[i], msg, msgsize);
  if (!rc)
    rc = wait_started(p, msg, msgsize);
  if (rc) {
    weft_procs_free(p);
    return rc;
  }
  *out = p;
  return 0;
}

int weft_procs_new(int workers, const weft_procs_opts *opts, weft_procs **out) {
  char msg[256];
  (void)weft__procs_worker_linked();
  (void)weft__procs_sched_linked();
  return weft__procs_new(workers, opts, out, msg, sizeof msg);
}

#if WEFT__PROCS_LEAK_CHECK
/* ASan builds: close the socket of every worker that started, which tells
 * it to stop, and wait (WEFT__PROCS_EXIT_MS at most) for each to run its
 * leak check and exit, rather than kill it at once and never see its
 * leaks. Workers still starting are left to the kill that follows. */
/* Whether process pid is stopped by a signal (state T in /proc/pid/stat;
 * not t, a tracing stop, such as LeakSanitizer's own while it checks). */
static bool stopped_by_signal(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  const char *paren = strrchr(buf, ')'); /* the command may hold spaces */
  return paren && paren[1] == ' ' && paren[2] == 'T';
}

static void let_workers_exit(weft_procs *pool) {
  for (int i = 0; i < pool->n; i++)
    if (pool->w[i].state == WEFT__W_READY) {
      weft__conn_close(&pool->w[i].conn);
      /* a worker stopped by someone (SIGSTOP, a shell's ^Z) could not exit
         and would cost the whole wait: let it run (it is not reaped, so
         its pid is still its own) */
      if (pool->w[i].pid > 0 && stopped_by_signal(pool->w[i].pid))
        kill(pool->w[i].pid, SIGCONT);
    }
  uint64_t end = weft__procs_now() + WEFT__PROCS_EXIT_MS * 1000000ull;
  for (int i = 0; i < pool->n; i++) {
    weft__pworker *w = &pool->w[i];
    if (w->state != WEFT__W_READY)
      continue;
    /* Waited for without reaping (WNOWAIT): weft_procs_free reaps it as
     * any other, which also closes its pidfd. */
    for (;;) {
      siginfo_t si;
      si.si_pid = 0;
      int got = waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT);
      if ((got == 0 && si.si_pid != 0) || (got < 0 && errno != EINTR) ||
          weft__procs_now() >= end)
        break;
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
  }
}
#endif

void weft_procs_free(weft_procs *pool) {
  if (!pool)
    return;
  pthread_mutex_lock(&pool->mu); /* a running compute ends first */
#if WEFT__PROCS_LEAK_CHECK
  let_workers_exit(pool);
#endif
  for (int i = 0; i < pool->n; i++) {
    weft__pworker *w = &pool->w[i];
    if (w->state != WEFT__W_DEAD) {
      weft__procs_kill(w);
      snprintf(w->why, sizeof w->why, "stopped");
      weft__procs_reap(pool, w);
    }
  }
  pthread_mutex_unlock(&pool->mu);
  stop_spawner(pool);
  pthread_mutex_destroy(&pool->mu);
  weft__fntab_free(&pool->fns);
  free(pool->w);
  free(pool);
}
