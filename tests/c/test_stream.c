/* test_stream.c: read, readline, write, sendall, and growing sinks. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static void read_has_no_short_reads(void) {
  us_socket_t a, b;
  char buf[10];
  us_sink_t sink;
  tcp_pair(&a, &b);
  ASSERT_EQ(us_send(&a, "hello", 5, 0), 5);
  ASSERT_EQ(us_send(&a, "world", 5, 0), 5);
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_read(&b, &sink, 10), 10);
  ASSERT(memcmp(buf, "helloworld", 10) == 0);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void read_stops_at_eof_then_returns_zero(void) {
  us_socket_t a, b;
  struct heap_sink h;
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  ASSERT_EQ(us_write(&a, "abc", 3), 3);
  us_socket_close(&a);
  ASSERT_EQ(us_read(&b, &h.sink, SIZE_MAX), 3);
  ASSERT(memcmp(h.sink.data, "abc", 3) == 0);
  ASSERT_EQ(us_read(&b, &h.sink, SIZE_MAX), 0);
  free(h.sink.data);
  us_socket_close(&b);
}

static void readline_never_reads_past_newline(void) {
  us_socket_t a, b;
  struct heap_sink h;
  char rest[16];
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  ASSERT_EQ(us_write(&a, "one\ntwo\nthree", 13), 13);
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 4);
  ASSERT(memcmp(h.sink.data, "one\n", 4) == 0);
  /* The rest is still the kernel's: a plain recv sees it. */
  usleep(10000);
  ASSERT_EQ(us_recv(&b, rest, 4, 0), 4);
  ASSERT(memcmp(rest, "two\n", 4) == 0);
  h.sink.len = 0;
  us_socket_close(&a);
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 5);
  ASSERT(memcmp(h.sink.data, "three", 5) == 0);
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 0);
  free(h.sink.data);
  us_socket_close(&b);
}

static void readline_long_line_and_max(void) {
  us_socket_t a, b;
  struct heap_sink h;
  static char line[100001];
  for (size_t i = 0; i < sizeof line - 1; i++)
    line[i] = 'a' + i % 26;
  line[sizeof line - 1] = '\n';
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  ASSERT_OK(us_sendall(&a, line, sizeof line, 0, NULL));
  ASSERT_EQ(us_readline(&b, &h.sink, 10), 10);
  ASSERT(memcmp(h.sink.data, line, 10) == 0);
  h.sink.len = 0;
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), sizeof line - 10);
  ASSERT(memcmp(h.sink.data, line + 10, sizeof line - 10) == 0);
  free(h.sink.data);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void readline_fixed_sink_stops_when_full(void) {
  us_socket_t a, b;
  char buf[4];
  us_sink_t sink;
  tcp_pair(&a, &b);
  ASSERT_EQ(us_write(&a, "abcdefgh\n", 9), 9);
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_readline(&b, &sink, SIZE_MAX), 4);
  ASSERT(memcmp(buf, "abcd", 4) == 0);
  ASSERT_EQ(us_readline(&b, &sink, SIZE_MAX), 0); /* no room: nothing taken */
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_readline(&b, &sink, SIZE_MAX), 4);
  ASSERT(memcmp(buf, "efgh", 4) == 0);
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_readline(&b, &sink, SIZE_MAX), 1);
  ASSERT_EQ(buf[0], '\n');
  us_socket_close(&a);
  us_socket_close(&b);
}

