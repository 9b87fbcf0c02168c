/* posix/backend.c: the core's system calls on POSIX systems (Linux, BSD). */
#define _GNU_SOURCE
#include "../sockaddr.h"
#include "fault_names.h" /* first: a fault build renames what follows */
#include "signals.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set on every socket instead */
#endif

static int neg_errno(void) { return errno ? -errno : -EIO; }

int us__sys_socket(int family, int type, int proto, int nonblocking) {
  int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  int fd = socket(family, type | flags, proto);
  if (fd < 0)
    return neg_errno();
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return fd;
}

int us__sys_close(int fd) {
  /* Linux releases the descriptor even when close reports EINTR, so it is
   * never retried: a retry could close a descriptor reused meanwhile. */
  if (close(fd) < 0 && errno != EINTR)
    return neg_errno();
  return 0;
}

int us__sys_set_nonblocking(int fd, int on) {
#ifdef FIONBIO
  /* One system call, where F_GETFL and F_SETFL take two. */
  return ioctl(fd, FIONBIO, &on) < 0 ? neg_errno() : 0;
#else
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0)
    return neg_errno();
  int want = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  if (want != fl && fcntl(fd, F_SETFL, want) < 0)
    return neg_errno();
  return 0;
#endif
}

int us__sys_sockinfo(int fd, int *family, int *type, int *proto) {
  us__sa_t sa;
  socklen_t len = sizeof sa;
  if (getsockname(fd, &sa.sa, &len) < 0)
    return neg_errno();
  *family = sa.sa.sa_family;
  len = sizeof *type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) < 0)
    return neg_errno();
  *proto = 0;
#ifdef SO_PROTOCOL
  len = sizeof *proto;
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, proto, &len) < 0)
    *proto = 0;
#endif
  return 0;
}

int us__sys_bind(int fd, const us_addr_t *addr) {
  us__sa_t sa;
  socklen_t len = us__sa_from_addr(addr, &sa);
  return bind(fd, &sa.sa, len) < 0 ? neg_errno() : 0;
}

int us__sys_listen(int fd, int backlog) {
  return listen(fd, backlog) < 0 ? neg_errno() : 0;
}

int us__sys_accept(int fd, us_addr_t *peer, int nonblocking) {
  us__sa_t sa;
  socklen_t len = sizeof sa;
  int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  int c = accept4(fd, &sa.sa, &len, flags);
  if (c < 0)
    return neg_errno();
  if (peer)
    us__sa_to_addr(&sa.sa, len, peer);
  return c;
}

int us__sys_connect(int fd, const us_addr_t *addr) {
  us__sa_t sa;
  socklen_t len = us__sa_from_addr(addr, &sa);
  return connect(fd, &sa.sa, len) < 0 ? neg_errno() : 0;
}

int us__sys_connect_result(int fd, const us_addr_t *addr) {
#ifdef __linux__
  /* Linux answers a connect made again with the outcome, and only then
   * marks the socket connected, as a blocking connect would have: one
   * system call for what SO_ERROR and that second connect take two. */
  int r = us__sys_connect(fd, addr);
  return r == -EISCONN ? 0 : r;
#else
  (void)addr;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    return neg_errno();
  return -err;
#endif
}

int us__sys_shutdown(int fd, int how) {
  return shutdown(fd, how) < 0 ? neg_errno() : 0;
}

int us__sys_name(int fd, us_addr_t *addr, int peer) {
  us__sa_t sa;
  socklen_t len = sizeof sa;
  int r = peer ? getpeername(fd, &sa.sa, &len) : getsockname(fd, &sa.sa, &len);
  if (r < 0)
    return neg_errno();
  us__sa_to_addr(&sa.sa, len, addr);
  return 0;
}

ssize_t us__sys_send(int fd, const void *buf, size_t len, int flags) {
  ssize_t n = send(fd, buf, len, flags | MSG_NOSIGNAL);
  return n < 0 ? neg_errno() : n;
}

ssize_t us__sys_recv(int fd, void *buf, size_t len, int flags) {
  ssize_t n = recv(fd, buf, len, flags);
  return n < 0 ? neg_errno() : n;
}

ssize_t us__sys_sendto(int fd, const void *buf, size_t len, int flags,
                       const us_addr_t *to) {
  us__sa_t sa;
  socklen_t salen = us__sa_from_addr(to, &sa);
  ssize_t n = sendto(fd, buf, len, flags | MSG_NOSIGNAL, &sa.sa, salen);
  return n < 0 ? neg_errno() : n;
}

ssize_t us__sys_recvfrom(int fd, void *buf, size_t len, int flags,
                         us_addr_t *from) {
  us__sa_t sa;
  socklen_t salen = sizeof sa;
  ssize_t n = recvfrom(fd, buf, len, flags, &sa.sa, &salen);
  if (n < 0)
    return neg_errno();
  if (from)
    us__sa_to_addr(&sa.sa, salen, from);
  return n;
}

