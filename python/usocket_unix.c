/* usocket_unix.c: AF_UNIX addresses in CPython's forms (a path as str,
 * in the file system encoding, or bytes; abstract names as bytes), and
 * the socket methods that take or give them, out of the IP methods' way. */
#include "uspy.h"

#include <errno.h>

int uspy_unix_addr_from_obj(PyObject *obj, us_rawaddr_t *out) {
  PyObject *bytes;
  if (PyUnicode_Check(obj)) {
    if (!(bytes = PyUnicode_EncodeFSDefault(obj)))
      return -1;
  } else if (PyObject_CheckBuffer(obj)) {
    bytes = PyBytes_FromObject(obj);
    if (!bytes)
      return -1;
  } else {
    PyErr_Format(PyExc_TypeError,
                 "an AF_UNIX address must be str or a bytes-like object, "
                 "not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  int r = us_rawaddr_unix(out, PyBytes_AS_STRING(bytes),
                          (size_t)PyBytes_GET_SIZE(bytes));
  Py_DECREF(bytes);
  if (r == -ENAMETOOLONG) {
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "is", ENAMETOOLONG,
                                          "AF_UNIX path too long");
    if (exc) {
      PyErr_SetObject(PyExc_OSError, exc);
      Py_DECREF(exc);
    }
    return -1;
  }
  if (r == -EINVAL) { /* a NUL inside a file name would cut it short */
    PyErr_SetString(PyExc_ValueError, "embedded null byte");
    return -1;
  }
  if (r < 0) {
    uspy_raise(r);
    return -1;
  }
  return 0;
}

PyObject *uspy_unix_addr_new(const us_rawaddr_t *addr) {
  const char *path;
  size_t len;
  if (addr->len == 0) /* no sender: an unbound datagram socket */
    Py_RETURN_NONE;
  int r = us_rawaddr_unix_path(addr, &path, &len);
  if (r < 0)
    return uspy_raise(r);
  if (len > 0 && path[0] == '\0') /* a Linux abstract name */
    return PyBytes_FromStringAndSize(path, (Py_ssize_t)len);
  return PyUnicode_DecodeFSDefaultAndSize(path, (Py_ssize_t)len);
}

PyObject *uspy_unix_bind(PyObject *self, PyObject *arg, int connect) {
  us_socket_t *s = &((uspy_socket *)self)->sock;
  us_rawaddr_t a;
  if (uspy_unix_addr_from_obj(arg, &a) < 0)
    return NULL;
  int r = connect ? us_connect_raw(s, &a) : us_bind_raw(s, &a);
  if (r < 0)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

PyObject *uspy_unix_accept(PyObject *self) {
  us_socket_t conn;
  us_rawaddr_t peer;
  int r = us_accept_raw(&((uspy_socket *)self)->sock, &conn, &peer);
  if (r < 0)
    return uspy_raise(r);
  PyObject *c = uspy_socket_wrap(uspy_state_of(Py_TYPE(self)), &conn);
  if (!c) {
    us_socket_close(&conn);
    return NULL;
  }
  PyObject *a = uspy_unix_addr_new(&peer);
  if (!a) {
    Py_DECREF(c);
    return NULL;
  }
  return Py_BuildValue("(NN)", c, a);
}

PyObject *uspy_unix_name(PyObject *self, int peer) {
  us_socket_t *s = &((uspy_socket *)self)->sock;
  us_rawaddr_t a;
  int r = peer ? us_getpeername_raw(s, &a) : us_getsockname_raw(s, &a);
  return r < 0 ? uspy_raise(r) : uspy_unix_addr_new(&a);
}
