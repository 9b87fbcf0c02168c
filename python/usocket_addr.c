/* usocket_addr.c: the opaque sockaddr type, and tuples to addresses. */
#include "uspy.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

PyObject *uspy_sockaddr_new_named(uspy_state *st, const us_addr_t *addr,
                                  PyObject *name) {
  uspy_sockaddr *a = PyObject_New(uspy_sockaddr, st->sockaddr_type);
  if (!a)
    return NULL;
  a->addr = *addr;
  a->hash = -1;
  a->name = Py_XNewRef(name);
  return (PyObject *)a;
}

PyObject *uspy_sockaddr_new(uspy_state *st, const us_addr_t *addr) {
  return uspy_sockaddr_new_named(st, addr, NULL);
}

static Py_ssize_t sockaddr_len(PyObject *self) {
  return ((uspy_sockaddr *)self)->addr.family == AF_INET6 ? 4 : 2;
}

static PyObject *host_text(const us_addr_t *addr) {
  char text[64];
  int n = us_addr_format(addr, text, sizeof text);
  if (n < 0)
    return uspy_raise(n);
  return PyUnicode_FromStringAndSize(text, n);
}

static PyObject *sockaddr_item(PyObject *self, Py_ssize_t i) {
  const us_addr_t *a = &((uspy_sockaddr *)self)->addr;
  switch (i >= 0 && i < sockaddr_len(self) ? i : -1) {
  case 0:
    return host_text(a);
  case 1:
    return PyLong_FromLong(a->port);
  case 2:
    return PyLong_FromUnsignedLong(a->flowinfo);
  case 3:
    return PyLong_FromUnsignedLong(a->scope_id);
  default:
    PyErr_SetString(PyExc_IndexError, "sockaddr index out of range");
    return NULL;
  }
}

/* The tuple form: (host, port) or (host, port, flowinfo, scope_id). */
static PyObject *as_tuple(PyObject *self) {
  Py_ssize_t n = sockaddr_len(self);
  PyObject *t = PyTuple_New(n);
  for (Py_ssize_t i = 0; t && i < n; i++) {
    PyObject *item = sockaddr_item(self, i);
    if (!item) {
      Py_CLEAR(t);
      break;
    }
    PyTuple_SET_ITEM(t, i, item);
  }
  return t;
}

static PyObject *sockaddr_repr(PyObject *self) {
  PyObject *t = as_tuple(self);
  if (!t)
    return NULL;
  PyObject *r = PyObject_Repr(t);
  Py_DECREF(t);
  return r;
}

static Py_hash_t sockaddr_hash(PyObject *self) {
  uspy_sockaddr *a = (uspy_sockaddr *)self;
  if (a->hash == -1) {
    PyObject *t = as_tuple(self);
    if (!t)
      return -1;
    a->hash = PyObject_Hash(t);
    Py_DECREF(t);
  }
  return a->hash;
}

static PyObject *sockaddr_richcompare(PyObject *self, PyObject *other, int op) {
  if (Py_TYPE(other) == Py_TYPE(self) && (op == Py_EQ || op == Py_NE)) {
    int eq = us_addr_equal(&((uspy_sockaddr *)self)->addr,
                           &((uspy_sockaddr *)other)->addr);
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
  }
  if (Py_TYPE(other) != Py_TYPE(self) && !PyTuple_Check(other))
    Py_RETURN_NOTIMPLEMENTED;
  /* Everything else compares as the tuple would. */
  PyObject *a = as_tuple(self), *b = NULL, *r = NULL;
  if (a)
    b = Py_TYPE(other) == Py_TYPE(self) ? as_tuple(other) : Py_NewRef(other);
  if (b)
    r = PyObject_RichCompare(a, b, op);
  Py_XDECREF(a);
  Py_XDECREF(b);
  return r;
}

static PyObject *sockaddr_iter(PyObject *self) {
  PyObject *t = as_tuple(self);
  if (!t)
    return NULL;
  PyObject *it = PyObject_GetIter(t);
  Py_DECREF(t);
  return it;
}

static PyObject *sockaddr_subscript(PyObject *self, PyObject *key) {
  if (PyIndex_Check(key)) {
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred())
      return NULL;
    return sockaddr_item(self, i < 0 ? i + sockaddr_len(self) : i);
  }
  PyObject *t = as_tuple(self); /* slices, as the tuple gives them */
  if (!t)
    return NULL;
  PyObject *r = PyObject_GetItem(t, key);
  Py_DECREF(t);
  return r;
}

static PyObject *sockaddr_get_family(PyObject *self, void *closure) {
  (void)closure;
  return PyLong_FromLong(((uspy_sockaddr *)self)->addr.family);
}

