/* dot.h - what the picture module (dot.c) offers the rest of weft and the
 * weft command besides the public weft/visualize.h: whether this build can
 * render through Graphviz, and the short form of a double that labels and
 * `weft eval` print. Internal to weft. */
#ifndef WEFT_DIAG_DOT_H
#define WEFT_DIAG_DOT_H

#include <stddef.h>

/* The version of the Graphviz library this build renders with ("2.43.0"),
 * or NULL when it was built without Graphviz (only DOT text then).
 * Thread-safe. */
const char *weft__graphviz_version(void);

/* Writes d as Python's repr() does: the shortest text that reads back as
 * the same double, always with a '.' or an exponent ("500.0", "0.1",
 * "1e+16", "inf", "nan"). snprintf-style: returns the full length. */
size_t weft__repr_double(double d, char *buf, size_t size);

#endif
