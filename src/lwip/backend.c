/* lwip/backend.c: the core's socket calls on lwIP's sockets API. */
#include "lwip_sys.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

short us__lwip_to_poll(int events) {
  return (short)(((events & US_POLLIN) ? POLLIN : 0) |
                 ((events & US_POLLOUT) ? POLLOUT : 0));
}

int us__lwip_from_poll(short re) {
  return ((re & POLLIN) ? US_POLLIN : 0) | ((re & POLLOUT) ? US_POLLOUT : 0) |
         ((re & POLLERR) ? US_POLLERR : 0) | ((re & POLLHUP) ? US_POLLHUP : 0) |
         ((re & POLLNVAL) ? US_POLLNVAL : 0);
}

/* A stream whose peer's FIN was read: lwIP reports the end once, then
 * ENOTCONN; the core, as POSIX, expects the end again. Kept per number,
 * cleared when a number is handed out. */
#define EOF_FDS 256
static uint8_t eof_seen[EOF_FDS / 8];

static void eof_mark(int fd, int on) {
  if (fd < 0 || fd >= EOF_FDS)
    return;
  uint8_t bit = (uint8_t)(1u << (fd % 8));
  if (on)
    __atomic_fetch_or(&eof_seen[fd / 8], bit, __ATOMIC_RELAXED);
  else
    __atomic_fetch_and(&eof_seen[fd / 8], (uint8_t)~bit, __ATOMIC_RELAXED);
}

static int eof_marked(int fd) {
  return fd >= 0 && fd < EOF_FDS &&
         (__atomic_load_n(&eof_seen[fd / 8], __ATOMIC_RELAXED) >> (fd % 8) & 1);
}

int us__sys_socket(int family, int type, int proto, int nonblocking) {
  /* lwIP takes any other family as IPv4. */
  if (family != AF_INET && family != AF_INET6)
    return -EAFNOSUPPORT;
  /* lwIP has no exec to close on, and raises no SIGPIPE. */
  int fd = lwip_socket(family, type, proto);
  if (fd < 0)
    return us__lwip_errno();
  eof_mark(fd, 0);
  if (nonblocking && us__sys_set_nonblocking(fd, 1) < 0) {
    int e = us__lwip_errno();
    lwip_close(fd);
    return e;
  }
  return fd;
}

/* lwIP's lingering close of a non-blocking socket fails (EWOULDBLOCK),
 * and every socket is non-blocking here (US__KERNEL_WAKES): it is made
 * blocking first, to wait as POSIX's close does. A listener's is left
 * out: lwIP 2.1.3 looks for unsent data in a listening PCB, which has
 * none to look at, and its close would wait for ever. */
static void linger_before_close(int fd) {
#if LWIP_SO_LINGER
  int listening = 0;
  socklen_t len = sizeof listening;
  if (lwip_getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
      listening) {
    struct linger off = {0, 0};
    lwip_setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
  } else {
    us__sys_set_nonblocking(fd, 0);
  }
#else
  (void)fd;
#endif
}

int us__sys_close(int fd) {
  eof_mark(fd, 0);
  if (us__sys_lingers(fd))
    linger_before_close(fd);
  return lwip_close(fd) < 0 ? us__lwip_errno() : 0;
}

int us__sys_set_nonblocking(int fd, int on) {
  int fl = lwip_fcntl(fd, F_GETFL, 0);
  if (fl < 0)
    return us__lwip_errno();
  int want = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  if (want != fl && lwip_fcntl(fd, F_SETFL, want) < 0)
    return us__lwip_errno();
  return 0;
}

int us__sys_sockinfo(int fd, int *family, int *type, int *proto) {
  us__sa_t sa;
  socklen_t len = sizeof sa;
  if (lwip_getsockname(fd, &sa.sa, &len) < 0)
    return us__lwip_errno();
  *family = sa.sa.sa_family;
  len = sizeof *type;
  if (lwip_getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) < 0)
    return us__lwip_errno();
  *proto = 0;
  return 0;
}

int us__sys_bind(int fd, const us_addr_t *addr) {
  us__sa_t sa;
  socklen_t len = us__sa_from_addr(addr, &sa);
  return lwip_bind(fd, &sa.sa, len) < 0 ? us__lwip_errno() : 0;
}

int us__sys_listen(int fd, int backlog) {
  return lwip_listen(fd, backlog) < 0 ? us__lwip_errno() : 0;
}