static PyObject *sockaddr_get_host(PyObject *self, void *closure) {
  (void)closure;
  return host_text(&((uspy_sockaddr *)self)->addr);
}

static PyObject *sockaddr_get_port(PyObject *self, void *closure) {
  (void)closure;
  return PyLong_FromLong(((uspy_sockaddr *)self)->addr.port);
}

static PyObject *sockaddr_reduce(PyObject *self, PyObject *unused) {
  (void)unused;
  /* Pickles and copies as the tuple form: the type has no constructor. */
  PyObject *t = as_tuple(self);
  return t ? Py_BuildValue("(O(N))", (PyObject *)&PyTuple_Type, t) : NULL;
}

/* sockaddr(raw): MicroPython's unix port decoder of raw struct sockaddr
 * bytes: (family, packed host, port[, flowinfo, scope_id]), or (family,
 * the family's own bytes). A sockaddr object decodes the same way. */
static PyObject *sockaddr_new(PyTypeObject *type, PyObject *args,
                              PyObject *kw) {
  PyObject *obj;
  us_addr_t a;
  size_t off = 0;
  int family;
  uspy_rbuf raw = {0};
  if (kw && PyDict_GET_SIZE(kw) != 0) {
    PyErr_SetString(PyExc_TypeError, "sockaddr() takes no keyword arguments");
    return NULL;
  }
  if (!PyArg_UnpackTuple(args, "sockaddr", 1, 1, &obj))
    return NULL;
  if (Py_TYPE(obj) == type) {
    a = ((uspy_sockaddr *)obj)->addr;
    family = a.family;
  } else {
    if (uspy_rbuf_get(obj, &raw) < 0) /* a str as UTF-8, as MicroPython */
      return NULL;
    family = us_addr_from_raw(&a, raw.buf, raw.len, &off);
  }
  PyObject *r;
  if (family < 0)
    r = uspy_raise(family);
  else if (family != AF_INET && family != AF_INET6)
    r = Py_BuildValue("(iy#)", family, raw.buf + off,
                      (Py_ssize_t)(raw.len - off));
  else if (family == AF_INET)
    r = Py_BuildValue("(iy#i)", family, (const char *)a.ip, (Py_ssize_t)4,
                      (int)a.port);
  else
    r = Py_BuildValue("(iy#ikk)", family, (const char *)a.ip, (Py_ssize_t)16,
                      (int)a.port, (unsigned long)a.flowinfo,
                      (unsigned long)a.scope_id);
  uspy_rbuf_release(&raw);
  return r;
}

