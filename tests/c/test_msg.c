/* test_msg.c: vectored sends and receives (us_sendv, us_sendallv,
 * us_recvv), us_sendmsg/us_recvmsg with SCM_RIGHTS, and the cmsg
 * helpers. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static void sendv_gathers_and_recvv_scatters(void) {
  us_socket_t a, b;
  char x[3] = "abc", y[1] = "d", got1[2], got2[10];
  us_iov_t out[3] = {{x, 3}, {NULL, 0}, {y, 1}};
  us_iov_t in[2] = {{got1, 2}, {got2, sizeof got2}};
  tcp_pair(&a, &b);
  ASSERT_EQ(us_sendv(&a, out, 3, 0), 4);
  ASSERT_OK(us_settimeout(&b, 2000 * 1000000LL));
  usleep(20000);
  ASSERT_EQ(us_recvv(&b, in, 2, 0), 4);
  ASSERT(memcmp(got1, "ab", 2) == 0 && memcmp(got2, "cd", 2) == 0);
  us_socket_close(&a);
  us_socket_close(&b);
}

struct drain {
  us_socket_t *s;
  unsigned char *got;
  size_t len, have;
};

static void *drain_slowly(void *arg) {
  struct drain *d = arg;
  while (d->have < d->len) {
    size_t left = d->len - d->have;
    ssize_t n = us_recv(d->s, d->got + d->have, left < 4096 ? left : 4096, 0);
    if (n <= 0)
      break;
    d->have += (size_t)n;
    if (d->have % 16 == 0)
      usleep(100);
  }
  return NULL;
}

/* Many pieces of odd sizes, through a small send buffer: every partial
 * send stops inside a piece, and the rest must follow from there. */
static void sendallv_resumes_inside_a_piece(void) {
  enum { PIECES = 200 };
  us_socket_t a, b;
  us_iov_t iov[PIECES];
  size_t total = 0, sent = 0;
  static unsigned char data[PIECES * 3000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (unsigned char)(i * 7 + i / 251);
  for (int i = 0; i < PIECES; i++) {
    size_t len = (size_t)(i * 37 % 2999) + (i % 5 == 0 ? 0 : 1);
    iov[i].base = data + total;
    iov[i].len = len;
    total += len;
  }
  tcp_pair(&a, &b);
  int small = 4096;
  ASSERT_OK(us_setsockopt(&a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small));
  /* Generous: the test is about the bytes, and runs under valgrind too. */
  ASSERT_OK(us_settimeout(&a, 30000 * 1000000LL));
  struct drain d = {&b, calloc(1, total), total, 0};
  pthread_t t;
  ASSERT_OK(pthread_create(&t, NULL, drain_slowly, &d));
  ASSERT_OK(us_sendallv(&a, iov, PIECES, 0, &sent));
  ASSERT_EQ(sent, total);
  pthread_join(t, NULL);
  ASSERT_EQ(d.have, total);
  ASSERT(memcmp(d.got, data, total) == 0);
  free(d.got);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void sendallv_deadline_bounds_whole_call(void) {
  us_socket_t a, b;
  size_t len = (size_t)16 << 20, sent = 0;
  char *big = calloc(1, len);
  us_iov_t iov[4] = {{big, len}, {big, len}, {big, len}, {big, len}};
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&a, 150 * 1000000LL));
  int64_t t0 = now_ms();
  ASSERT_EQ(us_sendallv(&a, iov, 4, 0, &sent), -ETIMEDOUT);
  int64_t dt = now_ms() - t0;
  free(big);
  ASSERT(sent > 0 && sent < 4 * len);
  ASSERT(dt >= 145 && dt < LATE_MS(150));
  us_socket_close(&a);
  us_socket_close(&b);
}

static void vectored_bad_input(void) {
  us_socket_t a, b;
  char c = 'x';
  us_iov_t one = {&c, 1};
  size_t sent = 7;
  tcp_pair(&a, &b);
  ASSERT_EQ(us_sendv(&a, &one, -1, 0), -EMSGSIZE);
  ASSERT_EQ(us_sendv(&a, &one, US_IOV_MAX + 1, 0), -EMSGSIZE);
  ASSERT_EQ(us_recvv(&b, NULL, 2, 0), -EFAULT);
  ASSERT_EQ(us_recvv(&b, &one, 1, MSG_TRUNC), -EINVAL);
  ASSERT_OK(us_settimeout(&b, 0));
  ASSERT_EQ(us_recvv(&b, &one, 1, 0), -EAGAIN);
  us_socket_close(&a);
  ASSERT_EQ(us_sendv(&a, &one, 1, 0), -EBADF);
  ASSERT_EQ(us_sendallv(&a, &one, 1, 0, &sent), -EBADF);
  ASSERT_EQ(sent, 0);
  ASSERT_EQ(us_recvv(&a, &one, 1, 0), -EBADF);
  us_socket_close(&b);
}

