/* fuzz_addr.c: address parsing, text forms and getaddrinfo's numeric path
 * on arbitrary input. Checks that us_addr_parse agrees with the C
 * library's inet_pton, that text and packed forms round-trip, that no
 * buffer is overrun, and that numeric hosts never reach the resolver
 * (which the fault-injection build counts, and fails if it is reached).
 *
 * Input: a selector byte, two port bytes, a kinds byte, then the host
 * text, a NUL, and the port text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "fault.h"

#define TEXT_MAX 46 /* INET6_ADDRSTRLEN: the most us_addr_format needs */
#define RESOLVER_FAILS US_GAI_ERROR(EAI_NONAME)

static const int families[4] = {0, AF_INET, AF_INET6, 12345};

/* Formats into a heap buffer of exactly len bytes, so ASan sees any
 * overrun; checks the result's shape. */
static void format_into(const us_addr_t *a, size_t len) {
  char *buf = malloc(len ? len : 1);
  CHECK(buf != NULL);
  int r = us_addr_format(a, buf, len);
  CHECK(r == -ENOSPC || (r > 0 && (size_t)r < len && buf[r] == '\0'));
  free(buf);
}

static void check_parse(int family, const char *host, uint16_t port) {
  us_addr_t a, b;
  char text[TEXT_MAX];
  int r = us_addr_parse(&a, family, host, port);
  CHECK(r == 0 || r == -EINVAL || r == -EAFNOSUPPORT);
  uint8_t v4[4], v6[16];
  int is4 = inet_pton(AF_INET, host, v4) == 1;
  int is6 = inet_pton(AF_INET6, host, v6) == 1;
  if (family == 0 || family == AF_INET)
    CHECK(!is4 || (r == 0 && a.family == AF_INET && !memcmp(a.ip, v4, 4)));
  if (family == 0 || family == AF_INET6)
    CHECK(!is6 || (r == 0 && a.family == AF_INET6 && !memcmp(a.ip, v6, 16)));
  if (r != 0)
    return;
  CHECK(a.port == port && a.flowinfo == 0);
  CHECK(a.family == AF_INET || a.family == AF_INET6);
  CHECK(family == 0 || a.family == family);
  const char *pct = strchr(host, '%');
  if (pct) { /* a zone: IPv6 text before the '%', then a number or a name */
    char ip[64];
    size_t len = (size_t)(pct - host);
    CHECK(len < sizeof ip && pct[1] != '\0');
    memcpy(ip, host, len);
    ip[len] = '\0';
    CHECK(a.family == AF_INET6 && inet_pton(AF_INET6, ip, v6) == 1);
    CHECK(!memcmp(a.ip, v6, 16));
  } else {
    /* Only the C library's numeric forms, the empty any-address and
     * "<broadcast>" parse: never a name. */
    CHECK(a.scope_id == 0);
    CHECK(is4 || is6 || !*host || !strcmp(host, "<broadcast>"));
  }
  int n = us_addr_format(&a, text, sizeof text);
  CHECK(n > 0 && (size_t)n == strlen(text));
  CHECK(us_addr_parse(&b, a.family, text, port) == 0);
  b.scope_id = a.scope_id; /* the text form leaves the zone out */
  CHECK(us_addr_equal(&a, &b));
  format_into(&a, (size_t)n);     /* one byte short of the NUL */
  format_into(&a, (size_t)n + 1); /* exactly enough */
}

/* pton, then ntop, then pton again gives the same bytes; ntop's text is
 * a fixed point. */
static void check_text_round_trip(int family, const char *host) {
  uint8_t p1[16], p2[16];
  char t1[TEXT_MAX], t2[TEXT_MAX];
  int n = us_inet_pton(family, host, p1);
  if (family != AF_INET && family != AF_INET6) {
    CHECK(n == -EAFNOSUPPORT);
    return;
  }
  CHECK(n == -EINVAL || n == (family == AF_INET ? 4 : 16));
  if (n < 0)
    return;
  CHECK(us_inet_ntop(family, p1, t1, sizeof t1) > 0);
  CHECK(us_inet_pton(family, t1, p2) == n && !memcmp(p1, p2, (size_t)n));
  CHECK(us_inet_ntop(family, p2, t2, sizeof t2) > 0 && !strcmp(t1, t2));
}

/* Any packed bytes have a text form that reads back as the same bytes. */
static void check_packed_round_trip(const uint8_t *raw, size_t len) {
  uint8_t packed[16] = {0}, back[16];
  char text[TEXT_MAX];
  memcpy(packed, raw, len < 16 ? len : 16);
  CHECK(us_inet_ntop(AF_INET, packed, text, sizeof text) > 0);
  CHECK(us_inet_pton(AF_INET, text, back) == 4 && !memcmp(packed, back, 4));
  CHECK(us_inet_ntop(AF_INET6, packed, text, sizeof text) > 0);
  CHECK(us_inet_pton(AF_INET6, text, back) == 16 && !memcmp(packed, back, 16));
  /* The shortest IPv4 text, "0.0.0.0", needs 8 bytes with its NUL. */
  char *small = malloc(7);
  CHECK(small != NULL);
  CHECK(us_inet_ntop(AF_INET, packed, small, 7) == -ENOSPC);
  free(small);
}

