/* session.c - the diagnostics switched on by options or the environment
 * for one compute or one weft_map call (session.h): makes the listeners,
 * chains them before the caller's, and at the end writes the trace file and
 * prints the profile. */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag_impl.h"
#include "weft/diag.h"
#include "weft/error.h"

struct weft__diag {
  weft_progress *pr;
  weft_trace *tr;
  weft_profile *pf;
  char *trace_path;
  weft_listener chain[3];
  const weft_listener *head;
};

static _Atomic unsigned sessions; /* numbers the files of "%n" */

uint32_t weft__diag_kinds(weft_event_fn fn) {
  const uint32_t no_start =
      ~(WEFT_EV_BIT(WEFT_EV_TASK_START) | WEFT_EV_BIT(WEFT_EV_TASK_QUEUED));
  if (fn == weft__trace_event)
    return no_start &
           ~(WEFT_EV_BIT(WEFT_EV_MAP_BEGIN) | WEFT_EV_BIT(WEFT_EV_MAP_ITEMS) |
             WEFT_EV_BIT(WEFT_EV_MAP_END));
  if (fn == weft__profile_event)
    return WEFT_EV_BIT(WEFT_EV_COMPUTE_BEGIN) |
           WEFT_EV_BIT(WEFT_EV_COMPUTE_END) | WEFT_EV_BIT(WEFT_EV_TASK_END) |
           WEFT_EV_BIT(WEFT_EV_TASK_FAIL) | WEFT_EV_BIT(WEFT_EV_MAP_BEGIN) |
           WEFT_EV_BIT(WEFT_EV_MAP_END);
  if (fn == weft__progress_event)
    return no_start;
  return ~0u;
}

uint32_t weft__listener_kinds(const weft_listener *l) {
  uint32_t k = 0;
  for (; l; l = l->next)
    if (l->fn)
      k |= weft__diag_kinds(l->fn);
  return k;
}

/* path with each "%n" replaced by n ("%%" by "%"). */
static char *expand(const char *path, unsigned n) {
  size_t len = strlen(path) + 64;
  for (const char *p = path; *p; p++)
    len += *p == '%' ? 12 : 0;
  char *o = malloc(len), *q = o;
  if (!o)
    return NULL;
  for (const char *p = path; *p; p++) {
    if (p[0] == '%' && p[1] == 'n') {
      q += sprintf(q, "%u", n);
      p++;
    } else if (p[0] == '%' && p[1] == '%') {
      *q++ = '%';
      p++;
    } else {
      *q++ = *p;
    }
  }
  *q = '\0';
  return o;
}

int weft__diag_open(int progress, const char *trace, int profile,
                    const weft_listener *user, weft__diag **out, char *msg,
                    size_t msgsize) {
  *out = NULL;
  if (!progress && !trace && !profile)
    return 0;
  weft__diag *d = calloc(1, sizeof *d);
  int rc = d ? 0 : WEFT_ENOMEM;
  if (!rc && progress) {
    weft_progress_opts po;
    weft_progress_opts_init(&po);
    po.min_s = 0.2; /* no bar for the many short computes of a program */
    rc = weft_progress_new(&po, &d->pr);
  }
  if (!rc && profile)
    rc = weft_profile_new(&d->pf);
  if (!rc && trace) {
    rc = weft_trace_new(&d->tr);
    if (!rc && !(d->trace_path = expand(trace, ++sessions)))
      rc = WEFT_ENOMEM;
    if (!rc) { /* a bad path fails now, before anything runs */
      FILE *f = fopen(d->trace_path, "w");
      if (!f) {
        snprintf(msg, msgsize,
                 "cannot write the trace to '%s' (WEFT_TRACE "
                 "or the trace option): %s",
                 d->trace_path, strerror(errno));
        weft__diag_close(d, NULL, 0);
        return WEFT_EIO;
      }
      fclose(f);
    }
  }
  if (rc) {
    snprintf(msg, msgsize, "cannot start the diagnostics: %s",
             weft_strerror(rc));
    weft__diag_close(d, NULL, 0);
    return rc;
  }
  const weft_listener *ls[3] = {weft_progress_listener(d->pr),
                                weft_trace_listener(d->tr),
                                weft_profile_listener(d->pf)};
  const weft_listener *next = user;
  for (int k = 3; k-- > 0;) {
    if (!ls[k])
      continue;
    d->chain[k] = *ls[k];
    d->chain[k].next = next;
    next = &d->chain[k];
  }
  d->head = next;
  *out = d;
  return 0;
}

const weft_listener *weft__diag_chain(weft__diag *d) {
  return d ? d->head : NULL;
}

int weft__diag_close(weft__diag *d, char *msg, size_t msgsize) {
  if (!d)
    return 0;
  int rc = 0;
  weft_progress_free(d->pr);
  if (d->tr && d->trace_path && d->head) {
    char err[512];
    rc = weft_trace_write(d->tr, d->trace_path, err, sizeof err);
    size_t len = strlen(d->trace_path);
    if (!rc && len > 5 && strcmp(d->trace_path + len - 5, ".json") == 0) {
      strcpy(d->trace_path + len - 5, ".svg"); /* the task stream beside */
      rc = weft_trace_svg(d->tr, d->trace_path, err, sizeof err);
    }
    if (rc && msg)
      snprintf(msg, msgsize, "%s", err);
  }
  if (d->pf && d->head)
    weft_profile_print(d->pf, stderr);
  weft_trace_free(d->tr);
  weft_profile_free(d->pf);
  free(d->trace_path);
  free(d);
  return rc;
}
