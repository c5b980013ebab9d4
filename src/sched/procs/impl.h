/* procs/impl.h - what the files of the procs scheduler share. Internal.
 *
 *   procs/conn.c    a socket to or from a worker: frames in, frames out,
 *                   descriptors passed along with them (SCM_RIGHTS)
 *   procs/msg.c     the messages of the protocol below, built on the wire
 *                   format's frames and values
 *   procs/shm.c     big bytes values and chunks as sealed memfds, and their
 *                   mappings
 *   procs/fntab.c   the table of task functions the pool sends its workers
 *                   (parent side) and how a worker finds them (worker side)
 *   procs/pool.c    weft_procs: starting, watching and reaping workers
 *   procs/worker.c  the constructor that turns a spawned copy of the
 *                   program into a worker, and the worker's loop
 *   procs/sched.c   weft__sched_procs: one compute over a pool
 *
 * The protocol, over one AF_UNIX stream socket per worker, every message a
 * wire frame (docs/wire.md) of a kind in the range free for schedulers:
 *
 *   HELLO  (128) worker -> pool, once at start:
 *          u32 protocol version | u32 pid
 *   FNDEFS (129) pool -> worker: entries first .. first+count-1 of the
 *          function table (tasks name functions by their index):
 *          varint first | varint count | count x (name: varint n + bytes |
 *          module path: varint n + bytes ("" = the program) | u64 offset of
 *          the weft_fn_info from the module's load bias | u8 flags: 1 =
 *          registered in the pool's process, 2 = no module (find by name))
 *   TASK   (130) pool -> worker: u64 id | u32 node index | varint function
 *          index | key: varint n + bytes (n = 0: automatic key) |
 *          varint nargs | nargs slots
 *   RESULT (131) worker -> pool: u64 id (of the task) | i32 status (0 or a
 *          WEFT_E* code) | message: varint n + bytes | one slot (none
 *          unless status is 0)
 *   DYING  (132) worker -> pool, from a fatal signal's handler or exit():
 *          u32 how (1: signal, 2: exit status) | u32 the number; so the
 *          pool knows how a worker ended even when the program's SIGCHLD
 *          setting makes its exit status uncollectable
 *
 * A slot is u8 0 and a wire value, or u8 1 and a varint length: a bytes
 * value of that length whose contents are a sealed memfd passed with the
 * frame (SCM_RIGHTS on the frame's first byte); the frame's memfds are
 * taken in slot order. All integers are little-endian. A worker answers
 * the tasks it is sent in order, one RESULT each; it may hold results back
 * while more tasks are already waiting in its socket, and sends them all
 * before it waits for more. */
#ifndef WEFT_SCHED_PROCS_IMPL_H
#define WEFT_SCHED_PROCS_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "weft/chunk.h"
#include "weft/fn.h"
#include "weft/procs.h"
#include "weft/wire.h"

#define WEFT__PROCS_PROTO 1
#define WEFT__PROCS_ENV "WEFT_WORKER_FD" /* "fd:ppid:worker id:shm_min" */
#define WEFT__PROCS_DEPTH 64             /* most tasks in flight per worker */
#define WEFT__PROCS_MAX_FDS 64           /* memfds per frame; more go inline */
#define WEFT__PROCS_SHM_MIN (64 * 1024)
#define WEFT__PROCS_START_MS 10000

/* 1 in an AddressSanitizer build: workers then run LeakSanitizer before
 * they _exit (procs/worker.c), and weft_procs_free lets them exit instead
 * of killing them (procs/pool.c), so a leak in a worker is reported. */
#if defined(__SANITIZE_ADDRESS__)
#define WEFT__PROCS_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT__PROCS_LEAK_CHECK 1
#endif
#endif
#ifndef WEFT__PROCS_LEAK_CHECK
#define WEFT__PROCS_LEAK_CHECK 0
#endif
#define WEFT__PROCS_EXIT_MS 5000 /* LEAK_CHECK: time a worker has to exit */

