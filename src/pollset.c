/* pollset.c: a poll set's registry (masks, data, one-shot arming) and its
 * wait, portable; the kernel side is a backend (pollset_backend.h). */
#include "core.h"
#include "pollset_backend.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Masks may name the events that are always reported; they change
 * nothing, but CPython-style code passes them. */
#define ASKABLE (US_POLLIN | US_POLLOUT | US_POLLERR | US_POLLHUP | US_POLLNVAL)
#define ALWAYS (US_POLLERR | US_POLLHUP | US_POLLNVAL)

typedef struct entry {
  int fd;
  int events; /* the mask asked for, US_POLLIN|US_POLLOUT bits only */
  int armed;  /* 0 once a one-shot wait reported it */
  void *data;
  us_socket_t *sock; /* held while registered, or NULL for a bare fd */
  us_tls_t *tls;     /* sock's TLS stream, or NULL */
  uint32_t held_in;  /* what holding sock returned */
} entry_t;

struct us_pollset {
  const us__pollset_ops_t *ops;
  void *impl;
  entry_t *ent; /* dense: n used of cap */
  size_t n, cap;
  /* By descriptor: its slot in ent plus one, 0 when not registered. A
   * table, not a hash: descriptors are small integers, densely reused. */
  uint32_t *slot_of;
  size_t slot_len;
  size_t ntls; /* entries with a TLS stream */
  int waiting; /* a wait is under way (it owns the backend's snapshot) */
};

int us_pollset_new(us_pollset_t **out, int flags) {
  *out = NULL;
  if (flags & ~US_POLLSET_PORTABLE)
    return -EINVAL;
  us_pollset_t *ps = calloc(1, sizeof *ps);
  if (!ps)
    return -ENOMEM;
  ps->ops = (flags & US_POLLSET_PORTABLE) ? &us__pollset_poll_ops
                                          : us__pollset_best_ops();
  int r = ps->ops->init(&ps->impl);
  if (r < 0) {
    free(ps);
    return r;
  }
  *out = ps;
  return 0;
}

void us_pollset_free(us_pollset_t *ps) {
  if (!ps)
    return;
  ps->ops->free(ps->impl);
  for (size_t i = 0; i < ps->n; i++)
    if (ps->ent[i].sock)
      us__socket_release(ps->ent[i].sock, ps->ent[i].held_in);
  free(ps->ent);
  free(ps->slot_of);
  free(ps);
}

const char *us_pollset_backend(const us_pollset_t *ps) { return ps->ops->name; }

size_t us_pollset_count(const us_pollset_t *ps) { return ps->n; }

static entry_t *find(const us_pollset_t *ps, int fd) {
  if (fd < 0 || (size_t)fd >= ps->slot_len || !ps->slot_of[fd])
    return NULL;
  return &ps->ent[ps->slot_of[fd] - 1];
}

static void fill(us_pollev_t *ev, const entry_t *e) {
  ev->fd = e->fd;
  ev->events = e->events;
  ev->data = e->data;
}

int us_pollset_get(const us_pollset_t *ps, int fd, us_pollev_t *ev) {
  const entry_t *e = find(ps, fd);
  if (!e)
    return -ENOENT;
  fill(ev, e);
  return 0;
}

int us_pollset_at(const us_pollset_t *ps, size_t i, us_pollev_t *ev) {
  if (i >= ps->n)
    return -ENOENT;
  fill(ev, &ps->ent[i]);
  return 0;
}

/* What the backend is told to watch for e. */
static int watched(const entry_t *e) {
  return e->armed ? e->events : US__POLL_OFF;
}

/* Room for one more entry and for fd in the table; nothing changes on
 * failure. The table is sized by the descriptor's number, so fd must be
 * known open first (the backend's add said so): an open descriptor's
 * number is bounded by the process's limit, any int is not. */
static int reserve(us_pollset_t *ps, int fd) {
  if (ps->n == ps->cap) {
    if (ps->cap >= UINT32_MAX - 1)
      return -ENOMEM;
    size_t cap = ps->cap ? ps->cap * 2 : 16;
    entry_t *ent = realloc(ps->ent, cap * sizeof *ent);
    if (!ent)
      return -ENOMEM;
    ps->ent = ent;
    ps->cap = cap;
  }
  if ((size_t)fd >= ps->slot_len) {
    size_t len = ps->slot_len ? ps->slot_len : 64;
    while (len <= (size_t)fd)
      len *= 2;
    uint32_t *t = realloc(ps->slot_of, len * sizeof *t);
    if (!t)
      return -ENOMEM;
    memset(t + ps->slot_len, 0, (len - ps->slot_len) * sizeof *t);
    ps->slot_of = t;
    ps->slot_len = len;
  }
  return 0;
}

