/* value.c - the reference-counted heap values (strings, bytes, lists, user
 * pointers; chunks in chunk.c, dicts in dict.c) behind weft_value, and the
 * conversions and printing shared by every module. Values nest without
 * limit (a list a million deep is fine), so nothing here recurses through
 * them: releasing chains dead containers in a loop, equality and printing
 * walk with an explicit stack. Bytes may also live outside their object
 * (weft__ext_obj: a shared-memory mapping from a worker process), behind the
 * same accessors. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "obj.h"
#include "weft/error.h"

static void free_plain(weft_obj *o) { free(o); }

static void free_ptr(weft_obj *o) {
  weft__ptr_obj *p = (weft__ptr_obj *)o;
  if (p->dtor)
    p->dtor(p->p);
  free(o);
}

static void free_ext(weft_obj *o) {
  weft__ext_obj *e = (weft__ext_obj *)o;
  if (e->release)
    e->release(e->ud);
  free(o);
}

static weft_value obj_value(weft_obj *o) {
  weft_value v = {o->kind & WEFT__OBJ_KIND_MASK, 0, {.obj = o}};
  return v;
}

static bool is_container(const weft_value *v) {
  return v->type == WEFT_T_LIST || v->type == WEFT_T_DICT;
}

static weft_obj **dead_link(weft_obj *o) {
  if ((o->kind & WEFT__OBJ_KIND_MASK) == WEFT_T_LIST)
    return &((weft__list_obj *)o)->dead_next;
  return &((weft__dict_obj *)o)->dead_next;
}

void weft__free_containers(weft_obj *o) {
  weft_obj *dying = o;
  *dead_link(o) = NULL;
  while (dying) {
    weft_obj *c = dying;
    dying = *dead_link(c);
    weft_value cv = obj_value(c), *items;
    size_t n = weft__children(&cv, &items);
    for (size_t i = 0; i < n; i++) {
      weft_value *it = &items[i];
      /* a plain list or dict that dies now: queued instead of recursing;
       * any other (a map batch's list in its shared block) has its own
       * destructor */
      if (is_container(it) && it->as.obj->destroy == weft__free_containers) {
        weft_obj *k = it->as.obj;
        if (atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1) {
          *dead_link(k) = dying;
          dying = k;
        }
        *it = weft_none();
      } else {
        weft_value_release(it);
      }
    }
    if (cv.type == WEFT_T_DICT) {
      free(((weft__dict_obj *)c)->items);
      free(((weft__dict_obj *)c)->slots);
    }
    free(c);
  }
}

/* A stack of frames for the walks below (equality, printing) that must
 * not recurse: the first frames live in the caller, deeper ones on the
 * heap. */
typedef struct walk_frame {
  const weft_value *a, *b; /* b: equality only */
  size_t i, n;             /* next child, children (dict: entries) */
} walk_frame;

typedef struct walk {
  walk_frame local[32], *f;
  size_t sp, cap;
} walk;

static void walk_init(walk *w) {
  w->f = w->local;
  w->sp = 0;
  w->cap = sizeof w->local / sizeof w->local[0];
}

static void walk_free(walk *w) {
  if (w->f != w->local)
    free(w->f);
}

/* Pushes a frame; false when memory ran out. */
static bool walk_push(walk *w, const weft_value *a, const weft_value *b,
                      size_t n) {
  if (w->sp == w->cap) {
    size_t cap = w->cap * 2;
    walk_frame *f = w->f == w->local ? malloc(cap * sizeof *f)
                                     : realloc(w->f, cap * sizeof *f);
    if (!f)
      return false;
    if (w->f == w->local)
      memcpy(f, w->local, sizeof w->local);
    w->f = f;
    w->cap = cap;
  }
  w->f[w->sp++] = (walk_frame){a, b, 0, n};
  return true;
}

