/* platform.h (POSIX): the platform's socket constants under the names the
 * core uses.
 *
 * The core's files include no network header of their own: each backend
 * has a platform.h (backend.h picks the one the build selects) that
 * maps the US__ names to its platform's values. Here they are the
 * system's, so they equal what a caller of the C API passes.
 */
#ifndef US_PLATFORM_H
#define US_PLATFORM_H

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#define US__AF_INET AF_INET
#define US__AF_INET6 AF_INET6
#define US__AF_UNIX AF_UNIX

#define US__SOCK_STREAM SOCK_STREAM
#define US__SOCK_DGRAM SOCK_DGRAM
#define US__SOCK_RAW SOCK_RAW

#define US__IPPROTO_TCP IPPROTO_TCP
#define US__IPPROTO_UDP IPPROTO_UDP

#define US__MSG_PEEK MSG_PEEK
#define US__MSG_DONTWAIT MSG_DONTWAIT
#define US__MSG_TRUNC MSG_TRUNC
#define US__MSG_NOSIGNAL MSG_NOSIGNAL

#define US__SHUT_RDWR SHUT_RDWR

/* The poll set's portable backend (src/pollset_poll.c) fills the
 * platform's own struct pollfd for poll(2). */
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

/* The addresses every backend converts the same way (src/sockaddr.c):
 * one storage for either family, without sockaddr_storage's 128 bytes on
 * every call, the resolver's results, and the byte order. */
#define US__INET6 1
typedef union {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
} us__sa_t;
typedef struct addrinfo us__addrinfo_t;
#define US__HTONS(x) htons(x)
#define US__NTOHS(x) ntohs(x)
#define US__HTONL(x) htonl(x)
#define US__NTOHL(x) ntohl(x)

/* A call blocked in the kernel returns when another thread shuts its
 * socket down: blocking sockets may block there. */
#define US__KERNEL_WAKES 1

#define US__AI_PASSIVE AI_PASSIVE
#define US__AI_NUMERICHOST AI_NUMERICHOST
#define US__AI_NUMERICSERV AI_NUMERICSERV
#define US__EAI_NONAME EAI_NONAME
#define US__EAI_SERVICE EAI_SERVICE

/* The rest only the bindings use: the values their socket modules offer
 * (socket.SOL_SOCKET...). A name left undefined is one the platform does
 * not have, and the module leaves out. */
#define US__IPPROTO_IP IPPROTO_IP
#define US__IPPROTO_IPV6 IPPROTO_IPV6

/* listen()'s default backlog is at most the platform's cap. */
#define US__SOMAXCONN SOMAXCONN

#define US__SOL_SOCKET SOL_SOCKET
#define US__SO_REUSEADDR SO_REUSEADDR
#define US__SO_KEEPALIVE SO_KEEPALIVE
#define US__SO_BROADCAST SO_BROADCAST
#define US__SO_ERROR SO_ERROR
#define US__SO_LINGER SO_LINGER
#define US__SO_RCVBUF SO_RCVBUF
#define US__SO_SNDBUF SO_SNDBUF
#ifdef SO_REUSEPORT
#define US__SO_REUSEPORT SO_REUSEPORT
#endif
#define US__TCP_NODELAY TCP_NODELAY
#define US__IP_ADD_MEMBERSHIP IP_ADD_MEMBERSHIP
#define US__IP_DROP_MEMBERSHIP IP_DROP_MEMBERSHIP
#define US__IP_MULTICAST_TTL IP_MULTICAST_TTL

#define US__MSG_DONTROUTE MSG_DONTROUTE
#define US__SHUT_RD SHUT_RD
#define US__SHUT_WR SHUT_WR
#define US__AI_CANONNAME AI_CANONNAME

#endif /* US_PLATFORM_H */
