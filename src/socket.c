/* socket.c: a socket's lifetime, timeout, connection set-up and options. */
#include "core.h"

#include <errno.h>
#include <string.h>

static void init(us_socket_t *s, int fd, int family, int type, int proto) {
  s->fd = fd;
  s->family = family;
  s->type = type;
  s->proto = proto;
  s->timeout_ns = US_TIMEOUT_BLOCK;
  s->pending_err = 0;
  s->busy = 0;
  s->zombie_fd = -1;
  s->lingers = 0;
  us__lock_init(&s->rx_lock);
  us__lock_init(&s->tx_lock);
  us__rx_forget(s);
}

int us_socket_open(us_socket_t *s, int family, int type, int proto) {
  init(s, -1, 0, 0, 0);
  us__fork_watch();
  /* Both are kept narrow (us_socket_t): every AF_* and SOCK_* number
   * fits, and a type with flags in it would not be the type the calls
   * compare with. */
  if (family < 0 || family > INT16_MAX)
    return -EAFNOSUPPORT;
  if (type < 0 || type > UINT8_MAX)
    return -EINVAL;
  if (proto == 0 && (family == US__AF_INET || family == US__AF_INET6)) {
    if (type == US__SOCK_STREAM)
      proto = US__IPPROTO_TCP;
    else if (type == US__SOCK_DGRAM)
      proto = US__IPPROTO_UDP;
  }
  int fd = us__sys_socket(family, type, proto, us__emulated());
  if (fd < 0)
    return fd;
  init(s, fd, family, type, proto);
  return 0;
}

int us_socket_from_fd(us_socket_t *s, int fd) {
  int family, type, proto;
  init(s, -1, 0, 0, 0);
  us__fork_watch();
  if (fd < 0)
    return -EBADF;
  int r = us__sys_sockinfo(fd, &family, &type, &proto);
  if (r < 0)
    return r;
  init(s, fd, family, type, proto);
  if (type == US__SOCK_STREAM) /* another's SO_LINGER: once, here */
    s->lingers = us__sys_lingers(fd);
  /* The descriptor may arrive in either mode; ours start blocking, which
   * under a host is emulated on a non-blocking one (us__emulated). */
  return us__sys_set_nonblocking(fd, us__emulated());
}

int us__socket_close_fd(us_socket_t *s, int fd) {
  /* Only a lingering close blocks (for its linger time, bytes unsent):
   * any other close costs no round trip of the host's lock. */
  if (!__atomic_load_n(&s->lingers, __ATOMIC_RELAXED) || !us__host->unlock)
    return us__sys_close(fd);
  void *token = us__host->unlock();
  int r = us__sys_close(fd);
  us__host->lock(token);
  return r;
}

int us_socket_close(us_socket_t *s) {
  /* Taken, not read: of two threads closing at once, one closes. Nothing
   * else of s is reset: calls under way in other threads still use it,
   * and every later call stops at the descriptor. */
  int fd = __atomic_exchange_n(&s->fd, -1, __ATOMIC_SEQ_CST);
  if (fd < 0)
    return 0;
  /* Only this process's own calls and poll sets count: a forked child
   * closing its copy must never shut down the connection it shares with
   * its parent, whose threads may be the ones using it. */
  if (us__socket_busy(s) > 0) {
    /* Wake the calls blocked on it; the last to leave closes it, so that
     * its number cannot be reused under them. */
    us__sys_shutdown(fd, US__SHUT_RDWR);
    /* Calls waiting for their turn look again, and see it closed. */
    us__lock_wake_all(&s->rx_lock);
    us__lock_wake_all(&s->tx_lock);
    /* Handed over after the shutdown, which must not meet a number that
     * the last user closed meanwhile. If that user left before seeing it,
     * the descriptor is still ours to close. */
    __atomic_store_n(&s->zombie_fd, fd, __ATOMIC_SEQ_CST);
    if (us__socket_busy(s) == 0 &&
        (fd = __atomic_exchange_n(&s->zombie_fd, -1, __ATOMIC_SEQ_CST)) >= 0)
      return us__socket_close_fd(s, fd);
    return 0;
  }
  return us__socket_close_fd(s, fd);
}

int us_socket_detach(us_socket_t *s) {
  int fd = __atomic_exchange_n(&s->fd, -1, __ATOMIC_SEQ_CST);
  us__rx_forget(s);
  /* Handed over in the mode its timeout says, as without a host: whoever
   * takes over a blocking socket's descriptor expects it to block. */
  if (fd >= 0 && us__emulated() && s->timeout_ns < 0)
    us__sys_set_nonblocking(fd, 0);
  return fd;
}