static int new_strlike(weft_value *out, uint32_t kind, const void *data,
                       size_t len, void **payload) {
  *out = weft_none();
  if (len > SIZE_MAX - sizeof(weft__str_obj) - 1)
    return WEFT_ENOMEM;
  weft__str_obj *s = malloc(sizeof *s + len + 1);
  if (!s)
    return WEFT_ENOMEM;
  weft__obj_init(&s->hdr, kind, free_plain);
  s->len = len;
  if (data)
    memcpy(s->data, data, len);
  else
    memset(s->data, 0, len);
  s->data[len] = '\0';
  if (payload)
    *payload = s->data;
  *out = obj_value(&s->hdr);
  return 0;
}

int weft_str_newn(weft_value *out, const char *s, size_t len) {
  if (!out)
    return WEFT_EINVAL;
  if (!s && len) {
    *out = weft_none();
    return WEFT_EINVAL;
  }
  return new_strlike(out, WEFT_T_STR, s, len, NULL);
}

int weft_str_new(weft_value *out, const char *s) {
  if (!out)
    return WEFT_EINVAL;
  if (!s) {
    *out = weft_none();
    return WEFT_EINVAL;
  }
  return new_strlike(out, WEFT_T_STR, s, strlen(s), NULL);
}

int weft_str_printf(weft_value *out, const char *fmt, ...) {
  if (!out || !fmt)
    return WEFT_EINVAL;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    *out = weft_none();
    return WEFT_EINVAL;
  }
  void *data;
  int rc = new_strlike(out, WEFT_T_STR, NULL, (size_t)n, &data);
  if (rc)
    return rc;
  va_start(ap, fmt);
  vsnprintf(data, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return 0;
}

int weft_bytes_new(weft_value *out, const void *data, size_t size) {
  if (!out)
    return WEFT_EINVAL;
  if (!data && size) {
    *out = weft_none();
    return WEFT_EINVAL;
  }
  return new_strlike(out, WEFT_T_BYTES, data, size, NULL);
}

int weft_bytes_alloc(weft_value *out, size_t size, void **data) {
  if (!out || !data)
    return WEFT_EINVAL;
  return new_strlike(out, WEFT_T_BYTES, NULL, size, data);
}

int weft__bytes_external(weft_value *out, const void *data, size_t len,
                         void (*release)(void *ud), void *ud) {
  if (out)
    *out = weft_none();
  if (!out || (!data && len)) {
    if (release)
      release(ud);
    return WEFT_EINVAL;
  }
  weft__ext_obj *e = malloc(sizeof *e);
  if (!e) {
    if (release)
      release(ud);
    return WEFT_ENOMEM;
  }
  weft__obj_init(&e->hdr, WEFT_T_BYTES | WEFT__OBJ_EXTERNAL, free_ext);
  e->len = len;
  e->data = data;
  e->release = release;
  e->ud = ud;
  *out = obj_value(&e->hdr);
  return 0;
}

void *weft__bytes_external_ud(const weft_value *v, void (*release)(void *ud)) {
  if (!v || v->type != WEFT_T_BYTES ||
      !(v->as.obj->kind & WEFT__OBJ_EXTERNAL))
    return NULL;
  const weft__ext_obj *e = (const weft__ext_obj *)v->as.obj;
  return e->release == release ? e->ud : NULL;
}

int weft_list_new(weft_value *out, size_t n) {
  if (!out)
    return WEFT_EINVAL;
  *out = weft_none();
  if (n > (SIZE_MAX - sizeof(weft__list_obj)) / sizeof(weft_value))
    return WEFT_ENOMEM;
  weft__list_obj *l = malloc(sizeof *l + n * sizeof(weft_value));
  if (!l)
    return WEFT_ENOMEM;
  weft__obj_init(&l->hdr, WEFT_T_LIST, weft__free_containers);
  l->n = n;
  l->dead_next = NULL;
  for (size_t i = 0; i < n; i++)
    l->items[i] = weft_none();
  *out = obj_value(&l->hdr);
  return 0;
}

