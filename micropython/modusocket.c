/* modusocket.c: the MicroPython module `socket` (also `usocket`): host
 * hooks, errors, getaddrinfo, inet_ntop/inet_pton and the constants. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "py/mpthread.h"
#include "py/nlr.h"
#include "py/objstr.h"
#include "py/runtime.h"

#include "mpusocket.h"

/* ---- host hooks --------------------------------------------------------- */

/* The one place that releases and retakes the GIL around a blocking call;
 * the core pairs them, so no error path can leave them unbalanced. */
static void *mp_unlock(void) {
  MP_THREAD_GIL_EXIT();
  return NULL;
}

static void mp_lock(void *token) {
  (void)token;
  MP_THREAD_GIL_ENTER();
}

/* Only looks: raising here would jump out of the core's frames, so a
 * pending exception ends the call with -EINTR and mpus_raise() runs it. */
static int mp_check_signals(void) {
  return MP_STATE_THREAD(mp_pending_exception) != MP_OBJ_NULL ? -EINTR : 0;
}

/* Ports that deliver Ctrl-C as a pending exception set it for the main
 * thread only: only its calls must be interrupted by it. The unix port
 * (MICROPY_ASYNC_KBD_INTR) raises KeyboardInterrupt from its SIGINT handler
 * instead, in whichever thread runs it, jumping out of the core's frames:
 * MPUS_CALL lets the core give back what the call held. */
static int mp_handles_signals(void) { return mp_thread_is_main_thread(); }

/* Not exclusive: the unix port's SIGINT handler unwinds calls (see
 * above), so every call keeps its record. */
static const us_host_t micropython_host = {mp_unlock, mp_lock, mp_check_signals,
                                           mp_handles_signals, 0};

void mpus_install_host(void) { us_set_host(&micropython_host); }

MP_NORETURN void mpus_raise(int err) {
  if (err == -EINTR)
    mp_handle_pending(MP_HANDLE_PENDING_CALLBACKS_AND_EXCEPTIONS);
  if (err == -ENOMEM)
    m_malloc_fail(0);
  if (err <= US_GAI_BASE) {
    /* MicroPython's own page: the resolver's code, negative, in args[0]. */
    const char *msg = us_strerror(err);
    mp_obj_t args[2] = {MP_OBJ_NEW_SMALL_INT(us_gai_code(err)),
                        mp_obj_new_str(msg, strlen(msg))};
    nlr_raise(mp_obj_new_exception_args(&mp_type_OSError, 2, args));
  }
  mp_raise_OSError(-err);
}

int64_t mpus_timeout_arg(mp_obj_t value) {
  if (value == mp_const_none)
    return US_TIMEOUT_BLOCK;
  mp_float_t v = mp_obj_get_float(value);
  if (v < 0 || isnan(v))
    mp_raise_ValueError(MP_ERROR_TEXT("timeout value out of range"));
  if (v > (mp_float_t)9.2e9)
    mp_raise_msg(&mp_type_OverflowError, MP_ERROR_TEXT("timeout is too large"));
  return (int64_t)ceil((double)v * 1e9);
}

/* ---- getaddrinfo -------------------------------------------------------- */

typedef struct {
  mp_obj_t list;
  mp_obj_t exc; /* an exception raised while building a result */
} gai_ctx_t;

/* Called by the core for each result: an allocation that fails must not
 * jump out of the core's frames, so it is caught and raised afterwards. */
static int gai_add(void *ctx_in, const us_addrinfo_t *ai) {
  gai_ctx_t *ctx = ctx_in;
  nlr_buf_t nlr;
  if (nlr_push(&nlr) == 0) {
    mp_obj_t items[5] = {MP_OBJ_NEW_SMALL_INT(ai->family),
                         MP_OBJ_NEW_SMALL_INT(ai->type),
                         MP_OBJ_NEW_SMALL_INT(ai->proto),
                         mp_obj_new_str(ai->canonname, strlen(ai->canonname)),
                         mpus_addr_new(&ai->addr)};
    mp_obj_list_append(ctx->list, mp_obj_new_tuple(5, items));
    nlr_pop();
    return 0;
  }
  ctx->exc = MP_OBJ_FROM_PTR(nlr.ret_val);
  return -ECANCELED;
}

/* A host argument: str, bytes or None. */
static const char *host_arg(mp_obj_t obj) {
  if (obj == mp_const_none)
    return NULL;
  if (mp_obj_is_str_or_bytes(obj))
    return mp_obj_str_get_data(obj, &(size_t){0});
  mp_raise_TypeError(MP_ERROR_TEXT("host must be str, bytes or None"));
}

