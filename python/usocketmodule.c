/* usocketmodule.c: the CPython module usocket: its functions, constants
 * and set-up. The types live in usocket_socket.c, usocket_addr.c and
 * usocket_buffered.c. */
#include "uspy.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "usocket_methods.h"
#ifdef US_TLS_ENGINE
#include "ussl.h"
#endif

uspy_state *uspy_state_of(PyTypeObject *type) {
  PyObject *m = PyType_GetModuleByDef(type, &uspy_module);
  return m ? PyModule_GetState(m) : NULL;
}

/* ---- getaddrinfo -------------------------------------------------------- */

typedef struct {
  uspy_state *st;
  PyObject *list;
  PyObject *name; /* the host asked for, if a str */
} gai_ctx;

static int gai_add(void *ctx, const us_addrinfo_t *ai) {
  gai_ctx *c = ctx;
  PyObject *t = PyTuple_New(5);
  if (!t)
    return -ENOMEM;
  /* Built item by item: Py_BuildValue parses its format on every call. */
  PyTuple_SET_ITEM(t, 0, PyLong_FromLong(ai->family));
  PyTuple_SET_ITEM(t, 1, PyLong_FromLong(ai->type));
  PyTuple_SET_ITEM(t, 2, PyLong_FromLong(ai->proto));
  PyTuple_SET_ITEM(t, 3,
                   ai->canonname[0] ? PyUnicode_FromString(ai->canonname)
                                    : PyUnicode_New(0, 0));
  PyTuple_SET_ITEM(t, 4, uspy_sockaddr_new_named(c->st, &ai->addr, c->name));
  for (int i = 0; i < 5; i++) {
    if (!PyTuple_GET_ITEM(t, i)) {
      Py_DECREF(t);
      return -ENOMEM;
    }
  }
  int r = PyList_Append(c->list, t);
  Py_DECREF(t);
  return r < 0 ? -ENOMEM : 0;
}

/* host: str, bytes or None, as UTF-8 text (*tmp keeps it alive). */
static int host_arg(PyObject *o, const char **host, PyObject **tmp) {
  *tmp = NULL;
  if (o == Py_None) {
    *host = NULL;
    return 0;
  }
  if (PyUnicode_Check(o) && PyUnicode_IS_ASCII(o)) {
    /* ASCII (every numeric host) needs no codec: the idna one is Python. */
    Py_ssize_t len;
    if (!(*host = PyUnicode_AsUTF8AndSize(o, &len)))
      return -1;
    if ((Py_ssize_t)strlen(*host) != len) {
      PyErr_SetString(PyExc_ValueError, "host contains a NUL character");
      return -1;
    }
    return 0;
  }
  if (PyUnicode_Check(o))
    *tmp = PyUnicode_AsEncodedString(o, "idna", NULL);
  else if (PyBytes_Check(o))
    *tmp = Py_NewRef(o);
  else
    PyErr_Format(PyExc_TypeError, "host must be str, bytes or None, not %.100s",
                 Py_TYPE(o)->tp_name);
  if (!*tmp)
    return -1;
  *host = PyBytes_AS_STRING(*tmp);
  if ((Py_ssize_t)strlen(*host) != PyBytes_GET_SIZE(*tmp)) {
    Py_CLEAR(*tmp);
    PyErr_SetString(PyExc_ValueError, "host contains a NUL character");
    return -1;
  }
  return 0;
}

