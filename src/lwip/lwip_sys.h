/* lwip_sys.h: what the lwIP backend's files share: lwIP's sockets API, the
 * core's addresses as lwIP's (src/sockaddr.h), and their calls' helpers. */
#ifndef US_LWIP_SYS_H
#define US_LWIP_SYS_H

#include "../sockaddr.h"

#include <errno.h>
#include <lwip/def.h>
#include <lwip/inet.h>
#include <lwip/netdb.h>
#include <lwip/sockets.h>
#include <lwip/sys.h>

/* lwIP sets errno as the C library's (LWIP_ERRNO_STDINCLUDE): its values
 * are the host's. */
static inline int us__lwip_errno(void) { return errno ? -errno : -EIO; }

/* A connect's error as POSIX names it. */
int us__lwip_connect_error(int e);
/* A receive's count, or its error as POSIX would report it (the end of a
 * stream is 0 every time). */
ssize_t us__lwip_recv_result(int fd, ssize_t n, size_t len);
/* US__IN/US__OUT as poll bits, and what lwip_poll reports as US_POLL*. */
short us__lwip_to_poll(int events);
int us__lwip_from_poll(short revents);

#endif /* US_LWIP_SYS_H */
