/* fault.c: the fault-injection build's backend seam, which fails or
 * shortens chosen system calls before they reach the POSIX backend. */
#include "fault.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

/* The POSIX backend's own functions, renamed by posix/fault_names.h.
 * Declared from the seam's types so that the two can never disagree. */
__typeof__(us__sys_socket) us__real_socket;
__typeof__(us__sys_accept) us__real_accept;
__typeof__(us__sys_connect) us__real_connect;
__typeof__(us__sys_send) us__real_send;
__typeof__(us__sys_recv) us__real_recv;
__typeof__(us__sys_sendto) us__real_sendto;
__typeof__(us__sys_recvfrom) us__real_recvfrom;
__typeof__(us__sys_sendmsg) us__real_sendmsg;
__typeof__(us__sys_recvmsg) us__real_recvmsg;
__typeof__(us__sys_pending) us__real_pending;
__typeof__(us__sys_wait) us__real_wait;
__typeof__(us__sys_resolve) us__real_resolve;
__typeof__(us__sys_now) us__real_now;

#define RULES_PER_OP 8

typedef struct rule {
  us__fault_t f;
  unsigned long due; /* calls seen since the rule became due */
} rule_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rule_t rules[US__FAULT_NOPS][RULES_PER_OP];
static int nrules[US__FAULT_NOPS];
static size_t moved[US__FAULT_NOPS]; /* since the last reset, for `after` */
static us__fault_stats_t totals;
static const us__fault_kernel_t *kernel;

void us__fault_kernel(const us__fault_kernel_t *k) { kernel = k; }

/* The kernel's call, or its stand-in's when one is set. */
#define KERNEL(name) (kernel && kernel->name ? kernel->name : us__real_##name)

int us__fault_add(us__fault_op_t op, const us__fault_t *rule) {
  if ((unsigned)op >= US__FAULT_NOPS || (rule->err == 0 && rule->most == 0))
    return -EINVAL;
  int r = -ENOSPC;
  pthread_mutex_lock(&lock);
  if (nrules[op] < RULES_PER_OP) {
    rules[op][nrules[op]].f = *rule;
    rules[op][nrules[op]++].due = 0;
    r = 0;
  }
  pthread_mutex_unlock(&lock);
  return r;
}

int us__fault_fail(us__fault_op_t op, int err, long count) {
  us__fault_t f = {.err = err, .count = count};
  return us__fault_add(op, &f);
}

int us__fault_short(us__fault_op_t op, size_t most, long count) {
  us__fault_t f = {.most = most, .count = count};
  return us__fault_add(op, &f);
}

void us__fault_reset(void) {
  pthread_mutex_lock(&lock);
  for (int op = 0; op < US__FAULT_NOPS; op++) {
    nrules[op] = 0;
    moved[op] = 0;
  }
  pthread_mutex_unlock(&lock);
}

void us__fault_stats(us__fault_stats_t *out) {
  pthread_mutex_lock(&lock);
  *out = totals;
  pthread_mutex_unlock(&lock);
}

/* Decides one call of op that may move up to *len bytes (len NULL: a call
 * that moves none). Returns 1 and fills *f when a rule faults it; may
 * shorten *len so that a rule waiting for its `after` starts on time. */
static int decide(us__fault_op_t op, size_t *len, us__fault_t *f) {
  int hit = 0;
  pthread_mutex_lock(&lock);
  totals.calls[op]++;
  for (int i = 0; i < nrules[op] && !hit; i++) {
    rule_t *r = &rules[op][i];
    if (r->f.count == 0)
      continue;
    if (moved[op] < r->f.after) {
      size_t gap = r->f.after - moved[op];
      if (len && *len > gap)
        *len = gap;
      continue;
    }
    if (r->f.every > 1 && r->due++ % r->f.every != r->f.every - 1)
      continue;
    if (r->f.count > 0)
      r->f.count--;
    totals.injected++;
    *f = r->f;
    hit = 1;
  }
  pthread_mutex_unlock(&lock);
  if (hit && f->hold_ns > 0) {
    struct timespec ts = {(time_t)(f->hold_ns / 1000000000),
                          (long)(f->hold_ns % 1000000000)};
    nanosleep(&ts, NULL);
  }
  return hit;
}

/* Decides a call that moves bytes: returns the error to fail with, or 0
 * after leaving in *len what the call may move. */
static int decide_bytes(us__fault_op_t op, size_t *len) {
  us__fault_t f;
  if (!decide(op, len, &f))
    return 0;
  if (f.err)
    return f.err;
  if (*len > f.most)
    *len = f.most;
  return 0;
}

/* Counts what a call moved: peeks leave the bytes where they were. */
static ssize_t account(us__fault_op_t op, ssize_t n, int flags) {
  if (n > 0 && !(flags & MSG_PEEK)) {
    pthread_mutex_lock(&lock);
    moved[op] += (size_t)n;
    totals.bytes[op] += (unsigned long long)n;
    pthread_mutex_unlock(&lock);
  }
  return n;
}

