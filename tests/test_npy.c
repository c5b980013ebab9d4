/* test_npy.c - .npy files (weft/npy.h, src/array/npy*.c) against numpy.
 *
 * numpy (Debian's python3-numpy, through tests/npy_helper.py) writes files
 * of every dtype weft reads, both byte orders, C and Fortran order, format
 * versions 1.0/2.0/3.0, empty, 0-d, size-1 and 9-d shapes; weft reads them
 * whole and by random blocks and compares every element with the formula
 * computed here (expect_elem). The other way, weft writes files block by
 * block in shuffled order with irregular blocks, and np.load checks them.
 * Corrupt headers, cut and truncated files, unsupported dtypes, blocks
 * outside the shape and missing blocks get their code and a message naming
 * the fault; random damage to a header never crashes (ASan watches). */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "weft/npy.h"

#define assert_npy(want, got, err)                                             \
  do {                                                                         \
    int got_ = (got), want_ = (want);                                          \
    if (got_ != want_) {                                                       \
      print_error("%s\n  returned %s, want %s; message: %s\n", #got,           \
                  weft_err_name(got_), weft_err_name(want_), (err).text);      \
      fail();                                                                  \
    }                                                                          \
  } while (0)

/* ---- the formula of npy_helper.py, computed in C ---- */

static const int64_t scale[9] = {
    0, 1, 257, 0, 16777259, 0, 0, 0, 72057594037927LL};

static void expect_elem(weft_dtype dt, int64_t i, void *out) {
  int64_t v = (i * 7919) % 241;
  size_t size = weft_dtype_size(dt);
  switch (dt) {
  case WEFT_BOOL:
    *(uint8_t *)out = i % 3 == 0;
    break;
  case WEFT_I8:
  case WEFT_I16:
  case WEFT_I32:
  case WEFT_I64: {
    int64_t x = (v - 120) * scale[size];
    int8_t a = (int8_t)x;
    int16_t b = (int16_t)x;
    int32_t c = (int32_t)x;
    memcpy(out,
           size == 1   ? (void *)&a
           : size == 2 ? (void *)&b
           : size == 4 ? (void *)&c
                       : (void *)&x,
           size);
    break;
  }
  case WEFT_U8:
  case WEFT_U16:
  case WEFT_U32:
  case WEFT_U64: {
    uint64_t x = (uint64_t)v * (uint64_t)scale[size];
    uint8_t a = (uint8_t)x;
    uint16_t b = (uint16_t)x;
    uint32_t c = (uint32_t)x;
    memcpy(out,
           size == 1   ? (void *)&a
           : size == 2 ? (void *)&b
           : size == 4 ? (void *)&c
                       : (void *)&x,
           size);
    break;
  }
  case WEFT_F32: {
    float f = (float)((double)(v - 120) / 8.0);
    memcpy(out, &f, 4);
    break;
  }
  default: {
    double d = (double)(v - 120) / 8.0 + (double)i / 1024.0;
    memcpy(out, &d, 8);
    break;
  }
  }
}

static weft_dtype dtype_by_name(const char *name) {
  for (int d = WEFT_BOOL; d < WEFT_DTYPE__END; d++)
    if (strcmp(weft_dtype_name((weft_dtype)d), name) == 0)
      return (weft_dtype)d;
  return (weft_dtype)0;
}

/* Checks a C-order block of extent at offset of an array of shape against
 * the formula; the first mismatch fails, naming the element. */
static void check_block(const char *name, weft_dtype dt, int ndim,
                        const int64_t *shape, const int64_t *offset,
                        const int64_t *extent, const void *data) {
  size_t size = weft_dtype_size(dt), count = 1;
  for (int k = 0; k < ndim; k++)
    count *= (size_t)extent[k];
  int64_t idx[WEFT_CHUNK_MAX_NDIM] = {0};
  for (size_t e = 0; e < count; e++) {
    int64_t flat = 0;
    for (int k = 0; k < ndim; k++)
      flat = flat * shape[k] + offset[k] + idx[k];
    unsigned char want[8];
    expect_elem(dt, flat, want);
    if (memcmp(want, (const char *)data + e * size, size) != 0) {
      print_error("%s: element %zu of the block (flat index %lld) differs\n",
                  name, e, (long long)flat);
      fail();
    }
    for (int k = ndim - 1; k >= 0 && ++idx[k] == extent[k]; k--)
      idx[k] = 0;
  }
}

