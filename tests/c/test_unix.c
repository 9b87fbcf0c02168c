/* test_unix.c: AF_UNIX sockets through the raw-address calls: file and
 * abstract names, streams and datagrams, and bad paths. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "test.h"

/* A fresh directory for socket files; the caller removes it. */
static void tmp_dir(char *dir, size_t cap) {
  snprintf(dir, cap, "/tmp/us_unix_XXXXXX");
  ASSERT(mkdtemp(dir) != NULL);
}

static void unix_addr(us_rawaddr_t *a, const char *path, size_t len) {
  ASSERT_OK(us_rawaddr_unix(a, path, len));
  ASSERT_EQ(us_rawaddr_family(a), AF_UNIX);
}

/* The name in a as text; abstract names keep their leading NUL. */
static void assert_name(const us_rawaddr_t *a, const char *want, size_t len) {
  const char *path;
  size_t n;
  ASSERT_OK(us_rawaddr_unix_path(a, &path, &n));
  ASSERT_EQ(n, len);
  ASSERT(memcmp(path, want, len) == 0);
}

static void stream_path_accept_names_and_data(void) {
  char dir[64], path[96];
  tmp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/srv", dir);
  us_socket_t lsn, cli, srv;
  us_rawaddr_t a, peer, name;
  unix_addr(&a, path, strlen(path));
  ASSERT_OK(us_socket_open(&lsn, AF_UNIX, SOCK_STREAM, 0));
  ASSERT_OK(us_bind_raw(&lsn, &a));
  ASSERT_OK(us_listen(&lsn, 4));
  ASSERT_OK(us_getsockname_raw(&lsn, &name));
  assert_name(&name, path, strlen(path));
  ASSERT_OK(us_socket_open(&cli, AF_UNIX, SOCK_STREAM, 0));
  ASSERT_OK(us_connect_raw(&cli, &a));
  ASSERT_OK(us_accept_raw(&lsn, &srv, &peer));
  /* The client never bound: its name, as the server sees it, is empty. */
  ASSERT_EQ(us_rawaddr_family(&peer), AF_UNIX);
  assert_name(&peer, "", 0);
  ASSERT_OK(us_getpeername_raw(&cli, &name));
  assert_name(&name, path, strlen(path));
  ASSERT_EQ(us_write(&cli, "ping\n", 5), 5);
  char buf[16];
  us_sink_t k;
  us_sink_fixed(&k, buf, sizeof buf);
  ASSERT_EQ(us_readline(&srv, &k, sizeof buf), 5);
  ASSERT(memcmp(buf, "ping\n", 5) == 0);
  ASSERT_OK(us_socket_close(&cli));
  ASSERT_OK(us_socket_close(&srv));
  ASSERT_OK(us_socket_close(&lsn));
  ASSERT_OK(unlink(path));
  ASSERT_OK(rmdir(dir));
}

