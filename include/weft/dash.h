/* weft/dash.h - the live web dashboard: an HTTP server inside the program
 * that shows its computes as they run (Dask's dashboard), with nothing
 * fetched from the internet and no extra server to run.
 *
 *   weft_dash_opts o;  weft_dash_opts_init(&o);    // 127.0.0.1:8787
 *   weft_dash *d;
 *   if (weft_dash_start(&o, &d, err, sizeof err)) ... // err says why
 *   printf("dashboard: %s\n", weft_dash_link(d));
 *   weft_compute_opts co;  weft_compute_opts_init(&co);
 *   co.listener = weft_dash_listener(d);           // chain it like any
 * listener weft_compute(...); weft_dash_stop(d);
 *
 * The quick ways need no code: weft_client_opts.dashboard = "127.0.0.1:8787"
 * serves it for every compute made through that client
 * (weft_client_dashboard_link gives the link), and WEFT_DASHBOARD=host:port
 * in the environment serves it, from the first compute on, for every compute
 * of the program that does not run inside a task (the link is printed on
 * stderr then).
 *
 * The page (GET /) is one self-contained HTML page kept inside the library;
 * it updates itself from Server-Sent Events (GET /api/events) and shows the
 * task stream (a bar per task, a row per worker, coloured by function),
 * progress per function (done / running / waiting / failed), the workers
 * (tasks, busy share, CPU and memory, current task), the graph summarised by
 * function and a log of failures, retries, cancellations and lost workers.
 * Each panel's data is a JSON endpoint too; docs/dashboard.md documents
 * them (their format is part of the API).
 *
 * The server never slows the schedulers beyond one copy of each event into a
 * bounded ring buffer (a short mutex, no I/O; one allocation per compute,
 * for its graph summarised by function, on the thread that computes): its own
 * thread reads the ring and keeps the panels' state; when it falls behind, task
 * events that find the ring full are dropped and counted, never waited for
 * (a compute's begin and end, and worker events, have a ring of their own,
 * so a flood of tasks never hides a compute). Browsers read that state; a
 * slow one misses old task bars, it never stalls anything.
 *
 * Security: it binds to loopback (127.0.0.1) unless told otherwise. Bound to
 * any other address it requires a token in the URL (?token=..., generated
 * unless given, part of the link) and answers 403 without it. Unknown paths
 * get 404, other methods than GET and HEAD 405, oversized requests are
 * refused by the server, and a request that does not finish sending is
 * closed after timeout_s.
 *
 * libmicrohttpd is opened with dlopen on the first weft_dash_start, so a
 * program that never serves a dashboard does not load it; without it
 * weft_dash_start fails with WEFT_ENOTSUP and a message saying so. */
#ifndef WEFT_DASH_H
#define WEFT_DASH_H

#include <stddef.h>

#include "events.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_dash weft_dash;

typedef struct weft_dash_opts {
  const char *host;  /* IPv4 address or "localhost"; NULL: 127.0.0.1.
                        "0.0.0.0": every interface (a token is required) */
  int port;          /* default 8787; 0: any free port (weft_dash_port) */
  const char *token; /* required in every URL (?token=); NULL: none on
                        loopback, a random one elsewhere */
  int quiet;         /* nonzero: print nothing (else the link on stderr) */
  double timeout_s;  /* a connection idle this long is closed; 0: 10 s */
  int max_conns;     /* connections at once; 0: 64 */
  char hostbuf[64];  /* where weft_dash_parse keeps the host it read */
} weft_dash_opts;

void weft_dash_opts_init(weft_dash_opts *opts);

/* Parses "host:port", ":port" or "port" (port 0 to 65535; 0: any free
 * one) into opts->host / opts->port (host copied into opts->hostbuf; no
 * host: opts->host NULL, i.e. 127.0.0.1). 0 or
 * WEFT_EINVAL with a message naming what was wrong. */
int weft_dash_parse(const char *spec, weft_dash_opts *opts, char *err,
                    size_t errsize);

/* Starts serving. 0 and *out; WEFT_EINVAL (bad option), WEFT_ENOTSUP
 * (libmicrohttpd missing), WEFT_ESYS (cannot bind: the address and the
 * system's reason are in err), WEFT_ENOMEM. */
int weft_dash_start(const weft_dash_opts *opts, weft_dash **out, char *err,
                    size_t errsize);

/* "http://127.0.0.1:8787/" (with "?token=..." when one is required). Valid
 * until weft_dash_stop. NULL for NULL. */
const char *weft_dash_link(const weft_dash *d);
int weft_dash_port(const weft_dash *d); /* the bound port; 0 for NULL */

/* The listener to put in weft_compute_opts.listener / weft_map_opts. It may
 * serve several computes in a row (shown one after another), and computes
 * running at the same time on different graphs (their tasks are told apart
 * by compute number). */
const weft_listener *weft_dash_listener(weft_dash *d);

/* Events dropped so far because the dashboard's thread fell behind. */
unsigned long long weft_dash_dropped(const weft_dash *d);

/* Stops the server (open pages see the stream end) and frees everything.
 * No compute may still be using its listener. NULL: no-op. */
void weft_dash_stop(weft_dash *d);

#ifdef __cplusplus
}
#endif
#endif