/* What the kernel still holds for b, without taking it. */
static size_t queued(us_socket_t *b, char *buf, size_t len) {
  ssize_t n = recv(b->fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 ? 0 : (size_t)n;
}

static void expect_line(us_socket_t *b, size_t max, const char *want) {
  struct heap_sink h;
  heap_sink_init(&h);
  ASSERT_EQ(us_readline(b, &h.sink, max), (ssize_t)strlen(want));
  ASSERT(memcmp(h.sink.data, want, strlen(want)) == 0);
  free(h.sink.data);
}

static void readline_remembers_the_lines_a_look_saw(void) {
  us_socket_t a, b;
  char rest[64];
  tcp_pair(&a, &b);
  ASSERT_EQ(us_write(&a, "a1\nb22\nc333\nd4444\ne55555\nf\n", 27), 27);
  usleep(10000);
  expect_line(&b, SIZE_MAX, "a1\n");
  /* The look noted the first US_RX_LINES lines, the one taken included;
   * the kernel still holds all but that one. */
  ASSERT_EQ(b.rx_line[0], 4);
  ASSERT_EQ(b.rx_line[1], 5);
  ASSERT_EQ(b.rx_line[2], 6);
  ASSERT_EQ(b.rx_line[3], 0);
  ASSERT_EQ(queued(&b, rest, sizeof rest), 24);
  expect_line(&b, SIZE_MAX, "b22\n");
  ASSERT_EQ(queued(&b, rest, sizeof rest), 20);
  ASSERT(memcmp(rest, "c333\n", 5) == 0);
  /* A read of part of a line: the rest of it is still known. */
  char two[2];
  us_sink_t sink;
  us_sink_fixed(&sink, two, sizeof two);
  ASSERT_EQ(us_read(&b, &sink, 2), 2);
  ASSERT(memcmp(two, "c3", 2) == 0);
  ASSERT_EQ(b.rx_line[0], 3);
  expect_line(&b, SIZE_MAX, "33\n");
  /* A limit shorter than the known line: it is cut there, and the rest
   * comes next. */
  expect_line(&b, 2, "d4");
  expect_line(&b, SIZE_MAX, "444\n");
  /* A peek of the caller's own changes nothing. */
  ASSERT_EQ(us_recv(&b, rest, 3, MSG_PEEK), 3);
  expect_line(&b, SIZE_MAX, "e55555\n");
  expect_line(&b, SIZE_MAX, "f\n");
  ASSERT_EQ(b.rx_line[0], 0);
  ASSERT_EQ(queued(&b, rest, sizeof rest), 0);
  us_socket_close(&a);
  expect_line(&b, SIZE_MAX, "");
  us_socket_close(&b);
}

static void readline_known_line_gone_behind_its_back(void) {
  us_socket_t a, b;
  char rest[64];
  tcp_pair(&a, &b);
  us_settimeout(&b, 2000 * (int64_t)1000000);
  ASSERT_EQ(us_write(&a, "one\ntwo\nthree\n", 14), 14);
  usleep(10000);
  expect_line(&b, SIZE_MAX, "one\n");
  ASSERT_EQ(b.rx_line[0], 4);
  /* Someone else empties the queue: the known line is not there, so
   * readline forgets it and waits for the next one the usual way. */
  ASSERT_EQ(recv(b.fd, rest, sizeof rest, 0), 10);
  ASSERT_EQ(us_write(&a, "four, longer\nfive\nseven\n", 24), 24);
  usleep(10000);
  expect_line(&b, SIZE_MAX, "four, longer\n");
  ASSERT_EQ(b.rx_line[0], 5);
  ASSERT_EQ(b.rx_line[1], 6);
  /* Part of the queue taken behind its back: the known 5 bytes are taken
   * as they now are ("ve\nse", as documented), then what it knew is
   * forgotten at once and the rest of the line found by looking: nothing
   * is lost and nothing waits for bytes that are not coming. */
  ASSERT_EQ(recv(b.fd, rest, 2, 0), 2);
  int64_t t0 = now_ms();
  expect_line(&b, SIZE_MAX, "ve\nseven\n");
  ASSERT(now_ms() - t0 < 1000);
  ASSERT_EQ(queued(&b, rest, sizeof rest), 0);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void shutdown_and_detach_forget_the_lines(void) {
  us_socket_t a, b;
  tcp_pair(&a, &b);
  ASSERT_EQ(us_write(&a, "x\ny\n", 4), 4);
  usleep(10000);
  expect_line(&b, SIZE_MAX, "x\n");
  ASSERT_EQ(b.rx_line[0], 2);
  ASSERT_OK(us_shutdown(&b, SHUT_RD));
  ASSERT_EQ(b.rx_line[0], 0);
  ASSERT_EQ(b.rx_known, 0);
  ASSERT_EQ(us_write(&a, "z\n", 2), 2);
  int fd = us_socket_detach(&b);
  ASSERT_EQ(b.rx_line[0], 0);
  close(fd);
  us_socket_close(&a);
}

static void timed_read_returns_partial_then_times_out(void) {
  us_socket_t a, b;
  char buf[10];
  us_sink_t sink;
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&b, 100 * 1000000LL));
  ASSERT_EQ(us_write(&a, "abc", 3), 3);
  us_sink_fixed(&sink, buf, sizeof buf);
  int64_t t0 = now_ms();
  ASSERT_EQ(us_read(&b, &sink, 10), 3); /* nothing lost */
  int64_t dt = now_ms() - t0;
  ASSERT(dt >= 95 && dt < LATE_MS(100));
  sink.len = 0;
  ASSERT_EQ(us_read(&b, &sink, 10), -ETIMEDOUT);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void nonblocking_read_and_write(void) {
  us_socket_t a, b;
  char buf[8];
  us_sink_t sink;
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&b, 0));
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_read(&b, &sink, 8), -EAGAIN);
  ASSERT_EQ(us_write(&a, "xy", 2), 2);
  usleep(10000);
  ASSERT_EQ(us_read(&b, &sink, 8), 2);
  /* Fill the pipe: a non-blocking write goes short, then -EAGAIN. */
  ASSERT_OK(us_settimeout(&a, 0));
  static char chunk[1 << 16];
  ssize_t n;
  size_t total = 0;
  while ((n = us_write(&a, chunk, sizeof chunk)) > 0)
    total += (size_t)n;
  ASSERT_EQ(n, -EAGAIN);
  ASSERT(total > 0);
  size_t sent = 0;
  ASSERT_EQ(us_sendall(&a, chunk, sizeof chunk, 0, &sent), -EAGAIN);
  ASSERT_EQ(sent, 0);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void sendall_deadline_bounds_whole_call(void) {
  us_socket_t a, b;
  size_t len = (size_t)64 << 20, sent = 0;
  char *big = calloc(1, len);
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&a, 150 * 1000000LL));
  int64_t t0 = now_ms();
  ASSERT_EQ(us_sendall(&a, big, len, 0, &sent), -ETIMEDOUT);
  int64_t dt = now_ms() - t0;
  free(big);
  ASSERT(sent > 0 && sent < len);
  ASSERT(dt >= 145 && dt < LATE_MS(150));
  us_socket_close(&a);
  us_socket_close(&b);
}