enum {
  WEFT__PK_HELLO = WEFT_WIRE_KIND_USER,
  WEFT__PK_FNDEFS,
  WEFT__PK_TASK,
  WEFT__PK_RESULT,
  WEFT__PK_DYING,
};
#define WEFT__DYING_SIGNAL 1u
#define WEFT__DYING_EXIT 2u

/* ---- connections (procs/conn.c) ---- */

typedef struct weft__fdat {
  size_t at; /* offset in out of the frame the descriptor goes with */
  int fd;    /* owned: closed once sent or dropped */
} weft__fdat;

typedef struct weft__conn {
  int fd;
  bool nonblock;
  weft_buf in; /* received bytes; in.data[in_off .. in.len) unparsed */
  size_t in_off;
  int *rfds; /* received descriptors not yet taken, rfds[roff..nr) */
  size_t nr, roff, rcap;
  weft_buf out; /* bytes to send, out.data[out_off .. out.len) left */
  size_t out_off;
  weft__fdat *ofds; /* descriptors to send, ofds[ooff..no) */
  size_t no, ooff, ocap;
} weft__conn;

void weft__conn_init(weft__conn *c, int fd, bool nonblock);
/* Closes the socket and every descriptor still queued either way, frees
 * the buffers. The conn can be initialised again. */
void weft__conn_close(weft__conn *c);
/* Reads what has arrived (non-blocking conn) or waits for some bytes
 * (blocking). 0, 1 at end of stream, WEFT_EIO, WEFT_ENOMEM. */
int weft__conn_fill(weft__conn *c);
/* The next whole frame: 0 with *frame and *len (valid until the next fill),
 * 1 when none is complete yet, WEFT_EWIRE / WEFT_ENOTSUP for garbage. */
int weft__conn_next(weft__conn *c, const uint8_t **frame, size_t *len);
/* The next received descriptor (the caller owns it), or -1. */
int weft__conn_take_fd(weft__conn *c);
/* Queues descriptor fd (taken over, also on failure) to travel with the
 * frame that starts at offset `at` of out. 0 or WEFT_ENOMEM. */
int weft__conn_attach(weft__conn *c, size_t at, int fd);
/* Drops (closes) the descriptors queued for offsets >= at: the frame that
 * started there was cut back. */
void weft__conn_detach_from(weft__conn *c, size_t at);
/* Sends what is queued. Non-blocking: 0 when all is sent, 1 when the
 * socket is full (call again when writable). Blocking: 0 when all is sent.
 * WEFT_EIO when the peer is gone (errno). */
int weft__conn_flush(weft__conn *c);
static inline bool weft__conn_pending(const weft__conn *c) {
  return c->out_off < c->out.len;
}

/* ---- shared memory (procs/shm.c) ---- */

/* A descriptor of a sealed memfd holding the bytes of v, a bytes value or
 * a chunk's elements (a new one, or a duplicate when v itself came through
 * shared memory). The caller owns it. -1 when that failed (errno). */
int weft__shm_fd(const weft_value *v);
/* *out: a read-only bytes value of len bytes mapping memfd fd (taken over,
 * also on failure). 0, WEFT_EWIRE (fd too small or not a memfd),
 * WEFT_ESYS, WEFT_ENOMEM. */
int weft__shm_value(int fd, size_t len, weft_value *out);
/* The same for a chunk of that dtype and shape whose nbytes elements the
 * memfd holds; WEFT_EWIRE also when the shape does not make nbytes. */
int weft__shm_chunk(int fd, size_t nbytes, weft_dtype dtype, int ndim,
                    const int64_t *shape, weft_value *out);

/* ---- messages (procs/msg.c) ---- */

/* A read cursor over a payload. */
typedef struct weft__prd {
  const uint8_t *p, *end;
} weft__prd;

typedef struct weft__ptask {
  uint64_t id;
  uint32_t task;
  uint32_t fn;
  const char *key; /* NUL-terminated copy, or NULL for automatic */
  size_t nargs;
  weft_value *args; /* owned by the message struct */
  size_t cap;
  char *keybuf;
  size_t keycap;
} weft__ptask;