static void fill_block(weft_dtype dt, int ndim, const int64_t *shape,
                       const int64_t *offset, const int64_t *extent,
                       void *data) {
  size_t size = weft_dtype_size(dt), count = 1;
  for (int k = 0; k < ndim; k++)
    count *= (size_t)extent[k];
  int64_t idx[WEFT_CHUNK_MAX_NDIM] = {0};
  for (size_t e = 0; e < count; e++) {
    int64_t flat = 0;
    for (int k = 0; k < ndim; k++)
      flat = flat * shape[k] + offset[k] + idx[k];
    expect_elem(dt, flat, (char *)data + e * size);
    for (int k = ndim - 1; k >= 0 && ++idx[k] == extent[k]; k--)
      idx[k] = 0;
  }
}

/* Runs tests/npy_helper.py with args; its exit status. */
static int helper(const char *args) {
  const char *src = getenv("WEFT_SOURCE_DIR");
  assert_non_null(src);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/npy_helper.py %s", src,
           args);
  int st = system(cmd);
  if (st != 0)
    print_error("`%s` failed (status %d): is python3-numpy installed? "
                "(scripts/deps.sh build)\n",
                cmd, st);
  return st;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t n) { /* splitmix64, 0 <= r < n */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return n ? (z ^ (z >> 31)) % n : 0;
}

/* ---- numpy writes, weft reads ---- */

/* numpy writes its files once for the tests that read them */
static int make_files(void **state) {
  (void)state;
  return helper("make .") == 0 ? 0 : -1;
}

static void test_read_numpy_files(void **state) {
  (void)state;
  FILE *cases = fopen("cases.txt", "r");
  assert_non_null(cases);
  char line[512];
  int n_cases = 0, n_views = 0;
  while (fgets(line, sizeof line, cases)) {
    char name[64], dname[32], path[128];
    int fortran, swapped, version, ndim, used;
    int64_t shape[WEFT_CHUNK_MAX_NDIM];
    assert_int_equal(sscanf(line, "%63s %31s %d %d %d %d%n", name, dname,
                            &fortran, &swapped, &version, &ndim, &used),
                     6);
    char *p = line + used;
    for (int k = 0; k < ndim; k++)
      shape[k] = strtoll(p, &p, 10);
    weft_dtype dt = dtype_by_name(dname);
    assert_true(dt != 0);
    snprintf(path, sizeof path, "%s.npy", name);
    n_cases++;

    weft_errmsg err = {{0}};
    weft_npy *f = NULL;
    assert_npy(0, weft_npy_open(path, &f, &err), err);
    const weft_npy_info *in = weft_npy_get_info(f);
    assert_int_equal(in->dtype, dt);
    assert_int_equal(in->ndim, ndim);
    assert_int_equal(in->fortran_order, fortran);
    assert_int_equal(in->swapped, swapped);
    assert_int_equal(in->version, version);
    for (int k = 0; k < ndim; k++)
      assert_i64(in->shape[k], shape[k]);

    /* the whole file */
    weft_value all;
    assert_npy(0, weft_npy_load(path, &all, &err), err);
    weft_chunk_info ci;
    assert_int_equal(weft_chunk_get(&all, &ci), 0);
    assert_int_equal(ci.ndim, ndim);
    assert_int_equal(ci.count, in->count);
    int64_t zero[WEFT_CHUNK_MAX_NDIM] = {0};
    check_block(name, dt, ndim, shape, zero, shape, ci.data);
    weft_value_release(&all);

    /* random blocks, empty ones included, as chunks and into a buffer */
    for (int t = 0; t < 40; t++) {
      int64_t off[WEFT_CHUNK_MAX_NDIM], ext[WEFT_CHUNK_MAX_NDIM];
      for (int k = 0; k < ndim; k++) {
        off[k] = (int64_t)rnd((uint64_t)shape[k] + 1);
        ext[k] = (int64_t)rnd((uint64_t)(shape[k] - off[k]) + 1);
        if (t < 3) { /* whole rows: contiguous in a C-order file */
          off[k] = k == 0 ? off[k] : 0;
          ext[k] = k == 0 ? ext[k] : shape[k];
        }
      }
      weft_value b;
      assert_npy(0, weft_npy_block(f, off, ext, &b, &err), err);
      assert_int_equal(weft_chunk_get(&b, &ci), 0);
      for (int k = 0; k < ndim; k++)
        assert_i64(ci.shape[k], ext[k]);
      check_block(name, dt, ndim, shape, off, ext, ci.data);
      const char *base = weft_npy_data(f);
      if (base && (const char *)ci.data >= base &&
          (const char *)ci.data < base + in->nbytes) {
        assert_false(swapped); /* a view only of bytes in the right order */
        assert_false(fortran && ndim > 1 && ci.count > 1 && ext[0] > 1 &&
                     ext[ndim - 1] > 1);
        n_views++;
      }
      void *buf = malloc(ci.nbytes ? ci.nbytes : 1);
      assert_npy(0, weft_npy_read_into(f, off, ext, buf, &err), err);
      check_block(name, dt, ndim, shape, off, ext, buf);
      free(buf);
      /* the view outlives the handle: close it in the middle sometimes */
      if (t == 39) {
        weft_npy_close(f);
        f = NULL;
        check_block(name, dt, ndim, shape, off, ext, ci.data);
      }
      weft_value_release(&b);
    }
    weft_npy_close(f);
  }
  fclose(cases);
  assert_true(n_cases >= 19);
  assert_true(n_views >= 20); /* C-order native files gave views */
}