int us__sys_socket(int family, int type, int proto, int nonblocking) {
  us__fault_t f;
  if (decide(US__FAULT_SOCKET, NULL, &f) && f.err)
    return f.err;
  return us__real_socket(family, type, proto, nonblocking);
}

int us__sys_accept(int fd, us_addr_t *peer, int nonblocking) {
  us__fault_t f;
  if (decide(US__FAULT_ACCEPT, NULL, &f) && f.err)
    return f.err;
  return us__real_accept(fd, peer, nonblocking);
}

int us__sys_connect(int fd, const us_addr_t *addr) {
  us__fault_t f;
  int faulted = decide(US__FAULT_CONNECT, NULL, &f) && f.err;
  int r = us__real_connect(fd, addr);
  /* A signal cannot stop a connection the kernel has started; it only
   * makes connect return early while the handshake goes on. */
  if (faulted && (r == 0 || r == -EINPROGRESS))
    return f.err;
  return r;
}

ssize_t us__sys_send(int fd, const void *buf, size_t len, int flags) {
  int err = decide_bytes(US__FAULT_SEND, &len);
  if (err)
    return err;
  return account(US__FAULT_SEND, KERNEL(send)(fd, buf, len, flags), flags);
}

ssize_t us__sys_recv(int fd, void *buf, size_t len, int flags) {
  int err = decide_bytes(US__FAULT_RECV, &len);
  if (err)
    return err;
  return account(US__FAULT_RECV, KERNEL(recv)(fd, buf, len, flags), flags);
}

ssize_t us__sys_sendto(int fd, const void *buf, size_t len, int flags,
                       const us_addr_t *to) {
  int err = decide_bytes(US__FAULT_SENDTO, &len);
  if (err)
    return err;
  ssize_t n = us__real_sendto(fd, buf, len, flags, to);
  return account(US__FAULT_SENDTO, n, flags);
}

ssize_t us__sys_recvfrom(int fd, void *buf, size_t len, int flags,
                         us_addr_t *from) {
  int err = decide_bytes(US__FAULT_RECVFROM, &len);
  if (err)
    return err;
  ssize_t n = us__real_recvfrom(fd, buf, len, flags, from);
  return account(US__FAULT_RECVFROM, n, flags);
}

/* A message's pieces cut to the first len bytes, in room (US_IOV_MAX). */
static void msg_cut(us_msg_t *m, us_iov_t *room, size_t len) {
  int k = 0;
  for (; k < m->iovlen && len; k++) {
    room[k] = m->iov[k];
    if (room[k].len > len)
      room[k].len = len;
    len -= room[k].len;
  }
  m->iov = room;
  m->iovlen = k;
}

static size_t msg_len(const us_msg_t *m) {
  size_t len = 0;
  for (int i = 0; i < m->iovlen; i++)
    len += m->iov[i].len;
  return len;
}

ssize_t us__sys_sendmsg(int fd, const us_msg_t *msg, int flags) {
  us_iov_t room[US_IOV_MAX];
  size_t len = msg_len(msg), want = len;
  int err = decide_bytes(US__FAULT_SENDMSG, &len);
  if (err)
    return err;
  us_msg_t m = *msg;
  if (len < want)
    msg_cut(&m, room, len);
  return account(US__FAULT_SENDMSG, us__real_sendmsg(fd, &m, flags), flags);
}

ssize_t us__sys_recvmsg(int fd, us_msg_t *msg, int flags) {
  us_iov_t room[US_IOV_MAX];
  size_t len = msg_len(msg), want = len;
  int err = decide_bytes(US__FAULT_RECVMSG, &len);
  if (err)
    return err;
  us_msg_t m = *msg;
  if (len < want)
    msg_cut(&m, room, len);
  ssize_t n = us__real_recvmsg(fd, &m, flags);
  msg->controllen = m.controllen;
  msg->flags = m.flags;
  return account(US__FAULT_RECVMSG, n, flags);
}

ssize_t us__sys_pending(int fd) {
  us__fault_t f;
  if (decide(US__FAULT_PENDING, NULL, &f) && f.err)
    return f.err;
  return KERNEL(pending)(fd);
}

int us__sys_wait(int fd, int events, int64_t timeout_ns) {
  us__fault_t f;
  if (decide(US__FAULT_WAIT, NULL, &f) && f.err)
    return f.err;
  return KERNEL(wait)(fd, events, timeout_ns);
}

int us__sys_resolve(const char *host, const char *port, int family, int type,
                    int proto, int flags, void **res) {
  us__fault_t f;
  if (decide(US__FAULT_RESOLVE, NULL, &f) && f.err) {
    *res = NULL;
    return f.err;
  }
  return us__real_resolve(host, port, family, type, proto, flags, res);
}

int64_t us__sys_now(void) { return KERNEL(now)(); }
