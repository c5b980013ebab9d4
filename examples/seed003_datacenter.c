/* seed003_datacenter.c - seed 003 (reactive programming, RxPY): a data
 * centre whose thermometers send readings without pause to a control
 * program that observes the stream and reacts when a zone gets too hot, by
 * raising the cooling of that zone.
 *
 * In C with weft streams: four zones, three sensors each; one thread per
 * zone pushes its sensors' readings (tenths of a degree, as a sensor would
 * send them) into one stream keyed by zone. The steps, on the client's
 * pool, in order per zone:
 *   readings -> map (tenths to degrees) -> rolling mean of the last 6
 *            -> sink: the alert handler, which raises a zone's cooling when
 *               its mean crosses 30.0 degrees and sets it back to normal
 *               when the mean falls under 27.0
 * Zone 2 has a hot spell, zone 3 a short spike. The alerts are printed per
 * zone and checked against the same computation done sequentially, reading
 * by reading. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

#define DC_ZONES 4
#define DC_SENSORS 3
#define DC_ROUNDS 400 /* readings per sensor */
#define DC_WINDOW 6
#define DC_HOT 30.0
#define DC_OK 27.0
#define DC_MAX_ALERTS 64

typedef struct dc_alert {
  int reading; /* index of the zone's reading that triggered it */
  int raise;   /* 1: cooling raised, 0: back to normal */
  double mean;
} dc_alert;

typedef struct dc_zone {
  int cooling;
  int seen; /* readings of this zone seen by the handler */
  int nalerts;
  dc_alert alerts[DC_MAX_ALERTS];
} dc_zone;

/* Reading r of sensor s in zone z, in tenths of a degree: a deterministic
 * wobble around 24 degrees, a hot spell in zone 2, a spike in zone 3. */
static int dc_reading(int z, int s, int r) {
  unsigned h = (unsigned)(z * 7919 + s * 104729 + r * 1299709);
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  int t = 240 + (int)(h % 31) - 15 + z * 5;
  if (z == 2 && r >= 120 && r < 220)
    t += (r - 120 < 50 ? r - 120 : 100 - (r - 120)) * 2; /* up to +10 */
  if (z == 3 && r >= 300 && r < 306)
    t += 140; /* six very hot readings in a row */
  return t;
}

static int dc_to_degrees(uint64_t zone, const weft_value *in, weft_value *out,
                         void *ud) {
  (void)zone;
  (void)ud;
  *out = weft_double((double)in->as.i / 10.0);
  return 0;
}

/* Decides on one mean: the same rule for the stream and for the check. */
static void dc_react(dc_zone *zs, double mean, int reading) {
  int change = (!zs->cooling && mean > DC_HOT) || (zs->cooling && mean < DC_OK);
  if (!change)
    return;
  zs->cooling = !zs->cooling;
  if (zs->nalerts < DC_MAX_ALERTS)
    zs->alerts[zs->nalerts++] = (dc_alert){reading, zs->cooling, mean};
}

/* The alert callback: runs on the client's pool, one zone at a time in
 * order, so a zone's state needs no lock. */
static void dc_on_mean(uint64_t zone, const weft_value *v, void *ud) {
  dc_zone *zones = ud;
  dc_zone *zs = &zones[zone];
  int reading = DC_WINDOW - 1 + zs->seen++;
  dc_react(zs, v->as.d, reading);
}

typedef struct dc_pusher {
  weft_stream *src;
  int zone;
} dc_pusher;

static void *dc_push_zone(void *arg) {
  dc_pusher *p = arg;
  for (int r = 0; r < DC_ROUNDS; r++)
    for (int s = 0; s < DC_SENSORS; s++)
      weft_stream_push_key(p->src, (uint64_t)p->zone,
                           weft_int(dc_reading(p->zone, s, r)));
  return NULL;
}

int weft_example_seed003_datacenter(void) {
  weft_client *c;
  if (weft_client_new(NULL, &c)) {
    fprintf(stderr, "seed003_datacenter: cannot start a client\n");
    return 1;
  }
  static dc_zone zones[DC_ZONES];
  memset(zones, 0, sizeof zones);
  weft_stream *src = weft_stream_source(c);
  weft_stream *deg = weft_stream_map(src, dc_to_degrees, NULL);
  weft_stream *mean = weft_stream_rolling(deg, DC_WINDOW, WEFT_ROLL_MEAN);
  if (!mean || weft_stream_sink(mean, dc_on_mean, zones)) {
    fprintf(stderr, "seed003_datacenter: cannot build the stream\n");
    weft_client_close(c);
    return 1;
  }
  printf("seed003_datacenter: %d zones x %d sensors, %d readings each; "
         "cooling up when a zone's mean of the last %d readings > %.1f, "
         "normal again under %.1f\n",
         DC_ZONES, DC_SENSORS, DC_ROUNDS, DC_WINDOW, DC_HOT, DC_OK);
  pthread_t th[DC_ZONES];
  dc_pusher ps[DC_ZONES];
  for (int z = 0; z < DC_ZONES; z++) {
    ps[z] = (dc_pusher){src, z};
    pthread_create(&th[z], NULL, dc_push_zone, &ps[z]);
  }
  for (int z = 0; z < DC_ZONES; z++)
    pthread_join(th[z], NULL);
  int rc = weft_stream_flush(c, 60);
  int bad = rc != 0 || weft_stream_status(mean) || weft_stream_status(deg);

  /* the same, sequentially, reading by reading */
  int ok = !bad;
  for (int z = 0; z < DC_ZONES; z++) {
    dc_zone want;
    memset(&want, 0, sizeof want);
    double win[DC_SENSORS * DC_ROUNDS];
    int n = 0;
    for (int r = 0; r < DC_ROUNDS; r++)
      for (int s = 0; s < DC_SENSORS; s++) {
        win[n++] = (double)dc_reading(z, s, r) / 10.0;
        if (n >= DC_WINDOW) {
          double sum = 0;
          for (int k = n - DC_WINDOW; k < n; k++)
            sum += win[k];
          dc_react(&want, sum / DC_WINDOW, n - 1);
        }
      }
    dc_zone *got = &zones[z];
    printf("zone %d: %d readings, %d alert%s\n", z, got->seen + DC_WINDOW - 1,
           got->nalerts, got->nalerts == 1 ? "" : "s");
    for (int a = 0; a < got->nalerts; a++)
      printf("  reading %4d: mean %.2f -> %s\n", got->alerts[a].reading,
             got->alerts[a].mean,
             got->alerts[a].raise ? "ALERT: too hot, cooling raised"
                                  : "back to normal, cooling lowered");
    int same = got->nalerts == want.nalerts &&
               got->seen == DC_SENSORS * DC_ROUNDS - DC_WINDOW + 1;
    for (int a = 0; same && a < got->nalerts; a++)
      same = got->alerts[a].reading == want.alerts[a].reading &&
             got->alerts[a].raise == want.alerts[a].raise &&
             got->alerts[a].mean == want.alerts[a].mean;
    if (!same)
      fprintf(stderr, "zone %d: the stream's alerts differ from the "
                      "sequential computation (%d vs %d alerts)\n",
              z, got->nalerts, want.nalerts);
    ok &= same;
  }
  int hot = zones[2].nalerts >= 2 && zones[3].nalerts >= 2 &&
            zones[0].nalerts == 0;
  printf("seed003_datacenter: alerts %s the sequential computation%s\n",
         ok ? "match" : "DO NOT match",
         hot ? "" : " (and the hot zones did not alert as planned)");
  weft_client_close(c);
  return ok && hot ? 0 : 1;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_seed003_datacenter(); }
#endif