/* getaddrinfo's one keyword, timeout=: None (the default) or seconds. */
static int64_t timeout_kw(mp_map_t *kw) {
  mp_map_elem_t *e =
      kw ? mp_map_lookup(kw, MP_OBJ_NEW_QSTR(MP_QSTR_timeout), MP_MAP_LOOKUP)
         : NULL;
  if ((kw ? kw->used : 0) != (e ? 1 : 0))
    mp_raise_TypeError(MP_ERROR_TEXT("unexpected keyword argument"));
  return e ? mpus_timeout_arg(e->value) : US_TIMEOUT_BLOCK;
}

static mp_obj_t mod_getaddrinfo(size_t n_args, const mp_obj_t *args,
                                mp_map_t *kw) {
  if (n_args > 6)
    mp_raise_TypeError(MP_ERROR_TEXT("function takes at most 6 positional "
                                     "arguments"));
  int64_t timeout = timeout_kw(kw);
  const char *host = host_arg(args[0]), *port = NULL;
  char pbuf[8];
  int opt[4] = {0, 0, 0, 0}; /* af, type, proto, flags */
  if (mp_obj_is_int(args[1])) {
    mp_int_t p = mp_obj_get_int(args[1]);
    if (p < 0 || p > 65535)
      mp_raise_msg(&mp_type_OverflowError,
                   MP_ERROR_TEXT("port must be 0-65535"));
    snprintf(pbuf, sizeof pbuf, "%u", (unsigned)p);
    port = pbuf;
  } else if (args[1] != mp_const_none) {
    port = mp_obj_str_get_str(args[1]);
  }
  for (size_t i = 2; i < n_args; i++)
    opt[i - 2] = mp_obj_get_int(args[i]);
  gai_ctx_t ctx = {mp_obj_new_list(0, NULL), MP_OBJ_NULL};
  mpus_install_host(); /* the resolver runs with the GIL released */
  int r;
  MPUS_CALL(r, us_getaddrinfo_timed(host, port, opt[0], opt[1], opt[2], opt[3],
                                    timeout, gai_add, &ctx));
  if (ctx.exc != MP_OBJ_NULL)
    nlr_raise(ctx.exc);
  mpus_check(r);
  return ctx.list;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mod_getaddrinfo_obj, 2, mod_getaddrinfo);

/* ---- create_connection -------------------------------------------------- */

static mp_obj_t mod_create_connection(size_t n_args, const mp_obj_t *pos,
                                      mp_map_t *kw) {
  enum { ARG_address, ARG_timeout, ARG_source_address };
  static const mp_arg_t allowed[] = {
      {MP_QSTR_address, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL}},
      {MP_QSTR_timeout, MP_ARG_OBJ, {.u_obj = mp_const_none}},
      {MP_QSTR_source_address, MP_ARG_OBJ, {.u_obj = mp_const_none}},
  };
  mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
  mp_arg_parse_all(n_args, pos, kw, MP_ARRAY_SIZE(allowed), allowed, a);
  int64_t timeout = mpus_timeout_arg(a[ARG_timeout].u_obj);
  size_t n = 0;
  mp_obj_t *items;
  if (mp_obj_is_type(a[ARG_address].u_obj, &mp_type_tuple))
    mp_obj_tuple_get(a[ARG_address].u_obj, &n, &items);
  if (n != 2)
    mp_raise_TypeError(MP_ERROR_TEXT("address must be a (host, port) tuple"));
  const char *host = host_arg(items[0]), *port = NULL;
  char pbuf[8];
  if (!host)
    mp_raise_TypeError(MP_ERROR_TEXT("host must be str or bytes"));
  if (mp_obj_is_int(items[1])) {
    mp_int_t p = mp_obj_get_int(items[1]);
    if (p < 0 || p > 65535)
      mp_raise_msg(&mp_type_OverflowError,
                   MP_ERROR_TEXT("port must be 0-65535"));
    snprintf(pbuf, sizeof pbuf, "%u", (unsigned)p);
    port = pbuf;
  } else {
    port = mp_obj_str_get_str(items[1]);
  }
  us_addr_t source;
  if (a[ARG_source_address].u_obj != mp_const_none)
    mpus_addr_from_obj(a[ARG_source_address].u_obj, 0, &source);
  /* The object first: no failure after the connect can leak the
   * descriptor, which the finaliser closes. */
  mpus_socket_obj_t *o =
      mp_obj_malloc_with_finaliser(mpus_socket_obj_t, &mpus_socket_type);
  o->s.fd = -1;
  mpus_install_host();
  int r;
  MPUS_CALL(r, us_create_connection(&o->s, host, port, timeout,
                                    a[ARG_source_address].u_obj != mp_const_none
                                        ? &source
                                        : NULL));
  mpus_check(r);
  return MP_OBJ_FROM_PTR(o);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mod_create_connection_obj, 1,
                                  mod_create_connection);

