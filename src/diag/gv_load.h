/* gv_load.h - Graphviz's functions, loaded on first use. Internal to weft.
 *
 * libweft does not link libgvc: a program (and every worker process it
 * starts) would otherwise load Graphviz and its dependencies at start-up,
 * though most never draw a picture. The first SVG, PNG or PDF opens it with
 * dlopen; DOT text needs nothing. Compiled against Graphviz's headers, so
 * the pointers have the exact types of the version built with. */
#ifndef WEFT_DIAG_GV_LOAD_H
#define WEFT_DIAG_GV_LOAD_H

#include <stddef.h>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

typedef struct weft__gv {
  __typeof__(&gvContext) gvContext;
  __typeof__(&gvcVersion) gvcVersion;
  __typeof__(&gvLayout) gvLayout;
  __typeof__(&gvFreeLayout) gvFreeLayout;
  __typeof__(&gvRenderData) gvRenderData;
  __typeof__(&gvFreeRenderData) gvFreeRenderData;
  __typeof__(&agmemread) agmemread;
  __typeof__(&agclose) agclose;
  __typeof__(&agseterrf) agseterrf;
} weft__gv;

/* The functions, or NULL with the reason in why (the library and what
 * dlopen said). The first call loads; later ones return the same answer.
 * WEFT_GRAPHVIZ_LIB names another library file to open (testing, unusual
 * installs). Thread-safe. */
const weft__gv *weft__gv_load(const char **why);

#endif
