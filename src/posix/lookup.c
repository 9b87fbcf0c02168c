/* posix/lookup.c: name lookups that a caller can stop waiting for.
 *
 * getaddrinfo(3) cannot be interrupted or given a time limit, so a lookup
 * that must honour one runs on a resolver thread of a small pool, and the
 * caller waits on the lookup's eventfd (a pipe where there is none) with
 * ppoll, like any other wait of the core: its deadline, the host's lock
 * and signals are the core's as everywhere else. A caller that gives up
 * abandons the lookup: not yet started, it is dropped from the queue at
 * once; under way, its thread frees everything (results, descriptor,
 * memory) when the system resolver returns. The pool never has more than
 * US__LOOKUP_THREADS threads, and a thread idle for US__LOOKUP_IDLE_S
 * seconds ends, so abandoned lookups, however many, cost at most that
 * many threads for as long as the system resolver's own time limits
 * (resolv.conf's timeout and attempts) keep them busy.
 *
 * Why not glibc's getaddrinfo_a: it cannot cancel a lookup under way
 * either, its requests must outlive an abandoning caller (so something
 * must still free them), its completion is a signal or a thread we do not
 * own, and it is glibc only. c-ares would bypass nsswitch (no mDNS, LDAP,
 * systemd-resolved's NSS module), which users of getaddrinfo expect. */
#define _GNU_SOURCE
#include "../backend.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/eventfd.h>
#else
#include <fcntl.h>
#endif

/* Enough for the lookups of a busy program to run side by side; a dead
 * DNS server keeps at most this many threads busy. */
#define US__LOOKUP_THREADS 8
#define US__LOOKUP_IDLE_S 2

struct us__lookup {
  struct us__lookup *prev, *next; /* in the queue while queued */
  int refs;                       /* the caller's, and the queue's/thread's */
  int queued;
  int done;      /* set (release) before the descriptor is signalled */
  int signalled; /* set (release) once the thread has signalled it */
  int rfd, wfd;  /* the same eventfd on Linux */
  int family, type, proto, flags;
  int result;
  void *res;
  const char *host, *port; /* copies, in the same allocation */
  /* A reverse lookup (getnameinfo) has its address here, and its names
   * in the same allocation. */
  us__names_t *names;
};

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct us__lookup *head, *tail;
  int queued, threads, idle;
} pool = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void cond_init(void) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&pool.cv, &ca);
  pthread_condattr_destroy(&ca);
}

static void fork_prepare(void) { pthread_mutex_lock(&pool.mu); }
static void fork_parent(void) { pthread_mutex_unlock(&pool.mu); }

/* A child of fork() has none of the parent's threads, and its queue
 * holds lookups whose callers are not in it either: it starts afresh
 * (what they hold is left, as after any fork). The condition may have
 * had waiters that do not exist here: a new one. */
static void fork_child(void) {
  pool.head = pool.tail = NULL;
  pool.queued = pool.threads = pool.idle = 0;
  cond_init();
  pthread_mutex_unlock(&pool.mu);
}

