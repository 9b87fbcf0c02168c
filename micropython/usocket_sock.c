/* usocket_sock.c: the socket type: methods and the stream protocol, each a
 * conversion of arguments around one call into the core. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "py/runtime.h"
#include "py/stream.h"

#include "mpusocket.h"

#define SELF(obj) (&((mpus_socket_obj_t *)MP_OBJ_TO_PTR(obj))->s)

/* ---- byte results ------------------------------------------------------- */

/* The core calls this with the GIL held. It must not raise (that would
 * jump out of the core's frames), hence the _maybe allocator. */
static int sink_grow(us_sink_t *k, size_t need) {
#if MICROPY_MALLOC_USES_ALLOCATED_SIZE
  char *p = m_realloc_maybe(k->data, k->cap, need, true);
#else
  char *p = m_realloc_maybe(k->data, need, true);
#endif
  if (!p)
    return -ENOMEM;
  k->data = p;
  k->cap = need;
  return 0;
}

static void sink_free(us_sink_t *k) {
#if MICROPY_MALLOC_USES_ALLOCATED_SIZE
  m_free(k->data, k->cap);
#else
  m_free(k->data);
#endif
}

static void sink_init(us_sink_t *k) {
  memset(k, 0, sizeof *k);
  k->grow = sink_grow;
}

/* Hands the sink's buffer to a bytes object without copying it. */
static mp_obj_t sink_bytes(us_sink_t *k) {
  if (k->len == 0) {
    sink_free(k);
    return mp_const_empty_bytes;
  }
  vstr_t v = {.alloc = k->cap, .len = k->len, .buf = k->data};
  return mp_obj_new_bytes_from_vstr(&v);
}

/* A stream call's result: -EAGAIN (non-blocking, nothing there) is None,
 * MicroPython's convention; other errors raise. */
static mp_obj_t count_or_none(ssize_t r) {
  if (r == -EAGAIN || r == -EWOULDBLOCK)
    return mp_const_none;
  if (r < 0)
    mpus_raise((int)r);
  return mp_obj_new_int(r);
}

static size_t size_arg(size_t n_args, const mp_obj_t *args, size_t i) {
  if (n_args <= i || args[i] == mp_const_none)
    return SIZE_MAX;
  mp_int_t n = mp_obj_get_int(args[i]);
  return n < 0 ? SIZE_MAX : (size_t)n; /* -1: all, as MicroPython's read */
}

/* ---- lifetime ----------------------------------------------------------- */

static mp_obj_t sock_make_new(const mp_obj_type_t *type, size_t n_args,
                              size_t n_kw, const mp_obj_t *args) {
  mp_arg_check_num(n_args, n_kw, 0, 3, false);
  int af = n_args > 0 ? mp_obj_get_int(args[0]) : US__AF_INET;
  int st = n_args > 1 ? mp_obj_get_int(args[1]) : US__SOCK_STREAM;
  int proto = n_args > 2 ? mp_obj_get_int(args[2]) : 0;
  mpus_install_host();
  mpus_socket_obj_t *o = mp_obj_malloc_with_finaliser(mpus_socket_obj_t, type);
  o->s.fd = -1; /* until opened: the finaliser may see it */
  mpus_check(us_socket_open(&o->s, af, st, proto));
  return MP_OBJ_FROM_PTR(o);
}

