/* seed003_key_handlers.c - seed 003 (event-driven programming): turtle's
 * key handlers.
 *
 *   window.onkey(moveForward, "Up")      # nathan.forward(50)
 *   window.onkey(moveLeft, "Left")       # nathan.left(30)
 *   window.onkey(moveRight, "Right")     # nathan.right(30)
 *   window.listen(); window.mainloop()
 *
 * In C: onkey() fills a table of handlers; a reader on the client's I/O
 * pool (weft_submit_io) reads raw bytes from a file descriptor, decodes the
 * arrow keys (ESC [ A / D / C) and pushes each key as an event into a weft
 * stream; the stream's sink, on the client's pool and in order, is the
 * event loop that calls the handler bound to the key. The handlers move a
 * marker (the turtle: an arrow showing its heading) in a 500x500 window
 * drawn as text, 20 units per character.
 *
 *   example_seed003_key_handlers -i     keys from the terminal (raw mode):
 *                                       arrows move, q quits
 *   ... | example_seed003_key_handlers -   keys from a pipe
 *   example_seed003_key_handlers        (and `weft demo`): a script of keys
 *                                       fed through a pipe, no terminal
 * With a script or a pipe, the final position and heading are checked
 * against the same moves computed directly. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "weft.h"

#define KH_SIZE 500   /* turtle.setup(500, 500) */
#define KH_CELL 20    /* units per character */
#define KH_COLS (KH_SIZE / KH_CELL + 1)
#define KH_ROWS (KH_SIZE / (2 * KH_CELL) + 1) /* characters are tall */

typedef struct kh_turtle {
  double x, y, heading; /* heading in degrees, 0 = east, counter-clockwise */
  int moves;
  char trail[KH_ROWS][KH_COLS];
  int live; /* redraw after each event (terminal mode) */
} kh_turtle;

static kh_turtle kh_nathan;

static void kh_forward(kh_turtle *t, double d) {
  double r = t->heading * 3.14159265358979323846 / 180.0;
  t->x += d * cos(r);
  t->y += d * sin(r);
  /* the window's edge stops the turtle, as a wall */
  double h = KH_SIZE / 2.0;
  t->x = t->x > h ? h : t->x < -h ? -h : t->x;
  t->y = t->y > h ? h : t->y < -h ? -h : t->y;
}
static void kh_turn(kh_turtle *t, double deg) {
  t->heading = fmod(t->heading + deg + 360.0, 360.0);
}

static void kh_mark(kh_turtle *t) {
  int col = (int)lround((t->x + KH_SIZE / 2.0) / KH_CELL);
  int row = (int)lround((KH_SIZE / 2.0 - t->y) / (2 * KH_CELL));
  t->trail[row][col] = 1;
}

static void kh_draw(const kh_turtle *t, FILE *out, const char *eol) {
  static const char arrows[] = ">/^\\</v\\"; /* 8 directions, 45 deg each */
  int col = (int)lround((t->x + KH_SIZE / 2.0) / KH_CELL);
  int row = (int)lround((KH_SIZE / 2.0 - t->y) / (2 * KH_CELL));
  int dir = (int)lround(t->heading / 45.0) % 8;
  fprintf(out, "+");
  for (int c = 0; c < KH_COLS; c++)
    fputc('-', out);
  fprintf(out, "+%s", eol);
  for (int r = 0; r < KH_ROWS; r++) {
    fputc('|', out);
    for (int c = 0; c < KH_COLS; c++)
      fputc(r == row && c == col ? arrows[dir] : t->trail[r][c] ? '.' : ' ',
            out);
    fprintf(out, "|%s", eol);
  }
  fprintf(out, "+");
  for (int c = 0; c < KH_COLS; c++)
    fputc('-', out);
  fprintf(out, "+%s", eol);
  fprintf(out, "Event Handling 101: x %.1f y %.1f heading %.0f, %d events%s",
          t->x, t->y, t->heading, t->moves, eol);
}

/* ---- the handlers, as in the seed ---- */
static void moveForward(void) {
  kh_mark(&kh_nathan);
  kh_forward(&kh_nathan, 50);
}
static void moveLeft(void) { kh_turn(&kh_nathan, 30); }
static void moveRight(void) { kh_turn(&kh_nathan, -30); }

/* ---- window.onkey: a table of handlers, and the event loop ---- */
typedef void (*kh_handler)(void);
typedef struct kh_binding {
  const char *key;
  kh_handler fn;
} kh_binding;
static kh_binding kh_bindings[8];
static int kh_nbindings;

static void onkey(kh_handler fn, const char *key) {
  for (int i = 0; i < kh_nbindings; i++)
    if (!strcmp(kh_bindings[i].key, key)) {
      kh_bindings[i].fn = fn;
      return;
    }
  if (kh_nbindings < 8)
    kh_bindings[kh_nbindings++] = (kh_binding){key, fn};
}

/* The stream's sink: one event at a time, in the order the keys came. */
static void kh_dispatch(uint64_t k, const weft_value *ev, void *ud) {
  (void)k;
  (void)ud;
  const char *key = weft_value_str(ev);
  for (int i = 0; key && i < kh_nbindings; i++)
    if (!strcmp(kh_bindings[i].key, key)) {
      kh_bindings[i].fn();
      kh_nathan.moves++;
      if (kh_nathan.live) {
        printf("\033[H\033[2J"); /* home, clear */
        kh_draw(&kh_nathan, stdout, "\r\n");
        printf("arrows move the turtle, q quits\r\n");
        fflush(stdout);
      }
    }
}

/* Decodes raw bytes into key names; returns the name for byte b or NULL
 * (state carries an escape sequence across reads). */