static void huge_recv_grows_only_to_what_arrived(void) {
  us_socket_t a, b;
  struct heap_sink h;
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  ASSERT_EQ(us_write(&a, "12345", 5), 5);
  ASSERT_EQ(us_recv_sink(&b, &h.sink, (size_t)1 << 31, 0), 5);
  ASSERT(h.largest <= 65536);
  ASSERT(memcmp(h.sink.data, "12345", 5) == 0);
  free(h.sink.data);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void reset_after_bytes_is_reported_next(void) {
  us_socket_t a, b;
  struct heap_sink h;
  struct linger lg = {1, 0};
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  ASSERT_EQ(us_write(&a, "data", 4), 4);
  usleep(10000);
  ASSERT_OK(us_setsockopt(&a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
  us_socket_close(&a); /* sends RST */
  usleep(10000);
  ssize_t n = us_read(&b, &h.sink, SIZE_MAX);
  /* Linux may drop unread data on RST; whatever arrived is returned, and
   * the reset itself is never swallowed. */
  if (n == 4) {
    ASSERT(memcmp(h.sink.data, "data", 4) == 0);
    n = us_read(&b, &h.sink, SIZE_MAX);
  }
  ASSERT_EQ(n, -ECONNRESET);
  free(h.sink.data);
  us_socket_close(&b);
}

struct closer {
  us_socket_t *s;
  int delay_ms;
};

static void *peer_writes_late(void *arg) {
  struct closer *c = arg;
  usleep(c->delay_ms * 1000);
  us_write(c->s, "late\n", 5);
  return NULL;
}

static void blocking_readline_waits_for_peer(void) {
  us_socket_t a, b;
  struct heap_sink h;
  pthread_t t;
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  struct closer c = {&a, 50};
  pthread_create(&t, NULL, peer_writes_late, &c);
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 5);
  pthread_join(t, NULL);
  ASSERT(memcmp(h.sink.data, "late\n", 5) == 0);
  free(h.sink.data);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void *close_later(void *arg) {
  struct closer *c = arg;
  usleep(c->delay_ms * 1000);
  us_socket_close(c->s);
  return NULL;
}

static void close_from_another_thread_wakes_recv(void) {
  us_socket_t a, b;
  char buf[4];
  pthread_t t;
  tcp_pair(&a, &b);
  struct closer c = {&b, 50};
  int before = open_fds();
  pthread_create(&t, NULL, close_later, &c);
  int64_t t0 = now_ms();
  ASSERT_EQ(us_recv(&b, buf, sizeof buf, 0), -EBADF);
  ASSERT(now_ms() - t0 < 1000);
  pthread_join(t, NULL);
  ASSERT_EQ(open_fds(), before - 1); /* the last call out closed it */
  us_socket_close(&a);
}

static void close_from_another_thread_wakes_accept(void) {
  us_socket_t lsn, conn;
  us_addr_t addr;
  pthread_t t;
  tcp_listener(&lsn, &addr);
  struct closer c = {&lsn, 50};
  pthread_create(&t, NULL, close_later, &c);
  int64_t t0 = now_ms();
  ASSERT_EQ(us_accept(&lsn, &conn, NULL), -EBADF);
  ASSERT(now_ms() - t0 < 1000);
  pthread_join(t, NULL);
}

struct midcall {
  us_socket_t *s;
  struct heap_sink h;
  ssize_t got;
  int finished;
};

static void *read_100(void *arg) {
  struct midcall *m = arg;
  m->got = us_read(m->s, &m->h.sink, 100);
  __atomic_store_n(&m->finished, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* A call keeps the timeout it began with: a blocking read(100) that
 * another thread's us_settimeout() meets mid-call still waits for all 100
 * bytes, however long that takes. */
static void settimeout_midcall_leaves_a_blocking_read_blocking(void) {
  us_socket_t a, b;
  pthread_t t;
  tcp_pair(&a, &b);
  struct midcall m;
  memset(&m, 0, sizeof m);
  m.s = &b;
  heap_sink_init(&m.h);
  pthread_create(&t, NULL, read_100, &m);
  usleep(100 * 1000);
  ASSERT_OK(us_settimeout(&b, 50 * 1000000LL));
  ASSERT_EQ(us_write(&a, "0123456789", 10), 10);
  usleep(300 * 1000); /* six times the new timeout */
  ASSERT_EQ(__atomic_load_n(&m.finished, __ATOMIC_ACQUIRE), 0);
  char rest[90];
  memset(rest, 'y', sizeof rest);
  ASSERT_EQ(us_write(&a, rest, sizeof rest), 90);
  pthread_join(t, NULL);
  ASSERT_EQ(m.got, 100);
  ASSERT(memcmp(m.h.sink.data, "0123456789yy", 12) == 0);
  free(m.h.sink.data);
  us_socket_close(&a);
  us_socket_close(&b);
}

TEST_TABLE(stream_tests) = {
    {"stream_settimeout_midcall_leaves_a_blocking_read_blocking",
     settimeout_midcall_leaves_a_blocking_read_blocking},
    {"stream_read_has_no_short_reads", read_has_no_short_reads},
    {"stream_read_stops_at_eof_then_returns_zero",
     read_stops_at_eof_then_returns_zero},
    {"stream_readline_never_reads_past_newline",
     readline_never_reads_past_newline},
    {"stream_readline_long_line_and_max", readline_long_line_and_max},
    {"stream_readline_fixed_sink_stops_when_full",
     readline_fixed_sink_stops_when_full},
    {"stream_readline_remembers_the_lines_a_look_saw",
     readline_remembers_the_lines_a_look_saw},
    {"stream_readline_known_line_gone_behind_its_back",
     readline_known_line_gone_behind_its_back},
    {"stream_shutdown_and_detach_forget_the_lines",
     shutdown_and_detach_forget_the_lines},
    {"stream_timed_read_returns_partial_then_times_out",
     timed_read_returns_partial_then_times_out},
    {"stream_nonblocking_read_and_write", nonblocking_read_and_write},
    {"stream_sendall_deadline_bounds_whole_call",
     sendall_deadline_bounds_whole_call},
    {"stream_huge_recv_grows_only_to_what_arrived",
     huge_recv_grows_only_to_what_arrived},
    {"stream_reset_after_bytes_is_reported_next",
     reset_after_bytes_is_reported_next},
    {"stream_blocking_readline_waits_for_peer",
     blocking_readline_waits_for_peer},
    {"stream_close_from_another_thread_wakes_recv",
     close_from_another_thread_wakes_recv},
    {"stream_close_from_another_thread_wakes_accept",
     close_from_another_thread_wakes_accept},
    TEST_END};
