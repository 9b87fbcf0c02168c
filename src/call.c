/* call.c: blocking calls: the host's lock, deadlines, EINTR and waiting. */
#include "core.h"

#include <errno.h>
#include <limits.h>

_Thread_local us__calls_t us__calls
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
_Thread_local int64_t us__thread_deadline
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

int64_t us_set_deadline(int64_t deadline_ns) {
  int64_t was = us__thread_deadline;
  us__thread_deadline = deadline_ns;
  return was;
}

int64_t us_now(void) { return us__sys_now(); }

int64_t us__deadline_of(int64_t timeout_ns) {
  int64_t dl = us__thread_deadline, now = us__sys_now();
  int64_t mine =
      timeout_ns < 0 || timeout_ns > INT64_MAX - now ? -1 : now + timeout_ns;
  if (dl != US_DEADLINE_NONE && (mine < 0 || dl < mine))
    mine = dl < 0 ? 0 : dl;
  return mine;
}

static const us_host_t plain_c_host = {NULL, NULL, NULL, NULL, 0};
const us_host_t *us__host = &plain_c_host;

void us_set_host(const us_host_t *host) {
  us__host = host ? host : &plain_c_host;
}

static void host_unlock(us__op_t *op) {
  if (!op->unlocked && us__host->unlock) {
    us__op_full(op);
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
  op->held = NULL;
  op->fd = us__fd(s);
  if (op->fd < 0)
    return -EBADF;
  if (s->pending_err) { /* held back behind bytes already returned */
    int err = s->pending_err;
    s->pending_err = 0;
    return err;
  }
  /* Another thread's us_settimeout() may store it meanwhile: the call
   * keeps the value it read here. */
  op->timeout = __atomic_load_n(&s->timeout_ns, __ATOMIC_RELAXED);
  op->guard = -1;
  if (op->timeout == 0 && us__host->exclusive) {
    /* Brief: s stays open (a close takes the host's lock), and nothing
     * unwinds it. */
    op->call = NULL;
    op->lazy = 0;
    return 0;
  }
  us__call_enter(op);
  us__call_t *c = op->call;
  /* Recorded after the hold, not before: a host unwinding in between
   * would leave the count raised (the descriptor's close put off), never
   * one too low under another thread's call. */
  c->held_in = op->held_in = us__socket_hold(s);
  c->s = s;
  if (__atomic_load_n(&s->fd, __ATOMIC_SEQ_CST) < 0) {
    us__call_leave();
    us__socket_release(s, op->held_in); /* closed before it saw our hold */
    return -EBADF;
  }
  if (op->timeout > 0)
    op->deadline = us__sys_now() + op->timeout;
  /* The lock is released by us__op_unlock(), right before the first
   * system call that may block, not here: room made in a sink first, or a
   * small send that fits at once, then costs no round trip of the lock
   * (about 330 instructions under CPython). A non-blocking call never
   * waits, so it keeps the lock throughout. */
  op->lazy = op->timeout != 0 &&
             (us__emulated() ||
              __builtin_expect(us__thread_deadline != US_DEADLINE_NONE, 0));
  return 0;
}

void us__op_full(us__op_t *op) {
  if (op->call)
    return;
  us__call_enter(op);
  us__call_t *c = op->call;
  c->held_in = op->held_in = us__socket_hold(op->s);
  c->s = op->s;
  c->held = op->held;
}

void us__op_unlock_now(us__op_t *op) { host_unlock(op); }

void us__op_end(us__op_t *op) {
  if (op->held) /* first: a waiter need not wait for our host lock too */
    us__lock_drop(op->held);
  if (!op->call)
    return; /* brief: it kept the host's lock, and held nothing else */
  host_lock(op);
  us__call_leave();
  us__socket_release(op->s, op->held_in);
}

/* Runs the host's signal check, its lock held for it and left as it was;
 * only_guarded: in the thread that handles signals only. */
static int run_checks(us__op_t *op, int only_guarded) {
  if (!us__host->check_signals || (only_guarded && op->guard == 0))
    return 0;
  us__op_full(op); /* a handler may close s */
  int was_unlocked = op->unlocked;
  host_lock(op);
  int r = !only_guarded || us__op_guarded(op) ? us__host->check_signals() : 0;
  if (was_unlocked)
    host_unlock(op);
  return r;
}

static int after_signal(us__op_t *op) { return run_checks(op, 0); }

int us__op_signals(us__op_t *op) { return run_checks(op, 1); }

int us__op_guarded(us__op_t *op) {
  if (op->guard < 0)
    op->guard = us__host->check_signals &&
                (!us__host->handles_signals || us__host->handles_signals());
  return op->guard;
}

/* One kernel wait of at most left_ns, run by wait(arg, left_ns) with the
 * lock released. In the thread that handles signals, the host's check runs
 * first, and a signal that comes after it must not go unseen until the
 * wait ends. The wait's first US__GLANCE_NS are a plain wait: most end
 * sooner (a reply on its way), and holding signals costs two more system
 * calls, a tenth of a loopback round trip; a signal that slipped in before
 * the glance is seen when it ends. The rest of the wait holds signals from
 * a second check to the kernel wait, which lets them in atomically: one
 * that comes at any moment interrupts it (-EINTR). The check's error, if
 * any, is returned in *host_err (and as the result), the wait not made. */
static int guarded_wait(us__op_t *op, int (*wait)(void *, int64_t), void *arg,
                        int64_t left_ns, int *host_err) {
  *host_err = 0;
  us__op_full(op);
  if (op->guard != 0) { /* asking the host takes the lock */
    host_lock(op);
    if (us__op_guarded(op)) {
      int r = *host_err = us__host->check_signals();
      if (r < 0)
        return r;
      host_unlock(op);
      int64_t t0 = us__sys_now(), glance = US__GLANCE_NS;
      r = wait(arg, left_ns >= 0 && left_ns < glance ? left_ns : glance);
      if (r != 0 || left_ns == 0)
        return r;
      if (left_ns > 0 && (left_ns -= us__sys_now() - t0) <= 0)
        return 0;
      host_lock(op);
      op->call->signals = 1; /* before the hold: see us_abandon_calls */
      __atomic_signal_fence(__ATOMIC_SEQ_CST);
      us__sys_hold_signals();
      r = *host_err = us__host->check_signals();
      if (r == 0) {
        host_unlock(op);
        r = wait(arg, left_ns);
      }
      us__sys_release_signals();
      __atomic_signal_fence(__ATOMIC_SEQ_CST);
      op->call->signals = 0;
      return r;
    }
  }
  host_unlock(op);
  return wait(arg, left_ns);
}

typedef struct fd_wait {
  int fd, events;
} fd_wait_t;

static int wait_fd(void *arg, int64_t left_ns) {
  fd_wait_t *w = arg;
  return us__sys_wait(w->fd, w->events, left_ns);
}

int us__op_wait(us__op_t *op, int events) {
  us_socket_t *s = op->s;
  fd_wait_t w = {op->fd, events};
  if (op->timeout == 0)
    return -EAGAIN;
  for (;;) {
    int64_t left = -1;
    if (us__op_bounded(op)) {
      left = us__op_deadline(op) - us__sys_now();
      if (left <= 0)
        return -ETIMEDOUT;
    }
    int stop, r = guarded_wait(op, wait_fd, &w, left, &stop);
    if (stop)
      return stop;
    if (us__fd(s) < 0) /* closed by another thread, which woke the wait */
      return -EBADF;
    if (r > 0)
      return 0; /* ready, or an error the next call will report */
    if (r == 0)
      return -ETIMEDOUT;
    if (r != -EINTR)
      return r;
    if ((r = after_signal(op)) < 0)
      return r;
    if (us__fd(s) < 0) /* closed by a signal handler */
      return -EBADF;
  }
}

int us__op_retry(us__op_t *op, int err, int events) {
  if (us__fd(op->s) < 0) /* closed by another thread meanwhile */
    return -EBADF;
  if (err == -EINTR) {
    int r = after_signal(op);
    if (r < 0)
      return r;
    if (us__fd(op->s) < 0)
      return -EBADF;
    /* A storm of signals must not outlast the deadline: without this
     * check a call retried on each EINTR would never time out. */
    if (us__op_bounded(op) && us__sys_now() >= us__op_deadline(op))
      return -ETIMEDOUT;
    return 0;
  }
  if (err == -EAGAIN || err == -EWOULDBLOCK) {
    /* Without a host, a blocking call's descriptor is blocking, and
     * reports EAGAIN only for SO_RCVTIMEO and the like (the caller's own
     * timeout, passed on), or because another thread's us_settimeout()
     * made it non-blocking meanwhile (the call keeps its own: it waits). */
    if (op->timeout < 0 && !op->lazy &&
        __atomic_load_n(&op->s->timeout_ns, __ATOMIC_RELAXED) < 0)
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
  us__op_full(op);
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

ssize_t us__held_back(us_socket_t *s, size_t done, int err) {
  if (done == 0)
    return err;
  /* A TLS error stays with its stream, which reports it again itself. */
  if (err < 0 && lasting(err) && us__fd(s) >= 0 &&
      !(err <= US_TLS_BASE && err >= US_TLS_ERR_LAST))
    s->pending_err = (int16_t)(err >= INT16_MIN ? err : -EIO);
  return (ssize_t)done;
}

ssize_t us__op_finish(us__op_t *op, size_t done, int err) {
  us__op_end(op);
  return us__held_back(op->s, done, err);
}

size_t us__sink_clamp(const us_sink_t *sink, size_t max) {
  size_t room = sink->cap - sink->len;
  return !sink->grow && max > room ? room : max;
}

ssize_t us__sink_room(us__op_t *op, us_sink_t *sink, size_t want) {
  if (sink->grow && sink->cap - sink->len < want) {
    if (want > (size_t)US__SSIZE_MAX - sink->len)
      want = (size_t)US__SSIZE_MAX - sink->len;
    int r = us__op_grow(op, sink, sink->len + want);
    if (r < 0)
      return r;
  }
  size_t room = sink->cap - sink->len;
  return (ssize_t)(room < want ? room : want);
}

static int waiter_wait(void *w, int64_t left_ns) {
  return ((us__waiter_t *)w)->wait(w, left_ns);
}

static int wait_run(us__op_t *op, us__waiter_t *w, int64_t timeout_ns);

int us__wait_run(us__waiter_t *w, int64_t timeout_ns) {
  /* Only its lock, guard and record (for the signals its waits hold) are
   * used. */
  us__op_t op = {.fd = -1, .guard = -1};
  us__call_enter(&op);
  int r = wait_run(&op, w, timeout_ns);
  us__call_leave();
  return r;
}

static int wait_run(us__op_t *op, us__waiter_t *w, int64_t timeout_ns) {
  int64_t deadline = 0, now = us__sys_now();
  if (timeout_ns != 0 && us__thread_deadline != US_DEADLINE_NONE) {
    /* The thread's deadline, if sooner: a check once it has passed. */
    deadline = us__deadline_of(timeout_ns);
    timeout_ns = deadline > now ? deadline - now : 0;
  }
  if (timeout_ns > INT64_MAX - now) /* centuries away: no limit at all */
    timeout_ns = -1;
  else if (timeout_ns > 0)
    deadline = now + timeout_ns;
  for (;;) {
    int64_t left = timeout_ns;
    if (timeout_ns > 0) {
      left = deadline - us__sys_now();
      if (left < 0)
        left = 0;
    }
    int r = w->prepare(w);
    if (r < 0)
      return r;
    /* A zero-time check never waits: it keeps the lock, holds nothing. */
    int stop = 0;
    r = left ? guarded_wait(op, waiter_wait, w, left, &stop) : w->wait(w, 0);
    host_lock(op);
    if (stop)
      return stop;
    if (r == -EINTR) {
      /* The same rule as after_signal(): the host's handlers run, and
       * their error ends the call; the deadline stays where it was, so a
       * storm of signals cannot outlast it. */
      if (us__host->check_signals && (r = us__host->check_signals()) < 0)
        return r;
      if (left == 0)
        return 0;
      continue;
    }
    if (r <= 0)
      return r;
    r = w->done(w, r);
    if (r != -EAGAIN || left == 0)
      return r == -EAGAIN ? 0 : r;
  }
}

unsigned us_calls_in_progress(void) { return us__calls.depth; }

/* Whether this thread holds l now (in this process's generation). */
static int mine(const us__lock_t *l) {
  uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
  return (w & US__LOCK_STATE) != 0 &&
         (w & ~US__LOCK_STATE) == us__gen() << US__LOCK_GEN_SHIFT &&
         __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == us__self;
}

/* Whether a call that stays (one of the first `keep`) names l: a nested
 * call using the object its outer call holds never took it itself. */
static int kept(const us__lock_t *l, unsigned keep) {
  for (unsigned i = 0; i < keep && i < US__CALLS_MAX; i++)
    if (us__calls.at[i].held == l)
      return 1;
  return 0;
}

void us_abandon_calls(unsigned keep) {
  while (us__calls.depth > keep) {
    unsigned i = us__calls.depth - 1;
    us__call_t c = us__calls.at[i < US__CALLS_MAX ? i : US__CALLS_MAX];
    if (i >= US__CALLS_MAX)
      c = (us__call_t){0}; /* not recorded: nothing known to give back */
    if (c.held && mine(c.held) && !kept(c.held, keep)) {
      /* What readline knew of the queue may be half updated. */
      if (c.s && c.held == &c.s->rx_lock)
        us__rx_forget(c.s);
      us__lock_drop(c.held);
    }
    if (c.waiting) /* the wake it may have taken is the next one's */
      us__lock_wake(c.waiting);
    if (c.signals)
      us__sys_release_signals();
    if (c.lookup)
      us__sys_lookup_abandon(c.lookup);
    us__calls.at[i < US__CALLS_MAX ? i : US__CALLS_MAX] = (us__call_t){0};
    us__calls.depth = i;
    if (c.s)
      us__socket_release(c.s, c.held_in);
  }
  /* With no call left in this thread, none holds signals either. */
  if (keep == 0)
    us__sys_reset_signals();
}
