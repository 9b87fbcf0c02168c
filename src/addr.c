/* addr.c: numeric addresses, text forms, and getaddrinfo's fast path. */
#include "core.h"

#include <errno.h>
#include <string.h>

int us_inet_pton(int family, const char *text, void *packed) {
  if (family != US__AF_INET && family != US__AF_INET6)
    return -EAFNOSUPPORT;
  return us__sys_pton(family, text, packed);
}

int us_inet_ntop(int family, const void *packed, char *buf, size_t len) {
  if (family != US__AF_INET && family != US__AF_INET6)
    return -EAFNOSUPPORT;
  int r = us__sys_ntop(family, packed, buf, len);
  return r == -ENOSPC || r >= 0 ? r : -ENOSPC;
}

/* "fe80::1%eth0" or "fe80::1%2": an IPv6 address with its zone. */
static int parse_scoped(us_addr_t *addr, const char *host, const char *pct) {
  char ip[64];
  size_t n = (size_t)(pct - host);
  if (n >= sizeof ip)
    return -EINVAL;
  memcpy(ip, host, n);
  ip[n] = '\0';
  if (us__sys_pton(US__AF_INET6, ip, addr->ip) != 16 || !pct[1])
    return -EINVAL;
  unsigned long scope = 0;
  const char *p = pct + 1;
  while (*p >= '0' && *p <= '9' && scope <= 0xffffffffUL)
    scope = scope * 10 + (unsigned long)(*p++ - '0');
  if (*p) { /* not a number: an interface name */
    int idx = us__sys_ifindex(pct + 1);
    if (idx < 0)
      return -EINVAL;
    scope = (unsigned long)idx;
  } else if (scope > 0xffffffffUL) {
    return -EINVAL;
  }
  addr->scope_id = (uint32_t)scope;
  addr->family = US__AF_INET6;
  return 0;
}

int us_addr_parse(us_addr_t *addr, int family, const char *host,
                  uint16_t port) {
  memset(addr, 0, sizeof *addr);
  addr->port = port;
  if (family != 0 && family != US__AF_INET && family != US__AF_INET6)
    return -EAFNOSUPPORT;
  if (host[0] == '\0') { /* the any-address, as in CPython */
    addr->family = family ? family : US__AF_INET;
    return 0;
  }
  if (family != US__AF_INET6 &&
      us__sys_pton(US__AF_INET, host, addr->ip) == 4) {
    addr->family = US__AF_INET;
    return 0;
  }
  if (family == US__AF_INET6 || (family == 0 && strchr(host, ':'))) {
    const char *pct = strchr(host, '%');
    if (pct)
      return parse_scoped(addr, host, pct);
    if (us__sys_pton(US__AF_INET6, host, addr->ip) == 16) {
      addr->family = US__AF_INET6;
      return 0;
    }
    memset(addr->ip, 0, sizeof addr->ip);
    if (family == US__AF_INET6 &&
        us__sys_pton(US__AF_INET, host, addr->ip) == 4)
      return -EAFNOSUPPORT; /* IPv4 text for an IPv6 socket */
    return -EINVAL;
  }
  if (strcmp(host, "<broadcast>") == 0) {
    memset(addr->ip, 0xff, 4);
    addr->family = US__AF_INET;
    return 0;
  }
  return strchr(host, ':') ? -EAFNOSUPPORT : -EINVAL;
}

static int take_first(void *ctx, const us_addrinfo_t *ai) {
  *(us_addr_t *)ctx = ai->addr;
  return -ECANCELED; /* one is all it takes */
}

int us_addr_resolve(us_addr_t *addr, int family, const char *host,
                    uint16_t port) {
  int r = us_addr_parse(addr, family, host, port);
  if (r != -EINVAL)
    return r;
  memset(addr, 0, sizeof *addr);
  r = us_getaddrinfo(host, NULL, family, US__SOCK_STREAM, 0, 0, take_first,
                     addr);
  if (addr->family == 0)
    return r < 0 && r != -ECANCELED ? r : -EAFNOSUPPORT;
  addr->port = port;
  return 0;
}

int us_addr_format(const us_addr_t *addr, char *buf, size_t len) {
  return us_inet_ntop(addr->family, addr->ip, buf, len);
}

int us_addr_equal(const us_addr_t *a, const us_addr_t *b) {
  size_t iplen = a->family == US__AF_INET6 ? 16 : 4;
  return a->family == b->family && a->port == b->port &&
         a->flowinfo == b->flowinfo && a->scope_id == b->scope_id &&
         memcmp(a->ip, b->ip, iplen) == 0;
}

/* A decimal port; -1 when port is a service name to look up, -2 when it
 * is a number too large to be a port. */
static long numeric_port(const char *port) {
  if (!port)
    return 0;
  long v = 0;
  if (!*port)
    return -1;
  for (const char *p = port; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    if ((v = v * 10 + (*p - '0')) > 65535)
      v = 65536; /* keep reading: "99999x" is still a name */
  }
  return v > 65535 ? -2 : v;
}

/* The (type, proto) pairs the platform resolver returns for a numeric
 * host, in its order; 0 when the request is unusual enough to leave to it. */
