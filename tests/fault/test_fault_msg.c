/* test_fault_msg.c: us_sendallv and us_recvv under short calls and
 * EINTR storms: every byte once, in order, the pieces resumed where a
 * short send stopped. */
#include <errno.h>
#include <sys/socket.h>

#include "fault_util.h"

/* len bytes of the pattern as `pieces` pieces of uneven sizes. */
static int split(char *data, size_t len, us_iov_t *iov, int pieces) {
  size_t at = 0;
  int k = 0;
  for (; k < pieces && at < len; k++) {
    size_t n = (size_t)(k * 131 % 977) + 1;
    if (k == pieces - 1 || n > len - at)
      n = len - at;
    iov[k].base = data + at;
    iov[k].len = n;
    at += n;
  }
  return k;
}

static void sendallv_and_expect(size_t len) {
  us_socket_t a, b;
  struct peer p = {0};
  us_iov_t iov[US_IOV_MAX];
  char *data = malloc(len);
  size_t sent = 0;
  tcp_pair(&a, &b);
  pattern_fill(data, 0, len);
  int n = split(data, len, iov, US_IOV_MAX);
  peer_read(&p, b.fd, len + 1);
  ASSERT_OK(us_sendallv(&a, iov, n, 0, &sent));
  ASSERT_EQ(sent, len);
  us_shutdown(&a, SHUT_WR);
  ASSERT_EQ(peer_join(&p), len);
  pattern_expect(p.buf, 0, len);
  fault_done();
  free(p.buf);
  free(data);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void sendallv_seven_bytes_at_a_time(void) {
  guard(30);
  ASSERT_OK(us__fault_short(US__FAULT_SENDMSG, 7, -1));
  sendallv_and_expect(200000);
}

static void sendallv_eintr_storm(void) {
  guard(30);
  us__fault_t f = {.err = -EINTR, .count = -1, .every = 2};
  ASSERT_OK(us__fault_add(US__FAULT_SENDMSG, &f));
  ASSERT_OK(us__fault_short(US__FAULT_SENDMSG, 999, -1));
  sendallv_and_expect(1000000);
}

static void recvv_eintr_and_short_reads(void) {
  us_socket_t a, b;
  struct peer p = {0};
  size_t len = 300000, got = 0;
  char *buf = malloc(len);
  guard(30);
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&b, 5000 * MS));
  us__fault_t f = {.err = -EINTR, .count = -1, .every = 3};
  ASSERT_OK(us__fault_add(US__FAULT_RECVMSG, &f));
  ASSERT_OK(us__fault_short(US__FAULT_RECVMSG, 1234, -1));
  peer_write_pattern(&p, a.fd, len);
  while (got < len) {
    us_iov_t iov[3] = {{buf + got, 1}, {buf + got + 1, 0}, {buf + got + 1, 0}};
    size_t rest = len - got - 1;
    iov[1].len = rest / 2;
    iov[2].base = buf + got + 1 + rest / 2;
    iov[2].len = rest - rest / 2;
    ssize_t n = us_recvv(&b, iov, rest ? 3 : 1, 0);
    ASSERT(n > 0 && n <= 1234);
    got += (size_t)n;
  }
  ASSERT_EQ(peer_join(&p), len);
  pattern_expect(buf, 0, len);
  fault_done();
  free(buf);
  us_socket_close(&a);
  us_socket_close(&b);
}

TEST_TABLE(fault_msg_tests) = {
    {"fault_sendallv_seven_bytes_at_a_time", sendallv_seven_bytes_at_a_time},
    {"fault_sendallv_eintr_storm", sendallv_eintr_storm},
    {"fault_recvv_eintr_and_short_reads", recvv_eintr_and_short_reads},
    TEST_END};
