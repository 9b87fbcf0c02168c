/* pollset_poll.c: the poll set's portable backend: the platform's poll
 * (us__sys_poll: poll(2), lwip_poll) over an array of its struct pollfd,
 * for every backend. */
#include "backend.h"
#include "pollset_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct pimpl {
  /* The registry's mirror, slot for slot; a disarmed entry has fd -1,
   * which poll skips, reporting not even POLLHUP. */
  us__pollfd_t *fds;
  size_t n, cap;
  /* What the wait under way polls: a copy taken with the lock held, so
   * that add/modify/remove from other threads never move it meanwhile. */
  us__pollfd_t *snap;
  size_t snap_n, snap_cap;
  size_t start; /* where the next wait starts reporting: no starvation */
} pimpl_t;

static short to_poll(int events) {
  return (short)(((events & US_POLLIN) ? US__POLLIN : 0) |
                 ((events & US_POLLOUT) ? US__POLLOUT : 0));
}

static int from_poll(short re) {
  return ((re & US__POLLIN) ? US_POLLIN : 0) |
         ((re & US__POLLOUT) ? US_POLLOUT : 0) |
         ((re & US__POLLERR) ? US_POLLERR : 0) |
         ((re & US__POLLHUP) ? US_POLLHUP : 0) |
         ((re & US__POLLNVAL) ? US_POLLNVAL : 0);
}

static void set(us__pollfd_t *p, int fd, int events) {
  p->fd = events == US__POLL_OFF ? -1 : fd;
  p->events = events == US__POLL_OFF ? 0 : to_poll(events);
  p->revents = 0;
}

static int p_init(void **impl) {
  *impl = calloc(1, sizeof(pimpl_t));
  return *impl ? 0 : -ENOMEM;
}

static void p_free(void *impl) {
  pimpl_t *p = impl;
  free(p->fds);
  free(p->snap);
  free(p);
}

static int grow(us__pollfd_t **a, size_t *cap, size_t need) {
  if (need <= *cap)
    return 0;
  size_t c = *cap ? *cap : 16;
  while (c < need)
    c *= 2;
  us__pollfd_t *b = realloc(*a, c * sizeof *b);
  if (!b)
    return -ENOMEM;
  *a = b;
  *cap = c;
  return 0;
}

/* poll would take a closed descriptor and report POLLNVAL; refusing it
 * when it is armed behaves as epoll does, so all backends agree. */
static int check_open(int fd, int events) {
  return events != US__POLL_OFF ? us__sys_check_open(fd) : 0;
}

static int p_add(void *impl, size_t slot, int fd, int events) {
  pimpl_t *p = impl;
  int r = check_open(fd, events);
  if (r < 0)
    return r;
  r = grow(&p->fds, &p->cap, slot + 1);
  if (r < 0)
    return r;
  set(&p->fds[slot], fd, events);
  p->n = slot + 1;
  return 0;
}

static int p_modify(void *impl, size_t slot, int fd, int old, int events) {
  pimpl_t *p = impl;
  (void)old;
  int r = check_open(fd, events);
  if (r < 0)
    return r;
  set(&p->fds[slot], fd, events);
  return 0;
}

static int p_remove(void *impl, size_t slot, int fd, int old, size_t last) {
  pimpl_t *p = impl;
  (void)fd;
  (void)old;
  p->fds[slot] = p->fds[last];
  p->n = last;
  return 0;
}

static int p_prepare(void *impl, size_t max) {
  pimpl_t *p = impl;
  (void)max; /* the scan stops at max by itself */
  int r = grow(&p->snap, &p->snap_cap, p->n);
  if (r < 0)
    return r;
  if (p->n)
    memcpy(p->snap, p->fds, p->n * sizeof *p->fds);
  p->snap_n = p->n;
  return 0;
}

static int p_wait(void *impl, us_pollev_t *out, size_t max,
                  int64_t timeout_ns) {
  pimpl_t *p = impl;
  int r = us__sys_poll(p->snap, p->snap_n, timeout_ns);
  if (r <= 0)
    return r;
  /* Report from a rotating start, so that with more ready than max the
   * same first ones do not win every time. */
  size_t n = p->snap_n, k = 0, s = p->start < n ? p->start : 0;
  for (size_t j = 0; j < n && k < max; j++) {
    const us__pollfd_t *q = &p->snap[(s + j) % n];
    if (q->fd >= 0 && q->revents) {
      out[k].fd = q->fd;
      out[k].events = from_poll(q->revents);
      k++;
    }
  }
  p->start = s + 1;
  return (int)k;
}

const us__pollset_ops_t us__pollset_poll_ops = {
    "poll", p_init, p_free, p_add, p_modify, p_remove, p_prepare, p_wait};
