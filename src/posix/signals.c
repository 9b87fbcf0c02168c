/* posix/signals.c: holding signals around a wait, so that the wait itself
 * lets them in (ppoll/epoll_pwait with the kept mask). */
#include "signals.h"
#include "../backend.h"

#include <pthread.h>

/* Per thread: how deep the holds go, and the mask before the outermost. */
static _Thread_local int depth;
static _Thread_local sigset_t kept;

void us__sys_hold_signals(void) {
  if (depth++ == 0) {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &kept);
  }
}

void us__sys_release_signals(void) {
  if (depth > 0 && --depth == 0)
    pthread_sigmask(SIG_SETMASK, &kept, NULL);
}

const sigset_t *us__posix_wait_mask(void) { return depth ? &kept : NULL; }
