/* test_pollset.c: poll sets, each behaviour checked on both backends
 * (epoll where the platform has it, and poll(2) via US_POLLSET_PORTABLE). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "test.h"

/* Each test body takes the us_pollset_new() flags; BOTH() makes the two
 * table rows. */
#define BOTH(fn)                                                               \
  static void fn##_best(void) { fn(0); }                                       \
  static void fn##_portable(void) { fn(US_POLLSET_PORTABLE); }
#define ROWS(fn)                                                               \
  {"pollset_" #fn "_best", fn##_best}, {                                       \
    "pollset_" #fn "_portable", fn##_portable                                  \
  }

static us_pollset_t *new_set(int flags) {
  us_pollset_t *ps;
  ASSERT_OK(us_pollset_new(&ps, flags));
  return ps;
}

static void pair(int sv[2]) {
  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
}

static int wait_ms(us_pollset_t *ps, us_pollev_t *out, size_t max, int ms,
                   int flags) {
  return us_pollset_wait(
      ps, out, max, ms < 0 ? US_TIMEOUT_BLOCK : (int64_t)ms * 1000000, flags);
}

static void backend_is_named(int flags) {
  us_pollset_t *ps = new_set(flags);
#ifdef __linux__
  ASSERT(strcmp(us_pollset_backend(ps), flags ? "poll" : "epoll") == 0);
#else
  ASSERT(strcmp(us_pollset_backend(ps), "poll") == 0);
#endif
  ASSERT_EQ(us_pollset_count(ps), 0);
  us_pollset_free(ps);
  us_pollset_free(NULL);
}
BOTH(backend_is_named)

static void wait_times_out_on_the_deadline(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[4];
  int sv[2];
  pair(sv);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, NULL));
  int64_t t0 = now_ms();
  ASSERT_EQ(wait_ms(ps, ev, 4, 150, 0), 0);
  int64_t dt = now_ms() - t0;
  ASSERT(dt >= 150 && dt < LATE_MS(150));
  t0 = now_ms();
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, 0), 0);
  ASSERT(now_ms() - t0 < LATE_MS(0));
  us_pollset_free(ps);
  close(sv[0]);
  close(sv[1]);
}
BOTH(wait_times_out_on_the_deadline)

static void reports_ready_with_its_data(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[4];
  int sv[2], tag_r, tag_w;
  pair(sv);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, &tag_r));
  ASSERT_OK(us_pollset_add(ps, sv[1], US_POLLOUT, &tag_w));
  ASSERT_EQ(us_pollset_count(ps), 2);
  /* Only the writable end: nothing has been sent yet. */
  ASSERT_EQ(wait_ms(ps, ev, 4, -1, 0), 1);
  ASSERT_EQ(ev[0].fd, sv[1]);
  ASSERT_EQ(ev[0].events, US_POLLOUT);
  ASSERT(ev[0].data == &tag_w);
  ASSERT_OK(us_pollset_modify(ps, sv[1], 0));
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  ASSERT_EQ(wait_ms(ps, ev, 4, 1000, 0), 1);
  ASSERT_EQ(ev[0].fd, sv[0]);
  ASSERT_EQ(ev[0].events, US_POLLIN);
  ASSERT(ev[0].data == &tag_r);
  us_pollset_free(ps);
  close(sv[0]);
  close(sv[1]);
}
BOTH(reports_ready_with_its_data)

static void adding_again_replaces_mask_and_data(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[4], got;
  int sv[2], a, b;
  pair(sv);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, &a));
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, 0), 0);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN | US_POLLOUT, &b));
  ASSERT_EQ(us_pollset_count(ps), 1);
  ASSERT_OK(us_pollset_get(ps, sv[0], &got));
  ASSERT_EQ(got.events, US_POLLIN | US_POLLOUT);
  ASSERT(got.data == &b);
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, 0), 1);
  ASSERT_EQ(ev[0].events, US_POLLOUT);
  ASSERT(ev[0].data == &b);
  us_pollset_free(ps);
  close(sv[0]);
  close(sv[1]);
}
BOTH(adding_again_replaces_mask_and_data)

