/* usocket_io.c: the socket's data methods: stream (read, readinto,
 * readline, write) and datagram/single-call (send, recv, sendto, ...). */
#include "uspy.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "usocket_methods.h"

/* ---- a sink over a bytes object ----------------------------------------- */

static int bytes_grow(us_sink_t *sink, size_t need) {
  uspy_bytes_sink *s = (uspy_bytes_sink *)sink;
  if (need > PY_SSIZE_T_MAX)
    return -ENOMEM;
  if (!s->bytes) {
    s->bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)need);
    if (s->bytes)
      memcpy(PyBytes_AS_STRING(s->bytes), s->inline_buf, sink->len);
  } else if (_PyBytes_Resize(&s->bytes, (Py_ssize_t)need) < 0) {
    s->bytes = NULL; /* _PyBytes_Resize freed it */
  }
  if (!s->bytes)
    return -ENOMEM;
  sink->data = PyBytes_AS_STRING(s->bytes);
  sink->cap = need;
  return 0;
}

void uspy_bytes_sink_init(uspy_bytes_sink *s) {
  us_sink_fixed(&s->sink, s->inline_buf, sizeof s->inline_buf);
  s->sink.grow = bytes_grow;
  s->bytes = NULL;
}

PyObject *uspy_bytes_sink_finish(uspy_bytes_sink *s, ssize_t r,
                                 int none_on_eagain) {
  PyObject *b = s->bytes;
  s->bytes = NULL;
  if (PyErr_Occurred()) { /* a signal handler raised after some bytes */
    Py_XDECREF(b);
    return NULL;
  }
  if (r < 0) {
    Py_XDECREF(b);
    if (none_on_eagain && (r == -EAGAIN || r == -EWOULDBLOCK) &&
        !PyErr_Occurred())
      Py_RETURN_NONE;
    return uspy_raise((int)r);
  }
  if (!b)
    return PyBytes_FromStringAndSize(s->inline_buf, (Py_ssize_t)s->sink.len);
  if ((size_t)PyBytes_GET_SIZE(b) != s->sink.len &&
      _PyBytes_Resize(&b, (Py_ssize_t)s->sink.len) < 0)
    return NULL;
  return b;
}

/* ---- argument helpers --------------------------------------------------- */

int uspy_nargs(const char *name, Py_ssize_t n, Py_ssize_t min, Py_ssize_t max) {
  if (n >= min && n <= max)
    return 0;
  if (min == max)
    PyErr_Format(PyExc_TypeError,
                 "%s() takes exactly %zd argument%s (%zd "
                 "given)",
                 name, min, min == 1 ? "" : "s", n);
  else
    PyErr_Format(PyExc_TypeError,
                 "%s() takes %zd to %zd arguments (%zd "
                 "given)",
                 name, min, max, n);
  return -1;
}

int uspy_int_arg(PyObject *o, const char *what, int *out) {
  if (!PyLong_Check(o)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what,
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  int overflow;
  long v = PyLong_AsLongAndOverflow(o, &overflow);
  if (overflow || v < INT32_MIN || v > INT32_MAX) {
    PyErr_Format(PyExc_OverflowError, "%s is out of range", what);
    return -1;
  }
  if (v == -1 && PyErr_Occurred())
    return -1;
  *out = (int)v;
  return 0;
}

/* A size argument: an int >= 0 (None or negative mean "no limit" when
 * allow_none). */
static int size_arg(PyObject *o, const char *what, int allow_none,
                    size_t *out) {
  if (allow_none && o == Py_None) {
    *out = SIZE_MAX;
    return 0;
  }
  if (!PyLong_Check(o)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what,
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  Py_ssize_t v = PyLong_AsSsize_t(o);
  if (v == -1 && PyErr_Occurred()) {
    if (!PyErr_ExceptionMatches(PyExc_OverflowError))
      return -1;
    PyErr_Clear();
    if (_PyLong_Sign(o) > 0) {
      *out = PY_SSIZE_T_MAX;
      return 0;
    }
    v = -1;
  }
  if (v < 0) {
    if (allow_none) {
      *out = SIZE_MAX;
      return 0;
    }
    PyErr_Format(PyExc_ValueError, "negative %s", what);
    return -1;
  }
  *out = (size_t)v;
  return 0;
}

static int flags_arg(PyObject *const *args, Py_ssize_t n, Py_ssize_t at,
                     int *flags) {
  *flags = 0;
  return n > at ? uspy_int_arg(args[at], "flags", flags) : 0;
}

int uspy_wbuf_get_exported(PyObject *o, uspy_wbuf *w) {
  w->pinned = NULL;
  if (PyObject_GetBuffer(o, &w->view, PyBUF_WRITABLE) == 0)
    return 0;
  if (PyErr_ExceptionMatches(PyExc_BufferError) ||
      PyErr_ExceptionMatches(PyExc_TypeError)) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError,
                 "a writable bytes-like object is required, not %.100s",
                 Py_TYPE(o)->tp_name);
  }
  return -1;
}