/* Registers fd (or replaces its registration) with its socket and TLS
 * stream, if any. */
static int add(us_pollset_t *ps, int fd, int events, void *data,
               us_socket_t *sock, us_tls_t *tls) {
  if (fd < 0)
    return -EBADF;
  if (events < 0 || (events & ~ASKABLE))
    return -EINVAL;
  events &= ~ALWAYS;
  entry_t *e = find(ps, fd);
  if (e) {
    int r =
        ps->ops->modify(ps->impl, ps->slot_of[fd] - 1, fd, watched(e), events);
    if (r < 0)
      return r;
    if (e->sock != sock) {
      uint32_t held_in = sock ? us__socket_hold(sock) : 0;
      if (e->sock)
        us__socket_release(e->sock, e->held_in);
      e->held_in = held_in;
    }
    e->events = events;
    e->armed = 1;
    e->data = data;
    e->sock = sock;
    ps->ntls += (tls != NULL) - (e->tls != NULL);
    e->tls = tls;
    return 0;
  }
  int r = ps->ops->add(ps->impl, ps->n, fd, events);
  if (r < 0)
    return r;
  if ((r = reserve(ps, fd)) < 0) {
    (void)ps->ops->remove(ps->impl, ps->n, fd, events, ps->n);
    return r;
  }
  e = &ps->ent[ps->n];
  e->held_in = sock ? us__socket_hold(sock) : 0;
  e->fd = fd;
  e->events = events;
  e->armed = 1;
  e->data = data;
  e->sock = sock;
  e->tls = tls;
  ps->ntls += tls != NULL;
  ps->slot_of[fd] = (uint32_t)++ps->n;
  return 0;
}

int us_pollset_add(us_pollset_t *ps, int fd, int events, void *data) {
  return add(ps, fd, events, data, NULL, NULL);
}

int us_pollset_add_socket(us_pollset_t *ps, us_socket_t *s, int events,
                          void *data) {
  return add(ps, s->fd, events, data, s, NULL);
}

/* The TLS streams exist only in a build with an engine. */
#ifdef US_TLS_ENGINE
int us_pollset_add_tls(us_pollset_t *ps, us_tls_t *t, int events, void *data) {
  us_socket_t *s = us_tls_bufstream(t)->sock;
  return add(ps, s->fd, events, data, s, t);
}

static size_t tls_pending(us_tls_t *t) { return us_tls_pending(t); }
#else
int us_pollset_add_tls(us_pollset_t *ps, us_tls_t *t, int events, void *data) {
  (void)ps, (void)t, (void)events, (void)data;
  return -ENOTSUP;
}

static size_t tls_pending(us_tls_t *t) {
  (void)t;
  return 0;
}
#endif

int us_pollset_modify(us_pollset_t *ps, int fd, int events) {
  entry_t *e = find(ps, fd);
  if (!e)
    return -ENOENT;
  return add(ps, fd, events, e->data, e->sock, e->tls);
}

int us_pollset_remove(us_pollset_t *ps, int fd) {
  entry_t *e = find(ps, fd);
  if (!e)
    return -ENOENT;
  size_t slot = ps->slot_of[fd] - 1, last = ps->n - 1;
  int r = ps->ops->remove(ps->impl, slot, fd, watched(e), last);
  if (r < 0)
    return r;
  us_socket_t *sock = e->sock;
  uint32_t held_in = e->held_in;
  ps->ntls -= e->tls != NULL;
  ps->slot_of[fd] = 0;
  if (slot != last) {
    ps->ent[slot] = ps->ent[last];
    ps->slot_of[ps->ent[slot].fd] = (uint32_t)slot + 1;
  }
  ps->n--;
  if (sock) /* last: it may close fd */
    us__socket_release(sock, held_in);
  return 0;
}

/* One us_pollset_wait() call, as us__wait_run() drives it. */
typedef struct pwait {
  us__waiter_t w; /* first: the callbacks get it back as the whole */
  us_pollset_t *ps;
  us_pollev_t *out;
  size_t max;
  int flags;
} pwait_t;