int weft_ptr_new(weft_value *out, void *p, void (*dtor)(void *p)) {
  if (!out)
    return WEFT_EINVAL;
  *out = weft_none();
  weft__ptr_obj *o = malloc(sizeof *o);
  if (!o)
    return WEFT_ENOMEM;
  weft__obj_init(&o->hdr, WEFT_T_PTR, free_ptr);
  o->p = p;
  o->dtor = dtor;
  *out = obj_value(&o->hdr);
  return 0;
}

const char *weft_value_str(const weft_value *v) {
  if (!v || v->type != WEFT_T_STR)
    return NULL;
  return ((const weft__str_obj *)v->as.obj)->data;
}

size_t weft_value_len(const weft_value *v) {
  if (!v)
    return 0;
  if (v->type == WEFT_T_STR || v->type == WEFT_T_BYTES)
    return ((const weft__str_obj *)v->as.obj)->len;
  if (v->type == WEFT_T_LIST)
    return ((const weft__list_obj *)v->as.obj)->n;
  if (v->type == WEFT_T_DICT)
    return ((const weft__dict_obj *)v->as.obj)->n;
  return 0;
}

const void *weft_value_bytes(const weft_value *v) {
  if (!v || (v->type != WEFT_T_BYTES && v->type != WEFT_T_STR))
    return NULL;
  if (v->as.obj->kind & WEFT__OBJ_EXTERNAL)
    return ((const weft__ext_obj *)v->as.obj)->data;
  return ((const weft__str_obj *)v->as.obj)->data;
}

const weft_value *weft_list_get(const weft_value *list, size_t i) {
  if (!list || list->type != WEFT_T_LIST)
    return NULL;
  const weft__list_obj *l = (const weft__list_obj *)list->as.obj;
  return i < l->n ? &l->items[i] : NULL;
}

int weft_list_set(weft_value *list, size_t i, weft_value item) {
  if (!list || list->type != WEFT_T_LIST ||
      i >= ((weft__list_obj *)list->as.obj)->n) {
    weft_value_release(&item);
    return WEFT_EINVAL;
  }
  weft__list_obj *l = (weft__list_obj *)list->as.obj;
  weft_value_release(&l->items[i]);
  l->items[i] = item;
  return 0;
}

void *weft_value_ptr(const weft_value *v) {
  if (!v || v->type != WEFT_T_PTR)
    return NULL;
  return ((const weft__ptr_obj *)v->as.obj)->p;
}

int weft_value_to_double(const weft_value *v, double *out) {
  if (!v || !out)
    return WEFT_EINVAL;
  switch (v->type) {
  case WEFT_T_BOOL:
    *out = v->as.b ? 1.0 : 0.0;
    return 0;
  case WEFT_T_INT: {
    double d = (double)v->as.i;
    /* 2^63 as a double does not fit back into int64: reject it first. */
    if (d >= 9223372036854775808.0 || (int64_t)d != v->as.i)
      return WEFT_ETYPE;
    *out = d;
    return 0;
  }
  case WEFT_T_DOUBLE:
    *out = v->as.d;
    return 0;
  }
  return WEFT_ETYPE;
}

int weft_value_to_int64(const weft_value *v, int64_t *out) {
  if (!v || !out)
    return WEFT_EINVAL;
  switch (v->type) {
  case WEFT_T_BOOL:
    *out = v->as.b;
    return 0;
  case WEFT_T_INT:
    *out = v->as.i;
    return 0;
  case WEFT_T_DOUBLE: {
    double d = v->as.d;
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) ||
        d != floor(d))
      return WEFT_ETYPE;
    *out = (int64_t)d;
    return 0;
  }
  }
  return WEFT_ETYPE;
}

