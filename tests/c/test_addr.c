/* test_addr.c: numeric parsing, text forms and getaddrinfo's fast path. */
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "test.h"

static void parse_ipv4_fills_every_field(void) {
  us_addr_t a;
  ASSERT_OK(us_addr_parse(&a, AF_INET, "10.1.2.3", 8080));
  ASSERT_EQ(a.family, AF_INET);
  ASSERT_EQ(a.port, 8080);
  ASSERT(memcmp(a.ip, "\x0a\x01\x02\x03", 4) == 0);
  char text[64];
  ASSERT_EQ(us_addr_format(&a, text, sizeof text), 8);
  ASSERT(strcmp(text, "10.1.2.3") == 0);
}

static void parse_ipv6_and_rfc5952_text(void) {
  us_addr_t a;
  ASSERT_OK(us_addr_parse(&a, AF_INET6, "2001:DB8:0:0:0:0:0:1", 443));
  ASSERT_EQ(a.family, AF_INET6);
  char text[64];
  ASSERT(us_addr_format(&a, text, sizeof text) > 0);
  ASSERT(strcmp(text, "2001:db8::1") == 0);
  ASSERT_OK(us_addr_parse(&a, 0, "::1", 1));
  ASSERT_EQ(a.family, AF_INET6);
}

static void parse_rejects_bad_text_and_wrong_family(void) {
  us_addr_t a;
  ASSERT_EQ(us_addr_parse(&a, AF_INET, "example.org", 80), -EINVAL);
  ASSERT_EQ(us_addr_parse(&a, AF_INET, "256.1.1.1", 80), -EINVAL);
  ASSERT_EQ(us_addr_parse(&a, AF_INET, "::1", 80), -EAFNOSUPPORT);
  ASSERT_EQ(us_addr_parse(&a, AF_INET6, "127.0.0.1", 80), -EAFNOSUPPORT);
  ASSERT_EQ(us_addr_parse(&a, AF_INET6, "1:::2", 80), -EINVAL);
  ASSERT_EQ(us_addr_parse(&a, 12345, "1.2.3.4", 80), -EAFNOSUPPORT);
}

static void parse_empty_is_any_address(void) {
  us_addr_t a;
  ASSERT_OK(us_addr_parse(&a, AF_INET6, "", 0));
  ASSERT_EQ(a.family, AF_INET6);
  static const uint8_t zero[16];
  ASSERT(memcmp(a.ip, zero, 16) == 0);
}

static void inet_ntop_pton_round_trip(void) {
  uint8_t packed[16];
  char text[64];
  ASSERT_EQ(us_inet_pton(AF_INET, "1.2.3.4", packed), 4);
  ASSERT(memcmp(packed, "\x01\x02\x03\x04", 4) == 0);
  ASSERT_EQ(us_inet_ntop(AF_INET, "\x7f\0\0\1", text, sizeof text), 9);
  ASSERT(strcmp(text, "127.0.0.1") == 0);
  ASSERT_EQ(us_inet_pton(AF_INET6, "::ffff:1.2.3.4", packed), 16);
  ASSERT(us_inet_ntop(AF_INET6, packed, text, sizeof text) > 0);
  ASSERT(strcmp(text, "::ffff:1.2.3.4") == 0);
}

static void inet_bad_input(void) {
  uint8_t packed[16];
  char small[4];
  ASSERT_EQ(us_inet_pton(AF_INET, "1.2.3", packed), -EINVAL);
  ASSERT_EQ(us_inet_pton(99, "1.2.3.4", packed), -EAFNOSUPPORT);
  ASSERT_EQ(us_inet_ntop(99, packed, small, sizeof small), -EAFNOSUPPORT);
  ASSERT_EQ(us_inet_ntop(AF_INET, "\x7f\0\0\1", small, sizeof small), -ENOSPC);
}

struct collected {
  int n;
  us_addrinfo_t ai[8];
};

static int collect(void *ctx, const us_addrinfo_t *ai) {
  struct collected *c = ctx;
  if (c->n < 8)
    c->ai[c->n] = *ai;
  c->n++;
  return 0;
}