/* port: int 0-65535, a numeric or service str/bytes, or None. */
static int port_arg(PyObject *o, char buf[8], const char **port,
                    PyObject **tmp) {
  *tmp = NULL;
  if (o == Py_None) {
    *port = NULL;
    return 0;
  }
  if (PyLong_Check(o)) {
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
      PyErr_Clear();
    if (v < 0 || v > 65535) {
      PyErr_SetString(PyExc_OverflowError, "getaddrinfo(): port must be "
                                           "0-65535");
      return -1;
    }
    char *p = buf + 7; /* digits by hand: snprintf costs more than all else */
    *p = '\0';
    do
      *--p = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    *port = p;
    return 0;
  }
  if (PyUnicode_Check(o)) {
    *tmp = PyUnicode_AsUTF8String(o);
  } else if (PyBytes_Check(o)) {
    *tmp = Py_NewRef(o);
  } else {
    PyErr_Format(PyExc_TypeError, "port must be int, str or None, not %.100s",
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  if (!*tmp)
    return -1;
  *port = PyBytes_AS_STRING(*tmp);
  if ((Py_ssize_t)strlen(*port) != PyBytes_GET_SIZE(*tmp)) {
    Py_CLEAR(*tmp);
    PyErr_SetString(PyExc_ValueError, "port contains a NUL character");
    return -1;
  }
  return 0;
}

/* The keywords of a call that takes only timeout= by keyword: its
 * value, or NULL when not given; -1 with TypeError for any other. */
static int timeout_kw(const char *fn, PyObject *const *args, Py_ssize_t n,
                      PyObject *kwnames, PyObject **timeout) {
  *timeout = NULL;
  Py_ssize_t nk = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t i = 0; i < nk; i++) {
    PyObject *k = PyTuple_GET_ITEM(kwnames, i);
    if (!PyUnicode_Check(k) ||
        PyUnicode_CompareWithASCIIString(k, "timeout") != 0 || *timeout) {
      PyErr_Format(PyExc_TypeError,
                   "%s() got an unexpected keyword argument %R", fn, k);
      return -1;
    }
    *timeout = args[n + i];
  }
  return 0;
}

static PyObject *mod_getaddrinfo(PyObject *module, PyObject *const *args,
                                 size_t nargsf, PyObject *kwnames) {
  int opt[4] = {0, 0, 0, 0}; /* af, type, proto, flags */
  static const char *const names[4] = {"af", "type", "proto", "flags"};
  const char *host, *port;
  char portbuf[8];
  PyObject *htmp, *ptmp, *tobj;
  int64_t timeout = US_TIMEOUT_BLOCK;
  Py_ssize_t n = PyVectorcall_NARGS(nargsf);
  if (uspy_nargs("getaddrinfo", n, 2, 6) < 0 ||
      timeout_kw("getaddrinfo", args, n, kwnames, &tobj) < 0 ||
      (tobj && uspy_timeout_arg(tobj, 1e9, 0, &timeout) < 0))
    return NULL;
  for (Py_ssize_t i = 2; i < n; i++)
    if (uspy_int_arg(args[i], names[i - 2], &opt[i - 2]) < 0)
      return NULL;
  if (host_arg(args[0], &host, &htmp) < 0)
    return NULL;
  if (port_arg(args[1], portbuf, &port, &ptmp) < 0) {
    Py_XDECREF(htmp);
    return NULL;
  }
  gai_ctx c = {PyModule_GetState(module), PyList_New(0),
               PyUnicode_Check(args[0]) ? args[0] : NULL};
  int r = c.list ? us_getaddrinfo_timed(host, port, opt[0], opt[1], opt[2],
                                        opt[3], timeout, gai_add, &c)
                 : -ENOMEM;
  Py_XDECREF(htmp);
  Py_XDECREF(ptmp);
  if (r < 0) {
    Py_XDECREF(c.list);
    return uspy_raise(r);
  }
  return c.list;
}

/* ---- create_connection -------------------------------------------------- */

static PyObject *mod_create_connection(PyObject *module, PyObject *args,
                                       PyObject *kwargs) {
  static char *kwlist[] = {"address", "timeout", "source_address", NULL};
  PyObject *address, *tobj = Py_None, *sobj = Py_None, *htmp, *ptmp;
  const char *host, *port;
  char portbuf[8];
  int64_t timeout;
  us_addr_t source;
  uspy_state *st = PyModule_GetState(module);
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO:create_connection",
                                   kwlist, &address, &tobj, &sobj) ||
      uspy_timeout_arg(tobj, 1e9, 0, &timeout) < 0)
    return NULL;
  if (!PyTuple_Check(address) || PyTuple_GET_SIZE(address) != 2)
    return PyErr_Format(PyExc_TypeError,
                        "address must be a (host, port) tuple, not %.100s",
                        Py_TYPE(address)->tp_name);
  if (sobj != Py_None && uspy_addr_from_obj(st, 0, sobj, &source) < 0)
    return NULL;
  if (host_arg(PyTuple_GET_ITEM(address, 0), &host, &htmp) < 0)
    return NULL;
  if (!host) {
    Py_XDECREF(htmp);
    return PyErr_Format(PyExc_TypeError, "host must be str or bytes");
  }
  if (port_arg(PyTuple_GET_ITEM(address, 1), portbuf, &port, &ptmp) < 0) {
    Py_XDECREF(htmp);
    return NULL;
  }
  us_socket_t sock;
  int r = us_create_connection(&sock, host, port, timeout,
                               sobj != Py_None ? &source : NULL);
  Py_XDECREF(htmp);
  Py_XDECREF(ptmp);
  if (r < 0)
    return uspy_raise(r);
  PyObject *o = uspy_socket_wrap(st, &sock);
  if (!o)
    us_socket_close(&sock);
  return o;
}

