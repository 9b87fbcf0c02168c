/* usocket_addr.c: the `sockaddr` type (an opaque address that behaves
 * like its tuple form) and the conversion of address arguments. */
#include <errno.h>
#include <string.h>

#include "py/objstr.h"
#include "py/objtuple.h"
#include "py/runtime.h"

#include "mpusocket.h"

mp_obj_t mpus_addr_new(const us_addr_t *addr) {
  mpus_sockaddr_obj_t *o =
      mp_obj_malloc(mpus_sockaddr_obj_t, &mpus_sockaddr_type);
  o->addr = *addr;
  return MP_OBJ_FROM_PTR(o);
}

/* The tuple form, built only when Python looks inside: passing the object
 * back to connect/bind/sendto never needs it. */
static mp_obj_t to_tuple(mp_obj_t self_in) {
  mpus_sockaddr_obj_t *self = MP_OBJ_TO_PTR(self_in);
  char text[64];
  int n = us_addr_format(&self->addr, text, sizeof text);
  mp_obj_t items[4] = {mp_obj_new_str(text, n < 0 ? 0 : (size_t)n),
                       MP_OBJ_NEW_SMALL_INT(self->addr.port),
                       mp_obj_new_int_from_uint(self->addr.flowinfo),
                       mp_obj_new_int_from_uint(self->addr.scope_id)};
  return mp_obj_new_tuple(self->addr.family == US__AF_INET6 ? 4 : 2, items);
}

static void sockaddr_print(const mp_print_t *print, mp_obj_t self_in,
                           mp_print_kind_t kind) {
  mp_obj_print_helper(print, to_tuple(self_in), kind);
}

static mp_obj_t sockaddr_unary_op(mp_unary_op_t op, mp_obj_t self_in) {
  mpus_sockaddr_obj_t *self = MP_OBJ_TO_PTR(self_in);
  switch (op) {
  case MP_UNARY_OP_BOOL:
    return mp_const_true;
  case MP_UNARY_OP_LEN:
    return MP_OBJ_NEW_SMALL_INT(self->addr.family == US__AF_INET6 ? 4 : 2);
  case MP_UNARY_OP_HASH:
    /* Equal to its tuple, so it must hash like it. */
    return mp_obj_tuple_unary_op(op, to_tuple(self_in));
  default:
    return MP_OBJ_NULL;
  }
}

static mp_obj_t sockaddr_binary_op(mp_binary_op_t op, mp_obj_t lhs,
                                   mp_obj_t rhs) {
  if (op != MP_BINARY_OP_EQUAL)
    return MP_OBJ_NULL;
  if (mp_obj_is_type(rhs, &mpus_sockaddr_type)) {
    mpus_sockaddr_obj_t *a = MP_OBJ_TO_PTR(lhs), *b = MP_OBJ_TO_PTR(rhs);
    return mp_obj_new_bool(us_addr_equal(&a->addr, &b->addr));
  }
  if (mp_obj_is_type(rhs, &mp_type_tuple))
    return mp_obj_new_bool(mp_obj_equal(to_tuple(lhs), rhs));
  return mp_const_false;
}

static mp_obj_t sockaddr_subscr(mp_obj_t self_in, mp_obj_t index,
                                mp_obj_t value) {
  if (value != MP_OBJ_SENTINEL)
    return MP_OBJ_NULL; /* immutable */
  return mp_obj_subscr(to_tuple(self_in), index, MP_OBJ_SENTINEL);
}

static mp_obj_t sockaddr_getiter(mp_obj_t self_in, mp_obj_iter_buf_t *buf) {
  return mp_obj_tuple_getiter(to_tuple(self_in), buf);
}

/* sockaddr(raw): the unix port's decoder of raw struct sockaddr bytes,
 * (family, packed host, port[, flowinfo, scope_id]), or (family, the
 * family's own bytes) for another family. A sockaddr object decodes the
 * same way, so code written for the unix port's getaddrinfo (which gives
 * raw bytes) runs unchanged. */
static mp_obj_t sockaddr_make_new(const mp_obj_type_t *type, size_t n_args,
                                  size_t n_kw, const mp_obj_t *args) {
  (void)type;
  mp_arg_check_num(n_args, n_kw, 1, 1, false);
  us_addr_t a;
  int family;
  size_t off = 0;
  mp_buffer_info_t b = {0};
  if (mp_obj_is_type(args[0], &mpus_sockaddr_type)) {
    a = ((mpus_sockaddr_obj_t *)MP_OBJ_TO_PTR(args[0]))->addr;
    family = a.family;
  } else {
    mp_get_buffer_raise(args[0], &b, MP_BUFFER_READ);
    family = mpus_check(us_addr_from_raw(&a, b.buf, b.len, &off));
  }
  if (family != US__AF_INET && family != US__AF_INET6) {
    mp_obj_t items[2] = {
        MP_OBJ_NEW_SMALL_INT(family),
        mp_obj_new_bytes((const byte *)b.buf + off, b.len - off)};
    return mp_obj_new_tuple(2, items);
  }
  mp_obj_t items[5] = {MP_OBJ_NEW_SMALL_INT(family),
                       mp_obj_new_bytes(a.ip, family == US__AF_INET ? 4 : 16),
                       MP_OBJ_NEW_SMALL_INT(a.port),
                       mp_obj_new_int_from_uint(a.flowinfo),
                       mp_obj_new_int_from_uint(a.scope_id)};
  return mp_obj_new_tuple(family == US__AF_INET ? 3 : 5, items);
}

