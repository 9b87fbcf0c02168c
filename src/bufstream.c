/* bufstream.c: a read-ahead, write-behind buffer over a socket, for
 * callers that take many small lines (makefile with buffering > 0). */
#include "core.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SIZE ((size_t)65536)

int us__bufstream_setup(us_bufstream_t *b, us_socket_t *sock,
                        const us__layer_t *layer, void *layer_ctx, size_t rsize,
                        size_t wsize) {
  memset(b, 0, sizeof *b);
  b->sock = sock;
  b->layer = layer;
  b->layer_ctx = layer_ctx;
  /* A layer's read buffer waits for the first refill: a TLS session
   * opened and left idle holds none. */
  b->rbuf = layer ? NULL : malloc(rsize);
  b->wbuf = wsize ? malloc(wsize) : NULL;
  if ((!layer && !b->rbuf) || (wsize && !b->wbuf)) {
    us_bufstream_free(b);
    return -ENOMEM;
  }
  b->rcap = rsize;
  b->wcap = wsize;
  return 0;
}

int us_bufstream_init(us_bufstream_t *b, us_socket_t *sock, size_t size) {
  if (size == 0)
    size = DEFAULT_SIZE;
  return us__bufstream_setup(b, sock, NULL, NULL, size, size);
}

/* The stream seam: every byte read or written goes through these two. */
static ssize_t src_recv(us__op_t *op, us_bufstream_t *b, void *buf,
                        size_t len) {
  if (b->layer)
    return b->layer->recv(op, b->layer_ctx, buf, len);
  return us__recv_once(op, buf, len, 0, NULL);
}

static int src_send_all(us__op_t *op, us_bufstream_t *b, const void *buf,
                        size_t len, size_t *done) {
  if (b->layer)
    return b->layer->send_all(op, b->layer_ctx, buf, len, done);
  return us__send_all(op, buf, len, 0, done);
}

void us_bufstream_free(us_bufstream_t *b) {
  free(b->rbuf);
  free(b->wbuf);
  b->rbuf = b->wbuf = NULL;
  b->rpos = b->rend = b->rcap = b->wlen = b->wcap = 0;
}

/* The read buffer is guarded by the socket's receive lock, the write
 * buffer by its send lock: a stream's reader and writer never wait for
 * each other, and the socket's own calls keep out of the stream's way. */

int us_bufstream_takeline(us_bufstream_t *b, const char **line, size_t *len,
                          size_t max) {
  us__lock_t *lock = &b->sock->rx_lock;
  if (!us__lock_try(lock))
    return 0; /* another call is reading: the slow path waits for it */
  size_t avail = b->rend - b->rpos;
  size_t look = avail < max ? avail : max;
  if (!look) {
    us__lock_drop(lock);
    return 0; /* nothing buffered (perhaps no buffer yet), or max 0 */
  }
  const char *p = b->rbuf + b->rpos;
  const char *nl = memchr(p, '\n', look);
  size_t n = nl ? (size_t)(nl - p) + 1 : look;
  if (!nl && look < max) {
    us__lock_drop(lock);
    return 0; /* no whole line yet, and max not reached */
  }
  *line = p;
  *len = n;
  b->rpos += n;
  return 1;
}

void us_bufstream_takeline_done(us_bufstream_t *b) {
  us__lock_drop(&b->sock->rx_lock);
}

/* Reads more into the read buffer, after what it holds. */
static ssize_t refill(us__op_t *op, us_bufstream_t *b) {
  if (!b->rbuf && !(b->rbuf = malloc(b->rcap)))
    return -ENOMEM;
  if (b->rpos == b->rend) {
    b->rpos = b->rend = 0;
  } else if (b->rend == b->rcap) {
    memmove(b->rbuf, b->rbuf + b->rpos, b->rend - b->rpos);
    b->rend -= b->rpos;
    b->rpos = 0;
  }
  ssize_t n = src_recv(op, b, b->rbuf + b->rend, b->rcap - b->rend);
  if (n > 0)
    b->rend += (size_t)n;
  return n;
}

/* Moves up to n buffered bytes into sink; returns how many. */
static ssize_t take(us__op_t *op, us_bufstream_t *b, us_sink_t *sink,
                    size_t n) {
  ssize_t room = us__sink_room(op, sink, n);
  if (room <= 0)
    return room;
  memcpy(sink->data + sink->len, b->rbuf + b->rpos, (size_t)room);
  sink->len += (size_t)room;
  b->rpos += (size_t)room;
  return room;
}