static void bad_arguments_are_refused(int flags) {
  us_pollset_t *ps = new_set(flags), *bad = NULL;
  us_pollev_t ev[2];
  int sv[2];
  pair(sv);
  ASSERT_EQ(us_pollset_new(&bad, 0x100), -EINVAL);
  ASSERT(bad == NULL);
  ASSERT_EQ(us_pollset_add(ps, -1, US_POLLIN, NULL), -EBADF);
  ASSERT_EQ(us_pollset_add(ps, sv[0], 0x2, NULL), -EINVAL); /* POLLPRI */
  ASSERT_EQ(us_pollset_add(ps, sv[0], -1, NULL), -EINVAL);
  ASSERT_EQ(us_pollset_modify(ps, sv[0], US_POLLIN), -ENOENT);
  ASSERT_EQ(us_pollset_remove(ps, sv[0]), -ENOENT);
  ASSERT_EQ(us_pollset_remove(ps, -5), -ENOENT);
  ASSERT_EQ(us_pollset_get(ps, sv[0], ev), -ENOENT);
  ASSERT_EQ(us_pollset_at(ps, 0, ev), -ENOENT);
  close(sv[1]);
  ASSERT_EQ(us_pollset_add(ps, sv[1], US_POLLIN, NULL), -EBADF);
  ASSERT_EQ(us_pollset_count(ps), 0);
  ASSERT_OK(
      us_pollset_add(ps, sv[0], US_POLLIN | US_POLLERR | US_POLLHUP, NULL));
  ASSERT_OK(us_pollset_get(ps, sv[0], ev));
  ASSERT_EQ(ev[0].events, US_POLLIN); /* the implied bits are not kept */
  ASSERT_EQ(us_pollset_modify(ps, sv[0], 0x40), -EINVAL);
  ASSERT_EQ(us_pollset_wait(ps, ev, 0, 0, 0), -EINVAL);
  ASSERT_EQ(us_pollset_wait(ps, ev, 2, 0, 2), -EINVAL);
  ASSERT_EQ(us_pollset_wait(ps, ev, 2, -5, 0), -EINVAL);
  us_pollset_free(ps);
  close(sv[0]);
}
BOTH(bad_arguments_are_refused)

static void removing_keeps_the_others(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[8];
  int sv[3][2], tags[3];
  for (int i = 0; i < 3; i++) {
    pair(sv[i]);
    ASSERT_EQ(write(sv[i][1], "x", 1), 1);
    ASSERT_OK(us_pollset_add(ps, sv[i][0], US_POLLIN, &tags[i]));
  }
  ASSERT_EQ(wait_ms(ps, ev, 8, 0, 0), 3);
  ASSERT_OK(us_pollset_remove(ps, sv[0][0])); /* the last moves into 0 */
  ASSERT_EQ(us_pollset_count(ps), 2);
  ASSERT_EQ(us_pollset_remove(ps, sv[0][0]), -ENOENT);
  ASSERT_EQ(wait_ms(ps, ev, 8, 0, 0), 2);
  for (int i = 0; i < 2; i++) {
    ASSERT(ev[i].fd == sv[1][0] || ev[i].fd == sv[2][0]);
    ASSERT(ev[i].data == (ev[i].fd == sv[1][0] ? &tags[1] : &tags[2]));
  }
  us_pollev_t at;
  ASSERT_OK(us_pollset_at(ps, 1, &at));
  ASSERT_EQ(us_pollset_at(ps, 2, &at), -ENOENT);
  ASSERT_OK(us_pollset_remove(ps, sv[2][0]));
  ASSERT_EQ(wait_ms(ps, ev, 8, 0, 0), 1);
  ASSERT_EQ(ev[0].fd, sv[1][0]);
  us_pollset_free(ps);
  for (int i = 0; i < 3; i++) {
    close(sv[i][0]);
    close(sv[i][1]);
  }
}
BOTH(removing_keeps_the_others)

