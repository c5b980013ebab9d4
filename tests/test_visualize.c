/* test_visualize.c - graph pictures (weft/visualize.h, src/diag/dot.c): the
 * DOT text of a small graph has the expected nodes, labels, edges and
 * rankdir; only what the requested nodes need is drawn; labels with quotes,
 * backslashes, newlines and bad UTF-8 stay valid DOT; weft_ref and literal
 * nodes are drawn; SVG, PNG and PDF come out of Graphviz (when built in);
 * and bad nodes, options and paths fail with the documented codes and a
 * message. */
#include <pthread.h>
#include <setjmp.h> /* with stdarg.h and stddef.h: what cmocka.h needs */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag/dot.h"
#include "weft.h"

#if defined(__SANITIZE_ADDRESS__)
/* Graphviz's text layout goes through pango and fontconfig, whose caches
 * LeakSanitizer reports as lost at exit; they are not weft's. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
  return "leak:libfontconfig.so\n";
}
#endif

/* ---- helpers ---- */

#define assert_contains(hay, needle)                                           \
  do {                                                                         \
    const char *h_ = (hay), *n_ = (needle);                                    \
    if (!h_ || !strstr(h_, n_)) {                                              \
      print_error("expected to find\n  %s\nin\n%s\n", n_, h_ ? h_ : "(null)"); \
      fail();                                                                  \
    }                                                                          \
  } while (0)

#define assert_lacks(hay, needle)                                              \
  do {                                                                         \
    const char *h_ = (hay), *n_ = (needle);                                    \
    if (strstr(h_, n_)) {                                                      \
      print_error("did not expect\n  %s\nin\n%s\n", n_, h_);                   \
      fail();                                                                  \
    }                                                                          \
  } while (0)

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* Reads a whole file (NUL-terminated; *size without the NUL). */
static char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = (len + 4096 + 1) * 2;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    size_t got = fread(buf + len, 1, 4096, f);
    len += got;
    if (got < 4096)
      break;
  }
  fclose(f);
  buf[len] = '\0';
  if (size)
    *size = len;
  return buf;
}

static char *to_dot(weft_graph *g, size_t n, weft_node *const nodes[],
                    const char *rankdir) {
  weft_visualize_opts vo;
  weft_visualize_opts_init(&vo);
  vo.rankdir = rankdir;
  char *dot = NULL;
  int rc = weft_graph_to_dot(g, n, nodes, &vo, &dot);
  if (rc)
    print_error("weft_graph_to_dot: %s: %s\n", weft_err_name(rc),
                weft_graph_error(g));
  assert_int_equal(rc, 0);
  assert_non_null(dot);
  return dot;
}

/* Whether Graphviz is there is the build's answer (WEFT_TEST_GRAPHVIZ,
 * from CMake's WEFT_HAVE_GRAPHVIZ), never the library's: when the build
 * found it, the library must load it and draw, and a library that cannot
 * fails here instead of turning the picture tests into quiet skips. */
#ifndef WEFT_TEST_GRAPHVIZ
#error "tests/CMakeLists.txt defines WEFT_TEST_GRAPHVIZ (0 or 1)"
#endif
static int have_graphviz(void) {
  if (WEFT_TEST_GRAPHVIZ && !weft__graphviz_version())
    fail_msg("this build found Graphviz, but the library cannot load it");
  return WEFT_TEST_GRAPHVIZ;
}

/* ---- task functions ---- */

static int inc(weft_task_ctx *ctx, const weft_value *a, size_t n,
               weft_value *out) {
  (void)ctx;
  (void)n;
  *out = weft_int(a[0].as.i + 1);
  return 0;
}
WEFT_REGISTER_ARITY(inc, 1);

static int echo(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx;
  *out = n ? weft_value_retain(&a[0]) : weft_none();
  return 0;
}
WEFT_REGISTER(echo);

/* x = inc(1); y = inc(x); z = x + y */
static weft_graph *small_graph(weft_node **x, weft_node **y, weft_node **z) {
  weft_graph *g = weft_graph_new();
  assert_non_null(g);
  *x = weft_call(g, inc, 1);
  *y = weft_call(g, inc, *x);
  *z = weft_add(g, *x, *y);
  assert_int_equal(weft_graph_status(g), 0);
  return g;
}

/* ---- DOT text ---- */

