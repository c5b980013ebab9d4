/* seed003_image_downloads.c - seed 003 (threads for I/O): ten image
 * downloads, one after the other, then all at once on threads:
 *
 *   def downloadImage(imagePath, fileName):
 *       urllib.request.urlretrieve(imagePath, fileName)
 *   for i in range(10):                                   # sequential
 *       downloadImage("http://lorempixel.com/400/200/sports",
 *                     "temp/image-" + str(i) + ".jpg")
 *   for i in range(10):                                   # concurrent
 *       threading.Thread(target=executeThread, args=(i,)).start()
 *
 * In C, nothing leaves the machine: the example starts its own HTTP server
 * on 127.0.0.1 (libmicrohttpd, one thread per connection) that serves
 * generated 400x200 images (PPM) after a delay, like a slow remote site,
 * and downloads them with libcurl: first in a loop, then as ten futures on
 * the client's I/O pool (weft_submit_io), gathered with weft_gather. Both
 * times are printed (about 10x apart), and every file is read back and
 * compared byte for byte with the image the server generated.
 *
 * Files go to $SEED003_IMAGES_DIR when set (kept), else to a fresh folder
 * under $TMPDIR (or /tmp), removed at the end. Built without libmicrohttpd
 * or libcurl (scripts/deps.sh examples), it says so and does nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

#define SEED003_N 10
#define SEED003_W 400
#define SEED003_H 200
#define SEED003_DELAY_MS 150

/* Image i: a PPM whose pixels are a function of (x, y, i). */
static size_t seed003_image(int i, unsigned char **out) {
  char head[32];
  int hl = snprintf(head, sizeof head, "P6\n%d %d\n255\n", SEED003_W,
                    SEED003_H);
  size_t n = (size_t)hl + (size_t)SEED003_W * SEED003_H * 3;
  unsigned char *p = malloc(n);
  if (!p)
    return 0;
  memcpy(p, head, (size_t)hl);
  unsigned char *px = p + hl;
  for (int y = 0; y < SEED003_H; y++)
    for (int x = 0; x < SEED003_W; x++) {
      *px++ = (unsigned char)(x * 7 + i * 31);
      *px++ = (unsigned char)(y * 5 + i * 17);
      *px++ = (unsigned char)((x ^ y) + i * 13);
    }
  *out = p;
  return n;
}

#ifdef WEFT_HAVE_HTTP
#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>

static double seed003_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The server: GET /image/<i>.ppm, after SEED003_DELAY_MS. */
static enum MHD_Result seed003_serve(void *cls, struct MHD_Connection *conn,
                                     const char *url, const char *method,
                                     const char *version,
                                     const char *upload_data,
                                     size_t *upload_size, void **con_cls) {
  (void)cls;
  (void)version;
  (void)upload_data;
  (void)upload_size;
  (void)con_cls;
  int i = -1;
  char tail[8] = "";
  struct MHD_Response *r;
  enum MHD_Result ret;
  if (strcmp(method, "GET") ||
      sscanf(url, "/image/%d.pp%1s", &i, tail) != 2 || strcmp(tail, "m") ||
      i < 0 || i >= 1000) {
    static const char nf[] = "not found\n";
    r = MHD_create_response_from_buffer(sizeof nf - 1, (void *)nf,
                                        MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, r);
    MHD_destroy_response(r);
    return ret;
  }
  struct timespec d = {0, SEED003_DELAY_MS * 1000000L}; /* a slow site */
  nanosleep(&d, NULL);
  unsigned char *img;
  size_t n = seed003_image(i, &img);
  if (!n)
    return MHD_NO;
  r = MHD_create_response_from_buffer(n, img, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "image/x-portable-pixmap");
  ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

/* downloadImage(url, path): the task, on an I/O thread. Returns the bytes
 * written. */
static int seed003_download(weft_task_ctx *ctx, const weft_value *a, size_t n,
                            weft_value *out) {
  (void)n;
  const char *url = weft_value_str(&a[0]), *path = weft_value_str(&a[1]);
  if (!url || !path)
    return weft_fail(ctx, "downloadImage takes a URL and a file name");
  printf("Downloading Image from %s\n", url);
  FILE *f = fopen(path, "wb");
  if (!f)
    return weft_fail(ctx, "cannot write %s: %s", path, strerror(errno));
  CURL *h = curl_easy_init();
  if (!h) {
    fclose(f);
    return weft_fail(ctx, "curl_easy_init failed");
  }
  long code = 0;
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, f); /* default writer: fwrite */
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_off_t got = 0;
  curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &got);
  curl_easy_cleanup(h);
  if (fclose(f) != 0 && rc == CURLE_OK)
    return weft_fail(ctx, "writing %s: %s", path, strerror(errno));
  if (rc != CURLE_OK)
    return weft_fail(ctx, "%s: %s", url, curl_easy_strerror(rc));
  if (code != 200)
    return weft_fail(ctx, "%s: HTTP status %ld", url, code);
  *out = weft_int((int64_t)got);
  return 0;
}
WEFT_REGISTER_ARITY(seed003_download, 2);

/* File i in dir is exactly image i. */
static int seed003_check(const char *dir, int i) {
  char path[600];
  snprintf(path, sizeof path, "%s/image-%d.ppm", dir, i);
  unsigned char *want;
  size_t n = seed003_image(i, &want);
  FILE *f = fopen(path, "rb");
  int ok = 0;
  if (f && n) {
    unsigned char *got = malloc(n + 1);
    size_t r = got ? fread(got, 1, n + 1, f) : 0;
    ok = r == n && memcmp(got, want, n) == 0;
    if (!ok)
      fprintf(stderr, "seed003: %s: %zu bytes%s, expected %zu\n", path, r,
              r == n ? " that differ" : "", n);
    free(got);
  } else {
    fprintf(stderr, "seed003: cannot read %s\n", path);
  }
  if (f)
    fclose(f);
  if (n)
    free(want);
  return ok;
}

