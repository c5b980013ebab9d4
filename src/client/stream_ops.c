/* stream_ops.c - what each kind of stream step does with one item, and the
 * per-key state the stateful ones keep (scan: the accumulator; rolling: a
 * ring of the last values; throttle: the time of the last item passed;
 * debounce: the waiting item and its generation). Runs inside a strand's
 * job (stream.c), so one key's state is only ever touched by one thread at
 * a time and needs no lock. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stream_impl.h"

/* ---- key -> state map (open addressing, linear probing) ---- */

static size_t slot_of(uint64_t key, size_t cap) {
  return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

void *weft__kmap_get(weft__kmap *m, uint64_t key) {
  if (!m->cap)
    return NULL;
  for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (!m->vals[i])
      return NULL;
    if (m->keys[i] == key)
      return m->vals[i];
  }
}

int weft__kmap_set(weft__kmap *m, uint64_t key, void *val) {
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    uint64_t *keys = calloc(cap, sizeof *keys);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
      free(keys);
      free(vals);
      return WEFT_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->vals[i]) {
        size_t j = slot_of(m->keys[i], cap);
        while (vals[j])
          j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
      }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
  }
  size_t i = slot_of(key, m->cap);
  while (m->vals[i] && m->keys[i] != key)
    i = (i + 1) & (m->cap - 1);
  if (!m->vals[i])
    m->n++;
  m->keys[i] = key;
  m->vals[i] = val;
  return 0;
}

/* ---- per-key states ---- */

typedef struct scan_state {
  weft_value acc;
} scan_state;

typedef struct roll_state {
  size_t n, pos; /* values held, next slot */
  double v[];    /* window slots */
} roll_state;

typedef struct throttle_state {
  uint64_t last;
} throttle_state;

typedef struct debounce_state {
  uint64_t gen;
  bool waiting;
  uint64_t t;
  weft_value v;
} debounce_state;

void weft__stream_free_state(weft_stream *s, void *state) {
  if (s->kind == WEFT__SK_SCAN)
    weft_value_release(&((scan_state *)state)->acc);
  else if (s->kind == WEFT__SK_DEBOUNCE)
    weft_value_release(&((debounce_state *)state)->v);
  free(state);
}

/* The state of it->key in this strand, made by `make` when missing. */
static void *state_for(weft_stream *s, weft__strand *st, uint64_t key,
                       size_t size) {
  void *p = weft__kmap_get(&st->state, key);
  if (p)
    return p;
  p = calloc(1, size);
  if (!p)
    return NULL;
  if (s->kind == WEFT__SK_SCAN)
    ((scan_state *)p)->acc = weft_value_retain(&s->init);
  if (weft__kmap_set(&st->state, key, p)) {
    weft__stream_free_state(s, p);
    return NULL;
  }
  return p;
}

static void emit_copy(weft_stream *s, weft__sitem *it) {
  weft__stream_emit(s, it->key, it->t, it->v);
  it->v = weft_none(); /* handed over */
}

