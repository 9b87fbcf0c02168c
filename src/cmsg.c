/* cmsg.c: the ancillary data's layout (us_cmsg_*), on the platform's own
 * struct cmsghdr and CMSG_LEN/CMSG_SPACE (platform.h), so that what is
 * built here goes to sendmsg as it is and what recvmsg gives reads back. */
#include "core.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

size_t us_cmsg_len(size_t len) {
  if (len > (size_t)INT32_MAX - US__CMSG_SPACE(0))
    return 0;
  return US__CMSG_LEN(len);
}

size_t us_cmsg_space(size_t len) {
  if (len > (size_t)INT32_MAX - US__CMSG_SPACE(0))
    return 0;
  return US__CMSG_SPACE(len);
}

int us_cmsg_put(void *control, size_t cap, size_t *pos, int level, int type,
                const void *data, size_t len) {
  size_t space = us_cmsg_space(len);
  if (space == 0 || *pos > cap || cap - *pos < space)
    return -ENOSPC;
  us__cmsghdr_t head;
  memset(&head, 0, sizeof head);
  head.cmsg_level = level;
  head.cmsg_type = type;
  head.cmsg_len = US__CMSG_LEN(len);
  unsigned char *at = (unsigned char *)control + *pos;
  memcpy(at, &head, sizeof head);
  if (len)
    memcpy(at + US__CMSG_LEN(0), data, len);
  *pos += space;
  return 0;
}

int us_cmsg_next(const void *control, size_t len, size_t *pos, us_cmsg_t *out) {
  us__cmsghdr_t head;
  size_t at = *pos;
  if (at >= len || len - at < sizeof head)
    return 0;
  /* Read through a copy: the caller's bytes need not be aligned. */
  memcpy(&head, (const unsigned char *)control + at, sizeof head);
  if (head.cmsg_len < US__CMSG_LEN(0))
    return 0; /* malformed: nothing more can be trusted */
  size_t have = len - at, item = head.cmsg_len < have ? head.cmsg_len : have;
  out->level = head.cmsg_level;
  out->type = head.cmsg_type;
  out->data = (const unsigned char *)control + at + US__CMSG_LEN(0);
  out->len = item > US__CMSG_LEN(0) ? item - US__CMSG_LEN(0) : 0;
  size_t step = US__CMSG_SPACE(head.cmsg_len - US__CMSG_LEN(0));
  *pos = step < have ? at + step : len;
  return 1;
}

void us_cmsg_close_fds(const void *control, size_t len) {
  us__sys_cmsg_close_fds(control, len);
}