/* The first piece of a line longer than the buffer; doubled while the
 * line proves longer still. */
#define LONG_LINE_PIECE ((size_t)65536)

/* The rest of a line longer than the buffer, which is empty: looked for
 * in large pieces straight in the sink and taken up to its newline, as
 * the socket's own readline does (what follows stays in the kernel).
 * Refilling a small buffer would cost a system call, and a growth of the
 * sink, per buffer's worth: per byte for a one-byte buffer. Returns 0 at
 * the newline or max, else the error or end of file that stopped it. */
static int long_line(us__op_t *op, us_sink_t *sink, size_t max, size_t *done) {
  size_t piece = LONG_LINE_PIECE;
  /* A non-blocking call keeps the host's lock for what has arrived, but
   * a line may keep arriving for long: the lock is not held that long. */
  us__op_unlock_now(op);
  while (*done < max) {
    size_t want = piece < max - *done ? piece : max - *done;
    ssize_t room = us__sink_room(op, sink, want);
    if (room <= 0)
      return (int)room;
    char *at = sink->data + sink->len;
    ssize_t n = us__recv_once(op, at, (size_t)room, US__MSG_PEEK, NULL);
    if (n <= 0)
      return (int)n;
    char *nl = memchr(at, '\n', (size_t)n);
    size_t take = nl ? (size_t)(nl - at) + 1 : (size_t)n;
    int filled = n == room;
    n = us__recv_once(op, at, take, 0, NULL);
    if (n <= 0)
      return (int)n;
    sink->len += (size_t)n;
    *done += (size_t)n;
    if (nl && (size_t)n == take)
      return 0;
    if (filled && piece <= SIZE_MAX / 2)
      piece *= 2;
  }
  return 0;
}

/* A line already buffered whole, with room for it in the sink, is taken
 * without a call's set-up (a third of a short line's cost over TLS).
 * Returns its length, or 0 to leave it to the call. */
static size_t buffered_line(us_bufstream_t *b, us_sink_t *sink, size_t max) {
  us_socket_t *s = b->sock;
  us__lock_t *lock = &s->rx_lock;
  size_t n = 0;
  if (!us__lock_try(lock))
    return 0;
  /* A close, or an error held back, is for the call to report. */
  if (us__fd(s) >= 0 && !s->pending_err) {
    size_t avail = b->rend - b->rpos, room = sink->cap - sink->len;
    size_t look = avail < max ? avail : max;
    const char *p = look ? b->rbuf + b->rpos : NULL;
    const char *nl = look ? memchr(p, '\n', look) : NULL;
    n = nl ? (size_t)(nl - p) + 1 : look == max ? max : 0;
    if (n > room)
      n = 0;
    if (n) {
      memcpy(sink->data + sink->len, p, n);
      sink->len += n;
      b->rpos += n;
    }
  }
  us__lock_drop(lock);
  return n;
}

ssize_t us_bufstream_readline(us_bufstream_t *b, us_sink_t *sink, size_t max) {
  us__op_t op;
  size_t done = buffered_line(b, sink, max);
  if (done)
    return (ssize_t)done;
  int err = us__op_begin_locked(&op, b->sock, &b->sock->rx_lock, 0);
  if (err < 0)
    return err;
  max = us__sink_clamp(sink, max);
  while (done < max) {
    size_t avail = b->rend - b->rpos, want = max - done;
    /* A layer cannot leave what follows the newline in the kernel: its
     * long lines pass through the buffer. */
    if (!avail && done >= b->rcap && !b->layer) {
      err = long_line(&op, sink, max, &done);
      break;
    }
    if (avail) {
      const char *p = b->rbuf + b->rpos;
      const char *nl = memchr(p, '\n', avail < want ? avail : want);
      size_t n = nl ? (size_t)(nl - p) + 1 : (avail < want ? avail : want);
      ssize_t got = take(&op, b, sink, n);
      if (got < 0) {
        err = (int)got;
        break;
      }
      done += (size_t)got;
      if (nl)
        break;
      continue;
    }
    ssize_t n = refill(&op, b);
    if (n <= 0) {
      err = (int)n;
      break;
    }
  }
  return us__op_finish(&op, done, err);
}