/* ---- weft writes, numpy reads ---- */

static void write_and_check(weft_dtype dt, int ndim, const int64_t *shape) {
  char path[64];
  snprintf(path, sizeof path, "w_%s_%d.npy", weft_dtype_name(dt), ndim);
  /* irregular blocks: cut each axis at random points */
  int64_t cuts[WEFT_CHUNK_MAX_NDIM][8];
  int ncut[WEFT_CHUNK_MAX_NDIM];
  size_t nblocks = 1;
  for (int k = 0; k < ndim; k++) {
    ncut[k] = 0;
    cuts[k][ncut[k]++] = 0;
    for (int64_t at = 1 + (int64_t)rnd(4); at < shape[k] && ncut[k] < 7;
         at += 1 + (int64_t)rnd((uint64_t)shape[k] / 2 + 1))
      cuts[k][ncut[k]++] = at;
    cuts[k][ncut[k]] = shape[k];
    nblocks *= (size_t)ncut[k];
  }
  size_t *order = malloc(nblocks * sizeof *order);
  for (size_t b = 0; b < nblocks; b++)
    order[b] = b;
  for (size_t b = nblocks; b > 1; b--) { /* shuffled */
    size_t j = (size_t)rnd(b), t = order[b - 1];
    order[b - 1] = order[j];
    order[j] = t;
  }
  weft_errmsg err = {{0}};
  weft_npy_writer *w;
  assert_npy(0, weft_npy_create(path, dt, ndim, shape, &w, &err), err);
  for (size_t b = 0; b < nblocks; b++) {
    int64_t off[WEFT_CHUNK_MAX_NDIM], ext[WEFT_CHUNK_MAX_NDIM];
    size_t rest = order[b], count = 1;
    for (int k = ndim - 1; k >= 0; k--) {
      size_t i = rest % (size_t)ncut[k];
      rest /= (size_t)ncut[k];
      off[k] = cuts[k][i];
      ext[k] = cuts[k][i + 1] - cuts[k][i];
      count *= (size_t)ext[k];
    }
    if (b % 2) { /* as a chunk */
      weft_value c;
      void *data;
      assert_int_equal(weft_chunk_new(&c, dt, ndim, ext, &data), 0);
      fill_block(dt, ndim, shape, off, ext, data);
      assert_npy(0, weft_npy_write_chunk(w, off, &c, &err), err);
      weft_value_release(&c);
    } else {
      void *data = malloc(count * weft_dtype_size(dt) + 1);
      fill_block(dt, ndim, shape, off, ext, data);
      assert_npy(0, weft_npy_write_block(w, off, ext, data, &err), err);
      free(data);
    }
  }
  free(order);
  assert_npy(0, weft_npy_writer_close(w, &err), err);
  FILE *list = fopen("checks.txt", "a"); /* numpy checks them all at once */
  assert_non_null(list);
  fprintf(list, "%s %s", path, weft_dtype_name(dt));
  for (int k = 0; k < ndim; k++)
    fprintf(list, " %lld", (long long)shape[k]);
  fprintf(list, "\n");
  fclose(list);

  /* and weft reads back what it wrote */
  weft_value all;
  assert_npy(0, weft_npy_load(path, &all, &err), err);
  weft_chunk_info ci;
  assert_int_equal(weft_chunk_get(&all, &ci), 0);
  int64_t zero[WEFT_CHUNK_MAX_NDIM] = {0};
  check_block(path, dt, ndim, shape, zero, shape, ci.data);
  weft_value_release(&all);
}