int uspy_nbytes_arg(PyObject *o, size_t len, size_t *out) {
  *out = len;
  if (o == Py_None)
    return 0;
  if (size_arg(o, "nbytes", 0, out) < 0)
    return -1;
  if (*out > len) {
    PyErr_SetString(PyExc_ValueError, "nbytes is greater than the buffer");
    return -1;
  }
  return 0;
}

int uspy_rbuf_get(PyObject *o, uspy_rbuf *r) {
  r->exported = 0;
  r->pinned = NULL;
  if (PyByteArray_CheckExact(o)) { /* MicroPython's reused buffer */
    r->pinned = (PyByteArrayObject *)o;
    r->pinned->ob_exports++;
    r->buf = PyByteArray_AS_STRING(o);
    r->len = (size_t)PyByteArray_GET_SIZE(o);
    return 0;
  }
  if (PyBytes_Check(o)) {
    r->buf = PyBytes_AS_STRING(o);
    r->len = (size_t)PyBytes_GET_SIZE(o);
    return 0;
  }
  if (PyUnicode_Check(o)) {
    Py_ssize_t len;
    if (!(r->buf = PyUnicode_AsUTF8AndSize(o, &len)))
      return -1; /* lone surrogates: UnicodeEncodeError */
    r->len = (size_t)len;
    return 0;
  }
  if (PyObject_GetBuffer(o, &r->view, PyBUF_SIMPLE) < 0) {
    if (PyErr_ExceptionMatches(PyExc_TypeError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError,
                   "a bytes-like object or str is required, not %.100s",
                   Py_TYPE(o)->tp_name);
    }
    return -1;
  }
  r->buf = r->view.buf;
  r->len = (size_t)r->view.len;
  r->exported = 1;
  return 0;
}

