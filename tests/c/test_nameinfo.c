/* test_nameinfo.c: us_getnameinfo's numeric answers, buffers and bad
 * input (the timed lookups against a silent DNS server are in
 * tests/py/test_getnameinfo.py). */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "test.h"

static us_addr_t v4(const char *text, uint16_t port) {
  us_addr_t a;
  memset(&a, 0, sizeof a);
  a.family = AF_INET;
  a.port = port;
  ASSERT_EQ(us_inet_pton(AF_INET, text, a.ip), 4);
  return a;
}

static void nameinfo_numeric_at_once(void) {
  us_addr_t a = v4("192.0.2.5", 8080);
  char host[64], serv[16];
  int64_t t0 = now_ms();
  ASSERT_OK(us_getnameinfo(&a, NI_NUMERICHOST | NI_NUMERICSERV, host,
                           sizeof host, serv, sizeof serv, 0));
  ASSERT(now_ms() - t0 < LATE_MS(0));
  ASSERT(strcmp(host, "192.0.2.5") == 0 && strcmp(serv, "8080") == 0);
  memset(&a, 0, sizeof a);
  a.family = AF_INET6;
  a.ip[15] = 1;
  a.port = 443;
  ASSERT_OK(us_getnameinfo(&a, NI_NUMERICHOST, host, sizeof host, serv,
                           sizeof serv, US_TIMEOUT_BLOCK));
  ASSERT(strcmp(host, "::1") == 0 && strcmp(serv, "https") == 0);
}

static void nameinfo_buffers_and_bad_input(void) {
  us_addr_t a = v4("192.0.2.5", 80);
  char small[4], serv[16];
  ASSERT_EQ(us_getnameinfo(&a, NI_NUMERICHOST | NI_NUMERICSERV, small,
                           sizeof small, serv, sizeof serv, 0),
            -ENOSPC);
  ASSERT_OK(us_getnameinfo(&a, NI_NUMERICHOST | NI_NUMERICSERV, NULL, 0, serv,
                           sizeof serv, 0));
  ASSERT(strcmp(serv, "80") == 0);
  ASSERT_EQ(us_getnameinfo(&a, NI_NUMERICHOST, NULL, 0, serv, sizeof serv, -5),
            -EINVAL);
  a.family = AF_UNIX;
  ASSERT_EQ(us_getnameinfo(&a, 0, NULL, 0, serv, sizeof serv, 0),
            -EAFNOSUPPORT);
}

TEST_TABLE(nameinfo_tests) = {
    {"nameinfo_numeric_at_once", nameinfo_numeric_at_once},
    {"nameinfo_buffers_and_bad_input", nameinfo_buffers_and_bad_input},
    TEST_END};
