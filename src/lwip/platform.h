/* platform.h (lwIP): lwIP's socket constants under the names the core uses.
 *
 * lwIP's sockets API has its own values (MSG_PEEK is 0x01 and MSG_DONTWAIT
 * 0x08 where Linux has 0x02 and 0x40, AF_INET6 is 10, the resolver's codes
 * start at 200) unless its lwipopts.h takes the system's headers instead
 * (LWIP_SOCKET_EXTERNAL_HEADERS, as Debian's build does): either way they
 * come from lwIP's headers, which are the only network headers here.
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

#define US__AF_INET AF_INET
#define US__AF_INET6 AF_INET6
/* lwIP has no local sockets: a family no socket has. */
#ifdef AF_UNIX
#define US__AF_UNIX AF_UNIX
#else
#define US__AF_UNIX (-1)
#endif

#define US__SOCK_STREAM SOCK_STREAM
#define US__SOCK_DGRAM SOCK_DGRAM
#define US__SOCK_RAW SOCK_RAW

#define US__IPPROTO_TCP IPPROTO_TCP
#define US__IPPROTO_UDP IPPROTO_UDP

#define US__MSG_PEEK MSG_PEEK
#define US__MSG_DONTWAIT MSG_DONTWAIT
#define US__MSG_TRUNC MSG_TRUNC
/* lwIP raises no signal: the flag is accepted and means nothing. */
#define US__MSG_NOSIGNAL MSG_NOSIGNAL

#define US__SHUT_RDWR SHUT_RDWR

/* The poll set's portable backend (src/pollset_poll.c) fills the
 * platform's own struct pollfd for lwip_poll. */
typedef struct pollfd us__pollfd_t;
#define US__POLLIN POLLIN
#define US__POLLOUT POLLOUT
#define US__POLLERR POLLERR
#define US__POLLHUP POLLHUP
#define US__POLLNVAL POLLNVAL

/* The ancillary data's layout (src/cmsg.c) is the platform's own. */
typedef struct cmsghdr us__cmsghdr_t;
#define US__CMSG_LEN(len) CMSG_LEN(len)
#define US__CMSG_SPACE(len) CMSG_SPACE(len)

/* The addresses every backend converts the same way (src/sockaddr.c),
 * in lwIP's layout (its sin_len byte first), the resolver's results and
 * lwIP's byte order macros. */
#define US__INET6 LWIP_IPV6
typedef union {
  struct sockaddr sa;
  struct sockaddr_in in4;
#if LWIP_IPV6
  struct sockaddr_in6 in6;
#endif
} us__sa_t;
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

#define US__AI_PASSIVE AI_PASSIVE
#define US__AI_NUMERICHOST AI_NUMERICHOST
#define US__AI_NUMERICSERV AI_NUMERICSERV
#define US__EAI_NONAME EAI_NONAME
#define US__EAI_SERVICE EAI_SERVICE

/* The rest only the bindings use: the values their socket modules offer.
 * A name left undefined is one this lwIP lacks (its lwipopts.h left the
 * feature out), and the module leaves it out too. */
#define US__IPPROTO_IP IPPROTO_IP
#define US__IPPROTO_IPV6 IPPROTO_IPV6

/* lwIP keeps a backlog in a byte: its default is the most it takes. */
#define US__SOMAXCONN TCP_DEFAULT_LISTEN_BACKLOG

#define US__SOL_SOCKET SOL_SOCKET
#define US__SO_REUSEADDR SO_REUSEADDR
#define US__SO_KEEPALIVE SO_KEEPALIVE
#define US__SO_BROADCAST SO_BROADCAST
#define US__SO_ERROR SO_ERROR
#define US__SO_LINGER SO_LINGER
#define US__SO_RCVBUF SO_RCVBUF
#define US__SO_SNDBUF SO_SNDBUF
/* lwIP names SO_REUSEPORT but refuses it (ENOPROTOOPT): not offered. */
#ifdef TCP_NODELAY
#define US__TCP_NODELAY TCP_NODELAY
#endif
#ifdef IP_ADD_MEMBERSHIP /* LWIP_IGMP */
#define US__IP_ADD_MEMBERSHIP IP_ADD_MEMBERSHIP
#define US__IP_DROP_MEMBERSHIP IP_DROP_MEMBERSHIP
#endif
#ifdef IP_MULTICAST_TTL /* LWIP_MULTICAST_TX_OPTIONS */
#define US__IP_MULTICAST_TTL IP_MULTICAST_TTL
#endif

/* lwIP has no MSG_DONTROUTE. */
#define US__SHUT_RD SHUT_RD
#define US__SHUT_WR SHUT_WR
#ifdef AI_CANONNAME
#define US__AI_CANONNAME AI_CANONNAME
#endif

#endif /* US_PLATFORM_H */
