/* registry.h - the one check, and the one message, that says whether a
 * function can be found by name in another process: weft_map on procs and
 * the procs scheduler both use it, so both refuse the same functions with
 * the same words. Internal. */
#ifndef WEFT_CORE_REGISTRY_H
#define WEFT_CORE_REGISTRY_H

#include <stddef.h>

#include "weft/fn.h"

/* 0 when fn is the function registered under its name; else
 * WEFT_ENOTFOUND or WEFT_EEXIST, with a message in msg that says how to
 * register it. */
int weft__fn_check_registered(const weft_fn_info *fn, char *msg,
                              size_t size);

#endif
