/* dash_impl.h - what the dashboard's parts share: the event ring the
 * listener fills (state.c), the panels' state its thread keeps, the JSON
 * it renders, and the HTTP side (server.c) that reads them. */
#ifndef WEFT_DASH_IMPL_H
#define WEFT_DASH_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/dash.h"

/* A growing text buffer; on allocation failure it stays short and `oom`
 * is set (the response then is a 500). */
typedef struct weft__dbuf {
  char *p;
  size_t len, cap;
  int oom;
} weft__dbuf;

void weft__dbuf_add(weft__dbuf *b, const char *s, size_t n);
void weft__dbuf_printf(weft__dbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void weft__dbuf_str(weft__dbuf *b, const char *s);  /* a JSON string */
void weft__dbuf_puts(weft__dbuf *b, const char *s); /* s as it is */

typedef struct weft__dstate weft__dstate;

/* The event side: the ring, its reader thread and the panels' state. */
int weft__dstate_new(weft__dstate **out);
void weft__dstate_free(weft__dstate *s);
const weft_listener *weft__dstate_listener(weft__dstate *s);
unsigned long long weft__dstate_dropped(const weft__dstate *s);

/* JSON of one panel (docs/dashboard.md), appended to b. since: the first
 * sequence number wanted (tasks, log). */
void weft__dstate_status(weft__dstate *s, weft__dbuf *b);
void weft__dstate_progress(weft__dstate *s, weft__dbuf *b);
void weft__dstate_workers(weft__dstate *s, weft__dbuf *b);
void weft__dstate_graph(weft__dstate *s, weft__dbuf *b);
void weft__dstate_tasks(weft__dstate *s, weft__dbuf *b, uint64_t since,
                        uint64_t *next);
void weft__dstate_log(weft__dstate *s, weft__dbuf *b, uint64_t since,
                      uint64_t *next);
/* A number that changes whenever the state does (server-sent events are
 * sent only then, and at least every few seconds). */
uint64_t weft__dstate_version(weft__dstate *s);

/* The page (page.c, generated from page.html). */
extern const unsigned char weft__dash_page[];
extern const size_t weft__dash_page_len;

#endif
