/* platform.h (POSIX): the platform's socket constants under the names the
 * core uses.
 *
 * The core's files include no network header of their own: each backend
 * has a platform.h (backend.h picks the one the build selects) that
 * maps the US__ names to its platform's values. Here they are the
 * system's, so they equal what a caller of the C API passes. The names
 * spelled alike on every backend are in src/platform_bsd.h; these are the
 * rest.
 */
#ifndef US_PLATFORM_H
#define US_PLATFORM_H

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#define US__AF_UNIX AF_UNIX

/* The addresses every backend converts the same way (src/sockaddr.c):
 * which families the storage (us__sa_t) holds, the resolver's results,
 * and the byte order. */
#define US__INET6 1
typedef struct addrinfo us__addrinfo_t;
#define US__HTONS(x) htons(x)
#define US__NTOHS(x) ntohs(x)
#define US__HTONL(x) htonl(x)
#define US__NTOHL(x) ntohl(x)

/* A call blocked in the kernel returns when another thread shuts its
 * socket down: blocking sockets may block there. */
#define US__KERNEL_WAKES 1

/* listen()'s default backlog is at most the platform's cap. */
#define US__SOMAXCONN SOMAXCONN

/* Only the bindings use these. */
#ifdef SO_REUSEPORT
#define US__SO_REUSEPORT SO_REUSEPORT
#endif
#define US__MSG_DONTROUTE MSG_DONTROUTE

#endif /* US_PLATFORM_H */
