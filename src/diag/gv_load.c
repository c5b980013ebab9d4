/* gv_load.c - opens Graphviz with dlopen the first time a picture needs it
 * (gv_load.h says why it is not linked). */
#if WEFT_HAVE_GRAPHVIZ
#include "gv_load.h"

#include <dlfcn.h>
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
    *(void **)&gv.name = dlsym(h, #name);                                      \
    if (!gv.name) {                                                            \
      snprintf(why_not, sizeof why_not, "%s has no %s", lib, #name);           \
      return;                                                                  \
    }                                                                          \
  } while (0)

static void load(void) {
  const char *env = getenv("WEFT_GRAPHVIZ_LIB");
  const char *lib = NULL;
  void *h = NULL;
  if (env && *env) {
    lib = env;
    h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
  } else {
    for (size_t k = 0; !h && k < sizeof libs / sizeof libs[0]; k++)
      h = dlopen(lib = libs[k], RTLD_NOW | RTLD_GLOBAL);
  }
  if (!h) {
    const char *e = dlerror();
    snprintf(why_not, sizeof why_not, "cannot load %s (%s)", lib,
             e ? e : "not found");
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