static void getaddrinfo_numeric_matches_resolver(void) {
  /* The fast path must answer exactly as the resolver would. */
  static const int types[][2] = {{0, 0},
                                 {SOCK_STREAM, 0},
                                 {SOCK_DGRAM, 0},
                                 {0, IPPROTO_TCP},
                                 {SOCK_DGRAM, IPPROTO_UDP}};
  const char *hosts[] = {"127.0.0.1", "::1", "192.168.7.9"};
  for (size_t h = 0; h < 3; h++) {
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
      struct collected fast = {0}, slow = {0};
      int r = us_getaddrinfo(hosts[h], "80", 0, types[t][0], types[t][1], 0,
                             collect, &fast);
      ASSERT_EQ(r, fast.n);
      struct addrinfo hints = {0}, *res;
      hints.ai_socktype = types[t][0];
      hints.ai_protocol = types[t][1];
      ASSERT_OK(getaddrinfo(hosts[h], "80", &hints, &res));
      for (struct addrinfo *p = res; p; p = p->ai_next) {
        ASSERT(slow.n < fast.n);
        us_addrinfo_t *f = &fast.ai[slow.n++];
        ASSERT_EQ(f->family, p->ai_family);
        ASSERT_EQ(f->type, p->ai_socktype);
        ASSERT_EQ(f->proto, p->ai_protocol);
        ASSERT_EQ(f->addr.port, 80);
      }
      freeaddrinfo(res);
      ASSERT_EQ(slow.n, fast.n);
    }
  }
}

static void getaddrinfo_unknown_name_is_negative_resolver_code(void) {
  struct collected c = {0};
  int r = us_getaddrinfo("no-such-host.invalid", "80", 0, 0, 0, 0, collect, &c);
  ASSERT(r <= US_GAI_BASE);
  ASSERT(us_gai_code(r) < 0);
  ASSERT(us_strerror(r) != NULL);
  ASSERT_EQ(c.n, 0);
}

static int stop_early(void *ctx, const us_addrinfo_t *ai) {
  (void)ai;
  ++*(int *)ctx;
  return -ECANCELED;
}

static void getaddrinfo_callback_can_stop(void) {
  int calls = 0;
  ASSERT_EQ(us_getaddrinfo("127.0.0.1", NULL, 0, 0, 0, 0, stop_early, &calls),
            -ECANCELED);
  ASSERT_EQ(calls, 1);
}

static void getaddrinfo_service_name_and_localhost(void) {
  struct collected c = {0};
  int r = us_getaddrinfo("localhost", "80", AF_INET, SOCK_STREAM, 0, 0, collect,
                         &c);
  ASSERT(r >= 1);
  ASSERT_EQ(c.ai[0].addr.family, AF_INET);
  ASSERT_EQ(c.ai[0].addr.port, 80);
  ASSERT_EQ(us_getaddrinfo(NULL, NULL, 0, 0, 0, 0, collect, &c),
            US_GAI_ERROR(EAI_NONAME));
}

/* The resolver threads of this process, by the name they carry. */
static int tasks(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  ASSERT(d != NULL);
  for (struct dirent *e; (e = readdir(d));) {
    char path[300], name[32] = "";
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (f && fgets(name, sizeof name, f))
      n += strcmp(name, "usocket-lookup\n") == 0;
    if (f)
      fclose(f);
  }
  closedir(d);
  return n;
}

/* The timed form answers from the resolver's thread (a plain C host with
 * a timeout) as the plain one does, and checks its timeout first; the
 * thread ends 2 s after its last lookup (and so leaves nothing behind). */
static void getaddrinfo_timed_resolves_and_checks_timeout(void) {
  struct collected c = {0};
  int r = us_getaddrinfo_timed("localhost", "80", AF_INET, SOCK_STREAM, 0, 0,
                               (int64_t)5000000000, collect, &c);
  ASSERT(r >= 1);
  ASSERT_EQ(c.ai[0].addr.family, AF_INET);
  ASSERT_EQ(c.ai[0].addr.port, 80);
  c.n = 0;
  ASSERT_EQ(us_getaddrinfo_timed("127.0.0.1", "80", 0, SOCK_STREAM, 0, 0, 0,
                                 collect, &c),
            1); /* numeric: no resolver, so no time needed */
  ASSERT_EQ(
      us_getaddrinfo_timed("localhost", "80", 0, 0, 0, 0, -2, collect, &c),
      -EINVAL);
  ASSERT_EQ(
      us_getaddrinfo_timed("no-such-host.invalid", "80", 0, 0, 0, 0,
                           (int64_t)5000000000, collect, &c),
      us_getaddrinfo("no-such-host.invalid", "80", 0, 0, 0, 0, collect, &c));
  ASSERT(tasks() >= 1 && tasks() <= 8); /* the pool's at most */
  int64_t t0 = now_ms();
  while (tasks() > 0 && now_ms() - t0 < LATE_MS(2000) + 1000) {
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
  }
  ASSERT_EQ(tasks(), 0);
  ASSERT(now_ms() - t0 >= 1000);
}

