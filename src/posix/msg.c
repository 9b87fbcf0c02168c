/* posix/msg.c: sendmsg/recvmsg, and closing the descriptors a message
 * brought (the layout of its ancillary data is src/cmsg.c's). */
#define _GNU_SOURCE
#include "../backend.h"
#include "fault_names.h" /* first: a fault build renames what follows */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set on every socket instead */
#endif
#ifndef MSG_CMSG_CLOEXEC
#define MSG_CMSG_CLOEXEC 0
#endif

/* The pieces go to the kernel as they are, without a copy. */
_Static_assert(sizeof(us_iov_t) == sizeof(struct iovec) &&
                   offsetof(us_iov_t, base) ==
                       offsetof(struct iovec, iov_base) &&
                   offsetof(us_iov_t, len) == offsetof(struct iovec, iov_len),
               "us_iov_t is laid out as struct iovec");

static int neg_errno(void) { return errno ? -errno : -EIO; }

static void to_msghdr(const us_msg_t *m, struct msghdr *h) {
  memset(h, 0, sizeof *h);
  h->msg_iov = (struct iovec *)(void *)(uintptr_t)m->iov;
  h->msg_iovlen = (size_t)m->iovlen;
  if (m->controllen) {
    h->msg_control = m->control;
    h->msg_controllen = m->controllen;
  }
}

ssize_t us__sys_sendmsg(int fd, const us_msg_t *msg, int flags) {
  struct msghdr h;
  to_msghdr(msg, &h);
  if (msg->addr && msg->addr->len) {
    h.msg_name = msg->addr->u.data;
    h.msg_namelen = (socklen_t)msg->addr->len;
  }
  ssize_t n = sendmsg(fd, &h, flags | MSG_NOSIGNAL);
  return n < 0 ? neg_errno() : n;
}

ssize_t us__sys_recvmsg(int fd, us_msg_t *msg, int flags) {
  struct msghdr h;
  to_msghdr(msg, &h);
  if (msg->addr) {
    h.msg_name = msg->addr->u.data;
    h.msg_namelen = sizeof msg->addr->u.data;
  }
  ssize_t n = recvmsg(fd, &h, flags | MSG_CMSG_CLOEXEC);
  if (n < 0)
    return neg_errno();
  if (msg->addr)
    msg->addr->len = h.msg_namelen < sizeof msg->addr->u.data
                         ? h.msg_namelen
                         : sizeof msg->addr->u.data;
  msg->controllen = msg->controllen ? h.msg_controllen : 0;
  msg->flags = h.msg_flags & ~MSG_CMSG_CLOEXEC; /* echoed back by Linux */
  return n;
}

void us__sys_cmsg_close_fds(const void *control, size_t len) {
  size_t pos = 0;
  us_cmsg_t c;
  while (us_cmsg_next(control, len, &pos, &c) == 1) {
    if (c.level != SOL_SOCKET || c.type != SCM_RIGHTS)
      continue;
    for (size_t i = 0; i + sizeof(int) <= c.len; i += sizeof(int)) {
      int fd;
      memcpy(&fd, (const unsigned char *)c.data + i, sizeof fd);
      if (fd >= 0)
        close(fd);
    }
  }
}