static void oneshot_disarms_until_modify(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[4];
  int sv[2], other[2];
  pair(sv);
  pair(other);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, NULL));
  ASSERT_OK(us_pollset_add(ps, other[0], US_POLLIN, NULL));
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, US_POLL_ONESHOT), 1);
  ASSERT_EQ(ev[0].fd, sv[0]);
  /* Still readable, but disarmed: neither kind of wait reports it, and
   * not even a hang-up does. */
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, 0), 0);
  close(sv[1]);
  ASSERT_EQ(wait_ms(ps, ev, 4, 50, US_POLL_ONESHOT), 0);
  /* The one not reported stayed armed. */
  ASSERT_EQ(write(other[1], "y", 1), 1);
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, 0), 1);
  ASSERT_EQ(ev[0].fd, other[0]);
  ASSERT_OK(us_pollset_modify(ps, sv[0], US_POLLIN));
  ASSERT_OK(us_pollset_remove(ps, other[0]));
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, 0), 1);
  ASSERT_EQ(ev[0].fd, sv[0]);
  ASSERT(ev[0].events & US_POLLIN);
  /* Re-adding re-arms too; removing a disarmed one is fine. */
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, US_POLL_ONESHOT), 1);
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, 0), 0);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, NULL));
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, 0), 1);
  ASSERT_EQ(wait_ms(ps, ev, 4, 0, US_POLL_ONESHOT), 1);
  ASSERT_OK(us_pollset_remove(ps, sv[0]));
  us_pollset_free(ps);
  close(sv[0]);
  close(other[0]);
  close(other[1]);
}
BOTH(oneshot_disarms_until_modify)

static void hangup_is_reported_unasked(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  int p[2];
  ASSERT_OK(pipe(p));
  ASSERT_OK(us_pollset_add(ps, p[0], 0, NULL));
  ASSERT_EQ(wait_ms(ps, ev, 2, 0, 0), 0);
  close(p[1]);
  ASSERT_EQ(wait_ms(ps, ev, 2, 1000, 0), 1);
  ASSERT_EQ(ev[0].events, US_POLLHUP);
  us_pollset_free(ps);
  close(p[0]);
}
BOTH(hangup_is_reported_unasked)

static void closed_while_registered_never_crashes(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  int sv[2], tag;
  pair(sv);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, &tag));
  close(sv[0]);
  int n = wait_ms(ps, ev, 2, 0, 0);
  if (flags & US_POLLSET_PORTABLE) {
    /* poll(2) checks every descriptor: the closed one is named. */
    ASSERT_EQ(n, 1);
    ASSERT_EQ(ev[0].events, US_POLLNVAL);
    ASSERT(ev[0].data == &tag);
  } else {
    /* epoll: the kernel dropped it at close; nothing to report. */
    ASSERT_EQ(n, 0);
  }
  ASSERT_EQ(us_pollset_modify(ps, sv[0], US_POLLIN), -EBADF);
  ASSERT_OK(us_pollset_remove(ps, sv[0]));
  ASSERT_EQ(us_pollset_count(ps), 0);
  us_pollset_free(ps);
  close(sv[1]);
}
BOTH(closed_while_registered_never_crashes)

static void reused_descriptor_number_works(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  int sv[2], again[2], a, b;
  pair(sv);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, &a));
  int num = sv[0];
  close(sv[0]);
  close(sv[1]);
  pair(again); /* the lowest free numbers: the same ones */
  ASSERT_EQ(again[0], num);
  ASSERT_OK(us_pollset_add(ps, again[0], US_POLLIN, &b));
  ASSERT_EQ(us_pollset_count(ps), 1);
  ASSERT_EQ(write(again[1], "x", 1), 1);
  ASSERT_EQ(wait_ms(ps, ev, 2, 1000, 0), 1);
  ASSERT(ev[0].data == &b);
  ASSERT_EQ(ev[0].events, US_POLLIN);
  us_pollset_free(ps);
  close(again[0]);
  close(again[1]);
}
BOTH(reused_descriptor_number_works)

