/* msg.c: vectored and message I/O (sendmsg, recvmsg), within the socket's
 * timeout as io.c's single calls are. */
#include "core.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

/* The pieces one send of us__sendall_msg gathers at most: it goes on
 * from where the last stopped, so a window is enough. */
#define WINDOW 64

/* As io.c's: a call asked not to wait returns its EAGAIN as it is... */
static int wait_allowed(int err, int flags) {
  if (flags & US__MSG_DONTWAIT)
    return err != -EAGAIN && err != -EWOULDBLOCK;
  return 1;
}

/* ...waits for no other thread's call either... */
static int dontwait_asked(int flags) { return (flags & US__MSG_DONTWAIT) != 0; }

/* ...and a call that may not block in the kernel passes MSG_DONTWAIT. */
static int nowait(const us__op_t *op) {
  return op->timeout >= 0 || op->lazy ? US__MSG_DONTWAIT : 0;
}

/* The bytes in n pieces; more than a ssize_t counts or too many pieces:
 * -EMSGSIZE. An array missing while it has pieces: -EFAULT. */
static ssize_t total_of(const us_iov_t *iov, int n) {
  if (n < 0 || n > US_IOV_MAX)
    return -EMSGSIZE;
  if (n > 0 && !iov)
    return -EFAULT;
  size_t sum = 0;
  for (int i = 0; i < n; i++) {
    if (iov[i].len > (size_t)US__SSIZE_MAX - sum)
      return -EMSGSIZE;
    sum += iov[i].len;
  }
  return (ssize_t)sum;
}

/* One sendmsg, retried and waited for as io.c's send_once. */
static ssize_t sendmsg_once(us__op_t *op, const us_msg_t *m, size_t len,
                            int flags) {
  int extra = nowait(op);
  if (len > US__LOCKED_SEND_MAX)
    us__op_unlock(op);
  for (;;) {
    ssize_t n = us__sys_sendmsg(op->fd, m, flags | extra);
    if (us__fd(op->s) < 0) /* closed by another thread meanwhile */
      return -EBADF;
    if (n >= 0 || !wait_allowed((int)n, flags))
      return n;
    int r = us__op_retry(op, (int)n, US__OUT);
    if (r < 0)
      return r;
  }
}

/* Everything in m (len bytes) within op, its ancillary data with the
 * first send only; *done as us__send_all's. */
static int sendall_msg(us__op_t *op, const us_msg_t *m, size_t len, int flags,
                       size_t *done) {
  us_iov_t win[WINDOW];
  us_msg_t part = *m;
  size_t cap = SIZE_MAX, skip = 0; /* skip: sent of the piece at `at` */
  int at = 0;
  *done = 0;
  if (len == 0 && m->controllen == 0)
    return 0;
  /* In pieces where a signal's handler must run promptly: see
   * us__send_all. */
  if (!op->unlocked && us__op_guarded(op))
    cap = US__SIGNAL_PIECE;
  for (;;) {
    size_t want = 0;
    int k = 0;
    while (at < m->iovlen && m->iov[at].len == skip) {
      at++; /* empty pieces, and the one just finished */
      skip = 0;
    }
    for (int i = at; i < m->iovlen && k < WINDOW && want < cap; i++, k++) {
      size_t off = i == at ? skip : 0, l = m->iov[i].len - off;
      if (l > cap - want)
        l = cap - want;
      win[k].base = (char *)m->iov[i].base + off;
      win[k].len = l;
      want += l;
    }
    part.iov = win;
    part.iovlen = k;
    ssize_t n = sendmsg_once(op, &part, want, flags);
    if (n < 0)
      return (int)n;
    part.control = NULL; /* it went with the first byte */
    part.controllen = 0;
    *done += (size_t)n;
    if (*done >= len)
      return 0;
    for (size_t left = (size_t)n; left;) { /* where the next send starts */
      size_t rest = m->iov[at].len - skip;
      if (left < rest) {
        skip += left;
        break;
      }
      left -= rest;
      at++;
      skip = 0;
    }
    int r = us__op_signals(op);
    if (r < 0)
      return r;
  }
}

