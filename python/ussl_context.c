/* ussl_context.c: ussl's SSLContext (the core's us_tls_ctx_t), and the
 * errors of TLS streams, which name their fix. */
#include "ussl.h"

#include <errno.h>
#include <string.h>

#include "usocket_methods.h"

#define CTX(self) ((ussl_context *)(self))

/* ---- errors ------------------------------------------------------------- */

static int is_verify_error(int err) {
  return err == US_TLS_ERR_UNTRUSTED || err == US_TLS_ERR_EXPIRED ||
         err == US_TLS_ERR_HOSTNAME || err == US_TLS_ERR_VERIFY ||
         err == US_TLS_ERR_NO_HOST;
}

/* What to do about a failed verification, in the words of the API the
 * user met: the module's wrap_socket or an SSLContext. */
static const char *verify_hint(const ussl_context *c, int err) {
  if (err == US_TLS_ERR_HOSTNAME || err == US_TLS_ERR_NO_HOST)
    return c->legacy ? "pass the name the certificate is for as "
                       "server_hostname=, or cert_reqs=CERT_NONE to skip "
                       "verification"
                     : "pass the name the certificate is for as "
                       "server_hostname=, set check_hostname = False to "
                       "verify the certificate but not its name, or "
                       "verify_mode = CERT_NONE to skip verification";
  return c->legacy ? "pass cert_reqs=CERT_NONE to skip verification, or "
                     "cadata= the CA that signed the peer's certificate"
                   : "set verify_mode = CERT_NONE to skip verification, or "
                     "load_verify_locations() with the CA that signed the "
                     "peer's certificate";
}

PyObject *ussl_raise(const ussl_context *c, int err) {
  if (PyErr_Occurred() || !c || !is_verify_error(err))
    return uspy_raise(err);
  PyObject *msg = PyUnicode_FromFormat("certificate verify failed: %s (%s)",
                                       us_strerror(err), verify_hint(c, err));
  PyObject *exc =
      msg ? PyObject_CallFunction(PyExc_OSError, "iO", -err, msg) : NULL;
  if (exc)
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_XDECREF(exc);
  Py_XDECREF(msg);
  return NULL;
}

/* ---- SSLContext --------------------------------------------------------- */

static int int_in(PyObject *o, const char *what, int lo, int hi, int *out) {
  if (uspy_int_arg(o, what, out) < 0)
    return -1;
  if (*out < lo || *out > hi) {
    PyErr_Format(PyExc_ValueError, "%s must be %d to %d, not %d", what, lo, hi,
                 *out);
    return -1;
  }
  return 0;
}

static PyObject *ctx_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"protocol", NULL};
  PyObject *proto;
  int role;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O:SSLContext", kwlist, &proto) ||
      int_in(proto, "protocol (PROTOCOL_TLS_CLIENT or PROTOCOL_TLS_SERVER)",
             US_TLS_CLIENT, US_TLS_SERVER, &role) < 0)
    return NULL;
  ussl_context *c = (ussl_context *)type->tp_alloc(type, 0);
  if (!c)
    return NULL;
  int r = us_tls_ctx_new(&c->ctx, role);
  if (r < 0) {
    Py_DECREF(c);
    return uspy_raise(r);
  }
  c->role = role;
  /* Secure by default, as the core: a client verifies the server. */
  c->verify_mode =
      role == US_TLS_CLIENT ? US_TLS_VERIFY_REQUIRED : US_TLS_VERIFY_NONE;
  c->check_hostname = role == US_TLS_CLIENT;
  c->hostname_off = 0;
  return (PyObject *)c;
}

static void ctx_dealloc(PyObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  us_tls_ctx_free(CTX(self)->ctx);
  tp->tp_free(self);
  Py_DECREF(tp);
}

static PyObject *get_verify_mode(PyObject *self, void *c) {
  (void)c;
  return PyLong_FromLong(CTX(self)->verify_mode);
}

