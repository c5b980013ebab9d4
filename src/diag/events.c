/* events.c - names and clock of the event stream that every scheduler
 * publishes (weft/events.h). */
#include <time.h>

#include "weft/events.h"

const char *weft_event_kind_name(weft_event_kind kind) {
  static const char *const names[WEFT_EV__COUNT] = {
      "compute-begin", "task-start", "task-end", "task-fail", "compute-end"};
  return (unsigned)kind < WEFT_EV__COUNT ? names[kind] : "unknown";
}

uint64_t weft_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
