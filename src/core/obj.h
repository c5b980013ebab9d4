/* obj.h - the header every reference-counted heap value starts with.
 *
 * Internal to weft. Strings, bytes, lists, array chunks and user pointers
 * are laid out here; each kind brings its destructor, so
 * weft_value_release never needs to know every kind. */
#ifndef WEFT_CORE_OBJ_H
#define WEFT_CORE_OBJ_H

#include <stdatomic.h>

#include <stdbool.h>

#include "weft/chunk.h"
#include "weft/value.h"

struct weft_obj {
  _Atomic uint32_t refs;
  uint32_t kind;                   /* the weft_type of the value */
  void (*destroy)(weft_obj *self); /* frees the object, payload included */
};

typedef struct weft__str_obj { /* WEFT_T_STR and WEFT_T_BYTES */
  weft_obj hdr;
  size_t len;
  char data[]; /* len bytes + a NUL */
} weft__str_obj;

/* Flag in weft_obj.kind: a WEFT_T_BYTES object whose payload lives outside
 * it (weft__ext_obj), e.g. a shared-memory mapping received from a worker
 * process. weft_value_bytes() and weft_value_len() see no difference. */
#define WEFT__OBJ_EXTERNAL 0x10000u
/* Flag in weft_obj.kind: a WEFT_T_LIST object that lives inside a block
 * shared with other lists (the results of a map batch, src/map/pack.c):
 * it is freed only by its own destroy, never with free() on its address. */
#define WEFT__OBJ_ARENA 0x20000u
#define WEFT__OBJ_KIND_MASK 0xffffu

typedef struct weft__ext_obj { /* WEFT_T_BYTES | WEFT__OBJ_EXTERNAL */
  weft_obj hdr;
  size_t len;                  /* same place as in weft__str_obj */
  const void *data;            /* len bytes, owned through ud */
  void (*release)(void *ud);   /* runs when the last reference goes */
  void *ud;
} weft__ext_obj;

/* Lists and dicts hold other values, so they may nest a million deep:
 * releasing one must not recurse. When a container's last reference goes,
 * its memory is ours, and dead_next chains it to the containers still to be
 * emptied (value.c, free_containers), so any depth is freed in a loop. */
typedef struct weft__list_obj {
  weft_obj hdr;
  size_t n;
  weft_obj *dead_next; /* while being freed: the next dead container */
  weft_value items[];
} weft__list_obj;

/* WEFT_T_DICT (dict.c): string keys to values, in insertion order, as
 * Python's dict. items holds key, value, key, value...: the keys are str
 * values. slots is an open-addressing hash index of nslots (a power of 2,
 * at least twice cap) entries: entry index + 1, 0 for empty. */
typedef struct weft__dict_obj {
  weft_obj hdr;
  size_t n;            /* entries */
  weft_obj *dead_next; /* as in weft__list_obj */
  size_t cap;          /* entries items has room for */
  weft_value *items;   /* 2 * cap values */
  uint32_t *slots;
  size_t nslots;
} weft__dict_obj;

/* The values a list or dict holds (a dict's keys included, as str values):
 * *items and the count; 0 for other kinds. */
static inline size_t weft__children(const weft_value *v, weft_value **items) {
  if (v->type == WEFT_T_LIST) {
    weft__list_obj *l = (weft__list_obj *)v->as.obj;
    *items = l->items;
    return l->n;
  }
  if (v->type == WEFT_T_DICT) {
    weft__dict_obj *d = (weft__dict_obj *)v->as.obj;
    *items = d->items;
    return 2 * d->n;
  }
  *items = NULL;
  return 0;
}

/* The value under key (a str value) in dict, or NULL. */
const weft_value *weft__dict_find(const weft_value *dict,
                                  const weft_value *key);
/* The value under the len bytes at key, or NULL. */
const weft_value *weft__dict_getn(const weft_value *dict, const char *key,
                                  size_t len);
/* weft_dict_set with a key of len bytes (not NUL-terminated). */
int weft__dict_setn(weft_value *dict, const char *key, size_t len,
                    weft_value item);

/* Frees a dead list or dict (refs 0) and every container inside that dies
 * with it, without recursion. */
void weft__free_containers(weft_obj *o);

typedef struct weft__chunk_obj { /* WEFT_T_CHUNK (weft/chunk.h, chunk.c) */
  weft_obj hdr;
  uint32_t dtype;
  int32_t ndim;
  size_t count, nbytes;
  const void *data;          /* the elements: inline below, or external */
  void (*release)(void *ud); /* external elements: runs with the last ref */
  void *ud;
  int64_t shape[WEFT_CHUNK_MAX_NDIM];
} weft__chunk_obj;

/* The ud of a chunk whose elements were wrapped with this release
 * function, or NULL (another kind of value, or another function). */
void *weft__chunk_external_ud(const weft_value *v, void (*release)(void *ud));
/* Equality and printing of chunks, for weft_value_equal / _format. */
bool weft__chunk_equal(const weft_value *a, const weft_value *b);
int weft__chunk_describe(const weft_value *v, char *buf, size_t size);

typedef struct weft__ptr_obj {
  weft_obj hdr;
  void *p;
  void (*dtor)(void *p);
} weft__ptr_obj;

/* Internal value tags, never seen by task functions. */
enum {
  WEFT__T_NODE = 64, /* argument referring to another node: as.i = handle
                        (weft_node_ref in graph.h spells the same 64) */
  WEFT__T_KEYREF,    /* unresolved weft_ref: as.obj = key string object */
  WEFT__T_BAD        /* an argument conversion that failed (out of memory) */
};

/* A bytes value whose len bytes at data are not copied: release(ud) runs
 * when its last reference goes (also when this call fails: then with
 * WEFT_ENOMEM and *out none). data must stay valid and unchanged until then.
 * Thread-safe. */
int weft__bytes_external(weft_value *out, const void *data, size_t len,
                         void (*release)(void *ud), void *ud);
/* The ud of an external bytes value made with this release function, or
 * NULL (another kind of value, or another release function). */
void *weft__bytes_external_ud(const weft_value *v, void (*release)(void *ud));

static inline void weft__obj_init(weft_obj *o, uint32_t kind,
                                  void (*destroy)(weft_obj *)) {
  atomic_init(&o->refs, 1);
  o->kind = kind;
  o->destroy = destroy;
}

#endif
