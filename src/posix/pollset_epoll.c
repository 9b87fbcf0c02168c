/* posix/pollset_epoll.c: the poll set's Linux backend, epoll: a wait costs
 * what is ready, not what is registered. */
#include "../pollset_backend.h"
#ifdef __linux__
#include "signals.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct eimpl {
  int epfd;
  struct epoll_event *evs; /* the wait's results; prepare sizes it */
  size_t evcap;
  /* Descriptors epoll refuses (EPERM: regular files, some devices) are
   * always ready, as poll(2) says; they are few, so a plain list. */
  int *always;
  int *always_ev;
  size_t nalways, always_cap;
  /* The wait's copy of that list, taken with the lock held. */
  int *snap_fd;
  int *snap_ev;
  size_t snap_n, snap_cap;
} eimpl_t;

static int neg_errno(void) { return errno ? -errno : -EIO; }

static int e_init(void **impl) {
  eimpl_t *e = calloc(1, sizeof *e);
  if (!e)
    return -ENOMEM;
  e->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (e->epfd < 0) {
    int r = neg_errno();
    free(e);
    return r;
  }
  *impl = e;
  return 0;
}

static void e_free(void *impl) {
  eimpl_t *e = impl;
  close(e->epfd);
  free(e->evs);
  free(e->always);
  free(e->always_ev);
  free(e->snap_fd);
  free(e->snap_ev);
  free(e);
}

static int grow_ints(int **a, int **b, size_t *cap, size_t need) {
  if (need <= *cap)
    return 0;
  size_t c = *cap ? *cap * 2 : 8;
  while (c < need)
    c *= 2;
  int *na = realloc(*a, c * sizeof *na);
  if (!na)
    return -ENOMEM;
  *a = na;
  int *nb = realloc(*b, c * sizeof *nb);
  if (!nb)
    return -ENOMEM;
  *b = nb;
  *cap = c;
  return 0;
}

static void always_drop(eimpl_t *e, int fd) {
  for (size_t i = 0; i < e->nalways; i++)
    if (e->always[i] == fd) {
      e->nalways--;
      e->always[i] = e->always[e->nalways];
      e->always_ev[i] = e->always_ev[e->nalways];
      return;
    }
}

/* fd is always ready for events: listed while it asks for something. */
static int always_set(eimpl_t *e, int fd, int events) {
  always_drop(e, fd);
  events &= US_POLLIN | US_POLLOUT;
  if (!events)
    return 0;
  int r = grow_ints(&e->always, &e->always_ev, &e->always_cap, e->nalways + 1);
  if (r < 0)
    return r;
  e->always[e->nalways] = fd;
  e->always_ev[e->nalways++] = events;
  return 0;
}

static int ctl(eimpl_t *e, int op, int fd, int events) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = ((events & US_POLLIN) ? EPOLLIN : 0) |
              ((events & US_POLLOUT) ? EPOLLOUT : 0);
  ev.data.fd = fd;
  return epoll_ctl(e->epfd, op, fd, &ev) < 0 ? neg_errno() : 0;
}

/* Puts fd in the kernel's set with events, whatever the set holds now:
 * a descriptor closed and reopened under the same number is not in it
 * (ENOENT), one we think absent may be (EEXIST). */
static int watch(eimpl_t *e, int fd, int events, int first_op) {
  int r = ctl(e, first_op, fd, events);
  if (r == -ENOENT)
    r = ctl(e, EPOLL_CTL_ADD, fd, events);
  else if (r == -EEXIST)
    r = ctl(e, EPOLL_CTL_MOD, fd, events);
  if (r == -EPERM) /* epoll cannot watch it: poll(2) would say ready */
    return always_set(e, fd, events);
  if (r == 0)
    always_drop(e, fd);
  return r;
}

/* Takes fd out of the kernel's set. EBADF and ENOENT mean it is out
 * already (closed: the kernel forgot it), which is what was asked. */
static int unwatch(eimpl_t *e, int fd) {
  always_drop(e, fd);
  int r = ctl(e, EPOLL_CTL_DEL, fd, 0);
  return (r == -EBADF || r == -ENOENT || r == -EPERM) ? 0 : r;
}

static int e_add(void *impl, size_t slot, int fd, int events) {
  (void)slot;
  if (events == US__POLL_OFF)
    return 0;
  return watch(impl, fd, events, EPOLL_CTL_ADD);
}

static int e_modify(void *impl, size_t slot, int fd, int old, int events) {
  (void)slot;
  if (events == US__POLL_OFF)
    return old == US__POLL_OFF ? 0 : unwatch(impl, fd);
  return watch(impl, fd, events,
               old == US__POLL_OFF ? EPOLL_CTL_ADD : EPOLL_CTL_MOD);
}

static int e_remove(void *impl, size_t slot, int fd, int old, size_t last) {
  (void)slot;
  (void)last;
  return old == US__POLL_OFF ? 0 : unwatch(impl, fd);
}

static int e_prepare(void *impl, size_t max) {
  eimpl_t *e = impl;
  if (max > e->evcap) {
    /* Grown, never shrunk: a large set would otherwise reallocate on
     * every wait. */
    size_t c = e->evcap ? e->evcap : 16;
    while (c < max)
      c *= 2;
    struct epoll_event *evs = realloc(e->evs, c * sizeof *evs);
    if (!evs)
      return -ENOMEM;
    e->evs = evs;
    e->evcap = c;
  }
  int r = grow_ints(&e->snap_fd, &e->snap_ev, &e->snap_cap, e->nalways);
  if (r < 0)
    return r;
  if (e->nalways) {
    memcpy(e->snap_fd, e->always, e->nalways * sizeof(int));
    memcpy(e->snap_ev, e->always_ev, e->nalways * sizeof(int));
  }
  e->snap_n = e->nalways;
  return 0;
}

static int e_wait(void *impl, us_pollev_t *out, size_t max,
                  int64_t timeout_ns) {
  eimpl_t *e = impl;
  size_t k = 0;
  /* Always-ready descriptors end the wait at once. */
  for (; k < e->snap_n && k < max; k++) {
    out[k].fd = e->snap_fd[k];
    out[k].events = e->snap_ev[k];
  }
  if (k == max)
    return (int)k;
  int n = epoll_pwait(e->epfd, e->evs, (int)(max - k),
                      k ? 0 : us__poll_ms(timeout_ns), us__posix_wait_mask());
  if (n < 0)
    return k ? (int)k : neg_errno();
  for (int i = 0; i < n; i++, k++) {
    uint32_t re = e->evs[i].events;
    out[k].fd = e->evs[i].data.fd;
    out[k].events =
        ((re & EPOLLIN) ? US_POLLIN : 0) | ((re & EPOLLOUT) ? US_POLLOUT : 0) |
        ((re & EPOLLERR) ? US_POLLERR : 0) | ((re & EPOLLHUP) ? US_POLLHUP : 0);
  }
  return (int)k;
}

static const us__pollset_ops_t epoll_ops = {
    "epoll", e_init, e_free, e_add, e_modify, e_remove, e_prepare, e_wait};

const us__pollset_ops_t *us__pollset_best_ops(void) { return &epoll_ops; }

#else
/* No epoll: poll(2) (src/pollset_poll.c) is the best there is. */
const us__pollset_ops_t *us__pollset_best_ops(void) {
  return &us__pollset_poll_ops;
}
#endif
