/* usocket_buffered.c: BufferedStream, what makefile() returns for
 * buffering > 0: the core's us_bufstream_t over a socket object. */
#include "uspy.h"

#include <errno.h>
#include <stdint.h>

#include "usocket_methods.h"

typedef struct {
  PyObject_HEAD PyObject *sock; /* the socket object; NULL once closed */
  us_bufstream_t bs;
  int readable, writable;
  int users; /* calls in progress (the GIL guards it) */
} uspy_buffered;

#define BUF(self) ((uspy_buffered *)(self))

/* A call keeps the socket object alive and the buffers allocated while
 * it runs, whatever close() in another thread does meanwhile: the last
 * call to leave a closed stream frees them. */
static PyObject *enter(uspy_buffered *b) {
  b->users++;
  return Py_NewRef(b->sock);
}

static void leave(uspy_buffered *b, PyObject *sock) {
  if (--b->users == 0 && !b->sock)
    us_bufstream_free(&b->bs);
  Py_DECREF(sock);
}

PyObject *uspy_buffered_new(uspy_state *st, PyObject *sock, Py_ssize_t size,
                            int readable, int writable) {
  uspy_buffered *b = PyObject_New(uspy_buffered, st->buffered_type);
  if (!b)
    return NULL;
  int r = us_bufstream_init(&b->bs, &((uspy_socket *)sock)->sock, (size_t)size);
  if (r < 0) {
    b->sock = NULL;
    Py_DECREF(b);
    return uspy_raise(r);
  }
  b->sock = Py_NewRef(sock);
  b->users = 0;
  b->readable = readable;
  b->writable = writable;
  return (PyObject *)b;
}

static int check(uspy_buffered *b, int want_read) {
  if (!b->sock) {
    PyErr_SetString(PyExc_ValueError, "I/O operation on closed stream");
    return -1;
  }
  if (want_read ? !b->readable : !b->writable) {
    PyErr_SetString(PyExc_OSError, want_read ? "stream is not readable"
                                             : "stream is not writable");
    return -1;
  }
  return 0;
}

static int limit_arg(PyObject *const *args, Py_ssize_t n, const char *name,
                     size_t *max) {
  *max = SIZE_MAX;
  if (uspy_nargs(name, n, 0, 1) < 0)
    return -1;
  if (n == 0 || args[0] == Py_None)
    return 0;
  Py_ssize_t v = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
  if (v == -1 && PyErr_Occurred())
    return -1;
  if (v >= 0)
    *max = (size_t)v;
  return 0;
}

/* The common case: the whole line is buffered; one copy, no sink. The
 * GIL is kept throughout, and no Python code runs: no close() can come in
 * between, so this needs no enter(). Returns 1 with *res set (the line, or
 * NULL on an error), or 0 when the line is not there yet. Flattened: the
 * core's calls inline into it (saving a call of seven registers a line). */
__attribute__((flatten)) static int take_buffered(uspy_buffered *b, size_t max,
                                                  PyObject **res) {
  const char *line;
  size_t len;
  if (!us_bufstream_takeline(&b->bs, &line, &len, max))
    return 0;
  *res = PyBytes_FromStringAndSize(line, (Py_ssize_t)len);
  us_bufstream_takeline_done(&b->bs);
  return 1;
}

static PyObject *buf_readline(PyObject *self, PyObject *const *args,
                              Py_ssize_t n) {
  uspy_buffered *b = BUF(self);
  size_t max = SIZE_MAX;
  PyObject *res;
  if ((n && limit_arg(args, n, "readline", &max) < 0) || check(b, 1) < 0)
    return NULL;
  if (take_buffered(b, max, &res))
    return res;
  uspy_bytes_sink s;
  uspy_bytes_sink_init(&s);
  PyObject *sock = enter(b);
  ssize_t r = max ? us_bufstream_readline(&b->bs, &s.sink, max) : 0;
  leave(b, sock);
  return uspy_bytes_sink_finish(&s, r, 1);
}

