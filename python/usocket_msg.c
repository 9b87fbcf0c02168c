/* usocket_msg.c: sendmsg, recvmsg and recvmsg_into, with ancillary data
 * (SCM_RIGHTS), and the module's CMSG_LEN and CMSG_SPACE. */
#include "uspy.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "usocket_methods.h"

#define SOCK(self) (&((uspy_socket *)(self))->sock)

/* The buffers of one call, held until it ends. */
typedef struct {
  Py_ssize_t n;
  us_iov_t *iov;
  Py_buffer *views;
} bufs_t;

static void bufs_release(bufs_t *b) {
  for (Py_ssize_t i = 0; i < b->n; i++)
    PyBuffer_Release(&b->views[i]);
  PyMem_Free(b->views);
  PyMem_Free(b->iov);
}

/* Holds each buffer of an iterable (writable ones if `into`). */
static int bufs_get(PyObject *obj, int into, const char *name, bufs_t *b) {
  b->n = 0;
  b->iov = NULL;
  b->views = NULL;
  PyObject *seq = PySequence_Fast(obj, name);
  if (!seq)
    return -1;
  Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
  if (count > US_IOV_MAX) {
    Py_DECREF(seq);
    uspy_raise(-EMSGSIZE);
    return -1;
  }
  b->iov = PyMem_Calloc((size_t)count + 1, sizeof *b->iov);
  b->views = PyMem_Calloc((size_t)count + 1, sizeof *b->views);
  if (!b->iov || !b->views) {
    Py_DECREF(seq);
    bufs_release(b);
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < count; i++) {
    PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
    if (PyObject_GetBuffer(item, &b->views[i],
                           into ? PyBUF_WRITABLE : PyBUF_SIMPLE) < 0) {
      if (PyErr_ExceptionMatches(PyExc_TypeError) ||
          PyErr_ExceptionMatches(PyExc_BufferError)) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     into ? "%s: a writable bytes-like object is required, "
                            "not %.100s"
                          : "%s: a bytes-like object is required, not %.100s",
                     name, Py_TYPE(item)->tp_name);
      }
      Py_DECREF(seq);
      bufs_release(b);
      return -1;
    }
    b->n = i + 1;
    b->iov[i].base = b->views[i].buf;
    b->iov[i].len = (size_t)b->views[i].len;
  }
  Py_DECREF(seq);
  return 0;
}

/* The ancillary data of sendmsg, an iterable of (level, type, data), in
 * the platform's layout: *control (PyMem, NULL for none) of *len bytes. */
static int ancdata_get(PyObject *obj, void **control, size_t *len) {
  *control = NULL;
  *len = 0;
  PyObject *seq = PySequence_Fast(obj, "ancillary data must be iterable");
  if (!seq)
    return -1;
  Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
  int level = 0, type = 0, ok = 0;
  size_t cap = 0, pos = 0;
  /* Twice: first the room it takes, then the items. */
  for (int pass = 0; pass < 2; pass++) {
    for (Py_ssize_t i = 0; i < count; i++) {
      PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
      Py_buffer view;
      if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
        PyErr_Format(PyExc_TypeError,
                     "ancillary data items must be (level, type, data) "
                     "tuples, not %.100s",
                     Py_TYPE(item)->tp_name);
        goto out;
      }
      if (uspy_int_arg(PyTuple_GET_ITEM(item, 0), "level", &level) < 0 ||
          uspy_int_arg(PyTuple_GET_ITEM(item, 1), "type", &type) < 0 ||
          PyObject_GetBuffer(PyTuple_GET_ITEM(item, 2), &view, PyBUF_SIMPLE) <
              0)
        goto out;
      size_t space = us_cmsg_space((size_t)view.len);
      int r = 0;
      if (space == 0 || (pass == 0 && space > SIZE_MAX - cap))
        r = -EINVAL;
      else if (pass == 0)
        cap += space;
      else
        r = us_cmsg_put(*control, cap, &pos, level, type, view.buf,
                        (size_t)view.len);
      PyBuffer_Release(&view);
      if (r < 0) {
        if (r == -EINVAL)
          PyErr_SetString(PyExc_OSError, "ancillary data item too large");
        else
          uspy_raise(r);
        goto out;
      }
    }
    if (pass == 0 && cap && !(*control = PyMem_Calloc(1, cap))) {
      PyErr_NoMemory();
      goto out;
    }
  }
  *len = pos;
  ok = 1;
