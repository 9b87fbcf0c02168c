/* lwip/names.c: text addresses and the resolver on lwIP. lwIP's resolver
 * (LWIP_DNS) answers one address per name, IPv4 or IPv6 as the family
 * asks; without it, only numeric names resolve (the core's fast path).
 * Lookups run to their end when they start: lwIP has no resolver thread
 * to hand them to, so a lookup's deadline is the resolver's own timeout. */
#include "lwip_sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if LWIP_NETIF_API || LWIP_SOCKET
#include <lwip/if_api.h>
#endif

#define US__LWIP_DONE_FD (-2) /* as wait.c */

#if LWIP_DNS
int us__sys_resolve(const char *host, const char *port, int family, int type,
                    int proto, int flags, void **res) {
  struct addrinfo hints;
  us__sa_hints(&hints, family, type, proto, flags);
  *res = NULL;
  int r = lwip_getaddrinfo(host, port, &hints, (struct addrinfo **)res);
  if (r == 0)
    return 0;
  *res = NULL;
  return US_GAI_ERROR(r);
}

void us__sys_resolve_free(void *res) {
  if (res)
    lwip_freeaddrinfo(res);
}
#else
int us__sys_resolve(const char *host, const char *port, int family, int type,
                    int proto, int flags, void **res) {
  (void)host, (void)port, (void)family, (void)type, (void)proto, (void)flags;
  *res = NULL;
  return US_GAI_ERROR(EAI_NONAME);
}

void us__sys_resolve_free(void *res) { (void)res; }
#endif

struct us__lookup {
  int r;
  void *res;
  us__names_t names;
};

int us__sys_lookup_start(const char *host, const char *port, int family,
                         int type, int proto, int flags, us__lookup_t **l) {
  us__lookup_t *n = calloc(1, sizeof *n);
  if (!n)
    return -ENOMEM;
  n->r = us__sys_resolve(host, port, family, type, proto, flags, &n->res);
  *l = n;
  return 0;
}

int us__sys_lookup_fd(const us__lookup_t *l) {
  (void)l;
  return US__LWIP_DONE_FD;
}

int us__sys_lookup_end(us__lookup_t *l, void **res) {
  int r = l->r;
  *res = l->res;
  free(l);
  return r;
}

void us__sys_lookup_abandon(us__lookup_t *l) {
  us__sys_resolve_free(l->res);
  free(l);
}

int us__sys_nameinfo(us__names_t *n, int flags) {
  /* lwIP has no reverse lookup and no services database: the names are
   * always the numeric ones, whatever the flags. */
  (void)flags;
  us_addr_t a;
  n->host[0] = n->serv[0] = '\0';
  int family = us__sys_addr_decode(n->addr.u.data, n->addr.len, &a, NULL);
  if (family < 0)
    return family;
  if (family != AF_INET && family != AF_INET6)
    return -EAFNOSUPPORT;
  int r = us__sys_ntop(family, a.ip, n->host, sizeof n->host);
  if (r < 0)
    return r;
  snprintf(n->serv, sizeof n->serv, "%u", (unsigned)a.port);
  return 0;
}

int us__sys_nameinfo_local(int flags) {
  (void)flags;
  return 1;
}

int us__sys_rlookup_start(const us__names_t *in, int flags, us__lookup_t **l) {
  us__lookup_t *n = calloc(1, sizeof *n);
  if (!n)
    return -ENOMEM;
  n->names = *in;
  n->r = us__sys_nameinfo(&n->names, flags);
  *l = n;
  return 0;
}

int us__sys_rlookup_end(us__lookup_t *l, us__names_t *out) {
  int r = l->r;
  if (r == 0)
    *out = l->names;
  free(l);
  return r;
}

int us__sys_ifindex(const char *name) {
  unsigned idx = lwip_if_nametoindex(name);
  return idx == 0 || idx > 0x7fffffff ? -ENODEV : (int)idx;
}

const char *us__sys_gai_strerror(int magnitude) {
  switch (magnitude) {
  case EAI_NONAME:
    return "Name or service not known";
  case EAI_SERVICE:
    return "Service not supported";
  case EAI_FAIL:
    return "Non-recoverable failure in name resolution";
  default:
    return "Unknown resolver error";
  }
}