static int pw_prepare(us__waiter_t *w) {
  pwait_t *pw = (pwait_t *)w;
  return pw->ps->ops->prepare(pw->ps->impl, pw->max);
}

static int pw_wait(us__waiter_t *w, int64_t left_ns) {
  pwait_t *pw = (pwait_t *)w;
  return pw->ps->ops->wait(pw->ps->impl, pw->out, pw->max, left_ns);
}

/* The kernel's answer, made the registry's: while the lock was released
 * a descriptor may have been removed, re-registered or disarmed, so each
 * is looked up again and masked with what is asked for now. */
static int pw_done(us__waiter_t *w, int r) {
  pwait_t *pw = (pwait_t *)w;
  us_pollset_t *ps = pw->ps;
  size_t k = 0;
  for (size_t i = 0; i < (size_t)r; i++) {
    entry_t *e = find(ps, pw->out[i].fd);
    if (!e || !e->armed)
      continue;
    int ev = pw->out[i].events & (e->events | ALWAYS);
    /* A held socket closed meanwhile was only shut down, which the kernel
     * reports as a hang-up; the set knows better: it is closed. */
    if (e->sock && us__fd(e->sock) < 0)
      ev = US_POLLNVAL;
    if (!ev)
      continue;
    if (pw->flags & US_POLL_ONESHOT) {
      /* Disarming cannot fail in a way that matters: the backend only
       * forgets the descriptor, and one already gone is forgotten. */
      (void)ps->ops->modify(ps->impl, ps->slot_of[e->fd] - 1, e->fd, e->events,
                            US__POLL_OFF);
      e->armed = 0;
    }
    pw->out[k].fd = e->fd;
    pw->out[k].events = ev;
    pw->out[k].data = e->data;
    k++;
  }
  return k ? (int)k : -EAGAIN;
}

/* Whether e's TLS stream holds decrypted bytes its reader wants: they
 * are readable though the socket may have nothing at all. */
static int tls_readable(const entry_t *e) {
  return e->tls && e->armed && (e->events & US_POLLIN) &&
         us__fd(e->sock) >= 0 && tls_pending(e->tls) > 0;
}

/* Adds the TLS streams with bytes pending to the k results in out (at
 * most max): readable, as the kernel cannot tell. */
static int add_pending(us_pollset_t *ps, us_pollev_t *out, size_t k, size_t max,
                       int flags) {
  for (size_t i = 0; i < ps->n; i++) {
    entry_t *e = &ps->ent[i];
    size_t j = 0;
    while (j < k && out[j].fd != e->fd)
      j++;
    if (j < k) { /* reported already (and disarmed, when one-shot) */
      if (e->tls && (e->events & US_POLLIN) && !(out[j].events & US_POLLNVAL) &&
          tls_pending(e->tls) > 0)
        out[j].events |= US_POLLIN;
      continue;
    }
    if (k == max || !tls_readable(e))
      continue;
    if (flags & US_POLL_ONESHOT) {
      (void)ps->ops->modify(ps->impl, i, e->fd, e->events, US__POLL_OFF);
      e->armed = 0;
    }
    out[k].fd = e->fd;
    out[k].events = US_POLLIN;
    out[k].data = e->data;
    k++;
  }
  return (int)k;
}

int us_pollset_wait(us_pollset_t *ps, us_pollev_t *out, size_t max,
                    int64_t timeout_ns, int flags) {
  if (!max || (flags & ~US_POLL_ONESHOT) ||
      (timeout_ns < 0 && timeout_ns != US_TIMEOUT_BLOCK))
    return -EINVAL;
  if (ps->waiting)
    return -EBUSY;
  /* No more can be ready than are registered: the backend's room for
   * results is sized by max, which is the caller's number. */
  if (max > ps->n)
    max = ps->n ? ps->n : 1;
  if (max > INT_MAX)
    max = INT_MAX;
  /* Bytes a TLS stream holds make the wait a mere check. */
  for (size_t i = 0; ps->ntls && timeout_ns != 0 && i < ps->n; i++)
    if (tls_readable(&ps->ent[i]))
      timeout_ns = 0;
  pwait_t pw = {{pw_prepare, pw_wait, pw_done}, ps, out, max, flags};
  ps->waiting = 1;
  int r = us__wait_run(&pw.w, timeout_ns);
  if (r >= 0 && ps->ntls)
    r = add_pending(ps, out, (size_t)r, max, flags);
  ps->waiting = 0;
  return r;
}