/* ---- getnameinfo --------------------------------------------------------- */

/* getnameinfo's address: a sockaddr, or a (host, port[, flowinfo,
 * scope_id]) tuple whose host is numeric, as CPython takes it. */
static int nameinfo_addr(uspy_state *st, PyObject *o, us_addr_t *a) {
  if (PyObject_TypeCheck(o, st->sockaddr_type)) {
    *a = ((uspy_sockaddr *)o)->addr;
    return 0;
  }
  Py_ssize_t n = PyTuple_Check(o) ? PyTuple_GET_SIZE(o) : 0;
  if (n != 2 && n != 4) {
    PyErr_Format(PyExc_TypeError,
                 "getnameinfo() argument 1 must be a sockaddr or a (host, "
                 "port[, flowinfo, scope_id]) tuple, not %.100s",
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  PyObject *h = PyTuple_GET_ITEM(o, 0);
  int port, flow = 0, scope = 0;
  if (!PyUnicode_Check(h)) {
    PyErr_Format(PyExc_TypeError, "host must be str, not %.100s",
                 Py_TYPE(h)->tp_name);
    return -1;
  }
  const char *text = PyUnicode_AsUTF8(h);
  if (!text || uspy_int_arg(PyTuple_GET_ITEM(o, 1), "port", &port) < 0 ||
      (n == 4 &&
       (uspy_int_arg(PyTuple_GET_ITEM(o, 2), "flowinfo", &flow) < 0 ||
        uspy_int_arg(PyTuple_GET_ITEM(o, 3), "scope_id", &scope) < 0)))
    return -1;
  if (port < 0 || port > 65535) {
    PyErr_SetString(PyExc_OverflowError, "getnameinfo(): port must be 0-65535");
    return -1;
  }
  memset(a, 0, sizeof *a);
  if (us_inet_pton(AF_INET, text, a->ip) == 4) {
    if (n == 4) {
      PyErr_SetString(PyExc_OSError, "IPv4 sockaddr must be 2 tuple");
      return -1;
    }
    a->family = AF_INET;
  } else if (us_inet_pton(AF_INET6, text, a->ip) == 16) {
    a->family = AF_INET6;
    a->flowinfo = (uint32_t)flow;
    a->scope_id = (uint32_t)scope;
  } else { /* CPython takes only a numeric host here */
    uspy_raise(US_GAI_ERROR(EAI_NONAME));
    return -1;
  }
  a->port = (uint16_t)port;
  return 0;
}

static PyObject *mod_getnameinfo(PyObject *module, PyObject *const *args,
                                 size_t nargsf, PyObject *kwnames) {
  uspy_state *st = PyModule_GetState(module);
  Py_ssize_t n = PyVectorcall_NARGS(nargsf);
  PyObject *tobj;
  int64_t timeout = US_TIMEOUT_BLOCK;
  int flags;
  us_addr_t a;
  char host[1025], serv[32];
  if (uspy_nargs("getnameinfo", n, 2, 2) < 0 ||
      timeout_kw("getnameinfo", args, n, kwnames, &tobj) < 0 ||
      (tobj && uspy_timeout_arg(tobj, 1e9, 0, &timeout) < 0) ||
      uspy_int_arg(args[1], "flags", &flags) < 0 ||
      nameinfo_addr(st, args[0], &a) < 0)
    return NULL;
  int r =
      us_getnameinfo(&a, flags, host, sizeof host, serv, sizeof serv, timeout);
  if (r < 0)
    return uspy_raise(r);
  return Py_BuildValue("(ss)", host, serv);
}

/* ---- inet_ntop / inet_pton ---------------------------------------------- */

static PyObject *mod_inet_ntop(PyObject *module, PyObject *const *args,
                               Py_ssize_t n) {
  (void)module;
  int family;
  Py_buffer view;
  char text[64];
  if (uspy_nargs("inet_ntop", n, 2, 2) < 0 ||
      uspy_int_arg(args[0], "af", &family) < 0)
    return NULL;
  if (family != AF_INET && family != AF_INET6)
    return uspy_raise(-EAFNOSUPPORT);
  if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0)
    return NULL;
  Py_ssize_t want = family == AF_INET ? 4 : 16;
  int r =
      view.len == want ? us_inet_ntop(family, view.buf, text, sizeof text) : 0;
  PyBuffer_Release(&view);
  if (view.len != want)
    return PyErr_Format(PyExc_ValueError,
                        "packed address must be %zd bytes "
                        "for this family",
                        want);
  if (r < 0)
    return uspy_raise(r);
  return PyUnicode_FromStringAndSize(text, r);
}

static PyObject *mod_inet_pton(PyObject *module, PyObject *const *args,
                               Py_ssize_t n) {
  (void)module;
  int family;
  unsigned char packed[16];
  if (uspy_nargs("inet_pton", n, 2, 2) < 0 ||
      uspy_int_arg(args[0], "af", &family) < 0)
    return NULL;
  if (!PyUnicode_Check(args[1]))
    return PyErr_Format(PyExc_TypeError, "address must be str, not %.100s",
                        Py_TYPE(args[1])->tp_name);
  Py_ssize_t len;
  const char *text = PyUnicode_AsUTF8AndSize(args[1], &len);
  if (!text)
    return NULL;
  if ((Py_ssize_t)strlen(text) != len)
    return uspy_raise(-EINVAL);
  int r = us_inet_pton(family, text, packed);
  if (r < 0)
    return uspy_raise(r);
  return PyBytes_FromStringAndSize((const char *)packed, r);
}

#define FAST(name, fn, doc)                                                    \
  { name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, doc }

static PyMethodDef module_methods[] = {
    {"getaddrinfo", (PyCFunction)(void (*)(void))mod_getaddrinfo,
     METH_FASTCALL | METH_KEYWORDS,
     "getaddrinfo(host, port, af=0, type=0, proto=0, flags=0, /, *, "
     "timeout=None)\n--\n\n"
     "A list of (family, type, proto, canonname, sockaddr). Numeric hosts "
     "never reach the resolver. A name lookup releases the GIL, is "
     "interrupted by signals, and with a timeout (seconds) raises "
     "TimeoutError when it passes. A resolver failure raises OSError whose "
     "args[0] is the resolver's negative code."},
    {"getnameinfo", (PyCFunction)(void (*)(void))mod_getnameinfo,
     METH_FASTCALL | METH_KEYWORDS,
     "getnameinfo(sockaddr, flags, /, *, timeout=None)\n--\n\n"
     "(host, port) names of a sockaddr or numeric (host, port) tuple, as "
     "strings. Numeric flags (NI_NUMERICHOST|NI_NUMERICSERV) answer at "
     "once; a lookup releases the GIL, is interrupted by signals, and "
     "with a timeout (seconds) raises TimeoutError when it passes."},
    {"create_connection", (PyCFunction)(void (*)(void))mod_create_connection,
     METH_VARARGS | METH_KEYWORDS,
     "create_connection(address, timeout=None, source_address=None)\n--\n\n"
     "A socket connected to address, a (host, port) tuple, trying the "
     "name's addresses as RFC 8305 says within one timeout (seconds) for "
     "the whole call; the socket keeps the timeout."},
    FAST("inet_ntop", mod_inet_ntop,
         "inet_ntop(af, packed, /)\n--\n\nA packed address (4 or 16 bytes) "
         "as text."),
    FAST("inet_pton", mod_inet_pton,
         "inet_pton(af, text, /)\n--\n\nText as a packed address; invalid "
         "text raises OSError(EINVAL)."),
    {"CMSG_LEN", uspy_mod_cmsg_len, METH_O,
     "CMSG_LEN(length, /)\n--\n\nThe length of an ancillary data item "
     "holding length bytes, without its trailing padding."},
    {"CMSG_SPACE", uspy_mod_cmsg_space, METH_O,
     "CMSG_SPACE(length, /)\n--\n\nThe room an ancillary data item "
     "holding length bytes takes, with its padding."},
    {NULL, NULL, 0, NULL}};

/* ---- constants and set-up ----------------------------------------------- */

#define CONST(name)                                                            \
  { #name, name }
static const struct {
  const char *name;
  long value;
} constants[] = {CONST(AF_INET),
                 CONST(AF_INET6),
#ifdef AF_UNIX
                 CONST(AF_UNIX),
#endif
                 CONST(AF_UNSPEC),
                 CONST(SOCK_STREAM),
                 CONST(SOCK_DGRAM),
                 CONST(SOCK_RAW),
                 CONST(IPPROTO_IP),
                 CONST(IPPROTO_TCP),
                 CONST(IPPROTO_UDP),
                 CONST(IPPROTO_IPV6),
#ifdef US_TLS_ENGINE
                 {"IPPROTO_SEC", USPY_IPPROTO_SEC},
#endif
                 CONST(SOL_SOCKET),
                 CONST(SO_REUSEADDR),
                 CONST(SO_KEEPALIVE),
                 CONST(SO_BROADCAST),
                 CONST(SO_ERROR),
                 CONST(SO_LINGER),
                 CONST(SO_RCVBUF),
                 CONST(SO_SNDBUF),
                 CONST(SO_TYPE),
#ifdef SO_REUSEPORT
                 CONST(SO_REUSEPORT),
#endif
                 CONST(TCP_NODELAY),
                 CONST(IP_ADD_MEMBERSHIP),
                 CONST(IP_DROP_MEMBERSHIP),
                 CONST(IP_MULTICAST_TTL),
                 CONST(IP_MULTICAST_LOOP),
                 CONST(IPV6_V6ONLY),
                 CONST(SCM_RIGHTS),
                 CONST(MSG_TRUNC),
                 CONST(MSG_CTRUNC),
                 CONST(MSG_PEEK),
                 CONST(MSG_DONTWAIT),
                 CONST(MSG_DONTROUTE),
                 CONST(MSG_WAITALL),
                 CONST(SHUT_RD),
                 CONST(SHUT_WR),
                 CONST(SHUT_RDWR),
                 CONST(SOMAXCONN),
                 CONST(AI_PASSIVE),
                 CONST(AI_CANONNAME),
                 CONST(AI_NUMERICHOST),
                 CONST(AI_NUMERICSERV),
                 CONST(NI_NUMERICHOST),
                 CONST(NI_NUMERICSERV),
                 CONST(NI_NAMEREQD),
                 CONST(NI_DGRAM),
                 CONST(NI_NOFQDN),
                 CONST(NI_MAXHOST),
                 CONST(NI_MAXSERV)};

static int module_exec(PyObject *m) {
  uspy_state *st = PyModule_GetState(m);
  uspy_install_host();
  st->socket_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &uspy_socket_spec, NULL);
  st->sockaddr_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &uspy_sockaddr_spec, NULL);
  st->buffered_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &uspy_buffered_spec, NULL);
  if (!st->socket_type || !st->sockaddr_type || !st->buffered_type ||
      PyModule_AddType(m, st->socket_type) < 0 ||
      PyModule_AddType(m, st->sockaddr_type) < 0 ||
      PyModule_AddType(m, st->buffered_type) < 0)
    return -1;
  for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
    if (PyModule_AddIntConstant(m, constants[i].name, constants[i].value) < 0)
      return -1;
