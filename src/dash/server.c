/* server.c - the dashboard's HTTP side: libmicrohttpd, opened with dlopen
 * on the first weft_dash_start (so programs that never serve a dashboard do
 * not load it, and libweft's link line stays as it was), one thread per
 * connection (a server-sent event stream may wait for news without holding
 * anyone up), the routes of docs/dashboard.md, and the token check. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dash_impl.h"
#include "diag/dlib.h"
#include "weft/error.h"

void weft_dash_opts_init(weft_dash_opts *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof *opts);
  opts->port = 8787;
}

int weft_dash_parse(const char *spec, weft_dash_opts *opts, char *err,
                    size_t errsize) {
  if (!spec || !opts) {
    snprintf(err, errsize, "weft_dash_parse: NULL %s", spec ? "opts" : "spec");
    return WEFT_EINVAL;
  }
  const char *colon = strrchr(spec, ':');
  const char *port = colon ? colon + 1 : spec;
  char *end;
  errno = 0;
  long p = strtol(port, &end, 10);
  if (!*port || *end || errno || p < 0 || p > 65535) {
    snprintf(err, errsize,
             "dashboard address '%s': the port '%s' is not a number from 0 "
             "to 65535 (write host:port, e.g. 127.0.0.1:8787)",
             spec, port);
    return WEFT_EINVAL;
  }
  opts->port = (int)p;
  opts->host = colon && colon > spec ? spec : NULL;
  if (opts->host) {
    size_t n = (size_t)(colon - spec);
    char *host = opts->hostbuf;
    if (n >= sizeof opts->hostbuf) {
      snprintf(err, errsize, "dashboard address '%s': the host is too long",
               spec);
      return WEFT_EINVAL;
    }
    memcpy(host, spec, n);
    host[n] = '\0';
    opts->host = host;
  }
  return 0;
}

#if WEFT_HAVE_MHD
#include <microhttpd.h>

/* ---- libmicrohttpd, opened on first use ---- */

typedef struct mhd_api {
  struct MHD_Daemon *(*start)(unsigned int, uint16_t, MHD_AcceptPolicyCallback,
                              void *, MHD_AccessHandlerCallback, void *, ...);
  void (*stop)(struct MHD_Daemon *);
  struct MHD_Response *(*from_buffer)(size_t, void *,
                                      enum MHD_ResponseMemoryMode);
  struct MHD_Response *(*from_callback)(uint64_t, size_t,
                                        MHD_ContentReaderCallback, void *,
                                        MHD_ContentReaderFreeCallback);
  enum MHD_Result (*add_header)(struct MHD_Response *, const char *,
                                const char *);
  enum MHD_Result (*queue)(struct MHD_Connection *, unsigned int,
                           struct MHD_Response *);
  void (*destroy)(struct MHD_Response *);
  const char *(*lookup)(struct MHD_Connection *, enum MHD_ValueKind,
                        const char *);
} mhd_api;

static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static mhd_api mhd;
static const mhd_api *mhd_ok;
static char mhd_why[512];

#define SYM(field, name)                                                       \
  do {                                                                         \
    if (!weft__dl_sym(h, lib, name, (void **)&mhd.field, mhd_why,             \
                      sizeof mhd_why))                                         \
      return;                                                                  \
  } while (0)

static void mhd_load(void) {
  static const char *const libs[] = {"libmicrohttpd.so.12", "libmicrohttpd.so"};
  const char *lib, *error;
  void *h = weft__dl_open("WEFT_MHD_LIB", libs, sizeof libs / sizeof libs[0],
                          false, &lib, &error);
  if (!h) {
    snprintf(mhd_why, sizeof mhd_why,
             "cannot load %s (%s): the dashboard needs libmicrohttpd "
             "(Debian: libmicrohttpd12; scripts/deps.sh build)",
             lib, error);
    return;
  }
  SYM(start, "MHD_start_daemon");
  SYM(stop, "MHD_stop_daemon");
  SYM(from_buffer, "MHD_create_response_from_buffer");
  SYM(from_callback, "MHD_create_response_from_callback");
  SYM(add_header, "MHD_add_response_header");
  SYM(queue, "MHD_queue_response");
  SYM(destroy, "MHD_destroy_response");
  SYM(lookup, "MHD_lookup_connection_value");
  mhd_ok = &mhd; /* the handle stays open for the life of the process */
}

/* ---- the server ---- */

