/* test_dash.c - the live dashboard (weft/dash.h) over real HTTP on
 * loopback: its JSON endpoints against the computation they watched (tasks
 * per function counted by the loop that built the graph, every task bar
 * once, the workers' tasks adding up, the graph's function edges), a
 * failing compute in the log, several computes in a row, the server-sent
 * event stream, the token, the client option and WEFT_DASHBOARD, and bad
 * requests (unknown paths, "..", other methods, a huge header, a request
 * that never finishes sending) answered with 4xx or closed while the server
 * goes on serving. The page in a real browser: tests/dash_browser.sh. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "dash/dash_env.h"

/* ---- tasks: a binary tree of sums over 64 leaves ---- */

static long inc(long x) { return x + 1; }
WEFT_DELAYED(inc, long, long);
static long pair(long a, long b) { return a + b; }
WEFT_DELAYED(pair, long, long, long);
static long bad(long x) {
  weft_fail(weft_task_current(), "dash test failure %ld", x);
  return 0;
}
WEFT_DELAYED(bad, long, long);
static long nap(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  return ms;
}
WEFT_DELAYED(nap, long, long);

enum { LEAVES = 64 };

/* The tree; *npair: the pair nodes made (LEAVES - 1). */
static weft_node *tree(weft_graph *g, int *npair) {
  weft_node *level[LEAVES];
  for (int k = 0; k < LEAVES; k++)
    level[k] = weft_call(g, inc, k);
  *npair = 0;
  for (int n = LEAVES; n > 1; n /= 2)
    for (int k = 0; k < n / 2; k++, ++*npair)
      level[k] = weft_call(g, pair, level[2 * k], level[2 * k + 1]);
  return level[0];
}

/* ---- a small HTTP client ---- */

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

static void send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0)
      return; /* the server may close first: the answer says so */
    p += w;
    n -= (size_t)w;
  }
}

/* Reads until the server closes or timeout_s; returns the bytes (malloc'd),
 * *closed = 1 when it closed. */
static char *read_all(int fd, double timeout_s, int *closed) {
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  double end = tu_now() + timeout_s;
  *closed = 0;
  for (;;) {
    double left = end - tu_now();
    if (left <= 0)
      break;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
      break;
    if (len + 4096 > cap)
      assert_non_null(buf = realloc(buf, cap *= 2));
    ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
    if (r <= 0) {
      *closed = 1;
      break;
    }
    len += (size_t)r;
  }
  buf[len] = '\0';
  return buf;
}

/* GET path: the status code, and the body in *body (malloc'd). */
static int get(int port, const char *path, char **body) {
  int fd = dial(port);
  char req[1024];
  snprintf(req, sizeof req,
           "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
           path);
  send_all(fd, req, strlen(req));
  int closed;
  char *r = read_all(fd, 10, &closed);
  close(fd);
  int code = 0;
  sscanf(r, "HTTP/1.%*d %d", &code);
  if (body) {
    char *b = strstr(r, "\r\n\r\n");
    *body = strdup(b ? b + 4 : "");
  }
  free(r);
  return code;
}

