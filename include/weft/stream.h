/* weft/stream.h - reactive streams on a client's pool (streamz / RxPY in C).
 *
 * A stream is a step that receives items and emits items to the steps built
 * on it. An item is a value with a 64-bit key (0 unless set) and a time (the
 * monotonic clock when it was pushed, unless given). Sources: a push source
 * that the program feeds (weft_stream_push), or the lines read from a file
 * descriptor. Steps: map, filter, scan, rolling window (mean, max), key_by
 * (group by key: the key decides which state the later steps use), throttle
 * and debounce by time, merge. Sinks: a callback, or a collector.
 *
 *   weft_stream *src = weft_stream_source(client);
 *   weft_stream *zone = weft_stream_key_by(src, zone_of, NULL);
 *   weft_stream *avg = weft_stream_rolling(zone, 5, WEFT_ROLL_MEAN);
 *   weft_stream_sink(avg, on_mean, &state);     // on_mean(key, value, ud)
 *   weft_stream_push(src, weft_double(21.5));
 *   weft_stream_flush(client, -1);               // everything pushed went through
 *
 * Every step runs on the client's CPU pool. Items of one key go through each
 * step one at a time and in the order they reached it, so per-key state
 * (scan, rolling, throttle, debounce) needs no lock in the user's functions
 * and sinks see each key's items in order; items of different keys run in
 * parallel. Items pushed from one thread keep their order; the order across
 * threads is the order of the pushes.
 *
 * A function of a step that fails (returns a negative code) drops that item;
 * the step remembers its first error (weft_stream_status / _error).
 *
 * Streams belong to their client: weft_client_close stops the sources and
 * frees every stream and collector (handles are then invalid). Steps may be
 * added while items flow (an item reaches the steps there when it is
 * emitted). Thread-safety: any function here from any thread. */
#ifndef WEFT_STREAM_H
#define WEFT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_stream weft_stream;
typedef struct weft_stream_collector weft_stream_collector;

/* ---- sources ---- (NULL: NULL/closed client or out of memory) */

/* A source the program pushes into. */
weft_stream *weft_stream_source(weft_client *c);
/* Pushes v (taken over) with key 0 / key / key and time t_ns (monotonic
 * nanoseconds, the clock of weft_stream_now_ns). 0, WEFT_EINVAL (NULL or
 * not a push source; v released), WEFT_ECANCELED (the client is being
 * closed by another thread; v released), WEFT_ENOMEM. Once
 * weft_client_close has returned, src is freed: do not push into it. */
int weft_stream_push(weft_stream *src, weft_value v);
int weft_stream_push_key(weft_stream *src, uint64_t key, weft_value v);
int weft_stream_push_at(weft_stream *src, uint64_t key, weft_value v,
                        uint64_t t_ns);
uint64_t weft_stream_now_ns(void);

/* Emits each line read from fd (without its "\n" or "\r\n"; a last line
 * without newline too) as a str item with key 0, read on the client's I/O
 * pool (it holds one I/O thread) until end of file, an error, or close. fd
 * stays the caller's (not closed). Lines longer than 1 MiB are cut into
 * pieces of 1 MiB. NULL also for a client without I/O pool
 * (io_workers < 0). */
weft_stream *weft_stream_from_fd(weft_client *c, int fd);
/* Waits up to timeout_s (< 0: for ever) until fd source src reached end of
 * file (or failed) and all its items went through every step. 0,
 * WEFT_EIO (read failed: weft_stream_error says why), WEFT_ETIMEDOUT,
 * WEFT_EINVAL (not an fd source, NaN timeout), WEFT_EBUSY (called from a step
 * or sink of this client's streams, which would wait for its own item). */
int weft_stream_fd_wait(weft_stream *src, double timeout_s);

/* ---- steps ---- (NULL: NULL argument or out of memory) */

/* fn(key, in, &out, ud): 0 emits out (taken over), 1 emits nothing, < 0 is
 * an error (item dropped, remembered). */
