/* bench_tls_plain.c: each TLS workload's client as a plain C program on
 * OpenSSL, with blocking descriptors and nothing between the program and
 * the library: the limit that usocket's TLS streams are measured against.
 *
 *   bench_tls_plain CA pingpong PORT N SIZE     SSL_write + SSL_read
 *   bench_tls_plain CA readline PORT N          SSL_read + memchr per line
 *   bench_tls_plain CA bulk-read PORT TOTAL CHUNK
 *   bench_tls_plain CA handshakes PORT N        connect + handshake + close
 *
 * CA: the file the client trusts; every session verifies the server's
 * certificate and its name, as the clients under test do.
 */
#include "tls_util.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static SSL_CTX *ctx;

static SSL *open_session(const char *port, int *fd) {
  *fd = bench_connect((int)bench_arg(port, "PORT"));
  return bench_tls_connect(ctx, *fd);
}

static void close_session(SSL *ssl, int fd) {
  SSL_free(ssl);
  close(fd);
}

static int pingpong(char **argv) {
  int fd;
  SSL *ssl = open_session(argv[0], &fd);
  long long n = bench_arg(argv[1], "N");
  size_t size = (size_t)bench_arg(argv[2], "SIZE");
  char *msg = bench_xmalloc(size), *buf = bench_xmalloc(size);
  memset(msg, 'p', size);
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    bench_tls_write_all(ssl, msg, size);
    if (bench_tls_read_full(ssl, buf, size) != size)
      bench_die("short echo");
  }
  bench_result(bench_now() - t0, n);
  close_session(ssl, fd);
  return 0;
}

/* The least a line reader over TLS can do: decrypt into a buffer as
 * SSL_read gives records, and copy each line out of it. */
static int readline(char **argv) {
  int fd;
  SSL *ssl = open_session(argv[0], &fd);
  long long n = bench_arg(argv[1], "N"), count = 0;
  char buf[16384], line[4096];
  size_t have = 0, at = 0;
  double t0 = bench_now();
  while (count < n) {
    char *nl = memchr(buf + at, '\n', have - at);
    if (!nl) {
      memmove(buf, buf + at, have - at);
      have -= at;
      at = 0;
      size_t got;
      if (!SSL_read_ex(ssl, buf + have, sizeof buf - have, &got))
        break;
      have += got;
      continue;
    }
    size_t len = (size_t)(nl - (buf + at)) + 1;
    if (len != BENCH_LINE_LEN || len > sizeof line)
      break;
    memcpy(line, buf + at, len);
    at += len;
    count++;
  }
  bench_result(bench_now() - t0, count);
  close_session(ssl, fd);
  return count == n ? 0 : 1;
}

static int bulk_read(char **argv) {
  int fd;
  SSL *ssl = open_session(argv[0], &fd);
  long long total = bench_arg(argv[1], "TOTAL"), got = 0;
  size_t chunk = (size_t)bench_arg(argv[2], "CHUNK");
  char *buf = bench_xmalloc(chunk);
  double t0 = bench_now();
  while (got < total) {
    size_t n = bench_tls_read_full(ssl, buf, chunk);
    if (n == 0)
      break;
    got += (long long)n;
  }
  bench_result(bench_now() - t0, got);
  close_session(ssl, fd);
  return got == total ? 0 : 1;
}

static int handshakes(char **argv) {
  long long n = bench_arg(argv[1], "N");
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    int fd;
    SSL *ssl = open_session(argv[0], &fd);
    close_session(ssl, fd);
  }
  bench_result(bench_now() - t0, n);
  return 0;
}

static const bench_workload_t workloads[] = {
    {"pingpong", 3, pingpong},
    {"readline", 2, readline},
    {"bulk-read", 3, bulk_read},
    {"handshakes", 2, handshakes},
};

int main(int argc, char **argv) {
  bench_start();
  if (argc < 3)
    return bench_dispatch(workloads, 0, 0, argv, "bench_tls_plain");
  ctx = bench_tls_client_ctx(argv[1]);
  int r = bench_dispatch(workloads, sizeof workloads / sizeof *workloads,
                         argc - 2, argv + 2, "bench_tls_plain");
  SSL_CTX_free(ctx);
  return r;
}
