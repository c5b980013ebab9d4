/* weft/error.h - error codes shared by every weft module.
 *
 * Every fallible weft call returns an int: 0 on success or one of the negative
 * WEFT_E* codes below. One X-macro table generates the codes, their names and
 * their messages so the three never drift apart. A detailed message (which
 * task, which function, which key) is kept by the object the call worked on:
 * see weft_graph_error() in weft/graph.h. */
#ifndef WEFT_ERROR_H
#define WEFT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_ERRNO_MAP(X)                                                      \
  X(EINVAL, -1, "invalid argument")                                            \
  X(ENOMEM, -2, "out of memory")                                               \
  X(ETASK, -3, "a task failed")                                                \
  X(ECYCLE, -4, "the graph has a cycle")                                       \
  X(ENOTFOUND, -5, "not found")                                                \
  X(EARITY, -6, "wrong number of arguments")                                   \
  X(ETYPE, -7, "wrong value type")                                             \
  X(EGRAPH, -8, "node of another graph")                                       \
  X(ENOTSUP, -9, "not supported (by this build, or for this value)")           \
  X(EIO, -10, "input/output error")                                            \
  X(ESYS, -11, "system call failed")                                           \
  X(EKILLED, -12, "a worker died")                                             \
  X(ECANCELED, -13, "cancelled")                                               \
  X(EEXIST, -14, "already exists")                                             \
  X(EWIRE, -15, "malformed serialised data")                                   \
  X(EBUSY, -16, "busy")                                                       \
  X(ETIMEDOUT, -17, "timed out")

typedef enum weft_errno {
  WEFT_OK = 0,
#define WEFT__ERR_ENUM(name, code, msg) WEFT_##name = code,
  WEFT_ERRNO_MAP(WEFT__ERR_ENUM)
#undef WEFT__ERR_ENUM
} weft_errno;

/* A message for a person, naming what was wrong, from calls that have no
 * object to keep it in (weft/npy.h, weft/plot.h): pass one, read text. */
typedef struct weft_errmsg {
  char text[320];
} weft_errmsg;

/* The message of an error code ("out of memory"). Never NULL; unknown codes
 * give "unknown error". Thread-safe. */
const char *weft_strerror(int err);

/* The name of an error code ("WEFT_ENOMEM"). Never NULL. Thread-safe. */
const char *weft_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
