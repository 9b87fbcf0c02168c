/* posix/signals.c: holding signals around a wait, so that the wait itself
 * lets them in (ppoll/epoll_pwait with the kept mask). */
#include "signals.h"
#include "../backend.h"

#include <pthread.h>
#include <stddef.h>

/* Per thread: how deep the holds go, and the mask before the outermost. */
static _Thread_local int depth;
static _Thread_local sigset_t kept;

void us__sys_hold_signals(void) {
  if (depth++ == 0) {
    /* All but the faults the thread raises itself: blocked, these would
     * kill the process at once, past any handler (faulthandler, ASan). */
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    sigset_t all;
    sigfillset(&all);
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
      sigdelset(&all, faults[i]);
    pthread_sigmask(SIG_BLOCK, &all, &kept);
  }
}

void us__sys_release_signals(void) {
  if (depth > 0 && --depth == 0)
    pthread_sigmask(SIG_SETMASK, &kept, NULL);
}

void us__sys_reset_signals(void) {
  if (depth > 0) {
    depth = 0;
    pthread_sigmask(SIG_SETMASK, &kept, NULL);
  }
}

const sigset_t *us__posix_wait_mask(void) { return depth ? &kept : NULL; }
