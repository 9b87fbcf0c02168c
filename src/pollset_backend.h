/* pollset_backend.h: the seam between a poll set's registry (pollset.c)
 * and one kernel readiness API (src/pollset_poll.c on the backend's poll,
 * src/posix/pollset_epoll.c).
 *
 * The registry owns what is registered, the masks, one-shot arming and the
 * objects' data; a backend only mirrors "watch fd for these events" into
 * the kernel, as redis's ae_*.c do. Every function but wait is called with
 * the host's lock held; wait may run without it, concurrently with add,
 * modify and remove, so it touches only what prepare readied for it.
 */
#ifndef US_POLLSET_BACKEND_H
#define US_POLLSET_BACKEND_H

#include "usocket.h"

/* The events a backend is told to watch for an entry that must report
 * nothing at all (disarmed by a one-shot wait). */
#define US__POLL_OFF (-1)

typedef struct us__pollset_ops {
  const char *name;
  /* *impl receives the backend's state. */
  int (*init)(void **impl);
  void (*free)(void *impl);
  /* The entry at `slot` (the registry's dense index; it appends, so slot
   * is the old count) starts watching fd for events (US_POLLIN|US_POLLOUT
   * bits, maybe 0, or US__POLL_OFF). A descriptor that is not open: -EBADF. */
  int (*add)(void *impl, size_t slot, int fd, int events);
  /* The entry at slot changes from old to events (either may be OFF). */
  int (*modify)(void *impl, size_t slot, int fd, int old, int events);
  /* The entry at slot goes; the registry moves its entry `last` into
   * slot, and the backend must do the same with its own mirror. */
  int (*remove)(void *impl, size_t slot, int fd, int old, size_t last);
  /* Before each wait: room for max results, a snapshot if wait needs one. */
  int (*prepare)(void *impl, size_t max);
  /* One kernel wait of at most timeout_ns (< 0: no limit) into out[0..max):
   * fd and US_POLL* events only. Returns the count (> 0), 0 when the time
   * passed, or a negative errno (-EINTR included); never retries. */
  int (*wait)(void *impl, us_pollev_t *out, size_t max, int64_t timeout_ns);
} us__pollset_ops_t;

/* poll(2): everywhere; costs O(registered) per wait. */
extern const us__pollset_ops_t us__pollset_poll_ops;
/* The platform's best (epoll on Linux, else poll); the backend says. */
const us__pollset_ops_t *us__pollset_best_ops(void);

/* A timeout in nanoseconds as poll(2)'s and epoll_wait's milliseconds:
 * rounded up (waking early would only cost a spurious retry), clamped. */
static inline int us__poll_ms(int64_t timeout_ns) {
  if (timeout_ns < 0)
    return -1;
  if (timeout_ns >= (int64_t)1000000 * 0x7fffffff)
    return 0x7fffffff;
  return (int)((timeout_ns + 999999) / 1000000);
}

#endif /* US_POLLSET_BACKEND_H */
