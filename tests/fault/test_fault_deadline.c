/* test_fault_deadline.c: a timeout stays a deadline for the whole call
 * under storms of EINTR and bursts of EAGAIN: the call ends within the
 * timeout and a busy machine's slack, never sooner than the timeout. */
#include <errno.h>
#include <sys/socket.h>

#include "fault_util.h"

#define TIMEOUT_MS 100

/* A storm: every call of op fails with err after a millisecond, as a
 * system call interrupted by a signal every millisecond would. */
static void storm(us__fault_op_t op, int err) {
  us__fault_t f = {.err = err, .count = -1, .hold_ns = MS};
  ASSERT_OK(us__fault_add(op, &f));
}

static void expect_elapsed(int64_t t0) {
  int64_t dt = now_ms() - t0;
  if (dt < TIMEOUT_MS - 1 || dt > LATE_MS(TIMEOUT_MS)) {
    fprintf(stderr, "took %lld ms for a %d ms timeout\n", (long long)dt,
            TIMEOUT_MS);
    abort();
  }
}

/* b is timed; data (if any) is already waiting on it. */
static void timed_pair(us_socket_t *a, us_socket_t *b, size_t waiting) {
  char data[256];
  tcp_pair(a, b);
  ASSERT_OK(us_settimeout(b, TIMEOUT_MS * MS));
  pattern_fill(data, 0, sizeof data);
  if (waiting)
    raw_send_all(a->fd, data, waiting);
}

/* Reading, with err storming op: -ETIMEDOUT on time. */
static void read_times_out(us__fault_op_t op, int err, size_t waiting,
                           int line) {
  us_socket_t a, b;
  struct heap_sink h;
  guard(10);
  timed_pair(&a, &b, waiting);
  heap_sink_init(&h);
  storm(op, err);
  int64_t t0 = now_ms();
  ssize_t n = line ? us_readline(&b, &h.sink, SIZE_MAX)
                   : us_read(&b, &h.sink, SIZE_MAX);
  ASSERT_EQ(n, -ETIMEDOUT);
  expect_elapsed(t0);
  fault_done();
  free(h.sink.data);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void read_under_wait_eintr_storm(void) {
  read_times_out(US__FAULT_WAIT, -EINTR, 0, 0);
}
static void read_under_recv_eintr_storm(void) {
  read_times_out(US__FAULT_RECV, -EINTR, 100, 0);
}
static void read_under_recv_eagain_storm(void) {
  read_times_out(US__FAULT_RECV, -EAGAIN, 100, 0);
}
static void readline_under_wait_eintr_storm(void) {
  read_times_out(US__FAULT_WAIT, -EINTR, 0, 1);
}
static void readline_under_recv_eintr_storm(void) {
  read_times_out(US__FAULT_RECV, -EINTR, 100, 1);
}
static void readline_under_recv_eagain_storm(void) {
  read_times_out(US__FAULT_RECV, -EAGAIN, 100, 1);
}

/* Bytes that arrived before the storm are returned when the deadline
 * comes, not lost, and the timeout itself is not held over. */
static void partial_read_then_storm_keeps_bytes(void) {
  us_socket_t a, b;
  struct heap_sink h;
  guard(10);
  timed_pair(&a, &b, 200);
  heap_sink_init(&h);
  us__fault_t f = {.err = -EINTR, .count = -1, .hold_ns = MS, .after = 150};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  int64_t t0 = now_ms();
  ASSERT_EQ(us_read(&b, &h.sink, SIZE_MAX), 150);
  expect_elapsed(t0);
  pattern_expect(h.sink.data, 0, 150);
  us__fault_reset();
  h.sink.len = 0;
  ASSERT_EQ(us_read(&b, &h.sink, 50), 50);
  pattern_expect(h.sink.data, 150, 50);
  fault_done();
  free(h.sink.data);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void send_times_out(us__fault_op_t op, int err, int use_write) {
  us_socket_t a, b;
  static char data[1 << 20];
  size_t sent = 12345;
  guard(10);
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&a, TIMEOUT_MS * MS));
  storm(op, err);
  if (op == US__FAULT_WAIT) /* fill the socket so that sends must wait */
    us__fault_fail(US__FAULT_SEND, -EAGAIN, -1);
  int64_t t0 = now_ms();
  if (use_write) {
    ASSERT_EQ(us_write(&a, data, sizeof data), -ETIMEDOUT);
  } else {
    ASSERT_EQ(us_sendall(&a, data, sizeof data, 0, &sent), -ETIMEDOUT);
    ASSERT_EQ(sent, 0);
  }
  expect_elapsed(t0);
  fault_done();
  us_socket_close(&a);
  us_socket_close(&b);
}

