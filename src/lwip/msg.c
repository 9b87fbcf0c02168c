/* lwip/msg.c: sendmsg/recvmsg on lwIP (its ancillary data is none but
 * IP_PKTINFO, and no descriptors; the layout is src/cmsg.c's). */
#include "lwip_sys.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* lwIP refuses an empty piece (errno left 0): the pieces go without
 * them, at most IOV_PASS at a time (a shorter transfer, as the calls
 * allow). */
#define IOV_PASS 64

static void to_msghdr(const us_msg_t *m, struct msghdr *h, struct iovec *iov) {
  int n = 0;
  memset(h, 0, sizeof *h);
  for (int i = 0; i < (int)m->iovlen && n < IOV_PASS; i++) {
    if (m->iov[i].len == 0)
      continue;
    iov[n].iov_base = m->iov[i].base;
    iov[n].iov_len = m->iov[i].len;
    n++;
  }
  if (n == 0) { /* nothing to move: still one piece, for lwIP */
    static char none;
    iov[0].iov_base = &none;
    iov[0].iov_len = 0;
    n = 1;
  }
  h->msg_iov = iov;
  h->msg_iovlen = n;
  if (m->controllen) {
    h->msg_control = m->control;
    h->msg_controllen = m->controllen;
  }
}

ssize_t us__sys_sendmsg(int fd, const us_msg_t *msg, int flags) {
  struct msghdr h;
  struct iovec iov[IOV_PASS];
  to_msghdr(msg, &h, iov);
  if (msg->addr && msg->addr->len) {
    h.msg_name = msg->addr->u.data;
    h.msg_namelen = (socklen_t)msg->addr->len;
  }
  ssize_t n = lwip_sendmsg(fd, &h, flags);
  return n < 0 ? us__lwip_errno() : n;
}

ssize_t us__sys_recvmsg(int fd, us_msg_t *msg, int flags) {
  struct msghdr h;
  struct iovec iov[IOV_PASS];
  to_msghdr(msg, &h, iov);
  if (msg->addr) {
    h.msg_name = msg->addr->u.data;
    h.msg_namelen = sizeof(us__sa_t);
  }
  ssize_t n = lwip_recvmsg(fd, &h, flags);
  if (n < 0)
    return us__lwip_errno();
  if (msg->addr)
    msg->addr->len = h.msg_namelen;
  msg->controllen = msg->controllen ? h.msg_controllen : 0;
  msg->flags = h.msg_flags;
  return n;
}

void us__sys_cmsg_close_fds(const void *control, size_t len) {
  (void)control, (void)len; /* lwIP passes no descriptors */
}
