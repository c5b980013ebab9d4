/* watch.h - what a weft_map / weft_map_reduce call tells listeners: the
 * diagnostics its options or WEFT_* switch on, MAP_BEGIN / MAP_END around
 * its compute, and a MAP_ITEMS event per finished batch (its number of
 * items), so a progress bar counts items rather than batches. Internal. */
#ifndef WEFT_MAP_WATCH_H
#define WEFT_MAP_WATCH_H

#include "diag/session.h"
#include "map_impl.h"

typedef struct weft__map_watch {
  weft_listener l;           /* in front of the compute's listeners */
  const weft_listener *down; /* the diagnostics, then the caller's */
  weft__diag *dg;
  const weft_fn_info *fn;
  size_t n;
  int workers;
} weft__map_watch;

/* Sets cfg->copts.listener to the watch (when anyone listens) and
 * publishes MAP_BEGIN. 0, or an error with the message in err. */
int weft__map_watch_begin(weft__map_watch *w, weft__map_cfg *cfg,
                          const weft_fn_info *fn, size_t n, char *err,
                          size_t errsize);
/* Publishes MAP_END with status rc, ends the diagnostics. Returns rc, or
 * the diagnostics' error (err set) when rc was 0. */
int weft__map_watch_end(weft__map_watch *w, int rc, char *err, size_t errsize);

#endif
