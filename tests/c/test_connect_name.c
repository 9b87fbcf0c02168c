/* test_connect_name.c: us_create_connection on loopback: the winner, its
 * timeout, the errors, and nothing left open behind it. */
#include "test.h"

#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>

static void port_text(const us_addr_t *a, char buf[8]) {
  snprintf(buf, 8, "%u", (unsigned)a->port);
}

static void create_connection_connects_and_keeps_timeout(void) {
  us_socket_t lsn, c, conn;
  us_addr_t addr, peer;
  char port[8];
  tcp_listener(&lsn, &addr);
  port_text(&addr, port);
  int fds = open_fds();
  ASSERT_OK(
      us_create_connection(&c, "127.0.0.1", port, (int64_t)2000000000, NULL));
  ASSERT_EQ(open_fds(), fds + 1); /* the winner only */
  ASSERT_EQ(c.timeout_ns, 2000000000);
  ASSERT_OK(us_getpeername(&c, &peer));
  ASSERT(us_addr_equal(&peer, &addr));
  ASSERT_OK(us_accept(&lsn, &conn, NULL));
  ASSERT_EQ(us_sendall(&c, "hi", 2, 0, NULL), 0);
  char buf[2];
  ASSERT_EQ(us_recv(&conn, buf, 2, 0), 2);
  us_socket_close(&conn);
  us_socket_close(&c);
  /* No timeout: the socket blocks; a service name as the port. */
  ASSERT_OK(
      us_create_connection(&c, "localhost", port, US_TIMEOUT_BLOCK, NULL));
  ASSERT_EQ(c.timeout_ns, US_TIMEOUT_BLOCK);
  us_socket_close(&c);
  us_socket_close(&lsn);
}

static void create_connection_errors_leave_nothing_open(void) {
  us_socket_t lsn, c = {.fd = -7};
  us_addr_t addr, src;
  char port[8];
  tcp_listener(&lsn, &addr);
  port_text(&addr, port);
  us_socket_close(&lsn); /* nobody listens there now */
  int fds = open_fds();
  ASSERT_EQ(
      us_create_connection(&c, "127.0.0.1", port, (int64_t)2000000000, NULL),
      -ECONNREFUSED);
  ASSERT_EQ(c.fd, -7); /* untouched */
  /* Without a time limit: looked up in this thread, which leaves no
   * resolver thread running when the test's process ends. */
  ASSERT_EQ(
      us_create_connection(&c, "no-such-host.invalid", port, US_TIMEOUT_BLOCK,
                           NULL),
      us_getaddrinfo("no-such-host.invalid", port, 0, 0, 0, 0, NULL, NULL));
  ASSERT_EQ(us_create_connection(&c, "127.0.0.1", port, -5, NULL), -EINVAL);
  /* A source of the other family leaves no address to try. */
  ASSERT_OK(us_addr_parse(&src, AF_INET6, "::1", 0));
  ASSERT(us_create_connection(&c, "127.0.0.1", port, US_TIMEOUT_BLOCK, &src) <
         0);
  ASSERT_EQ(open_fds(), fds);
}

TEST_TABLE(connect_name_tests) = {
    {"create_connection_connects_and_keeps_timeout",
     create_connection_connects_and_keeps_timeout},
    {"create_connection_errors_leave_nothing_open",
     create_connection_errors_leave_nothing_open},
    TEST_END};