struct weft_dash {
  weft__dstate *st;
  struct MHD_Daemon *d;
  int fd, port;
  atomic_int stopping;
  double timeout_s;
  char token[80];
  char link[192];
};

static int token_ok(const weft_dash *d, struct MHD_Connection *c) {
  if (!d->token[0])
    return 1;
  const char *t = mhd.lookup(c, MHD_GET_ARGUMENT_KIND, "token");
  if (!t)
    return 0;
  size_t n = strlen(d->token);
  if (strlen(t) != n)
    return 0;
  unsigned char diff = 0; /* the same time whatever matches */
  for (size_t k = 0; k < n; k++)
    diff |= (unsigned char)(t[k] ^ d->token[k]);
  return diff == 0;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned code,
                                const char *type, char *body, size_t len,
                                int owned) {
  struct MHD_Response *r = mhd.from_buffer(
      len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (!r) {
    if (owned)
      free(body);
    return MHD_NO;
  }
  mhd.add_header(r, "Content-Type", type);
  mhd.add_header(r, "Cache-Control", "no-store");
  mhd.add_header(r, "X-Content-Type-Options", "nosniff");
  enum MHD_Result rc = mhd.queue(c, code, r);
  mhd.destroy(r);
  return rc;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code,
                                 const char *text) {
  return send_buf(c, code, "text/plain; charset=utf-8", (char *)text,
                  strlen(text), 0);
}

/* The query argument `name` as a number into *out (0 when absent); -1 when
 * it is not one (the answer is then a 400). */
static int arg_u64(struct MHD_Connection *c, const char *name, uint64_t *out) {
  const char *v = mhd.lookup(c, MHD_GET_ARGUMENT_KIND, name);
  *out = 0;
  if (!v)
    return 0;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (!*v || *end || errno || *v == '-' || *v == '+' || *v == ' ')
    return -1;
  *out = n;
  return 0;
}

/* ---- server-sent events ---- */

typedef struct sse {
  weft_dash *d;
  uint64_t version, task_next, log_next, last_ns;
  weft__dbuf b;
  size_t pos;
  int sent;
} sse;

static void sse_fill(sse *e) {
  weft__dstate *s = e->d->st;
  weft__dbuf *b = &e->b;
  b->len = 0;
  weft__dbuf_puts(b, "event: update\ndata: {\"status\":");
  weft__dstate_status(s, b);
  weft__dbuf_puts(b, ",\"progress\":");
  weft__dstate_progress(s, b);
  weft__dbuf_puts(b, ",\"workers\":");
  weft__dstate_workers(s, b);
  weft__dbuf_puts(b, ",\"graph\":");
  weft__dstate_graph(s, b);
  weft__dbuf_puts(b, ",\"tasks\":");
  weft__dstate_tasks(s, b, e->task_next, &e->task_next);
  weft__dbuf_puts(b, ",\"log\":");
  weft__dstate_log(s, b, e->log_next, &e->log_next);
  weft__dbuf_puts(b, "}\n\n");
  e->pos = 0;
}

static ssize_t sse_read(void *cls, uint64_t at, char *buf, size_t max) {
  (void)at;
  sse *e = cls;
  uint64_t period = (uint64_t)(e->d->timeout_s / 3 * 1e9);
  if (period > 1000000000ull)
    period = 1000000000ull;
  while (e->pos >= e->b.len) {
    if (atomic_load(&e->d->stopping))
      return MHD_CONTENT_READER_END_OF_STREAM;
    uint64_t now = weft_now_ns();
    uint64_t v = weft__dstate_version(e->d->st);
    /* news at most every 100 ms; a beat at least every period */
    if (!e->sent || (v != e->version && now - e->last_ns >= 100000000ull) ||
        now - e->last_ns >= period) {
      e->version = v;
      e->last_ns = now;
      e->sent = 1;
      sse_fill(e);
      if (e->b.oom)
        return MHD_CONTENT_READER_END_WITH_ERROR;
      break;
    }
    struct timespec ts = {0, 25 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  size_t n = e->b.len - e->pos < max ? e->b.len - e->pos : max;
  memcpy(buf, e->b.p + e->pos, n);
  e->pos += n;
  return (ssize_t)n;
}

static void sse_free(void *cls) {
  sse *e = cls;
  free(e->b.p);
  free(e);
}

/* ---- routes ---- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
  (void)version;
  (void)upload;
  weft_dash *d = cls;
  /* Answer once the whole request is in (a first call for the headers,
   * then the body, if any, is read and dropped): an answer queued earlier
   * makes libmicrohttpd close the connection instead of keeping it alive. */
  static int seen;
  if (!*con_cls) {
    *con_cls = &seen;
    return MHD_YES;
  }
  if (*upload_size) {
    *upload_size = 0;
    return MHD_YES;
  }
  if (strcmp(method, "GET") && strcmp(method, "HEAD"))
    return send_text(c, 405, "405 only GET and HEAD\n");
  if (!token_ok(d, c))
    return send_text(c, 403, "403 a valid token is required (?token=...)\n");
  if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
    return send_buf(c, 200, "text/html; charset=utf-8", (char *)weft__dash_page,
                    weft__dash_page_len, 0);
  uint64_t since, log_since;
  if (arg_u64(c, "since", &since) || arg_u64(c, "log_since", &log_since))
    return send_text(c, 400, "400 since and log_since are whole numbers\n");
  if (!strcmp(url, "/api/events")) {
    sse *e = calloc(1, sizeof *e);
    if (!e)
      return send_text(c, 503, "503 out of memory\n");
    e->d = d;
    e->task_next = since;
    e->log_next = log_since;
    struct MHD_Response *r =
        mhd.from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, sse_read, e, sse_free);
    if (!r) {
      sse_free(e);
      return MHD_NO;
    }
    mhd.add_header(r, "Content-Type", "text/event-stream");
    mhd.add_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = mhd.queue(c, 200, r);
    mhd.destroy(r);
    return rc;
  }
  weft__dbuf b = {0};
  if (!strcmp(url, "/api/status"))
    weft__dstate_status(d->st, &b);
  else if (!strcmp(url, "/api/progress"))
    weft__dstate_progress(d->st, &b);
  else if (!strcmp(url, "/api/workers"))
    weft__dstate_workers(d->st, &b);
  else if (!strcmp(url, "/api/graph"))
    weft__dstate_graph(d->st, &b);
  else if (!strcmp(url, "/api/tasks"))
    weft__dstate_tasks(d->st, &b, since, NULL);
  else if (!strcmp(url, "/api/log"))
    weft__dstate_log(d->st, &b, since, NULL);
  else
    return send_text(c, 404, "404 no such page (see docs/dashboard.md)\n");
  if (b.oom) {
    free(b.p);
    return send_text(c, 503, "503 out of memory\n");
  }
  weft__dbuf_puts(&b, "\n");
  return send_buf(c, 200, "application/json", b.p, b.len, 1);
}

static int bind_socket(const char *host, int port, int *fd_out, int *bound,
                       char *err, size_t errsize) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    snprintf(err, errsize,
             "dashboard: '%s' is not an IPv4 address (e.g. 127.0.0.1, or "
             "0.0.0.0 for every interface)",
             host);
    return WEFT_EINVAL;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, errsize, "dashboard: socket: %s", strerror(errno));
    return WEFT_ESYS;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 128)) {
    snprintf(err, errsize, "dashboard: cannot listen on %s:%d: %s", host, port,
             strerror(errno));
    close(fd);
    return WEFT_ESYS;
  }
  socklen_t len = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &len);
  *bound = ntohs(sa.sin_port);
  *fd_out = fd;
  return 0;
}

