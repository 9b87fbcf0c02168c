/* posix/signals.h: what the POSIX backend's waits share (backend.c and
 * the poll sets' backends): the mask to wait with while the core holds
 * signals (us__sys_hold_signals), and the wait's time limit. */
#ifndef US_POSIX_SIGNALS_H
#define US_POSIX_SIGNALS_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

/* The calling thread's mask from before the hold, or NULL when signals
 * are not held (a wait then keeps the mask as it is). */
const sigset_t *us__posix_wait_mask(void);

/* A timeout in nanoseconds as ppoll's limit in *ts; NULL (no limit) when
 * timeout_ns < 0. */
static inline struct timespec *us__posix_limit(int64_t timeout_ns,
                                               struct timespec *ts) {
  if (timeout_ns < 0)
    return NULL;
  ts->tv_sec = (time_t)(timeout_ns / 1000000000);
  ts->tv_nsec = (long)(timeout_ns % 1000000000);
  return ts;
}

#endif /* US_POSIX_SIGNALS_H */
