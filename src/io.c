/* io.c: single sends and receives, datagrams, and sendall. */
#include "core.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

/* A send or receive the caller asked not to wait (MSG_DONTWAIT) returns
 * its EAGAIN as it is. */
static int wait_allowed(int err, int flags) {
  if (flags & US__MSG_DONTWAIT)
    return err != -EAGAIN && err != -EWOULDBLOCK;
  return 1;
}

/* A call told not to wait does not wait for another thread's either. */
static int dontwait_asked(int flags) { return (flags & US__MSG_DONTWAIT) != 0; }

/* The flags that keep a call from blocking in the kernel where it must not
 * (a timed or non-blocking call, any call under a host: see us__emulated),
 * whatever the descriptor's mode: that is the open description's, shared
 * with whoever else holds it (a dup, a forked child, a detach under way in
 * another thread), and may have been made blocking. A flag costs no system
 * call. */
static int nowait(const us__op_t *op) {
  return op->timeout >= 0 || op->lazy ? US__MSG_DONTWAIT : 0;
}

/* Bytes a peek just saw queued, n of them (a peek takes nothing, so the
 * lines known stay as they are). */
static void rx_peeked(us_socket_t *s, size_t n) {
  s->rx_known = n < UINT16_MAX ? (uint16_t)n : UINT16_MAX;
}

void us__rx_taken(us_socket_t *s, size_t n) {
  s->rx_known = s->rx_known > n ? (uint16_t)(s->rx_known - n) : 0;
  size_t gone = 0;
  while (gone < US_RX_LINES && s->rx_line[gone] && n >= s->rx_line[gone])
    n -= s->rx_line[gone++];
  if (gone) {
    memmove(s->rx_line, s->rx_line + gone,
            (US_RX_LINES - gone) * sizeof s->rx_line[0]);
    memset(s->rx_line + US_RX_LINES - gone, 0, gone * sizeof s->rx_line[0]);
  }
  if (n && s->rx_line[0]) /* part of the next line went */
    s->rx_line[0] = (uint16_t)(s->rx_line[0] - n);
}

void us__rx_forget(us_socket_t *s) {
  s->rx_known = 0;
  memset(s->rx_line, 0, sizeof s->rx_line);
}

void us__rx_missed(us_socket_t *s, ssize_t n) {
  if (s->rx_known && (n == -EAGAIN || n == -EWOULDBLOCK))
    us__rx_forget(s);
}

void us__rx_saw_lines(us_socket_t *s, const char *at, size_t n,
                      const char *nl) {
  size_t i = 0, from = 0;
  memset(s->rx_line, 0, sizeof s->rx_line);
  while (nl && i < US_RX_LINES) {
    size_t end = (size_t)(nl - at) + 1;
    if (end - from > UINT16_MAX)
      break; /* too long to note: found again by the next look */
    s->rx_line[i++] = (uint16_t)(end - from);
    from = end;
    nl = from < n ? memchr(at + from, '\n', n - from) : NULL;
  }
}

void us__rx_received(us_socket_t *s, size_t n, int flags) {
  if (flags & US__MSG_PEEK)
    rx_peeked(s, n);
  else
    us__rx_taken(s, n);
}

/* What a receive of at most len bytes wrote: with MSG_TRUNC the kernel
 * counts a datagram's whole length, and no caller may see more bytes than
 * were copied into its buffer. */
static ssize_t copied(ssize_t n, size_t len) {
  return n > 0 && (size_t)n > len ? (ssize_t)len : n;
}

ssize_t us__recv_once(us__op_t *op, void *buf, size_t len, int flags,
                      us_addr_t *from) {
  us_socket_t *s = op->s;
  int stream = s->type == US__SOCK_STREAM, extra = nowait(op);
  /* On a stream, MSG_TRUNC drops the bytes without copying them (Linux's
   * TCP): there is nothing to return for them. */
  if (stream && (flags & US__MSG_TRUNC))
    return -EINVAL;
  /* Tried first with the host's lock kept: what has arrived is taken
   * without a round trip of the lock, and only a receive that must wait
   * releases it (in us__op_wait). A large one releases it first, not to
   * hold the host up while it copies. */
  if (len > US__LOCKED_RECV_MAX)
    us__op_unlock(op);
  for (;;) {
    int fd = op->fd;
    ssize_t n =
        copied(from ? us__sys_recvfrom(fd, buf, len, flags | extra, from)
                    : us__sys_recv(fd, buf, len, flags | extra),
               len);
    if (us__fd(op->s) < 0) /* closed by another thread meanwhile */
      return -EBADF;
    if (n >= 0 && stream)
      us__rx_received(s, (size_t)n, flags);
    if (n >= 0 || !wait_allowed((int)n, flags))
      return n;
    us__rx_missed(s, n);
    int r = us__op_retry(op, (int)n, US__IN);
    if (r < 0)
      return r;
  }
}

/* us__recv_once for a raw sender address. Its own copy, not a shared
 * body: the IP receive is the hot path and stays exactly as it is. */