static void test_write_blocks_numpy_reads(void **state) {
  (void)state;
  const int64_t s2[] = {37, 23}, s3[] = {5, 9, 12}, s1[] = {101};
  const int64_t s4[] = {3, 1, 4, 6}, s0[] = {4, 0, 3};
  unlink("checks.txt");
  write_and_check(WEFT_F64, 2, s2);
  write_and_check(WEFT_F32, 3, s3);
  write_and_check(WEFT_I64, 1, s1);
  write_and_check(WEFT_I32, 4, s4);
  write_and_check(WEFT_I16, 2, s2);
  write_and_check(WEFT_I8, 3, s3);
  write_and_check(WEFT_U64, 2, s2);
  write_and_check(WEFT_U32, 1, s1);
  write_and_check(WEFT_U16, 3, s3);
  write_and_check(WEFT_U8, 2, s2);
  write_and_check(WEFT_BOOL, 4, s4);
  write_and_check(WEFT_F64, 3, s0);   /* empty */
  write_and_check(WEFT_I32, 0, NULL); /* 0-d */
  assert_int_equal(helper("check checks.txt"), 0);
}

typedef struct writer_job {
  weft_npy_writer *w;
  int64_t rows, cols, first, step;
  int rc;
} writer_job;

/* Writes rows first, first + step, ... one row block at a time. */
static void *write_rows(void *arg) {
  writer_job *j = arg;
  int64_t shape[2] = {j->rows, j->cols};
  double *row = malloc((size_t)j->cols * sizeof *row);
  j->rc = 0;
  for (int64_t r = j->first; r < j->rows && !j->rc; r += j->step) {
    int64_t off[2] = {r, 0}, ext[2] = {1, j->cols};
    fill_block(WEFT_F64, 2, shape, off, ext, row);
    j->rc = weft_npy_write_block(j->w, off, ext, row, NULL);
  }
  free(row);
  return NULL;
}

static void test_threads_write_blocks(void **state) {
  (void)state;
  weft_errmsg err = {{0}};
  weft_npy_writer *w;
  int64_t shape[2] = {203, 61};
  assert_npy(0, weft_npy_create("thr.npy", WEFT_F64, 2, shape, &w, &err), err);
  pthread_t t[4];
  writer_job jobs[4];
  for (int k = 0; k < 4; k++) {
    jobs[k] = (writer_job){w, shape[0], shape[1], k, 4, -1};
    assert_int_equal(pthread_create(&t[k], NULL, write_rows, &jobs[k]), 0);
  }
  for (int k = 0; k < 4; k++) {
    pthread_join(t[k], NULL);
    assert_int_equal(jobs[k].rc, 0);
  }
  assert_npy(0, weft_npy_writer_close(w, &err), err);
  FILE *list = fopen("thr.txt", "w");
  assert_non_null(list);
  fprintf(list, "thr.npy float64 203 61\n");
  fclose(list);
  assert_int_equal(helper("check thr.txt"), 0);
}

