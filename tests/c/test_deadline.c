/* test_deadline.c: us_set_deadline bounds a thread's calls without
 * changing any socket's timeout. */
#include "test.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#define MS ((int64_t)1000000)

static int64_t bound(int64_t ms) { return us_now() + ms * MS; }

/* Asserts a call that began at t0 ended by a deadline ms after it. */
static void ended_at(int64_t t0, int64_t ms) {
  int64_t dt = now_ms() - t0;
  if (dt < ms - 1 || dt > LATE_MS(ms)) {
    fprintf(stderr, "ended after %lld ms, deadline %lld ms\n", (long long)dt,
            (long long)ms);
    ASSERT(0);
  }
}

static void deadline_bounds_a_blocking_receive(void) {
  us_socket_t a, b;
  char buf[8];
  tcp_pair(&a, &b);
  int64_t t0 = now_ms();
  int64_t was = us_set_deadline(bound(200));
  ASSERT_EQ(was, US_DEADLINE_NONE);
  ASSERT_EQ(us_recv(&a, buf, sizeof buf, 0), -ETIMEDOUT);
  ended_at(t0, 200);
  ASSERT_EQ(a.timeout_ns, US_TIMEOUT_BLOCK); /* the socket's is unchanged */
  us_set_deadline(was);
  /* Without it, the socket blocks again: what comes is received. */
  ASSERT_EQ(us_send(&b, "x", 1, 0), 1);
  ASSERT_EQ(us_recv(&a, buf, sizeof buf, 0), 1);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void deadline_and_timeout_the_sooner_wins(void) {
  us_socket_t a, b;
  char buf[8];
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&a, 5000 * MS));
  int64_t t0 = now_ms();
  int64_t was = us_set_deadline(bound(150));
  ASSERT_EQ(us_recv(&a, buf, sizeof buf, 0), -ETIMEDOUT);
  ended_at(t0, 150);
  ASSERT_OK(us_settimeout(&a, 150 * MS));
  us_set_deadline(bound(5000));
  t0 = now_ms();
  ASSERT_EQ(us_recv(&a, buf, sizeof buf, 0), -ETIMEDOUT);
  ended_at(t0, 150);
  ASSERT_EQ(a.timeout_ns, 150 * MS);
  us_set_deadline(was);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void deadline_keeps_nonblocking_and_takes_what_is_ready(void) {
  us_socket_t a, b;
  char buf[8];
  us_sink_t sink;
  tcp_pair(&a, &b);
  int64_t was = us_set_deadline(us_now() - 1); /* passed already */
  ASSERT_OK(us_settimeout(&a, US_TIMEOUT_NONBLOCK));
  ASSERT_EQ(us_recv(&a, buf, sizeof buf, 0), -EAGAIN);
  ASSERT_OK(us_settimeout(&a, US_TIMEOUT_BLOCK));
  ASSERT_EQ(us_send(&b, "abc", 3, 0), 3);
  /* Ready at once: taken even past the deadline, and a stream read that
   * wanted more ends with the short count, as on a timeout. */
  struct pollfd p = {a.fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_read(&a, &sink, sizeof buf), 3);
  ASSERT_EQ(us_read(&a, &sink, sizeof buf - 3), -ETIMEDOUT);
  us_set_deadline(was);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void deadline_bounds_accept_poll_and_connect_name(void) {
  us_socket_t lsn, conn, c;
  us_addr_t addr;
  us_pollset_t *ps;
  us_pollev_t ev;
  char port[8];
  tcp_listener(&lsn, &addr);
  int64_t t0 = now_ms();
  int64_t was = us_set_deadline(bound(150));
  ASSERT_EQ(us_accept(&lsn, &conn, NULL), -ETIMEDOUT);
  ended_at(t0, 150);
  ASSERT_OK(us_pollset_new(&ps, 0));
  ASSERT_OK(us_pollset_add_socket(ps, &lsn, US_POLLIN, NULL));
  us_set_deadline(bound(150));
  t0 = now_ms();
  ASSERT_EQ(us_pollset_wait(ps, &ev, 1, US_TIMEOUT_BLOCK, 0), 0);
  ended_at(t0, 150);
  us_pollset_free(ps);
  /* Passed: a connection that needs waiting for is not made. */
  snprintf(port, sizeof port, "%u", (unsigned)addr.port);
  int fds = open_fds();
  us_set_deadline(us_now() - 1);
  ASSERT_EQ(us_create_connection(&c, "127.0.0.1", port, US_TIMEOUT_BLOCK, NULL),
            -ETIMEDOUT);
  ASSERT_EQ(open_fds(), fds);
  us_set_deadline(was);
  us_socket_close(&lsn);
}

TEST_TABLE(deadline_tests) = {
    {"deadline_bounds_a_blocking_receive", deadline_bounds_a_blocking_receive},
    {"deadline_and_timeout_the_sooner_wins",
     deadline_and_timeout_the_sooner_wins},
    {"deadline_keeps_nonblocking_and_takes_what_is_ready",
     deadline_keeps_nonblocking_and_takes_what_is_ready},
    {"deadline_bounds_accept_poll_and_connect_name",
     deadline_bounds_accept_poll_and_connect_name},
    TEST_END};
