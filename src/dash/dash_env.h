/* dash_env.h - the process's WEFT_DASHBOARD dashboard, for the schedulers'
 * compute entry (env.c). */
#ifndef WEFT_DASH_ENV_H
#define WEFT_DASH_ENV_H

#include <stddef.h>

#include "weft/events.h"

/* The listener of the dashboard spec ("host:port") names, started on the
 * first call. 0, or the start's error (the same for every later call) with
 * its message in err. */
int weft__dash_env(const char *spec, const weft_listener **out, char *err,
                   size_t errsize);

/* The link of that dashboard once started, else NULL (tests, weft demo). */
const char *weft__dash_env_link(void);

#endif