static void test_save_and_missing_blocks(void **state) {
  (void)state;
  weft_errmsg err = {{0}};
  int64_t shape[2] = {10, 20}, off[2] = {0, 0}, ext[2] = {10, 10};
  double *d = malloc(200 * sizeof *d);
  for (int i = 0; i < 200; i++)
    d[i] = i * 0.5;
  assert_npy(0, weft_npy_save("s.npy", WEFT_F64, 2, shape, d, &err), err);
  weft_value v, w2;
  assert_npy(0, weft_npy_load("s.npy", &v, &err), err);
  weft_chunk_info ci;
  assert_int_equal(weft_chunk_get(&v, &ci), 0);
  assert_memory_equal(ci.data, d, 200 * sizeof *d);
  assert_npy(0, weft_npy_save_chunk("s2.npy", &v, &err), err);
  assert_npy(0, weft_npy_load("s2.npy", &w2, &err), err);
  assert_true(weft_value_equal(&v, &w2));
  weft_value_release(&w2);
  assert_npy(WEFT_ETYPE, weft_npy_save_chunk("s3.npy", &(weft_value){0}, &err),
             err);
  assert_contains(err.text, "not a chunk");

  /* a block forgotten: close says so */
  weft_npy_writer *w;
  assert_npy(0, weft_npy_create("m.npy", WEFT_F64, 2, shape, &w, &err), err);
  assert_npy(0, weft_npy_write_block(w, off, ext, d, &err), err);
  assert_npy(WEFT_EIO, weft_npy_writer_close(w, &err), err);
  assert_contains(err.text, "only 100 of 200 elements were written");

  /* blocks outside the shape, a wrong chunk, NULL data */
  assert_npy(0, weft_npy_create("m.npy", WEFT_F64, 2, shape, &w, &err), err);
  int64_t off2[2] = {0, 15};
  assert_npy(WEFT_EINVAL, weft_npy_write_block(w, off2, ext, d, &err), err);
  assert_contains(err.text, "m.npy: block offset 15 + extent 10 on axis 1 is "
                            "outside shape (10, 20)");
  int64_t neg[2] = {-1, 0};
  assert_npy(WEFT_EINVAL, weft_npy_write_block(w, neg, ext, d, &err), err);
  assert_contains(err.text, "axis 0");
  assert_npy(WEFT_EINVAL, weft_npy_write_block(w, off, ext, NULL, &err), err);
  assert_contains(err.text, "NULL block data");
  weft_value one_d;
  assert_int_equal(weft_chunk_new(&one_d, WEFT_F64, 1, ext, NULL), 0);
  assert_npy(WEFT_EINVAL, weft_npy_write_chunk(w, off, &one_d, &err), err);
  assert_contains(err.text, "a 1-d float64 chunk cannot go into");
  weft_value_release(&one_d);
  weft_value f32;
  assert_int_equal(weft_chunk_new(&f32, WEFT_F32, 2, ext, NULL), 0);
  assert_npy(WEFT_EINVAL, weft_npy_write_chunk(w, off, &f32, &err), err);
  assert_contains(err.text, "float32 chunk cannot go into a 2-d float64 file");
  weft_value_release(&f32);
  weft_value_release(&v);
  /* a block written twice keeps its last contents, and counts twice */
  int64_t full[2] = {10, 20};
  assert_npy(0, weft_npy_write_block(w, off, full, d, &err), err);
  assert_npy(0, weft_npy_writer_close(w, &err), err);

  /* reading: blocks outside the shape, NULL arguments */
  weft_npy *f;
  assert_npy(0, weft_npy_open("m.npy", &f, &err), err);
  int64_t big[2] = {11, 1};
  assert_npy(WEFT_EINVAL, weft_npy_block(f, off, big, &v, &err), err);
  assert_contains(err.text, "extent 11 on axis 0 is outside shape (10, 20)");
  assert_int_equal(v.type, WEFT_T_NONE);
  assert_npy(WEFT_EINVAL, weft_npy_read_into(f, off, ext, NULL, &err), err);
  assert_npy(WEFT_EINVAL, weft_npy_block(f, NULL, ext, &v, &err), err);
  weft_npy_close(f);
  free(d);

  /* bad creation arguments */
  int64_t bad[2] = {3, -2};
  assert_npy(WEFT_EINVAL, weft_npy_create("b.npy", WEFT_F64, 2, bad, &w, &err),
             err);
  assert_contains(err.text, "negative extent -2 on axis 1");
  assert_npy(WEFT_EINVAL,
             weft_npy_create("b.npy", (weft_dtype)99, 2, shape, &w, &err), err);
  assert_npy(WEFT_EINVAL,
             weft_npy_create("b.npy", WEFT_F64, 17, shape, &w, &err), err);
  int64_t huge[2] = {INT64_MAX / 2, 1 << 20};
  assert_npy(WEFT_EINVAL, weft_npy_create("b.npy", WEFT_F64, 2, huge, &w, &err),
             err);
  assert_contains(err.text, "is too big");
  assert_npy(WEFT_ESYS,
             weft_npy_create("no/such/dir/b.npy", WEFT_F64, 2, shape, &w, &err),
             err);
  assert_contains(err.text, "no/such/dir/b.npy: cannot create");
  assert_npy(WEFT_ESYS, weft_npy_open("no_such.npy", &f, &err), err);
  assert_contains(err.text, "no_such.npy: cannot open");
  assert_null(f);
}

