/* test_fault_read.c: us_read, us_recv and us_recv_sink deliver every byte
 * once, in order, through EINTR storms, short reads, EAGAIN bursts and
 * errors in the middle of the stream. */
#include <errno.h>
#include <sys/socket.h>

#include "fault_util.h"

static int signal_checks;

static int count_signal_checks(void) {
  signal_checks++;
  return 0;
}

/* Reads the whole stream with us_read into a growing sink, checking it. */
static void read_all_and_expect(us_socket_t *s, size_t len) {
  struct heap_sink h;
  heap_sink_init(&h);
  ASSERT_EQ(us_read(s, &h.sink, SIZE_MAX), len);
  pattern_expect(h.sink.data, 0, len);
  ASSERT_EQ(us_read(s, &h.sink, SIZE_MAX), 0);
  free(h.sink.data);
}

static void read_eintr_storm_loses_nothing(void) {
  us_socket_t a, b;
  struct peer p = {0};
  static const us_host_t host = {NULL, NULL, count_signal_checks, NULL, 0};
  guard(20);
  us_set_host(&host);
  tcp_pair(&a, &b);
  us__fault_t f = {.err = -EINTR, .count = -1, .every = 2};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  peer_write_pattern(&p, a.fd, 300000);
  read_all_and_expect(&b, 300000);
  peer_join(&p);
  us__fault_stats_t st;
  us__fault_stats(&st);
  /* Every EINTR ran the host's signal check once, and was retried. */
  ASSERT(st.injected > 0);
  ASSERT_EQ(signal_checks, st.injected);
  fault_done();
  free(p.buf);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void read_one_byte_at_a_time(void) {
  us_socket_t a, b;
  struct peer p = {0};
  static char buf[20000];
  us_sink_t sink;
  guard(20);
  tcp_pair(&a, &b);
  ASSERT_OK(us__fault_short(US__FAULT_RECV, 1, -1));
  peer_write_pattern(&p, a.fd, 2 * sizeof buf);
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_read(&b, &sink, sizeof buf), sizeof buf);
  pattern_expect(buf, 0, sizeof buf);
  /* us_recv takes what one call gives: here, one byte. */
  ASSERT_EQ(us_recv(&b, buf, sizeof buf, 0), 1);
  pattern_expect(buf, sizeof buf, 1);
  struct heap_sink h;
  heap_sink_init(&h);
  ASSERT_EQ(us_read(&b, &h.sink, SIZE_MAX), sizeof buf - 1);
  pattern_expect(h.sink.data, sizeof buf + 1, sizeof buf - 1);
  /* Growth follows the data by doubling, not one realloc per receive. */
  ASSERT(h.grows <= 8);
  peer_join(&p);
  fault_done();
  free(h.sink.data);
  free(p.buf);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void timed_read_through_eagain_bursts(void) {
  us_socket_t a, b;
  struct peer p = {.chunk = 1000, .delay = MS / 10};
  guard(20);
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&b, 5000 * MS));
  /* Each burst makes the core wait for readiness that is already there. */
  us__fault_t f = {.err = -EAGAIN, .count = 200, .every = 2};
  us__fault_stats_t before, st;
  us__fault_stats(&before);
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  peer_write_pattern(&p, a.fd, 50000);
  read_all_and_expect(&b, 50000);
  peer_join(&p);
  us__fault_stats(&st);
  /* How many receives the read took depends on how the chunks arrived (a
   * loaded machine coalesces them), but one in two failed, and each
   * failure was waited through. */
  unsigned long long calls =
      st.calls[US__FAULT_RECV] - before.calls[US__FAULT_RECV];
  unsigned long long injected = st.injected - before.injected;
  ASSERT(injected >= 1 && injected <= 200);
  ASSERT(calls / 2 <= injected && injected <= calls / 2 + 1);
  fault_done();
  free(p.buf);
  us_socket_close(&a);
  us_socket_close(&b);
}

/* An error after `at` bytes: us_read returns exactly those, the next call
 * reports the error, and (the fault having eaten nothing) the call after
 * it returns the rest of the stream. */