static PyGetSetDef sockaddr_getset[] = {
    {"family", sockaddr_get_family, NULL, "The address family (AF_INET...).",
     NULL},
    {"host", sockaddr_get_host, NULL, "The host as numeric text.", NULL},
    {"port", sockaddr_get_port, NULL, "The port number.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef sockaddr_methods[] = {
    {"__reduce__", sockaddr_reduce, METH_NOARGS,
     "__reduce__($self, /)\n--\n\nPickles as the tuple form."},
    {NULL, NULL, 0, NULL}};

static void sockaddr_dealloc(PyObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  Py_CLEAR(((uspy_sockaddr *)self)->name);
  tp->tp_free(self);
  Py_DECREF(tp);
}

static PyType_Slot sockaddr_slots[] = {
    {Py_tp_doc,
     "sockaddr(raw, /)\n--\n\n"
     "An opaque socket address, as getaddrinfo(), accept() and recvfrom()\n"
     "give it. It holds the raw address, so connect(), bind() and sendto()\n"
     "take it without parsing text. It behaves like its tuple form\n"
     "(host, port) or, for IPv6, (host, port, flowinfo, scope_id): it\n"
     "unpacks, indexes, compares, hashes and prints like that tuple.\n"
     "Called, as MicroPython's unix port: decodes raw struct sockaddr\n"
     "bytes (or a sockaddr) to (family, packed, port[, flowinfo,\n"
     "scope_id]), or (family, bytes) for other families."},
    {Py_tp_new, sockaddr_new},
    {Py_tp_dealloc, sockaddr_dealloc},
    {Py_tp_repr, sockaddr_repr},
    {Py_tp_hash, sockaddr_hash},
    {Py_tp_richcompare, sockaddr_richcompare},
    {Py_tp_iter, sockaddr_iter},
    {Py_tp_getset, sockaddr_getset},
    {Py_tp_methods, sockaddr_methods},
    {Py_sq_length, sockaddr_len},
    {Py_sq_item, sockaddr_item},
    {Py_mp_length, sockaddr_len},
    {Py_mp_subscript, sockaddr_subscript},
    {0, NULL}};

PyType_Spec uspy_sockaddr_spec = {
    .name = "usocket.sockaddr",
    .basicsize = sizeof(uspy_sockaddr),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = sockaddr_slots,
};

/* ---- tuples to addresses ---------------------------------------------- */

static int unsigned_field(PyObject *obj, const char *what, unsigned long max,
                          unsigned long *out) {
  if (!PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what,
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  long v = PyLong_AsLong(obj);
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    v = -1;
  }
  if (v < 0 || (unsigned long)v > max) {
    PyErr_Format(PyExc_OverflowError, "%s must be 0-%lu", what, max);
    return -1;
  }
  *out = (unsigned long)v;
  return 0;
}

int uspy_addr_from_obj(uspy_state *st, int family, PyObject *obj,
                       us_addr_t *out) {
  if (Py_TYPE(obj) == st->sockaddr_type) {
    *out = ((uspy_sockaddr *)obj)->addr;
    return 0;
  }
  if (PyBytes_Check(obj) || PyByteArray_Check(obj)) {
    /* Raw struct sockaddr bytes, as MicroPython's unix port takes them. */
    int r = us_addr_from_raw(out,
                             PyBytes_Check(obj) ? PyBytes_AS_STRING(obj)
                                                : PyByteArray_AS_STRING(obj),
                             (size_t)Py_SIZE(obj), NULL);
    if (r >= 0 && r != AF_INET && r != AF_INET6)
      r = -EAFNOSUPPORT;
    if (r < 0) {
      uspy_raise(r);
      return -1;
    }
    return 0;
  }
  Py_ssize_t n = PyTuple_Check(obj) ? PyTuple_GET_SIZE(obj) : -1;
  int ok = family == AF_INET6 ? (n >= 2 && n <= 4) : n == 2;
  if (!ok) {
    const char *want = family == AF_INET6
                           ? "an AF_INET6 address must be a (host, port[, "
                             "flowinfo[, scope_id]]) tuple"
                           : "an AF_INET address must be a (host, port) tuple";
    /* Say what was wrong: the length of a tuple, or the type of the rest. */
    if (n >= 0)
      PyErr_Format(PyExc_TypeError, "%s, not a tuple of %zd item%s", want, n,
                   n == 1 ? "" : "s");
    else
      PyErr_Format(PyExc_TypeError, "%s, not %.100s", want,
                   Py_TYPE(obj)->tp_name);
    return -1;
  }
  PyObject *hostobj = PyTuple_GET_ITEM(obj, 0);
  const char *host;
  Py_ssize_t hostlen;
  if (PyUnicode_Check(hostobj)) {
    if (!(host = PyUnicode_AsUTF8AndSize(hostobj, &hostlen)))
      return -1;
  } else if (PyBytes_Check(hostobj)) {
    host = PyBytes_AS_STRING(hostobj);
    hostlen = PyBytes_GET_SIZE(hostobj);
  } else {
    PyErr_Format(PyExc_TypeError, "host must be str or bytes, not %.100s",
                 Py_TYPE(hostobj)->tp_name);
    return -1;
  }
  if ((Py_ssize_t)strlen(host) != hostlen) {
    PyErr_SetString(PyExc_ValueError, "host contains a NUL character");
    return -1;
  }
  if (hostlen > 255) {
    PyErr_SetString(PyExc_ValueError, "host name is too long");
    return -1;
  }
  unsigned long port, flowinfo = 0, scope_id = 0;
  if (unsigned_field(PyTuple_GET_ITEM(obj, 1), "port", 65535, &port) < 0)
    return -1;
  if (n > 2 && unsigned_field(PyTuple_GET_ITEM(obj, 2), "flowinfo",
                              0xffffffffUL, &flowinfo) < 0)
    return -1;
  if (flowinfo != 0) { /* the contract: flow labels are not supported */
    PyErr_SetString(PyExc_ValueError, "flowinfo must be 0");
    return -1;
  }
  if (n > 3 && unsigned_field(PyTuple_GET_ITEM(obj, 3), "scope_id",
                              0xffffffffUL, &scope_id) < 0)
    return -1;
  int r = us_addr_resolve(out, family, host, (uint16_t)port);
  if (r < 0) {
    uspy_raise(r);
    return -1;
  }
  if (out->family == AF_INET6) {
    out->flowinfo = (uint32_t)flowinfo;
    if (n > 3) /* else keep a zone given in the text ("fe80::1%eth0") */
      out->scope_id = (uint32_t)scope_id;
  }
  return 0;
}