/* ---- broken files ---- */

static void put_file(const char *path, const void *data, size_t len) {
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(data, 1, len, fp), len);
  fclose(fp);
}

/* A version 1.0 file with this header dict and `data` bytes of zeros. */
static void put_npy(const char *path, const char *dict, size_t data) {
  size_t n = strlen(dict), total = (10 + n + 1 + 63) / 64 * 64;
  char *b = calloc(1, total + data);
  memcpy(b, "\x93NUMPY\x01\x00", 8);
  b[8] = (char)((total - 10) & 0xff);
  b[9] = (char)((total - 10) >> 8);
  memcpy(b + 10, dict, n);
  memset(b + 10 + n, ' ', total - 10 - n - 1);
  b[total - 1] = '\n';
  put_file(path, b, total + data);
  free(b);
}

/* A string literal as a file, without its NUL. */
#define PUT_LIT(path, lit) put_file((path), (lit), sizeof(lit) - 1)

static void expect_open(int code, const char *needle) {
  weft_errmsg err = {{0}};
  weft_npy *f = (weft_npy *)1;
  weft_value v;
  assert_npy(code, weft_npy_open("bad.npy", &f, &err), err);
  assert_null(f);
  assert_contains(err.text, needle);
  assert_contains(err.text, "bad.npy");
  assert_npy(code, weft_npy_load("bad.npy", &v, &err), err);
  assert_int_equal(v.type, WEFT_T_NONE);
}

#define OKD "'descr': '<f8', 'fortran_order': False"

