/* connect_name.c: connecting to a name: its addresses raced in the order
 * of RFC 8305 (Happy Eyeballs v2), within one deadline for the whole
 * call, the lookup included. */
#include "core.h"

#include <errno.h>

/* The addresses of a name that are tried at all: more only lengthen a
 * call that has failed on the first dozens already. */
#define ADDRS_MAX 32

typedef struct {
  us_addr_t addr[ADDRS_MAX];
  int n;
} addr_list_t;

static int add_addr(void *ctx, const us_addrinfo_t *ai) {
  addr_list_t *l = ctx;
  if (l->n < ADDRS_MAX && ai->type == US__SOCK_STREAM)
    l->addr[l->n++] = ai->addr;
  return 0;
}

/* RFC 8305, section 4: the families alternate, IPv6 first, each keeping
 * the order the resolver gave it (RFC 6724's). */
static void interleave(addr_list_t *l) {
  us_addr_t v6[ADDRS_MAX], v4[ADDRS_MAX];
  int n6 = 0, n4 = 0, i = 0, a = 0, b = 0;
  for (int k = 0; k < l->n; k++) {
    if (l->addr[k].family == US__AF_INET6)
      v6[n6++] = l->addr[k];
    else
      v4[n4++] = l->addr[k];
  }
  while (a < n6 || b < n4) {
    if (a < n6)
      l->addr[i++] = v6[a++];
    if (b < n4)
      l->addr[i++] = v4[b++];
  }
}

/* The attempts under way, waited on together. */
typedef struct {
  us__waiter_t w; /* first: the waiter's callbacks get this */
  int n;
  us_socket_t sock[US__WAIT_MANY_MAX];
  const us_addr_t *to[US__WAIT_MANY_MAX];
  int fds[US__WAIT_MANY_MAX], events[US__WAIT_MANY_MAX];
  int ready[US__WAIT_MANY_MAX];
} race_t;

static int race_prepare(us__waiter_t *w) {
  race_t *r = (race_t *)w;
  for (int i = 0; i < r->n; i++) {
    r->fds[i] = r->sock[i].fd;
    r->events[i] = US__OUT;
    r->ready[i] = 0;
  }
  return 0;
}

static int race_wait(us__waiter_t *w, int64_t left_ns) {
  race_t *r = (race_t *)w;
  return us__sys_wait_many(r->fds, r->events, r->ready, r->n, left_ns);
}

static int race_done(us__waiter_t *w, int n) {
  (void)w;
  return n;
}

static void race_drop(race_t *r, int i) {
  us_socket_close(&r->sock[i]);
  r->n--;
  r->sock[i] = r->sock[r->n];
  r->to[i] = r->to[r->n];
  r->ready[i] = r->ready[r->n];
}

/* The any-address ('' as a source): it binds each family's own. */
static int is_any(const us_addr_t *a) {
  for (int i = 0; i < 16; i++)
    if (a->ip[i])
      return 0;
  return 1;
}

/* Starts an attempt on to: 1 if it connected at once (it is then the
 * last), 0 if under way, or its error (nothing left of it). */
static int race_start(race_t *r, const us_addr_t *to, const us_addr_t *src) {
  us_socket_t *s = &r->sock[r->n];
  us_addr_t from;
  if (src) {
    from = *src;
    if (is_any(src))
      from.family = to->family;
  }
  int e = us_socket_open(s, to->family, US__SOCK_STREAM, 0);
  if (e < 0)
    return e;
  if ((e = us_settimeout(s, US_TIMEOUT_NONBLOCK)) < 0 ||
      (src && (e = us_bind(s, &from)) < 0) ||
      ((e = us_connect(s, to)) < 0 && e != -EINPROGRESS)) {
    us_socket_close(s);
    return e;
  }
  r->to[r->n++] = to;
  return e == 0;
}

/* The first attempt that connected, as the index of its socket, or the
 * error that ended them all (the last attempt's, or -ETIMEDOUT). */
static int race_run(race_t *r, const addr_list_t *l, const us_addr_t *src,
                    int64_t deadline) {
  int next = 0, err = -EHOSTUNREACH;
  int64_t next_at = 0;
  for (;;) {
    int64_t now = us__sys_now();
    if (deadline >= 0 && now >= deadline)
      return -ETIMEDOUT;
    /* The next address when the delay since the last start has passed,
     * or at once when nothing is under way (the last one failed). */
    int more = next < l->n && r->n < US__WAIT_MANY_MAX;
    if (more && (r->n == 0 || now >= next_at)) {
      int e = race_start(r, &l->addr[next++], src);
      if (e == 1)
        return r->n - 1;
      if (e < 0)
        err = e;
      else
        next_at = now + US_CONNECT_ATTEMPT_DELAY;
      continue;
    }
    if (r->n == 0)
      return err;
    int64_t until =
        more && (deadline < 0 || next_at < deadline) ? next_at : deadline;
    int64_t left = until < 0 ? -1 : (until > now ? until - now : 0);
    int n = us__wait_run(&r->w, left);
    if (n < 0)
      return n; /* the host's error after a signal, or the wait's */
    for (int i = r->n - 1; n > 0 && i >= 0; i--) {
      if (!r->ready[i])
        continue;
      int e = us__sys_connect_result(r->sock[i].fd, r->to[i]);
      if (e == 0)
        return i;
      if (e == -EINPROGRESS || e == -EALREADY)
        continue; /* not over after all */
      err = e;
      race_drop(r, i);
    }
  }
}

int us_create_connection(us_socket_t *s, const char *host, const char *port,
                         int64_t timeout_ns, const us_addr_t *source) {
  if (timeout_ns < US_TIMEOUT_BLOCK ||
      (source && source->family != US__AF_INET &&
       source->family != US__AF_INET6))
    return -EINVAL;
  int64_t deadline = us__deadline_of(timeout_ns);
  addr_list_t l = {.n = 0};
  int family = source && !is_any(source) ? source->family : 0;
  int r = us_getaddrinfo_timed(host, port, family, US__SOCK_STREAM, 0, 0,
                               timeout_ns, add_addr, &l);
  if (r < 0)
    return r;
  if (l.n == 0)
    return US_GAI_ERROR(US__EAI_NONAME);
  interleave(&l);
  race_t race = {
      {race_prepare, race_wait, race_done}, 0, {{0}}, {0}, {0}, {0}, {0}};
  int won = race_run(&race, &l, source, deadline);
  for (int i = race.n - 1; i >= 0; i--)
    if (i != won)
      us_socket_close(&race.sock[i]);
  if (won < 0)
    return won;
  *s = race.sock[won];
  /* As CPython's: the socket keeps the call's timeout for what follows. */
  r = us_settimeout(s, timeout_ns);
  if (r < 0)
    us_socket_close(s);
  return r;
}