out:
  Py_DECREF(seq);
  if (!ok) {
    PyMem_Free(*control);
    *control = NULL;
  }
  return ok ? 0 : -1;
}

/* sendmsg's destination, converted as sendto converts its own. */
static int dest_get(PyObject *self, PyObject *obj, us_rawaddr_t *to) {
  us_socket_t *s = SOCK(self);
  if (s->family == AF_UNIX)
    return uspy_unix_addr_from_obj(obj, to);
  us_addr_t a;
  if (uspy_addr_from_obj(uspy_state_of(Py_TYPE(self)), s->family, obj, &a) < 0)
    return -1;
  int len = us_addr_to_raw(&a, to->u.data, sizeof to->u.data);
  if (len < 0) {
    uspy_raise(len);
    return -1;
  }
  to->len = (size_t)len;
  return 0;
}

PyObject *uspy_sock_sendmsg(PyObject *self, PyObject *const *args,
                            Py_ssize_t n) {
  bufs_t b;
  us_rawaddr_t to;
  us_msg_t m = {NULL, 0, NULL, 0, NULL, 0};
  int flags = 0;
  if (uspy_nargs("sendmsg", n, 1, 4) < 0 ||
      (n > 2 && uspy_int_arg(args[2], "flags", &flags) < 0))
    return NULL;
  if (n > 3 && args[3] != Py_None) {
    if (dest_get(self, args[3], &to) < 0)
      return NULL;
    m.addr = &to;
  }
  if (bufs_get(args[0], 0, "sendmsg() argument 1 must be an iterable", &b) < 0)
    return NULL;
  if (n > 1 && ancdata_get(args[1], &m.control, &m.controllen) < 0) {
    bufs_release(&b);
    return NULL;
  }
  m.iov = b.iov;
  m.iovlen = (int)b.n;
  ssize_t r = us_sendmsg(SOCK(self), &m, flags);
  PyMem_Free(m.control);
  bufs_release(&b);
  if (r < 0 || PyErr_Occurred())
    return uspy_raise((int)r);
  return PyLong_FromSsize_t(r);
}