int us_settimeout(us_socket_t *s, int64_t timeout_ns) {
  if (timeout_ns < 0 && timeout_ns != US_TIMEOUT_BLOCK)
    return -EINVAL;
  if (s->fd < 0)
    return -EBADF;
  /* Without a host, only a blocking socket has a blocking descriptor; a
   * timed one waits in poll(2) so that its deadline holds. Under a host,
   * every descriptor is non-blocking already (us__emulated). */
  int was_blocking = s->timeout_ns < 0, blocking = timeout_ns < 0;
  if (was_blocking != blocking && !us__emulated()) {
    int r = us__sys_set_nonblocking(s->fd, !blocking);
    if (r < 0)
      return r;
  }
  __atomic_store_n(&s->timeout_ns, timeout_ns, __ATOMIC_RELAXED);
  return 0;
}

static int check_family(const us_socket_t *s, const us_addr_t *addr) {
  if (s->fd < 0)
    return -EBADF;
  if (!addr || addr->family != s->family)
    return -EAFNOSUPPORT;
  return 0;
}

int us_bind(us_socket_t *s, const us_addr_t *addr) {
  int r = check_family(s, addr);
  return r < 0 ? r : us__sys_bind(s->fd, addr);
}

int us_bind_raw(us_socket_t *s, const us_rawaddr_t *addr) {
  return s->fd < 0 ? -EBADF : us__sys_bind_raw(s->fd, addr);
}

int us_listen(us_socket_t *s, int backlog) {
  if (s->fd < 0)
    return -EBADF;
  return us__sys_listen(s->fd, backlog < 0 ? 0 : backlog);
}

/* An accept, the peer into peer or raw (at most one of them). */
US__INLINE int accept_any(us_socket_t *s, us_socket_t *conn, us_addr_t *peer,
                          us_rawaddr_t *raw) {
  us__op_t op;
  init(conn, -1, s->family, s->type, s->proto);
  int fd = us__op_begin(&op, s);
  if (fd < 0)
    return fd;
  /* Under a host (us__emulated) descriptors are non-blocking: an
   * accept(2) that finds no connection queued fails at once, and the call
   * waits in us__op_wait(). Without one, a blocking socket's descriptor
   * blocks, and accept(2) has no flag not to: under a per-call deadline
   * the call waits for a connection there first. */
  int nonblocking = us__emulated() || op.timeout >= 0;
  if (!nonblocking && op.lazy && us__op_bounded(&op))
    fd = us__op_wait(&op, US__IN);
  if (fd == 0) {
    if (!nonblocking)
      us__op_unlock(&op);
    do
      fd = raw ? us__sys_accept_raw(op.fd, raw, nonblocking)
               : us__sys_accept(op.fd, peer, nonblocking);
    while (fd < 0 && (fd = us__op_retry(&op, fd, US__IN)) == 0);
  }
  if (fd >= 0 && us__fd(s) < 0) { /* closed by another thread meanwhile */
    us__sys_close(fd);
    fd = -EBADF;
  }
  us__op_end(&op);
  if (fd < 0)
    return fd;
  init(conn, fd, s->family, s->type, s->proto);
  conn->timeout_ns = op.timeout;
  /* The kernel copies the listener's SO_LINGER to the new connection. */
  conn->lingers = __atomic_load_n(&s->lingers, __ATOMIC_RELAXED);
  return 0;
}

int us_accept(us_socket_t *s, us_socket_t *conn, us_addr_t *peer) {
  return accept_any(s, conn, peer, NULL);
}

int us_accept_raw(us_socket_t *s, us_socket_t *conn, us_rawaddr_t *peer) {
  if (peer)
    peer->len = 0;
  return accept_any(s, conn, NULL, peer);
}