ssize_t us_bufstream_read(us_bufstream_t *b, us_sink_t *sink, size_t max) {
  us__op_t op;
  size_t done = 0;
  int err = us__op_begin_locked(&op, b->sock, &b->sock->rx_lock, 0);
  if (err < 0)
    return err;
  max = us__sink_clamp(sink, max);
  while (done < max) {
    size_t avail = b->rend - b->rpos, want = max - done;
    ssize_t n;
    if (avail) {
      n = take(&op, b, sink, avail < want ? avail : want);
    } else if (want >= b->rcap) {
      /* A large read skips the buffer: one copy fewer. */
      size_t step = sink->len > b->rcap ? sink->len : b->rcap;
      n = us__sink_room(&op, sink, step < want ? step : want);
      if (n > 0)
        n = src_recv(&op, b, sink->data + sink->len, (size_t)n);
      if (n > 0)
        sink->len += (size_t)n;
    } else {
      n = refill(&op, b);
      if (n > 0)
        continue;
    }
    if (n <= 0) {
      err = (int)n;
      break;
    }
    done += (size_t)n;
  }
  return us__op_finish(&op, done, err);
}

ssize_t us_bufstream_recv(us_bufstream_t *b, void *buf, size_t len) {
  us__op_t op;
  int err = us__op_begin_locked(&op, b->sock, &b->sock->rx_lock, 0);
  if (err < 0)
    return err;
  size_t avail = b->rend - b->rpos;
  ssize_t n;
  if (avail) {
    n = (ssize_t)(avail < len ? avail : len);
    memcpy(buf, b->rbuf + b->rpos, (size_t)n);
    b->rpos += (size_t)n;
  } else {
    n = len ? src_recv(&op, b, buf, len) : 0;
  }
  us__op_end(&op);
  return n;
}

/* Writes out the buffer; what could not go stays buffered, in order. */
static int flush_in(us__op_t *op, us_bufstream_t *b) {
  size_t sent;
  if (b->wlen == 0) /* a stream with no write buffer has none to flush */
    return 0;
  int err = src_send_all(op, b, b->wbuf, b->wlen, &sent);
  memmove(b->wbuf, b->wbuf + sent, b->wlen - sent);
  b->wlen -= sent;
  return err;
}

int us_bufstream_close(us_bufstream_t *b) {
  us_socket_t *s = b->sock;
  int err = 0;
  /* A writer in progress holds the send lock, maybe blocked for good: its
   * call sends what is buffered, or fails as the socket closes. */
  if (us__lock_try(&s->tx_lock)) {
    us__op_t op;
    if (b->wlen && (err = us__op_begin(&op, s)) == 0) {
      err = flush_in(&op, b);
      us__op_end(&op);
    }
    us__lock_drop(&s->tx_lock);
  }
  int r = us_socket_close(s);
  return err < 0 ? err : r;
}

int us_bufstream_flush(us_bufstream_t *b) {
  us__op_t op;
  int err = us__op_begin_locked(&op, b->sock, &b->sock->tx_lock, 0);
  if (err < 0)
    return err;
  err = flush_in(&op, b);
  us__op_end(&op);
  return err;
}

/* A stream with no write buffer (wbuf NULL) appends only nothing. */
static void append(us_bufstream_t *b, const void *buf, size_t len) {
  if (len) {
    memcpy(b->wbuf + b->wlen, buf, len);
    b->wlen += len;
  }
}

ssize_t us_bufstream_write(us_bufstream_t *b, const void *buf, size_t len) {
  us__lock_t *lock = &b->sock->tx_lock;
  if (us__lock_try(lock)) {
    if (len <= b->wcap - b->wlen) {
      ssize_t r = (ssize_t)len;
      if (us__fd(b->sock) < 0) {
        r = -EBADF;
      } else {
        append(b, buf, len);
      }
      us__lock_drop(lock);
      return r;
    }
    us__lock_drop(lock);
  }
  us__op_t op;
  int err = us__op_begin_locked(&op, b->sock, lock, 0);
  if (err < 0)
    return err;
  if (len <= b->wcap - b->wlen) { /* room was made while we waited */
    append(b, buf, len);
    us__op_end(&op);
    return (ssize_t)len;
  }
  if ((err = flush_in(&op, b)) < 0)
    return us__op_finish(&op, 0, err);
  if (len <= b->wcap) {
    append(b, buf, len);
    us__op_end(&op);
    return (ssize_t)len;
  }
  size_t done; /* too big to buffer: straight out */
  err = src_send_all(&op, b, buf, len, &done);
  return us__op_finish(&op, done, err);
}
