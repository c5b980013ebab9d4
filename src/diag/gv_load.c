/* gv_load.c - opens Graphviz with dlopen the first time a picture needs it
 * (gv_load.h says why it is not linked). */
#if WEFT_HAVE_GRAPHVIZ
#include "gv_load.h"

#include "dlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* The soname of the Graphviz weft is built with (Debian 12: 2.42/2.43),
 * then the development link as a last resort. */
static const char *const libs[] = {"libgvc.so.6", "libgvc.so"};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static weft__gv gv;
static const weft__gv *loaded;
static char why_not[512];

#define SYM(name)                                                              \
  do {                                                                         \
    if (!weft__dl_sym(h, lib, #name, (void **)&gv.name, why_not,               \
                      sizeof why_not))                                         \
      return;                                                                  \
  } while (0)

static void load(void) {
  const char *lib, *error;
  void *h = weft__dl_open("WEFT_GRAPHVIZ_LIB", libs,
                          sizeof libs / sizeof libs[0], true, &lib, &error);
  if (!h) {
    snprintf(why_not, sizeof why_not, "cannot load %s (%s)", lib, error);
    return;
  }
  /* Found through the library and its dependencies (cgraph for ag*). */
  SYM(gvContext);
  SYM(gvcVersion);
  SYM(gvLayout);
  SYM(gvFreeLayout);
  SYM(gvRenderData);
  SYM(gvFreeRenderData);
  SYM(agmemread);
  SYM(agclose);
  SYM(agseterrf);
  loaded = &gv; /* the handle stays open for the life of the process */
}

const weft__gv *weft__gv_load(const char **why) {
  pthread_once(&once, load);
  if (why)
    *why = loaded ? NULL : why_not;
  return loaded;
}
#else
typedef int weft__gv_load_unused; /* built without Graphviz's headers */
#endif
