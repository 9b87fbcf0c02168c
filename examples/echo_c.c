/* echo_c.c: a line echo over loopback through usocket's C API.
 *
 * A forked child accepts one connection and echoes every line; the parent
 * sends a few lines, checks each echo byte for byte, and exits non-zero on
 * any mismatch or error. Every socket has a timeout, so nothing can hang.
 *
 *   cc echo_c.c $(pkg-config --cflags --libs usocket) -o echo_c
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <usocket.h>

#define TIMEOUT_NS ((int64_t)5 * 1000 * 1000 * 1000)
#define LINE_MAX_LEN 4096

static int fail(const char *what, int err) {
  fprintf(stderr, "echo_c: %s: %s\n", what, us_strerror(err));
  return 1;
}

/* The child's side: one client, each line sent back as it came. */
static int serve(us_socket_t *lsn) {
  us_socket_t conn;
  char line[LINE_MAX_LEN];
  us_sink_t sink;
  int r = us_accept(lsn, &conn, NULL);
  us_socket_close(lsn);
  if (r < 0)
    return fail("accept", r);
  for (;;) {
    us_sink_fixed(&sink, line, sizeof line);
    ssize_t n = us_readline(&conn, &sink, sizeof line);
    if (n <= 0) {
      us_socket_close(&conn);
      return n < 0 ? fail("server readline", (int)n) : 0;
    }
    /* A short count means an error stopped the write; the next call
     * would report it, but the client's check will catch it anyway. */
    ssize_t w = us_write(&conn, line, (size_t)n);
    if (w != n) {
      us_socket_close(&conn);
      return fail("server write", w < 0 ? (int)w : -EIO);
    }
  }
}

/* The parent's side: each line out, its echo back, compared. Returns the
 * number of bytes echoed, or -1. */
static long exchange(const us_addr_t *addr, const char *const *lines) {
  us_socket_t s;
  char got[LINE_MAX_LEN];
  us_sink_t sink;
  long total = 0;
  int r = us_socket_open(&s, AF_INET, SOCK_STREAM, 0);
  if (r < 0)
    return fail("socket", r), -1;
  if ((r = us_settimeout(&s, TIMEOUT_NS)) < 0 ||
      (r = us_connect(&s, addr)) < 0) {
    us_socket_close(&s);
    return fail("connect", r), -1;
  }
  for (; *lines; lines++) {
    size_t len = strlen(*lines);
    ssize_t n = us_write(&s, *lines, len);
    if (n != (ssize_t)len) {
      us_socket_close(&s);
      return fail("client write", n < 0 ? (int)n : -EIO), -1;
    }
    us_sink_fixed(&sink, got, sizeof got);
    n = us_readline(&s, &sink, sizeof got);
    if (n != (ssize_t)len || memcmp(got, *lines, len) != 0) {
      fprintf(stderr, "echo_c: sent %zu bytes, got %zd back: %s\n", len, n,
              n < 0 ? us_strerror((int)n) : "different bytes");
      us_socket_close(&s);
      return -1;
    }
    total += (long)n;
  }
  us_socket_close(&s);
  return total;
}

int main(void) {
  static const char *const lines[] = {
      "hello from C\n",
      "usocket: MicroPython's socket model, as a C library\n",
      "\n",
      "the next line is the last one\n",
      "bye\n",
      NULL,
  };
  us_socket_t lsn;
  us_addr_t addr;
  char host[64];
  int r;
  if ((r = us_socket_open(&lsn, AF_INET, SOCK_STREAM, 0)) < 0)
    return fail("socket", r);
  if ((r = us_settimeout(&lsn, TIMEOUT_NS)) < 0 ||
      (r = us_addr_parse(&addr, AF_INET, "127.0.0.1", 0)) < 0 ||
      (r = us_bind(&lsn, &addr)) < 0 ||
      (r = us_listen(&lsn, US_LISTEN_DEFAULT)) < 0 ||
      (r = us_getsockname(&lsn, &addr)) < 0)
    return fail("listen", r);

  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    return fail("fork", -errno);
  if (pid == 0)
    _exit(serve(&lsn));
  us_socket_close(&lsn);

  long total = exchange(&addr, lines);
  int status = 0;
  /* The client has closed (EOF for the child), and the child's every wait
   * is bounded by its timeout: this wait ends. */
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  int child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  us_addr_format(&addr, host, sizeof host);
  size_t nlines = sizeof lines / sizeof lines[0] - 1;
  if (total < 0 || !child_ok) {
    fprintf(stderr, "echo_c: FAILED (client %s, server %s)\n",
            total < 0 ? "failed" : "ok", child_ok ? "ok" : "failed");
    return 1;
  }
  printf("echo_c: %zu lines, %ld bytes echoed via %s:%u by child %d: ok\n",
         nlines, total, host, (unsigned)addr.port, (int)pid);
  return 0;
}
