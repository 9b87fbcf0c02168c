/* mpusocket.h: what the MicroPython binding's files share. */
#ifndef MPUSOCKET_H
#define MPUSOCKET_H

#include "py/nlr.h"
#include "py/obj.h"
/* The platform's constants under the core's names (US__AF_INET...): the
 * binding includes no network header, so it builds on lwIP as on POSIX. */
#include "platform.h"
#include "usocket.h"

/* A socket object: the core's socket, nothing else. */
typedef struct {
  mp_obj_base_t base;
  us_socket_t s;
} mpus_socket_obj_t;

/* An immutable address, as getaddrinfo, accept and recvfrom return it. */
typedef struct {
  mp_obj_base_t base;
  us_addr_t addr;
} mpus_sockaddr_obj_t;

extern const mp_obj_type_t mpus_socket_type;
extern const mp_obj_type_t mpus_sockaddr_type;

/* Installs the core's host hooks (GIL, pending exceptions). Idempotent. */
void mpus_install_host(void);

/* Raises the exception for a negative error from the core; never returns.
 * -EINTR first runs the pending exception (Ctrl-C) that caused it. */
MP_NORETURN void mpus_raise(int err);

/* Raises for err < 0, else returns err. */
static inline int mpus_check(int err) {
  if (err < 0)
    mpus_raise(err);
  return err;
}

/* Runs `call` (a core call that may wait) as `r = call`. The unix port
 * raises KeyboardInterrupt straight from its SIGINT handler (a longjmp):
 * should one jump through the call, the core first gives back what it
 * held (us_abandon_calls), and the exception goes on. */
#define MPUS_CALL(r, call)                                                     \
  do {                                                                         \
    unsigned mpus_keep_ = us_calls_in_progress();                              \
    nlr_buf_t mpus_nlr_;                                                       \
    if (nlr_push(&mpus_nlr_) == 0) {                                           \
      (r) = (call);                                                            \
      nlr_pop();                                                               \
    } else {                                                                   \
      us_abandon_calls(mpus_keep_);                                            \
      nlr_jump(mpus_nlr_.ret_val);                                             \
    }                                                                          \
  } while (0)

/* A timeout argument: None (US_TIMEOUT_BLOCK) or seconds >= 0, in ns;
 * raises ValueError/OverflowError for others. */
int64_t mpus_timeout_arg(mp_obj_t value);

/* A new sockaddr object holding *addr. */
mp_obj_t mpus_addr_new(const us_addr_t *addr);

/* Converts an address argument for a socket of `family`: a sockaddr, or a
 * tuple (host, port[, flowinfo, scopeid]) whose host is numeric, '' (any)
 * or a name to resolve. Raises on anything else. */
void mpus_addr_from_obj(mp_obj_t obj, int family, us_addr_t *addr);

/* Sockets of families other than AF_INET and AF_INET6 (AF_UNIX...) take
 * and give raw addresses, as the unix port's socket module does. */
static inline int mpus_is_raw(const us_socket_t *s) {
  return s->family != US__AF_INET && s->family != US__AF_INET6;
}

/* Converts an address argument for such a socket: raw struct sockaddr
 * bytes (any buffer), or for AF_UNIX a str path ('\0' first: abstract).
 * Raises on anything else. */
void mpus_rawaddr_from_obj(mp_obj_t obj, int family, us_rawaddr_t *addr);
/* A raw address as bytes (bytearray when asked), as the unix port gives. */
mp_obj_t mpus_rawaddr_new(const us_rawaddr_t *addr, int bytearray);

#endif
