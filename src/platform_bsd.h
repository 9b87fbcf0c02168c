/* platform_bsd.h: the US__ names that every backend's sockets API spells
 * as BSD sockets do, and the storage for its addresses.
 *
 * src/platform.h includes it after the selected backend's platform.h,
 * whose headers give these names their platform's values (the system's,
 * or lwIP's own) and which names what differs. A name under #ifdef is
 * one a platform may lack (lwIP built without the feature): left
 * undefined, the bindings leave it out of their socket modules.
 */
#ifndef US_PLATFORM_BSD_H
#define US_PLATFORM_BSD_H

#define US__AF_INET AF_INET
#define US__AF_INET6 AF_INET6

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
 * platform's own struct pollfd for the backend's poll. */
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

/* SO_LINGER's value, which src/socket.c reads to know whether a close
 * will linger. */
typedef struct linger us__linger_t;

/* One storage for an address of either family (src/sockaddr.c), without
 * sockaddr_storage's 128 bytes on every call. */
typedef union {
  struct sockaddr sa;
  struct sockaddr_in in4;
#if US__INET6
  struct sockaddr_in6 in6;
#endif
} us__sa_t;

#define US__AI_PASSIVE AI_PASSIVE
#define US__AI_NUMERICHOST AI_NUMERICHOST
#define US__AI_NUMERICSERV AI_NUMERICSERV
#define US__EAI_NONAME EAI_NONAME
#define US__EAI_SERVICE EAI_SERVICE

/* The rest only the bindings use: the values their socket modules offer
 * (socket.SOL_SOCKET...). */
#define US__IPPROTO_IP IPPROTO_IP
#define US__IPPROTO_IPV6 IPPROTO_IPV6

#define US__SOL_SOCKET SOL_SOCKET
#define US__SO_REUSEADDR SO_REUSEADDR
#define US__SO_KEEPALIVE SO_KEEPALIVE
#define US__SO_BROADCAST SO_BROADCAST
#define US__SO_ERROR SO_ERROR
#define US__SO_LINGER SO_LINGER
#define US__SO_RCVBUF SO_RCVBUF
#define US__SO_SNDBUF SO_SNDBUF
#ifdef TCP_NODELAY
#define US__TCP_NODELAY TCP_NODELAY
#endif
#ifdef IP_ADD_MEMBERSHIP /* lwIP: LWIP_IGMP */
#define US__IP_ADD_MEMBERSHIP IP_ADD_MEMBERSHIP
#define US__IP_DROP_MEMBERSHIP IP_DROP_MEMBERSHIP
#endif
#ifdef IP_MULTICAST_TTL /* lwIP: LWIP_MULTICAST_TX_OPTIONS */
#define US__IP_MULTICAST_TTL IP_MULTICAST_TTL
#endif

#define US__SHUT_RD SHUT_RD
#define US__SHUT_WR SHUT_WR
#ifdef AI_CANONNAME
#define US__AI_CANONNAME AI_CANONNAME
#endif

#endif /* US_PLATFORM_BSD_H */
