/* lwip/wait.c: waiting on lwIP: lwip_poll for descriptors, lwIP's clock
 * and sleep for the rest. lwIP knows no signals, so there are none to
 * hold and no EINTR. */
#include "../pollset_backend.h"
#include "lwip_sys.h"

#include <stdint.h>

/* A lookup is over when it starts (see names.c): its descriptor is this
 * number, which no socket has, and is ready at once. */
#define US__LWIP_DONE_FD (-2)

int us__sys_wait(int fd, int events, int64_t timeout_ns) {
  if (fd == US__LWIP_DONE_FD)
    return events & US__IN;
  struct pollfd p = {.fd = fd, .events = us__lwip_to_poll(events)};
  int r = lwip_poll(&p, 1, us__poll_ms(timeout_ns));
  if (r < 0)
    return us__lwip_errno();
  return r == 0 ? 0 : us__lwip_from_poll(p.revents);
}

int us__sys_wait_many(const int *fds, const int *events, int *ready, int n,
                      int64_t timeout_ns) {
  struct pollfd p[US__WAIT_MANY_MAX];
  if (n < 0 || n > US__WAIT_MANY_MAX)
    return -EINVAL;
  for (int i = 0; i < n; i++) {
    p[i].fd = fds[i];
    p[i].events = us__lwip_to_poll(events[i]);
    p[i].revents = 0;
  }
  int r = lwip_poll(p, (nfds_t)n, us__poll_ms(timeout_ns));
  if (r < 0)
    return us__lwip_errno();
  for (int i = 0; i < n; i++)
    ready[i] = us__lwip_from_poll(p[i].revents);
  return r;
}

int us__sys_poll(us__pollfd_t *fds, size_t n, int64_t timeout_ns) {
  int r = lwip_poll(fds, (nfds_t)n, us__poll_ms(timeout_ns));
  return r < 0 ? us__lwip_errno() : r;
}

int us__sys_check_open(int fd) {
  return lwip_fcntl(fd, F_GETFL, 0) < 0 ? (errno ? -errno : -EBADF) : 0;
}

/* lwIP has no other readiness API than its poll. */
const us__pollset_ops_t *us__pollset_best_ops(void) {
  return &us__pollset_poll_ops;
}

void us__sys_hold_signals(void) {}
void us__sys_release_signals(void) {}
void us__sys_reset_signals(void) {}

int64_t us__sys_now(void) {
  /* sys_now() counts milliseconds in 32 bits: the wraps are counted here,
   * so that a deadline outlives the 49.7 days. */
  static uint32_t last, wraps;
  SYS_ARCH_DECL_PROTECT(lev);
  SYS_ARCH_PROTECT(lev);
  uint32_t ms = sys_now();
  if (ms < last)
    wraps++;
  last = ms;
  uint64_t full = ((uint64_t)wraps << 32) | ms;
  SYS_ARCH_UNPROTECT(lev);
  return (int64_t)full * 1000000;
}

int us__sys_lock_wait(uint32_t *word, uint32_t value, int64_t timeout_ns) {
  /* No futex: look again after lwIP's shortest sleep; the caller re-checks
   * the word and its deadline either way. */
  if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == value && timeout_ns != 0)
    sys_msleep(1);
  return 0;
}

void us__sys_lock_wake(uint32_t *word, int all) { (void)word, (void)all; }

/* lwIP's systems do not fork. */
void us__sys_on_fork(void (*fn)(void)) { (void)fn; }
