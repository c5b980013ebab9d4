/* env.c - the dashboard WEFT_DASHBOARD=host:port asks for: one per process
 * (the variable names one address), started by the first compute that sees
 * the variable and stopped at exit. Clients that ask for their own
 * (weft_client_opts.dashboard) have their own; nothing here is shared with
 * them. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash_env.h"
#include "weft/dash.h"
#include "weft/error.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static weft_dash *env_dash;
static char env_spec[128]; /* the value it was started with */
static int env_rc;         /* its failure, given to every compute after */
static char env_err[600];

static void stop_at_exit(void) {
  pthread_mutex_lock(&mu);
  weft_dash *d = env_dash;
  env_dash = NULL;
  env_rc = WEFT_ECANCELED;
  snprintf(env_err, sizeof env_err, "WEFT_DASHBOARD: the program is exiting");
  pthread_mutex_unlock(&mu);
  weft_dash_stop(d);
}

int weft__dash_env(const char *spec, const weft_listener **out, char *err,
                   size_t errsize) {
  *out = NULL;
  pthread_mutex_lock(&mu);
  int rc = env_rc;
  if (!rc && !env_dash) {
    weft_dash_opts o;
    weft_dash_opts_init(&o);
    char msg[384];
    rc = weft_dash_parse(spec, &o, msg, sizeof msg);
    if (!rc)
      rc = weft_dash_start(&o, &env_dash, msg, sizeof msg);
    if (rc) {
      env_rc = rc;
      snprintf(env_err, sizeof env_err, "WEFT_DASHBOARD='%.100s': %.383s", spec,
               msg);
    } else {
      snprintf(env_spec, sizeof env_spec, "%s", spec);
      atexit(stop_at_exit);
    }
  }
  if (rc)
    snprintf(err, errsize, "%s", env_err);
  else
    *out = weft_dash_listener(env_dash);
  pthread_mutex_unlock(&mu);
  return rc;
}

const char *weft__dash_env_link(void) {
  pthread_mutex_lock(&mu);
  const char *l = weft_dash_link(env_dash);
  pthread_mutex_unlock(&mu);
  return l;
}
