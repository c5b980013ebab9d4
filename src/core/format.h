/* format.h - numbers written as Python writes them, so weft prints the
 * same text as the course's Python does (values, labels, `weft eval`).
 * Internal to weft. */
#ifndef WEFT_CORE_FORMAT_H
#define WEFT_CORE_FORMAT_H

#include <stddef.h>

/* Writes d as Python's repr() does: the shortest text that reads back as
 * the same double, always with a '.' or an exponent ("500.0", "0.1",
 * "1e+16", "inf", "nan"). snprintf-style: returns the full length. */
size_t weft__repr_double(double d, char *buf, size_t size);

#endif
