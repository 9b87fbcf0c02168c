/* usslmodule.c: the module ussl (MicroPython's ssl and tls): its
 * constants and legacy wrap_socket(), made at usocket's set-up as
 * usocket._ussl, which python/ussl.py exposes. The types are in
 * ussl_context.c and ussl_socket.c. */
#include "ussl.h"

#include <errno.h>

PyObject *uspy_sockaddr_name(uspy_state *st, PyObject *addr) {
  if (!PyObject_TypeCheck(addr, st->sockaddr_type))
    return NULL;
  return ((uspy_sockaddr *)addr)->name;
}

/* Calls obj.name(*args, **kw) for a format of positional args. */
static int call_method(PyObject *obj, const char *name, PyObject *args,
                       PyObject *kw) {
  PyObject *m = PyObject_GetAttrString(obj, name);
  PyObject *r = m && args ? PyObject_Call(m, args, kw) : NULL;
  Py_XDECREF(m);
  Py_XDECREF(args);
  Py_XDECREF(r);
  return r ? 0 : -1;
}

/* wrap_socket(sock, server_side=False, key=None, cert=None,
 * cert_reqs=None, cadata=None, server_hostname=None, do_handshake=True):
 * MicroPython's, but a client verifies unless told not to. */
static PyObject *mod_wrap_socket(PyObject *module, PyObject *args,
                                 PyObject *kw) {
  static char *kwlist[] = {
      "sock",   "server_side",     "key",          "cert", "cert_reqs",
      "cadata", "server_hostname", "do_handshake", NULL};
  PyObject *sock, *key = Py_None, *cert = Py_None, *reqs = Py_None,
                  *cadata = Py_None, *host = Py_None;
  int server_side = 0, handshake = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|pOOOOOp:wrap_socket", kwlist,
                                   &sock, &server_side, &key, &cert, &reqs,
                                   &cadata, &host, &handshake))
    return NULL;
  if (key != Py_None && cert == Py_None) {
    PyErr_SetString(PyExc_ValueError, "key needs cert");
    return NULL;
  }
  PyObject *type = PyObject_GetAttrString(module, "SSLContext");
  PyObject *ctx =
      type ? PyObject_CallFunction(type, "i",
                                   server_side ? US_TLS_SERVER : US_TLS_CLIENT)
           : NULL;
  Py_XDECREF(type);
  if (!ctx)
    return NULL;
  ((ussl_context *)ctx)->legacy = 1;
  PyObject *r = NULL;
  if (reqs != Py_None && PyObject_SetAttrString(ctx, "verify_mode", reqs) < 0)
    goto out;
  if (cert != Py_None &&
      call_method(ctx, "load_cert_chain", Py_BuildValue("(OO)", cert, key),
                  NULL) < 0)
    goto out;
  if (cadata != Py_None) {
    PyObject *kwd = Py_BuildValue("{sO}", "cadata", cadata);
    int bad = !kwd || call_method(ctx, "load_verify_locations", PyTuple_New(0),
                                  kwd) < 0;
    Py_XDECREF(kwd);
    if (bad)
      goto out;
  }
  uspy_state *st = uspy_state_of(Py_TYPE(ctx));
  if (host != Py_None && !PyUnicode_Check(host)) {
    PyErr_Format(PyExc_TypeError,
                 "server_hostname must be a str or None, not %.100s",
                 Py_TYPE(host)->tp_name);
    goto out;
  }
  r = ussl_socket_new(st, ctx, sock, server_side, handshake,
                      host == Py_None ? NULL : host);
out:
  Py_DECREF(ctx);
  return r;
}

static PyMethodDef ussl_methods[] = {
    {"wrap_socket", (PyCFunction)(void (*)(void))mod_wrap_socket,
     METH_VARARGS | METH_KEYWORDS,
     "wrap_socket(sock, server_side=False, key=None, cert=None, "
     "cert_reqs=None, cadata=None, server_hostname=None, "
     "do_handshake=True)\n--\n\n"
     "A TLS stream over the usocket socket sock, as MicroPython's "
     "wrap_socket, except that a client verifies the server "
     "(cert_reqs=CERT_REQUIRED) unless given cert_reqs=CERT_NONE. key and "
     "cert: our key and certificate, data (bytes) or file names; cadata: "
     "the CAs to trust instead of the platform's store."},
    {NULL, NULL, 0, NULL}};

static PyModuleDef ussl_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "ussl",
    .m_doc = "MicroPython's ssl (tls) module on CPython, over usocket's "
             "sockets: secure by default (a client verifies the server's "
             "certificate and host name).",
    .m_size = -1,
    .m_methods = ussl_methods,
};

int ussl_add_module(PyObject *m, uspy_state *st) {
  st->tls_context_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &ussl_context_spec, NULL);
  st->tls_socket_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &ussl_socket_spec, NULL);
  if (!st->tls_context_type || !st->tls_socket_type)
    return -1;
  PyObject *sub = PyModule_Create(&ussl_def);
  if (!sub)
    return -1;
  static const struct {
    const char *name;
    int value;
  } consts[] = {{"PROTOCOL_TLS_CLIENT", US_TLS_CLIENT},
                {"PROTOCOL_TLS_SERVER", US_TLS_SERVER},
                {"CERT_NONE", US_TLS_VERIFY_NONE},
                {"CERT_OPTIONAL", US_TLS_VERIFY_OPTIONAL},
                {"CERT_REQUIRED", US_TLS_VERIFY_REQUIRED}};
  int bad = PyModule_AddType(sub, st->tls_context_type) < 0 ||
            PyModule_AddType(sub, st->tls_socket_type) < 0 ||
            PyModule_AddStringConstant(sub, "ENGINE", us_tls_engine()) < 0;
  for (size_t i = 0; !bad && i < sizeof consts / sizeof consts[0]; i++)
    bad = PyModule_AddIntConstant(sub, consts[i].name, consts[i].value) < 0;
  if (bad || PyModule_AddObjectRef(m, "_ussl", sub) < 0) {
    Py_DECREF(sub);
    return -1;
  }
  Py_DECREF(sub);
  return 0;
}
