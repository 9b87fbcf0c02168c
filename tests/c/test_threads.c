/* test_threads.c: sockets and buffered streams shared by threads (whole
 * lines to each reader, close waking them all), and by a forked child
 * (its close leaves the parent's socket alone). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define RECORDS 40000
/* Record i is "r", i in (8 + i % 17) digits, "\n": lines of different
 * lengths, so that a reader taking another's line's length is seen. */
#define WIDTH(i) (8 + (i) % 17)
#define RECORD_MAX 27

struct readers {
  us_socket_t *s;
  us_bufstream_t *b; /* NULL: readline on s */
  unsigned char seen[RECORDS];
  int bad;
  pthread_mutex_t mu;
};

static int record(char *at, int i) {
  return sprintf(at, "r%0*d\n", WIDTH(i), i);
}

static void note(struct readers *r, const char *line, size_t len) {
  int i = -1;
  char copy[RECORD_MAX + 1];
  if (len <= RECORD_MAX && len > 2 && line[0] == 'r' && line[len - 1] == '\n') {
    memcpy(copy, line, len);
    copy[len] = 0;
    if (sscanf(copy + 1, "%d", &i) != 1 || i < 0 || i >= RECORDS ||
        len != (size_t)WIDTH(i) + 2 || memchr(copy, '\n', len - 1))
      i = -1;
  }
  pthread_mutex_lock(&r->mu);
  if (i < 0 || i >= RECORDS || r->seen[i]++)
    r->bad++;
  pthread_mutex_unlock(&r->mu);
}

static void *read_lines(void *arg) {
  struct readers *r = arg;
  char buf[64];
  for (;;) {
    const char *line;
    size_t len;
    if (r->b && us_bufstream_takeline(r->b, &line, &len, sizeof buf)) {
      note(r, line, len);
      us_bufstream_takeline_done(r->b);
      continue;
    }
    us_sink_t sink;
    us_sink_fixed(&sink, buf, sizeof buf);
    ssize_t n = r->b ? us_bufstream_readline(r->b, &sink, sizeof buf)
                     : us_readline(r->s, &sink, sizeof buf);
    if (n <= 0) {
      if (n < 0)
        r->bad++;
      return NULL;
    }
    note(r, buf, (size_t)n);
  }
}

static void send_records(us_socket_t *a) {
  char chunk[RECORD_MAX * 100 + 1];
  for (int i = 0; i < RECORDS; i += 100) {
    int len = 0;
    for (int j = 0; j < 100; j++)
      len += record(chunk + len, i + j);
    ASSERT_OK(us_sendall(a, chunk, (size_t)len, 0, NULL));
  }
  ASSERT_OK(us_shutdown(a, SHUT_WR));
}

static void two_readers(int buffered) {
  us_socket_t a, b;
  us_bufstream_t bs;
  static struct readers r;
  pthread_t t[2];
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&b, 20000000000LL));
  memset(&r, 0, sizeof r);
  pthread_mutex_init(&r.mu, NULL);
  r.s = &b;
  if (buffered) {
    ASSERT_OK(us_bufstream_init(&bs, &b, 40));
    r.b = &bs;
  }
  for (int i = 0; i < 2; i++)
    ASSERT_EQ(pthread_create(&t[i], NULL, read_lines, &r), 0);
  send_records(&a);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  ASSERT_EQ(r.bad, 0);
  for (int i = 0; i < RECORDS; i++)
    ASSERT_EQ(r.seen[i], 1);
  if (buffered)
    us_bufstream_free(&bs);
  pthread_mutex_destroy(&r.mu);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void two_threads_readline_one_socket_whole_lines(void) {
  two_readers(0);
}

static void two_threads_readline_one_bufstream_whole_lines(void) {
  two_readers(1);
}

/* ---- close ------------------------------------------------------------ */

struct blocked {
  us_socket_t *s;
  us_bufstream_t *b;
  ssize_t result;
};

static void *readline_once(void *arg) {
  struct blocked *k = arg;
  char buf[16];
  us_sink_t sink;
  us_sink_fixed(&sink, buf, sizeof buf);
  k->result = k->b ? us_bufstream_readline(k->b, &sink, sizeof buf)
                   : us_readline(k->s, &sink, sizeof buf);
  return NULL;
}

/* One reader blocked in the kernel, three waiting for it: close wakes
 * them all, and the stream's buffers may be freed once they have left. */
static void close_wakes_blocked_and_waiting_readers(void) {
  us_socket_t a, b;
  us_bufstream_t bs;
  struct blocked k[4];
  pthread_t t[4];
  tcp_pair(&a, &b);
  ASSERT_OK(us_bufstream_init(&bs, &b, 64));
  for (int i = 0; i < 4; i++) {
    k[i].s = &b;
    k[i].b = &bs;
    k[i].result = 1;
    ASSERT_EQ(pthread_create(&t[i], NULL, readline_once, &k[i]), 0);
  }
  usleep(200000);
  int64_t t0 = now_ms();
  ASSERT_OK(us_bufstream_close(&bs));
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  ASSERT(now_ms() - t0 < 3000);
  for (int i = 0; i < 4; i++)
    ASSERT_EQ(k[i].result, -EBADF);
  us_bufstream_free(&bs);
  us_socket_close(&a);
}