typedef int (*weft_stream_map_fn)(uint64_t key, const weft_value *in,
                                  weft_value *out, void *ud);
weft_stream *weft_stream_map(weft_stream *s, weft_stream_map_fn fn, void *ud);

/* Passes the items for which fn is true. */
typedef bool (*weft_stream_filter_fn)(uint64_t key, const weft_value *in,
                                      void *ud);
weft_stream *weft_stream_filter(weft_stream *s, weft_stream_filter_fn fn,
                                void *ud);

/* Per key, an accumulator starting as a copy of init (taken over by the
 * step): fn(key, &acc, in, ud) updates acc in place (release the old value
 * when replacing it) and returns 0 to emit a copy of acc, 1 to emit
 * nothing, < 0 for an error. */
typedef int (*weft_stream_scan_fn)(uint64_t key, weft_value *acc,
                                   const weft_value *in, void *ud);
weft_stream *weft_stream_scan(weft_stream *s, weft_stream_scan_fn fn,
                              weft_value init, void *ud);

typedef enum weft_roll_stat { WEFT_ROLL_MEAN, WEFT_ROLL_MAX } weft_roll_stat;
/* Per key, the mean or max of the last `window` items (numbers: int,
 * double, bool), emitted as a double once the key has `window` items, then
 * on every item. A non-number is an error (WEFT_ETYPE). window >= 1. */
weft_stream *weft_stream_rolling(weft_stream *s, size_t window,
                                 weft_roll_stat stat);

/* Sets each item's key to fn(value, ud): groups the later steps by it. */
typedef uint64_t (*weft_stream_key_fn)(const weft_value *in, void *ud);
weft_stream *weft_stream_key_by(weft_stream *s, weft_stream_key_fn fn,
                                void *ud);

/* Per key, passes an item only when at least interval_s has passed (item
 * times) since the last item passed. */
weft_stream *weft_stream_throttle(weft_stream *s, double interval_s);
/* Per key, emits an item once interval_s has passed (the clock) without a
 * newer item of that key; newer items replace it. */
weft_stream *weft_stream_debounce(weft_stream *s, double interval_s);

/* Items of all n streams (of one client) into one. */
weft_stream *weft_stream_merge(size_t n, weft_stream *const ss[]);

/* ---- sinks ---- */

/* Calls fn(key, value, ud) for each item (value borrowed). 0, WEFT_EINVAL,
 * WEFT_ENOMEM. */
typedef void (*weft_stream_sink_fn)(uint64_t key, const weft_value *v,
                                    void *ud);
int weft_stream_sink(weft_stream *s, weft_stream_sink_fn fn, void *ud);

/* Keeps every item in arrival order (per key: the stream's order). */
weft_stream_collector *weft_stream_collect(weft_stream *s);
size_t weft_stream_collector_count(weft_stream_collector *col);
/* Item i: 0 and *key / *v (a new reference); WEFT_EINVAL out of range. */
int weft_stream_collector_get(weft_stream_collector *col, size_t i,
                              uint64_t *key, weft_value *v);

/* ---- waiting and errors ---- */

/* Waits up to timeout_s (< 0: for ever) until every item pushed so far into
 * the client's streams went through every step (a debounced item waiting
 * for its quiet time counts as in flight: flush waits for it). 0,
 * WEFT_ETIMEDOUT, WEFT_EINVAL (NULL, NaN timeout), WEFT_EBUSY (called from
 * a step or sink of this client's streams: it would wait for its own item
 * for ever). A timeout too long for the clock (1e30, INFINITY) is for
 * ever. */
int weft_stream_flush(weft_client *c, double timeout_s);

/* The first error of step s (0 if none), and its message ("" if none). */
int weft_stream_status(const weft_stream *s);
const char *weft_stream_error(const weft_stream *s);

#ifdef __cplusplus
}
#endif
#endif
