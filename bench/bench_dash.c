/* bench_dash.c - issue 11's load test: does a dashboard under load slow the
 * computation it watches? One process computes back to back (graphs of
 * 2,047 tasks: 1,024 CPU-bound leaves and a tree of sums, threads scheduler,
 * the dashboard's listener attached) for `secs` seconds per phase and counts
 * tasks per second: idle    the dashboard serves, nobody asks (the reference,
 * run before and after the loaded phase: their mean) loaded  a separate load
 * process (this program run as `bench_dash load PORT RATE SECS`) sends RATE
 * requests per second on loopback over 4 keep-alive connections (a thread
 * each), cycling through the JSON endpoints (the task bars since the last
 *           answer, as the page does), and checks every answer (200, complete
 * JSON) none    no dashboard at all (for information) Prints DASH lines
 * (bench/run_dash.sh makes the table): DASH phase=P secs=S tasks=N rate_tasks=R
 *   DASH load requests=N errors=E secs=S rate=R p50_us=A p99_us=B max_us=C
 *   DASH block=idle|loaded rate_tasks=R   (five loaded blocks of SECS/5
 *                                          s, idle blocks around each)
 * Usage: bench_dash [SECS [RATE]] (default 10 s, 1000 requests/s). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

extern char **environ;

static double now_s(void) { return (double)weft_now_ns() / 1e9; }

static long work(long x) { /* about 0.2 ms of arithmetic */
  volatile double s = 0;
  for (long k = 0; k < 60000; k++)
    s += (double)((k ^ x) & 7) * 0.5;
  return x + (long)(s * 0);
}
WEFT_DELAYED(work, long, long);
static long add2(long a, long b) { return a + b; }
WEFT_DELAYED(add2, long, long, long);

/* Computes for secs seconds; returns tasks per second. */
static double phase(weft_dash *d, double secs, long *ntasks) {
  double t0 = now_s();
  long tasks = 0;
  do {
    /* 1,024 independent leaves summed by a tree: the workers stay busy */
    weft_graph *g = weft_graph_new();
    enum { N = 1024 };
    weft_node *level[N];
    for (int k = 0; k < N; k++)
      level[k] = weft_call(g, work, k);
    for (int n = N; n > 1; n /= 2)
      for (int k = 0; k < n / 2; k++)
        level[k] = weft_call(g, add2, level[2 * k], level[2 * k + 1]);
    weft_node *acc = level[0];
    weft_compute_opts o;
    weft_compute_opts_init(&o);
    o.scheduler = WEFT_SCHED_THREADS;
    o.listener = d ? weft_dash_listener(d) : NULL;
    weft_value v;
    if (weft_compute(g, 1, &acc, (weft_value *[]){&v}, &o)) {
      fprintf(stderr, "bench_dash: compute failed: %s\n", weft_graph_error(g));
      exit(1);
    }
    tasks += 2 * N - 1;
    weft_graph_free(g);
  } while (now_s() - t0 < secs);
  double t = now_s() - t0;
  *ntasks = tasks;
  return (double)tasks / t;
}

/* Computes until process pid has ended (its status in *st). */
static double phase_until(weft_dash *d, pid_t pid, int *st, long *ntasks) {
  double t0 = now_s();
  long tasks = 0, n;
  while (waitpid(pid, st, WNOHANG) == 0) {
    phase(d, 0, &n); /* one compute */
    tasks += n;
  }
  *ntasks = tasks;
  return (double)tasks / (now_s() - t0);
}

/* ---- the load process ---- */

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* One request on a keep-alive connection: 0 when the answer is a 200 with
 * a complete JSON body. */