static void regular_files_are_always_ready(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  char path[] = "/tmp/us_pollset_XXXXXX";
  int fd = mkstemp(path);
  ASSERT(fd >= 0);
  unlink(path);
  ASSERT_OK(us_pollset_add(ps, fd, US_POLLIN, NULL));
  ASSERT_EQ(wait_ms(ps, ev, 2, -1, 0), 1);
  ASSERT_EQ(ev[0].fd, fd);
  ASSERT_EQ(ev[0].events, US_POLLIN);
  ASSERT_OK(us_pollset_modify(ps, fd, US_POLLOUT));
  ASSERT_EQ(wait_ms(ps, ev, 2, -1, US_POLL_ONESHOT), 1);
  ASSERT_EQ(ev[0].events, US_POLLOUT);
  ASSERT_EQ(wait_ms(ps, ev, 2, 20, 0), 0); /* disarmed */
  ASSERT_OK(us_pollset_modify(ps, fd, 0));
  ASSERT_EQ(wait_ms(ps, ev, 2, 20, 0), 0); /* asks for nothing */
  ASSERT_OK(us_pollset_modify(ps, fd, US_POLLIN));
  ASSERT_EQ(wait_ms(ps, ev, 2, 0, 0), 1);
  ASSERT_OK(us_pollset_remove(ps, fd));
  ASSERT_EQ(wait_ms(ps, ev, 2, 0, 0), 0);
  us_pollset_free(ps);
  close(fd);
}
BOTH(regular_files_are_always_ready)

static void many_idle_one_ready(int flags) {
  enum { N = 400 };
  static int sv[N][2];
  struct rlimit rl;
  ASSERT_OK(getrlimit(RLIMIT_NOFILE, &rl));
  if (rl.rlim_cur < 2 * N + 64) {
    rl.rlim_cur = rl.rlim_max < 2 * N + 64 ? rl.rlim_max : 2 * N + 64;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[N];
  for (int i = 0; i < N; i++) {
    pair(sv[i]);
    ASSERT_OK(us_pollset_add(ps, sv[i][0], US_POLLIN, &sv[i]));
  }
  ASSERT_EQ(wait_ms(ps, ev, N, 0, 0), 0);
  ASSERT_EQ(write(sv[N / 3][1], "x", 1), 1);
  ASSERT_EQ(wait_ms(ps, ev, N, 0, 0), 1);
  ASSERT(ev[0].data == &sv[N / 3]);
  us_pollset_free(ps);
  for (int i = 0; i < N; i++) {
    close(sv[i][0]);
    close(sv[i][1]);
  }
}
BOTH(many_idle_one_ready)

static void max_bounds_the_results_fairly(int flags) {
  enum { N = 5 };
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  int sv[N][2], seen = 0;
  for (int i = 0; i < N; i++) {
    pair(sv[i]);
    ASSERT_EQ(write(sv[i][1], "x", 1), 1);
    ASSERT_OK(us_pollset_add(ps, sv[i][0], US_POLLIN, (void *)(intptr_t)i));
  }
  /* Level-triggered: every one is reported within a few bounded waits. */
  for (int round = 0; round < 3 * N && seen != (1 << N) - 1; round++) {
    int n = wait_ms(ps, ev, 2, 0, 0);
    ASSERT_EQ(n, 2);
    for (int i = 0; i < n; i++)
      seen |= 1 << (intptr_t)ev[i].data;
  }
  ASSERT_EQ(seen, (1 << N) - 1);
  us_pollset_free(ps);
  for (int i = 0; i < N; i++) {
    close(sv[i][0]);
    close(sv[i][1]);
  }
}
BOTH(max_bounds_the_results_fairly)

/* ---- sockets held by the set ---------------------------------------- */

static void closed_held_socket_is_nval_and_keeps_its_number(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  us_socket_t a, b;
  char c;
  tcp_pair(&a, &b);
  ASSERT_OK(us_pollset_add_socket(ps, &b, US_POLLIN, &b));
  ASSERT_OK(us_pollset_add_socket(ps, &b, US_POLLIN, &b)); /* no 2nd hold */
  ASSERT_EQ(b.busy, 1);
  ASSERT_EQ(wait_ms(ps, ev, 2, 0, 0), 0);
  int fd = b.fd;
  ASSERT_OK(us_socket_close(&b));
  ASSERT(fd_open(fd));                 /* still ours: the number stays */
  ASSERT_EQ(us_recv(&a, &c, 1, 0), 0); /* but the peer sees EOF now */
  ASSERT_EQ(wait_ms(ps, ev, 2, 1000, 0), 1);
  ASSERT_EQ(ev[0].events, US_POLLNVAL);
  ASSERT(ev[0].data == &b);
  ASSERT_EQ(wait_ms(ps, ev, 2, 0, 0), 1); /* until removed */
  ASSERT_OK(us_pollset_remove(ps, fd));
  ASSERT(!fd_open(fd)); /* the last release closed it */
  ASSERT_EQ(b.busy, 0);
  us_pollset_free(ps);
  us_socket_close(&a);
}
BOTH(closed_held_socket_is_nval_and_keeps_its_number)

static void free_and_replacement_release_held_sockets(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_socket_t a, b;
  tcp_pair(&a, &b);
  ASSERT_OK(us_pollset_add_socket(ps, &a, US_POLLIN, NULL));
  ASSERT_OK(us_pollset_add_socket(ps, &b, US_POLLIN, NULL));
  /* A bare registration of a's descriptor replaces the held one. */
  ASSERT_OK(us_pollset_add(ps, a.fd, US_POLLIN, NULL));
  ASSERT_EQ(a.busy, 0);
  int fd = b.fd;
  ASSERT_OK(us_socket_close(&b));
  ASSERT(fd_open(fd));
  us_pollset_free(ps);
  ASSERT(!fd_open(fd));
  us_socket_close(&a);
}
BOTH(free_and_replacement_release_held_sockets)

/* ---- the host's hooks and signals ---------------------------------- */

static int checks, check_result;
static us_pollset_t *hook_set;
static int hook_fd = -1;

/* Runs, lock held, after each EINTR: may change the set under way, and
 * must find it busy. */
static int count_check(void) {
  us_pollev_t ev[1];
  checks++;
  if (hook_set) {
    ASSERT_EQ(us_pollset_wait(hook_set, ev, 1, 0, 0), -EBUSY);
    if (hook_fd >= 0) {
      ASSERT_OK(us_pollset_add(hook_set, hook_fd, US_POLLIN, &hook_fd));
      hook_fd = -1;
    }
  }
  return check_result;
}
static const us_host_t counting_host = {test_unlock, test_lock, count_check,
                                        NULL, 0};

static void on_alarm(int sig) { (void)sig; }

/* SIGALRM every period_ms, interrupting system calls (no SA_RESTART). */
static void alarms(int period_ms) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  ASSERT_OK(sigaction(SIGALRM, &sa, NULL));
  struct itimerval it = {{0, period_ms * 1000}, {0, period_ms * 1000}};
  ASSERT_OK(setitimer(ITIMER_REAL, &it, NULL));
}

