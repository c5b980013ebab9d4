/* dlib.c - opening an optional library on first use (dlib.h says why). */
#include "dlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void *weft__dl_open(const char *env, const char *const *libs, size_t n,
                    bool global, const char **lib, const char **error) {
  const char *named = env ? getenv(env) : NULL;
  int flags = RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL);
  void *h = NULL;
  *lib = NULL;
  if (named && *named) {
    *lib = named;
    h = dlopen(named, flags);
  } else {
    for (size_t k = 0; !h && k < n; k++)
      h = dlopen(*lib = libs[k], flags);
  }
  if (!h) {
    const char *e = dlerror();
    *error = e ? e : "not found";
  }
  return h;
}

bool weft__dl_sym(void *h, const char *lib, const char *name, void **slot,
                  char *why, size_t whysize) {
  *slot = dlsym(h, name);
  if (!*slot)
    snprintf(why, whysize, "%s has no %s", lib, name);
  return *slot != NULL;
}