/* An int truncated to size_t, as mp_obj_get_int_truncated. */
static int truncated_arg(PyObject *o, const char *what, size_t *out) {
  if (!PyLong_Check(o)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what,
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  /* Most are small: PyLong_AsSsize_t reads one digit directly, and a
   * negative ssize_t cast is already the value modulo 2**64. */
  Py_ssize_t small = PyLong_AsSsize_t(o);
  if (small != -1 || !PyErr_Occurred()) {
    *out = (size_t)small;
    return 0;
  }
  PyErr_Clear(); /* past ssize_t: the mask takes any size */
  unsigned long long v = PyLong_AsUnsignedLongLongMask(o);
  if (v == (unsigned long long)-1 && PyErr_Occurred())
    return -1;
  *out = (size_t)v;
  return 0;
}

int uspy_rbuf_span(uspy_rbuf *r, PyObject *const *args, Py_ssize_t n) {
  size_t off = 0, max = SIZE_MAX, at;
  if (n == 1 && truncated_arg(args[0], "max_len", &max) < 0)
    return -1;
  if (n == 2 && (truncated_arg(args[0], "off", &off) < 0 ||
                 truncated_arg(args[1], "max_len", &max) < 0))
    return -1;
  r->len = us_span(r->len, off, max, &at);
  r->buf += at;
  return 0;
}

static PyObject *count_or_none(ssize_t n, int none_on_eagain) {
  if (PyErr_Occurred()) /* a signal handler raised after some bytes */
    return NULL;
  if (n >= 0)
    return PyLong_FromSsize_t(n);
  if (none_on_eagain && (n == -EAGAIN || n == -EWOULDBLOCK))
    Py_RETURN_NONE;
  return uspy_raise((int)n);
}

#define SOCK(self) (&((uspy_socket *)(self))->sock)

/* ---- stream methods ----------------------------------------------------- */

/* read([size]) and readline([size]): into a new bytes object. */
static PyObject *read_bytes(PyObject *self, PyObject *const *args, Py_ssize_t n,
                            const char *name,
                            ssize_t (*fn)(us_socket_t *, us_sink_t *, size_t)) {
  size_t max = SIZE_MAX;
  if (uspy_nargs(name, n, 0, 1) < 0 ||
      (n == 1 && size_arg(args[0], "size", 1, &max) < 0))
    return NULL;
  uspy_bytes_sink s;
  uspy_bytes_sink_init(&s);
  ssize_t r = max ? fn(SOCK(self), &s.sink, max) : 0;
  return uspy_bytes_sink_finish(&s, r, 1);
}

PyObject *uspy_sock_read(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  return read_bytes(self, args, n, "read", us_read);
}

PyObject *uspy_sock_readline(PyObject *self, PyObject *const *args,
                             Py_ssize_t n) {
  return read_bytes(self, args, n, "readline", us_readline);
}

/* readinto and recv_into: a fixed sink over the caller's buffer. */
static PyObject *into(PyObject *self, PyObject *const *args, Py_ssize_t n,
                      int stream) {
  uspy_wbuf w;
  size_t nbytes;
  int flags = 0;
  if (uspy_nargs(stream ? "readinto" : "recv_into", n, 1, stream ? 2 : 3) < 0)
    return NULL;
  if (uspy_wbuf_get(args[0], &w) < 0)
    return NULL;
  nbytes = (size_t)w.view.len;
  if (n > 1 && args[1] != Py_None &&
      (size_arg(args[1], "nbytes", 0, &nbytes) < 0 ||
       flags_arg(args, n, 2, &flags) < 0))
    goto fail;
  if (nbytes == 0 && n > 1 && args[1] != Py_None && !stream)
    nbytes = (size_t)w.view.len; /* recv_into: 0 means the whole buffer */
  if (nbytes > (size_t)w.view.len) {
    PyErr_SetString(PyExc_ValueError, "nbytes is greater than the buffer");
    goto fail;
  }
  us_sink_t sink;
  us_sink_fixed(&sink, w.view.buf, nbytes);
  ssize_t r = stream ? (nbytes ? us_read(SOCK(self), &sink, nbytes) : 0)
                     : us_recv_sink(SOCK(self), &sink, nbytes, flags);
  uspy_wbuf_release(&w);
  return count_or_none(r, stream);
fail:
  uspy_wbuf_release(&w);
  return NULL;
}

PyObject *uspy_sock_readinto(PyObject *self, PyObject *const *args,
                             Py_ssize_t n) {
  return into(self, args, n, 1);
}

PyObject *uspy_sock_recv_into(PyObject *self, PyObject *const *args,
                              Py_ssize_t n) {
  return into(self, args, n, 0);
}

/* write(buf, off, n) on a bytearray with offsets in range: the form a
 * MicroPython server writes out of its one reused buffer, converted here
 * without the general helpers' calls. 1 with *out set, 0 otherwise (no
 * exception). */
static int write_span_fast(PyObject *self, PyObject *const *args,
                           PyObject **out) {
  if (!PyByteArray_CheckExact(args[0]) || !PyLong_CheckExact(args[1]) ||
      !PyLong_CheckExact(args[2]))
    return 0;
  /* Negative or huge (OverflowError, cleared): the general path's. */
  Py_ssize_t off = PyLong_AsSsize_t(args[1]), max;
  if (off < 0 || (max = PyLong_AsSsize_t(args[2])) < 0) {
    PyErr_Clear();
    return 0;
  }
  PyByteArrayObject *pinned = (PyByteArrayObject *)args[0];
  size_t at, len = us_span((size_t)PyByteArray_GET_SIZE(args[0]), (size_t)off,
                           (size_t)max, &at);
  pinned->ob_exports++; /* the call may let other threads in */
  ssize_t r = us_write(SOCK(self), PyByteArray_AS_STRING(args[0]) + at, len);
  pinned->ob_exports--;
  *out = count_or_none(r, 1);
  return 1;
}

PyObject *uspy_sock_write(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  PyObject *out;
  if (n == 1 && PyBytes_CheckExact(args[0])) { /* the fast paths */
    ssize_t r = us_write(SOCK(self), PyBytes_AS_STRING(args[0]),
                         (size_t)PyBytes_GET_SIZE(args[0]));
    return count_or_none(r, 1);
  }
  if (n == 3 && write_span_fast(self, args, &out))
    return out;
  uspy_rbuf b;
  if (uspy_nargs("write", n, 1, 3) < 0 || uspy_rbuf_get(args[0], &b) < 0)
    return NULL;
  if (uspy_rbuf_span(&b, args + 1, n - 1) < 0) {
    uspy_rbuf_release(&b);
    return NULL;
  }
  ssize_t r = us_write(SOCK(self), b.buf, b.len);
  uspy_rbuf_release(&b);
  return count_or_none(r, 1);
}

/* ---- single calls and datagrams ----------------------------------------- */

PyObject *uspy_sock_send(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  uspy_rbuf b;
  int flags;
  if (uspy_nargs("send", n, 1, 2) < 0 || flags_arg(args, n, 1, &flags) < 0 ||
      uspy_rbuf_get(args[0], &b) < 0)
    return NULL;
  ssize_t r = us_send(SOCK(self), b.buf, b.len, flags);
  uspy_rbuf_release(&b);
  return count_or_none(r, 0);
}

PyObject *uspy_sock_sendall(PyObject *self, PyObject *const *args,
                            Py_ssize_t n) {
  uspy_rbuf b;
  int flags;
  size_t sent = 0;
  if (uspy_nargs("sendall", n, 1, 2) < 0 || flags_arg(args, n, 1, &flags) < 0 ||
      uspy_rbuf_get(args[0], &b) < 0)
    return NULL;
  int r = us_sendall(SOCK(self), b.buf, b.len, flags, &sent);
  uspy_rbuf_release(&b);
  if (r < 0)
    return uspy_raise_written(r, sent);
  Py_RETURN_NONE;
}

/* sendto of an AF_UNIX socket: its address is a path. */
static __attribute__((noinline)) PyObject *
unix_sendto(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  uspy_rbuf b;
  int flags = 0;
  us_rawaddr_t to;
  if (uspy_nargs("sendto", n, 2, 3) < 0 ||
      (n == 3 && uspy_int_arg(args[1], "flags", &flags) < 0) ||
      uspy_unix_addr_from_obj(args[n - 1], &to) < 0 ||
      uspy_rbuf_get(args[0], &b) < 0)
    return NULL;
  ssize_t r = us_sendto_raw(SOCK(self), b.buf, b.len, flags, &to);
  uspy_rbuf_release(&b);
  return count_or_none(r, 0);
}

PyObject *uspy_sock_sendto(PyObject *self, PyObject *const *args,
                           Py_ssize_t n) {
  uspy_rbuf b;
  int flags = 0;
  us_addr_t to;
  if (SOCK(self)->family == AF_UNIX)
    return unix_sendto(self, args, n);
  uspy_state *st = uspy_state_of(Py_TYPE(self));
  if (uspy_nargs("sendto", n, 2, 3) < 0 ||
      (n == 3 && uspy_int_arg(args[1], "flags", &flags) < 0) ||
      uspy_addr_from_obj(st, SOCK(self)->family, args[n - 1], &to) < 0 ||
      uspy_rbuf_get(args[0], &b) < 0)
    return NULL;
  ssize_t r = us_sendto(SOCK(self), b.buf, b.len, flags, &to);
  uspy_rbuf_release(&b);
  return count_or_none(r, 0);
}

PyObject *uspy_sock_recv(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  size_t max;
  int flags;
  if (uspy_nargs("recv", n, 1, 2) < 0 ||
      size_arg(args[0], "buffersize", 0, &max) < 0 ||
      flags_arg(args, n, 1, &flags) < 0)
    return NULL;
  uspy_bytes_sink s;
  uspy_bytes_sink_init(&s);
  ssize_t r = us_recv_sink(SOCK(self), &s.sink, max, flags);
  return uspy_bytes_sink_finish(&s, r, 0);
}

/* recvfrom of an AF_UNIX socket: the sender is a path, or None. */
static __attribute__((noinline)) PyObject *
unix_recvfrom(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  size_t max;
  int flags;
  us_rawaddr_t from;
  if (uspy_nargs("recvfrom", n, 1, 2) < 0 ||
      size_arg(args[0], "buffersize", 0, &max) < 0 ||
      flags_arg(args, n, 1, &flags) < 0)
    return NULL;
  uspy_bytes_sink s;
  uspy_bytes_sink_init(&s);
  ssize_t r = us_recvfrom_raw_sink(SOCK(self), &s.sink, max, flags, &from);
  PyObject *data = uspy_bytes_sink_finish(&s, r, 0);
  if (!data)
    return NULL;
  PyObject *addr = uspy_unix_addr_new(&from);
  if (!addr) {
    Py_DECREF(data);
    return NULL;
  }
  return Py_BuildValue("(NN)", data, addr);
}

PyObject *uspy_sock_recvfrom(PyObject *self, PyObject *const *args,
                             Py_ssize_t n) {
  size_t max;
  int flags;
  us_addr_t from;
  if (SOCK(self)->family == AF_UNIX)
    return unix_recvfrom(self, args, n);
  if (uspy_nargs("recvfrom", n, 1, 2) < 0 ||
      size_arg(args[0], "buffersize", 0, &max) < 0 ||
      flags_arg(args, n, 1, &flags) < 0)
    return NULL;
  uspy_bytes_sink s;
  uspy_bytes_sink_init(&s);
  memset(&from, 0, sizeof from);
  ssize_t r = us_recvfrom_sink(SOCK(self), &s.sink, max, flags, &from);
  PyObject *data = uspy_bytes_sink_finish(&s, r, 0);
  if (!data)
    return NULL;
  PyObject *addr;
  if (from.family)
    addr = uspy_sockaddr_new(uspy_state_of(Py_TYPE(self)), &from);
  else
    addr = Py_NewRef(Py_None); /* a stream socket has no sender address */
  if (!addr) {
    Py_DECREF(data);
    return NULL;
  }
  return Py_BuildValue("(NN)", data, addr);
}
