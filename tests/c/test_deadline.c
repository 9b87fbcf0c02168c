/* test_deadline.c: us_set_deadline bounds a thread's calls without
 * changing any socket's timeout. */
#include "test.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

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

struct acceptor {
  us_socket_t *lsn;
  int r;
  int64_t took_ms;
  int done;
};

static void *accept_within(void *arg) {
  struct acceptor *a = arg;
  us_socket_t conn;
  int64_t t0 = now_ms();
  us_set_deadline(bound(300));
  a->r = us_accept(a->lsn, &conn, NULL);
  a->took_ms = now_ms() - t0;
  if (a->r == 0)
    us_socket_close(&conn);
  __atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

#define ACCEPTORS 8

/* Threads wait to accept on one blocking listener, each under a per-call
 * deadline, and one connection comes: they all wake, one takes it, and
 * the others must wait on to their deadline, not block in accept(2)
 * (which a blocking descriptor would, once another took the connection
 * between its wake-up and its accept: with eight, some nearly always
 * do). */
static void deadline_holds_for_accepts_that_lose_the_race(void) {
  us_socket_t lsn, c, extra[ACCEPTORS];
  us_addr_t addr;
  struct acceptor k[ACCEPTORS];
  pthread_t t[ACCEPTORS];
  int done = 0, won = 0, late = 0, opened = 0;
  tcp_listener(&lsn, &addr);
  for (int i = 0; i < ACCEPTORS; i++) {
    k[i] = (struct acceptor){&lsn, 1, 0, 0};
    ASSERT_EQ(pthread_create(&t[i], NULL, accept_within, &k[i]), 0);
  }
  usleep(100 * 1000); /* all in their wait (a late one only waits alone) */
  ASSERT_OK(us_socket_open(&c, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_connect(&c, &addr));
  /* Bounded, so that a thread stuck in accept(2) fails the test instead
   * of hanging it: more connections then let the stuck ones go. */
  int64_t t0 = now_ms();
  for (;;) {
    done = 0;
    for (int i = 0; i < ACCEPTORS; i++)
      done += __atomic_load_n(&k[i].done, __ATOMIC_SEQ_CST);
    if (done == ACCEPTORS || now_ms() - t0 > LATE_MS(300))
      break;
    usleep(5000);
  }
  for (; done + opened < ACCEPTORS; opened++) {
    ASSERT_OK(us_socket_open(&extra[opened], AF_INET, SOCK_STREAM, 0));
    ASSERT_OK(us_connect(&extra[opened], &addr));
  }
  for (int i = 0; i < ACCEPTORS; i++) {
    pthread_join(t[i], NULL);
    won += k[i].r == 0;
    late += k[i].r == -ETIMEDOUT && k[i].took_ms > LATE_MS(300);
  }
  for (int i = 0; i < opened; i++)
    us_socket_close(&extra[i]);
  ASSERT_EQ(done, ACCEPTORS);
  ASSERT_EQ(won, 1);
  ASSERT_EQ(late, 0);
  for (int i = 0; i < ACCEPTORS; i++)
    ASSERT(k[i].r == 0 || k[i].r == -ETIMEDOUT);
  us_socket_close(&c);
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
    {"deadline_holds_for_accepts_that_lose_the_race",
     deadline_holds_for_accepts_that_lose_the_race},
    TEST_END};
