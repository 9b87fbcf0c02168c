/* main.c: runs every C test of the core, each in its own child so that
 * one crash names its test. Arguments filter by name: "word" keeps the
 * tests whose name contains it, "-word" drops them.
 *
 * A test gets at most US_TEST_LIMIT seconds (default 300); its child leads
 * a process group of its own, and when it ends, so does anything it forked
 * and left behind: a hung grandchild would otherwise hold the run's output
 * open, and whatever reads it (make, tee) would wait for ever. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static const struct test_case *tables[64];
static size_t ntables;

void test_register(const struct test_case *table) {
  if (ntables < sizeof tables / sizeof tables[0])
    tables[ntables++] = table;
}

void tcp_listener(us_socket_t *lsn, us_addr_t *addr) {
  ASSERT_OK(us_socket_open(lsn, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_addr_parse(addr, AF_INET, "127.0.0.1", 0));
  ASSERT_OK(us_bind(lsn, addr));
  ASSERT_OK(us_listen(lsn, 16));
  ASSERT_OK(us_getsockname(lsn, addr));
}

void tcp_pair(us_socket_t *a, us_socket_t *b) {
  us_socket_t lsn;
  us_addr_t addr;
  tcp_listener(&lsn, &addr);
  ASSERT_OK(us_socket_open(a, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_connect(a, &addr));
  ASSERT_OK(us_accept(&lsn, b, NULL));
  ASSERT_OK(us_socket_close(&lsn));
}

static int heap_grow(us_sink_t *sink, size_t need) {
  struct heap_sink *h = (struct heap_sink *)sink;
  char *p = realloc(sink->data, need);
  if (!p)
    return -ENOMEM;
  sink->data = p;
  sink->cap = need;
  h->grows++;
  if (need > h->largest)
    h->largest = need;
  return 0;
}

void heap_sink_init(struct heap_sink *h) {
  memset(h, 0, sizeof *h);
  h->sink.grow = heap_grow;
}

size_t read_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  ASSERT(f != NULL);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  ASSERT(n > 0 && n < cap);
  return n;
}

int host_unlocks, host_locks;

void *test_unlock(void) {
  host_unlocks++;
  return &host_unlocks;
}

void test_lock(void *token) {
  ASSERT(token == &host_unlocks);
  host_locks++;
}

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t slack_ms(void) {
  const char *env = getenv("US_TEST_SLACK_MS");
  return env && *env ? strtoll(env, NULL, 10) : 400;
}

/* The kernel's descriptors; a backend whose sockets are not the kernel's
 * counts its own (tests/c/lwip_stack.c). */
__attribute__((weak)) int open_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  ASSERT(d != NULL);
  while (readdir(d))
    n++;
  closedir(d);
  return n - 3; /* ".", ".." and the directory's own descriptor */
}

/* A backend's build may bring its stack up in each test's child, and name
 * the tests that cannot hold on it (tests/c/lwip_stack.c). */
__attribute__((weak)) void test_child_setup(void) {}
__attribute__((weak)) const char *test_skip_reason(const char *name) {
  (void)name;
  return NULL;
}

__attribute__((weak)) int fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

static int selected(const char *name, int argc, char **argv) {
  int keep = 1, any_keep = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') {
      if (strstr(name, argv[i] + 1))
        return 0;
    } else {
      any_keep = 1;
      if (strstr(name, argv[i]))
        keep = 2;
    }
  }
  return !any_keep || keep == 2;
}

static int64_t mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits for the test's child for at most limit_s seconds (SIGCHLD, in
 * *chld, is blocked, so that sigtimedwait sees it), ends its process group
 * either way, and returns its wait status. */
static int wait_test(pid_t pid, int limit_s, const sigset_t *chld) {
  int64_t end = mono_ms() + (int64_t)limit_s * 1000;
  int status = 1; /* not an exit: a failure, unless a wait says otherwise */
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR))
      break;
    int64_t left = end - mono_ms();
    if (left <= 0) {
      printf("  no end after %d s: stopped\n", limit_s);
      kill(-pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
      break;
    }
    struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000};
    sigtimedwait(chld, NULL, &ts);
  }
  kill(-pid, SIGKILL);
  return status;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0, skipped = 0;
  const char *limit_env = getenv("US_TEST_LIMIT");
  int limit_s = limit_env ? atoi(limit_env) : 0;
  if (limit_s <= 0)
    limit_s = 300;
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old);
  for (size_t t = 0; t < ntables; t++) {
    for (const struct test_case *c = tables[t]; c->name; c++) {
      if (!selected(c->name, argc, argv))
        continue;
      /* US_TEST_RUN_SKIPPED runs the listed ones too: are they still? */
      const char *why = test_skip_reason(c->name);
      if (why && !getenv("US_TEST_RUN_SKIPPED")) {
        printf("skip %s: %s\n", c->name, why);
        skipped++;
        continue;
      }
      fflush(stdout);
      pid_t pid = fork();
      ASSERT(pid >= 0);
      if (pid == 0) {
        setpgid(0, 0);
        sigprocmask(SIG_SETMASK, &old, NULL);
        test_child_setup();
        c->fn();
        _exit(0);
      }
      setpgid(pid, pid); /* as the child does: whichever runs first */
      int status = wait_test(pid, limit_s, &chld);
      int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      printf("%s %s\n", ok ? "ok  " : "FAIL", c->name);
      ok ? passed++ : failed++;
    }
  }
  if (skipped)
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  else
    printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