/* A reader waiting behind another still has the socket's deadline. */
static void waiting_reader_keeps_its_timeout(void) {
  us_socket_t a, b;
  struct blocked first = {NULL, NULL, 1}, second;
  pthread_t t;
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&b, 500000000));
  first.s = &b;
  second = first;
  ASSERT_EQ(pthread_create(&t, NULL, readline_once, &first), 0);
  usleep(50000);
  int64_t t0 = now_ms();
  readline_once(&second);
  int64_t took = now_ms() - t0;
  pthread_join(t, NULL);
  ASSERT_EQ(second.result, -ETIMEDOUT);
  ASSERT_EQ(first.result, -ETIMEDOUT);
  ASSERT(took >= 300 && took < 3000);
  us_socket_close(&a);
  us_socket_close(&b);
}

/* ---- fork -------------------------------------------------------------- */

/* The child closes its copy of s and exits 0 if its descriptor is closed;
 * returns the child's exit code. */
static int fork_and_close(us_socket_t *s) {
  int fd = s->fd, status;
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    us_socket_close(s);
    _exit(fcntl(fd, F_GETFD) < 0 ? 0 : 1);
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void *recv_once(void *arg) {
  struct blocked *k = arg;
  char buf[16];
  k->result = us_recv(k->s, buf, sizeof buf, 0);
  return NULL;
}

static void child_close_of_socket_with_blocked_recv_leaves_parents(void) {
  us_socket_t a, b;
  struct blocked k = {NULL, NULL, 1};
  pthread_t t;
  char c;
  tcp_pair(&a, &b);
  k.s = &b;
  ASSERT_EQ(pthread_create(&t, NULL, recv_once, &k), 0);
  usleep(200000);
  ASSERT_EQ(fork_and_close(&b), 0);
  /* Neither end saw the connection shut down. */
  ASSERT_OK(us_settimeout(&a, 300000000));
  ASSERT_EQ(us_recv(&a, &c, 1, 0), -ETIMEDOUT);
  ASSERT_EQ(us_send(&b, "x", 1, 0), 1);
  ASSERT_EQ(us_recv(&a, &c, 1, 0), 1);
  ASSERT_EQ(us_send(&a, "back", 4, 0), 4);
  pthread_join(t, NULL);
  ASSERT_EQ(k.result, 4);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void child_close_of_polled_socket_leaves_parents(void) {
  us_socket_t a, b;
  us_pollset_t *ps;
  us_pollev_t ev[2];
  char c;
  tcp_pair(&a, &b);
  ASSERT_OK(us_pollset_new(&ps, 0));
  ASSERT_OK(us_pollset_add_socket(ps, &b, US_POLLIN, &b));
  ASSERT_EQ(fork_and_close(&b), 0);
  ASSERT_OK(us_settimeout(&a, 300000000));
  ASSERT_EQ(us_recv(&a, &c, 1, 0), -ETIMEDOUT);
  ASSERT_EQ(us_send(&a, "x", 1, 0), 1);
  ASSERT_EQ(us_pollset_wait(ps, ev, 2, 5000000000LL, 0), 1);
  ASSERT_EQ(ev[0].events, US_POLLIN);
  ASSERT_OK(us_pollset_remove(ps, b.fd));
  us_pollset_free(ps);
  us_socket_close(&a);
  us_socket_close(&b);
}

/* A lock held in the parent when it forked is free in the child: both
 * read a line while the parent's reader still holds the parent's lock. */
static void child_reads_socket_whose_lock_parent_held(void) {
  us_socket_t a, b;
  struct blocked k = {NULL, NULL, 1};
  pthread_t t;
  int status;
  tcp_pair(&a, &b);
  k.s = &b;
  ASSERT_EQ(pthread_create(&t, NULL, readline_once, &k), 0);
  usleep(200000);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    char buf[16];
    us_sink_t sink;
    us_sink_fixed(&sink, buf, sizeof buf);
    _exit(us_readline(&b, &sink, sizeof buf) == 3 ? 0 : 1);
  }
  usleep(100000);
  /* Two lines: whoever takes the first, the other gets the second. */
  ASSERT_EQ(us_send(&a, "hi\nhi\n", 6, 0), 6);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  pthread_join(t, NULL);
  ASSERT_EQ(k.result, 3);
  us_socket_close(&a);
  us_socket_close(&b);
}

TEST_TABLE(thread_tests) = {
    {"threads_two_threads_readline_one_socket_whole_lines",
     two_threads_readline_one_socket_whole_lines},
    {"threads_two_threads_readline_one_bufstream_whole_lines",
     two_threads_readline_one_bufstream_whole_lines},
    {"threads_close_wakes_blocked_and_waiting_readers",
     close_wakes_blocked_and_waiting_readers},
    {"threads_waiting_reader_keeps_its_timeout",
     waiting_reader_keeps_its_timeout},
    {"fork_child_close_of_socket_with_blocked_recv_leaves_parents",
     child_close_of_socket_with_blocked_recv_leaves_parents},
    {"fork_child_close_of_polled_socket_leaves_parents",
     child_close_of_polled_socket_leaves_parents},
    {"fork_child_reads_socket_whose_lock_parent_held",
     child_reads_socket_whose_lock_parent_held},
    TEST_END};
