/* poll.c: a socket's readiness right now, for a host's own poll protocol
 * (MicroPython's MP_STREAM_POLL), which must never wait. */
#include "core.h"

#include <errno.h>

int us_poll(const us_socket_t *s, int events) {
  if (s->fd < 0)
    return -EBADF;
  int r;
  do /* a zero-time check is simply made again after a signal */
    r = us__sys_wait(s->fd, events, 0);
  while (r == -EINTR);
  return r;
}