static PyObject *buf_iternext(PyObject *self) {
  PyObject *line = buf_readline(self, NULL, 0);
  if (line && PyBytes_Check(line) && PyBytes_GET_SIZE(line) == 0) {
    Py_DECREF(line);
    return NULL; /* EOF ends the iteration */
  }
  return line;
}

static PyObject *buf_read(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  uspy_buffered *b = BUF(self);
  size_t max;
  if (limit_arg(args, n, "read", &max) < 0 || check(b, 1) < 0)
    return NULL;
  uspy_bytes_sink s;
  uspy_bytes_sink_init(&s);
  PyObject *sock = enter(b);
  ssize_t r = max ? us_bufstream_read(&b->bs, &s.sink, max) : 0;
  leave(b, sock);
  return uspy_bytes_sink_finish(&s, r, 1);
}

static PyObject *buf_readinto(PyObject *self, PyObject *const *args,
                              Py_ssize_t n) {
  uspy_buffered *b = BUF(self);
  uspy_wbuf w;
  size_t max;
  if (uspy_nargs("readinto", n, 1, 2) < 0 || check(b, 1) < 0 ||
      uspy_wbuf_get(args[0], &w) < 0)
    return NULL;
  if (uspy_nbytes_arg(n > 1 ? args[1] : Py_None, (size_t)w.view.len, &max) <
      0) {
    uspy_wbuf_release(&w);
    return NULL;
  }
  us_sink_t sink;
  us_sink_fixed(&sink, w.view.buf, max);
  PyObject *sock = enter(b);
  ssize_t r = max ? us_bufstream_read(&b->bs, &sink, max) : 0;
  leave(b, sock);
  uspy_wbuf_release(&w);
  if (r == -EAGAIN && !PyErr_Occurred())
    Py_RETURN_NONE;
  return r < 0 || PyErr_Occurred() ? uspy_raise((int)r) : PyLong_FromSsize_t(r);
}

static PyObject *buf_write(PyObject *self, PyObject *const *args,
                           Py_ssize_t n) {
  uspy_buffered *b = BUF(self);
  uspy_rbuf v;
  if (uspy_nargs("write", n, 1, 3) < 0 || check(b, 0) < 0 ||
      uspy_rbuf_get(args[0], &v) < 0)
    return NULL;
  if (uspy_rbuf_span(&v, args + 1, n - 1) < 0) {
    uspy_rbuf_release(&v);
    return NULL;
  }
  PyObject *sock = enter(b);
  ssize_t r = us_bufstream_write(&b->bs, v.buf, v.len);
  leave(b, sock);
  uspy_rbuf_release(&v);
  return r < 0 || PyErr_Occurred() ? uspy_raise((int)r) : PyLong_FromSsize_t(r);
}

