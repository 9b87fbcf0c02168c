/* bench_tls_peer.c: the plain-OpenSSL TLS server that every TLS client
 * under test talks to, so that a TLS workload's figures differ only by
 * the measured side.
 *
 *   bench_tls_peer CERT KEY echo SIZE      one connection: echoes SIZE-byte
 *                                          messages until the client ends
 *   bench_tls_peer CERT KEY lines N        one connection: writes N lines
 *   bench_tls_peer CERT KEY bulk TOTAL     one connection: writes TOTAL bytes
 *   bench_tls_peer CERT KEY handshakes N   N connections, one handshake each
 *   bench_tls_peer CERT KEY hold N         N connections kept open together
 *                                          until the client closes them
 *
 * After lines and bulk it sends close_notify and waits for the client to
 * close, so that nothing is cut short by a reset.
 */
#include "tls_util.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Application data goes out this much at a time: one full TLS record. */
#define RECORD 16384

static void echo(SSL *ssl, size_t size) {
  char *buf = bench_xmalloc(size);
  while (bench_tls_read_full(ssl, buf, size) == size)
    bench_tls_write_all(ssl, buf, size);
  free(buf);
}

/* Sends close_notify, then waits for the client's end (its close_notify
 * or its close). */
static void finish(SSL *ssl, int fd) {
  char drain[256];
  SSL_shutdown(ssl);
  while (recv(fd, drain, sizeof drain, 0) > 0)
    ;
}

static void lines(SSL *ssl, long long count) {
  /* Whole lines per write, about a record's worth. */
  size_t per = RECORD / BENCH_LINE_LEN, block = per * BENCH_LINE_LEN;
  char *buf = bench_xmalloc(block);
  bench_fill_lines(buf, block);
  for (long long left = count; left > 0;) {
    long long now = left < (long long)per ? left : (long long)per;
    bench_tls_write_all(ssl, buf, (size_t)now * BENCH_LINE_LEN);
    left -= now;
  }
  free(buf);
}

static void bulk(SSL *ssl, long long total) {
  char *buf = bench_xmalloc(RECORD);
  memset(buf, 'b', RECORD);
  for (long long left = total; left > 0; left -= RECORD)
    bench_tls_write_all(ssl, buf, left < RECORD ? (size_t)left : RECORD);
  free(buf);
}

/* One session per connection: the handshake, then the client's close.
 * The client sends nothing else, so the read ends at its close (or its
 * close_notify): either is fine here. */
static void handshakes(SSL_CTX *ctx, int lfd, long long n) {
  for (long long i = 0; i < n; i++) {
    int fd = bench_accept(lfd);
    SSL *ssl = bench_tls_accept(ctx, fd);
    char byte;
    (void)SSL_read(ssl, &byte, 1);
    SSL_free(ssl);
    close(fd);
  }
}

/* N sessions open at once, each idle after its handshake (the client
 * measures what an idle one costs it), until the client closes them. */
static void hold(SSL_CTX *ctx, int lfd, long long n) {
  SSL **ssl = bench_xmalloc((size_t)n * sizeof *ssl);
  int *fds = bench_xmalloc((size_t)n * sizeof *fds);
  bench_enough_fds(n);
  for (long long i = 0; i < n; i++) {
    fds[i] = bench_accept(lfd);
    ssl[i] = bench_tls_accept(ctx, fds[i]);
  }
  for (long long i = 0; i < n; i++) {
    char byte;
    (void)SSL_read(ssl[i], &byte, 1);
    SSL_free(ssl[i]);
    close(fds[i]);
  }
  free(ssl);
  free(fds);
}

int main(int argc, char **argv) {
  bench_start();
  if (argc != 5) {
    fprintf(stderr, "usage: see the first comment of bench/bench_tls_peer.c\n");
    return 2;
  }
  const char *mode = argv[3];
  long long n = bench_arg(argv[4], "N");
  SSL_CTX *ctx = bench_tls_server_ctx(argv[1], argv[2]);
  int port, lfd = bench_listen(&port, 1);
  if (strcmp(mode, "handshakes") == 0) {
    handshakes(ctx, lfd, n);
  } else if (strcmp(mode, "hold") == 0) {
    hold(ctx, lfd, n);
  } else {
    int fd = bench_accept(lfd);
    bench_nodelay(fd);
    SSL *ssl = bench_tls_accept(ctx, fd);
    if (strcmp(mode, "echo") == 0)
      echo(ssl, n > 0 ? (size_t)n : 1);
    else if (strcmp(mode, "lines") == 0)
      lines(ssl, n);
    else if (strcmp(mode, "bulk") == 0)
      bulk(ssl, n);
    else
      bench_tls_die("unknown mode");
    finish(ssl, fd);
    SSL_free(ssl);
    close(fd);
  }
  close(lfd);
  SSL_CTX_free(ctx);
  return 0;
}
