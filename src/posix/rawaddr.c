/* posix/rawaddr.c: system calls on raw addresses (the platform's own
 * struct sockaddr bytes), and AF_UNIX paths to and from them. */
#define _GNU_SOURCE
#include "../backend.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set on every socket instead */
#endif

_Static_assert(sizeof(struct sockaddr_storage) <= US_RAWADDR_MAX,
               "us_rawaddr_t holds any address the platform has");
_Static_assert(sizeof(struct sockaddr_un) <= US_RAWADDR_MAX,
               "us_rawaddr_t holds an AF_UNIX address");

static int neg_errno(void) { return errno ? -errno : -EIO; }

/* The data of a raw address is aligned as struct sockaddr_storage. */
static const struct sockaddr *sa_of(const us_rawaddr_t *a) {
  return (const struct sockaddr *)(const void *)a->u.data;
}

static struct sockaddr *sa_out(us_rawaddr_t *a) {
  return (struct sockaddr *)(void *)a->u.data;
}

int us__sys_bind_raw(int fd, const us_rawaddr_t *addr) {
  return bind(fd, sa_of(addr), (socklen_t)addr->len) < 0 ? neg_errno() : 0;
}

int us__sys_accept_raw(int fd, us_rawaddr_t *peer, int nonblocking) {
  socklen_t len = sizeof peer->u.data;
  int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  int c = accept4(fd, sa_out(peer), &len, flags);
  if (c < 0)
    return neg_errno();
  peer->len = len < sizeof peer->u.data ? len : sizeof peer->u.data;
  return c;
}

int us__sys_connect_raw(int fd, const us_rawaddr_t *addr) {
  return connect(fd, sa_of(addr), (socklen_t)addr->len) < 0 ? neg_errno() : 0;
}

int us__sys_connect_result_raw(int fd, const us_rawaddr_t *addr) {
#ifdef __linux__
  /* As us__sys_connect_result: connecting again reads the outcome. */
  int r = us__sys_connect_raw(fd, addr);
  return r == -EISCONN ? 0 : r;
#else
  (void)addr; /* SO_ERROR: the address plays no part */
  return us__sys_connect_result(fd, NULL);
#endif
}

int us__sys_name_raw(int fd, us_rawaddr_t *addr, int peer) {
  socklen_t len = sizeof addr->u.data;
  /* Linux leaves the bytes past a short name as they were. */
  memset(addr->u.data, 0, sizeof addr->u.data);
  int r = peer ? getpeername(fd, sa_out(addr), &len)
               : getsockname(fd, sa_out(addr), &len);
  if (r < 0)
    return neg_errno();
  addr->len = len < sizeof addr->u.data ? len : sizeof addr->u.data;
  return 0;
}

ssize_t us__sys_sendto_raw(int fd, const void *buf, size_t len, int flags,
                           const us_rawaddr_t *to) {
  ssize_t n =
      sendto(fd, buf, len, flags | MSG_NOSIGNAL, sa_of(to), (socklen_t)to->len);
  return n < 0 ? neg_errno() : n;
}

ssize_t us__sys_recvfrom_raw(int fd, void *buf, size_t len, int flags,
                             us_rawaddr_t *from) {
  socklen_t salen = sizeof from->u.data;
  ssize_t n = recvfrom(fd, buf, len, flags, sa_out(from), &salen);
  if (n < 0)
    return neg_errno();
  /* No sender (an unbound AF_UNIX peer): the kernel gives length 0. */
  from->len = salen < sizeof from->u.data ? salen : sizeof from->u.data;
  return n;
}

int us__sys_unix_encode(us_rawaddr_t *addr, const char *path, size_t len) {
  struct sockaddr_un un;
  size_t off = offsetof(struct sockaddr_un, sun_path);
  /* A file name is ended by a NUL in the address; an abstract name (or
   * none at all: the kernel picks an abstract one) is counted. */
  size_t nul = len > 0 && path[0] != '\0';
  addr->len = 0;
  if (len + nul > sizeof un.sun_path)
    return -ENAMETOOLONG;
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  memcpy(un.sun_path, path, len);
  memcpy(addr->u.data, &un, sizeof un);
  addr->len = off + len + nul;
  return 0;
}

int us__sys_unix_decode(const us_rawaddr_t *addr, const char **path,
                        size_t *len) {
  size_t off = offsetof(struct sockaddr_un, sun_path);
  if (us__sys_rawaddr_family(addr) != AF_UNIX)
    return -EAFNOSUPPORT;
  const char *p = (const char *)addr->u.data + off;
  size_t n = addr->len > off ? addr->len - off : 0;
  if (n > 0 && p[0] != '\0') /* a file name: up to its NUL, if any */
    n = strnlen(p, n);
  *path = p;
  *len = n;
  return 0;
}