static void pool_init(void) {
  cond_init();
  pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void drop(struct us__lookup *l) {
  if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  us__sys_resolve_free(l->res);
  if (l->rfd >= 0)
    close(l->rfd);
  if (l->wfd >= 0 && l->wfd != l->rfd)
    close(l->wfd);
  free(l);
}

static void unlink_queued(struct us__lookup *l) {
  if (l->prev)
    l->prev->next = l->next;
  else
    pool.head = l->next;
  if (l->next)
    l->next->prev = l->prev;
  else
    pool.tail = l->prev;
  l->prev = l->next = NULL;
  l->queued = 0;
  pool.queued--;
}

static void run(struct us__lookup *l) {
  /* Read before done is set: once it is, the caller may close it. */
  int wfd = l->wfd;
  if (l->names)
    l->result = us__sys_nameinfo(l->names, l->flags);
  else
    l->result = us__sys_resolve(l->host, l->port, l->family, l->type, l->proto,
                                l->flags, &l->res);
  __atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
#ifdef __linux__
  uint64_t one = 1;
  ssize_t w = write(wfd, &one, sizeof one);
#else
  char one = 1;
  ssize_t w = write(wfd, &one, 1);
#endif
  (void)w; /* a fresh descriptor with room for one signal: cannot fail */
  __atomic_store_n(&l->signalled, 1, __ATOMIC_RELEASE);
  drop(l);
}

static void *worker(void *arg) {
  (void)arg;
#ifdef __linux__
  /* What a debugger, top -H or /proc/PID/task/TID/comm show for it. */
  pthread_setname_np(pthread_self(), "usocket-lookup");
#endif
  pthread_mutex_lock(&pool.mu);
  for (;;) {
    while (!pool.head) {
      struct timespec until;
      clock_gettime(CLOCK_MONOTONIC, &until);
      until.tv_sec += US__LOOKUP_IDLE_S;
      pool.idle++;
      int r = pthread_cond_timedwait(&pool.cv, &pool.mu, &until);
      pool.idle--;
      if (r == ETIMEDOUT && !pool.head) {
        pool.threads--;
        pthread_mutex_unlock(&pool.mu);
        return NULL;
      }
    }
    struct us__lookup *l = pool.head;
    unlink_queued(l);
    pthread_mutex_unlock(&pool.mu);
    run(l);
    pthread_mutex_lock(&pool.mu);
  }
}

/* A detached thread that takes no signal: one aimed at the process must
 * reach the thread whose wait it is to interrupt. Lock held. */
static int start_thread(void) {
  pthread_attr_t attr;
  pthread_t t;
  sigset_t all, old;
  if (pthread_attr_init(&attr) != 0)
    return -ENOMEM;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pthread_create(&t, &attr, worker, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (r != 0)
    return -r;
  pool.threads++;
  return 0;
}

static int open_signal(struct us__lookup *l) {
#ifdef __linux__
  l->rfd = l->wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return l->rfd < 0 ? -errno : 0;
#else
  int p[2];
  if (pipe(p) < 0)
    return -errno;
  for (int i = 0; i < 2; i++) {
    fcntl(p[i], F_SETFD, FD_CLOEXEC);
    fcntl(p[i], F_SETFL, O_NONBLOCK);
  }
  l->rfd = p[0];
  l->wfd = p[1];
  return 0;
#endif
}

/* Queues l (its signal open, refs 2) for a resolver thread. */
static int enqueue(struct us__lookup *l, us__lookup_t **out) {
  int r = open_signal(l);
  if (r < 0) {
    free(l);
    return r;
  }
  l->refs = 2;
  pthread_once(&pool_once, pool_init);
  pthread_mutex_lock(&pool.mu);
  l->prev = pool.tail;
  if (pool.tail)
    pool.tail->next = l;
  else
    pool.head = l;
  pool.tail = l;
  l->queued = 1;
  pool.queued++;
  if (pool.queued > pool.idle && pool.threads < US__LOOKUP_THREADS &&
      (r = start_thread()) < 0 && pool.threads == 0) {
    unlink_queued(l); /* nobody would ever run it */
    pthread_mutex_unlock(&pool.mu);
    l->refs = 1;
    drop(l);
    return r;
  }
  pthread_cond_signal(&pool.cv);
  pthread_mutex_unlock(&pool.mu);
  *out = l;
  return 0;
}

int us__sys_lookup_start(const char *host, const char *port, int family,
                         int type, int proto, int flags, us__lookup_t **out) {
  size_t hl = host ? strlen(host) + 1 : 0, pl = port ? strlen(port) + 1 : 0;
  struct us__lookup *l = calloc(1, sizeof *l + hl + pl);
  if (!l)
    return -ENOMEM;
  char *text = (char *)(l + 1);
  if (host)
    l->host = memcpy(text, host, hl);
  if (port)
    l->port = memcpy(text + hl, port, pl);
  l->family = family;
  l->type = type;
  l->proto = proto;
  l->flags = flags;
  return enqueue(l, out);
}

int us__sys_rlookup_start(const us__names_t *in, int flags,
                          us__lookup_t **out) {
  struct us__lookup *l = calloc(1, sizeof *l + sizeof *l->names);
  if (!l)
    return -ENOMEM;
  l->names = (us__names_t *)(void *)(l + 1);
  memcpy(l->names, in, sizeof *in);
  l->flags = flags;
  return enqueue(l, out);
}

int us__sys_lookup_fd(const us__lookup_t *l) { return l->rfd; }

int us__sys_lookup_end(us__lookup_t *l, void **res) {
  if (!__atomic_load_n(&l->done, __ATOMIC_ACQUIRE)) {
    us__sys_lookup_abandon(l);
    *res = NULL;
    return -EAGAIN;
  }
  int r = l->result;
  *res = l->res;
  l->res = NULL;
  /* Closed now, not when the thread lets go of the lookup a moment
   * later: once the call returns, nothing of it is open. The descriptor
   * was readable, so the thread's write has taken effect; what is left of
   * it is the return from write(2), waited out here (a few instructions,
   * unless the thread was preempted right then), so that no close can
   * ever overtake the write. */
  while (!__atomic_load_n(&l->signalled, __ATOMIC_ACQUIRE))
    sched_yield();
  close(l->rfd);
  if (l->wfd != l->rfd)
    close(l->wfd);
  l->rfd = l->wfd = -1;
  drop(l);
  return r;
}

int us__sys_rlookup_end(us__lookup_t *l, us__names_t *out) {
  void *none;
  /* Its names are complete once it is done (acquire), as its result. */
  if (__atomic_load_n(&l->done, __ATOMIC_ACQUIRE) && l->result == 0)
    memcpy(out, l->names, sizeof *out);
  return us__sys_lookup_end(l, &none);
}

void us__sys_lookup_abandon(us__lookup_t *l) {
  pthread_mutex_lock(&pool.mu);
  int dequeued = l->queued;
  if (dequeued)
    unlink_queued(l);
  pthread_mutex_unlock(&pool.mu);
  if (dequeued)
    drop(l);
  drop(l);
}
