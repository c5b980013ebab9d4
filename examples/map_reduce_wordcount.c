/* map_reduce_wordcount.c - the classic map-reduce: counting the words of a
 * folder of text files (seed 000: "map-reduce is a special case" of a task
 * graph). The example writes its own folder of text files into a temporary
 * directory, then counts their words three ways and checks that all agree:
 *
 *   1. sequentially: every file read and counted in one loop;
 *   2. weft_map_reduce, at once: map = count the words of one file, reduce =
 *      merge two counts; over worker processes when the build has them (the
 *      file names travel, each worker reads its files), else threads;
 *   3. weft_map_reduce_nodes, lazily: the same map and a balanced tree of
 *      merges added to a graph, computed afterwards.
 *
 * A count is a value that can travel between processes: a string of
 * "word<TAB>count<LF>" lines sorted by word. Merging two such strings is a
 * merge of two sorted lists, summing the counts of words in both:
 * associative (and commutative), as a reduce function must be. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft.h"

/* ---- counts as sorted "word\tcount\n" text ---- */

typedef struct wc_buf {
  char *p;
  size_t len, cap;
} wc_buf;

static int wc_put(wc_buf *b, const char *w, size_t wl, uint64_t count) {
  if (b->len + wl + 32 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->len + wl + 32)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
      return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, w, wl);
  b->len += wl;
  b->len += (size_t)snprintf(b->p + b->len, b->cap - b->len, "\t%" PRIu64 "\n",
                             count);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Counts the words (letters and apostrophes, lower-cased) of text[0..len)
 * into a sorted count text. NULL when out of memory. */
static char *count_words(const char *text, size_t len) {
  size_t nw = 0, cap = 1024;
  char **words = malloc(cap * sizeof *words);
  char *copy = malloc(len + 1);
  wc_buf out = {NULL, 0, 0};
  if (!words || !copy)
    goto fail;
  size_t j = 0;
  for (size_t i = 0; i <= len; i++) {
    int c = i < len ? (unsigned char)text[i] : ' ';
    if (isalpha(c) || (c == '\'' && j && i + 1 < len &&
                       isalpha((unsigned char)text[i + 1]))) {
      copy[i] = (char)tolower(c);
      j++;
      continue;
    }
    if (j) {
      if (nw == cap) {
        char **w = realloc(words, 2 * cap * sizeof *words);
        if (!w)
          goto fail;
        words = w;
        cap *= 2;
      }
      words[nw++] = copy + i - j;
      j = 0;
    }
    if (i < len)
      copy[i] = '\0';
  }
  copy[len] = '\0';
  qsort(words, nw, sizeof *words, cmp_str);
  if (wc_put(&out, "", 0, 0)) /* allocates; removed below */
    goto fail;
  out.len = 0;
  for (size_t i = 0; i < nw;) {
    size_t k = i;
    while (k < nw && strcmp(words[k], words[i]) == 0)
      k++;
    if (wc_put(&out, words[i], strlen(words[i]), k - i))
      goto fail;
    i = k;
  }
  out.p[out.len] = '\0';
  free(words);
  free(copy);
  return out.p;
fail:
  free(words);
  free(copy);
  free(out.p);
  return NULL;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 65536, n = 0;
  char *p = malloc(cap);
  while (p) {
    n += fread(p + n, 1, cap - n, f);
    if (n < cap)
      break;
    char *q = realloc(p, cap * 2);
    if (!q) {
      free(p);
      p = NULL;
      break;
    }
    p = q;
    cap *= 2;
  }
  fclose(f);
  *len = n;
  return p;
}

/* map: the path of a text file -> its counts. */
static int wordcount_file(weft_task_ctx *ctx, const weft_value *args,
                          size_t nargs, weft_value *out) {
  (void)nargs;
  const char *path = weft_value_str(&args[0]);
  if (!path)
    return weft_fail(ctx, "expected a file name, got a %s",
                     weft_type_name(args[0].type));
  size_t len;
  char *text = read_file(path, &len);
  if (!text)
    return weft_fail(ctx, "cannot read %s: %s", path, strerror(errno));
  char *counts = count_words(text, len);
  free(text);
  if (!counts)
    return weft_fail(ctx, "out of memory counting %s", path);
  int rc = weft_str_new(out, counts);
  free(counts);
  return rc;
}
WEFT_REGISTER_ARITY(wordcount_file, 1);