static int set_verify(ussl_context *c, int mode) {
  int r = us_tls_ctx_verify(c->ctx, mode);
  if (r < 0) {
    uspy_raise(r);
    return -1;
  }
  c->verify_mode = mode;
  return 0;
}

/* The core's setting follows check_hostname. */
static int set_check(ussl_context *c, int on) {
  int r = us_tls_ctx_check_host(c->ctx, on);
  if (r < 0) {
    uspy_raise(r);
    return -1;
  }
  c->check_hostname = on;
  return 0;
}

static int set_verify_mode(PyObject *self, PyObject *v, void *unused) {
  (void)unused;
  ussl_context *c = CTX(self);
  int mode;
  if (!v) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete verify_mode");
    return -1;
  }
  if (int_in(v, "verify_mode", US_TLS_VERIFY_NONE, US_TLS_VERIFY_REQUIRED,
             &mode) < 0 ||
      set_verify(c, mode) < 0)
    return -1;
  /* MicroPython code turns verification off with this line alone (where
   * CPython wants check_hostname = False first): the host name is not
   * checked either then. Turned on again, a client's verification checks
   * the name again, as MicroPython's does, unless check_hostname = False
   * was asked for. */
  if (mode == US_TLS_VERIFY_NONE)
    return set_check(c, 0);
  if (c->role == US_TLS_CLIENT && !c->hostname_off && !c->check_hostname)
    return set_check(c, 1);
  return 0;
}

static PyObject *get_check_hostname(PyObject *self, void *c) {
  (void)c;
  return PyBool_FromLong(CTX(self)->check_hostname);
}

static int set_check_hostname(PyObject *self, PyObject *v, void *unused) {
  (void)unused;
  ussl_context *c = CTX(self);
  int on = v ? PyObject_IsTrue(v) : -1;
  if (!v)
    PyErr_SetString(PyExc_AttributeError, "cannot delete check_hostname");
  if (on < 0)
    return -1;
  if (on && c->verify_mode == US_TLS_VERIFY_NONE &&
      set_verify(c, US_TLS_VERIFY_REQUIRED) < 0)
    return -1; /* as CPython: checking a name needs verification */
  /* Off, a client still verifies the certificate (trusted, in date) as
   * verify_mode says, as CPython's does. */
  if (set_check(c, on) < 0)
    return -1;
  c->hostname_off = !on;
  return 0;
}

/* A str or path-like: 1 with *path (a bytes object) set; bytes-like data:
 * 0 with *data held in view; else -1 with TypeError. */
static int path_or_data(PyObject *o, const char *what, PyObject **path,
                        uspy_rbuf *data) {
  *path = NULL;
  if (PyUnicode_Check(o) || PyObject_HasAttrString(o, "__fspath__")) {
    return PyUnicode_FSConverter(o, path) ? 1 : -1;
  }
  if (PyObject_CheckBuffer(o))
    return uspy_rbuf_get(o, data) < 0 ? -1 : 0;
  PyErr_Format(PyExc_TypeError,
               "%s must be a file name (str) or the data (bytes), not %.100s",
               what, Py_TYPE(o)->tp_name);
  return -1;
}

static PyObject *ctx_load_cert_chain(PyObject *self, PyObject *args,
                                     PyObject *kw) {
  static char *kwlist[] = {"certfile", "keyfile", NULL};
  PyObject *cert, *key = Py_None, *cpath = NULL, *kpath = NULL;
  uspy_rbuf cdata = {0}, kdata = {0};
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:load_cert_chain", kwlist,
                                   &cert, &key))
    return NULL;
  int cf = path_or_data(cert, "certfile", &cpath, &cdata);
  int kf = cf < 0 || key == Py_None
               ? cf
               : path_or_data(key, "keyfile", &kpath, &kdata);
  int r = 0;
  if (cf >= 0 && kf >= 0 && cf != kf) {
    PyErr_SetString(PyExc_TypeError,
                    "certfile and keyfile must both be file names or both "
                    "be data");
  } else if (cf == 1) {
    r = us_tls_ctx_cert_file(CTX(self)->ctx, PyBytes_AS_STRING(cpath),
                             kpath ? PyBytes_AS_STRING(kpath) : NULL);
  } else if (cf == 0) {
    const uspy_rbuf *k = key == Py_None ? &cdata : &kdata;
    r = us_tls_ctx_cert_data(CTX(self)->ctx, cdata.buf, cdata.len, k->buf,
                             k->len);
  }
  Py_XDECREF(cpath);
  Py_XDECREF(kpath);
  if (cf == 0)
    uspy_rbuf_release(&cdata);
  if (kf == 0 && key != Py_None)
    uspy_rbuf_release(&kdata);
  if (PyErr_Occurred())
    return NULL;
  if (r < 0)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

