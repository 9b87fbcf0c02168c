/* core.h: what the core's files share: one blocking call in progress.
 *
 * Every call that can block runs as an us__op_t: us__op_begin() starts the
 * deadline, us__op_unlock() releases the host's lock right before the first
 * system call that may block, each failed system call goes
 * through us__op_retry(), which alone decides whether to wait, retry after
 * a signal, or give up, and us__op_end() takes the lock back. This is the
 * one place that owns timeouts.
 */
#ifndef US_CORE_H
#define US_CORE_H

#include "backend.h"

typedef struct us__op {
  us_socket_t *s;
  /* s's descriptor when the call began. Every system call of the call uses
   * it, never s->fd, which another thread's close may set to -1 meanwhile:
   * the number stays open (the close is deferred) until us__op_end. */
  int fd;
  /* s's timeout when the call began: the call keeps it, whatever another
   * thread's us_settimeout() does meanwhile. */
  int64_t timeout;
  int64_t deadline; /* monotonic ns; meaningful when timeout > 0 */
  void *token;      /* the host's lock token while unlocked */
  int unlocked;
  /* May block, under a host with a lock to release first. Such a call
   * never blocks in a send or receive (MSG_DONTWAIT): it waits only in
   * us__op_wait(), where a signal cannot slip by. */
  int lazy;
  int guard; /* its waits hold signals (see us__op_guarded); -1: not known */
} us__op_t;

/* Starts a call on s (-EBADF if closed). On failure nothing is held. */
int us__op_begin(us__op_t *op, us_socket_t *s);
void us__op_end(us__op_t *op);
/* Right before a system call that may block: releases the host's lock if
 * the call may wait at all (idempotent). Inline: it runs on every send and
 * receive, and mostly finds nothing to do. */
void us__op_unlock_now(us__op_t *op);
static inline void us__op_unlock(us__op_t *op) {
  if (op->lazy && !op->unlocked)
    us__op_unlock_now(op);
}
/* Whether op runs in the thread that handles the host's signals, whose
 * waits therefore hold signals from the host's check to the kernel wait.
 * Asked of the host once per call; lock held. */
int us__op_guarded(us__op_t *op);
/* Lock held or not: runs the host's signal handlers now (a long transfer
 * that never waits checks between its pieces). 0 or their error. */
int us__op_signals(us__op_t *op);
/* After a system call failed with err: 0 means "call it again" (a signal
 * was handled, or the socket became ready in time); anything else is the
 * error to return (-ETIMEDOUT on expiry, -EAGAIN when non-blocking). */
int us__op_retry(us__op_t *op, int err, int events);
/* Waits until events are ready, within the deadline, as us__op_retry. */
int us__op_wait(us__op_t *op, int events);
/* Makes room for need bytes in all in sink, calling its grow with the
 * host's lock held. Returns 0 or a negative errno (-ENOBUFS when fixed
 * and full). */
int us__op_grow(us__op_t *op, us_sink_t *sink, size_t need);

/* Ends a stream call that moved `done` bytes and then met `err`: returns
 * the count if there is one, holding back a lasting error (a reset, not a
 * timeout) for the socket's next call, so that no byte is dropped. */
ssize_t us__op_finish(us__op_t *op, size_t done, int err);
/* A fixed sink bounds how much a call may take. */
size_t us__sink_clamp(const us_sink_t *sink, size_t max);
/* Room for up to `want` more bytes, growing the sink; never 0 for want > 0
 * once clamped. */
ssize_t us__sink_room(us__op_t *op, us_sink_t *sink, size_t want);

/* One send or receive within op, retried and waited for as the timeout
 * says; from/to may be NULL. MSG_DONTWAIT in flags never waits. */
ssize_t us__recv_once(us__op_t *op, void *buf, size_t len, int flags,
                      us_addr_t *from);
ssize_t us__send_once(us__op_t *op, const void *buf, size_t len, int flags,
                      const us_addr_t *to);
/* The socket's knowledge of its receive queue (rx_known, rx_line): n
 * bytes were taken from its head; nothing is known any more (the queue
 * changed behind our back, or a shutdown); the lines among the n bytes a
 * peek (already counted in rx_known by us__recv_once) saw at `at`, nl
 * being the first newline among them or NULL. */
void us__rx_taken(us_socket_t *s, size_t n);
void us__rx_forget(us_socket_t *s);
void us__rx_saw_lines(us_socket_t *s, const char *at, size_t n, const char *nl);

/* Sends of at most this many bytes are first tried without waiting, the
 * host's lock kept: they nearly always fit the socket's buffer. */
#define US__LOCKED_SEND_MAX ((size_t)16384)

/* Sends all len bytes within op; *done says how many went, even when an
 * error (returned) stopped it. */
int us__send_all(us__op_t *op, const void *buf, size_t len, int flags,
                 size_t *done);

/* Receives of at most this many bytes are first tried without waiting,
 * the host's lock kept. */
#define US__LOCKED_RECV_MAX ((size_t)65536)

/* How long a wait in the thread that handles signals first waits without
 * holding them (see guarded_wait in call.c): the most a signal that comes
 * right before a wait can be seen late. */
#define US__GLANCE_NS ((int64_t)10000000)

/* Up to this many bytes, a receive makes room for its whole size at once;
 * beyond it, only for what has arrived. */
#define US__EAGER_MAX ((size_t)65536)

/* A wait that is not on one socket (a poll set's), run by us__wait_run(),
 * which owns its deadline, the host's lock and EINTR as us__op does. */
typedef struct us__waiter {
  /* Lock held, before each wait: gets ready (snapshots what to watch). */
  int (*prepare)(struct us__waiter *w);
  /* Lock released unless timeout_ns is 0: one kernel wait of at most
   * left_ns (< 0: no limit). Returns > 0 when something happened, 0 when
   * the time passed, or a negative errno (-EINTR: a signal came). */
  int (*wait)(struct us__waiter *w, int64_t left_ns);
  /* Lock held, after wait returned r > 0: the call's result (>= 0, or a
   * negative errno), or -EAGAIN when what happened concerns nobody now,
   * to wait again for the time that is left. */
  int (*done)(struct us__waiter *w, int r);
} us__waiter_t;

/* Runs w until done gives a result, the time passes (0), or an error.
 * timeout_ns < 0 waits without limit; 0 checks once and keeps the lock. */
int us__wait_run(us__waiter_t *w, int64_t timeout_ns);

/* Keeps s in use beyond one call (a poll set's registration): closing it
 * meanwhile only shuts it down, waking whoever watches it, and the last
 * release closes its descriptor, whose number is never reused under them. */
void us__socket_hold(us_socket_t *s);
void us__socket_release(us_socket_t *s);

/* The hooks in force (never NULL). */
extern const us_host_t *us__host;

#endif /* US_CORE_H */