int weft_value_to_bool(const weft_value *v, bool *out) {
  if (!v || !out)
    return WEFT_EINVAL;
  switch (v->type) {
  case WEFT_T_BOOL:
    *out = v->as.b;
    return 0;
  case WEFT_T_INT:
    *out = v->as.i != 0;
    return 0;
  case WEFT_T_DOUBLE:
    *out = v->as.d != 0.0;
    return 0;
  }
  return WEFT_ETYPE;
}

weft_value weft_value_retain(const weft_value *v) {
  if (!v)
    return weft_none();
  if (weft_value_is_obj(v))
    atomic_fetch_add_explicit(&v->as.obj->refs, 1, memory_order_relaxed);
  return *v;
}

void weft_value_release(weft_value *v) {
  if (!v)
    return;
  if (weft_value_is_obj(v)) {
    weft_obj *o = v->as.obj;
    if (atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) == 1)
      o->destroy(o);
  }
  *v = weft_none();
}

/* Equality of everything but the items of lists and dicts. */
static bool shallow_equal(const weft_value *a, const weft_value *b) {
  if (a->type != b->type)
    return false;
  switch (a->type) {
  case WEFT_T_NONE:
    return true;
  case WEFT_T_BOOL:
    return a->as.b == b->as.b;
  case WEFT_T_INT:
    return a->as.i == b->as.i;
  case WEFT_T_DOUBLE:
    return a->as.d == b->as.d;
  case WEFT_T_STR:
  case WEFT_T_BYTES: {
    size_t n = weft_value_len(a);
    return n == weft_value_len(b) &&
           (n == 0 || memcmp(weft_value_bytes(a), weft_value_bytes(b), n) == 0);
  }
  case WEFT_T_LIST:
  case WEFT_T_DICT:
    return weft_value_len(a) == weft_value_len(b);
  case WEFT_T_PTR:
    return weft_value_ptr(a) == weft_value_ptr(b);
  case WEFT_T_CHUNK:
    return weft__chunk_equal(a, b);
  }
  return a->as.obj == b->as.obj;
}

bool weft_value_equal(const weft_value *a, const weft_value *b) {
  if (!a || !b)
    return a == b;
  walk w;
  walk_init(&w);
  bool eq = true;
  for (;;) {
    if (!shallow_equal(a, b)) {
      eq = false;
      break;
    }
    /* the same list or dict on both sides needs no walk */
    if (is_container(a) && a->as.obj != b->as.obj && weft_value_len(a) &&
        !walk_push(&w, a, b, weft_value_len(a))) {
      eq = false; /* out of memory: documented in value.h */
      break;
    }
    while (w.sp && w.f[w.sp - 1].i == w.f[w.sp - 1].n)
      w.sp--;
    if (!w.sp)
      break;
    walk_frame *f = &w.f[w.sp - 1];
    size_t i = f->i++;
    if (f->a->type == WEFT_T_LIST) {
      a = weft_list_get(f->a, i);
      b = weft_list_get(f->b, i);
    } else {
      const weft__dict_obj *d = (const weft__dict_obj *)f->a->as.obj;
      a = &d->items[2 * i + 1];
      b = weft__dict_find(f->b, &d->items[2 * i]);
      if (!b) {
        eq = false;
        break;
      }
    }
  }
  walk_free(&w);
  return eq;
}