static const char *kh_decode(int *state, unsigned char b) {
  if (*state == 0) {
    if (b == 0x1b)
      *state = 1;
    return b == 'q' || b == 3 /* Ctrl-C in raw mode */ ? "q" : NULL;
  }
  if (*state == 1) {
    *state = b == '[' || b == 'O' ? 2 : 0;
    return NULL;
  }
  *state = 0;
  return b == 'A' ? "Up" : b == 'B' ? "Down" : b == 'C' ? "Right"
       : b == 'D' ? "Left" : NULL;
}

/* The reader, a blocking task on the I/O pool: keys from fd to the
 * stream until end of file or q. Returns the number of keys. */
static int kh_reader(weft_task_ctx *ctx, const weft_value *a, size_t n,
                     weft_value *out) {
  (void)n;
  int64_t fd = a[0].as.i;
  weft_stream *src = weft_value_ptr(&a[1]);
  int state = 0;
  int64_t keys = 0;
  unsigned char buf[64];
  for (;;) {
    ssize_t r = read((int)fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return weft_fail(ctx, "reading keys: %s", strerror(errno));
    if (r == 0)
      break;
    for (ssize_t i = 0; i < r; i++) {
      const char *key = kh_decode(&state, buf[i]);
      if (!key)
        continue;
      if (!strcmp(key, "q")) {
        *out = weft_int(keys);
        return 0;
      }
      weft_value v;
      if (weft_str_new(&v, key) == 0 && weft_stream_push(src, v) == 0)
        keys++;
    }
  }
  *out = weft_int(keys);
  return 0;
}
WEFT_REGISTER_ARITY(kh_reader, 2);

/* The demo's script: arrows as a terminal sends them. */
static const char kh_script[] = "UUULUULUUUURRRUUUUULLLLLLUUUUUU"
                                "RRRRUUUULLUUUUUUUUUU";

static int kh_run(int fd, int live, const char *script) {
  memset(&kh_nathan, 0, sizeof kh_nathan);
  kh_nathan.live = live;
  kh_nbindings = 0;
  onkey(moveForward, "Up");
  onkey(moveLeft, "Left");
  onkey(moveRight, "Right");

  weft_client *c;
  if (weft_client_new(NULL, &c)) {
    fprintf(stderr, "seed003_key_handlers: cannot start a client\n");
    return 1;
  }
  weft_stream *events = weft_stream_source(c); /* window.listen() */
  if (!events || weft_stream_sink(events, kh_dispatch, NULL)) {
    fprintf(stderr, "seed003_key_handlers: cannot build the event stream\n");
    weft_client_close(c);
    return 1;
  }
  weft_value ptr;
  weft_ptr_new(&ptr, events, NULL);
  weft_future *reader = weft_submit_io(c, kh_reader, fd, ptr); /* mainloop */
  weft_value nkeys;
  int rc = weft_future_result(reader, &nkeys, -1);
  if (rc)
    fprintf(stderr, "seed003_key_handlers: %s\n", weft_future_error(reader));
  weft_future_release(reader);
  weft_stream_flush(c, -1);
  weft_client_close(c);
  if (live)
    return rc ? 1 : 0;

  kh_draw(&kh_nathan, stdout, "\n");
  if (!script)
    return rc ? 1 : 0;
  /* the same moves, directly */
  kh_turtle want;
  memset(&want, 0, sizeof want);
  for (const char *p = script; *p; p++) {
    if (*p == 'U')
      kh_forward(&want, 50);
    else
      kh_turn(&want, *p == 'L' ? 30 : -30);
  }
  int ok = !rc && nkeys.as.i == (int64_t)strlen(script) &&
           kh_nathan.moves == (int)strlen(script) &&
           fabs(want.x - kh_nathan.x) < 1e-9 &&
           fabs(want.y - kh_nathan.y) < 1e-9 &&
           want.heading == kh_nathan.heading;
  printf("seed003_key_handlers: %lld keys through the client, final "
         "position %s the direct computation (x %.1f y %.1f heading %.0f)\n",
         (long long)nkeys.as.i, ok ? "matches" : "DOES NOT match", want.x,
         want.y, want.heading);
  return ok ? 0 : 1;
}

/* The script through a pipe, as if typed. */
static int kh_scripted(void) {
  int p[2];
  if (pipe(p)) {
    perror("pipe");
    return 1;
  }
  printf("seed003_key_handlers: feeding the keys %s (U: Up, L: Left, "
         "R: Right) through a pipe\n", kh_script);
  for (const char *s = kh_script; *s; s++) {
    char seq[3] = {0x1b, '[', *s == 'U' ? 'A' : *s == 'L' ? 'D' : 'C'};
    if (write(p[1], seq, 3) != 3) {
      perror("write");
      return 1;
    }
  }
  close(p[1]); /* end of the keys */
  int rc = kh_run(p[0], 0, kh_script);
  close(p[0]);
  return rc;
}

int weft_example_seed003_key_handlers(void) { return kh_scripted(); }

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "-")) /* keys from a pipe */
    return kh_run(0, 0, NULL);
  if (argc > 1 && !strcmp(argv[1], "-i")) {
    if (!isatty(0)) {
      fprintf(stderr, "-i needs a terminal on stdin (or use -)\n");
      return 2;
    }
    struct termios old, raw;
    tcgetattr(0, &old);
    raw = old;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(0, TCSANOW, &raw);
    printf("\033[H\033[2Jarrows move the turtle, q quits\r\n");
    fflush(stdout);
    int rc = kh_run(0, 1, NULL);
    tcsetattr(0, TCSANOW, &old);
    printf("\n");
    return rc;
  }
  if (argc > 1) {
    fprintf(stderr, "usage: %s [-i | -]\n", argv[0]);
    return 2;
  }
  return kh_scripted();
}
#endif
