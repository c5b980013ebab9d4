/* config.h - resolved settings of one compute: options first, then the
 * environment, then defaults. Internal. */
#ifndef WEFT_SCHED_CONFIG_H
#define WEFT_SCHED_CONFIG_H

#include <stddef.h>

#include "weft/compute.h"

typedef struct weft__config {
  weft_scheduler scheduler; /* never DEFAULT */
  int workers;              /* >= 1 */
  int retries;              /* >= 0 */
  int progress;             /* diagnostics: options, else WEFT_PROGRESS, */
  int profile;              /* WEFT_PROFILE, WEFT_TRACE (read only for a */
  const char *trace;        /* compute that does not run inside a task) */
  const char *dashboard;    /* WEFT_DASHBOARD (same rule), else NULL */
} weft__config;

/* 0, or WEFT_EINVAL with a message naming the bad variable. */
int weft__config_resolve(const weft_compute_opts *opts, weft__config *cfg,
                         char *msg, size_t msgsize);

#endif
