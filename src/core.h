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

/* A function the compiler must inline: a body shared by an IP call and
 * its raw-address twin (us_accept and us_accept_raw...) is compiled into
 * each with the other's address a constant NULL, so the IP call keeps the
 * code it had alone. */
#define US__INLINE static inline __attribute__((always_inline))

/* The largest count a call returns; SSIZE_MAX is POSIX's, not C's (newlib
 * leaves it out), and ssize_t is as wide as size_t. */
#define US__SSIZE_MAX ((ssize_t)(SIZE_MAX >> 1))

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
  /* May block, under a host with a lock to release first. Its descriptor
   * is non-blocking (us__emulated), and its sends and receives pass
   * MSG_DONTWAIT besides: it waits only in us__op_wait(), where a signal
   * cannot slip by. */
  int lazy;
  int guard; /* its waits hold signals (see us__op_guarded); -1: not known */
  us__lock_t *held; /* the object's lock this call holds, or NULL */
  uint32_t held_in; /* what us__socket_hold returned for the call */
  /* Its record in the thread's (see us__calls). NULL for a brief call
   * (see us__op_begin): it has neither a record nor a hold on s until
   * us__op_full() gives it both. */
  struct us__call *call;
} us__op_t;

/* What a call in progress holds, kept where a host that unwinds the call's
 * frames (a longjmp out of a signal handler) can still find it: the op
 * lives on the unwound stack, this in the thread's own storage, so that
 * us_abandon_calls() can give back exactly what the call held. */
typedef struct us__call {
  us_socket_t *s;      /* whose busy count it raised (NULL: none) */
  us__lock_t *held;    /* the lock it holds or is taking, or NULL */
  us__lock_t *waiting; /* the lock it sleeps on, or NULL */
  uint32_t held_in;    /* the hold's fork generation */
  int signals;         /* it may hold signals (us__sys_hold_signals) */
  /* A name lookup it waits for, abandoned if the call is (set and
   * cleared by its call, as waiting and signals). */
  us__lookup_t *lookup;
} us__call_t;

/* Calls nest (a host callback making a call inside a call) up to this
 * deep with a record each; deeper ones share a spare record that nothing
 * reads, and an abandon cannot give back what they held. */
#define US__CALLS_MAX 8

/* The calling thread's calls in progress, outermost first. Initial-exec,
 * as us__self: a call's bookkeeping is a few plain stores. */
typedef struct us__calls {
  unsigned depth;
  us__call_t at[US__CALLS_MAX + 1];
} us__calls_t;
extern _Thread_local us__calls_t us__calls
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Enters a call: a record of the thread's for op. waiting and signals
 * are found clear: whoever sets them clears them, and so does an
 * abandon. */