static ssize_t recv_once_raw(us__op_t *op, void *buf, size_t len, int flags,
                             us_rawaddr_t *from) {
  us_socket_t *s = op->s;
  int stream = s->type == US__SOCK_STREAM, extra = nowait(op);
  if (stream && (flags & US__MSG_TRUNC))
    return -EINVAL;
  if (len > US__LOCKED_RECV_MAX)
    us__op_unlock(op);
  for (;;) {
    ssize_t n = copied(
        us__sys_recvfrom_raw(op->fd, buf, len, flags | extra, from), len);
    if (us__fd(op->s) < 0)
      return -EBADF;
    if (n >= 0 && stream)
      us__rx_received(s, (size_t)n, flags);
    if (n >= 0 || !wait_allowed((int)n, flags))
      return n;
    us__rx_missed(s, n);
    int r = us__op_retry(op, (int)n, US__IN);
    if (r < 0)
      return r;
  }
}

/* One send, to `to` or raw (at most one of them; both NULL: connected),
 * retried and waited for as us__recv_once. */
US__INLINE ssize_t send_once(us__op_t *op, const void *buf, size_t len,
                             int flags, const us_addr_t *to,
                             const us_rawaddr_t *raw) {
  int extra = nowait(op);
  /* As a receive: a small send nearly always fits at once, lock kept. */
  if (len > US__LOCKED_SEND_MAX)
    us__op_unlock(op);
  for (;;) {
    int fd = op->fd;
    ssize_t n = raw  ? us__sys_sendto_raw(fd, buf, len, flags | extra, raw)
                : to ? us__sys_sendto(fd, buf, len, flags | extra, to)
                     : us__sys_send(fd, buf, len, flags | extra);
    if (us__fd(op->s) < 0) /* closed by another thread meanwhile */
      return -EBADF;
    if (n >= 0 || !wait_allowed((int)n, flags))
      return n;
    int r = us__op_retry(op, (int)n, US__OUT);
    if (r < 0)
      return r;
  }
}

ssize_t us__send_once(us__op_t *op, const void *buf, size_t len, int flags,
                      const us_addr_t *to) {
  return send_once(op, buf, len, flags, to, NULL);
}

ssize_t us_send(us_socket_t *s, const void *buf, size_t len, int flags) {
  return us_sendto(s, buf, len, flags, NULL);
}

ssize_t us_sendto(us_socket_t *s, const void *buf, size_t len, int flags,
                  const us_addr_t *to) {
  us__op_t op;
  if (to && to->family != s->family)
    return us__fd(s) < 0 ? -EBADF : -EAFNOSUPPORT;
  if (to && to->port == 0)
    return -EINVAL;
  ssize_t n = us__op_begin_locked(&op, s, &s->tx_lock, dontwait_asked(flags));
  if (n < 0)
    return n;
  if (op.lazy && op.timeout < 0 && s->type == US__SOCK_STREAM &&
      !(flags & US__MSG_DONTWAIT)) {
    /* Blocking, the kernel's send would take all of it before returning
     * (unless a signal came): so does ours, which never blocks in it. */
    size_t done;
    int err = us__send_all(&op, buf, len, flags, &done);
    return us__op_finish(&op, done, err);
  }
  n = us__send_once(&op, buf, len, flags, to);
  us__op_end(&op);
  return n;
}

ssize_t us_sendto_raw(us_socket_t *s, const void *buf, size_t len, int flags,
                      const us_rawaddr_t *to) {
  us__op_t op;
  ssize_t n = us__op_begin_locked(&op, s, &s->tx_lock, dontwait_asked(flags));
  if (n < 0)
    return n;
  n = send_once(&op, buf, len, flags, NULL, to);
  us__op_end(&op);
  return n;
}

int us__send_all(us__op_t *op, const void *buf, size_t len, int flags,
                 size_t *done) {
  *done = 0;
  if (len == 0)
    return 0;
  /* Where a signal's handler must run promptly, each send copies at most
   * US__SIGNAL_PIECE: a signal does not cut short a copy the kernel has
   * begun, and a socket buffer's worth (4 MiB) takes tens of milliseconds
   * on a busy machine. (Asked while the call still holds the host's
   * lock, as us__op_guarded() needs; a call that let it go keeps going
   * uncapped, as it would not know.) */
  size_t cap = SIZE_MAX;
  if (len > US__SIGNAL_PIECE && !op->unlocked && us__op_guarded(op))
    cap = US__SIGNAL_PIECE;
  for (;;) {
    size_t left = len - *done;
    ssize_t n = us__send_once(op, (const char *)buf + *done,
                              left < cap ? left : cap, flags, NULL);
    if (n < 0)
      return (int)n;
    if ((*done += (size_t)n) == len)
      return 0;
    /* A transfer that goes on without waiting (the peer keeps up) still
     * lets a signal's handler end it between its pieces. */
    int r = us__op_signals(op);
    if (r < 0)
      return r;
  }
}