static PyObject *ctx_load_verify_locations(PyObject *self, PyObject *args,
                                           PyObject *kw) {
  static char *kwlist[] = {"cafile", "cadata", NULL};
  PyObject *cafile = Py_None, *cadata = Py_None, *path = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO:load_verify_locations",
                                   kwlist, &cafile, &cadata))
    return NULL;
  if (cafile == Py_None && cadata == Py_None) {
    PyErr_SetString(PyExc_TypeError,
                    "load_verify_locations() needs cafile or cadata");
    return NULL;
  }
  int r = 0;
  if (cafile != Py_None) {
    if (!PyUnicode_FSConverter(cafile, &path))
      return NULL;
    r = us_tls_ctx_ca_file(CTX(self)->ctx, PyBytes_AS_STRING(path));
    Py_DECREF(path);
  }
  if (r == 0 && cadata != Py_None) {
    uspy_rbuf d;
    if (uspy_rbuf_get(cadata, &d) < 0)
      return NULL;
    r = us_tls_ctx_ca_data(CTX(self)->ctx, d.buf, d.len);
    uspy_rbuf_release(&d);
  }
  if (r < 0)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

static PyObject *ctx_load_default_certs(PyObject *self, PyObject *args,
                                        PyObject *kw) {
  static char *kwlist[] = {"purpose", NULL};
  PyObject *purpose = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:load_default_certs", kwlist,
                                   &purpose))
    return NULL;
  int r = us_tls_ctx_ca_default(CTX(self)->ctx);
  if (r < 0)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

static PyObject *ctx_get_ciphers(PyObject *self, PyObject *unused) {
  (void)unused;
  const char *names[256];
  size_t n = us_tls_ctx_cipher_names(CTX(self)->ctx, names, 256);
  if (n > 256)
    n = 256;
  PyObject *list = PyList_New((Py_ssize_t)n);
  for (size_t i = 0; list && i < n; i++) {
    PyObject *s = PyUnicode_FromString(names[i]);
    if (!s) {
      Py_CLEAR(list);
      break;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, s);
  }
  return list;
}

static PyObject *ctx_set_ciphers(PyObject *self, PyObject *arg) {
  PyObject *text;
  if (PyUnicode_Check(arg)) {
    text = Py_NewRef(arg);
  } else if (PyList_Check(arg) || PyTuple_Check(arg)) {
    PyObject *sep = PyUnicode_FromString(":");
    text = sep ? PyUnicode_Join(sep, arg) : NULL;
    Py_XDECREF(sep);
  } else {
    PyErr_Format(PyExc_TypeError,
                 "ciphers must be a str or a list of str, not %.100s",
                 Py_TYPE(arg)->tp_name);
    return NULL;
  }
  const char *list = text ? PyUnicode_AsUTF8(text) : NULL;
  int r = list ? us_tls_ctx_ciphers(CTX(self)->ctx, list) : 0;
  Py_XDECREF(text);
  if (!list)
    return NULL;
  if (r < 0)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

static PyObject *ctx_wrap_socket(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"sock", "server_side", "do_handshake_on_connect",
                           "server_hostname", NULL};
  PyObject *sock, *host = Py_None;
  int server_side = 0, handshake = 1;
  ussl_context *c = CTX(self);
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|ppO:wrap_socket", kwlist, &sock,
                                   &server_side, &handshake, &host))
    return NULL;
  if (server_side != (c->role == US_TLS_SERVER)) {
    PyErr_SetString(PyExc_ValueError,
                    server_side ? "server_side=True needs a context made with "
                                  "PROTOCOL_TLS_SERVER"
                                : "a client needs a context made with "
                                  "PROTOCOL_TLS_CLIENT");
    return NULL;
  }
  if (host != Py_None && !PyUnicode_Check(host)) {
    PyErr_Format(PyExc_TypeError,
                 "server_hostname must be a str or None, not %.100s",
                 Py_TYPE(host)->tp_name);
    return NULL;
  }
  if (host != Py_None && server_side) {
    PyErr_SetString(PyExc_ValueError,
                    "server_hostname is for a client (server_side=False)");
    return NULL;
  }
  uspy_state *st = uspy_state_of(Py_TYPE(self));
  return ussl_socket_new(st, self, sock, server_side, handshake,
                         host == Py_None ? NULL : host);
}