static inline void us__call_enter(us__op_t *op) {
  unsigned d = us__calls.depth;
  us__call_t *c = &us__calls.at[d < US__CALLS_MAX ? d : US__CALLS_MAX];
  c->s = NULL;
  c->held = NULL;
  op->call = c;
  us__calls.depth = d + 1;
  /* The record must be in memory before what it records happens. */
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Leaves it: after this its holds are the op's alone to give back. */
static inline void us__call_leave(void) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  us__calls.depth--;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Starts a call on s (-EBADF if closed). On failure nothing is held.
 * Under an exclusive host (us_host_t.exclusive) a non-blocking call is
 * brief: it never lets the host's lock go, so no other thread can close
 * s or use it meanwhile, and the host never unwinds it; it skips its
 * record and its hold on s, a third of its cost. Whatever would run host
 * code or release the lock makes it full first (us__op_full). */
int us__op_begin(us__op_t *op, us_socket_t *s);
void us__op_end(us__op_t *op);
/* Gives a brief call its record and its hold, as us__op_begin would have:
 * before anything that lets the host's lock go or runs host code (a
 * signal handler may close s; a grow callback may run anything). */
void us__op_full(us__op_t *op);
static inline us__call_t *us__op_call(us__op_t *op) {
  if (!op->call)
    us__op_full(op);
  return op->call;
}
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
/* us__op_finish's result, for a call that has ended already. */
ssize_t us__held_back(us_socket_t *s, size_t done, int err);
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
/* n bytes received on a stream, with flags: peeked, or taken. */
void us__rx_received(us_socket_t *s, size_t n, int flags);
void us__rx_forget(us_socket_t *s);
/* A receive met n: an EAGAIN where a look had seen bytes queued means
 * someone else (a dup, a forked child) took them; what was known goes. */
void us__rx_missed(us_socket_t *s, ssize_t n);
void us__rx_saw_lines(us_socket_t *s, const char *at, size_t n, const char *nl);

/* Sends of at most this many bytes are first tried without waiting, the
 * host's lock kept: they nearly always fit the socket's buffer. */
#define US__LOCKED_SEND_MAX ((size_t)16384)

/* Sends all len bytes within op; *done says how many went, even when an
 * error (returned) stopped it. */
int us__send_all(us__op_t *op, const void *buf, size_t len, int flags,
                 size_t *done);

/* The stream seam: what a buffered stream reads and writes through when
 * not the socket itself (a TLS stream). Both run within op, a call on the
 * socket under it holding the side's lock, and wait as its timeout says. */
typedef struct us__layer {
  /* One receive of up to len bytes: > 0, 0 at a clean end, or an error. */
  ssize_t (*recv)(us__op_t *op, void *ctx, void *buf, size_t len);
  /* Sends all len bytes, as us__send_all. */
  int (*send_all)(us__op_t *op, void *ctx, const void *buf, size_t len,
                  size_t *done);
} us__layer_t;

/* Sets up b over sock, through layer (NULL: none), with a read buffer of
 * rsize bytes and a write buffer of wsize (0: writes go out at once). */
int us__bufstream_setup(us_bufstream_t *b, us_socket_t *sock,
                        const us__layer_t *layer, void *layer_ctx, size_t rsize,
                        size_t wsize);

/* The message for a TLS error (US_TLS_ERR_*), or NULL for any other. */
const char *us__tls_strerror(int err);

/* Receives of at most this many bytes are first tried without waiting,
 * the host's lock kept. */
#define US__LOCKED_RECV_MAX ((size_t)65536)

/* How long a wait in the thread that handles signals first waits without
 * holding them (see guarded_wait in call.c): the most a signal that comes
 * right before a wait can be seen late. */
#define US__GLANCE_NS ((int64_t)10000000)
/* The most a send copies at once in the thread that handles the host's
 * signals (see us__send_all). */
#define US__SIGNAL_PIECE ((size_t)1 << 20)

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

/* The platform resolver within timeout_ns (< 0: as long as it takes),
 * the host's lock released and its signals heard meanwhile: its result
 * as us__sys_resolve's, -ETIMEDOUT, or the host's error after a signal.
 * A lookup given up goes on elsewhere and frees what it holds itself. */
int us__resolve(const char *host, const char *port, int family, int type,
                int proto, int flags, int64_t timeout_ns, void **res);

/* The reverse lookup of n->addr (us__sys_nameinfo) within timeout_ns, as
 * us__resolve: numeric flags answer at once, without a thread. */
int us__nameinfo(us__names_t *n, int flags, int64_t timeout_ns);

/* Keeps s in use beyond one call (a poll set's registration): closing it
 * meanwhile only shuts it down, waking whoever watches it, and the last
 * release closes its descriptor, whose number is never reused under them.
 * Holds taken before a fork() count for nothing in the child. */
uint32_t us__socket_hold(us_socket_t *s);
/* held_in: what the hold returned (the fork generation it was taken in). */
void us__socket_release(us_socket_t *s, uint32_t held_in);
/* How many holds this process has on s. */
unsigned us__socket_busy(const us_socket_t *s);
/* Host's lock held: closes fd, s's descriptor, releasing the lock around
 * the close when it may block (s lingers). */
int us__socket_close_fd(us_socket_t *s, int fd);

/* The locks of lock.c: one per side of an object (a socket's receiving
 * and sending), held by one call at a time, released by us__op_end. A
 * lock taken before a fork() is free in the child. The fast paths (free
 * when taken, nobody waiting when dropped) are inline: one atomic
 * instruction each. */
void us__lock_init(us__lock_t *l);
/* Makes sure the child of a fork knows it is one (once per process). */
void us__fork_watch(void);

/* Lock words: the state in the low bits, the fork generation above. */
#define US__LOCK_HELD 1u
#define US__LOCK_WAITED 2u /* held, and someone may be waiting to be woken */
#define US__LOCK_STATE 3u
#define US__LOCK_GEN_SHIFT 2

/* The fork generation: one more in each child than in its parent. Hidden,
 * as us__self: reached directly, not through the symbol table. */
extern uint32_t us__fork_gen __attribute__((visibility("hidden")));
static inline uint32_t us__gen(void) {
  return __atomic_load_n(&us__fork_gen, __ATOMIC_RELAXED);
}

/* The calling thread's number, naming the thread that holds a lock: given
 * at its first lock (0: none yet). Initial-exec: two instructions to
 * reach, even in a module that is loaded at run time. */
extern _Thread_local uint32_t us__self
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
uint32_t us__self_assign(void);
static inline uint32_t us__self_id(void) {
  uint32_t me = us__self;
  return me ? me : us__self_assign();
}

/* Takes l if free: 1 if taken, never waiting. */
int us__lock_try_stale(us__lock_t *l, uint32_t w);
static inline int us__lock_try(us__lock_t *l) {
  uint32_t free_now = us__gen() << US__LOCK_GEN_SHIFT, w = free_now;
  if (!__atomic_compare_exchange_n(&l->word, &w, free_now | US__LOCK_HELD, 0,
                                   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
    return us__lock_try_stale(l, w);
  __atomic_store_n(&l->owner, us__self_id(), __ATOMIC_RELAXED);
  return 1;
}

void us__lock_wake(us__lock_t *l);
/* Wakes every thread waiting for l (they look again: a close). */
void us__lock_wake_all(us__lock_t *l);
static inline void us__lock_drop(us__lock_t *l) {
  __atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
  /* Only its holder frees it: clearing the state frees it, leaves the
   * generation it was taken in, and tells whether anyone waits. (Not the
   * generation's global: a system call since the take has most likely
   * pushed that out of the cache.) */
  uint32_t w = __atomic_fetch_and(&l->word, ~US__LOCK_STATE, __ATOMIC_RELEASE);
  if ((w & US__LOCK_STATE) == US__LOCK_WAITED)
    us__lock_wake(l);
}

/* Waits for l for op, within op's deadline, with the host's lock
 * released. 0, or -EAGAIN (non-blocking, or nowait), -ETIMEDOUT, -EBADF
 * (closed meanwhile), -EDEADLK (this thread holds it already: a signal
 * handler using the object its call is using), a signal's error. */
int us__op_lock_wait(us__op_t *op, us__lock_t *l, int nowait);

/* us__op_begin, then takes l for the call: on failure nothing is held. */
static inline int us__op_begin_locked(us__op_t *op, us_socket_t *s,
                                      us__lock_t *l, int nowait) {
  int r = us__op_begin(op, s);
  if (r < 0)
    return r;
  /* Recorded before it is taken: an abandon drops it only if this thread
   * is its owner, and so never one it did not get. A brief call has no
   * record (us__op_full records what it holds then). */
  if (op->call)
    op->call->held = l;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (us__lock_try(l) || (r = us__op_lock_wait(op, l, nowait)) == 0) {
    op->held = l;
    return 0;
  }
  us__op_end(op);
  return r;
}

/* s's descriptor, read as another thread's close may be writing it. */
static inline int us__fd(const us_socket_t *s) {
  return __atomic_load_n(&s->fd, __ATOMIC_RELAXED);
}

/* The calling thread's deadline (us_set_deadline), US_DEADLINE_NONE
 * when it has none. Initial-exec, as us__self: every call reads it. */
extern _Thread_local int64_t us__thread_deadline
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
/* The absolute deadline of a call given timeout_ns (< 0: none) that
 * begins now, the thread's deadline folded in: -1 for none. */
int64_t us__deadline_of(int64_t timeout_ns);

/* Whether op's waits have a deadline: its timeout's, or the thread's
 * (us_set_deadline). The thread's is read only when a call is about to
 * wait, never on the way of a call that does not: a blocking socket's
 * call is lazy under it (us__op_begin), never blocking in the kernel. */
static inline int us__op_bounded(const us__op_t *op) {
  return op->timeout > 0 ||
         (op->timeout < 0 && us__thread_deadline != US_DEADLINE_NONE);
}
/* Its deadline, when bounded: the sooner of the two. */
static inline int64_t us__op_deadline(const us__op_t *op) {
  int64_t dl = us__thread_deadline;
  if (op->timeout <= 0)
    return dl;
  return dl != US_DEADLINE_NONE && dl < op->deadline ? dl : op->deadline;
}

/* The hooks in force (never NULL). */
extern const us_host_t *us__host;

/* Under a host that releases a lock, every socket's descriptor is
 * non-blocking from its birth to its detach, whatever its timeout:
 * blocking and timed calls are emulated by the core's waits, so that no
 * call ever blocks in the kernel outside one (where a signal cannot slip
 * by), and a timeout is set without a system call. Without such a host
 * (plain C), a blocking socket's descriptor blocks and its calls are the
 * kernel's own. Chosen at birth from the host in force: hence
 * us_set_host's rule, "once, before any socket is used". */
static inline int us__emulated(void) {
  /* A platform whose blocked calls another thread's close cannot wake
   * (US__KERNEL_WAKES 0: lwIP's sockets) emulates them always. */
  return !US__KERNEL_WAKES || us__host->unlock != NULL;
}

#endif /* US_CORE_H */