static void sendall_under_send_eintr_storm(void) {
  send_times_out(US__FAULT_SEND, -EINTR, 0);
}
static void sendall_under_send_eagain_storm(void) {
  send_times_out(US__FAULT_SEND, -EAGAIN, 0);
}
static void sendall_under_wait_eintr_storm(void) {
  send_times_out(US__FAULT_WAIT, -EINTR, 0);
}
static void write_under_send_eintr_storm(void) {
  send_times_out(US__FAULT_SEND, -EINTR, 1);
}

static void accept_under_eintr_storm(void) {
  us_socket_t lsn, conn;
  us_addr_t addr;
  guard(10);
  tcp_listener(&lsn, &addr);
  ASSERT_OK(us_settimeout(&lsn, TIMEOUT_MS * MS));
  storm(US__FAULT_ACCEPT, -EINTR);
  int64_t t0 = now_ms();
  ASSERT_EQ(us_accept(&lsn, &conn, NULL), -ETIMEDOUT);
  expect_elapsed(t0);
  ASSERT_EQ(conn.fd, -1);
  fault_done();
  us_socket_close(&lsn);
}

/* A connect interrupted after it started goes on in the kernel: the core
 * waits for it and never connects twice. */
static void connect_interrupted_still_connects(void) {
  us_socket_t lsn, c, s;
  us_addr_t addr;
  char buf[4];
  guard(10);
  for (int timed = 0; timed < 2; timed++) {
    tcp_listener(&lsn, &addr);
    ASSERT_OK(us_socket_open(&c, AF_INET, SOCK_STREAM, 0));
    if (timed)
      ASSERT_OK(us_settimeout(&c, TIMEOUT_MS * MS));
    ASSERT_OK(us__fault_fail(US__FAULT_CONNECT, -EINTR, 1));
    ASSERT_OK(us__fault_fail(US__FAULT_WAIT, -EINTR, 3));
    ASSERT_OK(us_connect(&c, &addr));
    ASSERT_OK(us_accept(&lsn, &s, NULL));
    ASSERT_EQ(us_write(&c, "ping", 4), 4);
    ASSERT_EQ(us_recv(&s, buf, 4, 0), 4);
    bytes_expect(buf, "ping", 4);
    us_socket_close(&c);
    us_socket_close(&s);
    us_socket_close(&lsn);
    us__fault_reset();
  }
  fault_done();
}

TEST_TABLE(fault_deadline_tests) = {
    {"fault_deadline_read_under_wait_eintr_storm", read_under_wait_eintr_storm},
    {"fault_deadline_read_under_recv_eintr_storm", read_under_recv_eintr_storm},
    {"fault_deadline_read_under_recv_eagain_storm",
     read_under_recv_eagain_storm},
    {"fault_deadline_readline_under_wait_eintr_storm",
     readline_under_wait_eintr_storm},
    {"fault_deadline_readline_under_recv_eintr_storm",
     readline_under_recv_eintr_storm},
    {"fault_deadline_readline_under_recv_eagain_storm",
     readline_under_recv_eagain_storm},
    {"fault_deadline_partial_read_then_storm_keeps_bytes",
     partial_read_then_storm_keeps_bytes},
    {"fault_deadline_sendall_under_send_eintr_storm",
     sendall_under_send_eintr_storm},
    {"fault_deadline_sendall_under_send_eagain_storm",
     sendall_under_send_eagain_storm},
    {"fault_deadline_sendall_under_wait_eintr_storm",
     sendall_under_wait_eintr_storm},
    {"fault_deadline_write_under_send_eintr_storm",
     write_under_send_eintr_storm},
    {"fault_deadline_accept_under_eintr_storm", accept_under_eintr_storm},
    {"fault_connect_interrupted_still_connects",
     connect_interrupted_still_connects},
    TEST_END};