/* ---- inet_ntop / inet_pton ---------------------------------------------- */

static mp_obj_t mod_inet_ntop(mp_obj_t af_in, mp_obj_t packed_in) {
  int af = mp_obj_get_int(af_in);
  mp_buffer_info_t b;
  mp_get_buffer_raise(packed_in, &b, MP_BUFFER_READ);
  if ((af == US__AF_INET && b.len != 4) || (af == US__AF_INET6 && b.len != 16))
    mp_raise_ValueError(MP_ERROR_TEXT("invalid length of packed IP address"));
  char text[64];
  int n = mpus_check(us_inet_ntop(af, b.buf, text, sizeof text));
  return mp_obj_new_str(text, (size_t)n);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mod_inet_ntop_obj, mod_inet_ntop);

static mp_obj_t mod_inet_pton(mp_obj_t af_in, mp_obj_t text_in) {
  uint8_t packed[16];
  int n = mpus_check(
      us_inet_pton(mp_obj_get_int(af_in), mp_obj_str_get_str(text_in), packed));
  return mp_obj_new_bytes(packed, (size_t)n);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mod_inet_pton_obj, mod_inet_pton);

/* ---- the module --------------------------------------------------------- */

/* The platform's value of each name, under the core's US__ name; one the
 * platform lacks (US__ name undefined) is left out. */
#define C(name)                                                                \
  { MP_ROM_QSTR(MP_QSTR_##name), MP_ROM_INT(US__##name) }

static const mp_rom_map_elem_t mod_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_socket)},
    {MP_ROM_QSTR(MP_QSTR_socket), MP_ROM_PTR(&mpus_socket_type)},
    {MP_ROM_QSTR(MP_QSTR_sockaddr), MP_ROM_PTR(&mpus_sockaddr_type)},
    {MP_ROM_QSTR(MP_QSTR_getaddrinfo), MP_ROM_PTR(&mod_getaddrinfo_obj)},
    {MP_ROM_QSTR(MP_QSTR_create_connection),
     MP_ROM_PTR(&mod_create_connection_obj)},
    {MP_ROM_QSTR(MP_QSTR_inet_ntop), MP_ROM_PTR(&mod_inet_ntop_obj)},
    {MP_ROM_QSTR(MP_QSTR_inet_pton), MP_ROM_PTR(&mod_inet_pton_obj)},
    C(AF_INET),
    C(AF_INET6),
#if US__AF_UNIX != -1 /* -1: the platform has no local sockets */
    C(AF_UNIX),
#endif
    C(SOCK_STREAM),
    C(SOCK_DGRAM),
    C(SOCK_RAW),
    C(IPPROTO_IP),
    C(IPPROTO_TCP),
    C(IPPROTO_UDP),
    C(IPPROTO_IPV6),
    C(SOL_SOCKET),
    C(SO_REUSEADDR),
    C(SO_KEEPALIVE),
    C(SO_BROADCAST),
    C(SO_ERROR),
    C(SO_LINGER),
    C(SO_RCVBUF),
    C(SO_SNDBUF),
#ifdef US__SO_REUSEPORT
    C(SO_REUSEPORT),
#endif
#ifdef US__TCP_NODELAY
    C(TCP_NODELAY),
#endif
#ifdef US__IP_ADD_MEMBERSHIP
    C(IP_ADD_MEMBERSHIP),
    C(IP_DROP_MEMBERSHIP),
#endif
#ifdef US__IP_MULTICAST_TTL
    C(IP_MULTICAST_TTL),
#endif
    C(MSG_PEEK),
    C(MSG_DONTWAIT),
#ifdef US__MSG_DONTROUTE
    C(MSG_DONTROUTE),
#endif
    C(SHUT_RD),
    C(SHUT_WR),
    C(SHUT_RDWR),
    C(AI_PASSIVE),
#ifdef US__AI_CANONNAME
    C(AI_CANONNAME),
#endif
    C(AI_NUMERICHOST),
    C(AI_NUMERICSERV),
};
#undef C

static MP_DEFINE_CONST_DICT(mod_globals, mod_globals_table);

const mp_obj_module_t mpus_module = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t *)&mod_globals,
};

/* Extensible, as the port's own socket: `import usocket` finds it too. */
MP_REGISTER_EXTENSIBLE_MODULE(MP_QSTR_socket, mpus_module);
