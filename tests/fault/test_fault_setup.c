/* test_fault_setup.c: failures while making sockets and connections, and
 * getaddrinfo's promise that numeric hosts never reach the resolver. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fault_util.h"

static void socket_errors_leave_nothing_open(void) {
  static const int errs[] = {-EMFILE, -ENFILE, -ENOBUFS, -ENOMEM};
  us_socket_t s;
  guard(10);
  int fds = open_fds();
  for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
    ASSERT_OK(us__fault_fail(US__FAULT_SOCKET, errs[i], 1));
    ASSERT_EQ(us_socket_open(&s, AF_INET, SOCK_STREAM, 0), errs[i]);
    ASSERT_EQ(s.fd, -1);
    ASSERT_OK(us_socket_close(&s));
    ASSERT_EQ(us_recv(&s, NULL, 0, 0), -EBADF);
  }
  ASSERT_EQ(open_fds(), fds);
  ASSERT_OK(us_socket_open(&s, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_socket_close(&s));
  fault_done();
}

/* A failed accept leaves the waiting connection for the next one. */
static void accept_errors_keep_the_connection_waiting(void) {
  static const int errs[] = {-ECONNABORTED, -EMFILE, -ENOBUFS, -EPERM};
  us_socket_t lsn, c, s;
  us_addr_t addr;
  char buf[2];
  guard(10);
  tcp_listener(&lsn, &addr);
  ASSERT_OK(us_socket_open(&c, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_connect(&c, &addr));
  for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
    ASSERT_OK(us__fault_fail(US__FAULT_ACCEPT, errs[i], 1));
    ASSERT_EQ(us_accept(&lsn, &s, NULL), errs[i]);
    ASSERT_EQ(s.fd, -1);
  }
  ASSERT_OK(us__fault_fail(US__FAULT_ACCEPT, -EINTR, 5));
  ASSERT_OK(us_accept(&lsn, &s, NULL));
  ASSERT_EQ(us_write(&s, "ok", 2), 2);
  ASSERT_EQ(us_recv(&c, buf, 2, 0), 2);
  bytes_expect(buf, "ok", 2);
  fault_done();
  us_socket_close(&c);
  us_socket_close(&s);
  us_socket_close(&lsn);
}

static int count_results(void *ctx, const us_addrinfo_t *ai) {
  (void)ai;
  ++*(int *)ctx;
  return 0;
}

static unsigned long long resolver_calls(void) {
  us__fault_stats_t st;
  us__fault_stats(&st);
  return st.calls[US__FAULT_RESOLVE];
}

static void numeric_getaddrinfo_never_resolves(void) {
  static const struct {
    const char *host, *port;
    int family, type, flags;
  } cases[] = {
      {"127.0.0.1", "80", 0, 0, 0},
      {"10.1.2.3", "0", AF_INET, SOCK_STREAM, 0},
      {"::1", "65535", 0, SOCK_DGRAM, 0},
      {"2001:db8::7", NULL, AF_INET6, 0, AI_PASSIVE},
      {"::ffff:1.2.3.4", "443", 0, 0, AI_NUMERICHOST | AI_NUMERICSERV},
      {"0.0.0.0", "1", 0, SOCK_STREAM, AI_PASSIVE},
  };
  guard(10);
  /* Were the resolver reached, it would fail, loudly. */
  ASSERT_OK(us__fault_fail(US__FAULT_RESOLVE, US_GAI_ERROR(EAI_FAIL), -1));
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int n = 0;
    int r = us_getaddrinfo(cases[i].host, cases[i].port, cases[i].family,
                           cases[i].type, 0, cases[i].flags, count_results, &n);
    ASSERT(r > 0);
    ASSERT_EQ(r, n);
  }
  ASSERT_EQ(resolver_calls(), 0);
  /* A name does reach it, and its failure comes back as it was given. */
  int n = 0;
  ASSERT_EQ(us_getaddrinfo("localhost", "80", 0, 0, 0, 0, count_results, &n),
            US_GAI_ERROR(EAI_FAIL));
  ASSERT_EQ(resolver_calls(), 1);
  ASSERT_EQ(n, 0);
  fault_done();
}

TEST_TABLE(fault_setup_tests) = {
    {"fault_socket_errors_leave_nothing_open",
     socket_errors_leave_nothing_open},
    {"fault_accept_errors_keep_the_connection_waiting",
     accept_errors_keep_the_connection_waiting},
    {"fault_numeric_getaddrinfo_never_resolves",
     numeric_getaddrinfo_never_resolves},
    TEST_END};
