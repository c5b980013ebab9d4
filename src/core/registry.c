/* registry.c - the process's table of task functions, found by name.
 *
 * Graphs refer to functions through weft_fn_info, which carries the name, so
 * a worker process or an MPI rank running the same program can look the
 * function up again. WEFT_REGISTER adds entries before main() runs. The
 * table only ever grows and describes code, not run-time state, so it is
 * safe to share between every client in the process. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "registry.h"

#include "weft/error.h"
#include "weft/fn.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static weft_fn_info *registry_head;

int weft_fn_register(weft_fn_info *info) {
  if (!info || !info->name || !info->name[0] || !info->fn)
    return WEFT_EINVAL;
  pthread_mutex_lock(&registry_lock);
  for (weft_fn_info *it = registry_head; it; it = it->next) {
    if (it == info) {
      pthread_mutex_unlock(&registry_lock);
      return 0;
    }
  }
  info->next = registry_head;
  registry_head = info;
  pthread_mutex_unlock(&registry_lock);
  return 0;
}

int weft_fn_find(const char *name, const weft_fn_info **out) {
  if (!name || !out)
    return WEFT_EINVAL;
  *out = NULL;
  int rc = WEFT_ENOTFOUND;
  pthread_mutex_lock(&registry_lock);
  for (weft_fn_info *it = registry_head; it; it = it->next) {
    if (strcmp(it->name, name) != 0)
      continue;
    if (*out && (*out)->fn != it->fn) {
      rc = WEFT_EEXIST; /* two different functions claim this name */
      *out = NULL;
      break;
    }
    *out = it;
    rc = 0;
  }
  pthread_mutex_unlock(&registry_lock);
  return rc;
}

void weft_fn_foreach(void (*fn)(const weft_fn_info *info, void *ud),
                     void *ud) {
  if (!fn)
    return;
  pthread_mutex_lock(&registry_lock);
  weft_fn_info *head = registry_head;
  pthread_mutex_unlock(&registry_lock);
  /* Entries are prepended and never removed: the list from head on is
   * immutable, so it can be walked without the lock. */
  for (weft_fn_info *it = head; it; it = it->next)
    fn(it, ud);
}

int weft_fn_registered(const weft_fn_info *info) {
  if (!info || !info->name)
    return WEFT_EINVAL;
  const weft_fn_info *found = NULL;
  int rc = weft_fn_find(info->name, &found);
  if (rc)
    return rc;
  return found->fn == info->fn ? 0 : WEFT_ENOTFOUND;
}

int weft__fn_check_registered(const weft_fn_info *fn, char *msg,
                              size_t size) {
  int rc = weft_fn_registered(fn);
  if (rc == 0 || rc == WEFT_EINVAL) {
    if (rc)
      snprintf(msg, size, "a function without a name cannot be found by "
                          "worker processes");
    return rc;
  }
  snprintf(msg, size,
           "function '%s' is %s, so worker processes cannot find it by name: "
           "register it (WEFT_REGISTER(%s) or WEFT_DELAYED(%s, ...) next to "
           "its definition, or weft_fn_register(&info) before the call)",
           fn->name,
           rc == WEFT_EEXIST ? "registered twice (two functions share the name)"
                             : "not registered",
           fn->name, fn->name);
  return rc == WEFT_EEXIST ? WEFT_EEXIST : WEFT_ENOTFOUND;
}

/* ---- defaults of typed functions (WEFT_DEFAULTS) ---- */

static weft__fn_defaults *defaults_head; /* under registry_lock */

void weft__fn_defaults_register(const weft_fn_info *info,
                                weft__fn_defaults *d) {
  pthread_mutex_lock(&registry_lock);
  if (!d->info) {
    d->info = info;
    d->next = defaults_head;
    defaults_head = d;
  }
  pthread_mutex_unlock(&registry_lock);
}

int weft_fn_min_arity(const weft_fn_info *fn) {
  if (!fn || fn->arity < 0)
    return -1;
  int nd = 0;
  pthread_mutex_lock(&registry_lock);
  for (const weft__fn_defaults *d = defaults_head; d; d = d->next)
    if (d->info == fn) {
      nd = d->n;
      break;
    }
  pthread_mutex_unlock(&registry_lock);
  return fn->arity - nd;
}
