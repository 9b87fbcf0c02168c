/* bench_echo.c: the echo server of the echo-server workload as plain C
 * with epoll: the limit the Python servers are measured against.
 *
 *   bench_echo CONNS SIZE
 *
 * Prints "port N", accepts CONNS connections and echoes what each sends,
 * reading at most SIZE bytes at a time (as the Python servers do); ends
 * when all CONNS have closed.
 */
#define _GNU_SOURCE
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 256

static void send_all(int fd, const char *buf, size_t len) {
  for (size_t sent = 0; sent < len;) {
    ssize_t n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
    if (n < 0)
      bench_die("echo send");
    sent += (size_t)n;
  }
}

static void watch(int ep, int fd) {
  struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
    bench_die("echo epoll_ctl");
}

int main(int argc, char **argv) {
  bench_start();
  if (argc != 3) {
    fprintf(stderr, "usage: bench_echo CONNS SIZE\n");
    return 2;
  }
  long long conns = bench_arg(argv[1], "CONNS");
  size_t size = (size_t)bench_arg(argv[2], "SIZE");
  char *buf = malloc(size ? size : 1);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!buf || ep < 0)
    bench_die("echo set-up");
  bench_enough_fds(conns);
  int port, lfd = bench_listen_backlog(&port, 1, BENCH_BACKLOG);
  watch(ep, lfd);
  long long accepted = 0, closed = 0;
  struct epoll_event ev[BATCH];
  while (closed < conns) {
    int n = epoll_wait(ep, ev, BATCH, BENCH_TIME_LIMIT_S * 1000);
    if (n <= 0)
      bench_die("echo epoll_wait");
    for (int i = 0; i < n; i++) {
      int fd = ev[i].data.fd;
      if (fd == lfd) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
          bench_die("echo accept");
        bench_nodelay(c);
        watch(ep, c);
        if (++accepted == conns)
          close(lfd); /* also leaves the epoll set */
        continue;
      }
      ssize_t got = recv(fd, buf, size, 0);
      if (got > 0) {
        send_all(fd, buf, (size_t)got);
      } else {
        close(fd); /* EOF, or the peer reset: either way it is done */
        closed++;
      }
    }
  }
  close(ep);
  free(buf);
  return 0;
}