static int random_token(char *out, size_t size, char *err, size_t errsize) {
  unsigned char r[16];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
    snprintf(err, errsize, "dashboard: cannot read /dev/urandom for a token");
    if (fd >= 0)
      close(fd);
    return WEFT_ESYS;
  }
  close(fd);
  for (size_t k = 0; k < sizeof r && 2 * k + 2 < size; k++)
    snprintf(out + 2 * k, 3, "%02x", r[k]);
  return 0;
}

int weft_dash_start(const weft_dash_opts *opts, weft_dash **out, char *err,
                    size_t errsize) {
  char dummy[8];
  if (!err || !errsize) {
    err = dummy;
    errsize = sizeof dummy;
  }
  err[0] = '\0';
  if (!out) {
    snprintf(err, errsize, "weft_dash_start: NULL out");
    return WEFT_EINVAL;
  }
  *out = NULL;
  weft_dash_opts def;
  if (!opts) {
    weft_dash_opts_init(&def);
    opts = &def;
  }
  const char *host = opts->host && *opts->host ? opts->host : "127.0.0.1";
  if (!strcmp(host, "localhost"))
    host = "127.0.0.1";
  if (opts->port < 0 || opts->port > 65535 || opts->timeout_s < 0 ||
      opts->max_conns < 0) {
    snprintf(err, errsize, "weft_dash_start: %s",
             opts->port < 0 || opts->port > 65535
                 ? "the port must be 0 to 65535"
             : opts->timeout_s < 0 ? "timeout_s is negative"
                                   : "max_conns is negative");
    return WEFT_EINVAL;
  }
  if (opts->token && (strlen(opts->token) >= 64 || !*opts->token ||
                      strspn(opts->token, "0123456789abcdefghijklmnopqrstuv"
                                          "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") !=
                          strlen(opts->token))) {
    snprintf(err, errsize,
             "weft_dash_start: the token must be 1 to 63 "
             "letters, digits, '-' or '_'");
    return WEFT_EINVAL;
  }
  pthread_once(&mhd_once, mhd_load);
  if (!mhd_ok) {
    snprintf(err, errsize, "dashboard: %s", mhd_why);
    return WEFT_ENOTSUP;
  }
  weft_dash *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(err, errsize, "dashboard: out of memory");
    return WEFT_ENOMEM;
  }
  d->fd = -1;
  d->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : 10;
  int loopback = !strncmp(host, "127.", 4);
  int rc = 0;
  if (opts->token)
    snprintf(d->token, sizeof d->token, "%s", opts->token);
  else if (!loopback)
    rc = random_token(d->token, sizeof d->token, err, errsize);
  if (!rc)
    rc = bind_socket(host, opts->port, &d->fd, &d->port, err, errsize);
  if (!rc && (rc = weft__dstate_new(&d->st)))
    snprintf(err, errsize, "dashboard: %s", weft_strerror(rc));
  if (!rc) {
    unsigned timeout = (unsigned)(d->timeout_s + 0.999);
    d->d = mhd.start(MHD_USE_INTERNAL_POLLING_THREAD |
                         MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL,
                     0, NULL, NULL, handle, d, MHD_OPTION_LISTEN_SOCKET, d->fd,
                     MHD_OPTION_CONNECTION_LIMIT,
                     (unsigned)(opts->max_conns ? opts->max_conns : 64),
                     MHD_OPTION_CONNECTION_TIMEOUT, timeout ? timeout : 1,
                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
                     MHD_OPTION_END);
    if (!d->d) {
      snprintf(err, errsize, "dashboard: libmicrohttpd could not start");
      rc = WEFT_ESYS;
    }
  }
  if (rc) {
    if (d->fd >= 0)
      close(d->fd);
    weft__dstate_free(d->st);
    free(d);
    return rc;
  }
  snprintf(d->link, sizeof d->link, "http://%s:%d/%s%s", host, d->port,
           d->token[0] ? "?token=" : "", d->token);
  if (!opts->quiet)
    fprintf(stderr, "weft: dashboard at %s\n", d->link);
  *out = d;
  return 0;
}

