/* test_fault_write.c: us_write and us_sendall put every byte on the wire
 * once, in order, and count exactly what went before an error. */
#include <errno.h>
#include <sys/socket.h>

#include "fault_util.h"

/* Sends len bytes of the pattern with us_sendall or us_write while a
 * plain peer reads, then checks what the peer got. */
static void send_and_expect(int use_write, size_t len) {
  us_socket_t a, b;
  struct peer p = {0};
  char *data = malloc(len);
  tcp_pair(&a, &b);
  pattern_fill(data, 0, len);
  peer_read(&p, b.fd, len + 1);
  if (use_write) {
    ASSERT_EQ(us_write(&a, data, len), len);
  } else {
    size_t sent = 0;
    ASSERT_OK(us_sendall(&a, data, len, 0, &sent));
    ASSERT_EQ(sent, len);
  }
  us_shutdown(&a, SHUT_WR);
  ASSERT_EQ(peer_join(&p), len);
  pattern_expect(p.buf, 0, len);
  fault_done();
  free(p.buf);
  free(data);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void write_one_byte_at_a_time(void) {
  guard(30);
  ASSERT_OK(us__fault_short(US__FAULT_SEND, 1, -1));
  send_and_expect(1, 30000);
}

static void sendall_one_byte_at_a_time(void) {
  guard(30);
  ASSERT_OK(us__fault_short(US__FAULT_SEND, 1, -1));
  send_and_expect(0, 30000);
}

static void sendall_eintr_storm(void) {
  guard(30);
  us__fault_t f = {.err = -EINTR, .count = -1, .every = 2};
  ASSERT_OK(us__fault_add(US__FAULT_SEND, &f));
  ASSERT_OK(us__fault_short(US__FAULT_SEND, 999, -1));
  send_and_expect(0, 1000000);
}

static void write_eintr_storm(void) {
  guard(30);
  us__fault_t f = {.err = -EINTR, .count = -1, .every = 2};
  ASSERT_OK(us__fault_add(US__FAULT_SEND, &f));
  ASSERT_OK(us__fault_short(US__FAULT_SEND, 4321, -1));
  send_and_expect(1, 1000000);
}

/* On a timed socket EAGAIN sends the core to wait for writability; the
 * bursts must cost nothing but time. */
static void timed_sendall_eagain_bursts(void) {
  us_socket_t a, b;
  struct peer p = {0};
  size_t len = 500000, sent = 0;
  char *data = malloc(len);
  guard(30);
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&a, 5000 * MS));
  pattern_fill(data, 0, len);
  us__fault_t f = {.err = -EAGAIN, .count = 300, .every = 2};
  ASSERT_OK(us__fault_add(US__FAULT_SEND, &f));
  ASSERT_OK(us__fault_short(US__FAULT_SEND, 1000, -1));
  peer_read(&p, b.fd, len + 1);
  ASSERT_OK(us_sendall(&a, data, len, 0, &sent));
  ASSERT_EQ(sent, len);
  us_shutdown(&a, SHUT_WR);
  ASSERT_EQ(peer_join(&p), len);
  pattern_expect(p.buf, 0, len);
  us__fault_stats_t st;
  us__fault_stats(&st);
  ASSERT(st.injected >= 300);
  fault_done();
  free(p.buf);
  free(data);
  us_socket_close(&a);
  us_socket_close(&b);
}

/* An error after `at` bytes: sendall reports it with *sent == at; write
 * returns at and the next write reports it. The peer got exactly those. */