ssize_t us_sendmsg(us_socket_t *s, const us_msg_t *msg, int flags) {
  us__op_t op;
  ssize_t len = total_of(msg->iov, msg->iovlen);
  if (len < 0)
    return us__fd(s) < 0 ? -EBADF : len;
  ssize_t n = us__op_begin_locked(&op, s, &s->tx_lock, dontwait_asked(flags));
  if (n < 0)
    return n;
  if (op.lazy && op.timeout < 0 && s->type == US__SOCK_STREAM &&
      !(flags & US__MSG_DONTWAIT)) {
    /* Blocking: as us_sendto, all of it, as the kernel's would. */
    size_t done;
    int err = sendall_msg(&op, msg, (size_t)len, flags, &done);
    return us__op_finish(&op, done, err);
  }
  n = sendmsg_once(&op, msg, (size_t)len, flags);
  us__op_end(&op);
  return n;
}

ssize_t us_sendv(us_socket_t *s, const us_iov_t *iov, int n, int flags) {
  us_msg_t m = {iov, n, NULL, 0, NULL, 0};
  return us_sendmsg(s, &m, flags);
}

int us_sendallv(us_socket_t *s, const us_iov_t *iov, int n, int flags,
                size_t *sent) {
  us__op_t op;
  us_msg_t m = {iov, n, NULL, 0, NULL, 0};
  size_t done = 0;
  ssize_t len = total_of(iov, n);
  int r = len < 0
              ? (us__fd(s) < 0 ? -EBADF : (int)len)
              : us__op_begin_locked(&op, s, &s->tx_lock, dontwait_asked(flags));
  if (r == 0) {
    r = sendall_msg(&op, &m, (size_t)len, flags, &done);
    us__op_end(&op);
  }
  if (sent)
    *sent = done;
  return r;
}

/* One recvmsg, as io.c's us__recv_once: what it must not hand over (the
 * socket closed meanwhile) it closes. */
static ssize_t recvmsg_once(us__op_t *op, us_msg_t *m, size_t len, int flags) {
  us_socket_t *s = op->s;
  int stream = s->type == US__SOCK_STREAM, extra = nowait(op);
  if (len > US__LOCKED_RECV_MAX)
    us__op_unlock(op);
  for (;;) {
    ssize_t n = us__sys_recvmsg(op->fd, m, flags | extra);
    if (n > 0 && (size_t)n > len)
      n = (ssize_t)len;      /* MSG_TRUNC: only what was copied */
    if (us__fd(op->s) < 0) { /* closed by another thread meanwhile */
      if (n >= 0)
        us__sys_cmsg_close_fds(m->control, m->controllen);
      return -EBADF;
    }
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

ssize_t us_recvmsg(us_socket_t *s, us_msg_t *msg, int flags) {
  us__op_t op;
  size_t room = msg->controllen;
  ssize_t len = total_of(msg->iov, msg->iovlen);
  msg->controllen = 0;
  msg->flags = 0;
  if (msg->addr)
    msg->addr->len = 0;
  if (len < 0)
    return us__fd(s) < 0 ? -EBADF : len;
  /* On a stream, MSG_TRUNC drops bytes without copying them: see
   * us__recv_once. */
  if (s->type == US__SOCK_STREAM && (flags & US__MSG_TRUNC))
    return us__fd(s) < 0 ? -EBADF : -EINVAL;
  ssize_t n = us__op_begin_locked(&op, s, &s->rx_lock, dontwait_asked(flags));
  if (n < 0)
    return n;
  msg->controllen = room;
  n = recvmsg_once(&op, msg, (size_t)len, flags);
  if (n < 0)
    msg->controllen = 0;
  us__op_end(&op);
  return n;
}

ssize_t us_recvv(us_socket_t *s, const us_iov_t *iov, int n, int flags) {
  us_msg_t m = {iov, n, NULL, 0, NULL, 0};
  return us_recvmsg(s, &m, flags);
}
