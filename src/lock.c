/* lock.c: what keeps an object's state whole when threads share it, and
 * apart when a process forks: the per-side locks and the busy count.
 *
 * Both carry the fork generation they were taken in. A child counts one
 * generation more than its parent (the backend's fork hook), so that what
 * its parent's threads held (a lock, a busy count) is seen as free in the
 * child, whose copies of those threads do not exist. */
#include "core.h"

#include <errno.h>

#define FREE 0u
#define HELD US__LOCK_HELD
#define WAITED US__LOCK_WAITED
#define STATE US__LOCK_STATE
#define GEN_SHIFT US__LOCK_GEN_SHIFT

/* Busy words: the count in the low bits, the generation above them. */
#define COUNT_BITS 20
#define COUNT ((1u << COUNT_BITS) - 1)

uint32_t us__fork_gen __attribute__((visibility("hidden")));

static void forked(void) {
  __atomic_add_fetch(&us__fork_gen, 1, __ATOMIC_RELAXED);
}

static uint32_t gen(void) { return us__gen(); }

void us__fork_watch(void) { us__sys_on_fork(forked); }

/* ---- busy count ------------------------------------------------------- */

static uint32_t busy_gen(uint32_t w) { return w >> COUNT_BITS; }

static uint32_t short_gen(uint32_t g) { return g & (UINT32_MAX >> COUNT_BITS); }

/* The first hold in a child of a count from its parent: that count is
 * none, and becomes ours alone (a thread adding to the stale count
 * meanwhile comes here too, and adds to ours). Out of line: it happens
 * once per socket and fork, and the usual hold stays small. */
__attribute__((noinline, cold)) static void hold_stale(us_socket_t *s,
                                                       uint32_t g) {
  uint32_t w = __atomic_load_n(&s->busy, __ATOMIC_RELAXED), want;
  do
    want = busy_gen(w) == short_gen(g) ? w + 1 : (g << COUNT_BITS) | 1;
  while (!__atomic_compare_exchange_n(&s->busy, &w, want, 1, __ATOMIC_SEQ_CST,
                                      __ATOMIC_RELAXED));
}

uint32_t us__socket_hold(us_socket_t *s) {
  uint32_t g = gen();
  uint32_t w = __atomic_fetch_add(&s->busy, 1, __ATOMIC_SEQ_CST);
  if (busy_gen(w) != short_gen(g))
    hold_stale(s, g);
  return g;
}

unsigned us__socket_busy(const us_socket_t *s) {
  uint32_t w = __atomic_load_n(&s->busy, __ATOMIC_SEQ_CST);
  return busy_gen(w) == short_gen(gen()) ? w & COUNT : 0;
}

void us__socket_release(us_socket_t *s, uint32_t held_in) {
  if (held_in != gen())
    return; /* held before a fork, by a thread this process lacks */
  uint32_t w = __atomic_fetch_sub(&s->busy, 1, __ATOMIC_SEQ_CST);
  /* The last user of a socket closed meanwhile closes its descriptor for
   * real. */
  if ((w & COUNT) == 1) {
    int fd = __atomic_exchange_n(&s->zombie_fd, -1, __ATOMIC_SEQ_CST);
    if (fd >= 0)
      us__socket_close_fd(s, fd);
  }
}

/* ---- locks ------------------------------------------------------------ */

_Thread_local uint32_t us__self
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Numbers from 1 up; after 2^32 - 1 threads they would repeat, and two
 * threads sharing one could only see a false -EDEADLK. */
__attribute__((noinline, cold)) uint32_t us__self_assign(void) {
  static uint32_t last;
  uint32_t me;
  while ((me = __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED)) == 0)
    ;
  return us__self = me;
}

void us__lock_init(us__lock_t *l) {
  l->word = FREE;
  l->owner = 0;
}

/* Takes l if it is free, or was held in another generation, as `as`
 * (HELD, or WAITED after a wait: others may still be waiting). */
static int take(us__lock_t *l, uint32_t w, uint32_t as) {
  uint32_t mine = us__gen() << GEN_SHIFT;
  if ((w & ~STATE) == mine && (w & STATE) != FREE)
    return 0;
  if (!__atomic_compare_exchange_n(&l->word, &w, mine | as, 0, __ATOMIC_ACQUIRE,
                                   __ATOMIC_RELAXED))
    return 0;
  __atomic_store_n(&l->owner, us__self_id(), __ATOMIC_RELAXED);
  return 1;
}

int us__lock_try_stale(us__lock_t *l, uint32_t w) { return take(l, w, HELD); }

void us__lock_wake(us__lock_t *l) { us__sys_lock_wake(&l->word, 0); }

void us__lock_wake_all(us__lock_t *l) { us__sys_lock_wake(&l->word, 1); }

static int lock_wait(us__op_t *op, us__lock_t *l, int nowait, int *slept);

int us__op_lock_wait(us__op_t *op, us__lock_t *l, int nowait) {
  int slept = 0, r = lock_wait(op, l, nowait, &slept);
  /* A waiter that leaves without the lock (closed, timed out, a signal)
   * may have taken the wake meant for the next one: it passes it on, or
   * that one would sleep on to its deadline. A spare wake costs the one
   * it wakes only a look at the word. */
  if (r < 0 && slept)
    us__lock_wake(l);
  return r;
}

static int lock_wait(us__op_t *op, us__lock_t *l, int nowait, int *slept) {
  us_socket_t *s = op->s;
  uint32_t as = HELD;
  for (;;) {
    uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
    if (take(l, w, as))
      break;
    if ((w & STATE) == FREE)
      continue; /* freed meanwhile: try again */
    /* This thread holds it already: a signal handler, or a callback run
     * during the call, uses the object the call is using. Waiting would
     * never end. */
    if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == us__self_id())
      return -EDEADLK;
    if (nowait || op->timeout == 0)
      return -EAGAIN;
    int64_t left = -1;
    if (us__op_bounded(op) && (left = us__op_deadline(op) - us__sys_now()) <= 0)
      return -ETIMEDOUT;
    uint32_t waited = (w & ~STATE) | WAITED;
    if ((w & STATE) == HELD &&
        !__atomic_compare_exchange_n(&l->word, &w, waited, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED))
      continue;
    as = WAITED;
    /* Waits without the host's lock: the holder may need it to finish. */
    us__op_unlock(op);
    *slept = 1;
    us__op_call(op)->waiting = l;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    int r = us__sys_lock_wait(&l->word, waited, left);
    op->call->waiting = NULL;
    if (r == -EINTR && (r = us__op_retry(op, r, 0)) < 0)
      return r;
    if (us__fd(s) <
        0) /* closed meanwhile: its holder was woken, and so are we */
      return -EBADF;
  }
  if (us__fd(s) < 0) { /* closed while we waited */
    us__lock_drop(l);
    return -EBADF;
  }
  return 0;
}
