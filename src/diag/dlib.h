/* dlib.h - opening an optional library on first use (internal).
 *
 * Graphviz (gv_load.c), PLplot (plot.c) and libmicrohttpd (dash/server.c)
 * are not linked: a program that
 * draws nothing never loads them, and a machine without them gets a clear
 * message instead of a program that will not start. All open their
 * library the same way: the file an environment variable names, else the
 * first of a list of sonames that loads; then each entry point by name. */
#ifndef WEFT_DIAG_DLIB_H
#define WEFT_DIAG_DLIB_H

#include <stdbool.h>
#include <stddef.h>

/* Opens getenv(env) when set and not empty, else the first of libs[0..n)
 * that loads (RTLD_NOW, and RTLD_GLOBAL when global: Graphviz loads its
 * plugins, which need its symbols; else RTLD_LOCAL). *lib names the file opened
 * or, on failure (NULL), the last one tried; *error then holds dlerror's text
 * or "not found". */
void *weft__dl_open(const char *env, const char *const *libs, size_t n,
                    bool global, const char **lib, const char **error);

/* Looks name up in h into *slot; false, with "LIB has no NAME" in why, when
 * the library lacks it. */
bool weft__dl_sym(void *h, const char *lib, const char *name, void **slot,
                  char *why, size_t whysize);

#endif
