/* weft.h - the whole public API of weft: lazy task graphs, schedulers and
 * diagnostics for C. Each module has its own header under weft/. */
#ifndef WEFT_H
#define WEFT_H

#define WEFT_VERSION_MAJOR 0
#define WEFT_VERSION_MINOR 1
#define WEFT_VERSION_PATCH 0
#define WEFT_VERSION_STRING "0.1.0"

#include "weft/error.h"
#include "weft/value.h"
#include "weft/chunk.h"
#include "weft/array.h"
#include "weft/fn.h"
#include "weft/graph.h"
#include "weft/events.h"
#include "weft/diag.h"
#include "weft/dash.h"
#include "weft/compute.h"
#include "weft/procs.h"
#include "weft/map.h"
#include "weft/client.h"
#include "weft/stream.h"
#include "weft/visualize.h"
#include "weft/wire.h"
#include "weft/npy.h"
#include "weft/plot.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The library's version string, e.g. "0.1.0" (may differ from the header's
 * when linked against another build). */
const char *weft_version(void);
#ifdef __cplusplus
}
#endif
#endif