static int seed003_remove_dir(const char *dir) {
  for (int i = 0; i < SEED003_N; i++) {
    char path[600];
    snprintf(path, sizeof path, "%s/image-%d.ppm", dir, i);
    unlink(path);
  }
  return rmdir(dir);
}

int weft_example_seed003_image_downloads(void) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "seed003: curl_global_init failed\n");
    return 1;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
  addr.sin_port = 0;                              /* any free port */
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
      NULL, NULL, seed003_serve, NULL, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&addr, MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
      d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  if (!info) {
    fprintf(stderr, "seed003: cannot start the HTTP server on 127.0.0.1\n");
    if (d)
      MHD_stop_daemon(d);
    curl_global_cleanup();
    return 1;
  }
  unsigned port = info->port;

  char dir[512];
  const char *keep = getenv("SEED003_IMAGES_DIR");
  if (keep && *keep) {
    snprintf(dir, sizeof dir, "%s", keep);
    if (mkdir(dir, 0777) && errno != EEXIST) {
      fprintf(stderr, "seed003: cannot create %s: %s\n", dir, strerror(errno));
      MHD_stop_daemon(d);
      curl_global_cleanup();
      return 1;
    }
  } else {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/weft-seed003-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
      fprintf(stderr, "seed003: cannot create %s: %s\n", dir, strerror(errno));
      MHD_stop_daemon(d);
      curl_global_cleanup();
      return 1;
    }
  }
  printf("seed003: serving %d generated %dx%d images on "
         "http://127.0.0.1:%u/image/<i>.ppm, %d ms each; files in %s\n",
         SEED003_N, SEED003_W, SEED003_H, port, SEED003_DELAY_MS, dir);

  weft_client *c;
  weft_client_opts o;
  weft_client_opts_init(&o);
  o.io_workers = 32;
  int rc = weft_client_new(&o, &c);
  int failed = rc != 0;
  double t_seq = 0, t_conc = 0;
  if (!failed) {
    /* sequential: one after the other, in this thread */
    double t0 = seed003_now();
    for (int i = 0; i < SEED003_N && !failed; i++) {
      char url[128], path[600];
      snprintf(url, sizeof url, "http://127.0.0.1:%u/image/%d.ppm", port, i);
      snprintf(path, sizeof path, "%s/image-%d.ppm", dir, i);
      weft_value args[2], out = weft_none();
      weft_str_new(&args[0], url);
      weft_str_new(&args[1], path);
      if (seed003_download(NULL, args, 2, &out)) {
        fprintf(stderr, "seed003: downloading %s failed\n", url);
        failed = 1;
      }
      weft_value_release(&args[0]);
      weft_value_release(&args[1]);
    }
    t_seq = seed003_now() - t0;
    printf("Execution time: %.3f s (sequential)\n", t_seq);
    for (int i = 0; i < SEED003_N && !failed; i++)
      failed |= !seed003_check(dir, i);
  }
  if (!failed) {
    for (int i = 0; i < SEED003_N; i++) { /* fresh files for the second run */
      char path[600];
      snprintf(path, sizeof path, "%s/image-%d.ppm", dir, i);
      unlink(path);
    }
    /* concurrent: ten futures on the I/O pool */
    double t0 = seed003_now();
    weft_future *fs[SEED003_N];
    for (int i = 0; i < SEED003_N; i++) {
      char url[128], path[600];
      snprintf(url, sizeof url, "http://127.0.0.1:%u/image/%d.ppm", port, i);
      snprintf(path, sizeof path, "%s/image-%d.ppm", dir, i);
      fs[i] = weft_submit_io(c, seed003_download, url, path);
    }
    weft_value sizes[SEED003_N];
    size_t bad = 0;
    rc = weft_gather(SEED003_N, fs, sizes, &bad);
    t_conc = seed003_now() - t0;
    if (rc) {
      fprintf(stderr, "seed003: %s\n", weft_future_error(fs[bad]));
      failed = 1;
    }
    for (int i = 0; i < SEED003_N; i++) {
      weft_value_release(&sizes[i]);
      weft_future_release(fs[i]);
    }
    printf("Total Execution Time %.3f s (concurrent, %d futures on the "
           "client's I/O threads)\n", t_conc, SEED003_N);
    for (int i = 0; i < SEED003_N && !failed; i++)
      failed |= !seed003_check(dir, i);
  }
  weft_client_close(c);
  MHD_stop_daemon(d);
  curl_global_cleanup();
  if (!failed) {
    printf("seed003: the %d files are byte for byte the served images; "
           "concurrent is %.1fx faster\n", SEED003_N, t_seq / t_conc);
    if (t_conc > t_seq / 3) {
      fprintf(stderr, "seed003: concurrent downloads were not faster "
                      "(%.3f s vs %.3f s)\n", t_conc, t_seq);
      failed = 1;
    }
  }
  if (!keep || !*keep)
    seed003_remove_dir(dir);
  return failed;
}

#else /* no libmicrohttpd or libcurl in this build */

int weft_example_seed003_image_downloads(void) {
  unsigned char *img;
  size_t n = seed003_image(0, &img);
  if (n)
    free(img);
  printf("seed003_image_downloads: skipped: this build has no libmicrohttpd "
         "and libcurl (scripts/deps.sh examples)\n");
  return 0;
}

#endif

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_seed003_image_downloads(); }
#endif
