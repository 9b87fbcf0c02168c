/* bench_load.c: the load generator of the echo-server workload. It opens
 * CONNS connections to 127.0.0.1:PORT and keeps one SIZE-byte message in
 * flight on each, in one epoll loop, until COUNT round trips in all have
 * come back; the server under test only echoes.
 *
 *   bench_load PORT CONNS SIZE COUNT
 *
 * Every connection first makes one untimed round trip, so that the server
 * has accepted and registered them all before the clock starts; then
 * COUNT round trips are timed and "result SECONDS COUNT" printed. Closing
 * every connection afterwards is what tells the server to end.
 */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 256

typedef struct {
  int fd;
  size_t got; /* bytes of the echo in flight received so far */
} conn_t;

static size_t msg_size;
static char *msg, *scratch;

/* One message on an idle connection. Its send buffer is empty (the
 * previous echo came back whole), so a short send cannot happen. */
static void send_msg(conn_t *c) {
  if (send(c->fd, msg, msg_size, MSG_NOSIGNAL) != (ssize_t)msg_size)
    bench_die("load send");
  c->got = 0;
}

/* Reads what is there of c's echo; 1 when it is complete. */
static int recv_echo(conn_t *c) {
  ssize_t n = recv(c->fd, scratch, msg_size - c->got, MSG_DONTWAIT);
  if (n == 0) {
    fprintf(stderr, "bench_load: the server closed a connection\n");
    exit(2);
  }
  if (n < 0)
    return 0; /* a spurious wake-up: EAGAIN */
  c->got += (size_t)n;
  return c->got == msg_size;
}

/* Runs until `want` round trips have come back, starting a new one after
 * each while fewer than `limit` have been started; `started` counts the
 * ones already in flight. */
static void run(int ep, long long started, long long limit, long long want) {
  struct epoll_event ev[BATCH];
  for (long long done = 0; done < want;) {
    int n = epoll_wait(ep, ev, BATCH, BENCH_TIME_LIMIT_S * 1000);
    if (n <= 0)
      bench_die("load epoll_wait");
    for (int i = 0; i < n; i++) {
      conn_t *c = ev[i].data.ptr;
      if (!recv_echo(c))
        continue;
      done++;
      if (started < limit) {
        send_msg(c);
        started++;
      }
    }
  }
}

int main(int argc, char **argv) {
  bench_start();
  if (argc != 5) {
    fprintf(stderr, "usage: bench_load PORT CONNS SIZE COUNT\n");
    return 2;
  }
  int port = (int)bench_arg(argv[1], "PORT");
  long long conns = bench_arg(argv[2], "CONNS");
  msg_size = (size_t)bench_arg(argv[3], "SIZE");
  long long count = bench_arg(argv[4], "COUNT");
  if (conns < 1 || msg_size < 1) {
    fprintf(stderr, "bench_load: CONNS and SIZE must be at least 1\n");
    return 2;
  }
  bench_enough_fds(conns);
  msg = malloc(msg_size);
  scratch = malloc(msg_size);
  conn_t *c = calloc((size_t)conns, sizeof *c);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!msg || !scratch || !c || ep < 0)
    bench_die("load set-up");
  memset(msg, 'e', msg_size);
  for (long long i = 0; i < conns; i++) {
    c[i].fd = bench_connect(port);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &c[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &e) < 0)
      bench_die("load epoll_ctl");
  }
  for (long long i = 0; i < conns; i++)
    send_msg(&c[i]);
  run(ep, conns, conns, conns); /* the untimed round, one per connection */
  long long first = count < conns ? count : conns;
  double t0 = bench_now();
  for (long long i = 0; i < first; i++)
    send_msg(&c[i]);
  run(ep, first, count, count);
  double t = bench_now() - t0;
  for (long long i = 0; i < conns; i++)
    close(c[i].fd);
  close(ep);
  bench_result(t, count);
  free(c);
  free(msg);
  free(scratch);
  return 0;
}