static void datagram_abstract_sender_and_unbound(void) {
  char name[32];
  int n = snprintf(name + 1, sizeof name - 1, "us_test_%d", (int)getpid());
  name[0] = '\0';
  us_socket_t rx, tx, anon;
  us_rawaddr_t a, b, from;
  unix_addr(&a, name, (size_t)n + 1);
  ASSERT_OK(us_socket_open(&rx, AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_OK(us_bind_raw(&rx, &a));
  ASSERT_OK(us_settimeout(&rx, 2000000000));
  /* The kernel picks an abstract name for an empty one. */
  ASSERT_OK(us_socket_open(&tx, AF_UNIX, SOCK_DGRAM, 0));
  unix_addr(&b, "", 0);
  ASSERT_OK(us_bind_raw(&tx, &b));
  ASSERT_OK(us_getsockname_raw(&tx, &b));
  const char *p;
  size_t len;
  ASSERT_OK(us_rawaddr_unix_path(&b, &p, &len));
  ASSERT(len > 1 && p[0] == '\0');
  ASSERT_EQ(us_sendto_raw(&tx, "hi", 2, 0, &a), 2);
  char buf[8];
  us_sink_t k;
  us_sink_fixed(&k, buf, sizeof buf);
  ASSERT_EQ(us_recvfrom_raw_sink(&rx, &k, sizeof buf, 0, &from), 2);
  ASSERT(memcmp(buf, "hi", 2) == 0);
  assert_name(&from, p, len);
  /* An unbound sender has no address at all. */
  ASSERT_OK(us_socket_open(&anon, AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_EQ(us_sendto_raw(&anon, "x", 1, 0, &a), 1);
  us_sink_fixed(&k, buf, sizeof buf);
  ASSERT_EQ(us_recvfrom_raw_sink(&rx, &k, sizeof buf, 0, &from), 1);
  ASSERT_EQ(from.len, 0);
  ASSERT_EQ(us_rawaddr_unix_path(&from, &p, &len), -EAFNOSUPPORT);
  /* Nothing more: the timeout holds as for any socket. */
  us_sink_fixed(&k, buf, sizeof buf);
  ASSERT_OK(us_settimeout(&rx, 0));
  ASSERT_EQ(us_recvfrom_raw_sink(&rx, &k, sizeof buf, 0, &from), -EAGAIN);
  ASSERT_OK(us_socket_close(&anon));
  ASSERT_OK(us_socket_close(&tx));
  ASSERT_OK(us_socket_close(&rx));
}

/* An AF_UNIX datagram may be larger than the largest IP one: a growing
 * sink takes it whole, through either receive. */
static void large_datagram_comes_whole(void) {
  enum { BIG = 100000 };
  char name[40];
  int n = snprintf(name + 1, sizeof name - 1, "us_big_%d", (int)getpid());
  name[0] = '\0';
  us_socket_t rx, tx;
  us_rawaddr_t a, from;
  unix_addr(&a, name, (size_t)n + 1);
  ASSERT_OK(us_socket_open(&rx, AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_OK(us_bind_raw(&rx, &a));
  ASSERT_OK(us_socket_open(&tx, AF_UNIX, SOCK_DGRAM, 0));
  int sndbuf = 4 * BIG;
  ASSERT_OK(us_setsockopt(&tx, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf));
  char *big = malloc(BIG);
  ASSERT(big != NULL);
  for (int i = 0; i < BIG; i++)
    big[i] = (char)(i * 7);
  for (int raw = 0; raw < 2; raw++) {
    struct heap_sink h;
    heap_sink_init(&h);
    ASSERT_EQ(us_sendto_raw(&tx, big, BIG, 0, &a), BIG);
    ssize_t got = raw ? us_recvfrom_raw_sink(&rx, &h.sink, 1 << 20, 0, &from)
                      : us_recv_sink(&rx, &h.sink, 1 << 20, 0);
    ASSERT_EQ(got, BIG);
    ASSERT(memcmp(h.sink.data, big, BIG) == 0);
    free(h.sink.data);
  }
  free(big);
  ASSERT_OK(us_socket_close(&tx));
  ASSERT_OK(us_socket_close(&rx));
}

static void paths_too_long_or_with_nul(void) {
  struct sockaddr_un un;
  char longp[sizeof un.sun_path + 2];
  us_rawaddr_t a;
  memset(longp, 'x', sizeof longp);
  /* A file name needs room for its NUL; an abstract name does not. */
  ASSERT_EQ(us_rawaddr_unix(&a, longp, sizeof un.sun_path), -ENAMETOOLONG);
  ASSERT_OK(us_rawaddr_unix(&a, longp, sizeof un.sun_path - 1));
  longp[0] = '\0';
  ASSERT_OK(us_rawaddr_unix(&a, longp, sizeof un.sun_path));
  ASSERT_EQ(us_rawaddr_unix(&a, longp, sizeof un.sun_path + 1), -ENAMETOOLONG);
  ASSERT_EQ(us_rawaddr_unix(&a, "a\0b", 3), -EINVAL);
  ASSERT_OK(us_rawaddr_unix(&a, "\0a\0b", 4)); /* abstract: any byte */
  assert_name(&a, "\0a\0b", 4);
  char big[US_RAWADDR_MAX + 1] = {0};
  ASSERT_EQ(us_rawaddr_set(&a, big, sizeof big), -EINVAL);
  ASSERT_OK(us_rawaddr_set(&a, big, 1));
  ASSERT_EQ(us_rawaddr_family(&a), 0);
}

static void errors_from_the_kernel(void) {
  us_socket_t s, t;
  us_rawaddr_t a;
  char dir[64], path[96];
  tmp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/none", dir);
  unix_addr(&a, path, strlen(path));
  ASSERT_OK(us_socket_open(&s, AF_UNIX, SOCK_STREAM, 0));
  ASSERT_EQ(us_connect_raw(&s, &a), -ENOENT);
  ASSERT_OK(us_bind_raw(&s, &a));
  ASSERT_OK(us_socket_open(&t, AF_UNIX, SOCK_STREAM, 0));
  ASSERT_EQ(us_bind_raw(&t, &a), -EADDRINUSE);
  /* Listening on nothing: refused. */
  ASSERT_EQ(us_connect_raw(&t, &a), -ECONNREFUSED);
  ASSERT_OK(us_socket_close(&t));
  ASSERT_OK(us_socket_close(&s));
  ASSERT_EQ(us_bind_raw(&s, &a), -EBADF);
  ASSERT_EQ(us_connect_raw(&s, &a), -EBADF);
  ASSERT_EQ(us_getsockname_raw(&s, &a), -EBADF);
  ASSERT_OK(unlink(path));
  ASSERT_OK(rmdir(dir));
}

TEST_TABLE(unix_tests) = {
    {"unix_stream_path_accept_names_and_data",
     stream_path_accept_names_and_data},
    {"unix_datagram_abstract_sender_and_unbound",
     datagram_abstract_sender_and_unbound},
    {"unix_large_datagram_comes_whole", large_datagram_comes_whole},
    {"unix_paths_too_long_or_with_nul", paths_too_long_or_with_nul},
    {"unix_errors_from_the_kernel", errors_from_the_kernel},
    TEST_END};