int us__sys_accept(int fd, us_addr_t *peer, int nonblocking) {
  us__sa_t sa;
  socklen_t len = sizeof sa;
  int c = lwip_accept(fd, &sa.sa, &len);
  if (c < 0)
    return us__lwip_errno();
  eof_mark(c, 0);
  /* lwIP's new socket starts blocking, whatever the listener is. */
  if (nonblocking && us__sys_set_nonblocking(c, 1) < 0) {
    int e = us__lwip_errno();
    lwip_close(c);
    return e;
  }
  if (peer)
    us__sa_to_addr(&sa.sa, len, peer);
  return c;
}

/* lwIP reports a connect the peer refused (its RST) as a reset. */
int us__lwip_connect_error(int e) {
  return e == -ECONNRESET ? -ECONNREFUSED : e;
}

int us__sys_connect(int fd, const us_addr_t *addr) {
  us__sa_t sa;
  socklen_t len = us__sa_from_addr(addr, &sa);
  return lwip_connect(fd, &sa.sa, len) < 0
             ? us__lwip_connect_error(us__lwip_errno())
             : 0;
}

int us__sys_connect_result(int fd, const us_addr_t *addr) {
  (void)addr;
  int err = 0;
  socklen_t len = sizeof err;
  if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    return us__lwip_errno();
  return us__lwip_connect_error(-err);
}

int us__sys_shutdown(int fd, int how) {
  return lwip_shutdown(fd, how) < 0 ? us__lwip_errno() : 0;
}

int us__sys_name(int fd, us_addr_t *addr, int peer) {
  us__sa_t sa;
  socklen_t len = sizeof sa;
  int r = peer ? lwip_getpeername(fd, &sa.sa, &len)
               : lwip_getsockname(fd, &sa.sa, &len);
  if (r < 0)
    return us__lwip_errno();
  us__sa_to_addr(&sa.sa, len, addr);
  return 0;
}

ssize_t us__sys_send(int fd, const void *buf, size_t len, int flags) {
  ssize_t n = lwip_send(fd, buf, len, flags);
  return n < 0 ? us__lwip_errno() : n;
}

ssize_t us__lwip_recv_result(int fd, ssize_t n, size_t len) {
  if (n == 0 && len > 0)
    eof_mark(fd, 1);
  if (n >= 0)
    return n;
  int e = us__lwip_errno();
  return e == -ENOTCONN && eof_marked(fd) ? 0 : e;
}

ssize_t us__sys_recv(int fd, void *buf, size_t len, int flags) {
  return us__lwip_recv_result(fd, lwip_recv(fd, buf, len, flags), len);
}

ssize_t us__sys_sendto(int fd, const void *buf, size_t len, int flags,
                       const us_addr_t *to) {
  us__sa_t sa;
  socklen_t salen = us__sa_from_addr(to, &sa);
  ssize_t n = lwip_sendto(fd, buf, len, flags, &sa.sa, salen);
  return n < 0 ? us__lwip_errno() : n;
}

ssize_t us__sys_recvfrom(int fd, void *buf, size_t len, int flags,
                         us_addr_t *from) {
  us__sa_t sa;
  socklen_t salen = sizeof sa;
  ssize_t n = us__lwip_recv_result(
      fd, lwip_recvfrom(fd, buf, len, flags, &sa.sa, &salen), len);
  if (n < 0)
    return n;
  if (from)
    us__sa_to_addr(&sa.sa, salen, from);
  return n;
}

ssize_t us__sys_pending(int fd) {
  int n = 0;
  return lwip_ioctl(fd, FIONREAD, &n) < 0 ? us__lwip_errno() : n;
}

int us__sys_setsockopt(int fd, int level, int name, const void *val,
                       size_t len) {
  if (len > 0x7fffffff)
    return -EINVAL;
  return lwip_setsockopt(fd, level, name, val, (socklen_t)len) < 0
             ? us__lwip_errno()
             : 0;
}

int us__sys_getsockopt(int fd, int level, int name, void *val, size_t *len) {
  socklen_t l = (socklen_t)*len;
  if (lwip_getsockopt(fd, level, name, val, &l) < 0)
    return us__lwip_errno();
  *len = l;
  return 0;
}

int us__sys_lingers(int fd) {
#if LWIP_SO_LINGER
  struct linger l;
  socklen_t len = sizeof l;
  if (lwip_getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) < 0)
    return 0;
  return len == sizeof l && l.l_onoff && l.l_linger != 0;
#else
  (void)fd;
  return 0;
#endif
}