#ifdef US_TLS_ENGINE
  if (ussl_add_module(m, st) < 0)
    return -1;
#endif
  return PyModule_AddStringConstant(m, "__version__", US_VERSION);
}

static int module_traverse(PyObject *m, visitproc visit, void *arg) {
  uspy_state *st = PyModule_GetState(m);
  Py_VISIT(st->socket_type);
  Py_VISIT(st->sockaddr_type);
  Py_VISIT(st->buffered_type);
  Py_VISIT(st->tls_context_type);
  Py_VISIT(st->tls_socket_type);
  return 0;
}

static int module_clear(PyObject *m) {
  uspy_state *st = PyModule_GetState(m);
  Py_CLEAR(st->socket_type);
  Py_CLEAR(st->sockaddr_type);
  Py_CLEAR(st->buffered_type);
  Py_CLEAR(st->tls_context_type);
  Py_CLEAR(st->tls_socket_type);
  return 0;
}

static void module_free(void *m) { module_clear(m); }

static PyModuleDef_Slot module_slots[] = {{Py_mod_exec, module_exec},
                                          {0, NULL}};

PyModuleDef uspy_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "usocket",
    .m_doc = "MicroPython's socket module, on CPython.\n\n"
             "Sockets are streams (read, readinto, readline, write), "
             "addresses from getaddrinfo() are opaque and cheap to reuse, "
             "tuple addresses work too, timeouts raise TimeoutError "
             "(ETIMEDOUT), and every error is an OSError.",
    .m_size = sizeof(uspy_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit_usocket(void) { return PyModuleDef_Init(&uspy_module); }
