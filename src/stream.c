/* stream.c: the stream calls: read with no short reads, readline that
 * never reads past its newline, write with no short writes. */
#include "core.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>

/* The first guess at a line's length; doubled while lines prove longer. */
#define LINE_GUESS ((size_t)128)

/* Errors that a later call would not see again by itself, so they are
 * held back while the bytes that came before them are returned. */
static int lasting(int err) {
  return err != -EAGAIN && err != -EWOULDBLOCK && err != -ETIMEDOUT &&
         err != -EINTR;
}

/* Ends a stream call that moved `done` bytes and then met `err`. */
static ssize_t finish(us__op_t *op, size_t done, int err) {
  us__op_end(op);
  if (done == 0)
    return err;
  if (err < 0 && lasting(err) && op->s->fd >= 0)
    op->s->pending_err = err;
  return (ssize_t)done;
}

/* A fixed sink bounds how much a call may take. */
static size_t clamp(const us_sink_t *sink, size_t max) {
  size_t room = sink->cap - sink->len;
  return !sink->grow && max > room ? room : max;
}

/* Room for up to `want` more bytes; never 0 for want > 0 once clamped. */
static ssize_t room_for(us__op_t *op, us_sink_t *sink, size_t want) {
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

ssize_t us_read(us_socket_t *s, us_sink_t *sink, size_t max) {
  us__op_t op;
  size_t done = 0;
  int err = us__op_begin(&op, s);
  if (err < 0)
    return err;
  max = clamp(sink, max);
  while (done < max) {
    /* Grow by doubling from the eager size, never past max. */
    size_t step = sink->len > US__EAGER_MAX ? sink->len : US__EAGER_MAX;
    ssize_t room = room_for(&op, sink, step < max - done ? step : max - done);
    if (room <= 0) {
      err = (int)room;
      break;
    }
    ssize_t n =
        us__recv_once(&op, sink->data + sink->len, (size_t)room, 0, NULL);
    if (n <= 0) {
      err = (int)n;
      break;
    }
    sink->len += (size_t)n;
    done += (size_t)n;
  }
  return finish(&op, done, err);
}

ssize_t us_readline(us_socket_t *s, us_sink_t *sink, size_t max) {
  us__op_t op;
  size_t done = 0, guess = LINE_GUESS;
  int err = us__op_begin(&op, s);
  if (err < 0)
    return err;
  max = clamp(sink, max);
  while (done < max) {
    ssize_t room = room_for(&op, sink, guess < max - done ? guess : max - done);
    if (room <= 0) {
      err = (int)room;
      break;
    }
    /* Look first, then take exactly up to the newline: the kernel keeps
     * whatever follows it, for the next call or for select(). */
    char *at = sink->data + sink->len;
    ssize_t n = us__recv_once(&op, at, (size_t)room, MSG_PEEK, NULL);
    if (n <= 0) {
      err = (int)n;
      break;
    }
    char *nl = memchr(at, '\n', (size_t)n);
    size_t take = nl ? (size_t)(nl - at) + 1 : (size_t)n;
    n = us__recv_once(&op, at, take, 0, NULL);
    if (n <= 0) {
      err = (int)n;
      break;
    }
    sink->len += (size_t)n;
    done += (size_t)n;
    if (nl && (size_t)n == take)
      break;
    guess *= 2;
  }
  return finish(&op, done, err);
}

ssize_t us_write(us_socket_t *s, const void *buf, size_t len) {
  us__op_t op;
  size_t done = 0;
  int err = us__op_begin(&op, s);
  if (err < 0)
    return err;
  while (done < len) {
    ssize_t n =
        us__send_once(&op, (const char *)buf + done, len - done, 0, NULL);
    if (n < 0) {
      err = (int)n;
      break;
    }
    done += (size_t)n;
  }
  return finish(&op, done, err);
}