int us_sendall(us_socket_t *s, const void *buf, size_t len, int flags,
               size_t *sent) {
  us__op_t op;
  size_t done = 0;
  int r = us__op_begin_locked(&op, s, &s->tx_lock, dontwait_asked(flags));
  if (r == 0) {
    r = us__send_all(&op, buf, len, flags, &done);
    us__op_end(&op);
  }
  if (sent)
    *sent = done;
  return r;
}

ssize_t us_recv(us_socket_t *s, void *buf, size_t len, int flags) {
  return us_recvfrom(s, buf, len, flags, NULL);
}

ssize_t us_recvfrom(us_socket_t *s, void *buf, size_t len, int flags,
                    us_addr_t *from) {
  us_sink_t sink;
  us_sink_fixed(&sink, buf, len);
  return us_recvfrom_sink(s, &sink, len, flags, from);
}

/* Room for a receive of at most max bytes: all of it when small, fixed or
 * datagram-sized; for a large stream receive, only what has arrived, so
 * that recv(2**31) allocates nothing before data is there. */
static ssize_t make_room(us__op_t *op, us_sink_t *sink, size_t max) {
  size_t want = max;
  if (!sink->grow) {
    size_t room = sink->cap - sink->len;
    return (ssize_t)(want < room ? want : room);
  }
  /* The largest IP datagram fits; an AF_UNIX one may be larger, and is
   * measured as a stream's bytes are. */
  if (want > US__EAGER_MAX && op->s->type != US__SOCK_STREAM &&
      op->s->family != US__AF_UNIX)
    want = US__EAGER_MAX;
  if (want > US__EAGER_MAX) {
    char probe;
    ssize_t avail, n = us__recv_once(op, &probe, 1, US__MSG_PEEK, NULL);
    if (n <= 0)
      return n; /* EOF or the error: nothing to make room for */
    avail = us__sys_pending(op->fd);
    want = avail > (ssize_t)US__EAGER_MAX ? (size_t)avail : US__EAGER_MAX;
    if (want > max)
      want = max;
  }
  if (want > (size_t)US__SSIZE_MAX - sink->len)
    want = (size_t)US__SSIZE_MAX - sink->len;
  int r = us__op_grow(op, sink, sink->len + want);
  return r < 0 ? r : (ssize_t)want;
}

ssize_t us_recv_sink(us_socket_t *s, us_sink_t *sink, size_t max, int flags) {
  return us_recvfrom_sink(s, sink, max, flags, NULL);
}

ssize_t us_recvfrom_sink(us_socket_t *s, us_sink_t *sink, size_t max, int flags,
                         us_addr_t *from) {
  us__op_t op;
  ssize_t n = us__op_begin_locked(&op, s, &s->rx_lock, dontwait_asked(flags));
  if (n < 0)
    return n;
  n = make_room(&op, sink, max);
  /* A zero-byte receive waits for nothing on a stream; on a datagram
   * socket it still takes (and drops) the next datagram. */
  if (n > 0 || (n == 0 && max == 0 && s->type != US__SOCK_STREAM))
    n = us__recv_once(&op, sink->data + sink->len, (size_t)n, flags, from);
  if (n > 0)
    sink->len += (size_t)n;
  us__op_end(&op);
  return n;
}

/* As make_room, for a raw receive: what has arrived decides for a
 * datagram too, as an AF_UNIX one may be larger than any IP one, and
 * FIONREAD gives the length of the one at the head of the queue. Its own
 * copy: a third caller would change how the IP receives are compiled. */
static ssize_t raw_room(us__op_t *op, us_sink_t *sink, size_t max) {
  size_t want = us__sink_clamp(sink, max);
  if (sink->grow && want > US__EAGER_MAX) {
    char probe;
    ssize_t n = us__recv_once(op, &probe, 1, US__MSG_PEEK, NULL);
    if (n < 0 || (n == 0 && op->s->type == US__SOCK_STREAM))
      return n; /* EOF or the error: nothing to make room for */
    ssize_t avail = us__sys_pending(op->fd);
    want = avail > (ssize_t)US__EAGER_MAX ? (size_t)avail : US__EAGER_MAX;
    if (want > max)
      want = max;
  }
  return us__sink_room(op, sink, want);
}

ssize_t us_recvfrom_raw_sink(us_socket_t *s, us_sink_t *sink, size_t max,
                             int flags, us_rawaddr_t *from) {
  us__op_t op;
  if (from)
    from->len = 0;
  ssize_t n = us__op_begin_locked(&op, s, &s->rx_lock, dontwait_asked(flags));
  if (n < 0)
    return n;
  n = raw_room(&op, sink, max);
  if (n > 0 || (n == 0 && max == 0 && s->type != US__SOCK_STREAM))
    n = recv_once_raw(&op, sink->data + sink->len, (size_t)n, flags, from);
  if (n > 0)
    sink->len += (size_t)n;
  us__op_end(&op);
  return n;
}

void us_sink_fixed(us_sink_t *sink, void *buf, size_t cap) {
  sink->data = buf;
  sink->len = 0;
  sink->cap = cap;
  sink->grow = NULL;
  sink->ctx = NULL;
}
