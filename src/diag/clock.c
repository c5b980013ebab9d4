/* clock.c - the fit that turns TSC ticks into CLOCK_MONOTONIC nanoseconds
 * (clock.h): whether the TSC can be trusted here, the first calibration
 * (2 ms), and the refit at each snapshot (anchored to the clock at that
 * moment, its slope taken from the first reading of the process on). */
#include "clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool use_tsc;
static uint64_t first_t, first_ns; /* the first pair of the process */
static weft__clock fit;            /* the latest fit (under mu) */

#if defined(__x86_64__)
/* Whether the file's first line holds `word` (as a whole word when
 * `flags`: /proc/cpuinfo's flags line). */
static bool file_has(const char *path, const char *word, bool flags) {
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  char line[8192];
  bool found = false;
  size_t wl = strlen(word);
  while (!found && fgets(line, sizeof line, f)) {
    if (flags && strncmp(line, "flags", 5) != 0)
      continue;
    for (char *p = strstr(line, word); p; p = strstr(p + 1, word))
      if ((p == line || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ':') &&
          (p[wl] == ' ' || p[wl] == '\n' || p[wl] == '\0')) {
        found = true;
        break;
      }
    if (flags)
      break; /* the first CPU's flags */
  }
  fclose(f);
  return found;
}

/* A tick count and the CLOCK_MONOTONIC time at the same moment: the
 * clock read between two counter readings, the closest of a few tries. */
static void pair(uint64_t *t, uint64_t *ns) {
  uint64_t best = UINT64_MAX;
  for (int k = 0; k < 5; k++) {
    uint64_t a = weft__rdtscp();
    uint64_t n = weft_now_ns();
    uint64_t b = weft__rdtscp();
    if (b >= a && b - a < best) {
      best = b - a;
      *t = a + (b - a) / 2;
      *ns = n;
    }
  }
}

static uint64_t slope(uint64_t t0, uint64_t ns0, uint64_t t1, uint64_t ns1) {
  if (t1 <= t0 || ns1 <= ns0)
    return 0;
  __extension__ typedef unsigned __int128 u128;
  return (uint64_t)(((u128)(ns1 - ns0) << 32) / (t1 - t0));
}
#endif

static void init(void) {
  const char *env = getenv("WEFT_CLOCK");
  use_tsc = false;
#if defined(__x86_64__)
  if (!(env && strcmp(env, "monotonic") == 0) &&
      file_has("/proc/cpuinfo", "rdtscp", true) &&
      (file_has("/sys/devices/system/clocksource/clocksource0/"
                "current_clocksource",
                "tsc", false) ||
       (file_has("/proc/cpuinfo", "constant_tsc", true) &&
        file_has("/proc/cpuinfo", "nonstop_tsc", true)))) {
    uint64_t t1 = 0, ns1 = 0;
    pair(&first_t, &first_ns);
    do /* 2 ms between the two pairs: a slope good to ~1e-5 */
      pair(&t1, &ns1);
    while (ns1 - first_ns < 2000000 && ns1 >= first_ns);
    uint64_t m = slope(first_t, first_ns, t1, ns1);
    if (m) {
      use_tsc = true;
      fit = (weft__clock){t1, ns1, m, true};
    }
  }
#else
  (void)env;
#endif
}

void weft__clock_fallback(weft__clock *c) {
  *c = (weft__clock){0, 0, 1ull << 32, false};
}

void weft__clock_get(weft__clock *c) {
  pthread_once(&once, init);
  if (!use_tsc) {
    weft__clock_fallback(c);
    return;
  }
#if defined(__x86_64__)
  pthread_mutex_lock(&mu);
  uint64_t t, ns;
  pair(&t, &ns);
  if (ns - fit.base_ns >= 20000000) { /* refit: anchor now, longer slope */
    uint64_t m = slope(first_t, first_ns, t, ns);
    if (m)
      fit = (weft__clock){t, ns, m, true};
  }
  *c = fit;
  pthread_mutex_unlock(&mu);
#endif
}
