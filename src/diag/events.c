/* events.c - names, clock and helpers of the event stream that every
 * scheduler publishes (weft/events.h): the key of an event's task and the
 * size of a result as events report it. */
#include <time.h>

#include "../core/graph_impl.h"
#include "weft/chunk.h"
#include "weft/events.h"

const char *weft_event_kind_name(weft_event_kind kind) {
  static const char *const names[WEFT_EV__COUNT] = {
      "compute-begin", "task-start",   "task-end",     "task-fail",
      "compute-end",   "task-queued",  "task-retry",   "task-cancel",
      "worker-start",  "worker-lost",  "map-begin",    "map-items",
      "map-end"};
  return (unsigned)kind < WEFT_EV__COUNT ? names[kind] : "unknown";
}

uint64_t weft_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int weft_event_key(const weft_event *ev, char *buf, size_t size) {
  if (!buf || !size)
    return WEFT_EINVAL;
  buf[0] = '\0';
  if (!ev || !ev->graph || !ev->fn || ev->task >= ev->graph->nnodes)
    return WEFT_EINVAL;
  weft__graph_key_of(ev->graph, ev->task, buf, size);
  return 0;
}

static uint64_t nbytes(const weft_value *v, int depth) {
  switch (v->type) {
  case WEFT_T_NONE:
    return 0;
  case WEFT_T_BOOL:
    return 1;
  case WEFT_T_INT:
  case WEFT_T_DOUBLE:
  case WEFT_T_PTR:
    return 8;
  case WEFT_T_STR:
  case WEFT_T_BYTES:
    return weft_value_len(v);
  case WEFT_T_CHUNK: {
    weft_chunk_info ci;
    return weft_chunk_get(v, &ci) ? 0 : (uint64_t)ci.nbytes;
  }
  case WEFT_T_LIST: {
    uint64_t s = 0;
    size_t n = weft_value_len(v);
    if (depth > 32) /* lists cannot hold themselves; a bound all the same */
      return 0;
    for (size_t k = 0; k < n; k++)
      s += nbytes(weft_list_get(v, k), depth + 1);
    return s;
  }
  default:
    return 0;
  }
}

uint64_t weft_value_nbytes(const weft_value *v) { return v ? nbytes(v, 0) : 0; }
