/* test_linger.c: a close releases the host's lock only when it may block
 * (SO_LINGER on with a time), whichever way the socket got its SO_LINGER. */
#include "test.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static const us_host_t counting_host = {test_unlock, test_lock, NULL, NULL, 0};

/* How many times closing s released the host's lock (and took it back). */
static int unlocks_to_close(us_socket_t *s) {
  host_unlocks = host_locks = 0;
  us_set_host(&counting_host);
  ASSERT_OK(us_socket_close(s));
  us_set_host(NULL);
  ASSERT_EQ(host_locks, host_unlocks);
  return host_unlocks;
}

static void set_linger(us_socket_t *s, int on, int secs) {
  struct linger l = {on, secs};
  ASSERT_OK(us_setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l));
}

static void test_plain_close_keeps_the_host_lock(void) {
  us_socket_t a, b;
  tcp_pair(&a, &b);
  ASSERT_EQ(unlocks_to_close(&a), 0);
  ASSERT_EQ(unlocks_to_close(&b), 0);
}

static void test_linger_off_or_zero_keeps_the_host_lock(void) {
  us_socket_t a, b;
  tcp_pair(&a, &b);
  set_linger(&a, 0, 5); /* off: close never blocks */
  set_linger(&b, 1, 0); /* a reset: close never blocks */
  ASSERT_EQ(unlocks_to_close(&a), 0);
  ASSERT_EQ(unlocks_to_close(&b), 0);
}

static void test_lingering_close_releases_the_host_lock(void) {
  us_socket_t a, b;
  tcp_pair(&a, &b);
  set_linger(&a, 1, 1);
  set_linger(&b, 1, 1);
  set_linger(&b, 0, 0); /* turned off again */
  ASSERT_EQ(unlocks_to_close(&a), 1);
  ASSERT_EQ(unlocks_to_close(&b), 0);
}

static void test_accepted_socket_inherits_linger(void) {
  us_socket_t lsn, cli, acc;
  us_addr_t addr;
  tcp_listener(&lsn, &addr);
  set_linger(&lsn, 1, 1);
  ASSERT_OK(us_socket_open(&cli, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_connect(&cli, &addr));
  ASSERT_OK(us_accept(&lsn, &acc, NULL));
  ASSERT_EQ(unlocks_to_close(&acc), 1);
  ASSERT_EQ(unlocks_to_close(&cli), 0);
  ASSERT_EQ(unlocks_to_close(&lsn), 1);
}

static void test_wrapped_descriptor_with_linger_releases_the_host_lock(void) {
  us_socket_t a, b, w;
  tcp_pair(&a, &b);
  struct linger l = {1, 1};
  ASSERT_OK(setsockopt(a.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l));
  ASSERT_OK(us_socket_from_fd(&w, us_socket_detach(&a)));
  ASSERT_EQ(unlocks_to_close(&w), 1);
  ASSERT_EQ(unlocks_to_close(&b), 0);
}

TEST_TABLE(linger_tests) = {
    {"plain_close_keeps_the_host_lock", test_plain_close_keeps_the_host_lock},
    {"linger_off_or_zero_keeps_the_host_lock",
     test_linger_off_or_zero_keeps_the_host_lock},
    {"lingering_close_releases_the_host_lock",
     test_lingering_close_releases_the_host_lock},
    {"accepted_socket_inherits_linger", test_accepted_socket_inherits_linger},
    {"wrapped_descriptor_with_linger_releases_the_host_lock",
     test_wrapped_descriptor_with_linger_releases_the_host_lock},
    TEST_END};