static void lock_is_released_only_to_wait(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  int sv[2];
  pair(sv);
  us_set_host(&counting_host);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, NULL));
  ASSERT_EQ(wait_ms(ps, ev, 2, 0, 0), 0);
  ASSERT_EQ(host_unlocks, 0); /* a zero-time check keeps the lock */
  ASSERT_EQ(wait_ms(ps, ev, 2, 30, 0), 0);
  ASSERT(host_unlocks >= 1);
  ASSERT_EQ(host_unlocks, host_locks);
  us_set_host(NULL);
  us_pollset_free(ps);
  close(sv[0]);
  close(sv[1]);
}
BOTH(lock_is_released_only_to_wait)

static void signals_keep_the_deadline(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  int sv[2];
  pair(sv);
  us_set_host(&counting_host);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, NULL));
  alarms(20);
  int64_t t0 = now_ms();
  ASSERT_EQ(wait_ms(ps, ev, 2, 250, 0), 0);
  int64_t dt = now_ms() - t0;
  ASSERT(dt >= 250 && dt < LATE_MS(250));
  ASSERT(checks >= 3); /* the handlers ran, and the wait went on */
  ASSERT_EQ(host_unlocks, host_locks);
  us_set_host(NULL);
  us_pollset_free(ps);
  close(sv[0]);
  close(sv[1]);
}
BOTH(signals_keep_the_deadline)