typedef struct weft__presult {
  uint64_t id;
  int status;
  char msg[512];
  weft_value value;
} weft__presult;

/* Encoders append one frame to c's out queue (descriptors attached). On
 * failure nothing is queued; err tells why (WEFT_ENOTSUP: a value that
 * cannot leave the process). */
int weft__pmsg_put_hello(weft__conn *c);
int weft__pmsg_put_task(weft__conn *c, uint64_t id, uint32_t task, uint32_t fn,
                        const char *key, size_t nargs, const weft_value *args,
                        size_t shm_min, weft_wire_error *err);
int weft__pmsg_put_result(weft__conn *c, uint64_t id, int status,
                          const char *msg, const weft_value *v, size_t shm_min,
                          weft_wire_error *err);
/* Opens a frame from weft__conn_next: its kind and payload cursor. */
int weft__pmsg_open(const uint8_t *frame, size_t len, unsigned *kind,
                    weft__prd *payload);
int weft__pmsg_get_hello(weft__prd *r, uint32_t *proto, uint32_t *pid);
/* Decoders take the frame's descriptors from c. On failure nothing leaks. */
int weft__pmsg_get_task(weft__prd *r, weft__conn *c, weft__ptask *t,
                        weft_wire_error *err);
void weft__ptask_clear(weft__ptask *t); /* releases args, keeps buffers */
void weft__ptask_free(weft__ptask *t);
int weft__pmsg_get_result(weft__prd *r, weft__conn *c, weft__presult *res,
                          weft_wire_error *err);

/* Cursor reads: 0 or WEFT_EWIRE. */
int weft__prd_u8(weft__prd *r, uint8_t *x);
int weft__prd_u32(weft__prd *r, uint32_t *x);
int weft__prd_u64(weft__prd *r, uint64_t *x);
int weft__prd_varint(weft__prd *r, uint64_t *x);
int weft__prd_bytes(weft__prd *r, const uint8_t **p, size_t *n);
/* Appends to a buffer. 0 or WEFT_ENOMEM. */
int weft__pput_u8(weft_buf *b, uint8_t x);
int weft__pput_u32(weft_buf *b, uint32_t x);
int weft__pput_u64(weft_buf *b, uint64_t x);
int weft__pput_varint(weft_buf *b, uint64_t x);
int weft__pput_bytes(weft_buf *b, const void *p, size_t n);

/* ---- the function table (procs/fntab.c) ---- */

typedef struct weft__fnent {
  const weft_fn_info *info;
  char *module;    /* dladdr's object: "" for the program; NULL: unknown */
  uint64_t offset; /* of info from the module's load bias */
  bool registered;
} weft__fnent;

/* Parent side: every function a worker may be asked to run, by index. */
typedef struct weft__fntab {
  weft__fnent *ents;
  uint32_t n, cap;
  uint32_t *slots; /* open addressing on the info pointer: index + 1 */
  size_t nslots;
} weft__fntab;

/* Adds every registered function not in the table yet. 0 or WEFT_ENOMEM. */
int weft__fntab_sync(weft__fntab *t);
/* The index of fn, added when missing. Only a function registered under its
 * name is added (weft_fn_registered): else WEFT_ENOTFOUND / WEFT_EEXIST
 * with a message in msg that says how to register it; or WEFT_ENOMEM. */
int weft__fntab_index(weft__fntab *t, const weft_fn_info *fn, uint32_t *idx,
                      char *msg, size_t msgsize);
/* Queues a FNDEFS frame for entries [first, t->n) on c. */
int weft__fntab_put_defs(const weft__fntab *t, uint32_t first, weft__conn *c);
void weft__fntab_free(weft__fntab *t);

/* Worker side: the functions the pool defined, resolved in this process. */
typedef struct weft__fnres {
  const weft_fn_info **fns; /* NULL where resolving failed: errs says why */
  char **errs;
  uint32_t n, cap;
} weft__fnres;