static int request(int fd, const char *path, char *buf, size_t cap) {
  char req[256];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
  if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
    return -1;
  size_t len = 0;
  long body = -1;
  char *hdr_end = NULL;
  for (;;) {
    if (len + 1 >= cap)
      return -1;
    ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
    if (r <= 0)
      return -1;
    len += (size_t)r;
    buf[len] = '\0';
    if (!hdr_end && (hdr_end = strstr(buf, "\r\n\r\n"))) {
      const char *cl = strcasestr(buf, "Content-Length:");
      if (!cl || cl > hdr_end)
        return -1;
      body = strtol(cl + 15, NULL, 10);
    }
    if (hdr_end && (long)(len - (size_t)(hdr_end + 4 - buf)) >= body)
      break;
  }
  int code = 0;
  sscanf(buf, "HTTP/1.%*d %d", &code);
  const char *b = hdr_end + 4;
  return code == 200 && body >= 3 && b[0] == '{' && b[body - 2] == '}' ? 0 : -1;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct loader {
  int port;
  double rate, secs, t0;
  long n, errors;
  double *lat;
} loader;

/* One connection, paced at its share of the rate; a browser's questions:
 * the panels, and the task bars since the last answer's "next". */
static void *load_main(void *arg) {
  loader *l = arg;
  static const char *const paths[] = {"/api/progress", "/api/workers",
                                      "/api/status", "/api/graph",
                                      "/api/log?since=0"};
  size_t cap = 4 << 20;
  char *buf = malloc(cap), path[64];
  long next = 0;
  int fd = dial(l->port);
  for (long i = 0; buf && i < l->n; i++) {
    double due = l->t0 + (double)i / l->rate, t = now_s();
    if (due > t) {
      struct timespec ts = {0, (long)((due - t) * 1e9)};
      nanosleep(&ts, NULL);
    }
    const char *p = paths[i % 6 < 5 ? i % 6 : 0];
    if (i % 6 == 5) {
      snprintf(path, sizeof path, "/api/tasks?since=%ld", next);
      p = path;
    }
    double a = now_s();
    if (fd < 0 || request(fd, p, buf, cap)) {
      l->errors++;
      if (fd >= 0)
        close(fd);
      fd = dial(l->port); /* a new connection for the next one */
    } else if (p == path) {
      const char *nx = strstr(buf, "\"next\":");
      if (nx)
        next = strtol(nx + 7, NULL, 10);
    }
    l->lat[i] = (now_s() - a) * 1e6;
  }
  if (fd >= 0)
    close(fd);
  free(buf);
  return NULL;
}

static int load(int port, double rate, double secs) {
  enum { CONNS = 4 };
  loader ls[CONNS];
  pthread_t th[CONNS];
  long total = 0;
  double t0 = now_s();
  for (int k = 0; k < CONNS; k++) {
    ls[k] = (loader){port, rate / CONNS, secs, t0, (long)(rate * secs / CONNS),
                     0,    NULL};
    ls[k].lat = malloc((size_t)ls[k].n * sizeof(double));
    if (!ls[k].lat || pthread_create(&th[k], NULL, load_main, &ls[k]))
      return 1;
  }
  double *lat = malloc((size_t)(rate * secs + CONNS) * sizeof *lat);
  long errors = 0;
  for (int k = 0; k < CONNS; k++) {
    pthread_join(th[k], NULL);
    memcpy(lat + total, ls[k].lat, (size_t)ls[k].n * sizeof *lat);
    total += ls[k].n;
    errors += ls[k].errors;
    free(ls[k].lat);
  }
  double el = now_s() - t0;
  qsort(lat, (size_t)total, sizeof *lat, cmp_d);
  printf("DASH load requests=%ld errors=%ld secs=%.2f rate=%.0f p50_us=%.0f "
         "p99_us=%.0f max_us=%.0f\n",
         total, errors, el, (double)total / el, lat[total / 2],
         lat[(long)((double)total * 0.99)], lat[total - 1]);
  fflush(stdout);
  free(lat);
  return errors ? 3 : 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && !strcmp(argv[1], "load"))
    return load(atoi(argv[2]), atof(argv[3]), atof(argv[4]));
  double secs = argc > 1 ? atof(argv[1]) : 10,
         rate = argc > 2 ? atof(argv[2]) : 1000;
  if (secs <= 0 || rate <= 0) {
    fprintf(stderr, "usage: bench_dash [SECS [RATE]]\n");
    return 2;
  }
  weft_dash_opts o;
  weft_dash_opts_init(&o);
  o.port = 0;
  o.quiet = 1;
  weft_dash *d;
  char err[256];
  if (weft_dash_start(&o, &d, err, sizeof err)) {
    fprintf(stderr, "bench_dash: %s\n", err);
    return 1;
  }
  long n;
  double r;
  phase(d, 1, &n); /* warm-up */
  r = phase(d, secs, &n);
  printf("DASH phase=idle secs=%.0f tasks=%ld rate_tasks=%.0f\n", secs, n, r);

  char port[16], rs[32], ss[32];
  snprintf(port, sizeof port, "%d", weft_dash_port(d));
  snprintf(rs, sizeof rs, "%g", rate);
  snprintf(ss, sizeof ss, "%g", secs);
  char *args[] = {argv[0], "load", port, rs, ss, NULL};
  pid_t pid;
  if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ)) {
    fprintf(stderr, "bench_dash: cannot start the load process\n");
    return 1;
  }
  fflush(stdout);
  int st;
  double t0 = now_s();
  r = phase_until(d, pid, &st, &n);
  printf("DASH phase=loaded secs=%.0f tasks=%ld rate_tasks=%.0f\n",
         now_s() - t0, n, r);
  r = phase(d, secs, &n);
  printf("DASH phase=idle secs=%.0f tasks=%ld rate_tasks=%.0f\n", secs, n, r);
  /* The same in short blocks, idle and loaded in turn, so that the drift
   * of a shared machine falls on both alike: each loaded block against the
   * mean of the idle blocks around it. */
  double blk = secs / 5 > 1 ? secs / 5 : 1;
  snprintf(ss, sizeof ss, "%g", blk);
  r = phase(d, blk, &n);
  for (int k = 0; k < 5; k++) {
    printf("DASH block=idle rate_tasks=%.0f\n", r);
    /* What serving costs by itself: the process's CPU time (the server's
     * threads; nothing computes) while the load runs for a block. */
    struct rusage u0, u1;
    getrusage(RUSAGE_SELF, &u0);
    double w0 = now_s();
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ)) {
      fprintf(stderr, "bench_dash: cannot start the load process\n");
      return 1;
    }
    int sst;
    waitpid(pid, &sst, 0);
    getrusage(RUSAGE_SELF, &u1);
    double cpu = (double)(u1.ru_utime.tv_sec - u0.ru_utime.tv_sec) +
                 (double)(u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) +
                 (double)(u1.ru_utime.tv_usec - u0.ru_utime.tv_usec) / 1e6 +
                 (double)(u1.ru_stime.tv_usec - u0.ru_stime.tv_usec) / 1e6;
    printf("DASH serve_cpu_percent=%.1f\n", 100 * cpu / (now_s() - w0));
    if (!WIFEXITED(sst) || WEXITSTATUS(sst))
      st = sst;
    int bst;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ)) {
      fprintf(stderr, "bench_dash: cannot start the load process\n");
      return 1;
    }
    r = phase_until(d, pid, &bst, &n);
    printf("DASH block=loaded rate_tasks=%.0f\n", r);
    if (!WIFEXITED(bst) || WEXITSTATUS(bst))
      st = bst;
    r = phase(d, blk, &n);
  }
  printf("DASH block=idle rate_tasks=%.0f\n", r);
  printf("DASH dropped_events=%llu\n", weft_dash_dropped(d));
  weft_dash_stop(d);
  r = phase(NULL, secs / 2, &n);
  printf("DASH phase=none secs=%.0f tasks=%ld rate_tasks=%.0f\n", secs / 2, n,
         r);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