static void send_error_midway(int err, int use_write) {
  us_socket_t a, b;
  struct peer p = {0};
  const size_t at = 5000, len = 10000;
  char data[10000];
  guard(20);
  tcp_pair(&a, &b);
  pattern_fill(data, 0, len);
  us__fault_t f = {.err = err, .count = 1, .after = at};
  ASSERT_OK(us__fault_add(US__FAULT_SEND, &f));
  peer_read(&p, b.fd, len + 1);
  if (use_write) {
    ASSERT_EQ(us_write(&a, data, len), at);
    ASSERT_EQ(us_write(&a, data + at, len - at), err);
    /* The fault ate nothing, so the rest can still go, in order. */
    ASSERT_EQ(us_write(&a, data + at, len - at), len - at);
  } else {
    size_t sent = 0;
    ASSERT_EQ(us_sendall(&a, data, len, 0, &sent), err);
    ASSERT_EQ(sent, at);
  }
  us_shutdown(&a, SHUT_WR);
  size_t got = peer_join(&p);
  ASSERT_EQ(got, use_write ? len : at);
  pattern_expect(p.buf, 0, got);
  fault_done();
  free(p.buf);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void sendall_reset_midway(void) { send_error_midway(-ECONNRESET, 0); }
static void sendall_enobufs_midway(void) { send_error_midway(-ENOBUFS, 0); }
static void sendall_enomem_midway(void) { send_error_midway(-ENOMEM, 0); }
static void sendall_epipe_midway(void) { send_error_midway(-EPIPE, 0); }
static void write_reset_midway(void) { send_error_midway(-ECONNRESET, 1); }
static void write_enobufs_midway(void) { send_error_midway(-ENOBUFS, 1); }

/* A datagram is all or nothing: a failed sendto sends none of it. */
static void udp_sendto_errors_lose_only_their_datagram(void) {
  us_socket_t u, v;
  us_addr_t to;
  char buf[64];
  guard(20);
  ASSERT_OK(us_socket_open(&u, AF_INET, SOCK_DGRAM, 0));
  ASSERT_OK(us_socket_open(&v, AF_INET, SOCK_DGRAM, 0));
  ASSERT_OK(us_addr_parse(&to, AF_INET, "127.0.0.1", 0));
  ASSERT_OK(us_bind(&v, &to));
  ASSERT_OK(us_getsockname(&v, &to));
  ASSERT_OK(us_settimeout(&v, 2000 * MS));
  us__fault_t f = {.err = -EINTR, .count = 5};
  ASSERT_OK(us__fault_add(US__FAULT_SENDTO, &f));
  ASSERT_OK(us__fault_add(US__FAULT_RECVFROM, &f));
  ASSERT_EQ(us_sendto(&u, "one", 3, 0, &to), 3);
  ASSERT_OK(us__fault_fail(US__FAULT_SENDTO, -ENOBUFS, 1));
  ASSERT_EQ(us_sendto(&u, "two", 3, 0, &to), -ENOBUFS);
  ASSERT_EQ(us_sendto(&u, "three", 5, 0, &to), 5);
  us_addr_t from;
  ASSERT_EQ(us_recvfrom(&v, buf, sizeof buf, 0, &from), 3);
  bytes_expect(buf, "one", 3);
  ASSERT_EQ(us_recvfrom(&v, buf, sizeof buf, 0, &from), 5);
  bytes_expect(buf, "three", 5);
  fault_done();
  us_socket_close(&u);
  us_socket_close(&v);
}

TEST_TABLE(fault_write_tests) = {
    {"fault_write_one_byte_at_a_time", write_one_byte_at_a_time},
    {"fault_sendall_one_byte_at_a_time", sendall_one_byte_at_a_time},
    {"fault_sendall_eintr_storm", sendall_eintr_storm},
    {"fault_write_eintr_storm", write_eintr_storm},
    {"fault_timed_sendall_eagain_bursts", timed_sendall_eagain_bursts},
    {"fault_sendall_reset_midway", sendall_reset_midway},
    {"fault_sendall_enobufs_midway", sendall_enobufs_midway},
    {"fault_sendall_enomem_midway", sendall_enomem_midway},
    {"fault_sendall_epipe_midway", sendall_epipe_midway},
    {"fault_write_reset_midway", write_reset_midway},
    {"fault_write_enobufs_midway", write_enobufs_midway},
    {"fault_udp_sendto_errors_lose_only_their_datagram",
     udp_sendto_errors_lose_only_their_datagram},
    TEST_END};
