/* test_nonblocking.c: a non-blocking call never waits, even when its
 * socket is made blocking while it runs (by a host callback it makes, or
 * by another thread while the host's lock is released): the call keeps
 * the timeout it began with. Under CPython such a wait would hold the
 * GIL, stopping every thread. */
#include "test.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

static us_socket_t *victim;
static int checks;

static void *plain_unlock(void) { return &checks; }

static void plain_lock(void *token) { ASSERT(token == &checks); }

/* The host's signal check, run between the pieces of a long send: its
 * handler makes the socket blocking. */
static int make_blocking(void) {
  if (checks++ == 0)
    ASSERT_OK(us_settimeout(victim, US_TIMEOUT_BLOCK));
  return 0;
}

static const us_host_t blocking_handler_host = {plain_unlock, plain_lock,
                                                make_blocking, NULL};

static void set_int(us_socket_t *s, int name, int value) {
  ASSERT_OK(us_setsockopt(s, SOL_SOCKET, name, &value, sizeof value));
}

/* The bug's wait for room the peer never makes ends at SO_SNDTIMEO; a
 * non-blocking call must not wait at all. */
#define SNDTIMEO_S 2

static void test_nonblocking_sendall_made_blocking_meanwhile_never_waits(void) {
  us_socket_t a, b;
  tcp_pair(&a, &b);
  set_int(&a, SO_SNDBUF, 4096); /* small buffers: the first piece is short */
  set_int(&b, SO_RCVBUF, 4096);
  struct timeval tv = {SNDTIMEO_S, 0};
  ASSERT_OK(us_setsockopt(&a, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
  ASSERT_OK(us_settimeout(&a, 0));
  size_t len = (size_t)8 << 20, sent = 0;
  char *buf = calloc(len, 1);
  ASSERT(buf);
  victim = &a;
  checks = 0;
  us_set_host(&blocking_handler_host);
  int64_t t0 = now_ms();
  int r = us_sendall(&a, buf, len, 0, &sent);
  int64_t took = now_ms() - t0;
  us_set_host(NULL);
  ASSERT(checks >= 1); /* made blocking in the middle of the call */
  ASSERT_EQ(r, -EAGAIN);
  ASSERT(sent > 0 && sent < len);
  if (took >= LATE_MS(0)) {
    fprintf(stderr, "a non-blocking sendall waited %lld ms\n", (long long)took);
    ASSERT(took < LATE_MS(0));
  }
  free(buf);
  ASSERT_OK(us_socket_close(&a));
  ASSERT_OK(us_socket_close(&b));
}

TEST_TABLE(nonblocking_tests) = {
    {"nonblocking_sendall_made_blocking_meanwhile_never_waits",
     test_nonblocking_sendall_made_blocking_meanwhile_never_waits},
    TEST_END};
