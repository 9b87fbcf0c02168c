/* stream.c: the stream calls: read with no short reads, readline that
 * never reads past its newline, write with no short writes. */
#include "core.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* The first guess at a line's length; doubled while lines prove longer. */
#define LINE_GUESS ((size_t)256)

ssize_t us_read(us_socket_t *s, us_sink_t *sink, size_t max) {
  us__op_t op;
  size_t done = 0;
  int err = us__op_begin_locked(&op, s, &s->rx_lock, 0);
  if (err < 0)
    return err;
  max = us__sink_clamp(sink, max);
  while (done < max) {
    /* Fill the room there is (growing on every short receive would cost
     * a realloc each), then grow by doubling from the eager size, never
     * past max. */
    size_t step = sink->len > US__EAGER_MAX ? sink->len : US__EAGER_MAX;
    if (sink->cap > sink->len)
      step = sink->cap - sink->len;
    ssize_t room =
        us__sink_room(&op, sink, step < max - done ? step : max - done);
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
  return us__op_finish(&op, done, err);
}

/* Flattened: the call's set-up and its lock inline into it, as they did
 * before it had a lock (about 40 instructions a line). */
__attribute__((flatten)) ssize_t us_readline(us_socket_t *s, us_sink_t *sink,
                                             size_t max) {
  us__op_t op;
  size_t done = 0, guess = LINE_GUESS;
  /* Held from the look to the take: another thread's receive in between
   * would make what we take differ from what we saw. */
  int err = us__op_begin_locked(&op, s, &s->rx_lock, 0);
  if (err < 0)
    return err;
  max = us__sink_clamp(sink, max);
  while (done < max) {
    /* A line that an earlier look saw whole is taken at once: one system
     * call, and the kernel keeps what follows its newline. */
    size_t known = s->rx_line[0];
    int take_known = known && known <= max - done;
    size_t want = take_known ? known : guess < max - done ? guess : max - done;
    ssize_t room = us__sink_room(&op, sink, want);
    if (room <= 0) {
      err = (int)room;
      break;
    }
    char *at = sink->data + sink->len;
    ssize_t n;
    if (take_known && (size_t)room == known) {
      /* The line is queued: taking it never waits. If it is not there
       * after all (the descriptor was read behind our back), what we knew
       * is forgotten and the line is looked for as below. */
      n = us__recv_once(&op, at, known, US__MSG_DONTWAIT, NULL);
      if (n == -EAGAIN || n == -EWOULDBLOCK) {
        us__rx_forget(s);
        continue;
      }
      if (n <= 0) {
        err = (int)n;
        break;
      }
      sink->len += (size_t)n;
      done += (size_t)n;
      if ((size_t)n == known) {
        if (at[n - 1] == '\n')
          break;
        us__rx_forget(s); /* not the line we knew: read behind our back */
      }
      continue; /* short: the rest is looked for as below */
    }
    /* Look first, then take exactly up to the newline: the kernel keeps
     * whatever follows it, for the next call or for select(). */
    n = us__recv_once(&op, at, (size_t)room, US__MSG_PEEK, NULL);
    if (n <= 0) {
      err = (int)n;
      break;
    }
    char *nl = memchr(at, '\n', (size_t)n);
    size_t take = nl ? (size_t)(nl - at) + 1 : (size_t)n;
    us__rx_saw_lines(s, at, (size_t)n, nl);
    /* Only a line that filled the room proves longer than the guess; one
     * that arrives in small pieces must not double it per piece (it would
     * soon ask the sink for terabytes, then overflow to 0). */
    int filled = n == room;
    n = us__recv_once(&op, at, take, 0, NULL);
    if (n <= 0) {
      err = (int)n;
      break;
    }
    sink->len += (size_t)n;
    done += (size_t)n;
    if (nl && (size_t)n == take)
      break;
    if (filled)
      guess *= 2;
  }
  return us__op_finish(&op, done, err);
}

ssize_t us_write(us_socket_t *s, const void *buf, size_t len) {
  us__op_t op;
  size_t done = 0;
  int err = us__op_begin_locked(&op, s, &s->tx_lock, 0);
  if (err < 0)
    return err;
  err = us__send_all(&op, buf, len, 0, &done);
  return us__op_finish(&op, done, err);
}
