/* test_socket.c: lifetime, timeouts, connection set-up, options. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static void open_close_is_idempotent_and_then_ebadf(void) {
  us_socket_t s;
  char c;
  ASSERT_OK(us_socket_open(&s, AF_INET, SOCK_STREAM, 0));
  ASSERT(s.fd >= 0);
  ASSERT_EQ(s.proto, IPPROTO_TCP);
  ASSERT_OK(us_socket_close(&s));
  ASSERT_OK(us_socket_close(&s));
  ASSERT_EQ(us_recv(&s, &c, 1, 0), -EBADF);
  ASSERT_EQ(us_send(&s, &c, 1, 0), -EBADF);
  ASSERT_EQ(us_listen(&s, 1), -EBADF);
  ASSERT_EQ(us_settimeout(&s, 0), -EBADF);
}

static void open_picks_udp_and_rejects_bad_family(void) {
  us_socket_t s;
  ASSERT_OK(us_socket_open(&s, AF_INET6, SOCK_DGRAM, 0));
  ASSERT_EQ(s.proto, IPPROTO_UDP);
  us_socket_close(&s);
  ASSERT_EQ(us_socket_open(&s, 12345, SOCK_STREAM, 0), -EAFNOSUPPORT);
  ASSERT_EQ(s.fd, -1);
  ASSERT(us_socket_open(&s, AF_INET, 12345, 0) < 0);
  /* Both are kept narrow: one that does not fit is refused, never cut
   * down to another (65536 + AF_INET would be AF_INET). */
  ASSERT_EQ(us_socket_open(&s, 65536 + AF_INET, SOCK_STREAM, 0), -EAFNOSUPPORT);
  ASSERT_EQ(s.fd, -1);
#ifdef SOCK_NONBLOCK
  /* The kernel takes the flag; the type the calls compare with is not it. */
  ASSERT_EQ(us_socket_open(&s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0),
            -EINVAL);
  ASSERT_EQ(s.fd, -1);
#endif
}

static void from_fd_reads_family_and_type(void) {
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  us_socket_t s;
  ASSERT_OK(us_socket_from_fd(&s, fd));
  ASSERT_EQ(s.family, AF_INET6);
  ASSERT_EQ(s.type, SOCK_DGRAM);
  ASSERT_EQ(us_socket_detach(&s), fd);
  ASSERT_EQ(s.fd, -1);
  close(fd);
  ASSERT_EQ(us_socket_from_fd(&s, -1), -EBADF);
  ASSERT_EQ(us_socket_from_fd(&s, fd), -EBADF);
}

static void settimeout_rejects_negative(void) {
  us_socket_t s;
  ASSERT_OK(us_socket_open(&s, AF_INET, SOCK_STREAM, 0));
  ASSERT_EQ(us_settimeout(&s, -2), -EINVAL);
  ASSERT_OK(us_settimeout(&s, 5000000));
  ASSERT_EQ(s.timeout_ns, 5000000);
  us_socket_close(&s);
}

static void accept_times_out_within_bound(void) {
  us_socket_t lsn, conn;
  us_addr_t addr;
  tcp_listener(&lsn, &addr);
  ASSERT_OK(us_settimeout(&lsn, 200 * 1000000LL));
  int64_t t0 = now_ms();
  ASSERT_EQ(us_accept(&lsn, &conn, NULL), -ETIMEDOUT);
  int64_t dt = now_ms() - t0;
  ASSERT(dt >= 195 && dt < LATE_MS(200));
  ASSERT_OK(us_settimeout(&lsn, 0));
  ASSERT_EQ(us_accept(&lsn, &conn, NULL), -EAGAIN);
  us_socket_close(&lsn);
}