ssize_t us__sys_pending(int fd) {
  int n = 0;
  return ioctl(fd, FIONREAD, &n) < 0 ? neg_errno() : n;
}

int us__sys_setsockopt(int fd, int level, int name, const void *val,
                       size_t len) {
  if (len > 0x7fffffff) /* socklen_t would cut it short */
    return -EINVAL;
  return setsockopt(fd, level, name, val, (socklen_t)len) < 0 ? neg_errno() : 0;
}

int us__sys_getsockopt(int fd, int level, int name, void *val, size_t *len) {
  socklen_t l = (socklen_t)*len;
  if (getsockopt(fd, level, name, val, &l) < 0)
    return neg_errno();
  *len = l;
  return 0;
}

int us__sys_lingers(int fd) {
  struct linger l;
  socklen_t len = sizeof l;
  if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) < 0)
    return 0;
  return len == sizeof l && l.l_onoff && l.l_linger != 0;
}

int us__sys_wait(int fd, int events, int64_t timeout_ns) {
  struct pollfd p = {.fd = fd, .events = (short)events, .revents = 0};
  struct timespec ts;
  int r = ppoll(&p, 1, us__posix_limit(timeout_ns, &ts), us__posix_wait_mask());
  if (r < 0)
    return neg_errno();
  return r == 0 ? 0 : p.revents;
}

int us__sys_wait_many(const int *fds, const int *events, int *ready, int n,
                      int64_t timeout_ns) {
  struct pollfd p[US__WAIT_MANY_MAX];
  struct timespec ts;
  if (n < 0 || n > US__WAIT_MANY_MAX)
    return -EINVAL;
  for (int i = 0; i < n; i++) {
    p[i].fd = fds[i];
    p[i].events = (short)events[i];
    p[i].revents = 0;
  }
  int r = ppoll(p, (nfds_t)n, us__posix_limit(timeout_ns, &ts),
                us__posix_wait_mask());
  if (r < 0)
    return neg_errno();
  for (int i = 0; i < n; i++)
    ready[i] = p[i].revents;
  return r;
}

int us__sys_poll(us__pollfd_t *fds, size_t n, int64_t timeout_ns) {
  struct timespec ts;
  int r = ppoll(fds, (nfds_t)n, us__posix_limit(timeout_ns, &ts),
                us__posix_wait_mask());
  return r < 0 ? neg_errno() : r;
}

int us__sys_check_open(int fd) {
  return fcntl(fd, F_GETFD) < 0 ? (errno ? -errno : -EBADF) : 0;
}

int64_t us__sys_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int us__sys_ntop(int family, const void *packed, char *buf, size_t len) {
  if (!inet_ntop(family, packed, buf, (socklen_t)len))
    return neg_errno();
  return (int)strlen(buf);
}

int us__sys_pton(int family, const char *text, void *packed) {
  int r = inet_pton(family, text, packed);
  if (r < 0)
    return neg_errno();
  return r == 0 ? -EINVAL : (family == AF_INET6 ? 16 : 4);
}

int us__sys_resolve(const char *host, const char *port, int family, int type,
                    int proto, int flags, void **res) {
  struct addrinfo hints;
  us__sa_hints(&hints, family, type, proto, flags);
  *res = NULL;
  int r = getaddrinfo(host, port, &hints, (struct addrinfo **)res);
  if (r == 0)
    return 0;
  *res = NULL;
  return r == EAI_SYSTEM ? neg_errno() : US_GAI_ERROR(r);
}

int us__sys_nameinfo(us__names_t *n, int flags) {
  n->host[0] = n->serv[0] = '\0';
  int r = getnameinfo((const struct sockaddr *)(const void *)n->addr.u.data,
                      (socklen_t)n->addr.len, n->host, sizeof n->host, n->serv,
                      sizeof n->serv, flags);
  if (r == 0)
    return 0;
  return r == EAI_SYSTEM ? neg_errno() : US_GAI_ERROR(r);
}

int us__sys_nameinfo_local(int flags) {
  return (flags & NI_NUMERICHOST) && (flags & NI_NUMERICSERV);
}

void us__sys_resolve_free(void *res) {
  if (res)
    freeaddrinfo(res);
}

int us__sys_ifindex(const char *name) {
  unsigned idx = if_nametoindex(name);
  return idx == 0 || idx > 0x7fffffff ? -ENODEV : (int)idx;
}

const char *us__sys_gai_strerror(int magnitude) {
  /* glibc's codes are negative, the BSDs' positive. */
  return gai_strerror(EAI_NONAME < 0 ? -magnitude : magnitude);
}