static mp_obj_t sock_close(mp_obj_t self) {
  mpus_check(us_socket_close(SELF(self)));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(sock_close_obj, sock_close);

/* The finaliser: never raises, as the collector may run it anywhere. */
static mp_obj_t sock_del(mp_obj_t self) {
  us_socket_close(SELF(self));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(sock_del_obj, sock_del);

static mp_obj_t sock_exit(size_t n_args, const mp_obj_t *args) {
  (void)n_args;
  return sock_close(args[0]);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_exit_obj, 4, 4, sock_exit);

static mp_obj_t sock_fileno(mp_obj_t self) {
  return MP_OBJ_NEW_SMALL_INT(SELF(self)->fd);
}
static MP_DEFINE_CONST_FUN_OBJ_1(sock_fileno_obj, sock_fileno);

static mp_obj_t sock_makefile(size_t n_args, const mp_obj_t *args) {
  /* MicroPython's socket is its own stream; buffering is ignored. */
  static const char *const modes[] = {"rb", "wb", "rwb", "r", "w", "rw"};
  const char *mode = n_args > 1 ? mp_obj_str_get_str(args[1]) : "rb";
  for (size_t i = 0; i < MP_ARRAY_SIZE(modes); i++) {
    if (strcmp(mode, modes[i]) == 0)
      return args[0];
  }
  mp_raise_ValueError(MP_ERROR_TEXT("invalid mode"));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_makefile_obj, 1, 3,
                                           sock_makefile);

/* ---- timeouts ----------------------------------------------------------- */

static mp_obj_t sock_settimeout(mp_obj_t self, mp_obj_t value) {
  mpus_check(us_settimeout(SELF(self), mpus_timeout_arg(value)));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(sock_settimeout_obj, sock_settimeout);

static mp_obj_t sock_setblocking(mp_obj_t self, mp_obj_t flag) {
  int64_t ns = mp_obj_is_true(flag) ? US_TIMEOUT_BLOCK : US_TIMEOUT_NONBLOCK;
  mpus_check(us_settimeout(SELF(self), ns));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(sock_setblocking_obj, sock_setblocking);

/* ---- connection set-up -------------------------------------------------- */

static mp_obj_t sock_bind(mp_obj_t self, mp_obj_t addr_in) {
  us_addr_t addr;
  if (mpus_is_raw(SELF(self))) {
    us_rawaddr_t raw;
    mpus_rawaddr_from_obj(addr_in, SELF(self)->family, &raw);
    mpus_check(us_bind_raw(SELF(self), &raw));
    return mp_const_none;
  }
  mpus_addr_from_obj(addr_in, SELF(self)->family, &addr);
  mpus_check(us_bind(SELF(self), &addr));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(sock_bind_obj, sock_bind);

static mp_obj_t sock_listen(size_t n_args, const mp_obj_t *args) {
  int backlog =
      US__SOMAXCONN < US_LISTEN_DEFAULT ? US__SOMAXCONN : US_LISTEN_DEFAULT;
  if (n_args > 1)
    backlog = mp_obj_get_int(args[1]);
  mpus_check(us_listen(SELF(args[0]), backlog));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_listen_obj, 1, 2, sock_listen);

static mp_obj_t sock_accept(mp_obj_t self) {
  /* The new object exists before the descriptor does, so no failure
   * after accept can leak the descriptor: the finaliser closes it. */
  mpus_socket_obj_t *conn =
      mp_obj_malloc_with_finaliser(mpus_socket_obj_t, &mpus_socket_type);
  conn->s.fd = -1;
  us_addr_t peer;
  int r;
  if (mpus_is_raw(SELF(self))) {
    us_rawaddr_t raw;
    MPUS_CALL(r, us_accept_raw(SELF(self), &conn->s, &raw));
    mpus_check(r);
    /* A bytearray, as the unix port's accept gives. */
    mp_obj_t items[2] = {MP_OBJ_FROM_PTR(conn), mpus_rawaddr_new(&raw, 1)};
    return mp_obj_new_tuple(2, items);
  }
  MPUS_CALL(r, us_accept(SELF(self), &conn->s, &peer));
  mpus_check(r);
  mp_obj_t items[2] = {MP_OBJ_FROM_PTR(conn), mpus_addr_new(&peer)};
  return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(sock_accept_obj, sock_accept);

static mp_obj_t sock_connect(mp_obj_t self, mp_obj_t addr_in) {
  us_addr_t addr;
  int r;
  if (mpus_is_raw(SELF(self))) {
    us_rawaddr_t raw;
    mpus_rawaddr_from_obj(addr_in, SELF(self)->family, &raw);
    MPUS_CALL(r, us_connect_raw(SELF(self), &raw));
    mpus_check(r);
    return mp_const_none;
  }
  mpus_addr_from_obj(addr_in, SELF(self)->family, &addr);
  MPUS_CALL(r, us_connect(SELF(self), &addr));
  mpus_check(r);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(sock_connect_obj, sock_connect);

static mp_obj_t sock_shutdown(mp_obj_t self, mp_obj_t how) {
  mpus_check(us_shutdown(SELF(self), mp_obj_get_int(how)));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(sock_shutdown_obj, sock_shutdown);

/* A raw socket's own name or its peer's, as raw bytes. */
static mp_obj_t raw_name(mp_obj_t self, int peer) {
  us_rawaddr_t raw;
  mpus_check(peer ? us_getpeername_raw(SELF(self), &raw)
                  : us_getsockname_raw(SELF(self), &raw));
  return mpus_rawaddr_new(&raw, 0);
}

static mp_obj_t sock_getsockname(mp_obj_t self) {
  us_addr_t addr;
  if (mpus_is_raw(SELF(self)))
    return raw_name(self, 0);
  mpus_check(us_getsockname(SELF(self), &addr));
  return mpus_addr_new(&addr);
}
static MP_DEFINE_CONST_FUN_OBJ_1(sock_getsockname_obj, sock_getsockname);

static mp_obj_t sock_getpeername(mp_obj_t self) {
  us_addr_t addr;
  if (mpus_is_raw(SELF(self)))
    return raw_name(self, 1);
  mpus_check(us_getpeername(SELF(self), &addr));
  return mpus_addr_new(&addr);
}
static MP_DEFINE_CONST_FUN_OBJ_1(sock_getpeername_obj, sock_getpeername);

/* ---- datagram and single-call I/O --------------------------------------- */

static mp_obj_t sock_send(size_t n_args, const mp_obj_t *args) {
  mp_buffer_info_t b;
  mp_get_buffer_raise(args[1], &b, MP_BUFFER_READ);
  int flags = n_args > 2 ? mp_obj_get_int(args[2]) : 0;
  ssize_t n;
  MPUS_CALL(n, us_send(SELF(args[0]), b.buf, b.len, flags));
  mpus_check(n < 0 ? (int)n : 0);
  return mp_obj_new_int(n);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_send_obj, 2, 3, sock_send);

static mp_obj_t sock_sendall(size_t n_args, const mp_obj_t *args) {
  mp_buffer_info_t b;
  mp_get_buffer_raise(args[1], &b, MP_BUFFER_READ);
  int flags = n_args > 2 ? mp_obj_get_int(args[2]) : 0;
  int r;
  MPUS_CALL(r, us_sendall(SELF(args[0]), b.buf, b.len, flags, NULL));
  mpus_check(r);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_sendall_obj, 2, 3,
                                           sock_sendall);

static mp_obj_t sock_sendto(size_t n_args, const mp_obj_t *args) {
  mp_buffer_info_t b;
  us_addr_t to;
  mp_get_buffer_raise(args[1], &b, MP_BUFFER_READ);
  int flags = n_args > 3 ? mp_obj_get_int(args[2]) : 0;
  ssize_t n;
  if (mpus_is_raw(SELF(args[0]))) {
    us_rawaddr_t raw;
    mpus_rawaddr_from_obj(args[n_args - 1], SELF(args[0])->family, &raw);
    MPUS_CALL(n, us_sendto_raw(SELF(args[0]), b.buf, b.len, flags, &raw));
    mpus_check(n < 0 ? (int)n : 0);
    return mp_obj_new_int(n);
  }
  mpus_addr_from_obj(args[n_args - 1], SELF(args[0])->family, &to);
  MPUS_CALL(n, us_sendto(SELF(args[0]), b.buf, b.len, flags, &to));
  mpus_check(n < 0 ? (int)n : 0);
  return mp_obj_new_int(n);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_sendto_obj, 3, 4, sock_sendto);

static size_t bufsize_arg(mp_obj_t obj) {
  mp_int_t n = mp_obj_get_int(obj);
  if (n < 0)
    mp_raise_ValueError(MP_ERROR_TEXT("negative buffersize in recv"));
  return (size_t)n;
}

static mp_obj_t sock_recv(size_t n_args, const mp_obj_t *args) {
  us_sink_t k;
  size_t max = bufsize_arg(args[1]);
  int flags = n_args > 2 ? mp_obj_get_int(args[2]) : 0;
  sink_init(&k);
  ssize_t n;
  MPUS_CALL(n, us_recv_sink(SELF(args[0]), &k, max, flags));
  if (n < 0) {
    sink_free(&k);
    mpus_raise((int)n);
  }
  return sink_bytes(&k);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_recv_obj, 2, 3, sock_recv);

static mp_obj_t sock_recvfrom(size_t n_args, const mp_obj_t *args) {
  us_sink_t k;
  us_addr_t from;
  us_rawaddr_t raw;
  int is_raw = mpus_is_raw(SELF(args[0]));
  size_t max = bufsize_arg(args[1]);
  int flags = n_args > 2 ? mp_obj_get_int(args[2]) : 0;
  sink_init(&k);
  ssize_t n;
  if (is_raw)
    MPUS_CALL(n, us_recvfrom_raw_sink(SELF(args[0]), &k, max, flags, &raw));
  else
    MPUS_CALL(n, us_recvfrom_sink(SELF(args[0]), &k, max, flags, &from));
  if (n < 0) {
    sink_free(&k);
    mpus_raise((int)n);
  }
  mp_obj_t items[2] = {sink_bytes(&k), is_raw ? mpus_rawaddr_new(&raw, 0)
                                              : mpus_addr_new(&from)};
  return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_recvfrom_obj, 2, 3,
                                           sock_recvfrom);

/* ---- options ------------------------------------------------------------ */

static mp_obj_t sock_setsockopt(size_t n_args, const mp_obj_t *args) {
  (void)n_args;
  int level = mp_obj_get_int(args[1]), name = mp_obj_get_int(args[2]);
  int ival;
  mp_buffer_info_t b;
  if (mp_obj_is_int(args[3]) || mp_obj_is_bool(args[3])) {
    ival = mp_obj_get_int(args[3]);
    b.buf = &ival;
    b.len = sizeof ival;
  } else {
    mp_get_buffer_raise(args[3], &b, MP_BUFFER_READ);
  }
  mpus_check(us_setsockopt(SELF(args[0]), level, name, b.buf, b.len));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_setsockopt_obj, 4, 4,
                                           sock_setsockopt);

static mp_obj_t sock_getsockopt(size_t n_args, const mp_obj_t *args) {
  int level = mp_obj_get_int(args[1]), name = mp_obj_get_int(args[2]);
  if (n_args < 4) {
    int ival = 0;
    size_t len = sizeof ival;
    mpus_check(us_getsockopt(SELF(args[0]), level, name, &ival, &len));
    return mp_obj_new_int(ival);
  }
  mp_int_t want = mp_obj_get_int(args[3]);
  if (want < 0 || want > 1024)
    mp_raise_ValueError(MP_ERROR_TEXT("getsockopt buflen out of range"));
  char buf[1024];
  size_t len = (size_t)want;
  mpus_check(us_getsockopt(SELF(args[0]), level, name, buf, &len));
  return mp_obj_new_bytes((const byte *)buf, len);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_getsockopt_obj, 3, 4,
                                           sock_getsockopt);

/* ---- stream methods ----------------------------------------------------- */

static mp_obj_t sock_read(size_t n_args, const mp_obj_t *args) {
  us_sink_t k;
  sink_init(&k);
  size_t max = size_arg(n_args, args, 1);
  ssize_t n;
  MPUS_CALL(n, us_read(SELF(args[0]), &k, max));
  if (n < 0) {
    sink_free(&k);
    return count_or_none(n);
  }
  return sink_bytes(&k);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_read_obj, 1, 2, sock_read);

static mp_obj_t sock_readline(size_t n_args, const mp_obj_t *args) {
  us_sink_t k;
  sink_init(&k);
  size_t max = size_arg(n_args, args, 1);
  ssize_t n;
  MPUS_CALL(n, us_readline(SELF(args[0]), &k, max));
  if (n < 0) {
    sink_free(&k);
    return count_or_none(n);
  }
  return sink_bytes(&k);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_readline_obj, 1, 2,
                                           sock_readline);

static mp_obj_t sock_readinto(size_t n_args, const mp_obj_t *args) {
  mp_buffer_info_t b;
  us_sink_t k;
  mp_get_buffer_raise(args[1], &b, MP_BUFFER_WRITE);
  size_t max = b.len;
  if (n_args > 2) {
    mp_int_t n = mp_obj_get_int(args[2]);
    if (n < 0 || (size_t)n > b.len)
      mp_raise_ValueError(MP_ERROR_TEXT("nbytes out of range"));
    max = (size_t)n;
  }
  us_sink_fixed(&k, b.buf, max);
  ssize_t n;
  MPUS_CALL(n, us_read(SELF(args[0]), &k, max));
  return count_or_none(n);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_readinto_obj, 2, 3,
                                           sock_readinto);

/* write(buf), write(buf, max_len), write(buf, off, max_len): the forms
 * of py/stream.c, its integers truncated as there. */
static mp_obj_t sock_write(size_t n_args, const mp_obj_t *args) {
  mp_buffer_info_t b;
  mp_get_buffer_raise(args[1], &b, MP_BUFFER_READ);
  ssize_t n;
  if (n_args == 2) { /* the common form: nothing to clamp */
    MPUS_CALL(n, us_write(SELF(args[0]), b.buf, b.len));
    return count_or_none(n);
  }
  size_t off = 0, max = SIZE_MAX, at;
  if (n_args == 3)
    max = (size_t)mp_obj_get_int_truncated(args[2]);
  else if (n_args == 4) {
    off = (size_t)mp_obj_get_int_truncated(args[2]);
    max = (size_t)mp_obj_get_int_truncated(args[3]);
  }
  size_t len = us_span(b.len, off, max, &at);
  MPUS_CALL(n, us_write(SELF(args[0]), (const char *)b.buf + at, len));
  return count_or_none(n);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sock_write_obj, 2, 4, sock_write);

/* ---- the stream protocol (select.poll, asyncio, ssl) -------------------- */

/* One core call each: the protocol's callers (ssl, mp_stream_rw) loop and
 * handle short counts themselves. */
static mp_uint_t proto_result(ssize_t r, int *errcode) {
  if (r >= 0)
    return (mp_uint_t)r;
  if (r == -EINTR)
    mpus_raise(-EINTR); /* runs the pending exception */
  *errcode = (int)-r;
  return MP_STREAM_ERROR;
}

static mp_uint_t proto_read(mp_obj_t self, void *buf, mp_uint_t size,
                            int *errcode) {
  ssize_t n;
  MPUS_CALL(n, us_recv(SELF(self), buf, size, 0));
  return proto_result(n, errcode);
}

static mp_uint_t proto_write(mp_obj_t self, const void *buf, mp_uint_t size,
                             int *errcode) {
  ssize_t n;
  MPUS_CALL(n, us_send(SELF(self), buf, size, 0));
  return proto_result(n, errcode);
}

static mp_uint_t proto_ioctl(mp_obj_t self, mp_uint_t request, uintptr_t arg,
                             int *errcode) {
  us_socket_t *s = SELF(self);
  switch (request) {
  case MP_STREAM_CLOSE:
    return proto_result(us_socket_close(s), errcode);
  case MP_STREAM_GET_FILENO:
    return s->fd < 0 ? proto_result(-EBADF, errcode) : (mp_uint_t)s->fd;
  case MP_STREAM_POLL:
    /* The stream's POLL bits are Linux's, as are the core's. */
    return proto_result(us_poll(s, (int)arg), errcode);
  default:
    return proto_result(-EINVAL, errcode);
  }
}

static const mp_stream_p_t sock_stream_p = {
    .read = proto_read,
    .write = proto_write,
    .ioctl = proto_ioctl,
};

static void sock_print(const mp_print_t *print, mp_obj_t self,
                       mp_print_kind_t kind) {
  (void)kind;
  us_socket_t *s = SELF(self);
  mp_printf(print, "<socket fd=%d, family=%d, type=%d, proto=%d>", s->fd,
            s->family, s->type, s->proto);
}

static const mp_rom_map_elem_t sock_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&sock_del_obj)},
    {MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj)},
    {MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&sock_exit_obj)},
    {MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&sock_close_obj)},
    {MP_ROM_QSTR(MP_QSTR_fileno), MP_ROM_PTR(&sock_fileno_obj)},
    {MP_ROM_QSTR(MP_QSTR_makefile), MP_ROM_PTR(&sock_makefile_obj)},
    {MP_ROM_QSTR(MP_QSTR_settimeout), MP_ROM_PTR(&sock_settimeout_obj)},
    {MP_ROM_QSTR(MP_QSTR_setblocking), MP_ROM_PTR(&sock_setblocking_obj)},
    {MP_ROM_QSTR(MP_QSTR_bind), MP_ROM_PTR(&sock_bind_obj)},
    {MP_ROM_QSTR(MP_QSTR_listen), MP_ROM_PTR(&sock_listen_obj)},
    {MP_ROM_QSTR(MP_QSTR_accept), MP_ROM_PTR(&sock_accept_obj)},
    {MP_ROM_QSTR(MP_QSTR_connect), MP_ROM_PTR(&sock_connect_obj)},
    {MP_ROM_QSTR(MP_QSTR_shutdown), MP_ROM_PTR(&sock_shutdown_obj)},
    {MP_ROM_QSTR(MP_QSTR_getsockname), MP_ROM_PTR(&sock_getsockname_obj)},
    {MP_ROM_QSTR(MP_QSTR_getpeername), MP_ROM_PTR(&sock_getpeername_obj)},
    {MP_ROM_QSTR(MP_QSTR_send), MP_ROM_PTR(&sock_send_obj)},
    {MP_ROM_QSTR(MP_QSTR_sendall), MP_ROM_PTR(&sock_sendall_obj)},
    {MP_ROM_QSTR(MP_QSTR_sendto), MP_ROM_PTR(&sock_sendto_obj)},
    {MP_ROM_QSTR(MP_QSTR_recv), MP_ROM_PTR(&sock_recv_obj)},
    {MP_ROM_QSTR(MP_QSTR_recvfrom), MP_ROM_PTR(&sock_recvfrom_obj)},
    {MP_ROM_QSTR(MP_QSTR_setsockopt), MP_ROM_PTR(&sock_setsockopt_obj)},
    {MP_ROM_QSTR(MP_QSTR_getsockopt), MP_ROM_PTR(&sock_getsockopt_obj)},
    {MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&sock_read_obj)},
    {MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&sock_readinto_obj)},
    {MP_ROM_QSTR(MP_QSTR_readline), MP_ROM_PTR(&sock_readline_obj)},
    {MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&sock_write_obj)},
};
static MP_DEFINE_CONST_DICT(sock_locals, sock_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(mpus_socket_type, MP_QSTR_socket, MP_TYPE_FLAG_NONE,
                         make_new, sock_make_new, print, sock_print, protocol,
                         &sock_stream_p, locals_dict, &sock_locals);