static void accepted_socket_inherits_timeout_and_peer(void) {
  us_socket_t lsn, cli, conn;
  us_addr_t addr, peer, name;
  tcp_listener(&lsn, &addr);
  ASSERT_OK(us_settimeout(&lsn, 1000000000LL));
  ASSERT_OK(us_socket_open(&cli, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_connect(&cli, &addr));
  ASSERT_OK(us_accept(&lsn, &conn, &peer));
  ASSERT_EQ(conn.timeout_ns, 1000000000LL);
  ASSERT_OK(us_getsockname(&cli, &name));
  ASSERT(us_addr_equal(&name, &peer));
  ASSERT_OK(us_getpeername(&cli, &name));
  ASSERT(us_addr_equal(&name, &addr));
  us_socket_close(&cli);
  us_socket_close(&conn);
  us_socket_close(&lsn);
}

static void connect_refused_and_port_zero(void) {
  us_socket_t lsn, s;
  us_addr_t addr;
  tcp_listener(&lsn, &addr);
  us_socket_close(&lsn); /* nothing listens there now */
  ASSERT_OK(us_socket_open(&s, AF_INET, SOCK_STREAM, 0));
  ASSERT_EQ(us_connect(&s, &addr), -ECONNREFUSED);
  addr.port = 0;
  ASSERT_EQ(us_connect(&s, &addr), -EINVAL);
  us_socket_close(&s);
  /* Timed: refused promptly too, not timed out. */
  addr.port = 1;
  ASSERT_OK(us_socket_open(&s, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_settimeout(&s, 1000000000LL));
  ASSERT_EQ(us_connect(&s, &addr), -ECONNREFUSED);
  us_socket_close(&s);
}

static void connect_wrong_family_is_eafnosupport(void) {
  us_socket_t s;
  us_addr_t a6;
  ASSERT_OK(us_addr_parse(&a6, AF_INET6, "::1", 80));
  ASSERT_OK(us_socket_open(&s, AF_INET, SOCK_STREAM, 0));
  ASSERT_EQ(us_connect(&s, &a6), -EAFNOSUPPORT);
  ASSERT_EQ(us_bind(&s, &a6), -EAFNOSUPPORT);
  us_socket_close(&s);
}

static void nonblocking_connect_is_einprogress(void) {
  us_socket_t lsn, s;
  us_addr_t addr;
  tcp_listener(&lsn, &addr);
  ASSERT_OK(us_socket_open(&s, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_settimeout(&s, 0));
  int r = us_connect(&s, &addr);
  ASSERT(r == -EINPROGRESS || r == 0);
  us_socket_close(&s);
  us_socket_close(&lsn);
}

static void options_round_trip(void) {
  us_socket_t s;
  int one = 1, val = 0;
  size_t len = sizeof val;
  ASSERT_OK(us_socket_open(&s, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_setsockopt(&s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
  ASSERT_OK(us_getsockopt(&s, IPPROTO_TCP, TCP_NODELAY, &val, &len));
  ASSERT(val != 0);
  ASSERT_EQ(len, sizeof val);
  ASSERT_EQ(us_setsockopt(&s, SOL_SOCKET, 99999, &one, sizeof one),
            -ENOPROTOOPT);
  us_socket_close(&s);
}

static void udp_sendto_recvfrom(void) {
  us_socket_t a, b;
  us_addr_t addr, from;
  char buf[16];
  ASSERT_OK(us_socket_open(&a, AF_INET, SOCK_DGRAM, 0));
  ASSERT_OK(us_socket_open(&b, AF_INET, SOCK_DGRAM, 0));
  ASSERT_OK(us_addr_parse(&addr, AF_INET, "127.0.0.1", 0));
  ASSERT_OK(us_bind(&b, &addr));
  ASSERT_OK(us_getsockname(&b, &addr));
  ASSERT_EQ(us_sendto(&a, "hello", 5, 0, &addr), 5);
  ASSERT_EQ(us_recvfrom(&b, buf, sizeof buf, 0, &from), 5);
  ASSERT(memcmp(buf, "hello", 5) == 0);
  ASSERT_EQ(from.family, AF_INET);
  ASSERT(from.port != 0);
  addr.port = 0;
  ASSERT_EQ(us_sendto(&a, "x", 1, 0, &addr), -EINVAL);
  ASSERT_OK(us_settimeout(&b, 50 * 1000000LL));
  ASSERT_EQ(us_recvfrom(&b, buf, sizeof buf, 0, &from), -ETIMEDOUT);
  us_socket_close(&a);
  us_socket_close(&b);
}

/* A receive counts only the bytes it wrote: MSG_TRUNC's whole datagram
 * length is not reported, and on a stream (where Linux would drop bytes
 * without copying them) it is refused, the bytes left queued. */
static void msg_trunc_counts_only_copied_bytes(void) {
  us_socket_t a, b, c, d;
  us_addr_t addr;
  static char big[2000];
  char buf[32];
  us_sink_t sink;
  memset(big, 'A', sizeof big);
  ASSERT_OK(us_socket_open(&a, AF_INET, SOCK_DGRAM, 0));
  ASSERT_OK(us_socket_open(&b, AF_INET, SOCK_DGRAM, 0));
  ASSERT_OK(us_addr_parse(&addr, AF_INET, "127.0.0.1", 0));
  ASSERT_OK(us_bind(&b, &addr));
  ASSERT_OK(us_getsockname(&b, &addr));
  ASSERT_EQ(us_sendto(&a, big, sizeof big, 0, &addr), (long long)sizeof big);
  ASSERT_EQ(us_sendto(&a, big, sizeof big, 0, &addr), (long long)sizeof big);
  memset(buf, 0, sizeof buf);
  ASSERT_EQ(us_recvfrom(&b, buf, 10, MSG_TRUNC, NULL), 10);
  ASSERT(memcmp(buf, big, 10) == 0 && buf[10] == 0);
  us_sink_fixed(&sink, buf, 12);
  ASSERT_EQ(us_recv_sink(&b, &sink, 12, MSG_TRUNC), 12);
  ASSERT_EQ(sink.len, 12);
  us_socket_close(&a);
  us_socket_close(&b);
  tcp_pair(&c, &d);
  ASSERT_EQ(us_send(&c, big, 100, 0), 100);
  ASSERT_EQ(us_recv(&d, buf, 1, MSG_PEEK), 1);
  ASSERT_EQ(us_recv(&d, buf, 10, MSG_TRUNC), -EINVAL);
  ASSERT_EQ(us_recv(&d, buf, sizeof buf, 0), (long long)sizeof buf);
  ASSERT(memcmp(buf, big, sizeof buf) == 0);
  us_socket_close(&c);
  us_socket_close(&d);
}

static void ten_thousand_cycles_leak_no_descriptor(void) {
  us_socket_t lsn, cli, conn;
  us_addr_t addr;
  tcp_listener(&lsn, &addr);
  int before = open_fds();
  for (int i = 0; i < 10000; i++) {
    ASSERT_OK(us_socket_open(&cli, AF_INET, SOCK_STREAM, 0));
    ASSERT_OK(us_connect(&cli, &addr));
    ASSERT_OK(us_accept(&lsn, &conn, NULL));
    ASSERT_OK(us_socket_close(&cli));
    ASSERT_OK(us_socket_close(&conn));
  }
  ASSERT_EQ(open_fds(), before);
  us_socket_close(&lsn);
}

static int fd_blocks(int fd) {
  int fl = fcntl(fd, F_GETFL);
  ASSERT(fl >= 0);
  return !(fl & O_NONBLOCK);
}

/* Without a host, a socket's descriptor blocks exactly when the socket
 * does, and is handed over by detach as it is. */
static void plain_c_descriptor_follows_the_timeout(void) {
  us_socket_t lsn, cli, conn;
  us_addr_t addr;
  tcp_listener(&lsn, &addr);
  ASSERT(fd_blocks(lsn.fd));
  ASSERT_OK(us_socket_open(&cli, AF_INET, SOCK_STREAM, 0));
  ASSERT(fd_blocks(cli.fd));
  ASSERT_OK(us_connect(&cli, &addr));
  ASSERT_OK(us_accept(&lsn, &conn, NULL));
  ASSERT(fd_blocks(conn.fd));
  ASSERT_OK(us_settimeout(&cli, 1000000));
  ASSERT(!fd_blocks(cli.fd));
  int fd = us_socket_detach(&cli);
  ASSERT(!fd_blocks(fd));
  close(fd);
  us_socket_close(&conn);
  us_socket_close(&lsn);
}

static void *no_token(void) { return NULL; }
static void no_lock(void *token) { (void)token; }
static const us_host_t lock_host = {no_token, no_lock, NULL, NULL, 0};

/* Under a host with a lock, every descriptor is non-blocking, whatever
 * the timeout; blocking calls still wait, and detach hands a blocking
 * socket's descriptor back blocking. */
static void host_descriptor_is_nonblocking_until_detached(void) {
  us_socket_t lsn, cli, conn;
  us_addr_t addr;
  char c;
  us_set_host(&lock_host);
  tcp_listener(&lsn, &addr);
  ASSERT(!fd_blocks(lsn.fd));
  ASSERT_OK(us_socket_open(&cli, AF_INET, SOCK_STREAM, 0));
  ASSERT(!fd_blocks(cli.fd));
  ASSERT_OK(us_connect(&cli, &addr));
  ASSERT_OK(us_accept(&lsn, &conn, NULL));
  ASSERT(!fd_blocks(conn.fd));
  ASSERT_EQ(us_send(&conn, "x", 1, 0), 1);
  ASSERT_EQ(us_recv(&cli, &c, 1, 0), 1);
  ASSERT_OK(us_settimeout(&cli, 1000000));
  ASSERT(!fd_blocks(cli.fd));
  ASSERT_EQ(us_recv(&cli, &c, 1, 0), -ETIMEDOUT);
  ASSERT_OK(us_settimeout(&cli, US_TIMEOUT_BLOCK));
  ASSERT(!fd_blocks(cli.fd));
  int fd = us_socket_detach(&cli);
  ASSERT(fd_blocks(fd));
  close(fd);
  ASSERT_OK(us_settimeout(&conn, 0));
  fd = us_socket_detach(&conn);
  ASSERT(!fd_blocks(fd));
  close(fd);
  /* Wrapped, a descriptor takes the mode of the host's rule too. */
  ASSERT_OK(us_socket_from_fd(&cli, fd = socket(AF_INET, SOCK_STREAM, 0)));
  ASSERT(!fd_blocks(fd));
  ASSERT_EQ(us_socket_detach(&cli), fd);
  ASSERT(fd_blocks(fd));
  close(fd);
  us_socket_close(&lsn);
  us_set_host(NULL);
}

TEST_TABLE(socket_tests) = {
    {"socket_open_close_is_idempotent_and_then_ebadf",
     open_close_is_idempotent_and_then_ebadf},
    {"socket_open_picks_udp_and_rejects_bad_family",
     open_picks_udp_and_rejects_bad_family},
    {"socket_from_fd_reads_family_and_type", from_fd_reads_family_and_type},
    {"socket_settimeout_rejects_negative", settimeout_rejects_negative},
    {"socket_plain_c_descriptor_follows_the_timeout",
     plain_c_descriptor_follows_the_timeout},
    {"socket_host_descriptor_is_nonblocking_until_detached",
     host_descriptor_is_nonblocking_until_detached},
    {"socket_accept_times_out_within_bound", accept_times_out_within_bound},
    {"socket_accepted_socket_inherits_timeout_and_peer",
     accepted_socket_inherits_timeout_and_peer},
    {"socket_connect_refused_and_port_zero", connect_refused_and_port_zero},
    {"socket_connect_wrong_family_is_eafnosupport",
     connect_wrong_family_is_eafnosupport},
    {"socket_nonblocking_connect_is_einprogress",
     nonblocking_connect_is_einprogress},
    {"socket_options_round_trip", options_round_trip},
    {"socket_udp_sendto_recvfrom", udp_sendto_recvfrom},
    {"socket_msg_trunc_counts_only_copied_bytes",
     msg_trunc_counts_only_copied_bytes},
    {"socket_ten_thousand_cycles_leak_no_descriptor",
     ten_thousand_cycles_leak_no_descriptor},
    TEST_END};