static PyObject *ctx_repr(PyObject *self) {
  ussl_context *c = CTX(self);
  return PyUnicode_FromFormat("<ussl.SSLContext %s, verify_mode=%d>",
                              c->role == US_TLS_SERVER ? "server" : "client",
                              c->verify_mode);
}

#define KW(name, fn, doc)                                                      \
  { name, (PyCFunction)(void (*)(void))fn, METH_VARARGS | METH_KEYWORDS, doc }

static PyMethodDef ctx_methods[] = {
    KW("load_cert_chain", ctx_load_cert_chain,
       "load_cert_chain($self, /, certfile, keyfile=None)\n--\n\n"
       "Our certificate chain (leaf first) and private key: file names "
       "(str), or the data itself (bytes, PEM or DER). keyfile None: the "
       "key is in certfile."),
    KW("load_verify_locations", ctx_load_verify_locations,
       "load_verify_locations($self, /, cafile=None, cadata=None)\n--\n\n"
       "Trust the CA certificates in cafile (a file name) and/or cadata "
       "(str or bytes: PEM, or one DER certificate). A client given CAs "
       "trusts those only, not the platform's store."),
    KW("load_default_certs", ctx_load_default_certs,
       "load_default_certs($self, /, purpose=None)\n--\n\n"
       "Trust the platform's CA store too."),
    {"get_ciphers", ctx_get_ciphers, METH_NOARGS,
     "get_ciphers($self, /)\n--\n\nThe names of the cipher suites this "
     "context may negotiate, in preference order."},
    {"set_ciphers", ctx_set_ciphers, METH_O,
     "set_ciphers($self, ciphers, /)\n--\n\nRestrict the suites: a list of "
     "names, or one str in OpenSSL's cipher-list syntax."},
    KW("wrap_socket", ctx_wrap_socket,
       "wrap_socket($self, /, sock, server_side=False, "
       "do_handshake_on_connect=True, server_hostname=None)\n--\n\n"
       "A TLS stream over the usocket socket sock."),
    {NULL, NULL, 0, NULL}};

static PyGetSetDef ctx_getset[] = {
    {"verify_mode", get_verify_mode, set_verify_mode,
     "CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED (a client's default).", NULL},
    {"check_hostname", get_check_hostname, set_check_hostname,
     "Whether a client checks the server's host name (default True).", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot ctx_slots[] = {
    {Py_tp_doc, "SSLContext(protocol, /)\n--\n\n"
                "TLS settings: PROTOCOL_TLS_CLIENT (verifies the server "
                "against the platform's CA store by default) or "
                "PROTOCOL_TLS_SERVER."},
    {Py_tp_new, ctx_new},
    {Py_tp_dealloc, ctx_dealloc},
    {Py_tp_repr, ctx_repr},
    {Py_tp_methods, ctx_methods},
    {Py_tp_getset, ctx_getset},
    {0, NULL}};

PyType_Spec ussl_context_spec = {
    .name = "ussl.SSLContext",
    .basicsize = sizeof(ussl_context),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = ctx_slots,
};