static int socket_kinds(int type, int proto, int kinds[3][2]) {
  static const int all[3][2] = {{US__SOCK_STREAM, US__IPPROTO_TCP},
                                {US__SOCK_DGRAM, US__IPPROTO_UDP},
                                {US__SOCK_RAW, 0}};
  int n = 0;
  for (int i = 0; i < 3; i++) {
    int t = all[i][0], p = all[i][1];
    if (type == 0 && proto == 0) {
      kinds[n][0] = t;
      kinds[n++][1] = p;
    } else if ((type == t || type == 0) && (proto == p || proto == 0) &&
               t != US__SOCK_RAW) {
      kinds[n][0] = t;
      kinds[n++][1] = p;
    }
  }
  return n;
}

/* Inline in both callers: the numeric fast path stays as short as it
 * was before lookups had a time limit. */
static inline __attribute__((always_inline)) int
getaddrinfo_within(const char *host, const char *port, int family, int type,
                   int proto, int flags, int64_t timeout_ns, us_addrinfo_cb cb,
                   void *ctx) {
  int kinds[3][2], nkinds;
  long pnum = numeric_port(port);
  us_addrinfo_t ai;
  if (!host && !port)
    return US_GAI_ERROR(US__EAI_NONAME);
  if (pnum == -2)
    return US_GAI_ERROR(US__EAI_SERVICE);
  /* A numeric host and port need no resolver: answer as it would. */
  if (host && pnum >= 0 &&
      !(flags & ~(US__AI_PASSIVE | US__AI_NUMERICHOST | US__AI_NUMERICSERV)) &&
      *host && *host != '<' &&
      us_addr_parse(&ai.addr, 0, host, (uint16_t)pnum) == 0 &&
      (family == 0 || family == ai.addr.family) &&
      (nkinds = socket_kinds(type, proto, kinds)) > 0) {
    ai.family = ai.addr.family;
    ai.canonname = "";
    for (int i = 0; i < nkinds; i++) {
      ai.type = kinds[i][0];
      ai.proto = kinds[i][1];
      int r = cb(ctx, &ai);
      if (r < 0)
        return r;
    }
    return nkinds;
  }
  /* The resolver may wait on the network: let the host run meanwhile. */
  void *res;
  int r = us__resolve(host, port, family, type, proto, flags, timeout_ns, &res);
  if (r < 0)
    return r;
  r = us__sys_resolve_each(res, cb, ctx);
  us__sys_resolve_free(res);
  return r;
}

int us_getaddrinfo(const char *host, const char *port, int family, int type,
                   int proto, int flags, us_addrinfo_cb cb, void *ctx) {
  return getaddrinfo_within(host, port, family, type, proto, flags,
                            US_TIMEOUT_BLOCK, cb, ctx);
}

int us_getaddrinfo_timed(const char *host, const char *port, int family,
                         int type, int proto, int flags, int64_t timeout_ns,
                         us_addrinfo_cb cb, void *ctx) {
  if (timeout_ns < US_TIMEOUT_BLOCK)
    return -EINVAL;
  return getaddrinfo_within(host, port, family, type, proto, flags, timeout_ns,
                            cb, ctx);
}

/* Copies text into buf (len bytes, NULL: not wanted) with its NUL. */
static int put_name(const char *text, char *buf, size_t len) {
  size_t n = strlen(text);
  if (!buf)
    return 0;
  if (n >= len)
    return -ENOSPC;
  memcpy(buf, text, n + 1);
  return 0;
}

int us_getnameinfo(const us_addr_t *addr, int flags, char *host, size_t hostlen,
                   char *serv, size_t servlen, int64_t timeout_ns) {
  us__names_t n;
  if (timeout_ns < US_TIMEOUT_BLOCK)
    return -EINVAL;
  int len = us__sys_addr_encode(addr, n.addr.u.data, sizeof n.addr.u.data);
  if (len < 0)
    return len;
  n.addr.len = (size_t)len;
  int r = us__nameinfo(&n, flags, timeout_ns);
  if (r == 0)
    r = put_name(n.host, host, hostlen);
  if (r == 0)
    r = put_name(n.serv, serv, servlen);
  return r;
}

int us_gai_code(int result) {
  return result <= US_GAI_BASE ? -(US_GAI_BASE - result) : result;
}

const char *us_strerror(int err) {
  const char *tls = us__tls_strerror(err);
  if (tls)
    return tls;
  if (err <= US_GAI_BASE)
    return us__sys_gai_strerror(US_GAI_BASE - err);
  return strerror(err < 0 ? -err : err);
}

int us_addr_from_raw(us_addr_t *addr, const void *raw, size_t len,
                     size_t *data_off) {
  return us__sys_addr_decode(raw, len, addr, data_off);
}

int us_addr_to_raw(const us_addr_t *addr, void *raw, size_t cap) {
  return us__sys_addr_encode(addr, raw, cap);
}

int us_rawaddr_set(us_rawaddr_t *addr, const void *raw, size_t len) {
  addr->len = 0;
  if (len > sizeof addr->u.data)
    return -EINVAL;
  memcpy(addr->u.data, raw, len);
  addr->len = len;
  return 0;
}

int us_rawaddr_family(const us_rawaddr_t *addr) {
  return us__sys_rawaddr_family(addr);
}

int us_rawaddr_unix(us_rawaddr_t *addr, const char *path, size_t len) {
  addr->len = 0;
  /* An abstract name may hold any byte; a file name ends at its first
   * NUL, so one inside it would name another file than asked. */
  if (len > 0 && path[0] != '\0' && memchr(path, '\0', len))
    return -EINVAL;
  return us__sys_unix_encode(addr, path, len);
}

int us_rawaddr_unix_path(const us_rawaddr_t *addr, const char **path,
                         size_t *len) {
  return us__sys_unix_decode(addr, path, len);
}