/* One line of a count text: the word, its length and its count. */
static const char *next_line(const char *p, const char **w, size_t *wl,
                             uint64_t *count) {
  if (!*p)
    return NULL;
  const char *tab = strchr(p, '\t');
  if (!tab)
    return NULL;
  *w = p;
  *wl = (size_t)(tab - p);
  char *end;
  *count = strtoull(tab + 1, &end, 10);
  return *end == '\n' ? end + 1 : end;
}

/* reduce: two counts -> one (a merge of two sorted lists). */
static int wordcount_merge(weft_task_ctx *ctx, const weft_value *args,
                           size_t nargs, weft_value *out) {
  (void)nargs;
  const char *a = weft_value_str(&args[0]), *b = weft_value_str(&args[1]);
  if (!a || !b)
    return weft_fail(ctx, "expected two counts");
  wc_buf m = {NULL, 0, 0};
  const char *wa = NULL, *wb = NULL;
  size_t la = 0, lb = 0;
  uint64_t ca = 0, cb = 0;
  const char *pa = next_line(a, &wa, &la, &ca);
  const char *pb = next_line(b, &wb, &lb, &cb);
  int rc = wc_put(&m, "", 0, 0);
  m.len = 0;
  while (!rc && (pa || pb)) {
    int c;
    if (!pa)
      c = 1;
    else if (!pb)
      c = -1;
    else {
      size_t l = la < lb ? la : lb;
      c = memcmp(wa, wb, l);
      if (!c)
        c = la < lb ? -1 : la > lb ? 1 : 0;
    }
    if (c <= 0) {
      rc = wc_put(&m, wa, la, ca + (c == 0 ? cb : 0));
      pa = next_line(pa, &wa, &la, &ca);
      if (c == 0)
        pb = next_line(pb, &wb, &lb, &cb);
    } else {
      rc = wc_put(&m, wb, lb, cb);
      pb = next_line(pb, &wb, &lb, &cb);
    }
  }
  if (!rc)
    rc = weft_str_newn(out, m.p, m.len);
  free(m.p);
  return rc ? weft_fail(ctx, "out of memory merging counts") : 0;
}
WEFT_REGISTER_ARITY(wordcount_merge, 2);

/* ---- the folder of text files ---- */

static const char *const vocab[] = {
    "the",    "a",        "of",     "and",     "to",        "in",
    "task",   "graph",    "weft",   "thread",  "process",   "worker",
    "value",  "result",   "chunk",  "array",   "scheduler", "map",
    "reduce", "compute",  "lazy",   "delayed", "parallel",  "core",
    "memory", "function", "node",   "tree",    "batch",     "pool",
    "it's",   "don't",    "dask",   "joblib",  "python",    "C",
    "fast",   "slow",     "square", "prime"};
#define NVOCAB (sizeof vocab / sizeof vocab[0])

/* Writes nfiles files of Zipf-like text into dir; their paths into paths. */
static int write_corpus(const char *dir, int nfiles, char paths[][600]) {
  uint64_t s = 0x3c6ef372fe94f82bull;
  for (int f = 0; f < nfiles; f++) {
    snprintf(paths[f], 600, "%.500s/text%02d.txt", dir, f % 100);
    FILE *fp = fopen(paths[f], "w");
    if (!fp)
      return -1;
    int words = 2000 + f * 500;
    for (int w = 0, col = 0; w < words; w++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      double u = (double)(s >> 11) * 0x1.0p-53;
      size_t k = (size_t)(u * u * u * (double)NVOCAB); /* frequent first */
      char word[32];
      snprintf(word, sizeof word, "%s", vocab[k]);
      if (w % 11 == 0) /* a sentence starts: capitalised */
        word[0] = (char)toupper((unsigned char)word[0]);
      const char *sep = (w % 11 == 10) ? ". " : (s >> 60) == 3 ? ", " : " ";
      col += fprintf(fp, "%s%s", word, sep);
      if (col > 70) {
        fputc('\n', fp);
        col = 0;
      }
    }
    if (fclose(fp))
      return -1;
  }
  return 0;
}

static void show_top(const char *counts, int top) {
  /* The `top` most frequent words, by a few passes over the count text. */
  uint64_t last = UINT64_MAX;
  int shown = 0;
  printf("most frequent words:");
  while (shown < top) {
    uint64_t best = 0;
    const char *w, *p = counts;
    size_t wl;
    uint64_t c;
    while ((p = next_line(p, &w, &wl, &c)))
      if (c < last && c > best)
        best = c;
    if (!best)
      break;
    p = counts;
    while ((p = next_line(p, &w, &wl, &c)) && shown < top)
      if (c == best) {
        printf(" %.*s=%" PRIu64, (int)wl, w, c);
        shown++;
      }
    last = best;
  }
  printf("\n");
}

