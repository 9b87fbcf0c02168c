/* lookup.c: a name lookup within a deadline, which the host's signals
 * interrupt: the platform resolver runs elsewhere (us__sys_lookup_start)
 * and the call waits for it as it waits for a socket. */
#include "core.h"

#include <errno.h>

typedef struct {
  us__waiter_t w; /* first: the waiter's callbacks get this */
  us__lookup_t *l;
} lookup_wait_t;

static int lw_prepare(us__waiter_t *w) {
  (void)w;
  return 0;
}

static int lw_wait(us__waiter_t *w, int64_t left_ns) {
  int fd = us__sys_lookup_fd(((lookup_wait_t *)w)->l);
  return us__sys_wait(fd, US__IN, left_ns);
}

static int lw_done(us__waiter_t *w, int r) {
  (void)w;
  (void)r;
  return 1;
}

/* Waits for l within timeout_ns: > 0 once it is over (for its end to
 * take), or, l abandoned, -ETIMEDOUT or the host's error. */
static int wait_for(us__lookup_t *l, int64_t timeout_ns) {
  lookup_wait_t lw = {{lw_prepare, lw_wait, lw_done}, l};
  /* A record of its own, naming the lookup: a host that unwinds the wait
   * (us_abandon_calls) gives it up too. */
  us__op_t op = {.fd = -1, .guard = -1};
  us__call_enter(&op);
  op.call->lookup = l;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  int r = us__wait_run(&lw.w, timeout_ns);
  op.call->lookup = NULL;
  us__call_leave();
  if (r > 0)
    return r;
  us__sys_lookup_abandon(l);
  return r == 0 ? -ETIMEDOUT : r;
}

int us__resolve(const char *host, const char *port, int family, int type,
                int proto, int flags, int64_t timeout_ns, void **res) {
  *res = NULL;
  if (timeout_ns < 0 && !us__host->check_signals &&
      us__thread_deadline == US_DEADLINE_NONE) {
    /* Nothing can stop it: the resolver runs right here, which costs no
     * thread hand-off. */
    void *token = us__host->unlock ? us__host->unlock() : NULL;
    int r = us__sys_resolve(host, port, family, type, proto, flags, res);
    if (us__host->lock)
      us__host->lock(token);
    return r;
  }
  us__lookup_t *l;
  int r = us__sys_lookup_start(host, port, family, type, proto, flags, &l);
  if (r < 0)
    return r;
  r = wait_for(l, timeout_ns);
  return r > 0 ? us__sys_lookup_end(l, res) : r;
}

int us__nameinfo(us__names_t *n, int flags, int64_t timeout_ns) {
  if (us__sys_nameinfo_local(flags) ||
      (timeout_ns < 0 && !us__host->check_signals &&
       us__thread_deadline == US_DEADLINE_NONE)) {
    /* Numeric: nothing to wait for. Else as in us__resolve. */
    int local = us__sys_nameinfo_local(flags);
    void *token = !local && us__host->unlock ? us__host->unlock() : NULL;
    int r = us__sys_nameinfo(n, flags);
    if (!local && us__host->lock)
      us__host->lock(token);
    return r;
  }
  us__lookup_t *l;
  int r = us__sys_rlookup_start(n, flags, &l);
  if (r < 0)
    return r;
  r = wait_for(l, timeout_ns);
  return r > 0 ? us__sys_rlookup_end(l, n) : r;
}
