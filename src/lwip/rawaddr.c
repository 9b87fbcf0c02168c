/* lwip/rawaddr.c: socket calls on raw addresses (lwIP's struct sockaddr
 * bytes); lwIP has no AF_UNIX. */
#include "lwip_sys.h"

#include <stddef.h>
#include <string.h>

_Static_assert(sizeof(us__sa_t) <= US_RAWADDR_MAX,
               "us_rawaddr_t holds any address lwIP has");

static const struct sockaddr *sa_of(const us_rawaddr_t *a) {
  return (const struct sockaddr *)(const void *)a->u.data;
}

static struct sockaddr *sa_out(us_rawaddr_t *a) {
  return (struct sockaddr *)(void *)a->u.data;
}

static socklen_t room(const us_rawaddr_t *a) {
  return sizeof a->u.data < sizeof(us__sa_t) ? sizeof a->u.data
                                             : sizeof(us__sa_t);
}

int us__sys_bind_raw(int fd, const us_rawaddr_t *addr) {
  return lwip_bind(fd, sa_of(addr), (socklen_t)addr->len) < 0 ? us__lwip_errno()
                                                              : 0;
}

int us__sys_accept_raw(int fd, us_rawaddr_t *peer, int nonblocking) {
  socklen_t len = room(peer);
  memset(peer->u.data, 0, sizeof peer->u.data);
  int c = lwip_accept(fd, sa_out(peer), &len);
  if (c < 0)
    return us__lwip_errno();
  if (nonblocking && us__sys_set_nonblocking(c, 1) < 0) {
    int e = us__lwip_errno();
    lwip_close(c);
    return e;
  }
  peer->len = len < room(peer) ? len : room(peer);
  return c;
}

int us__sys_connect_raw(int fd, const us_rawaddr_t *addr) {
  return lwip_connect(fd, sa_of(addr), (socklen_t)addr->len) < 0
             ? us__lwip_connect_error(us__lwip_errno())
             : 0;
}

int us__sys_connect_result_raw(int fd, const us_rawaddr_t *addr) {
  (void)addr;
  return us__sys_connect_result(fd, NULL);
}

int us__sys_name_raw(int fd, us_rawaddr_t *addr, int peer) {
  socklen_t len = room(addr);
  memset(addr->u.data, 0, sizeof addr->u.data);
  int r = peer ? lwip_getpeername(fd, sa_out(addr), &len)
               : lwip_getsockname(fd, sa_out(addr), &len);
  if (r < 0)
    return us__lwip_errno();
  addr->len = len < room(addr) ? len : room(addr);
  return 0;
}

ssize_t us__sys_sendto_raw(int fd, const void *buf, size_t len, int flags,
                           const us_rawaddr_t *to) {
  ssize_t n = lwip_sendto(fd, buf, len, flags, sa_of(to), (socklen_t)to->len);
  return n < 0 ? us__lwip_errno() : n;
}

ssize_t us__sys_recvfrom_raw(int fd, void *buf, size_t len, int flags,
                             us_rawaddr_t *from) {
  socklen_t salen = room(from);
  memset(from->u.data, 0, sizeof from->u.data);
  ssize_t n = lwip_recvfrom(fd, buf, len, flags, sa_out(from), &salen);
  if (n < 0)
    return us__lwip_errno();
  from->len = salen < room(from) ? salen : room(from);
  return n;
}

int us__sys_unix_encode(us_rawaddr_t *addr, const char *path, size_t len) {
  (void)path, (void)len;
  addr->len = 0;
  return -EAFNOSUPPORT;
}

int us__sys_unix_decode(const us_rawaddr_t *addr, const char **path,
                        size_t *len) {
  (void)addr, (void)path, (void)len;
  return -EAFNOSUPPORT;
}