/* The number after "name": in s (the first one), or -1. */
static long long num(const char *s, const char *name) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", name);
  const char *p = s ? strstr(s, pat) : NULL;
  return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static int count(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

/* Waits until /api/progress shows `want` computes, the last one finished. */
static char *wait_finished(int port, int want) {
  char idpat[32];
  snprintf(idpat, sizeof idpat, "{\"id\":%d,", want);
  for (int tries = 0; tries < 500; tries++) {
    char *b;
    assert_int_equal(get(port, "/api/progress", &b), 200);
    const char *c = strstr(b, idpat);
    if (c && strstr(c, "\"running\":false"))
      return b;
    if (tries == 499)
      fail_msg("the dashboard never showed compute %d finished: %.600s", want,
               b);
    free(b);
    nap(10);
  }
  return NULL;
}

static weft_dash *start(const char *token) {
  weft_dash_opts o;
  weft_dash_opts_init(&o);
  o.port = 0;
  o.quiet = 1;
  o.timeout_s = 1;
  o.token = token;
  weft_dash *d;
  char err[256];
  int rc = weft_dash_start(&o, &d, err, sizeof err);
  if (rc)
    fail_msg("weft_dash_start: %s", err);
  return d;
}

/* ---- tests ---- */

static void endpoints_match_the_compute(void **state) {
  (void)state;
  weft_dash *d = start(NULL);
  int port = weft_dash_port(d);
  assert_true(port > 0);
  char want_link[64];
  snprintf(want_link, sizeof want_link, "http://127.0.0.1:%d/", port);
  assert_string_equal(weft_dash_link(d), want_link);

  for (int round = 1; round <= 2; round++) { /* two computes in a row */
    weft_graph *g = weft_graph_new();
    int npair;
    weft_node *root = tree(g, &npair);
    weft_compute_opts o;
    weft_compute_opts_init(&o);
    o.scheduler = WEFT_SCHED_THREADS;
    o.workers = 4;
    o.listener = weft_dash_listener(d);
    weft_value v;
    assert_rc(0, tu_compute1(g, root, &v, &o), g);
    assert_int_equal(v.as.i, LEAVES * (LEAVES + 1) / 2); /* 1 + ... + 64 */
    weft_graph_free(g);

    char *p = wait_finished(port, round);
    char idpat[32];
    snprintf(idpat, sizeof idpat, "{\"id\":%d,", round);
    const char *c = strstr(p, idpat);
    assert_int_equal(num(c, "ntasks"), LEAVES + npair);
    assert_int_equal(num(c, "done"), LEAVES + npair);
    assert_int_equal(num(c, "failed"), 0);
    assert_int_equal(num(c, "workers"), 4);
    const char *fi = strstr(c, "{\"name\":\"inc\"");
    const char *fp = strstr(c, "{\"name\":\"pair\"");
    assert_non_null(fi);
    assert_non_null(fp);
    assert_int_equal(num(fi, "total"), LEAVES);
    assert_int_equal(num(fi, "done"), LEAVES);
    assert_int_equal(num(fi, "waiting"), 0);
    assert_int_equal(num(fp, "done"), npair);
    assert_int_equal(num(fp, "running"), 0);
    free(p);

    /* every task bar once, of this compute */
    char *t;
    assert_int_equal(get(port, "/api/tasks?since=0", &t), 200);
    snprintf(idpat, sizeof idpat, "\"compute\":%d,", round);
    assert_int_equal(count(t, idpat), LEAVES + npair);
    assert_int_equal(num(t, "next"), round * (LEAVES + npair));
    assert_int_equal(count(t, "\"fn\":\"inc\""), round * LEAVES);
    assert_int_equal(count(t, "\"key\":\"pair-"), round * npair);
    free(t);
    /* asked from the middle: only the rest */
    char path[64];
    snprintf(path, sizeof path, "/api/tasks?since=%d", LEAVES + npair - 5);
    assert_int_equal(get(port, path, &t), 200);
    assert_int_equal(count(t, "\"seq\":"),
                     round * (LEAVES + npair) - (LEAVES + npair - 5));
    free(t);

    /* the graph, summarised by function */
    char *gr;
    assert_int_equal(get(port, "/api/graph", &gr), 200);
    assert_int_equal(num(gr, "compute"), round);
    assert_int_equal(num(strstr(gr, "{\"name\":\"inc\""), "nodes"), LEAVES);
    assert_int_equal(num(strstr(gr, "{\"name\":\"pair\""), "nodes"), npair);
    assert_int_equal(
        num(strstr(gr, "{\"from\":\"inc\",\"to\":\"pair\""), "count"), LEAVES);
    assert_int_equal(
        num(strstr(gr, "{\"from\":\"pair\",\"to\":\"pair\""), "count"),
        npair - 1);
    free(gr);
  }

  /* the workers' tasks add up to both computes' */
  char *w;
  assert_int_equal(get(port, "/api/workers", &w), 200);
  long long sum = 0;
  for (const char *p = strstr(w, "\"workers\":[");
       (p = strstr(p, "\"tasks\":")); p++)
    sum += num(p, "tasks");
  int npair = LEAVES - 1;
  assert_int_equal(sum, 2 * (LEAVES + npair));
  assert_true(num(w, "pid") == getpid());
  free(w);

  char *st;
  assert_int_equal(get(port, "/api/status", &st), 200);
  assert_int_equal(num(st, "dropped_events"), 0);
  assert_int_equal(count(st, "\"kind\":\"compute\""), 2);
  free(st);

  char *page;
  assert_int_equal(get(port, "/", &page), 200);
  assert_contains(page, "<title>weft dashboard</title>");
  assert_contains(page, "EventSource");
  assert_not_contains(page, "http://"); /* nothing fetched elsewhere */
  assert_not_contains(page, "https://");
  free(page);
  weft_dash_stop(d);
}

static void failures_are_logged(void **state) {
  (void)state;
  weft_dash *d = start(NULL);
  int port = weft_dash_port(d);
  weft_graph *g = weft_graph_new();
  weft_node *x = weft_call(g, pair, weft_call(g, bad, 7), weft_call(g, inc, 1));
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_THREADS;
  o.workers = 2;
  o.listener = weft_dash_listener(d);
  weft_value v;
  assert_rc(WEFT_ETASK, tu_compute1(g, x, &v, &o), g);
  weft_graph_free(g);
  char *p = wait_finished(port, 1);
  assert_int_equal(num(p, "failed"), 1);
  assert_true(num(p, "status") != 0);
  assert_int_equal(num(strstr(p, "{\"name\":\"pair\""), "cancelled"), 1);
  free(p);
  char *l;
  assert_int_equal(get(port, "/api/log?since=0", &l), 200);
  assert_contains(l, "\"what\":\"failed\",\"fn\":\"bad\"");
  assert_contains(l, "dash test failure 7");
  assert_contains(l, "\"what\":\"cancelled\",\"fn\":\"pair\"");
  assert_contains(l, "\"what\":\"compute failed\"");
  free(l);
  weft_dash_stop(d);
}

/* The event stream sends the state at once, then news while a compute runs. */
static void event_stream(void **state) {
  (void)state;
  weft_dash *d = start(NULL);
  int port = weft_dash_port(d);
  int fd = dial(port);
  const char *req = "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n";
  send_all(fd, req, strlen(req));
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_call(g, nap, 150);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.listener = weft_dash_listener(d);
  weft_value v;
  assert_rc(0, tu_compute1(g, a, &v, &o), g);
  weft_graph_free(g);
  int closed;
  char *r = read_all(fd, 0.6, &closed);
  close(fd);
  assert_false(closed);
  assert_contains(r, "Content-Type: text/event-stream");
  assert_contains(r, "event: update\ndata: {\"status\":");
  assert_contains(r, "\"key\":\"nap-0\""); /* its bar came by the stream */
  assert_true(count(r, "event: update") >= 2);
  free(r);
  weft_dash_stop(d);
}

/* Browsers that never read their event stream hold up nobody: a compute of
 * 20,000 tasks runs through, the others are still served, and what the
 * dashboard shows adds up (or says how many events it dropped). */
static void stuck_browsers(void **state) {
  (void)state;
  weft_dash *d = start(NULL);
  int port = weft_dash_port(d);
  int stuck[3];
  for (int k = 0; k < 3; k++) {
    stuck[k] = dial(port);
    int small = 4096;
    setsockopt(stuck[k], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    const char *req = "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(stuck[k], req, strlen(req));
  }
  enum { N = 10000 };
  weft_graph *g = weft_graph_new();
  weft_node *acc = weft_call(g, inc, 0);
  for (int k = 1; k < N; k++)
    acc = weft_call(g, pair, acc, weft_call(g, inc, k));
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_THREADS;
  o.workers = 2;
  o.listener = weft_dash_listener(d);
  weft_value v;
  double t0 = tu_now();
  assert_rc(0, tu_compute1(g, acc, &v, &o), g);
  assert_int_equal(v.as.i, (long)N * (N + 1) / 2);
  assert_true(tu_now() - t0 < 20);
  weft_graph_free(g);
  char *p = wait_finished(port, 1);
  long long done = num(p, "done");
  free(p);
  char *st;
  assert_int_equal(get(port, "/api/status", &st), 200);
  long long dropped = num(st, "dropped_events");
  free(st);
  assert_true(dropped >= 0);
  if (dropped == 0)
    assert_int_equal(done, 2 * N - 1);
  else
    assert_true(done < 2 * N - 1);
  assert_int_equal((long long)weft_dash_dropped(d), dropped);
  for (int k = 0; k < 3; k++)
    close(stuck[k]);
  weft_dash_stop(d); /* returns although they never read */
}

static void bad_requests(void **state) {
  (void)state;
  weft_dash *d = start(NULL);
  int port = weft_dash_port(d);
  assert_int_equal(get(port, "/nope", NULL), 404);
  assert_int_equal(get(port, "/api/", NULL), 404);
  assert_int_equal(get(port, "/../../etc/passwd", NULL), 404);
  assert_int_equal(get(port, "/api/../api/status", NULL), 404);
  assert_int_equal(get(port, "/%2e%2e/etc/passwd", NULL), 404);
  assert_int_equal(get(port, "/api/tasks?since=abc", NULL), 400);
  assert_int_equal(get(port, "/api/tasks?since=-1", NULL), 400);
  assert_int_equal(get(port, "/api/log?since=99999999999999999999999", NULL),
                   400);
  assert_int_equal(get(port, "/api/events?log_since=1x", NULL), 400);
  assert_int_equal(get(port, "/api/tasks?since=5", NULL), 200);

  /* another method */
  int fd = dial(port);
  const char *post = "POST /api/status HTTP/1.1\r\nHost: x\r\nContent-Length: "
                     "3\r\nConnection: close\r\n\r\nabc";
  send_all(fd, post, strlen(post));
  int closed;
  char *r = read_all(fd, 5, &closed);
  close(fd);
  assert_contains(r, " 405 ");
  free(r);

  /* a huge header: refused (4xx) or closed */
  size_t big = 200 * 1024;
  char *huge = malloc(big + 128);
  assert_non_null(huge);
  int n = sprintf(huge, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
  memset(huge + n, 'a', big);
  strcpy(huge + n + big, "\r\n\r\n");
  fd = dial(port);
  send_all(fd, huge, strlen(huge));
  r = read_all(fd, 5, &closed);
  close(fd);
  int code = 0;
  sscanf(r, "HTTP/1.%*d %d", &code);
  if (!(closed && (code == 0 || (code >= 400 && code < 500))))
    fail_msg("a huge header got '%.60s' (closed %d)", r, closed);
  free(r);
  free(huge);

  /* a request that never finishes sending: closed after the timeout (1 s),
   * and meanwhile others are served */
  int slow = dial(port);
  const char *half = "GET /api/status HTTP/1.1\r\nHost: x\r\n";
  send_all(slow, half, strlen(half));
  double t0 = tu_now();
  assert_int_equal(get(port, "/api/status", NULL), 200);
  assert_true(tu_now() - t0 < 1.0);
  r = read_all(slow, 8, &closed);
  close(slow);
  assert_true(closed);
  assert_true(tu_now() - t0 < 6.0);
  code = 0;
  sscanf(r, "HTTP/1.%*d %d", &code);
  assert_true(code == 0 || (code >= 400 && code < 500));
  free(r);

  /* still serving */
  assert_int_equal(get(port, "/api/status", NULL), 200);
  weft_dash_stop(d);
}

static void token_required(void **state) {
  (void)state;
  weft_dash *d = start("s3cret-Token_1");
  int port = weft_dash_port(d);
  char want[96];
  snprintf(want, sizeof want, "http://127.0.0.1:%d/?token=s3cret-Token_1",
           port);
  assert_string_equal(weft_dash_link(d), want);
  assert_int_equal(get(port, "/", NULL), 403);
  assert_int_equal(get(port, "/api/progress", NULL), 403);
  assert_int_equal(get(port, "/api/events", NULL), 403);
  assert_int_equal(get(port, "/?token=wrong", NULL), 403);
  assert_int_equal(get(port, "/?token=s3cret-Token_", NULL), 403);
  assert_int_equal(get(port, "/?token=s3cret-Token_12", NULL), 403);
  assert_int_equal(get(port, "/?token=s3cret-Token_1", NULL), 200);
  assert_int_equal(get(port, "/api/progress?token=s3cret-Token_1", NULL), 200);
  assert_int_equal(get(port, "/nope?token=s3cret-Token_1", NULL), 404);
  weft_dash_stop(d);
}

static void bad_options(void **state) {
  (void)state;
  weft_dash_opts o;
  char err[256];
  weft_dash_opts_init(&o);
  assert_int_equal(o.port, 8787);
  assert_int_equal(weft_dash_parse("127.0.0.1:8787", &o, err, sizeof err), 0);
  assert_string_equal(o.host, "127.0.0.1");
  assert_int_equal(o.port, 8787);
  assert_int_equal(weft_dash_parse("0", &o, err, sizeof err), 0);
  assert_null(o.host);
  assert_int_equal(o.port, 0);
  assert_int_equal(weft_dash_parse("host:port", &o, err, sizeof err),
                   WEFT_EINVAL);
  assert_contains(err, "'port' is not a number");
  assert_int_equal(weft_dash_parse("127.0.0.1:70000", &o, err, sizeof err),
                   WEFT_EINVAL);
  assert_int_equal(weft_dash_parse("127.0.0.1:", &o, err, sizeof err),
                   WEFT_EINVAL);

  weft_dash *d = start(NULL), *d2;
  weft_dash_opts_init(&o);
  o.quiet = 1;
  o.port = weft_dash_port(d); /* taken */
  assert_int_equal(weft_dash_start(&o, &d2, err, sizeof err), WEFT_ESYS);
  assert_null(d2);
  assert_contains(err, "cannot listen on 127.0.0.1:");
  weft_dash_stop(d);
  o.host = "example.org";
  assert_int_equal(weft_dash_start(&o, &d2, err, sizeof err), WEFT_EINVAL);
  assert_contains(err, "'example.org' is not an IPv4 address");
  o.host = NULL;
  o.token = "bad token";
  assert_int_equal(weft_dash_start(&o, &d2, err, sizeof err), WEFT_EINVAL);
  assert_contains(err, "token");
  assert_int_equal(weft_dash_start(&o, NULL, err, sizeof err), WEFT_EINVAL);
}

static void client_option(void **state) {
  (void)state;
  weft_client_opts co;
  weft_client_opts_init(&co);
  co.workers = 2;
  co.ignore_env = 1;
  co.dashboard = "127.0.0.1:0";
  weft_client *c;
  char err[256];
  if (weft_client_new_msg(&co, &c, err, sizeof err))
    fail_msg("weft_client_new: %s", err);
  const char *link = weft_client_dashboard_link(c);
  assert_non_null(link);
  int port = 0;
  assert_int_equal(sscanf(link, "http://127.0.0.1:%d/", &port), 1);
  weft_graph *g = weft_graph_new();
  int npair;
  weft_node *root = tree(g, &npair);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.client = c;
  weft_value v;
  assert_rc(0, tu_compute1(g, root, &v, &o), g);
  weft_graph_free(g);
  char *p = wait_finished(port, 1);
  assert_int_equal(num(p, "done"), LEAVES + npair);
  free(p);
  /* the client's worker threads stay: their CPU is sampled every 0.5 s
   * from /proc */
  int sampled = 0;
  for (int tries = 0; tries < 100 && !sampled; tries++) {
    nap(50);
    char *w;
    assert_int_equal(get(port, "/api/workers", &w), 200);
    /* any worker that ran tasks (all may have run on one) */
    for (const char *q = strstr(w, "\"workers\":[");
         q && (q = strstr(q, "\"cpu_percent\":")); q++)
      sampled |= num(q, "cpu_percent") >= 0;
    if (!sampled && tries == 99)
      fail_msg("no CPU sampled: %.400s", w);
    free(w);
  }
  weft_client_close(c);

  co.dashboard = "127.0.0.1:99999";
  assert_int_equal(weft_client_new_msg(&co, &c, err, sizeof err), WEFT_EINVAL);
  assert_contains(err, "weft_client_new: dashboard address");
  assert_null(c);
}

/* Under mpi a worker is a rank: the events come from rank 0's scheduling
 * thread, whose CPU is not the rank's, so its cpu_percent stays -1 (it
 * once showed that thread's). */
static void mpi_ranks_have_no_cpu(void **state) {
  (void)state;
  weft_dash *d = start(NULL);
  int port = weft_dash_port(d);
  const weft_listener *l = weft_dash_listener(d);
  weft_graph *g = weft_graph_new();
  weft_node *n = weft_call(g, inc, 1);
  weft_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = WEFT_EV_COMPUTE_BEGIN;
  ev.worker = -1;
  ev.ntasks = 1;
  ev.workers = 2;
  ev.scheduler = "mpi";
  ev.graph = g;
  ev.time_ns = weft_now_ns();
  l->fn(&ev, l->ud);
  ev.kind = WEFT_EV_TASK_START;
  ev.worker = 1;
  ev.task = (uint32_t)weft_node_index(g, n);
  ev.fn = WEFT_FN(inc);
  ev.time_ns = ev.start_ns = weft_now_ns();
  l->fn(&ev, l->ud);
  nap(1300); /* past two samples */
  char *w;
  assert_int_equal(get(port, "/api/workers", &w), 200);
  const char *q = strstr(w, "{\"worker\":1,");
  if (!q)
    fail_msg("no rank 1: %.400s", w);
  if (num(q, "cpu_percent") != -1)
    fail_msg("rank 1 has a CPU: %.400s", w);
  free(w);
  ev.kind = WEFT_EV_TASK_END;
  ev.time_ns = weft_now_ns();
  ev.bytes = 8;
  l->fn(&ev, l->ud);
  memset(&ev, 0, sizeof ev);
  ev.kind = WEFT_EV_COMPUTE_END;
  ev.worker = -1;
  ev.scheduler = "mpi";
  ev.graph = g;
  ev.time_ns = weft_now_ns();
  l->fn(&ev, l->ud);
  weft_dash_stop(d);
  weft_graph_free(g);
}

/* Last: WEFT_DASHBOARD starts the process's dashboard for good. */
static void environment(void **state) {
  (void)state;
  setenv("WEFT_DASHBOARD", "127.0.0.1:0", 1);
  assert_null(weft__dash_env_link());
  weft_graph *g = weft_graph_new();
  int npair;
  weft_node *root = tree(g, &npair);
  weft_value v;
  assert_rc(0, tu_compute1(g, root, &v, NULL), g);
  const char *link = weft__dash_env_link();
  assert_non_null(link);
  int port = 0;
  assert_int_equal(sscanf(link, "http://127.0.0.1:%d/", &port), 1);
  char *p = wait_finished(port, 1);
  assert_int_equal(num(p, "done"), LEAVES + npair);
  free(p);
  assert_rc(0, tu_compute1(g, root, &v, NULL), g); /* the same server */
  assert_string_equal(weft__dash_env_link(), link);
  free(wait_finished(port, 2));
  weft_graph_free(g);
  unsetenv("WEFT_DASHBOARD");
}

int main(void) {
  tu_watchdog(120);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(endpoints_match_the_compute),
      cmocka_unit_test(failures_are_logged),
      cmocka_unit_test(event_stream),
      cmocka_unit_test(stuck_browsers),
      cmocka_unit_test(bad_requests),
      cmocka_unit_test(token_required),
      cmocka_unit_test(bad_options),
      cmocka_unit_test(client_option),
      cmocka_unit_test(mpi_ranks_have_no_cpu),
      cmocka_unit_test(environment),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
