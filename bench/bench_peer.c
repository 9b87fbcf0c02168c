/* bench_peer.c: the plain-C peer that every implementation under test
 * talks to, so that a workload's figures differ only by the measured side.
 *
 *   bench_peer echo SIZE   accepts one connection and echoes SIZE-byte
 *                          messages until EOF (the ping-pong server)
 *   bench_peer lines N     accepts one connection, writes N lines of
 *                          BENCH_LINE_LEN bytes as fast as it can, then
 *                          waits for the reader to close
 */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Lines go out in blocks of whole lines, as fast as the kernel takes them:
 * the writer must never be the bottleneck. 64,000 bytes stay under the
 * loopback MSS (65,483), so a block is one segment and a line is seldom
 * split between two (a split line costs the reader more system calls). */
#define LINES_PER_BLOCK 1600

static int echo(int fd, size_t size) {
  char *buf = malloc(size);
  if (!buf)
    bench_die("malloc");
  for (;;) {
    size_t got = 0;
    while (got < size) {
      ssize_t n = recv(fd, buf + got, size - got, 0);
      if (n < 0)
        bench_die("echo recv");
      if (n == 0) { /* the client is done; a partial message is its bug */
        free(buf);
        return got == 0 ? 0 : 1;
      }
      got += (size_t)n;
    }
    for (size_t sent = 0; sent < size;) {
      ssize_t n = send(fd, buf + sent, size - sent, 0);
      if (n < 0)
        bench_die("echo send");
      sent += (size_t)n;
    }
  }
}

static int lines(int fd, long long count) {
  size_t block = (size_t)LINES_PER_BLOCK * BENCH_LINE_LEN;
  char *buf = malloc(block), drain[256];
  if (!buf)
    bench_die("malloc");
  bench_fill_lines(buf, block);
  for (long long left = count; left > 0;) {
    long long now = left < LINES_PER_BLOCK ? left : LINES_PER_BLOCK;
    size_t len = (size_t)now * BENCH_LINE_LEN;
    for (size_t sent = 0; sent < len;) {
      ssize_t n = send(fd, buf + sent, len - sent, 0);
      if (n < 0)
        bench_die("lines send");
      sent += (size_t)n;
    }
    left -= now;
  }
  free(buf);
  shutdown(fd, SHUT_WR);
  /* Closing before the reader has everything could reset the connection
   * and cut its data short, so wait for its EOF first. */
  while (recv(fd, drain, sizeof drain, 0) > 0)
    ;
  return 0;
}

int main(int argc, char **argv) {
  int port;
  bench_start();
  if (argc != 3 || (strcmp(argv[1], "echo") && strcmp(argv[1], "lines"))) {
    fprintf(stderr, "usage: bench_peer echo SIZE | lines N\n");
    return 2;
  }
  long long n = bench_arg(argv[2], argv[1][0] == 'e' ? "SIZE" : "N");
  int lfd = bench_listen(&port, 1);
  int fd = bench_accept(lfd);
  close(lfd);
  bench_nodelay(fd);
  int r = argv[1][0] == 'e' ? echo(fd, n > 0 ? (size_t)n : 1) : lines(fd, n);
  close(fd);
  return r;
}