static void test_broken_headers(void **state) {
  (void)state;
  put_npy("bad.npy", "{" OKD ", 'shape': (10, 20), }", 800);
  expect_open(WEFT_EIO, "truncated: 800 bytes of data, shape (10, 20) "
                        "float64 needs 1600");
  put_file("bad.npy", "", 0);
  expect_open(WEFT_EIO, "not a .npy file");
  PUT_LIT("bad.npy", "PK\x03\x04 a zip file, not npy");
  expect_open(WEFT_EIO, "not a .npy file");
  PUT_LIT("bad.npy", "\x93NUMPY\x04\x00\x10\x00{}");
  expect_open(WEFT_ENOTSUP, "version 4.0 not supported");
  PUT_LIT("bad.npy", "\x93NUMPY\x01\x00\x76\x00{'descr'");
  expect_open(WEFT_EIO, "header cut: it declares 118 bytes, 8 present");
  PUT_LIT("bad.npy", "\x93NUMPY\x02\x00\xff\xff\xff\xff{");
  expect_open(WEFT_EIO, "beyond reason");
  PUT_LIT("bad.npy", "\x93NUMPY\x01");
  expect_open(WEFT_EIO, "not a .npy file");
  put_npy("bad.npy",
          "{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", 32);
  expect_open(WEFT_ENOTSUP, "dtype '<c16' (complex) not supported");
  put_npy("bad.npy",
          "{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", 40);
  expect_open(WEFT_ENOTSUP, "'<U5' (strings)");
  put_npy("bad.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
          16);
  expect_open(WEFT_ENOTSUP, "(Python objects)");
  put_npy("bad.npy",
          "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4);
  expect_open(WEFT_ENOTSUP, "(float16)");
  put_npy("bad.npy",
          "{'descr': [('a', '<i4')], 'fortran_order': False, "
          "'shape': (2,), }",
          8);
  expect_open(WEFT_ENOTSUP, "structured dtype");
  put_npy("bad.npy",
          "{'descr': '<i3', 'fortran_order': False, 'shape': (2,), }", 6);
  expect_open(WEFT_ENOTSUP, "'<i3'");
  put_npy("bad.npy", "{" OKD ", 'shape': (-1, 2), }", 16);
  expect_open(WEFT_EIO, "'shape' holds something other than non-negative");
  put_npy("bad.npy", "{" OKD ", 'shape': (99999999999999999999,), }", 16);
  expect_open(WEFT_EIO, "overflows");
  put_npy("bad.npy", "{" OKD ", 'shape': (4611686018427387904, 4), }", 16);
  expect_open(WEFT_EIO, "is too big");
  put_npy("bad.npy", "{" OKD ", 'shape': (2 3), }", 16);
  expect_open(WEFT_EIO, "'shape' tuple is malformed");
  put_npy("bad.npy", "{" OKD ", 'shape': [2], }", 16);
  expect_open(WEFT_EIO, "'shape' is not a tuple");
  put_npy("bad.npy",
          "{" OKD ", 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1), }", 8);
  expect_open(WEFT_ENOTSUP, "more than 16 dimensions");
  put_npy("bad.npy", "{'descr': '<f8', 'shape': (2,), }", 16);
  expect_open(WEFT_EIO, "header lacks 'fortran_order'");
  put_npy("bad.npy", "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,)}",
          16);
  expect_open(WEFT_EIO, "'fortran_order' is not True or False");
  put_npy("bad.npy", "{" OKD ", 'shape': (2,), 'extra': 1, }", 16);
  expect_open(WEFT_EIO, "unexpected or repeated key 'extra'");
  put_npy("bad.npy", "{" OKD ", 'descr': '<f8', 'shape': (2,), }", 16);
  expect_open(WEFT_EIO, "unexpected or repeated key 'descr'");
  put_npy("bad.npy", "{" OKD ", 'shape': (2,), } trailing", 16);
  expect_open(WEFT_EIO, "text after its dict");
  put_npy("bad.npy", "[" OKD "]", 16);
  expect_open(WEFT_EIO, "header is not a dict");
  put_npy("bad.npy", "{" OKD " 'shape': (2,)}", 16);
  expect_open(WEFT_EIO, "header dict is malformed");
  put_npy("bad.npy", "{'descr': <f8, 'fortran_order': False, 'shape': (2,)}",
          16);
  expect_open(WEFT_EIO, "'descr' is not a dtype string");
  /* well-formed oddities numpy also accepts: no trailing comma, double
   * quotes, python 2's long extents, extra data after the elements */
  put_npy("bad.npy",
          "{\"descr\": \"<f8\", \"fortran_order\": False, "
          "\"shape\": (2L, 3L)}",
          64);
  weft_errmsg err = {{0}};
  weft_npy *f;
  assert_npy(0, weft_npy_open("bad.npy", &f, &err), err);
  assert_int_equal(weft_npy_get_info(f)->count, 6);
  weft_npy_close(f);
  /* a directory */
  mkdir("adir.npy", 0755);
  assert_npy(WEFT_EIO, weft_npy_open("adir.npy", &f, &err), err);
  assert_contains(err.text, "not a regular file");
}

/* Random damage to real headers and random cuts of real files: any answer
 * but a crash, and a message whenever it is an error. */
static void test_damaged_files_never_crash(void **state) {
  (void)state;
  const char *names[] = {"f64_f_be.npy", "u32_be.npy", "bool_v3.npy",
                         "i32_v2.npy", "nine_d.npy"};
  int errors = 0;
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    FILE *fp = fopen(names[k], "rb");
    assert_non_null(fp);
    unsigned char orig[8192];
    size_t len = fread(orig, 1, sizeof orig, fp);
    fclose(fp);
    assert_true(len > 64);
    for (int t = 0; t < 300; t++) {
      unsigned char b[8192];
      memcpy(b, orig, len);
      size_t n = len;
      int flips = 1 + (int)rnd(3);
      for (int j = 0; j < flips; j++) /* damage the header (its 128 bytes) */
        b[rnd(n < 128 ? n : 128)] = (unsigned char)rnd(256);
      if (t % 4 == 0)
        n = (size_t)rnd(len); /* and cut the file */
      weft_errmsg err = {{0}};
      weft_npy_info info;
      int rc = weft_npy_parse_header(b, n, &info, &err);
      if (rc)
        assert_true(strlen(err.text) > 10);
      put_file("dmg.npy", b, n);
      weft_value v;
      rc = weft_npy_load("dmg.npy", &v, &err);
      if (rc) {
        errors++;
        assert_true(strlen(err.text) > 10);
        assert_int_equal(v.type, WEFT_T_NONE);
      } else {
        weft_value_release(&v);
      }
    }
  }
  assert_true(errors > 100);
}

