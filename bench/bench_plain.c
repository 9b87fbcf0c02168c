/* bench_plain.c: every workload as a plain C program making the system
 * calls directly: the limit that the bindings are measured against.
 *
 *   bench_plain pingpong PORT N SIZE       N round trips of SIZE bytes
 *   bench_plain bulk-read TOTAL CHUNK      server: reads TOTAL bytes (timed)
 *   bench_plain bulk-write PORT TOTAL CHUNK
 *   bench_plain readline PORT N            MSG_PEEK + recv per line
 *   bench_plain buffered-readline PORT N BUFSIZE   recv + memchr
 *   bench_plain getaddrinfo N              getaddrinfo("127.0.0.1", "80")
 *   bench_plain accept N                   connect + accept + close cycles
 */
#define _GNU_SOURCE
#include "util.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void send_all(int fd, const char *buf, size_t len) {
  for (size_t sent = 0; sent < len;) {
    ssize_t n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
    if (n < 0)
      bench_die("send");
    sent += (size_t)n;
  }
}

/* Reads exactly len bytes, as readinto does; 0 at a clean EOF. */
static size_t recv_full(int fd, char *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = recv(fd, buf + got, len - got, 0);
    if (n < 0)
      bench_die("recv");
    if (n == 0)
      break;
    got += (size_t)n;
  }
  return got;
}

static int pingpong(char **argv) {
  int fd = bench_connect((int)bench_arg(argv[0], "PORT"));
  long long n = bench_arg(argv[1], "N");
  size_t size = (size_t)bench_arg(argv[2], "SIZE");
  char *msg = bench_xmalloc(size), *buf = bench_xmalloc(size);
  memset(msg, 'p', size);
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    send_all(fd, msg, size);
    if (recv_full(fd, buf, size) != size)
      bench_die("short echo");
  }
  bench_result(bench_now() - t0, n);
  close(fd);
  return 0;
}

static int bulk_read(char **argv) {
  long long total = bench_arg(argv[0], "TOTAL");
  size_t chunk = (size_t)bench_arg(argv[1], "CHUNK");
  int port, lfd = bench_listen(&port, 1);
  int fd = bench_accept(lfd);
  char *buf = bench_xmalloc(chunk);
  long long got = 0;
  double t0 = bench_now();
  while (got < total) {
    size_t n = recv_full(fd, buf, chunk);
    if (n == 0)
      break;
    got += (long long)n;
  }
  bench_result(bench_now() - t0, got);
  close(fd);
  close(lfd);
  return got == total ? 0 : 1;
}

static int bulk_write(char **argv) {
  int fd = bench_connect((int)bench_arg(argv[0], "PORT"));
  long long total = bench_arg(argv[1], "TOTAL");
  size_t chunk = (size_t)bench_arg(argv[2], "CHUNK");
  char *buf = bench_xmalloc(chunk);
  memset(buf, 'b', chunk);
  for (long long left = total; left > 0; left -= (long long)chunk)
    send_all(fd, buf, left < (long long)chunk ? (size_t)left : chunk);
  close(fd);
  return 0;
}

/* The classic way to read a line without taking bytes past it: look with
 * MSG_PEEK, then take up to the newline: two system calls per line. It
 * peeks 256 bytes, the core's first guess, so both look as far. */
static int readline_peek(char **argv) {
  int fd = bench_connect((int)bench_arg(argv[0], "PORT"));
  long long n = bench_arg(argv[1], "N"), count = 0;
  char line[4096];
  double t0 = bench_now();
  while (count < n) {
    size_t len = 0;
    while (len < sizeof line) {
      size_t want = sizeof line - len < 256 ? sizeof line - len : 256;
      ssize_t got = recv(fd, line + len, want, MSG_PEEK);
      if (got <= 0)
        break;
      char *nl = memchr(line + len, '\n', (size_t)got);
      size_t take = nl ? (size_t)(nl - (line + len)) + 1 : (size_t)got;
      got = recv(fd, line + len, take, 0);
      if (got <= 0)
        break;
      len += (size_t)got;
      if (nl && (size_t)got == take)
        break;
    }
    if (len != BENCH_LINE_LEN || line[len - 1] != '\n')
      break;
    count++;
  }
  bench_result(bench_now() - t0, count);
  close(fd);
  return count == n ? 0 : 1;
}

/* What a buffered reader (CPython's makefile, ours) does at best: fill a
 * buffer with one recv, hand out lines from it. */
static int readline_buffered(char **argv) {
  int fd = bench_connect((int)bench_arg(argv[0], "PORT"));
  long long n = bench_arg(argv[1], "N"), count = 0;
  size_t cap = (size_t)bench_arg(argv[2], "BUFSIZE"), head = 0, tail = 0;
  char *buf = bench_xmalloc(cap), line[4096];
  double t0 = bench_now();
  while (count < n) {
    char *nl = memchr(buf + head, '\n', tail - head);
    if (!nl) {
      memmove(buf, buf + head, tail - head);
      tail -= head;
      head = 0;
      ssize_t got = tail < cap ? recv(fd, buf + tail, cap - tail, 0) : -1;
      if (got <= 0)
        break;
      tail += (size_t)got;
      continue;
    }
    size_t len = (size_t)(nl - (buf + head)) + 1;
    if (len != BENCH_LINE_LEN || len > sizeof line)
      break;
    memcpy(line, buf + head, len); /* a line is handed out as a copy */
    head += len;
    count++;
  }
  bench_result(bench_now() - t0, count);
  close(fd);
  return count == n ? 0 : 1;
}

static int resolve(char **argv) {
  long long n = bench_arg(argv[0], "N");
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof hints);
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    if (getaddrinfo("127.0.0.1", "80", &hints, &res) != 0)
      bench_die("getaddrinfo");
    freeaddrinfo(res);
  }
  bench_result(bench_now() - t0, n);
  return 0;
}

static int accept_cycles(char **argv) {
  long long n = bench_arg(argv[0], "N");
  int port, lfd = bench_listen(&port, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  double t0 = bench_now();
  for (long long i = 0; i < n; i++) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa) < 0)
      bench_die("connect");
    int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (a < 0)
      bench_die("accept");
    /* The accepted side closes first, so TIME_WAIT stays on the
     * listener's port and the client's ephemeral ports never run out. */
    close(a);
    close(c);
  }
  bench_result(bench_now() - t0, n);
  close(lfd);
  return 0;
}

static const bench_workload_t workloads[] = {
    {"pingpong", 3, pingpong},
    {"bulk-read", 2, bulk_read},
    {"bulk-write", 3, bulk_write},
    {"readline", 2, readline_peek},
    {"buffered-readline", 3, readline_buffered},
    {"getaddrinfo", 1, resolve},
    {"accept", 1, accept_cycles},
};

int main(int argc, char **argv) {
  bench_start();
  return bench_dispatch(workloads, sizeof workloads / sizeof *workloads,
                        argc - 1, argv + 1, "bench_plain");
}
