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

typedef struct weft__list_obj {
  weft_obj hdr;
  size_t n;
  weft_value items[];
} weft__list_obj;

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
