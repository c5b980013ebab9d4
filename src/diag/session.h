/* session.h - the diagnostics a compute or a weft_map call switches on by
 * its options or by WEFT_PROGRESS / WEFT_TRACE / WEFT_PROFILE: a progress
 * bar, a trace written to a file and a profile printed at the end, chained
 * in front of the caller's own listener. Internal. */
#ifndef WEFT_DIAG_SESSION_H
#define WEFT_DIAG_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "tlane.h"
#include "weft/events.h"

typedef struct weft__diag weft__diag;

/* Starts what is asked (trace: a path, "%n" replaced by a number counting
 * the sessions of the process). *out is NULL when nothing is. 0, or
 * WEFT_EIO (the trace file cannot be created), WEFT_ENOMEM, with msg. */
int weft__diag_open(int progress, const char *trace, int profile,
                    const weft_listener *user, weft__diag **out, char *msg,
                    size_t msgsize);
/* The chain: the session's listeners, then `user`. */
const weft_listener *weft__diag_chain(weft__diag *d);
/* Writes the trace, prints the profile to stderr, frees d (NULL: no-op).
 * 0 or WEFT_EIO / WEFT_ENOMEM with msg (when msg is not NULL). */
int weft__diag_close(weft__diag *d, char *msg, size_t msgsize);

#define WEFT_EV_BIT(kind) (1u << (kind))

/* The direct path of a trace (tlane.h): the first weft_trace in `chain`
 * recording the compute of `graph` (its COMPUTE_BEGIN was just published)
 * hands over its lanes (*nlanes of them: lane 0 for worker -1, k + 1 for
 * worker k), to be written by the scheduler with ticks of clk, and stops
 * taking TASK_END events; *which is its listener, to leave out when
 * publishing TASK_END. NULL when the chain holds no such trace. */
weft__lane *weft__trace_sink(const weft_listener *chain, const void *graph,
                             const weft__clock *clk, int *nlanes,
                             const weft_listener **which);

/* The kinds a chain of listeners wants (WEFT_EV_BIT), 0 for none: every
 * kind for a listener of the program's; fewer for the diagnostics' own,
 * which need no TASK_START (so schedulers do not publish it for them). */
uint32_t weft__listener_kinds(const weft_listener *l);
/* The kinds one listener function wants. */
uint32_t weft__diag_kinds(weft_event_fn fn);

#endif