static void raw_round_trip_ipv4_and_ipv6(void) {
  us_addr_t a, b;
  unsigned char raw[64];
  size_t off = 99;
  ASSERT_OK(us_addr_parse(&a, AF_INET, "10.1.2.3", 8080));
  int n = us_addr_to_raw(&a, raw, sizeof raw);
  ASSERT_EQ(n, sizeof(struct sockaddr_in));
  ASSERT_EQ(us_addr_from_raw(&b, raw, (size_t)n, &off), AF_INET);
  ASSERT(us_addr_equal(&a, &b));
  ASSERT_OK(us_addr_parse(&a, AF_INET6, "fe80::1%7", 443));
  n = us_addr_to_raw(&a, raw, sizeof raw);
  ASSERT_EQ(n, sizeof(struct sockaddr_in6));
  /* Unaligned bytes decode too. */
  memmove(raw + 1, raw, (size_t)n);
  ASSERT_EQ(us_addr_from_raw(&b, raw + 1, (size_t)n, NULL), AF_INET6);
  ASSERT(us_addr_equal(&a, &b));
  ASSERT_EQ(b.scope_id, 7);
}

static void raw_other_family_short_and_small(void) {
  us_addr_t a;
  unsigned char raw[32] = {0};
  size_t off = 0;
  sa_family_t fam = AF_UNIX;
  memcpy(raw, &fam, sizeof fam);
  ASSERT_EQ(us_addr_from_raw(&a, raw, 10, &off), AF_UNIX);
  ASSERT_EQ(a.family, 0);
  ASSERT_EQ(off, offsetof(struct sockaddr, sa_data));
  ASSERT_EQ(us_addr_from_raw(&a, raw, 1, NULL), -EINVAL);
  fam = AF_INET;
  memcpy(raw, &fam, sizeof fam);
  ASSERT_EQ(us_addr_from_raw(&a, raw, sizeof(struct sockaddr_in) - 1, NULL),
            -EINVAL);
  ASSERT_OK(us_addr_parse(&a, AF_INET6, "::1", 1));
  ASSERT_EQ(us_addr_to_raw(&a, raw, 20), -ENOSPC);
  memset(&a, 0, sizeof a);
  ASSERT_EQ(us_addr_to_raw(&a, raw, sizeof raw), -EAFNOSUPPORT);
}

static void span_clamps_as_micropython_streams(void) {
  size_t at = 99;
  ASSERT_EQ(us_span(10, 0, SIZE_MAX, &at), 10);
  ASSERT_EQ(at, 0);
  ASSERT_EQ(us_span(10, 2, 3, &at), 3);
  ASSERT_EQ(at, 2);
  ASSERT_EQ(us_span(10, 7, 100, &at), 3);
  ASSERT_EQ(us_span(10, 10, 5, &at), 0);
  ASSERT_EQ(at, 10);
  ASSERT_EQ(us_span(10, SIZE_MAX, 5, &at), 0); /* -1: past the end */
  ASSERT_EQ(at, 10);
  ASSERT_EQ(us_span(0, 0, 0, &at), 0);
}

TEST_TABLE(addr_tests) = {
    {"addr_parse_ipv4_fills_every_field", parse_ipv4_fills_every_field},
    {"addr_parse_ipv6_and_rfc5952_text", parse_ipv6_and_rfc5952_text},
    {"addr_parse_rejects_bad_text_and_wrong_family",
     parse_rejects_bad_text_and_wrong_family},
    {"addr_parse_empty_is_any_address", parse_empty_is_any_address},
    {"addr_inet_ntop_pton_round_trip", inet_ntop_pton_round_trip},
    {"addr_inet_bad_input", inet_bad_input},
    {"addr_getaddrinfo_numeric_matches_resolver",
     getaddrinfo_numeric_matches_resolver},
    {"addr_getaddrinfo_unknown_name_is_negative_resolver_code",
     getaddrinfo_unknown_name_is_negative_resolver_code},
    {"addr_getaddrinfo_callback_can_stop", getaddrinfo_callback_can_stop},
    {"addr_getaddrinfo_service_name_and_localhost",
     getaddrinfo_service_name_and_localhost},
    {"addr_getaddrinfo_timed_resolves_and_checks_timeout",
     getaddrinfo_timed_resolves_and_checks_timeout},
    {"addr_raw_round_trip_ipv4_and_ipv6", raw_round_trip_ipv4_and_ipv6},
    {"addr_raw_other_family_short_and_small", raw_other_family_short_and_small},
    {"addr_span_clamps_as_micropython_streams",
     span_clamps_as_micropython_streams},
    TEST_END};
