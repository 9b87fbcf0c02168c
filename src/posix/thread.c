/* posix/thread.c: what the core's locks need from the platform: waiting
 * for a lock word to change, waking a waiter, and hearing of a fork. */
#define _GNU_SOURCE
#include "../backend.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

int us__sys_lock_wait(uint32_t *word, uint32_t value, int64_t timeout_ns) {
  struct timespec ts, *limit = NULL;
#ifdef __linux__
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    limit = &ts;
  }
  /* Not FUTEX_PRIVATE_FLAG: a socket may live in memory shared with
   * another process. */
  if (syscall(SYS_futex, word, FUTEX_WAIT, value, limit, NULL, 0) < 0)
    return errno == EINTR ? -EINTR : 0; /* changed, or the time passed */
  return 0;
#else
  /* No futex: look again soon; the caller re-checks the word and the
   * deadline either way. */
  (void)word;
  (void)value;
  (void)limit;
  ts.tv_sec = 0;
  ts.tv_nsec =
      timeout_ns >= 0 && timeout_ns < 1000000 ? (long)timeout_ns : 1000000;
  return nanosleep(&ts, NULL) < 0 && errno == EINTR ? -EINTR : 0;
#endif
}

void us__sys_lock_wake(uint32_t *word, int all) {
#ifdef __linux__
  syscall(SYS_futex, word, FUTEX_WAKE, all ? INT_MAX : 1, NULL, NULL, 0);
#else
  (void)word;
  (void)all;
#endif
}

static void (*on_fork)(void);
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void child(void) { __atomic_load_n(&on_fork, __ATOMIC_RELAXED)(); }

static void watch(void) { pthread_atfork(NULL, NULL, child); }

void us__sys_on_fork(void (*fn)(void)) {
  __atomic_store_n(&on_fork, fn, __ATOMIC_RELAXED);
  pthread_once(&fork_once, watch);
}