static void test_dot_small_graph(void **state) {
  (void)state;
  weft_node *x, *y, *z;
  weft_graph *g = small_graph(&x, &y, &z);
  char *dot = to_dot(g, 1, &z, "LR");
  assert_true(strncmp(dot, "digraph weft {", 14) == 0);
  assert_contains(dot, "rankdir=LR");
  /* tasks: ellipses labelled by function, literals inline */
  assert_contains(dot, "t0 [shape=ellipse, label=\"inc(1)\"");
  assert_contains(dot, "t1 [shape=ellipse, label=\"inc\"");
  assert_contains(dot, "t2 [shape=ellipse, label=\"+\"");
  /* results: boxes; the requested one in bold */
  assert_contains(dot, "r0 [shape=box, label=\"\"");
  assert_contains(dot, "r2 [shape=box, label=\"\", tooltip=\"add-2\", "
                       "penwidth=2]");
  /* data flow: task -> result -> consumer, each edge once */
  assert_contains(dot, "t0 -> r0;");
  assert_contains(dot, "r0 -> t1;");
  assert_contains(dot, "t1 -> r1;");
  assert_contains(dot, "r0 -> t2;");
  assert_contains(dot, "r1 -> t2;");
  assert_contains(dot, "t2 -> r2;");
  assert_int_equal(count(dot, "->"), 6);
  assert_true(dot[strlen(dot) - 2] == '}');
  free(dot);

  /* the default direction is top to bottom; the spelling is forgiving */
  dot = to_dot(g, 1, &z, NULL);
  assert_contains(dot, "rankdir=TB");
  free(dot);
  dot = to_dot(g, 1, &z, "bt");
  assert_contains(dot, "rankdir=BT");
  free(dot);

  /* drawing leaves the graph as it was: it still computes */
  weft_value v;
  assert_int_equal(weft_compute1(g, z, &v, NULL), 0);
  assert_int_equal(v.as.i, 5);
  weft_graph_free(g);
}

static void test_dot_cull(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_add(g, 1, 2);
  weft_node *b = weft_mul(g, a, 3);
  weft_node *unused = weft_sub(g, 10, 4);
  weft_node *c = weft_div(g, b, 2.5);
  assert_non_null(unused);

  char *dot = to_dot(g, 1, &b, NULL);
  assert_contains(dot, "label=\"1 + 2\"");
  assert_contains(dot, "label=\"\xc2\xb7 * 3\""); /* "·" stands for a */
  assert_lacks(dot, "10 - 4");
  assert_lacks(dot, "t2 ");
  assert_lacks(dot, "t3 ");
  assert_lacks(dot, "r2 ");
  free(dot);

  /* two outputs: the union of what they need */
  weft_node *both[] = {b, unused};
  dot = to_dot(g, 2, both, NULL);
  assert_contains(dot, "10 - 4");
  assert_lacks(dot, "t3 ");
  assert_int_equal(count(dot, "penwidth=2"), 2);
  free(dot);

  /* n == 0: the whole graph, nothing in bold */
  dot = to_dot(g, 0, NULL, NULL);
  assert_contains(dot, "10 - 4");
  assert_contains(dot, "label=\"\xc2\xb7 / 2.5\"");
  assert_lacks(dot, "penwidth");
  free(dot);
  (void)c;
  weft_graph_free(g);
}