/* A size argument of recvmsg: an int >= 0. */
static int size_get(PyObject *o, const char *what, size_t *out) {
  if (!PyLong_Check(o)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what,
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  Py_ssize_t v = PyLong_AsSsize_t(o);
  if (v == -1 && PyErr_Occurred())
    return -1;
  if (v < 0) {
    PyErr_Format(PyExc_ValueError, "negative %s in recvmsg()", what);
    return -1;
  }
  *out = (size_t)v;
  return 0;
}

/* The sender of a message received, as recvfrom gives it; None for none. */
static PyObject *sender_new(PyObject *self, const us_rawaddr_t *from) {
  if (from->len == 0)
    Py_RETURN_NONE;
  if (us_rawaddr_family(from) == AF_UNIX)
    return uspy_unix_addr_new(from);
  us_addr_t a;
  if (us_addr_from_raw(&a, from->u.data, from->len, NULL) < 0 || !a.family)
    Py_RETURN_NONE;
  return uspy_sockaddr_new(uspy_state_of(Py_TYPE(self)), &a);
}

/* The rest of recvmsg's result after its first item (the data or the
 * count, taken over): (first, ancdata, msg_flags, address). On failure
 * the descriptors received are closed: nobody else could. */
static PyObject *result_new(PyObject *self, PyObject *first,
                            const us_msg_t *m) {
  PyObject *list = first ? PyList_New(0) : NULL, *addr = NULL;
  size_t pos = 0;
  us_cmsg_t c;
  while (list && us_cmsg_next(m->control, m->controllen, &pos, &c) == 1) {
    PyObject *item = Py_BuildValue("(iiy#)", c.level, c.type,
                                   (const char *)c.data, (Py_ssize_t)c.len);
    if (!item || PyList_Append(list, item) < 0)
      Py_CLEAR(list);
    Py_XDECREF(item);
  }
  if (list)
    addr = sender_new(self, m->addr);
  if (!addr) {
    us_cmsg_close_fds(m->control, m->controllen);
    Py_XDECREF(first);
    Py_XDECREF(list);
    return NULL;
  }
  return Py_BuildValue("(NNiN)", first, list, m->flags, addr);
}

/* The ancillary room asked for, allocated: zeroed, aligned by PyMem. */
static int anc_room(PyObject *const *args, Py_ssize_t n, Py_ssize_t at,
                    us_msg_t *m) {
  size_t room = 0;
  if (n > at && size_get(args[at], "ancbufsize", &room) < 0)
    return -1;
  if (room && !(m->control = PyMem_Calloc(1, room))) {
    PyErr_NoMemory();
    return -1;
  }
  m->controllen = room;
  return 0;
}

/* The end of both receives: r the count, first its result object. */
static PyObject *received(PyObject *self, ssize_t r, PyObject *first,
                          us_msg_t *m) {
  PyObject *res;
  if (r < 0 || PyErr_Occurred()) {
    if (r >= 0)
      us_cmsg_close_fds(m->control, m->controllen);
    Py_XDECREF(first);
    res = uspy_raise((int)r);
  } else {
    res = result_new(self, first, m);
  }
  PyMem_Free(m->control);
  return res;
}

PyObject *uspy_sock_recvmsg(PyObject *self, PyObject *const *args,
                            Py_ssize_t n) {
  size_t size;
  int flags = 0;
  us_rawaddr_t from;
  us_msg_t m = {NULL, 1, NULL, 0, &from, 0};
  if (uspy_nargs("recvmsg", n, 1, 3) < 0 ||
      size_get(args[0], "buffer size", &size) < 0 ||
      (n > 2 && uspy_int_arg(args[2], "flags", &flags) < 0) ||
      anc_room(args, n, 1, &m) < 0)
    return NULL;
  PyObject *data = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
  if (!data) {
    PyMem_Free(m.control);
    return NULL;
  }
  us_iov_t iov = {PyBytes_AS_STRING(data), size};
  m.iov = &iov;
  ssize_t r = us_recvmsg(SOCK(self), &m, flags);
  if (r >= 0 && (size_t)r != size && _PyBytes_Resize(&data, r) < 0) {
    data = NULL; /* freed by _PyBytes_Resize */
    us_cmsg_close_fds(m.control, m.controllen);
    PyMem_Free(m.control);
    return NULL;
  }
  if (r < 0)
    Py_CLEAR(data);
  return received(self, r, data, &m);
}

PyObject *uspy_sock_recvmsg_into(PyObject *self, PyObject *const *args,
                                 Py_ssize_t n) {
  bufs_t b;
  int flags = 0;
  us_rawaddr_t from;
  us_msg_t m = {NULL, 0, NULL, 0, &from, 0};
  if (uspy_nargs("recvmsg_into", n, 1, 3) < 0 ||
      (n > 2 && uspy_int_arg(args[2], "flags", &flags) < 0) ||
      anc_room(args, n, 1, &m) < 0)
    return NULL;
  if (bufs_get(args[0], 1, "recvmsg_into() argument 1 must be an iterable",
               &b) < 0) {
    PyMem_Free(m.control);
    return NULL;
  }
  m.iov = b.iov;
  m.iovlen = (int)b.n;
  ssize_t r = us_recvmsg(SOCK(self), &m, flags);
  bufs_release(&b);
  return received(self, r, r >= 0 ? PyLong_FromSsize_t(r) : NULL, &m);
}

static PyObject *cmsg_size(PyObject *arg, size_t (*fn)(size_t),
                           const char *name) {
  if (!PyLong_Check(arg))
    return PyErr_Format(PyExc_TypeError, "%s() argument must be an int", name);
  Py_ssize_t len = PyLong_AsSsize_t(arg);
  if (len == -1 && PyErr_Occurred())
    return NULL;
  size_t r = len >= 0 ? fn((size_t)len) : 0;
  if (r == 0)
    return PyErr_Format(PyExc_OverflowError, "%s() argument out of range",
                        name);
  return PyLong_FromSize_t(r);
}

PyObject *uspy_mod_cmsg_len(PyObject *module, PyObject *arg) {
  (void)module;
  return cmsg_size(arg, us_cmsg_len, "CMSG_LEN");
}

PyObject *uspy_mod_cmsg_space(PyObject *module, PyObject *arg) {
  (void)module;
  return cmsg_size(arg, us_cmsg_space, "CMSG_SPACE");
}