struct results {
  int count, stop_at;
  us_addr_t first;
  int family;
};

static int on_result(void *ctx, const us_addrinfo_t *ai) {
  struct results *r = ctx;
  CHECK(ai->family == ai->addr.family && ai->canonname != NULL);
  if (r->count == 0)
    r->first = ai->addr;
  else /* one host: every result has the same address */
    CHECK(us_addr_equal(&r->first, &ai->addr));
  if (++r->count == r->stop_at)
    return -ECANCELED;
  return 0;
}

/* The decimal port getaddrinfo takes without a lookup, or -1. */
static long decimal_port(const char *port) {
  long v = 0;
  if (!port)
    return 0;
  if (!*port)
    return -1;
  for (; *port; port++) {
    if (*port < '0' || *port > '9')
      return -1;
    v = v * 10 + (*port - '0');
    if (v > 65535)
      return -1;
  }
  return v;
}

/* How many results the numeric path gives for (type, proto), as the C
 * library would: 0 when the pair is left to the resolver. */
static int numeric_kinds(int type, int proto) {
  if (type == 0 && proto == 0)
    return 3; /* stream, datagram and raw */
  int n = 0;
  n += (type == 0 || type == SOCK_STREAM) && (proto == 0 || proto == 6);
  n += (type == 0 || type == SOCK_DGRAM) && (proto == 0 || proto == 17);
  return n;
}

static void check_getaddrinfo(const char *host, const char *port, int family,
                              uint8_t kinds) {
  static const int types[4] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW};
  static const int protos[4] = {0, IPPROTO_TCP, IPPROTO_UDP, 0};
  static const int flagset[4] = {0, AI_PASSIVE, AI_NUMERICHOST, AI_CANONNAME};
  int type = types[kinds & 3], proto = protos[(kinds >> 2) & 3];
  int flags = flagset[(kinds >> 4) & 3];
  struct results res = {0, (kinds >> 6) & 3, {{0}, 0, 0, 0, 0}, 0};
  us__fault_stats_t before, after;
  us__fault_stats(&before);
  int r =
      us_getaddrinfo(host, port, family, type, proto, flags, on_result, &res);
  us__fault_stats(&after);
  int resolved =
      after.calls[US__FAULT_RESOLVE] != before.calls[US__FAULT_RESOLVE];
  /* Numeric: what us_addr_parse takes (checked against the C library
   * above), bar the two forms that mean something else to a resolver. */
  us_addr_t a;
  int numeric = host && *host && strcmp(host, "<broadcast>") != 0 &&
                us_addr_parse(&a, 0, host, 0) == 0;
  int expect = numeric_kinds(type, proto);
  int fast = numeric && decimal_port(port) >= 0 && flags != AI_CANONNAME &&
             expect > 0 && (family == 0 || family == a.family);
  if (fast) {
    CHECK(!resolved); /* the promise: numeric hosts never reach it */
    if (res.stop_at && res.stop_at <= expect) {
      CHECK(r == -ECANCELED && res.count == res.stop_at);
    } else {
      CHECK(r == expect && res.count == expect);
    }
    a.port = (uint16_t)decimal_port(port);
    CHECK(us_addr_equal(&a, &res.first));
  } else if (resolved) {
    CHECK(r == RESOLVER_FAILS && res.count == 0);
  } else {
    CHECK(r < 0 || r == res.count);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  /* Reaching the real resolver would mean DNS traffic: fail it, always. */
  CHECK(us__fault_fail(US__FAULT_RESOLVE, RESOLVER_FAILS, -1) == 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
  if (size < 4 || size > 512)
    return 0;
  char text[512];
  uint8_t sel = in[0], kinds = in[3];
  uint16_t port = (uint16_t)(in[1] << 8 | in[2]);
  memcpy(text, in + 4, size - 4);
  text[size - 4] = '\0';
  const char *host = text;
  size_t hlen = strlen(text);
  const char *port_text = hlen + 1 < size - 4 ? text + hlen + 1 : NULL;
  int family = families[sel & 3];
  check_parse(family, host, port);
  check_text_round_trip(family, host);
  check_packed_round_trip(in + 4, size - 4);
  check_getaddrinfo((sel & 4) ? NULL : host, port_text,
                    families[(sel >> 3) & 3], kinds);
  return 0;
}
