/* sockaddr.h: the core's addresses as the platform's struct sockaddr, for
 * the backends' calls that take or give one (src/sockaddr.c). */
#ifndef US_SOCKADDR_H
#define US_SOCKADDR_H

#include "backend.h"

/* *a as the platform's struct sockaddr in *sa; returns its length. */
socklen_t us__sa_from_addr(const us_addr_t *a, us__sa_t *sa);
/* The len bytes at sa as *a; a family other than AF_INET/AF_INET6, or
 * too few bytes for its own (0: a datagram without a sender), leave *a
 * zeroed. */
void us__sa_to_addr(const struct sockaddr *sa, socklen_t len, us_addr_t *a);
/* The hints of a resolver's lookup: these and nothing else. */
void us__sa_hints(us__addrinfo_t *hints, int family, int type, int proto,
                  int flags);

#endif /* US_SOCKADDR_H */
