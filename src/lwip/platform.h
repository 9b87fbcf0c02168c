/* platform.h (lwIP): lwIP's socket constants under the names the core uses.
 *
 * lwIP's sockets API has its own values (MSG_PEEK is 0x01 and MSG_DONTWAIT
 * 0x08 where Linux has 0x02 and 0x40, AF_INET6 is 10, the resolver's codes
 * start at 200) unless its lwipopts.h takes the system's headers instead
 * (LWIP_SOCKET_EXTERNAL_HEADERS, as Debian's build does): either way they
 * come from lwIP's headers, which are the only network headers here. The
 * names spelled alike on every backend are in src/platform_bsd.h; these
 * are the rest.
 */
#ifndef US_PLATFORM_H
#define US_PLATFORM_H

#include <lwip/sockets.h>
/* After sockets.h, which reads lwipopts.h. */
#include <lwip/def.h>
#include <lwip/netdb.h>
#if LWIP_SOCKET_EXTERNAL_HEADERS
/* The stack speaks the system's socket ABI: its resolver's flags and codes
 * too (lwIP's netdb.h has them only with LWIP_DNS). */
#include <netdb.h>
#elif !LWIP_DNS
/* No resolver in the stack: numeric names only, with lwIP's values. */
#define AI_PASSIVE 0x01
#define AI_NUMERICHOST 0x04
#define AI_NUMERICSERV 0x08
#define EAI_NONAME 200
#define EAI_SERVICE 201
#define EAI_FAIL 202
#endif

/* lwIP has no local sockets: a family no socket has. */
#ifdef AF_UNIX
#define US__AF_UNIX AF_UNIX
#else
#define US__AF_UNIX (-1)
#endif

/* The addresses every backend converts the same way (src/sockaddr.c):
 * which families the storage (us__sa_t) holds, the resolver's results,
 * and lwIP's byte order macros. */
#define US__INET6 LWIP_IPV6
#if LWIP_DNS || LWIP_SOCKET_EXTERNAL_HEADERS
typedef struct addrinfo us__addrinfo_t;
#else
/* No resolver and no struct addrinfo: the shape of a result the walk
 * reads, though none is ever made. */
typedef struct us__addrinfo {
  int ai_flags;
  int ai_family;
  int ai_socktype;
  int ai_protocol;
  socklen_t ai_addrlen;
  struct sockaddr *ai_addr;
  char *ai_canonname;
  struct us__addrinfo *ai_next;
} us__addrinfo_t;
#endif
#define US__HTONS(x) PP_HTONS(x)
#define US__NTOHS(x) PP_NTOHS(x)
#define US__HTONL(x) PP_HTONL(x)
#define US__NTOHL(x) PP_NTOHL(x)

/* Without LWIP_NETCONN_FULLDUPLEX, a shutdown from another thread frees
 * the receive mailbox a blocked lwip_recv waits on: blocking calls wait
 * in lwip_poll instead, which the shutdown's events wake. */
#define US__KERNEL_WAKES 0

/* lwIP keeps a backlog in a byte: its default is the most it takes. */
#define US__SOMAXCONN TCP_DEFAULT_LISTEN_BACKLOG

/* lwIP raises no signal: US__MSG_NOSIGNAL is accepted and means nothing.
 * lwIP names SO_REUSEPORT but refuses it (ENOPROTOOPT), and has no
 * MSG_DONTROUTE: neither is offered. The options lwipopts.h left out
 * (TCP_NODELAY, IP_ADD_MEMBERSHIP...) are undefined, and left out too. */

#endif /* US_PLATFORM_H */
