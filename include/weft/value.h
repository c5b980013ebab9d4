/* weft/value.h - the values that flow between tasks.
 *
 * A weft_value is a small tagged value passed by value (16 bytes): none, bool,
 * int64, double, or a reference to a reference-counted heap object (string,
 * bytes, list, dict with string keys, user pointer with destructor, n-d
 * array chunk: weft/chunk.h).
 * Results of tasks are weft_values; the schedulers release them as soon as
 * no remaining task needs them.
 *
 * Ownership: a weft_value that holds a heap object owns one reference to it.
 * Copying the struct does not take a new reference: call weft_value_retain()
 * for a second owner, and weft_value_release() once per owner. Reference
 * counts are atomic, so values may be shared between threads; the contents of
 * strings, bytes, lists and dicts must not change once another owner can
 * see them.
 *
 * Depth: lists and dicts may nest to any depth (a list a million levels
 * deep); releasing, comparing and printing never recurse through them.
 * Only the wire format (weft/wire.h) limits nesting, to
 * WEFT_WIRE_MAX_DEPTH levels, so such values do not leave the process. */
#ifndef WEFT_VALUE_H
#define WEFT_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum weft_type {
  WEFT_T_NONE = 0,
  WEFT_T_BOOL,
  WEFT_T_INT,    /* int64_t */
  WEFT_T_DOUBLE, /* double */
  WEFT_T_STR,    /* immutable NUL-terminated UTF-8 text with a length */
  WEFT_T_BYTES,  /* immutable byte buffer */
  WEFT_T_LIST,   /* fixed-length list of values */
  WEFT_T_PTR,    /* user pointer with destructor; cannot leave the process */
  WEFT_T_CHUNK,  /* n-d array chunk (weft/chunk.h) */
  WEFT_T_DICT,   /* string keys to values, in insertion order */
  WEFT_T__COUNT
} weft_type;

typedef struct weft_obj weft_obj; /* opaque heap object header */

typedef struct weft_value {
  uint32_t type; /* a weft_type (weft-internal tags live above WEFT_T__COUNT) */
  uint32_t aux;  /* reserved; 0 */
  union {
    bool b;
    int64_t i;
    double d;
    weft_obj *obj;
  } as;
} weft_value;

/* Scalars: cannot fail, hold no heap memory. */
static inline weft_value weft_none(void) {
  weft_value v = {WEFT_T_NONE, 0, {.i = 0}};
  return v;
}
static inline weft_value weft_bool(bool b) {
  weft_value v = {WEFT_T_BOOL, 0, {.b = b}};
  return v;
}
static inline weft_value weft_int(int64_t i) {
  weft_value v = {WEFT_T_INT, 0, {.i = i}};
  return v;
}
static inline weft_value weft_double(double d) {
  weft_value v = {WEFT_T_DOUBLE, 0, {.d = d}};
  return v;
}

/* True when v refers to a heap object (and so owns a reference). */
static inline bool weft_value_is_obj(const weft_value *v) {
  return v->type >= WEFT_T_STR && v->type < WEFT_T__COUNT;
}

/* Heap values. Each returns 0 and sets *out (owning one reference), or
 * WEFT_ENOMEM / WEFT_EINVAL and leaves *out as none. Thread-safe. */
int weft_str_new(weft_value *out, const char *s);              /* copies s */
int weft_str_newn(weft_value *out, const char *s, size_t len); /* copies len bytes */
int weft_str_printf(weft_value *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int weft_bytes_new(weft_value *out, const void *data, size_t size); /* copies */
/* A zero-filled buffer of `size` bytes for the caller to fill before sharing. */
int weft_bytes_alloc(weft_value *out, size_t size, void **data);
/* A list of n none items; fill with weft_list_set before sharing. */
int weft_list_new(weft_value *out, size_t n);
/* A dict with no entries, with room for `hint` entries before it grows
 * (0: a few); fill with weft_dict_set before sharing. */
int weft_dict_new(weft_value *out, size_t hint);
/* Stores item under a copy of key (NUL-terminated UTF-8), taking over
 * item's reference. A key already there keeps its place in the order and
 * gets the new item (the old one is released), as in Python. WEFT_EINVAL
 * when dict is not a dict or key is NULL, WEFT_ENOMEM: item is then
 * released and the dict unchanged. */
int weft_dict_set(weft_value *dict, const char *key, weft_value item);
/* Wraps p; dtor(p) runs when the last reference goes (dtor may be NULL). */
int weft_ptr_new(weft_value *out, void *p, void (*dtor)(void *p));

/* Accessors: NULL / 0 when v is not of that type. The pointers are borrowed:
 * valid while v holds its reference. */
const char *weft_value_str(const weft_value *v);
/* The item under key, NULL when absent or dict is not a dict. */
const weft_value *weft_dict_get(const weft_value *dict, const char *key);
/* Entry i (0 <= i < weft_value_len(dict)) in insertion order: its key, its
 * item; NULL past the end or when dict is not a dict. */
const char *weft_dict_key(const weft_value *dict, size_t i);
const weft_value *weft_dict_item(const weft_value *dict, size_t i);
/* str, bytes: bytes; list: items; dict: entries; 0 for other types (a chunk's
 * sizes: weft_chunk_get) */
size_t weft_value_len(const weft_value *v);
const void *weft_value_bytes(const weft_value *v);
const weft_value *weft_list_get(const weft_value *list, size_t i);
/* Stores item at i, taking over its reference and releasing the old item.
 * WEFT_EINVAL when list is not a list or i is out of range (item released). */
int weft_list_set(weft_value *list, size_t i, weft_value item);
void *weft_value_ptr(const weft_value *v);

/* Conversions that never lose information: WEFT_ETYPE otherwise.
 * to_double accepts bool, int (exactly representable) and double; to_int64
 * accepts bool, int and integral doubles; to_bool accepts bool, int, double. */
int weft_value_to_double(const weft_value *v, double *out);
int weft_value_to_int64(const weft_value *v, int64_t *out);
int weft_value_to_bool(const weft_value *v, bool *out);

/* Another owner: returns v after taking a reference (scalars: a plain copy). */
weft_value weft_value_retain(const weft_value *v);
/* Gives up v's reference and sets *v to none. NULL is a no-op. */
void weft_value_release(weft_value *v);

/* Deep equality: same type and same contents (lists item by item, dicts
 * the same keys with equal items in any order, as in Python; doubles with
 * ==; user pointers by address). An int and a double are not equal. Any
 * depth: past 32 levels it needs 32 bytes of heap per level, and it
 * answers false if that memory cannot be had. */
bool weft_value_equal(const weft_value *a, const weft_value *b);

/* Writes a short human form, as Python's repr() would for numbers ("500",
 * "0.1", "2.0", "'text'", "[1, 2]", "{'a': 1}", "<3 bytes>", "None"...)
 * into buf (always NUL-terminated when size > 0). Returns the length the
 * full text would have, as snprintf does. Any depth: past 32 levels of
 * lists or dicts it needs 32 bytes of heap per level; if that memory
 * cannot be had the text stops there with "...". */
size_t weft_value_format(const weft_value *v, char *buf, size_t size);

const char *weft_type_name(uint32_t type); /* "int", "double", ... */

#ifdef __cplusplus
}
#endif
#endif
