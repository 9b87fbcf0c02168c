/* bench_tls_capi.c: the TLS workloads of bench_tls_plain.c through
 * usocket's TLS streams (us_tls_*), with whichever engine the library was
 * built with: the core's own cost over TLS is the difference.
 *
 *   bench_tls_capi CA pingpong PORT N SIZE     us_tls_write + us_tls_read
 *   bench_tls_capi CA readline PORT N          us_tls_readline
 *   bench_tls_capi CA bulk-read PORT TOTAL CHUNK
 *   bench_tls_capi CA handshakes PORT N        connect + handshake + close
 */
#include "util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "usocket.h"

/* The name the peer's certificate is for (bench/tls_util.h). */
#define HOST "localhost"

static void check(long long r, const char *what) {
  if (r < 0) {
    fprintf(stderr, "bench: %s: %s\n", what, us_strerror((int)r));
    exit(2);
  }
}

static us_tls_ctx_t *ctx;
static us_addr_t peer;

typedef struct session {
  us_socket_t s;
  us_tls_t *t;
} session_t;

static void open_session(session_t *ss) {
  check(us_socket_open(&ss->s, AF_INET, SOCK_STREAM, 0), "us_socket_open");
  check(us_connect(&ss->s, &peer), "us_connect");
  int one = 1;
  check(us_setsockopt(&ss->s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one),
        "TCP_NODELAY");
  check(us_tls_new(&ss->t, ctx, &ss->s, HOST), "us_tls_new");
  check(us_tls_handshake(ss->t), "us_tls_handshake");
}

static void close_session(session_t *ss) {
  us_tls_free(ss->t);
  us_socket_close(&ss->s);
}

static int pingpong(char **argv) {
  session_t ss;
  us_sink_t sink;
  open_session(&ss);
  long long n = bench_arg(argv[1], "N");
  size_t size = (size_t)bench_arg(argv[2], "SIZE");
  char *msg = bench_xmalloc(size), *buf = bench_xmalloc(size);
  memset(msg, 'p', size);
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    check(us_tls_write(ss.t, msg, size), "us_tls_write");
    us_sink_fixed(&sink, buf, size);
    if (us_tls_read(ss.t, &sink, size) != (ssize_t)size)
      bench_die("short echo");
  }
  bench_result(bench_now() - t0, n);
  close_session(&ss);
  return 0;
}

static int readline(char **argv) {
  session_t ss;
  us_sink_t sink;
  char line[4096];
  open_session(&ss);
  long long n = bench_arg(argv[1], "N"), count = 0;
  double t0 = bench_now();
  while (count < n) {
    us_sink_fixed(&sink, line, sizeof line);
    ssize_t len = us_tls_readline(ss.t, &sink, sizeof line);
    if (len != BENCH_LINE_LEN || line[len - 1] != '\n')
      break;
    count++;
  }
  bench_result(bench_now() - t0, count);
  close_session(&ss);
  return count == n ? 0 : 1;
}

static int bulk_read(char **argv) {
  session_t ss;
  us_sink_t sink;
  open_session(&ss);
  long long total = bench_arg(argv[1], "TOTAL"), got = 0;
  size_t chunk = (size_t)bench_arg(argv[2], "CHUNK");
  char *buf = bench_xmalloc(chunk);
  double t0 = bench_now();
  while (got < total) {
    us_sink_fixed(&sink, buf, chunk);
    ssize_t n = us_tls_read(ss.t, &sink, chunk);
    check(n, "us_tls_read");
    if (n == 0)
      break;
    got += n;
  }
  bench_result(bench_now() - t0, got);
  close_session(&ss);
  return got == total ? 0 : 1;
}

static int handshakes(char **argv) {
  long long n = bench_arg(argv[1], "N");
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    session_t ss;
    open_session(&ss);
    close_session(&ss);
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
  if (argc < 4)
    return bench_dispatch(workloads, 0, 0, argv, "bench_tls_capi");
  check(us_tls_ctx_new(&ctx, US_TLS_CLIENT), "us_tls_ctx_new");
  check(us_tls_ctx_ca_file(ctx, argv[1]), "us_tls_ctx_ca_file");
  check(us_addr_parse(&peer, AF_INET, "127.0.0.1",
                      (uint16_t)bench_arg(argv[3], "PORT")),
        "us_addr_parse");
  int r = bench_dispatch(workloads, sizeof workloads / sizeof *workloads,
                         argc - 2, argv + 2, "bench_tls_capi");
  us_tls_ctx_free(ctx);
  return r;
}