size_t weft__repr_double(double d, char *buf, size_t size) {
  char tmp[64];
  int n;
  if (isnan(d)) {
    n = snprintf(tmp, sizeof tmp, "nan");
  } else if (isinf(d)) {
    n = snprintf(tmp, sizeof tmp, "%sinf", d < 0 ? "-" : "");
  } else {
    /* The fewest significant digits that read back exactly. */
    int p = 1;
    for (; p < 17; p++) {
      snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
      if (strtod(tmp, NULL) == d)
        break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
    int exp10 = atoi(strchr(tmp, 'e') + 1);
    if (exp10 >= -4 && exp10 < 16) { /* Python's repr switches at 1e16 */
      int decimals = p - 1 - exp10;
      n = snprintf(tmp, sizeof tmp, "%.*f", decimals > 0 ? decimals : 0, d);
      if (!strchr(tmp, '.'))
        n = snprintf(tmp + n, sizeof tmp - (size_t)n, ".0") + n;
    } else {
      n = snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
    }
  }
  if (size)
    snprintf(buf, size, "%s", tmp);
  return n < 0 ? 0 : (size_t)n;
}

/* Appends to buf like snprintf, tracking the length the text would have. */
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *dst = *len < size ? buf + *len : NULL;
  size_t room = *len < size ? size - *len : 0;
  int n = vsnprintf(dst, room, fmt, ap);
  va_end(ap);
  if (n > 0)
    *len += (size_t)n;
}

/* A value that holds no other values, as its text. */
static void format_leaf(const weft_value *v, char *buf, size_t size,
                        size_t *len) {
  switch (v->type) {
  case WEFT_T_NONE:
    put(buf, size, len, "None");
    return;
  case WEFT_T_BOOL:
    put(buf, size, len, "%s", v->as.b ? "True" : "False");
    return;
  case WEFT_T_INT:
    put(buf, size, len, "%" PRId64, v->as.i);
    return;
  case WEFT_T_DOUBLE: {
    char num[64];
    weft__repr_double(v->as.d, num, sizeof num);
    put(buf, size, len, "%s", num);
    return;
  }
  case WEFT_T_STR:
    put(buf, size, len, "'%s'", weft_value_str(v));
    return;
  case WEFT_T_BYTES:
    put(buf, size, len, "<%zu bytes>", weft_value_len(v));
    return;
  case WEFT_T_PTR:
    put(buf, size, len, "<ptr %p>", weft_value_ptr(v));
    return;
  case WEFT_T_CHUNK: {
    char text[512];
    weft__chunk_describe(v, text, sizeof text);
    put(buf, size, len, "%s", text);
    return;
  }
  }
  put(buf, size, len, "<%s>", weft_type_name(v->type));
}

size_t weft_value_format(const weft_value *v, char *buf, size_t size) {
  size_t len = 0;
  if (size)
    buf[0] = '\0';
  if (!v)
    return 0;
  walk w;
  walk_init(&w);
  for (;;) {
    if (!is_container(v)) {
      format_leaf(v, buf, size, &len);
    } else if (!walk_push(&w, v, NULL, weft_value_len(v))) {
      put(buf, size, &len, "..."); /* out of memory: documented */
      break;
    } else {
      put(buf, size, &len, "%s", v->type == WEFT_T_LIST ? "[" : "{");
    }
    while (w.sp && w.f[w.sp - 1].i == w.f[w.sp - 1].n) {
      put(buf, size, &len, "%s",
          w.f[w.sp - 1].a->type == WEFT_T_LIST ? "]" : "}");
      w.sp--;
    }
    if (!w.sp)
      break;
    walk_frame *f = &w.f[w.sp - 1];
    size_t i = f->i++;
    if (i)
      put(buf, size, &len, ", ");
    if (f->a->type == WEFT_T_LIST) {
      v = weft_list_get(f->a, i);
    } else {
      const weft__dict_obj *d = (const weft__dict_obj *)f->a->as.obj;
      format_leaf(&d->items[2 * i], buf, size, &len);
      put(buf, size, &len, ": ");
      v = &d->items[2 * i + 1];
    }
  }
  walk_free(&w);
  return len;
}

const char *weft_type_name(uint32_t type) {
  static const char *const names[] = {"none",  "bool", "int", "double", "str",
                                      "bytes", "list", "ptr", "chunk",  "dict"};
  if (type < sizeof names / sizeof names[0])
    return names[type];
  switch (type) {
  case WEFT__T_NODE:
    return "node";
  case WEFT__T_KEYREF:
    return "key reference";
  }
  return "unknown";
}