static void unix_pair(us_socket_t *a, us_socket_t *b) {
  us_socket_t lsn;
  us_rawaddr_t name;
  char path[64];
  int len = snprintf(path, sizeof path, "%cus-msg-%d", 0, (int)getpid());
  ASSERT_OK(us_rawaddr_unix(&name, path, (size_t)len));
  ASSERT_OK(us_socket_open(&lsn, AF_UNIX, SOCK_STREAM, 0));
  ASSERT_OK(us_bind_raw(&lsn, &name));
  ASSERT_OK(us_listen(&lsn, 1));
  ASSERT_OK(us_socket_open(a, AF_UNIX, SOCK_STREAM, 0));
  ASSERT_OK(us_connect_raw(a, &name));
  ASSERT_OK(us_accept_raw(&lsn, b, NULL));
  us_socket_close(&lsn);
}

static void scm_rights_pass_a_descriptor(void) {
  us_socket_t a, b;
  int p[2], fd = -1;
  char c = 'F', got = 0;
  _Alignas(void *) unsigned char out[64] = {0}, in[64];
  size_t pos = 0;
  ASSERT_OK(pipe(p));
  unix_pair(&a, &b);
  ASSERT_OK(us_cmsg_put(out, sizeof out, &pos, SOL_SOCKET, SCM_RIGHTS, &p[1],
                        sizeof p[1]));
  ASSERT_EQ(pos, us_cmsg_space(sizeof(int)));
  us_iov_t iov = {&c, 1}, riov = {&got, 1};
  us_msg_t m = {&iov, 1, out, pos, NULL, 0};
  ASSERT_EQ(us_sendmsg(&a, &m, 0), 1);
  us_msg_t r = {&riov, 1, in, sizeof in, NULL, 0};
  ASSERT_EQ(us_recvmsg(&b, &r, 0), 1);
  ASSERT_EQ(got, 'F');
  ASSERT_EQ(r.flags & MSG_CTRUNC, 0);
  size_t at = 0;
  us_cmsg_t item;
  ASSERT_EQ(us_cmsg_next(in, r.controllen, &at, &item), 1);
  ASSERT_EQ(item.level, SOL_SOCKET);
  ASSERT_EQ(item.type, SCM_RIGHTS);
  ASSERT_EQ(item.len, sizeof(int));
  memcpy(&fd, item.data, sizeof fd);
  ASSERT(fd >= 0 && fd != p[1]);
  ASSERT_EQ(us_cmsg_next(in, r.controllen, &at, &item), 0);
  ASSERT_EQ(write(fd, "z", 1), 1);
  ASSERT_EQ(read(p[0], &got, 1), 1);
  ASSERT_EQ(got, 'z');
  int before = open_fds();
  us_cmsg_close_fds(in, r.controllen);
  ASSERT_EQ(open_fds(), before - 1);
  close(p[0]);
  close(p[1]);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void cmsg_put_without_room_is_enospc(void) {
  _Alignas(void *) unsigned char buf[16] = {0};
  size_t pos = 0;
  int fd = 0;
  ASSERT_EQ(us_cmsg_put(buf, sizeof buf, &pos, SOL_SOCKET, SCM_RIGHTS, &fd,
                        sizeof fd),
            -ENOSPC);
  ASSERT_EQ(pos, 0);
  ASSERT_EQ(us_cmsg_len((size_t)1 << 40), 0);
}

TEST_TABLE(msg_tests) = {
    {"msg_sendv_gathers_and_recvv_scatters", sendv_gathers_and_recvv_scatters},
    {"msg_sendallv_resumes_inside_a_piece", sendallv_resumes_inside_a_piece},
    {"msg_sendallv_deadline_bounds_whole_call",
     sendallv_deadline_bounds_whole_call},
    {"msg_vectored_bad_input", vectored_bad_input},
    {"msg_scm_rights_pass_a_descriptor", scm_rights_pass_a_descriptor},
    {"msg_cmsg_put_without_room_is_enospc", cmsg_put_without_room_is_enospc},
    TEST_END};