int weft_example_map_reduce_wordcount(void);
int weft_example_map_reduce_wordcount(void) {
  enum { NFILES = 12 };
  char dir[512], paths[NFILES][600];
  for (int f = 0; f < NFILES; f++)
    paths[f][0] = '\0';
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/weft-wordcount-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("map_reduce_wordcount: mkdtemp");
    return 1;
  }
  int ok = write_corpus(dir, NFILES, paths) == 0;
  if (!ok)
    perror("map_reduce_wordcount: writing the text files");
  printf("map_reduce_wordcount: counting the words of %d text files in %s\n",
         NFILES, dir);

  /* 1. Sequentially: all the text in one count. */
  char *all = NULL, *seq = NULL;
  size_t total = 0;
  for (int f = 0; f < NFILES && ok; f++) {
    size_t len;
    char *t = read_file(paths[f], &len);
    char *grown = t ? realloc(all, total + len + 1) : NULL;
    if (!grown) {
      free(t);
      ok = 0;
      break;
    }
    all = grown;
    memcpy(all + total, t, len);
    total += len;
    all[total++] = '\n';
    free(t);
  }
  if (ok && !(seq = count_words(all, total)))
    ok = 0;
  free(all);

  weft_value in[NFILES];
  for (int f = 0; f < NFILES; f++)
    in[f] = weft_none();
  for (int f = 0; f < NFILES && ok; f++)
    ok = weft_str_new(&in[f], paths[f]) == 0;

  /* 2. At once: weft_map_reduce, one file per item. */
  weft_value eager = weft_none(), lazy = weft_none();
  char err[1024];
  if (ok) {
    weft_map_opts o;
    weft_map_opts_init(&o);
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    o.batch_size = 1;
    int procs = weft_scheduler_available(WEFT_SCHED_PROCS);
    o.scheduler = procs ? WEFT_SCHED_PROCS : WEFT_SCHED_THREADS;
    printf("weft_map_reduce(wordcount_file, wordcount_merge) over %s\n",
           procs ? "worker processes"
                 : "threads (this build has no procs scheduler)");
    if (weft_map_reduce(WEFT_FN(wordcount_file), WEFT_FN(wordcount_merge),
                        NFILES, in, &eager, &o)) {
      fprintf(stderr, "map_reduce_wordcount: %s\n", err);
      ok = 0;
    }
  }

  /* 3. Lazily: the map and the tree of merges in a graph. */
  weft_graph *g = weft_graph_new();
  if (ok && g) {
    weft_node *files[NFILES];
    for (int f = 0; f < NFILES; f++)
      files[f] = weft_literal(g, weft_value_retain(&in[f]));
    weft_node *root = weft_map_reduce_nodes(
        g, WEFT_FN(wordcount_file), WEFT_FN(wordcount_merge), NFILES, files);
    printf("weft_map_reduce_nodes: a graph of %zu tasks (%d reads, %d "
           "merges), computed on threads\n",
           weft_graph_size(g) - NFILES, NFILES, NFILES - 1);
    if (weft_compute1(g, root, &lazy, NULL)) {
      fprintf(stderr, "map_reduce_wordcount: %s\n", weft_graph_error(g));
      ok = 0;
    }
  }
  weft_graph_free(g);

  if (ok) {
    const char *e = weft_value_str(&eager), *l = weft_value_str(&lazy);
    size_t distinct = 0;
    uint64_t words = 0, c;
    const char *w, *p = seq;
    size_t wl;
    while ((p = next_line(p, &w, &wl, &c))) {
      distinct++;
      words += c;
    }
    printf("%" PRIu64 " words, %zu distinct\n", words, distinct);
    show_top(seq, 8);
    int same_e = e && strcmp(e, seq) == 0, same_l = l && strcmp(l, seq) == 0;
    printf("eager count equals the sequential count: %s\n",
           same_e ? "yes" : "NO");
    printf("lazy count equals the sequential count:  %s\n",
           same_l ? "yes" : "NO");
    ok = same_e && same_l && words > 0;
  }
  weft_value_release(&eager);
  weft_value_release(&lazy);
  for (int f = 0; f < NFILES; f++) {
    weft_value_release(&in[f]);
    if (paths[f][0])
      unlink(paths[f]);
  }
  rmdir(dir);
  free(seq);
  printf("map_reduce_wordcount: %s\n",
         ok ? "results check: OK" : "results WRONG");
  return ok ? 0 : 1;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_map_reduce_wordcount(); }
#endif