static void test_dot_literals_and_escaping(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *s = weft_call(g, echo, "say \"hi\" \\ back\nnext");
  weft_node *u = weft_call(g, echo, "h\xc3\xa9llo \xff end");
  weft_node *d = weft_call(g, echo, 0.1, 1e16, -0.0, 2.0);
  char long_text[200];
  memset(long_text, 'a', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  weft_node *l = weft_call(g, echo, long_text);
  weft_node *lit = weft_literal(g, weft_int(42));
  weft_node *sum = weft_add(g, lit, 1);
  assert_int_equal(weft_node_set_key(g, s, "key \"quoted\""), 0);
  assert_int_equal(weft_graph_status(g), 0);

  char *dot = to_dot(g, 0, NULL, NULL);
  /* quotes and backslashes escaped, the newline as \n */
  assert_contains(dot, "label=\"echo('say \\\"hi\\\" \\\\ back\\nnext')\"");
  assert_contains(dot, "tooltip=\"key \\\"quoted\\\"\"");
  assert_contains(dot, "label=\"key \\\"quoted\\\"\"");
  /* UTF-8 kept, a stray byte replaced */
  assert_contains(dot, "echo('h\xc3\xa9llo ? end')");
  /* numbers as Python prints them */
  assert_contains(dot, "echo(0.1, 1e+16, -0.0, 2.0)");
  /* long literals cut */
  assert_contains(dot, "aaa...");
  assert_lacks(dot, long_text);
  /* a weft_literal is data: a box showing its value, feeding the add */
  long li = weft_node_index(g, lit), si = weft_node_index(g, sum);
  char want[64];
  snprintf(want, sizeof want, "r%ld [shape=box, label=\"42\"", li);
  assert_contains(dot, want);
  snprintf(want, sizeof want, "t%ld ", li);
  assert_lacks(dot, want);
  snprintf(want, sizeof want, "r%ld -> t%ld;", li, si);
  assert_contains(dot, want);
  /* every line is a statement or a brace */
  assert_int_equal(count(dot, "\n"), count(dot, ";\n") + 2);

  if (have_graphviz()) { /* Graphviz reads it back */
    assert_int_equal(weft_visualize(g, 0, NULL, "escaped.svg", NULL), 0);
    char *svg = slurp("escaped.svg", NULL);
    assert_non_null(svg);
    assert_contains(svg, "h\xc3\xa9llo");
    assert_contains(svg, "&quot;hi&quot;");
    free(svg);
  }
  free(dot);
  (void)u;
  (void)d;
  (void)l;
  weft_graph_free(g);
}

static void test_dot_refs(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *r = weft_ref(g, "later");
  weft_node *m = weft_mul(g, r, 2);
  weft_node *missing = weft_ref(g, "nowhere");
  weft_node *later = weft_add(g, 20, 1);
  assert_int_equal(weft_node_set_key(g, later, "later"), 0);
  assert_int_equal(weft_graph_status(g), 0);

  /* the reference pulls in the node it names, which comes later */
  char *dot = to_dot(g, 1, &m, NULL);
  assert_contains(dot, "t0 [shape=ellipse, label=\"ref('later')\"");
  assert_contains(dot, "r3 -> t0;");
  assert_contains(dot, "label=\"20 + 1\"");
  assert_lacks(dot, "nowhere");
  free(dot);

  dot = to_dot(g, 1, &missing, NULL);
  assert_contains(dot, "ref('nowhere')");
  assert_contains(dot, "undefined key");
  assert_contains(dot, "color=red");
  free(dot);

  /* after a compute resolved it, the picture is the same */
  weft_value v;
  assert_int_equal(weft_compute1(g, m, &v, NULL), 0);
  assert_int_equal(v.as.i, 42);
  dot = to_dot(g, 1, &m, NULL);
  assert_contains(dot, "label=\"ref('later')\"");
  assert_contains(dot, "r3 -> t0;");
  free(dot);
  weft_graph_free(g);
}

static void test_dot_repeated_and_wide(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *x = weft_call(g, inc, 1);
  weft_node *xs[300];
  for (int i = 0; i < 300; i++)
    xs[i] = i % 2 ? x : weft_call(g, inc, i);
  weft_node *s = weft_sum(g, 300, xs);
  weft_node *sq = weft_mul(g, x, x);
  assert_int_equal(weft_graph_status(g), 0);
  char *dot = to_dot(g, 0, NULL, NULL);
  long xi = weft_node_index(g, x), si = weft_node_index(g, s),
       qi = weft_node_index(g, sq);
  char want[64];
  snprintf(want, sizeof want, "r%ld -> t%ld;", xi, si);
  assert_int_equal(count(dot, want), 1); /* once, though x is 150 inputs */
  snprintf(want, sizeof want, "r%ld -> t%ld;", xi, qi);
  assert_int_equal(count(dot, want), 1);
  snprintf(want, sizeof want, "t%ld [shape=ellipse, label=\"sum\"", si);
  assert_contains(dot, want);
  assert_contains(dot, "label=\"*\"");
  assert_int_equal(count(dot, "shape=ellipse"), 1 + 150 + 2);
  free(dot);
  weft_graph_free(g);
}

/* ---- errors ---- */

static void test_errors(void **state) {
  (void)state;
  weft_node *x, *y, *z;
  weft_graph *g = small_graph(&x, &y, &z);
  weft_graph *other = weft_graph_new();
  weft_node *foreign = weft_add(other, 1, 1);
  char *dot = (char *)1;

  assert_int_equal(weft_graph_to_dot(NULL, 0, NULL, NULL, &dot), WEFT_EINVAL);
  assert_null(dot);
  assert_int_equal(weft_graph_to_dot(g, 0, NULL, NULL, NULL), WEFT_EINVAL);
  assert_int_equal(weft_graph_to_dot(g, 1, NULL, NULL, &dot), WEFT_EINVAL);
  assert_contains(weft_graph_error(g), "NULL node array");

  weft_node *null_node[] = {z, NULL};
  assert_int_equal(weft_graph_to_dot(g, 2, null_node, NULL, &dot), WEFT_EINVAL);
  assert_null(dot);
  assert_contains(weft_graph_error(g), "node 2 is NULL");

  assert_int_equal(weft_graph_to_dot(g, 1, &foreign, NULL, &dot), WEFT_EGRAPH);
  assert_null(dot);
  assert_contains(weft_graph_error(g), "another graph");
  assert_int_equal(weft_visualize(g, 1, &foreign, "x.dot", NULL), WEFT_EGRAPH);
  assert_contains(weft_graph_error(g), "another graph");
  assert_int_equal(access("x.dot", F_OK), -1); /* nothing written */

  weft_visualize_opts vo;
  weft_visualize_opts_init(&vo);
  vo.rankdir = "diagonal";
  assert_int_equal(weft_graph_to_dot(g, 1, &z, &vo, &dot), WEFT_EINVAL);
  assert_contains(weft_graph_error(g), "rankdir 'diagonal'");

  /* formats: from the extension or the options, else a clear refusal */
  assert_int_equal(weft_visualize(g, 1, &z, NULL, NULL), WEFT_EINVAL);
  assert_int_equal(weft_visualize(g, 1, &z, "graph", NULL), WEFT_EINVAL);
  assert_contains(weft_graph_error(g), "cannot tell the format of 'graph'");
  assert_int_equal(weft_visualize(g, 1, &z, "dir.v2/graph", NULL), WEFT_EINVAL);
  weft_visualize_opts_init(&vo);
  vo.format = "gif";
  assert_int_equal(weft_visualize(g, 1, &z, "g.gif", &vo), WEFT_EINVAL);
  assert_contains(weft_graph_error(g), "unknown format 'gif'");

  /* files that cannot be written */
  assert_int_equal(weft_visualize(g, 1, &z, "/nonexistent-dir/g.dot", NULL),
                   WEFT_EIO);
  assert_contains(weft_graph_error(g), "/nonexistent-dir/g.dot");
  int rc = weft_visualize(g, 1, &z, "/nonexistent-dir/g.svg", NULL);
  assert_int_equal(rc, have_graphviz() ? WEFT_EIO : WEFT_ENOTSUP);
  if (have_graphviz())
    assert_contains(weft_graph_error(g), "cannot write '/nonexistent-dir/");

  /* the graph is unharmed by all of that */
  assert_int_equal(weft_graph_status(g), 0);
  weft_graph_free(other);
  weft_graph_free(g);
}

/* ---- files ---- */

static void test_visualize_dot_file(void **state) {
  (void)state;
  weft_node *x, *y, *z;
  weft_graph *g = small_graph(&x, &y, &z);
  char *dot = to_dot(g, 1, &z, NULL);
  assert_int_equal(weft_visualize(g, 1, &z, "graph.dot", NULL), 0);
  char *file = slurp("graph.dot", NULL);
  assert_non_null(file);
  assert_string_equal(file, dot);
  free(file);
  /* .gv is DOT too; opts.format wins over the extension */
  assert_int_equal(weft_visualize(g, 1, &z, "graph.gv", NULL), 0);
  weft_visualize_opts vo;
  weft_visualize_opts_init(&vo);
  vo.format = "dot";
  assert_int_equal(weft_visualize(g, 1, &z, "graph.txt", &vo), 0);
  file = slurp("graph.txt", NULL);
  assert_non_null(file);
  assert_string_equal(file, dot);
  free(file);
  free(dot);
  weft_graph_free(g);
}

static void test_visualize_svg(void **state) {
  (void)state;
  weft_node *x, *y, *z;
  weft_graph *g = small_graph(&x, &y, &z);
  if (!have_graphviz()) {
    assert_int_equal(weft_visualize(g, 1, &z, "graph.svg", NULL), WEFT_ENOTSUP);
    assert_contains(weft_graph_error(g), "Graphviz");
    weft_graph_free(g);
    print_message("this build has no Graphviz: SVG, PNG and PDF skipped\n");
    skip();
  }
  weft_visualize_opts vo;
  weft_visualize_opts_init(&vo);
  vo.rankdir = "LR";
  assert_int_equal(weft_visualize(g, 1, &z, "graph.svg", &vo), 0);
  size_t size = 0;
  char *svg = slurp("graph.svg", &size);
  assert_non_null(svg);
  assert_true(strncmp(svg, "<?xml", 5) == 0 || strncmp(svg, "<svg", 4) == 0);
  assert_contains(svg, "<svg");
  assert_contains(svg, "inc(1)");
  assert_contains(svg, ">inc<");
  assert_contains(svg, ">+<");
  assert_contains(svg, "</svg>");
  free(svg);

  /* the format comes from the options as well: an SVG named .img */
  vo.format = "svg";
  assert_int_equal(weft_visualize(g, 1, &z, "graph.img", &vo), 0);
  svg = slurp("graph.img", NULL);
  assert_non_null(svg);
  assert_contains(svg, "<svg");
  free(svg);

  /* PNG and PDF, by their magic numbers */
  assert_int_equal(weft_visualize(g, 1, &z, "graph.png", NULL), 0);
  char *png = slurp("graph.png", &size);
  assert_non_null(png);
  assert_true(size > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
  free(png);
  assert_int_equal(weft_visualize(g, 1, &z, "graph.PDF", NULL), 0);
  char *pdf = slurp("graph.PDF", &size);
  assert_non_null(pdf);
  assert_true(size > 5 && memcmp(pdf, "%PDF-", 5) == 0);
  free(pdf);
  weft_graph_free(g);
}

/* Graphviz is not thread-safe: weft serialises it, so pictures may be
 * drawn from several threads at once. */
static void *draw_many(void *arg) {
  const char *name = arg;
  for (int i = 0; i < 5; i++) {
    weft_graph *g = weft_graph_new();
    weft_node *a = weft_add(g, i, 1);
    weft_node *b = weft_mul(g, a, a);
    if (weft_visualize(g, 1, &b, name, NULL) != 0) {
      weft_graph_free(g);
      return (void *)1;
    }
    weft_graph_free(g);
  }
  return NULL;
}

static void test_visualize_threads(void **state) {
  (void)state;
  if (!have_graphviz()) {
    print_message("this build has no Graphviz: skipped\n");
    skip();
  }
  pthread_t t[3];
  const char *names[3] = {"t0.svg", "t1.svg", "t2.svg"};
  for (int k = 0; k < 3; k++)
    assert_int_equal(pthread_create(&t[k], NULL, draw_many, (void *)names[k]),
                     0);
  for (int k = 0; k < 3; k++) {
    void *res;
    pthread_join(t[k], &res);
    assert_null(res);
  }
  for (int k = 0; k < 3; k++) {
    char *svg = slurp(names[k], NULL);
    assert_non_null(svg);
    assert_contains(svg, "4 + 1");
    free(svg);
  }
}

static void test_repr_double(void **state) {
  (void)state;
  static const struct {
    double d;
    const char *text;
  } cases[] = {
      {0.1, "0.1"},
      {500.0, "500.0"},
      {2.5, "2.5"},
      {1.0 / 3.0, "0.3333333333333333"},
      {1e15, "1000000000000000.0"},
      {1e16, "1e+16"},
      {1.5e-5, "1.5e-05"},
      {0.0001, "0.0001"},
      {-0.0, "-0.0"},
      {123456789.125, "123456789.125"},
      {0.1 + 0.2, "0.30000000000000004"},
  };
  char buf[64];
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    size_t n = weft__repr_double(cases[k].d, buf, sizeof buf);
    assert_string_equal(buf, cases[k].text);
    assert_int_equal(n, strlen(cases[k].text));
  }
  weft__repr_double(1.0 / 0.0, buf, sizeof buf);
  assert_string_equal(buf, "inf");
  weft__repr_double(-1.0 / 0.0, buf, sizeof buf);
  assert_string_equal(buf, "-inf");
  weft__repr_double(0.0 / 0.0, buf, sizeof buf);
  assert_string_equal(buf, "nan");
  assert_int_equal(weft__repr_double(0.25, buf, 3), 4); /* snprintf-style */
  assert_string_equal(buf, "0.");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dot_small_graph),
      cmocka_unit_test(test_dot_cull),
      cmocka_unit_test(test_dot_literals_and_escaping),
      cmocka_unit_test(test_dot_refs),
      cmocka_unit_test(test_dot_repeated_and_wide),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_visualize_dot_file),
      cmocka_unit_test(test_visualize_svg),
      cmocka_unit_test(test_visualize_threads),
      cmocka_unit_test(test_repr_double),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
