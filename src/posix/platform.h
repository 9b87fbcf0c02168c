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

/* A call blocked in the kernel returns when another thread shuts its
 * socket down: blocking sockets may block there. */
#define US__KERNEL_WAKES 1

#define US__AI_PASSIVE AI_PASSIVE
#define US__AI_NUMERICHOST AI_NUMERICHOST
#define US__AI_NUMERICSERV AI_NUMERICSERV
#define US__EAI_NONAME EAI_NONAME
#define US__EAI_SERVICE EAI_SERVICE

#endif /* US_PLATFORM_H */
