/* call.c: blocking calls: the host's lock, deadlines, EINTR and waiting. */
#include "core.h"

#include <errno.h>
#include <limits.h>

static const us_host_t plain_c_host = {NULL, NULL, NULL};
const us_host_t *us__host = &plain_c_host;

void us_set_host(const us_host_t *host) {
  us__host = host ? host : &plain_c_host;
}

static void host_unlock(us__op_t *op) {
  if (!op->unlocked && us__host->unlock) {
    op->token = us__host->unlock();
    op->unlocked = 1;
  }
}

static void host_lock(us__op_t *op) {
  if (op->unlocked) {
    op->unlocked = 0;
    us__host->lock(op->token);
  }
}

int us__op_begin(us__op_t *op, us_socket_t *s) {
  op->s = s;
  op->unlocked = 0;
  op->token = NULL;
  if (s->fd < 0)
    return -EBADF;
  if (s->pending_err) { /* held back behind bytes already returned */
    int err = s->pending_err;
    s->pending_err = 0;
    return err;
  }
  __atomic_add_fetch(&s->busy, 1, __ATOMIC_ACQ_REL);
  if (s->timeout_ns > 0)
    op->deadline = us__sys_now() + s->timeout_ns;
  /* A non-blocking call never waits, so it keeps the lock: cheaper. */
  if (s->timeout_ns != 0)
    host_unlock(op);
  return 0;
}

void us__op_end(us__op_t *op) {
  host_lock(op);
  us_socket_t *s = op->s;
  if (__atomic_sub_fetch(&s->busy, 1, __ATOMIC_ACQ_REL) == 0 &&
      s->zombie_fd >= 0) {
    us__sys_close(s->zombie_fd);
    s->zombie_fd = -1;
  }
}

static int after_signal(us__op_t *op) {
  if (!us__host->check_signals)
    return 0;
  int was_unlocked = op->unlocked;
  host_lock(op);
  int r = us__host->check_signals();
  if (was_unlocked)
    host_unlock(op);
  return r;
}

int us__op_wait(us__op_t *op, int events) {
  us_socket_t *s = op->s;
  if (s->timeout_ns == 0)
    return -EAGAIN;
  for (;;) {
    int64_t left = -1;
    if (s->timeout_ns > 0) {
      left = op->deadline - us__sys_now();
      if (left <= 0)
        return -ETIMEDOUT;
    }
    int r = us__sys_wait(s->fd, events, left);
    if (r > 0)
      return 0; /* ready, or an error the next call will report */
    if (r == 0)
      return -ETIMEDOUT;
    if (r != -EINTR)
      return r;
    if ((r = after_signal(op)) < 0)
      return r;
    if (s->fd < 0) /* closed by a signal handler */
      return -EBADF;
  }
}

int us__op_retry(us__op_t *op, int err, int events) {
  if (op->s->fd < 0) /* closed by another thread meanwhile */
    return -EBADF;
  if (err == -EINTR) {
    int r = after_signal(op);
    if (r < 0)
      return r;
    return op->s->fd < 0 ? -EBADF : 0;
  }
  if (err == -EAGAIN || err == -EWOULDBLOCK) {
    /* A blocking descriptor reports EAGAIN only for SO_RCVTIMEO and the
     * like: that is the caller's own timeout, so pass it on. */
    if (op->s->timeout_ns < 0)
      return -EAGAIN;
    return us__op_wait(op, events);
  }
  return err;
}

int us__op_grow(us__op_t *op, us_sink_t *sink, size_t need) {
  if (sink->cap >= need)
    return 0;
  if (!sink->grow)
    return -ENOBUFS;
  int was_unlocked = op->unlocked;
  host_lock(op);
  int r = sink->grow(sink, need);
  if (was_unlocked)
    host_unlock(op);
  if (r == 0 && sink->cap < need)
    r = -ENOMEM;
  return r;
}

/* Errors that a later call would not meet again by itself. */
static int lasting(int err) {
  return err != -EAGAIN && err != -EWOULDBLOCK && err != -ETIMEDOUT &&
         err != -EINTR;
}

ssize_t us__op_finish(us__op_t *op, size_t done, int err) {
  us__op_end(op);
  if (done == 0)
    return err;
  if (err < 0 && lasting(err) && op->s->fd >= 0)
    op->s->pending_err = err;
  return (ssize_t)done;
}

size_t us__sink_clamp(const us_sink_t *sink, size_t max) {
  size_t room = sink->cap - sink->len;
  return !sink->grow && max > room ? room : max;
}

ssize_t us__sink_room(us__op_t *op, us_sink_t *sink, size_t want) {
  if (sink->grow && sink->cap - sink->len < want) {
    if (want > (size_t)SSIZE_MAX - sink->len)
      want = (size_t)SSIZE_MAX - sink->len;
    int r = us__op_grow(op, sink, sink->len + want);
    if (r < 0)
      return r;
  }
  size_t room = sink->cap - sink->len;
  return (ssize_t)(room < want ? room : want);
}