void weft__stream_process(weft_stream *s, weft__strand *st, weft__sitem *it) {
  switch (s->kind) {
  case WEFT__SK_MERGE:
    emit_copy(s, it);
    return;
  case WEFT__SK_MAP: {
    weft_value out = weft_none();
    int rc = ((weft_stream_map_fn)s->fn)(it->key, &it->v, &out, s->ud);
    if (rc < 0) {
      weft_value_release(&out);
      weft__stream_fail(s, rc, "map step: the function returned %d (%s) "
                        "for an item of key %llu", rc, weft_strerror(rc),
                        (unsigned long long)it->key);
    } else if (rc == 0) {
      weft__stream_emit(s, it->key, it->t, out);
    } else {
      weft_value_release(&out);
    }
    return;
  }
  case WEFT__SK_FILTER:
    if (((weft_stream_filter_fn)s->fn)(it->key, &it->v, s->ud))
      emit_copy(s, it);
    return;
  case WEFT__SK_KEYBY:
    it->key = ((weft_stream_key_fn)s->fn)(&it->v, s->ud);
    emit_copy(s, it);
    return;
  case WEFT__SK_SCAN: {
    scan_state *ss = state_for(s, st, it->key, sizeof *ss);
    if (!ss) {
      weft__stream_fail(s, WEFT_ENOMEM, "scan step: out of memory");
      return;
    }
    int rc = ((weft_stream_scan_fn)s->fn)(it->key, &ss->acc, &it->v, s->ud);
    if (rc < 0)
      weft__stream_fail(s, rc, "scan step: the function returned %d (%s) "
                        "for an item of key %llu", rc, weft_strerror(rc),
                        (unsigned long long)it->key);
    else if (rc == 0)
      weft__stream_emit(s, it->key, it->t, weft_value_retain(&ss->acc));
    return;
  }
  case WEFT__SK_ROLLING: {
    double x;
    if (weft_value_to_double(&it->v, &x)) {
      weft__stream_fail(s, WEFT_ETYPE, "rolling step: an item of key %llu "
                        "is a %s, not a number",
                        (unsigned long long)it->key, weft_type_name(it->v.type));
      return;
    }
    roll_state *rs = state_for(s, st, it->key,
                               sizeof *rs + s->window * sizeof(double));
    if (!rs) {
      weft__stream_fail(s, WEFT_ENOMEM, "rolling step: out of memory");
      return;
    }
    rs->v[rs->pos] = x;
    rs->pos = (rs->pos + 1) % s->window;
    if (rs->n < s->window)
      rs->n++;
    if (rs->n < s->window)
      return;
    /* the window in arrival order, so a mean sums as a plain loop would */
    double r = s->stat == WEFT_ROLL_MAX ? -INFINITY : 0;
    for (size_t k = 0; k < s->window; k++) {
      double y = rs->v[(rs->pos + k) % s->window];
      if (s->stat == WEFT_ROLL_MAX)
        r = y > r || isnan(y) ? y : r;
      else
        r += y;
    }
    if (s->stat == WEFT_ROLL_MEAN)
      r /= (double)s->window;
    weft__stream_emit(s, it->key, it->t, weft_double(r));
    return;
  }
  case WEFT__SK_THROTTLE: {
    throttle_state *ts = weft__kmap_get(&st->state, it->key);
    if (ts && it->t - ts->last < s->interval_ns && it->t >= ts->last)
      return;
    if (!ts && !(ts = state_for(s, st, it->key, sizeof *ts))) {
      weft__stream_fail(s, WEFT_ENOMEM, "throttle step: out of memory");
      return;
    }
    ts->last = it->t;
    emit_copy(s, it);
    return;
  }
  case WEFT__SK_DEBOUNCE: {
    debounce_state *ds = state_for(s, st, it->key, sizeof *ds);
    if (!ds) {
      weft__stream_fail(s, WEFT_ENOMEM, "debounce step: out of memory");
      return;
    }
    if (it->tick) { /* the quiet time of generation it->tick is over */
      if (ds->waiting && ds->gen == it->tick) {
        ds->waiting = false;
        weft_value v = ds->v;
        ds->v = weft_none();
        weft__stream_emit(s, it->key, ds->t, v);
      }
      return;
    }
    weft_value_release(&ds->v);
    ds->v = it->v;
    it->v = weft_none();
    ds->t = it->t;
    ds->waiting = true;
    ds->gen++;
    weft__stream_timer(s, weft__client_now_ns() + s->interval_ns, it->key,
                       ds->gen);
    return;
  }
  case WEFT__SK_SINK:
    ((weft_stream_sink_fn)s->fn)(it->key, &it->v, s->ud);
    return;
  case WEFT__SK_COLLECT: {
    weft_stream_collector *col = &s->col;
    pthread_mutex_lock(&col->mu);
    if (col->n == col->cap) {
      size_t cap = col->cap ? col->cap * 2 : 64;
      weft__sitem **p = realloc(col->items, cap * sizeof *p);
      if (!p) {
        pthread_mutex_unlock(&col->mu);
        weft__stream_fail(s, WEFT_ENOMEM, "collect: out of memory");
        return;
      }
      col->items = p;
      col->cap = cap;
    }
    weft__sitem *keep = malloc(sizeof *keep);
    if (keep) {
      *keep = *it;
      keep->next = NULL;
      it->v = weft_none();
      col->items[col->n++] = keep;
    }
    pthread_mutex_unlock(&col->mu);
    if (!keep)
      weft__stream_fail(s, WEFT_ENOMEM, "collect: out of memory");
    return;
  }
  default:
    return;
  }
}