static void host_error_after_a_signal_ends_the_wait(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  int sv[2];
  pair(sv);
  us_set_host(&counting_host);
  check_result = -EINTR;
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLIN, NULL));
  alarms(30);
  int64_t t0 = now_ms();
  ASSERT_EQ(wait_ms(ps, ev, 2, -1, 0), -EINTR);
  ASSERT(now_ms() - t0 < 1000);
  ASSERT_EQ(host_unlocks, host_locks);
  /* The set is usable again afterwards. */
  check_result = 0;
  ASSERT_EQ(wait_ms(ps, ev, 2, 0, 0), 0);
  us_set_host(NULL);
  us_pollset_free(ps);
  close(sv[0]);
  close(sv[1]);
}
BOTH(host_error_after_a_signal_ends_the_wait)

static void changes_made_by_a_handler_count(int flags) {
  us_pollset_t *ps = new_set(flags);
  us_pollev_t ev[2];
  int idle[2], ready[2];
  pair(idle);
  pair(ready);
  ASSERT_EQ(write(ready[1], "x", 1), 1);
  ASSERT_OK(us_pollset_add(ps, idle[0], US_POLLIN, NULL));
  us_set_host(&counting_host);
  hook_set = ps;
  hook_fd = ready[0];
  alarms(30);
  int64_t t0 = now_ms();
  ASSERT_EQ(wait_ms(ps, ev, 2, 5000, 0), 1);
  ASSERT(now_ms() - t0 < 2000);
  ASSERT_EQ(ev[0].fd, ready[0]);
  ASSERT(ev[0].data == &hook_fd);
  hook_set = NULL;
  us_set_host(NULL);
  us_pollset_free(ps);
  close(idle[0]);
  close(idle[1]);
  close(ready[0]);
  close(ready[1]);
}
BOTH(changes_made_by_a_handler_count)

/* A descriptor's number sizes a table only once it is known open: a
 * huge closed one fails at once, allocating nothing (it once took 8 GiB
 * and seconds), and a huge max sizes nothing beyond what is registered. */
static void huge_numbers_allocate_nothing(int flags) {
  us_pollset_t *ps = new_set(flags);
  int sv[2];
  us_pollev_t out[1];
  pair(sv);
  int64_t t0 = now_ms();
  ASSERT_EQ(us_pollset_add(ps, 0x7fffffff, US_POLLIN, NULL), -EBADF);
  ASSERT_EQ(us_pollset_add(ps, 1 << 24, US_POLLIN, NULL), -EBADF);
  ASSERT(now_ms() - t0 < 1000);
  ASSERT_EQ(us_pollset_count(ps), 0);
  ASSERT_OK(us_pollset_add(ps, sv[0], US_POLLOUT, &sv[0]));
  ASSERT_EQ(us_pollset_wait(ps, out, (size_t)1 << 60, 0, 0), 1);
  ASSERT(out[0].data == &sv[0] && (out[0].events & US_POLLOUT));
  us_pollset_free(ps);
  close(sv[0]);
  close(sv[1]);
}
BOTH(huge_numbers_allocate_nothing)

TEST_TABLE(pollset_tests) = {
    ROWS(backend_is_named),
    ROWS(wait_times_out_on_the_deadline),
    ROWS(reports_ready_with_its_data),
    ROWS(adding_again_replaces_mask_and_data),
    ROWS(bad_arguments_are_refused),
    ROWS(removing_keeps_the_others),
    ROWS(oneshot_disarms_until_modify),
    ROWS(hangup_is_reported_unasked),
    ROWS(closed_while_registered_never_crashes),
    ROWS(reused_descriptor_number_works),
    ROWS(regular_files_are_always_ready),
    ROWS(many_idle_one_ready),
    ROWS(max_bounds_the_results_fairly),
    ROWS(closed_held_socket_is_nval_and_keeps_its_number),
    ROWS(free_and_replacement_release_held_sockets),
    ROWS(lock_is_released_only_to_wait),
    ROWS(signals_keep_the_deadline),
    ROWS(host_error_after_a_signal_ends_the_wait),
    ROWS(changes_made_by_a_handler_count),
    ROWS(huge_numbers_allocate_nothing),
    TEST_END,
};
