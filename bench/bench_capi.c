/* bench_capi.c: the workloads of bench_plain.c through usocket's C API,
 * so that the core's own cost is the difference between the two.
 *
 *   bench_capi pingpong PORT N SIZE        us_write + us_read
 *   bench_capi bulk-read TOTAL CHUNK       server: us_read (timed)
 *   bench_capi bulk-write PORT TOTAL CHUNK us_write
 *   bench_capi readline PORT N             us_readline
 *   bench_capi getaddrinfo N               us_getaddrinfo("127.0.0.1", "80")
 *   bench_capi accept N                    us_connect + us_accept + closes
 */
#include "util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "usocket.h"

static void check(long long r, const char *what) {
  if (r < 0) {
    fprintf(stderr, "bench: %s: %s\n", what, us_strerror((int)r));
    exit(2);
  }
}

static void open_tcp(us_socket_t *s) {
  check(us_socket_open(s, AF_INET, SOCK_STREAM, 0), "us_socket_open");
}

static void connect_to(us_socket_t *s, const char *port) {
  us_addr_t addr;
  open_tcp(s);
  check(us_addr_parse(&addr, AF_INET, "127.0.0.1",
                      (uint16_t)bench_arg(port, "PORT")),
        "us_addr_parse");
  check(us_connect(s, &addr), "us_connect");
  int one = 1;
  check(us_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one),
        "TCP_NODELAY");
}

/* A listening socket on 127.0.0.1 at an ephemeral port. */
static void listen_any(us_socket_t *s, us_addr_t *addr, int announce) {
  open_tcp(s);
  check(us_addr_parse(addr, AF_INET, "127.0.0.1", 0), "us_addr_parse");
  check(us_bind(s, addr), "us_bind");
  check(us_listen(s, US_LISTEN_DEFAULT), "us_listen");
  check(us_getsockname(s, addr), "us_getsockname");
  if (announce) {
    printf("port %d\n", addr->port);
    fflush(stdout);
  }
}

static int pingpong(char **argv) {
  us_socket_t s;
  us_sink_t sink;
  connect_to(&s, argv[0]);
  long long n = bench_arg(argv[1], "N");
  size_t size = (size_t)bench_arg(argv[2], "SIZE");
  char *msg = bench_xmalloc(size), *buf = bench_xmalloc(size);
  memset(msg, 'p', size);
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    check(us_write(&s, msg, size), "us_write");
    us_sink_fixed(&sink, buf, size);
    if (us_read(&s, &sink, size) != (ssize_t)size)
      bench_die("short echo");
  }
  bench_result(bench_now() - t0, n);
  us_socket_close(&s);
  return 0;
}

static int bulk_read(char **argv) {
  us_socket_t l, s;
  us_addr_t addr;
  us_sink_t sink;
  long long total = bench_arg(argv[0], "TOTAL"), got = 0;
  size_t chunk = (size_t)bench_arg(argv[1], "CHUNK");
  char *buf = bench_xmalloc(chunk);
  listen_any(&l, &addr, 1);
  check(us_accept(&l, &s, NULL), "us_accept");
  double t0 = bench_now();
  while (got < total) {
    us_sink_fixed(&sink, buf, chunk);
    ssize_t n = us_read(&s, &sink, chunk);
    check(n, "us_read");
    if (n == 0)
      break;
    got += n;
  }
  bench_result(bench_now() - t0, got);
  us_socket_close(&s);
  us_socket_close(&l);
  return got == total ? 0 : 1;
}

static int bulk_write(char **argv) {
  us_socket_t s;
  connect_to(&s, argv[0]);
  long long total = bench_arg(argv[1], "TOTAL");
  size_t chunk = (size_t)bench_arg(argv[2], "CHUNK");
  char *buf = bench_xmalloc(chunk);
  memset(buf, 'b', chunk);
  for (long long left = total; left > 0; left -= (long long)chunk) {
    size_t len = left < (long long)chunk ? (size_t)left : chunk;
    check(us_write(&s, buf, len), "us_write");
  }
  us_socket_close(&s);
  return 0;
}

static int readline(char **argv) {
  us_socket_t s;
  us_sink_t sink;
  char line[4096];
  connect_to(&s, argv[0]);
  long long n = bench_arg(argv[1], "N"), count = 0;
  double t0 = bench_now();
  while (count < n) {
    us_sink_fixed(&sink, line, sizeof line);
    ssize_t len = us_readline(&s, &sink, sizeof line);
    if (len != BENCH_LINE_LEN || line[len - 1] != '\n')
      break;
    count++;
  }
  bench_result(bench_now() - t0, count);
  us_socket_close(&s);
  return count == n ? 0 : 1;
}

static int count_result(void *ctx, const us_addrinfo_t *ai) {
  (void)ai;
  ++*(int *)ctx;
  return 0;
}

static int resolve(char **argv) {
  long long n = bench_arg(argv[0], "N");
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    int results = 0;
    check(us_getaddrinfo("127.0.0.1", "80", 0, 0, 0, 0, count_result, &results),
          "us_getaddrinfo");
  }
  bench_result(bench_now() - t0, n);
  return 0;
}

static int accept_cycles(char **argv) {
  us_socket_t l, c, a;
  us_addr_t addr;
  long long n = bench_arg(argv[0], "N");
  listen_any(&l, &addr, 0);
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    open_tcp(&c);
    check(us_connect(&c, &addr), "us_connect");
    check(us_accept(&l, &a, NULL), "us_accept");
    /* Accepted side first: see bench_plain.c. */
    us_socket_close(&a);
    us_socket_close(&c);
  }
  bench_result(bench_now() - t0, n);
  us_socket_close(&l);
  return 0;
}

static const bench_workload_t workloads[] = {
    {"pingpong", 3, pingpong},     {"bulk-read", 2, bulk_read},
    {"bulk-write", 3, bulk_write}, {"readline", 2, readline},
    {"getaddrinfo", 1, resolve},   {"accept", 1, accept_cycles},
};

int main(int argc, char **argv) {
  bench_start();
  return bench_dispatch(workloads, sizeof workloads / sizeof *workloads,
                        argc - 1, argv + 1, "bench_capi");
}
