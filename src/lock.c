/* lock.c: what keeps an object's state whole when threads share it, and
 * apart when a process forks: the per-side locks and the busy count.
 *
 * Both carry the fork generation they were taken in. A child counts one
 * generation more than its parent (the backend's fork hook), so that what
 * its parent's threads held (a lock, a busy count) is seen as free in the
 * child, whose copies of those threads do not exist. */
#include "core.h"

#include <errno.h>

/* Lock words: the state in the low bits, the generation above them. */
#define FREE 0u
#define HELD 1u
#define WAITED 2u /* held, and someone may be waiting to be woken */
#define STATE 3u
#define GEN_SHIFT 2

/* Busy words: the count in the low bits, the generation above them. */
#define COUNT_BITS 20
#define COUNT ((1u << COUNT_BITS) - 1)

static uint32_t fork_gen;
/* Each thread's own address: the owner of what it holds. */
static _Thread_local char me;

static void forked(void) { __atomic_add_fetch(&fork_gen, 1, __ATOMIC_RELAXED); }

static uint32_t gen(void) {
  return __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);
}

void us__fork_watch(void) { us__sys_on_fork(forked); }

/* ---- busy count ------------------------------------------------------- */

static uint32_t busy_word(uint32_t g, uint32_t count) {
  return (g << COUNT_BITS) | count;
}

void us__socket_hold(us_socket_t *s) {
  uint32_t g = gen(), w = __atomic_load_n(&s->busy, __ATOMIC_RELAXED);
  uint32_t want;
  do /* a count from another generation is none */
    want = busy_word(g, (w >> COUNT_BITS == (g & (UINT32_MAX >> COUNT_BITS))
                             ? (w & COUNT)
                             : 0) +
                            1);
  while (!__atomic_compare_exchange_n(&s->busy, &w, want, 1, __ATOMIC_SEQ_CST,
                                      __ATOMIC_RELAXED));
}

unsigned us__socket_busy(const us_socket_t *s) {
  uint32_t w = __atomic_load_n(&s->busy, __ATOMIC_SEQ_CST);
  uint32_t g = gen() & (UINT32_MAX >> COUNT_BITS);
  return w >> COUNT_BITS == g ? w & COUNT : 0;
}

void us__socket_release(us_socket_t *s) {
  uint32_t g = gen() & (UINT32_MAX >> COUNT_BITS);
  uint32_t w = __atomic_load_n(&s->busy, __ATOMIC_RELAXED);
  do {
    if (w >> COUNT_BITS != g || (w & COUNT) == 0)
      return; /* held before a fork, by a thread this process lacks */
  } while (!__atomic_compare_exchange_n(&s->busy, &w, w - 1, 1,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
  /* The last user of a socket closed meanwhile closes its descriptor for
   * real. */
  if ((w & COUNT) == 1) {
    int fd = __atomic_exchange_n(&s->zombie_fd, -1, __ATOMIC_SEQ_CST);
    if (fd >= 0)
      us__sys_close(fd);
  }
}

/* ---- locks ------------------------------------------------------------ */

void us__lock_init(us__lock_t *l) {
  l->word = FREE;
  l->owner = NULL;
}

static void took(us__lock_t *l) {
  __atomic_store_n(&l->owner, (const void *)&me, __ATOMIC_RELAXED);
}

/* Takes l if it is free, or was held in another generation, as `as`
 * (HELD, or WAITED after a wait: others may still be waiting). */
static int take(us__lock_t *l, uint32_t w, uint32_t as) {
  uint32_t mine = gen() << GEN_SHIFT;
  if ((w & ~STATE) == mine && (w & STATE) != FREE)
    return 0;
  if (!__atomic_compare_exchange_n(&l->word, &w, mine | as, 0, __ATOMIC_ACQUIRE,
                                   __ATOMIC_RELAXED))
    return 0;
  took(l);
  return 1;
}

int us__lock_try(us__lock_t *l) {
  return take(l, __atomic_load_n(&l->word, __ATOMIC_RELAXED), HELD);
}

void us__lock_drop(us__lock_t *l) {
  __atomic_store_n(&l->owner, NULL, __ATOMIC_RELAXED);
  uint32_t w = __atomic_fetch_and(&l->word, ~STATE, __ATOMIC_RELEASE);
  if ((w & STATE) == WAITED)
    us__sys_lock_wake(&l->word);
}

static int lock_wait(us__op_t *op, us__lock_t *l, int nowait) {
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
    if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == &me)
      return -EDEADLK;
    if (nowait || s->timeout_ns == 0)
      return -EAGAIN;
    int64_t left = -1;
    if (s->timeout_ns > 0 && (left = op->deadline - us__sys_now()) <= 0)
      return -ETIMEDOUT;
    uint32_t waited = (w & ~STATE) | WAITED;
    if ((w & STATE) == HELD &&
        !__atomic_compare_exchange_n(&l->word, &w, waited, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED))
      continue;
    as = WAITED;
    /* Waits without the host's lock: the holder may need it to finish. */
    us__op_unlock(op);
    int r = us__sys_lock_wait(&l->word, waited, left);
    if (r == -EINTR && (r = us__op_retry(op, r, 0)) < 0)
      return r;
    if (s->fd < 0) /* closed meanwhile: its holder was woken, and so are we */
      return -EBADF;
  }
  if (s->fd < 0) { /* closed while we waited */
    us__lock_drop(l);
    return -EBADF;
  }
  return 0;
}

int us__op_begin_locked(us__op_t *op, us_socket_t *s, us__lock_t *l,
                        int nowait) {
  int r = us__op_begin(op, s);
  if (r == 0 && (r = us__op_lock(op, l, nowait)) < 0)
    us__op_end(op);
  return r;
}

int us__op_lock(us__op_t *op, us__lock_t *l, int nowait) {
  if (us__lock_try(l)) {
    op->held = l;
    return 0;
  }
  int r = lock_wait(op, l, nowait);
  if (r == 0)
    op->held = l;
  return r;
}
