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
 * A count is a dict value, {'the': 412, 'task': 97, ...} (weft/value.h):
 * it travels between processes like any value, and merging two is adding
 * the second's counts into a copy of the first: associative, as a reduce
 * function must be. The results are checked with weft_value_equal, which
 * compares dicts as Python does (same keys and values, in any order). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft.h"

/* ---- counts as dicts: {'word': count, ...} ---- */

/* Adds the words (letters and apostrophes, lower-cased) of text[0..len) to
 * the dict counts. 0, or a WEFT_E* code (out of memory). */
static int count_words(const char *text, size_t len, weft_value *counts) {
  char word[64];
  size_t j = 0;
  for (size_t i = 0; i <= len; i++) {
    int c = i < len ? (unsigned char)text[i] : ' ';
    if (isalpha(c) || (c == '\'' && j && i + 1 < len &&
                       isalpha((unsigned char)text[i + 1]))) {
      if (j + 1 < sizeof word)
        word[j++] = (char)tolower(c);
      continue;
    }
    if (j) {
      word[j] = '\0';
      j = 0;
      const weft_value *had = weft_dict_get(counts, word);
      int rc = weft_dict_set(counts, word, weft_int(had ? had->as.i + 1 : 1));
      if (rc)
        return rc;
    }
  }
  return 0;
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

/* map: the path of a text file -> its counts, a dict. */
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
  int rc = weft_dict_new(out, 64);
  if (!rc)
    rc = count_words(text, len, out);
  free(text);
  return rc ? weft_fail(ctx, "out of memory counting %s", path) : 0;
}
WEFT_REGISTER_ARITY(wordcount_file, 1);

/* reduce: two counts -> one, a new dict: a's words, then b's added in
 * (associative, as a reduce function must be). */
static int wordcount_merge(weft_task_ctx *ctx, const weft_value *args,
                           size_t nargs, weft_value *out) {
  (void)nargs;
  const weft_value *a = &args[0], *b = &args[1];
  if (a->type != WEFT_T_DICT || b->type != WEFT_T_DICT)
    return weft_fail(ctx, "expected two dicts, got a %s and a %s",
                     weft_type_name(a->type), weft_type_name(b->type));
  int rc = weft_dict_new(out, weft_value_len(a) + weft_value_len(b));
  for (size_t i = 0; !rc && i < weft_value_len(a); i++)
    rc = weft_dict_set(out, weft_dict_key(a, i),
                       weft_value_retain(weft_dict_item(a, i)));
  for (size_t i = 0; !rc && i < weft_value_len(b); i++) {
    const char *w = weft_dict_key(b, i);
    const weft_value *had = weft_dict_get(out, w);
    rc = weft_dict_set(
        out, w, weft_int((had ? had->as.i : 0) + weft_dict_item(b, i)->as.i));
  }
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

/* The `top` most frequent words, as a dict printed the way Python prints
 * one. */
static void show_top(const weft_value *counts, int top) {
  weft_value best;
  if (weft_dict_new(&best, (size_t)top))
    return;
  int64_t last = INT64_MAX;
  while ((int)weft_value_len(&best) < top) {
    int64_t most = 0;
    for (size_t i = 0; i < weft_value_len(counts); i++) {
      int64_t c = weft_dict_item(counts, i)->as.i;
      if (c < last && c > most)
        most = c;
    }
    if (!most)
      break;
    for (size_t i = 0; i < weft_value_len(counts); i++)
      if (weft_dict_item(counts, i)->as.i == most &&
          (int)weft_value_len(&best) < top)
        weft_dict_set(&best, weft_dict_key(counts, i), weft_int(most));
    last = most;
  }
  char text[512];
  weft_value_format(&best, text, sizeof text);
  printf("most frequent words: %s\n", text);
  weft_value_release(&best);
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

  /* 1. Sequentially: every file read and counted into one dict. */
  weft_value seq = weft_none();
  if (ok && weft_dict_new(&seq, 64))
    ok = 0;
  for (int f = 0; f < NFILES && ok; f++) {
    size_t len;
    char *t = read_file(paths[f], &len);
    ok = t && count_words(t, len, &seq) == 0;
    free(t);
  }

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
    int64_t words = 0;
    for (size_t i = 0; i < weft_value_len(&seq); i++)
      words += weft_dict_item(&seq, i)->as.i;
    printf("%" PRId64 " words, %zu distinct\n", words, weft_value_len(&seq));
    show_top(&seq, 8);
    /* dicts compare as Python's: same words, same counts, any order */
    int same_e = weft_value_equal(&eager, &seq);
    int same_l = weft_value_equal(&lazy, &seq);
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
  weft_value_release(&seq);
  printf("map_reduce_wordcount: %s\n",
         ok ? "results check: OK" : "results WRONG");
  return ok ? 0 : 1;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_map_reduce_wordcount(); }
#endif