/* A connect to addr or raw (exactly one of them), checked by the caller. */
US__INLINE int connect_any(us_socket_t *s, const us_addr_t *addr,
                           const us_rawaddr_t *raw) {
  us__op_t op;
  int r;
  if ((r = us__op_begin(&op, s)) < 0)
    return r;
  /* Under a host the descriptor is non-blocking (us__emulated): connect(2)
   * returns at once and the call waits in us__op_wait(). Without one, a
   * blocking socket's connect(2) waits itself, except under a per-call
   * deadline, where the descriptor is made non-blocking for the connect(2)
   * (not for a raw address: see below). */
  int lent = !us__emulated() && !raw && op.timeout < 0 && us__op_bounded(&op) &&
             us__sys_set_nonblocking(op.fd, 1) == 0;
  r = raw ? us__sys_connect_raw(op.fd, raw) : us__sys_connect(op.fd, addr);
  if (lent && s->timeout_ns < 0) /* unless a us_settimeout() came between */
    us__sys_set_nonblocking(op.fd, 0);
  /* Except an AF_UNIX connect to a full backlog: non-blocking, it fails
   * (EAGAIN) where a blocking one waits for room, which no poll can wait
   * for. A blocking socket's, non-blocking under a host, then waits in a
   * blocking connect(2), the host's lock released (system calls only
   * when the backlog is full). */
  if (raw && r == -EAGAIN && op.timeout < 0 && us__emulated() &&
      us__sys_set_nonblocking(op.fd, 0) == 0) {
    us__op_unlock(&op);
    r = us__sys_connect_raw(op.fd, raw);
    us__sys_set_nonblocking(op.fd, 1);
  }
  /* Interrupted or in progress, the connection goes on in the kernel: wait
   * for it to finish (never connect again) and read its outcome. */
  if (r == -EINTR && (r = us__op_retry(&op, r, US__OUT)) == 0)
    r = -EINPROGRESS;
  if (r == -EINPROGRESS && op.timeout != 0) {
    r = us__op_wait(&op, US__OUT);
    if (r == 0)
      r = raw ? us__sys_connect_result_raw(op.fd, raw)
              : us__sys_connect_result(op.fd, addr);
  }
  if (us__fd(s) < 0) /* closed by another thread meanwhile */
    r = -EBADF;
  us__op_end(&op);
  return r;
}

int us_connect(us_socket_t *s, const us_addr_t *addr) {
  int r = check_family(s, addr);
  if (r < 0)
    return r;
  if (addr->port == 0)
    return -EINVAL;
  return connect_any(s, addr, NULL);
}

int us_connect_raw(us_socket_t *s, const us_rawaddr_t *addr) {
  return s->fd < 0 ? -EBADF : connect_any(s, NULL, addr);
}

int us_shutdown(us_socket_t *s, int how) {
  if (s->fd < 0)
    return -EBADF;
  us__rx_forget(s);
  return us__sys_shutdown(s->fd, how);
}

int us_getsockname(const us_socket_t *s, us_addr_t *addr) {
  return s->fd < 0 ? -EBADF : us__sys_name(s->fd, addr, 0);
}

int us_getpeername(const us_socket_t *s, us_addr_t *addr) {
  return s->fd < 0 ? -EBADF : us__sys_name(s->fd, addr, 1);
}

int us_getsockname_raw(const us_socket_t *s, us_rawaddr_t *addr) {
  addr->len = 0;
  return s->fd < 0 ? -EBADF : us__sys_name_raw(s->fd, addr, 0);
}

int us_getpeername_raw(const us_socket_t *s, us_rawaddr_t *addr) {
  addr->len = 0;
  return s->fd < 0 ? -EBADF : us__sys_name_raw(s->fd, addr, 1);
}

/* Whether a setsockopt of these arguments, once it succeeded, made the
 * socket linger (1) or not (0); -1 if it was no such option. */
static int linger_option(int level, int name, const void *val, size_t len) {
  us__linger_t l;
  if (level != US__SOL_SOCKET || name != US__SO_LINGER || len < sizeof l)
    return -1;
  memcpy(&l, val, sizeof l);
  /* Linux takes a negative time as "for ever". */
  return l.l_onoff && l.l_linger != 0;
}

int us_setsockopt(us_socket_t *s, int level, int name, const void *val,
                  size_t len) {
  int r = s->fd < 0 ? -EBADF : us__sys_setsockopt(s->fd, level, name, val, len);
  int lingers = r == 0 ? linger_option(level, name, val, len) : -1;
  if (lingers >= 0)
    __atomic_store_n(&s->lingers, lingers, __ATOMIC_RELAXED);
  return r;
}

int us_getsockopt(us_socket_t *s, int level, int name, void *val, size_t *len) {
  return s->fd < 0 ? -EBADF : us__sys_getsockopt(s->fd, level, name, val, len);
}