MP_DEFINE_CONST_OBJ_TYPE(mpus_sockaddr_type, MP_QSTR_sockaddr,
                         MP_TYPE_FLAG_EQ_CHECKS_OTHER_TYPE |
                             MP_TYPE_FLAG_ITER_IS_GETITER,
                         make_new, sockaddr_make_new, print, sockaddr_print,
                         unary_op, sockaddr_unary_op, binary_op,
                         sockaddr_binary_op, subscr, sockaddr_subscr, iter,
                         sockaddr_getiter);

/* ---- address arguments -------------------------------------------------- */

/* An unsigned field of a tuple address: TypeError if not an int,
 * OverflowError outside 0..max, as CPython. */
static uint32_t field_arg(mp_obj_t obj, uint32_t max) {
  if (!mp_obj_is_int(obj))
    mp_raise_TypeError(MP_ERROR_TEXT("address fields must be int"));
  mp_int_t v;
  if (!mp_obj_get_int_maybe(obj, &v) || v < 0 || (uint64_t)v > max)
    mp_raise_msg(&mp_type_OverflowError,
                 MP_ERROR_TEXT("address field out of range"));
  return (uint32_t)v;
}

void mpus_addr_from_obj(mp_obj_t obj, int family, us_addr_t *addr) {
  if (mp_obj_is_type(obj, &mpus_sockaddr_type)) {
    *addr = ((mpus_sockaddr_obj_t *)MP_OBJ_TO_PTR(obj))->addr;
    return; /* the family check is the core's, as for any address */
  }
  mp_buffer_info_t raw;
  if (!mp_obj_is_str(obj) && !mp_obj_is_type(obj, &mp_type_tuple) &&
      mp_get_buffer(obj, &raw, MP_BUFFER_READ)) {
    /* Raw struct sockaddr bytes, as the unix port takes them. */
    int r = mpus_check(us_addr_from_raw(addr, raw.buf, raw.len, NULL));
    if (r != US__AF_INET && r != US__AF_INET6)
      mpus_raise(-EAFNOSUPPORT);
    return;
  }
  size_t n = 0;
  mp_obj_t *items;
  if (mp_obj_is_type(obj, &mp_type_tuple))
    mp_obj_tuple_get(obj, &n, &items);
  if (n != 2 && !(family == US__AF_INET6 && n >= 2 && n <= 4))
    mp_raise_TypeError(family == US__AF_INET6
                           ? MP_ERROR_TEXT("AF_INET6 address must be (host, "
                                           "port[, flowinfo[, scope_id]])")
                           : MP_ERROR_TEXT("AF_INET address must be (host, "
                                           "port)"));
  if (!mp_obj_is_str_or_bytes(items[0]))
    mp_raise_TypeError(MP_ERROR_TEXT("host must be str or bytes"));
  size_t hostlen;
  const char *host = mp_obj_str_get_data(items[0], &hostlen);
  if (strlen(host) != hostlen)
    mp_raise_ValueError(MP_ERROR_TEXT("host contains a NUL character"));
  uint16_t port = (uint16_t)field_arg(items[1], 65535);
  uint32_t flowinfo = n > 2 ? field_arg(items[2], 0xffffffff) : 0;
  uint32_t scope_id = n > 3 ? field_arg(items[3], 0xffffffff) : 0;
  if (flowinfo != 0) /* the contract: flow labels are not supported */
    mp_raise_ValueError(MP_ERROR_TEXT("flowinfo must be 0"));
  mpus_check(us_addr_resolve(addr, family, host, port));
  if (addr->family == US__AF_INET6 && n > 3) /* else keep a zone in the text */
    addr->scope_id = scope_id;
}

/* ---- raw addresses ------------------------------------------------------ */

void mpus_rawaddr_from_obj(mp_obj_t obj, int family, us_rawaddr_t *addr) {
  mp_buffer_info_t b;
  if (mp_obj_is_str(obj) && family == US__AF_UNIX) {
    /* CPython's form: the path itself. */
    size_t len;
    const char *path = mp_obj_str_get_data(obj, &len);
    int r = us_rawaddr_unix(addr, path, len);
    if (r == -EINVAL)
      mp_raise_ValueError(MP_ERROR_TEXT("embedded null byte"));
    mpus_check(r);
    return;
  }
  if (mp_obj_is_str(obj) || !mp_get_buffer(obj, &b, MP_BUFFER_READ))
    mp_raise_TypeError(family == US__AF_UNIX
                           ? MP_ERROR_TEXT("AF_UNIX address must be a str "
                                           "path or raw sockaddr bytes")
                           : MP_ERROR_TEXT("address must be raw sockaddr "
                                           "bytes"));
  /* Raw struct sockaddr bytes, as the unix port takes them. */
  mpus_check(us_rawaddr_set(addr, b.buf, b.len));
}

mp_obj_t mpus_rawaddr_new(const us_rawaddr_t *addr, int bytearray) {
  return bytearray ? mp_obj_new_bytearray(addr->len, addr->u.data)
                   : mp_obj_new_bytes(addr->u.data, addr->len);
}
