/* lwip/msg.c: sendmsg/recvmsg on lwIP and the ancillary data's layout
 * (lwIP brings none but IP_PKTINFO, and no descriptors). */
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
    h.msg_namelen = sizeof(us__lwip_sa_t);
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

size_t us__sys_cmsg_len(size_t len) {
  if (len > (size_t)INT32_MAX - CMSG_SPACE(0))
    return 0;
  return CMSG_LEN(len);
}

size_t us__sys_cmsg_space(size_t len) {
  if (len > (size_t)INT32_MAX - CMSG_SPACE(0))
    return 0;
  return CMSG_SPACE(len);
}

int us__sys_cmsg_put(void *control, size_t cap, size_t *pos, int level,
                     int type, const void *data, size_t len) {
  size_t space = us__sys_cmsg_space(len);
  if (space == 0 || *pos > cap || cap - *pos < space)
    return -ENOSPC;
  struct cmsghdr head;
  memset(&head, 0, sizeof head);
  head.cmsg_level = level;
  head.cmsg_type = type;
  head.cmsg_len = CMSG_LEN(len);
  unsigned char *at = (unsigned char *)control + *pos;
  memcpy(at, &head, sizeof head);
  if (len)
    memcpy(at + CMSG_LEN(0), data, len);
  *pos += space;
  return 0;
}

int us__sys_cmsg_next(const void *control, size_t len, size_t *pos,
                      us_cmsg_t *out) {
  struct cmsghdr head;
  size_t at = *pos;
  if (at >= len || len - at < sizeof head)
    return 0;
  memcpy(&head, (const unsigned char *)control + at, sizeof head);
  if (head.cmsg_len < CMSG_LEN(0))
    return 0;
  size_t have = len - at, item = head.cmsg_len < have ? head.cmsg_len : have;
  out->level = head.cmsg_level;
  out->type = head.cmsg_type;
  out->data = (const unsigned char *)control + at + CMSG_LEN(0);
  out->len = item > CMSG_LEN(0) ? item - CMSG_LEN(0) : 0;
  size_t step = CMSG_SPACE(head.cmsg_len - CMSG_LEN(0));
  *pos = step < have ? at + step : len;
  return 1;
}

void us__sys_cmsg_close_fds(const void *control, size_t len) {
  (void)control, (void)len; /* lwIP passes no descriptors */
}
