/* sockaddr.c: the core's addresses to and from the platform's struct
 * sockaddr, and the resolver's results walked, the same for every
 * backend: platform.h gives the types (us__sa_t, us__addrinfo_t) and the
 * byte order (US__HTONS...), each backend's own calls use them. */
#include "sockaddr.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

socklen_t us__sa_from_addr(const us_addr_t *a, us__sa_t *sa) {
  memset(sa, 0, sizeof *sa);
#if US__INET6 /* a platform feature: lwIP may be built without IPv6 */
  if (a->family == US__AF_INET6) {
    sa->in6.sin6_family = US__AF_INET6;
    sa->in6.sin6_port = US__HTONS(a->port);
    sa->in6.sin6_flowinfo = US__HTONL(a->flowinfo);
    sa->in6.sin6_scope_id = a->scope_id;
    memcpy(&sa->in6.sin6_addr, a->ip, 16);
    return sizeof sa->in6;
  }
#endif
  sa->in4.sin_family = (sa_family_t)a->family;
  sa->in4.sin_port = US__HTONS(a->port);
  memcpy(&sa->in4.sin_addr, a->ip, 4);
  return sizeof sa->in4;
}

void us__sa_to_addr(const struct sockaddr *sa, socklen_t len, us_addr_t *a) {
  memset(a, 0, sizeof *a);
  /* The length first: with none (no sender), the family is no byte. */
  if (len >= sizeof(struct sockaddr_in) && sa->sa_family == US__AF_INET) {
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
    a->family = US__AF_INET;
    a->port = US__NTOHS(in4->sin_port);
    memcpy(a->ip, &in4->sin_addr, 4);
  }
#if US__INET6
  else if (len >= sizeof(struct sockaddr_in6) &&
           sa->sa_family == US__AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    a->family = US__AF_INET6;
    a->port = US__NTOHS(in6->sin6_port);
    a->flowinfo = US__NTOHL(in6->sin6_flowinfo);
    a->scope_id = in6->sin6_scope_id;
    memcpy(a->ip, &in6->sin6_addr, 16);
  }
#endif
}

/* The bytes a family's struct sockaddr takes, 0 for one us_addr_t does
 * not hold. */
static size_t sa_size(int family) {
  if (family == US__AF_INET)
    return sizeof(struct sockaddr_in);
#if US__INET6
  if (family == US__AF_INET6)
    return sizeof(struct sockaddr_in6);
#endif
  return 0;
}

int us__sys_addr_decode(const void *raw, size_t len, us_addr_t *a,
                        size_t *data_off) {
  us__sa_t sa; /* a copy: the caller's bytes need not be aligned */
  struct sockaddr head;
  memset(a, 0, sizeof *a);
  if (len < offsetof(struct sockaddr, sa_data))
    return -EINVAL;
  memcpy(&head, raw, len < sizeof head ? len : sizeof head);
  if (data_off)
    *data_off = offsetof(struct sockaddr, sa_data);
  size_t need = sa_size(head.sa_family);
  if (need) {
    if (len < need)
      return -EINVAL;
    memcpy(&sa, raw, need);
    us__sa_to_addr(&sa.sa, (socklen_t)need, a);
  }
  return head.sa_family;
}

int us__sys_addr_encode(const us_addr_t *a, void *raw, size_t cap) {
  us__sa_t sa;
  if (a->family != US__AF_INET && a->family != US__AF_INET6)
    return -EAFNOSUPPORT;
  socklen_t len = us__sa_from_addr(a, &sa);
  if (cap < len)
    return -ENOSPC;
  memcpy(raw, &sa, len);
  return (int)len;
}

int us__sys_rawaddr_family(const us_rawaddr_t *addr) {
  sa_family_t family;
  if (addr->len < offsetof(struct sockaddr, sa_data))
    return 0;
  memcpy(&family, addr->u.data + offsetof(struct sockaddr, sa_family),
         sizeof family);
  return family;
}

void us__sa_hints(us__addrinfo_t *hints, int family, int type, int proto,
                  int flags) {
  memset(hints, 0, sizeof *hints);
  hints->ai_family = family;
  hints->ai_socktype = type;
  hints->ai_protocol = proto;
  hints->ai_flags = flags;
}

int us__sys_resolve_each(void *res, us_addrinfo_cb cb, void *ctx) {
  int count = 0;
  for (const us__addrinfo_t *ai = res; ai; ai = ai->ai_next) {
    if (ai->ai_family != US__AF_INET && ai->ai_family != US__AF_INET6)
      continue;
    us_addrinfo_t out;
    out.family = ai->ai_family;
    out.type = ai->ai_socktype;
    out.proto = ai->ai_protocol;
    out.canonname = ai->ai_canonname ? ai->ai_canonname : "";
    us__sa_to_addr(ai->ai_addr, ai->ai_addrlen, &out.addr);
    int c = cb(ctx, &out);
    if (c < 0)
      return c;
    count++;
  }
  return count;
}
