/* obj.h - the header every reference-counted heap value starts with.
 *
 * Internal to weft. Strings, bytes, lists and user pointers are laid out
 * here; array chunks (a later module) add their own kind with a destructor,
 * so weft_value_release never needs to know every kind. */
#ifndef WEFT_CORE_OBJ_H
#define WEFT_CORE_OBJ_H

#include <stdatomic.h>

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

typedef struct weft__list_obj {
  weft_obj hdr;
  size_t n;
  weft_value items[];
} weft__list_obj;

typedef struct weft__ptr_obj {
  weft_obj hdr;
  void *p;
  void (*dtor)(void *p);
} weft__ptr_obj;

/* Internal value tags, never seen by task functions. */
enum {
  WEFT__T_NODE = 64, /* argument referring to another node: as.i = handle */
  WEFT__T_KEYREF,    /* unresolved weft_ref: as.obj = key string object */
  WEFT__T_BAD        /* an argument conversion that failed (out of memory) */
};

static inline void weft__obj_init(weft_obj *o, uint32_t kind,
                                  void (*destroy)(weft_obj *)) {
  atomic_init(&o->refs, 1);
  o->kind = kind;
  o->destroy = destroy;
}

#endif