void weft_dash_stop(weft_dash *d) {
  if (!d)
    return;
  atomic_store(&d->stopping, 1); /* event streams end */
  mhd.stop(d->d);                /* joins the connections' threads */
  close(d->fd);
  weft__dstate_free(d->st);
  free(d);
}

const weft_listener *weft_dash_listener(weft_dash *d) {
  return d ? weft__dstate_listener(d->st) : NULL;
}

unsigned long long weft_dash_dropped(const weft_dash *d) {
  return d ? weft__dstate_dropped(d->st) : 0;
}

const char *weft_dash_link(const weft_dash *d) { return d ? d->link : NULL; }
int weft_dash_port(const weft_dash *d) { return d ? d->port : 0; }

#else /* built without libmicrohttpd's header */

struct weft_dash {
  int unused;
};

int weft_dash_start(const weft_dash_opts *opts, weft_dash **out, char *err,
                    size_t errsize) {
  (void)opts;
  if (out)
    *out = NULL;
  if (err && errsize)
    snprintf(err, errsize,
             "dashboard: this libweft was built without "
             "libmicrohttpd's header (Debian: libmicrohttpd-dev; "
             "scripts/deps.sh build), so it cannot serve one");
  return WEFT_ENOTSUP;
}
void weft_dash_stop(weft_dash *d) { (void)d; }
const weft_listener *weft_dash_listener(weft_dash *d) {
  (void)d;
  return NULL;
}
unsigned long long weft_dash_dropped(const weft_dash *d) {
  (void)d;
  return 0;
}
const char *weft_dash_link(const weft_dash *d) {
  (void)d;
  return NULL;
}
int weft_dash_port(const weft_dash *d) {
  (void)d;
  return 0;
}
#endif