static PyObject *buf_flush(PyObject *self, PyObject *unused) {
  (void)unused;
  uspy_buffered *b = BUF(self);
  if (!b->sock || !b->writable)
    Py_RETURN_NONE;
  PyObject *sock = enter(b);
  int r = us_bufstream_flush(&b->bs);
  leave(b, sock);
  if (r < 0)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

static PyObject *buf_close(PyObject *self, PyObject *unused) {
  (void)unused;
  uspy_buffered *b = BUF(self);
  if (!b->sock)
    Py_RETURN_NONE;
  /* Flushed first; whatever that says, the socket is closed after it,
   * which wakes the calls blocked on it in other threads. */
  PyObject *sock = enter(b);
  int r = us_bufstream_close(&b->bs);
  Py_CLEAR(b->sock); /* another close may have come first meanwhile */
  leave(b, sock);
  if (r < 0 && r != -ECONNRESET && r != -EINTR)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

static PyObject *buf_fileno(PyObject *self, PyObject *unused) {
  (void)unused;
  uspy_buffered *b = BUF(self);
  if (!b->sock) {
    PyErr_SetString(PyExc_ValueError, "I/O operation on closed stream");
    return NULL;
  }
  return PyLong_FromLong(b->bs.sock->fd);
}

static PyObject *buf_enter(PyObject *self, PyObject *unused) {
  (void)unused;
  return Py_NewRef(self);
}

static PyObject *buf_exit(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  (void)args;
  (void)n;
  return buf_close(self, NULL);
}

static PyObject *buf_readable(PyObject *self, PyObject *unused) {
  (void)unused;
  return PyBool_FromLong(BUF(self)->readable);
}

static PyObject *buf_writable(PyObject *self, PyObject *unused) {
  (void)unused;
  return PyBool_FromLong(BUF(self)->writable);
}

static PyObject *buf_get_closed(PyObject *self, void *c) {
  (void)c;
  return PyBool_FromLong(BUF(self)->sock == NULL);
}

static void buf_dealloc(PyObject *self) {
  uspy_buffered *b = BUF(self);
  PyTypeObject *tp = Py_TYPE(self);
  if (b->sock) {
    /* As CPython's buffered files do: what was written goes out. */
    if (b->writable && b->bs.wlen && us_bufstream_flush(&b->bs) < 0)
      PyErr_Clear();
    us_bufstream_free(&b->bs);
    Py_CLEAR(b->sock);
  }
  tp->tp_free(self);
  Py_DECREF(tp);
}

#define FAST(name, fn, doc)                                                    \
  { name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, doc }

static PyMethodDef buf_methods[] = {
    FAST("readline", buf_readline,
         "readline($self, size=-1, /)\n--\n\nOne line, with its newline "
         "(at most size bytes; -1 or None: no limit)."),
    FAST("read", buf_read,
         "read($self, size=-1, /)\n--\n\nsize bytes, or all until EOF "
         "when size is -1 or None."),
    FAST("readinto", buf_readinto,
         "readinto($self, buf, nbytes=None, /)\n--\n\nFill a writable "
         "buffer, or its first nbytes; return the count."),
    FAST("write", buf_write,
         "write($self, buf, /, *off_max_len)\n--\n\nwrite(buf), "
         "write(buf, max_len) or write(buf, off, max_len), as the socket's "
         "write: buffer the bytes for the socket; return the count."),
    {"flush", buf_flush, METH_NOARGS,
     "flush($self, /)\n--\n\nWrite out what is buffered."},
    {"close", buf_close, METH_NOARGS,
     "close($self, /)\n--\n\nFlush, then close the socket."},
    {"fileno", buf_fileno, METH_NOARGS,
     "fileno($self, /)\n--\n\nThe socket's descriptor."},
    {"readable", buf_readable, METH_NOARGS,
     "readable($self, /)\n--\n\nWhether the mode has 'r'."},
    {"writable", buf_writable, METH_NOARGS,
     "writable($self, /)\n--\n\nWhether the mode has 'w'."},
    {"__enter__", buf_enter, METH_NOARGS,
     "__enter__($self, /)\n--\n\nReturn the stream."},
    FAST("__exit__", buf_exit,
         "__exit__($self, /, *exc_info)\n--\n\nClose the stream."),
    {NULL, NULL, 0, NULL}};

static PyGetSetDef buf_getset[] = {
    {"closed", buf_get_closed, NULL, "Whether the stream is closed.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot buf_slots[] = {
    {Py_tp_doc, "A C buffered reader and writer over a socket, as "
                "makefile(mode, buffering > 0) returns.\nIt reads ahead: "
                "bytes it holds are seen only through it."},
    {Py_tp_dealloc, buf_dealloc},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, buf_iternext},
    {Py_tp_methods, buf_methods},
    {Py_tp_getset, buf_getset},
    {0, NULL}};

PyType_Spec uspy_buffered_spec = {
    .name = "usocket.BufferedStream",
    .basicsize = sizeof(uspy_buffered),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = buf_slots,
};