static void read_error_midway(int err) {
  us_socket_t a, b;
  struct peer p = {0};
  struct heap_sink h;
  const size_t at = 1000, len = 4000;
  guard(20);
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  us__fault_t f = {.err = err, .count = 1, .after = at};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  peer_write_pattern(&p, a.fd, len);
  ASSERT_EQ(us_read(&b, &h.sink, SIZE_MAX), at);
  pattern_expect(h.sink.data, 0, at);
  h.sink.len = 0;
  ASSERT_EQ(us_read(&b, &h.sink, SIZE_MAX), err);
  ASSERT_EQ(h.sink.len, 0);
  ASSERT_EQ(us_read(&b, &h.sink, SIZE_MAX), len - at);
  pattern_expect(h.sink.data, at, len - at);
  peer_join(&p);
  fault_done();
  free(h.sink.data);
  free(p.buf);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void read_reset_midway_is_reported_next(void) {
  read_error_midway(-ECONNRESET);
}
static void read_enomem_midway_is_reported_next(void) {
  read_error_midway(-ENOMEM);
}
static void read_enobufs_midway_is_reported_next(void) {
  read_error_midway(-ENOBUFS);
}

/* An error before any byte is the call's own result; us_recv has no
 * bytes to hold it behind. */
static void recv_errors_are_returned_at_once(void) {
  us_socket_t a, b;
  char buf[16];
  static const int errs[] = {-ECONNRESET, -ENOMEM, -ENOBUFS, -ETIMEDOUT};
  guard(20);
  tcp_pair(&a, &b);
  raw_send_all(a.fd, "abcdef", 6);
  for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
    ASSERT_OK(us__fault_fail(US__FAULT_RECV, errs[i], 1));
    ASSERT_EQ(us_recv(&b, buf, sizeof buf, 0), errs[i]);
  }
  ASSERT_EQ(us_recv(&b, buf, 2, 0), 2);
  bytes_expect(buf, "ab", 2);
  ASSERT_OK(us__fault_fail(US__FAULT_RECV, -ECONNRESET, 1));
  us_sink_t sink;
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_readline(&b, &sink, SIZE_MAX), -ECONNRESET);
  ASSERT_EQ(us_recv(&b, buf, sizeof buf, 0), 4);
  bytes_expect(buf, "cdef", 4);
  fault_done();
  us_socket_close(&a);
  us_socket_close(&b);
}

/* A huge us_recv_sink asks FIONREAD how much is there; if that fails it
 * falls back to the eager size, and short reads only shorten the call. */
static void huge_recv_sink_survives_pending_errors(void) {
  us_socket_t a, b;
  struct heap_sink h;
  size_t got = 0, len = 100000;
  char *want = malloc(len);
  guard(20);
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  pattern_fill(want, 0, len);
  raw_send_all(a.fd, want, len);
  shutdown(a.fd, SHUT_WR);
  ASSERT_OK(us__fault_fail(US__FAULT_PENDING, -EINVAL, -1));
  us__fault_t f = {.most = 777, .count = -1, .every = 2};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  for (int i = 0; i < 10000 && got < len; i++) {
    ssize_t n = us_recv_sink(&b, &h.sink, (size_t)1 << 31, 0);
    ASSERT(n > 0);
    got += (size_t)n;
    ASSERT(h.largest <= got + 65536);
  }
  ASSERT_EQ(got, len);
  pattern_expect(h.sink.data, 0, len);
  ASSERT_EQ(us_recv_sink(&b, &h.sink, (size_t)1 << 31, 0), 0);
  fault_done();
  free(want);
  free(h.sink.data);
  us_socket_close(&a);
  us_socket_close(&b);
}

static int interrupt_by_host(void) {
  signal_checks++;
  return -EINTR; /* as a host whose signal handler raised */
}

/* A host that gives up on EINTR after some bytes arrived: the bytes are
 * returned, the interruption is not held over, the rest stays readable. */
static void host_interrupt_after_bytes_keeps_them(void) {
  us_socket_t a, b;
  struct heap_sink h;
  static const us_host_t host = {NULL, NULL, interrupt_by_host, NULL, 0};
  char want[3000];
  guard(20);
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  pattern_fill(want, 0, sizeof want);
  raw_send_all(a.fd, want, sizeof want);
  us_set_host(&host);
  us__fault_t f = {.err = -EINTR, .count = 1, .after = 1200};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  ASSERT_EQ(us_read(&b, &h.sink, sizeof want), 1200);
  ASSERT_EQ(signal_checks, 1);
  ASSERT_EQ(us_read(&b, &h.sink, sizeof want - 1200), sizeof want - 1200);
  pattern_expect(h.sink.data, 0, sizeof want);
  ASSERT_OK(us__fault_fail(US__FAULT_RECV, -EINTR, 1));
  ASSERT_EQ(us_read(&b, &h.sink, 1), -EINTR);
  fault_done();
  free(h.sink.data);
  us_socket_close(&a);
  us_socket_close(&b);
}

TEST_TABLE(fault_read_tests) = {
    {"fault_read_eintr_storm_loses_nothing", read_eintr_storm_loses_nothing},
    {"fault_read_one_byte_at_a_time", read_one_byte_at_a_time},
    {"fault_timed_read_through_eagain_bursts",
     timed_read_through_eagain_bursts},
    {"fault_read_reset_midway_is_reported_next",
     read_reset_midway_is_reported_next},
    {"fault_read_enomem_midway_is_reported_next",
     read_enomem_midway_is_reported_next},
    {"fault_read_enobufs_midway_is_reported_next",
     read_enobufs_midway_is_reported_next},
    {"fault_recv_errors_are_returned_at_once",
     recv_errors_are_returned_at_once},
    {"fault_huge_recv_sink_survives_pending_errors",
     huge_recv_sink_survives_pending_errors},
    {"fault_host_interrupt_after_bytes_keeps_them",
     host_interrupt_after_bytes_keeps_them},
    TEST_END};
