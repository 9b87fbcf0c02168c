/* stream.c: the stream calls: read with no short reads, readline that
 * never reads past its newline, write with no short writes. */
#include "core.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* The first guess at a line's length; doubled while lines prove longer. */
#define LINE_GUESS ((size_t)256)

/* ---- brief calls ----------------------------------------------------------
 * Under an exclusive host, a call on a non-blocking socket keeps the host's
 * lock from its start to its end (us__op_begin): no other thread of the
 * host runs meanwhile (none can close the socket), nothing waits, and no
 * host code runs. A read or write of one fixed buffer then needs nothing
 * of the general call but the side's lock and the system calls: done
 * here, it costs half the instructions (an echo server makes one of each
 * per message). What brief_call does not cover it declines (returns 0,
 * having done nothing), and the general path runs instead. */

static int brief(const us_socket_t *s) {
  return us__host->exclusive && !s->pending_err &&
         __atomic_load_n(&s->timeout_ns, __ATOMIC_RELAXED) == 0;
}

/* A brief receive (rx) or send of up to len bytes, as many system calls
 * as it takes; its end as us__op_finish's. An EINTR before any byte
 * declines instead: the general path runs the host's signal check. The
 * general path also lets the host's handlers run between the pieces of a
 * long write; a brief one is short, and ends at the first full buffer. */
__attribute__((always_inline)) static inline int
brief_call(us_socket_t *s, int rx, char *buf, size_t len, ssize_t *out) {
  us__lock_t *l = rx ? &s->rx_lock : &s->tx_lock;
  int fd = us__fd(s);
  if (len > US__SIGNAL_PIECE || fd < 0 || !brief(s) || !us__lock_try(l))
    return 0;
  size_t done = 0;
  ssize_t n = 0;
  while (done < len) {
    n = rx ? us__sys_recv(fd, buf + done, len - done, US__MSG_DONTWAIT)
           : us__sys_send(fd, buf + done, len - done, US__MSG_DONTWAIT);
    if (n <= 0)
      break;
    if (rx && (s->rx_known || s->rx_line[0])) /* readline's notes */
      us__rx_taken(s, (size_t)n);
    done += (size_t)n;
  }
  if (rx && n < 0)
    us__rx_missed(s, n);
  us__lock_drop(l);
  if (n == -EINTR && done == 0)
    return 0;
  *out = us__held_back(s, done, n < 0 ? (int)n : 0);
  return 1;
}

/* ---- the stream calls ---------------------------------------------------- */

/* us_read and us_write are their brief calls, inlined into their callers
 * (with link-time optimisation, a binding's methods too), and the general
 * path out of line. A return that follows a system call is a slow one (a
 * profile's samples gather right after each; most likely the kernel's deep
 * calls have overwritten the processor's record of where returns go):
 * each frame fewer between a method and its system call saves one. */
#define INLINE_CALL __attribute__((always_inline)) inline

__attribute__((noinline)) static ssize_t
read_general(us_socket_t *s, us_sink_t *sink, size_t max) {
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

INLINE_CALL ssize_t us_read(us_socket_t *s, us_sink_t *sink, size_t max) {
  ssize_t n;
  if (!sink->grow &&
      brief_call(s, 1, sink->data + sink->len, us__sink_clamp(sink, max), &n)) {
    if (n > 0)
      sink->len += (size_t)n;
    return n;
  }
  return read_general(s, sink, max);
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

__attribute__((noinline)) static ssize_t
write_general(us_socket_t *s, const void *buf, size_t len) {
  us__op_t op;
  size_t done = 0;
  int err = us__op_begin_locked(&op, s, &s->tx_lock, 0);
  if (err < 0)
    return err;
  err = us__send_all(&op, buf, len, 0, &done);
  return us__op_finish(&op, done, err);
}

INLINE_CALL ssize_t us_write(us_socket_t *s, const void *buf, size_t len) {
  ssize_t n;
  if (brief_call(s, 0, (char *)buf, len, &n)) /* a send only reads buf */
    return n;
  return write_general(s, buf, len);
}