static void test_parse_header_buffer(void **state) {
  (void)state;
  weft_errmsg err = {{0}};
  weft_npy_info info;
  char *h;
  size_t len;
  /* what weft writes parses as what it says */
  char hdr[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '>i2', 'fortran_order': "
               "True, 'shape': (3, 0, 5), }";
  assert_npy(WEFT_EIO, weft_npy_parse_header(hdr, sizeof hdr - 1, &info, &err),
             err); /* 118 bytes declared, fewer present */
  int64_t s[3] = {3, 0, 5};
  weft_npy_writer *w;
  assert_npy(0, weft_npy_create("h.npy", WEFT_I16, 3, s, &w, &err), err);
  assert_npy(0, weft_npy_writer_close(w, &err), err);
  FILE *fp = fopen("h.npy", "rb");
  h = malloc(4096);
  len = fread(h, 1, 4096, fp);
  fclose(fp);
  assert_int_equal(len % 64, 0);
  assert_npy(0, weft_npy_parse_header(h, len, &info, &err), err);
  assert_int_equal(info.dtype, WEFT_I16);
  assert_int_equal(info.ndim, 3);
  assert_i64(info.shape[1], 0);
  assert_int_equal(info.count, 0);
  assert_false(info.fortran_order);
  assert_false(info.swapped);
  assert_int_equal(info.data_offset, len);
  assert_npy(WEFT_EINVAL, weft_npy_parse_header(NULL, 0, &info, &err), err);
  free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_numpy_files),
      cmocka_unit_test(test_write_blocks_numpy_reads),
      cmocka_unit_test(test_threads_write_blocks),
      cmocka_unit_test(test_save_and_missing_blocks),
      cmocka_unit_test(test_broken_headers),
      cmocka_unit_test(test_damaged_files_never_crash),
      cmocka_unit_test(test_parse_header_buffer),
  };
  return cmocka_run_group_tests(tests, make_files, NULL);
}