/* Reads a FNDEFS payload and resolves each entry. 0, or WEFT_EWIRE /
 * WEFT_ENOMEM (a bad entry is not an error: it is recorded in errs). */
int weft__fnres_add(weft__fnres *t, weft__prd *r);
void weft__fnres_free(weft__fnres *t);

/* ---- the pool (procs/pool.c) ---- */

typedef enum {
  WEFT__W_DEAD = 0,
  WEFT__W_STARTING, /* spawned; its HELLO has not come yet */
  WEFT__W_READY,
} weft__wstate;

typedef struct weft__pworker {
  int id;
  pid_t pid;
  weft__wstate state;
  weft__conn conn;
  uint32_t fns_sent; /* function table entries this worker has */
  uint64_t deadline; /* STARTING: when it counts as failed (ns) */
  int ninflight;     /* tasks sent and not answered, a ring from head: */
  int head;          /* the one at head is running, the others queued */
  uint32_t inflight[WEFT__PROCS_DEPTH];
  uint64_t inflight_id[WEFT__PROCS_DEPTH];
  int pidfd;     /* a pidfd of the process (readable once it has
                    exited), or -1 where the kernel has none */
  char why[256]; /* after a death: "signal 11, Segmentation fault" */
} weft__pworker;

struct weft__spawn_job; /* procs/pool.c */

struct weft_procs {
  int n;
  weft__pworker *w;
  int retries;
  int start_ms;
  size_t shm_min;
  uint64_t next_id;
  weft__fntab fns;
  pthread_mutex_t mu; /* one compute at a time */
  /* The thread that spawns the workers (see procs/pool.c), and its one
   * job at a time. */
  pthread_t spawner;
  bool spawner_up, quit;
  pthread_mutex_t smu;
  pthread_cond_t scv;
  struct weft__spawn_job *job;
};

/* weft_procs_new with a message saying what failed. */
int weft__procs_new(int workers, const weft_procs_opts *opts, weft_procs **out,
                    char *msg, size_t msgsize);
/* Starts a process for slot w (DEAD): STARTING, its function table
 * queued. 0, or WEFT_ESYS / WEFT_ENOMEM with msg set. */
int weft__procs_spawn(weft_procs *p, weft__pworker *w, char *msg,
                      size_t msgsize);
/* Makes sure slot w's process is gone (SIGKILL unless it has exited on
 * its own), reaps it, describes how it ended in w->why (unless already
 * set), drops its connection: DEAD. */
void weft__procs_reap(weft_procs *p, weft__pworker *w);
/* SIGKILL to worker w's process (through its pidfd when it has one). */
void weft__procs_kill(const weft__pworker *w);
/* True when worker w's process has exited (a zombie, or already reaped by
 * someone else), whatever its socket says: a background child of a task
 * may hold a copy of it. Does not reap. */
bool weft__procs_exited(const weft__pworker *w);
/* Queues the function table entries w lacks. */
int weft__procs_send_fns(weft_procs *p, weft__pworker *w);

typedef int (*weft__result_fn)(void *ud, weft__pworker *w, weft__presult *res);
/* Reads what worker w sent: HELLO makes it READY; each RESULT goes to fn
 * (which takes over res->value). Returns 0, or 1 when the worker is gone
 * or broke the protocol (w->why set): the caller reaps it; or what fn
 * returned when not 0. */
int weft__procs_pump(weft_procs *p, weft__pworker *w, weft__result_fn fn,
                     void *ud);
/* Reads whatever worker w sent before it exited (results, its DYING
 * report), without waiting, as weft__procs_pump does. */
void weft__procs_drain(weft_procs *p, weft__pworker *w, weft__result_fn fn,
                       void *ud);

/* Worker side entry (procs/worker.c); also keeps that file linked in
 * static builds, where its constructor must be present. */
int weft__procs_worker_linked(void);

int weft__procs_sched_linked(void); /* procs/sched.c: see there */

uint64_t weft__procs_now(void); /* CLOCK_MONOTONIC ns */

#endif
