/* dot.h - what the picture module (dot.c) offers the rest of weft and the
 * weft command besides the public weft/visualize.h: whether this build can
 * render through Graphviz. Internal to weft. */
#ifndef WEFT_DIAG_DOT_H
#define WEFT_DIAG_DOT_H

#include <stddef.h>

/* The version of the Graphviz library this build renders with ("2.43.0"),
 * or NULL when it was built without Graphviz or the library cannot be
 * loaded (only DOT text then). Loads it on the first call. Thread-safe. */
const char *weft__graphviz_version(void);

#include "../core/format.h" /* weft__repr_double */
#include "weft/visualize.h"

/* Writes the DOT text `dot` to path, in the format path or opts name
 * (through Graphviz unless it is DOT): what weft_visualize does once it has
 * the text, for pictures that are not a task graph (an array's layers).
 * Errors as weft_visualize's, message in g. */
int weft__visualize_text(weft_graph *g, const char *dot, const char *path,
                         const weft_visualize_opts *opts);

#endif
