/* util.c: the C benchmarks' shared run protocol, clock and set-up. */
#define _GNU_SOURCE
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void bench_die(const char *what) {
  fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
  exit(2);
}

long long bench_arg(const char *text, const char *name) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || *end || end == text || v < 0) {
    fprintf(stderr, "bench: bad %s: '%s'\n", name, text);
    exit(2);
  }
  return v;
}

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_start(void) {
  signal(SIGPIPE, SIG_IGN);
  alarm(BENCH_TIME_LIMIT_S);
}

void bench_result(double seconds, long long count) {
  printf("result %.9f %lld\n", seconds, count);
  fflush(stdout);
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

int bench_listen(int *port, int announce) {
  /* The accept-cycle workloads keep up to this many connections queued. */
  return bench_listen_backlog(port, announce, 128);
}

int bench_listen_backlog(int *port, int announce, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    bench_die("socket");
  struct sockaddr_in sa = loopback(0);
  socklen_t len = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    bench_die("bind");
  if (listen(fd, backlog) < 0)
    bench_die("listen");
  if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
    bench_die("getsockname");
  *port = ntohs(sa.sin_port);
  if (announce) {
    printf("port %d\n", *port);
    fflush(stdout);
  }
  return fd;
}

int bench_accept(int lfd) {
  struct pollfd p = {.fd = lfd, .events = POLLIN, .revents = 0};
  int r = poll(&p, 1, BENCH_TIME_LIMIT_S * 1000);
  if (r == 0)
    errno = ETIMEDOUT;
  if (r <= 0)
    bench_die("waiting for a connection");
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    bench_die("accept");
  return fd;
}

void bench_nodelay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
    bench_die("TCP_NODELAY");
}

int bench_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    bench_die("socket");
  struct sockaddr_in sa = loopback(port);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    bench_die("connect");
  bench_nodelay(fd);
  return fd;
}

void *bench_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    bench_die("malloc");
  return p;
}

int bench_dispatch(const bench_workload_t *table, size_t n, int argc,
                   char **argv, const char *program) {
  for (size_t i = 0; argc >= 1 && i < n; i++) {
    if (strcmp(argv[0], table[i].name) == 0 && argc == 1 + table[i].args)
      return table[i].fn(argv + 1);
  }
  fprintf(stderr, "usage: see the first comment of bench/%s.c\n", program);
  return 2;
}

void bench_fill_lines(char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    size_t col = i % BENCH_LINE_LEN;
    buf[i] = col == BENCH_LINE_LEN - 1 ? '\n' : (char)('a' + col % 26);
  }
}

void bench_enough_fds(long long conns) {
  struct rlimit rl;
  rlim_t want = (rlim_t)conns + 64;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
    bench_die("getrlimit");
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
      fprintf(stderr,
              "bench: %lld connections need %llu descriptors, the "
              "hard limit is %llu\n",
              conns, (unsigned long long)want, (unsigned long long)rl.rlim_max);
      exit(2);
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
      bench_die("setrlimit");
  }
}
