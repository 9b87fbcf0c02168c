/* usocket_socket.c: the socket type: lifetime, connection set-up,
 * timeouts, options, makefile; its data methods are in usocket_io.c. */
#include "uspy.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "usocket_methods.h"
#include <structmember.h>

#define SOCK(self) (&((uspy_socket *)(self))->sock)

#ifdef US_TLS_ENGINE
#include "ussl.h"
static const int usocket_has_tls = 1;
#else
#define USPY_IPPROTO_SEC 282
static const int usocket_has_tls = 0;
#endif

static PyObject *done(int r) {
  if (r < 0)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

PyObject *uspy_socket_wrap(uspy_state *st, const us_socket_t *sock) {
  uspy_socket *s = PyObject_New(uspy_socket, st->socket_type);
  if (!s)
    return NULL;
  s->sock = *sock;
  s->weakreflist = NULL;
  return (PyObject *)s;
}

static PyObject *socket_new(PyTypeObject *type, PyObject *args,
                            PyObject *kwds) {
  int family = AF_INET, stype = SOCK_STREAM, proto = 0;
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  if ((kwds && PyDict_GET_SIZE(kwds)) || uspy_nargs("socket", n, 0, 3) < 0) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError,
                      "socket() takes positional arguments only");
    return NULL;
  }
  if ((n > 0 && uspy_int_arg(PyTuple_GET_ITEM(args, 0), "af", &family) < 0) ||
      (n > 1 && uspy_int_arg(PyTuple_GET_ITEM(args, 1), "type", &stype) < 0) ||
      (n > 2 && uspy_int_arg(PyTuple_GET_ITEM(args, 2), "proto", &proto) < 0))
    return NULL;
  /* The WiPy's IPPROTO_SEC: a TCP socket, marked as one to wrap. */
  int sec = proto == USPY_IPPROTO_SEC && usocket_has_tls;
  if (sec &&
      (stype != SOCK_STREAM || (family != AF_INET && family != AF_INET6)))
    return uspy_raise(-EPROTONOSUPPORT);
  uspy_socket *s = (uspy_socket *)type->tp_alloc(type, 0);
  if (!s)
    return NULL;
  int r = us_socket_open(&s->sock, family, stype, sec ? 0 : proto);
  if (r < 0) {
    Py_DECREF(s);
    return uspy_raise(r);
  }
  if (sec)
    s->sock.proto = USPY_IPPROTO_SEC;
  return (PyObject *)s;
}

static void socket_finalize(PyObject *self) {
  if (SOCK(self)->fd < 0)
    return;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (PyErr_ResourceWarning(self, 1, "unclosed %R", self) < 0)
    PyErr_WriteUnraisable(self);
  us_socket_close(SOCK(self));
  PyErr_Restore(type, value, tb);
}

static void socket_dealloc(PyObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  if (PyObject_CallFinalizerFromDealloc(self) < 0)
    return; /* resurrected */
  if (((uspy_socket *)self)->weakreflist)
    PyObject_ClearWeakRefs(self);
  us_socket_close(SOCK(self));
  tp->tp_free(self);
  Py_DECREF(tp);
}

static PyObject *socket_repr(PyObject *self) {
  const us_socket_t *s = SOCK(self);
  return PyUnicode_FromFormat(
      "<usocket.socket fd=%d, family=%d, type=%d, proto=%d>", s->fd, s->family,
      s->type, s->proto);
}

/* ---- lifetime ----------------------------------------------------------- */

static PyObject *sock_close(PyObject *self, PyObject *unused) {
  (void)unused;
  int r = us_socket_close(SOCK(self));
  /* The descriptor is gone whatever close says; only EBADF would matter
   * and a closed socket is not an error here (idempotent). */
  if (r < 0 && r != -ECONNRESET && r != -EINTR)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

static PyObject *sock_fileno(PyObject *self, PyObject *unused) {
  (void)unused;
  return PyLong_FromLong(SOCK(self)->fd);
}

static PyObject *sock_detach(PyObject *self, PyObject *unused) {
  (void)unused;
  return PyLong_FromLong(us_socket_detach(SOCK(self)));
}

static PyObject *sock_enter(PyObject *self, PyObject *unused) {
  (void)unused;
  return Py_NewRef(self);
}

static PyObject *sock_exit(PyObject *self, PyObject *const *args,
                           Py_ssize_t n) {
  (void)args;
  (void)n;
  return sock_close(self, NULL);
}

/* ---- connection set-up -------------------------------------------------- */

static int addr_arg(PyObject *self, PyObject *obj, us_addr_t *out) {
  return uspy_addr_from_obj(uspy_state_of(Py_TYPE(self)), SOCK(self)->family,
                            obj, out);
}

static PyObject *sock_bind(PyObject *self, PyObject *arg) {
  us_addr_t a;
  if (SOCK(self)->family == AF_UNIX)
    return uspy_unix_bind(self, arg, 0);
  if (addr_arg(self, arg, &a) < 0)
    return NULL;
  return done(us_bind(SOCK(self), &a));
}

static PyObject *sock_connect(PyObject *self, PyObject *arg) {
  us_addr_t a;
  if (SOCK(self)->family == AF_UNIX)
    return uspy_unix_bind(self, arg, 1);
  if (addr_arg(self, arg, &a) < 0)
    return NULL;
  return done(us_connect(SOCK(self), &a));
}

static PyObject *sock_listen(PyObject *self, PyObject *const *args,
                             Py_ssize_t n) {
  int backlog = SOMAXCONN < US_LISTEN_DEFAULT ? SOMAXCONN : US_LISTEN_DEFAULT;
  if (uspy_nargs("listen", n, 0, 1) < 0 ||
      (n == 1 && uspy_int_arg(args[0], "backlog", &backlog) < 0))
    return NULL;
  return done(us_listen(SOCK(self), backlog));
}

static PyObject *sock_accept(PyObject *self, PyObject *unused) {
  (void)unused;
  us_socket_t conn;
  us_addr_t peer;
  if (SOCK(self)->family == AF_UNIX)
    return uspy_unix_accept(self);
  int r = us_accept(SOCK(self), &conn, &peer);
  if (r < 0)
    return uspy_raise(r);
  uspy_state *st = uspy_state_of(Py_TYPE(self));
  PyObject *c = uspy_socket_wrap(st, &conn);
  if (!c) {
    us_socket_close(&conn);
    return NULL;
  }
  PyObject *a = uspy_sockaddr_new(st, &peer);
  if (!a) {
    Py_DECREF(c);
    return NULL;
  }
  return Py_BuildValue("(NN)", c, a);
}

static PyObject *sock_shutdown(PyObject *self, PyObject *arg) {
  int how;
  if (uspy_int_arg(arg, "how", &how) < 0)
    return NULL;
  return done(us_shutdown(SOCK(self), how));
}

static PyObject *name_of(PyObject *self, int peer) {
  us_addr_t a;
  if (SOCK(self)->family == AF_UNIX)
    return uspy_unix_name(self, peer);
  int r =
      peer ? us_getpeername(SOCK(self), &a) : us_getsockname(SOCK(self), &a);
  if (r < 0)
    return uspy_raise(r);
  return uspy_sockaddr_new(uspy_state_of(Py_TYPE(self)), &a);
}

static PyObject *sock_getsockname(PyObject *self, PyObject *unused) {
  (void)unused;
  return name_of(self, 0);
}

static PyObject *sock_getpeername(PyObject *self, PyObject *unused) {
  (void)unused;
  return name_of(self, 1);
}

/* ---- options and timeouts ----------------------------------------------- */

static PyObject *sock_setsockopt(PyObject *self, PyObject *const *args,
                                 Py_ssize_t n) {
  int level, name, ival;
  if (uspy_nargs("setsockopt", n, 3, 3) < 0 ||
      uspy_int_arg(args[0], "level", &level) < 0 ||
      uspy_int_arg(args[1], "option", &name) < 0)
    return NULL;
  if (PyLong_Check(args[2])) {
    if (uspy_int_arg(args[2], "value", &ival) < 0)
      return NULL;
    return done(us_setsockopt(SOCK(self), level, name, &ival, sizeof ival));
  }
  uspy_rbuf b;
  if (uspy_rbuf_get(args[2], &b) < 0) {
    if (!PyErr_ExceptionMatches(PyExc_TypeError))
      return NULL;
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError,
                 "value must be an int, str or bytes-like object, not %.100s",
                 Py_TYPE(args[2])->tp_name);
    return NULL;
  }
  int r = us_setsockopt(SOCK(self), level, name, b.buf, b.len);
  uspy_rbuf_release(&b);
  return done(r);
}

static PyObject *sock_getsockopt(PyObject *self, PyObject *const *args,
                                 Py_ssize_t n) {
  int level, name, buflen = 0;
  if (uspy_nargs("getsockopt", n, 2, 3) < 0 ||
      uspy_int_arg(args[0], "level", &level) < 0 ||
      uspy_int_arg(args[1], "option", &name) < 0 ||
      (n == 3 && uspy_int_arg(args[2], "buflen", &buflen) < 0))
    return NULL;
  if (n == 2) {
    int v = 0;
    size_t len = sizeof v;
    int r = us_getsockopt(SOCK(self), level, name, &v, &len);
    return r < 0 ? uspy_raise(r) : PyLong_FromLong(v);
  }
  if (buflen < 0 || buflen > 1024) {
    PyErr_SetString(PyExc_OverflowError, "getsockopt buflen out of range");
    return NULL;
  }
  char buf[1024];
  size_t len = (size_t)buflen;
  int r = us_getsockopt(SOCK(self), level, name, buf, &len);
  return r < 0 ? uspy_raise(r)
               : PyBytes_FromStringAndSize(buf, (Py_ssize_t)len);
}

static PyObject *sock_settimeout(PyObject *self, PyObject *arg) {
  int64_t ns;
  if (uspy_timeout_arg(arg, 1e9, 0, &ns) < 0)
    return NULL;
  return done(us_settimeout(SOCK(self), ns));
}

static PyObject *sock_setblocking(PyObject *self, PyObject *arg) {
  int flag = PyObject_IsTrue(arg);
  if (flag < 0)
    return NULL;
  return done(us_settimeout(SOCK(self), flag ? US_TIMEOUT_BLOCK : 0));
}

static PyObject *timeout_of(const us_socket_t *s) {
  if (s->timeout_ns < 0)
    Py_RETURN_NONE;
  return PyFloat_FromDouble((double)s->timeout_ns / 1e9);
}

static PyObject *sock_gettimeout(PyObject *self, PyObject *unused) {
  (void)unused;
  return timeout_of(SOCK(self));
}

static PyObject *sock_getblocking(PyObject *self, PyObject *unused) {
  (void)unused;
  return PyBool_FromLong(SOCK(self)->timeout_ns != 0);
}

static PyObject *sock_makefile(PyObject *self, PyObject *const *args,
                               Py_ssize_t n) {
  const char *mode = "rb";
  Py_ssize_t buffering = 0;
  if (uspy_nargs("makefile", n, 0, 2) < 0)
    return NULL;
  if (n > 0 && !(mode = PyUnicode_AsUTF8(args[0])))
    return NULL;
  if (n > 1 && args[1] != Py_None &&
      (buffering = PyLong_AsSsize_t(args[1])) == -1 && PyErr_Occurred())
    return NULL;
  int r = 0, w = 0, bad = 0;
  for (const char *p = mode; *p; p++) {
    if (*p == 'r' && !r)
      r = 1;
    else if (*p == 'w' && !w)
      w = 1;
    else if (*p != 'b')
      bad = 1;
  }
  if (bad || (!r && !w)) {
    PyErr_Format(PyExc_ValueError,
                 "invalid mode %R (only binary modes 'rb', "
                 "'wb' and 'rwb')",
                 args[0]);
    return NULL;
  }
  if (SOCK(self)->fd < 0)
    return uspy_raise(-EBADF);
  if (buffering <= 0) /* the socket is its own unbuffered stream */
    return Py_NewRef(self);
  if (buffering > USPY_MAX_BUFFERING) {
    PyErr_SetString(PyExc_ValueError, "buffering must be at most 16 MiB");
    return NULL;
  }
  return uspy_buffered_new(uspy_state_of(Py_TYPE(self)), self, buffering, r, w);
}

static PyObject *get_family(PyObject *self, void *c) {
  (void)c;
  return PyLong_FromLong(SOCK(self)->family);
}

static PyObject *get_type(PyObject *self, void *c) {
  (void)c;
  return PyLong_FromLong(SOCK(self)->type);
}

static PyObject *get_proto(PyObject *self, void *c) {
  (void)c;
  return PyLong_FromLong(SOCK(self)->proto);
}

static PyObject *get_timeout(PyObject *self, void *c) {
  (void)c;
  return timeout_of(SOCK(self));
}

static PyGetSetDef socket_getset[] = {
    {"family", get_family, NULL, "The address family.", NULL},
    {"type", get_type, NULL, "The socket type.", NULL},
    {"proto", get_proto, NULL, "The protocol.", NULL},
    {"timeout", get_timeout, NULL, "The timeout in seconds, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

#define FAST(name, fn, doc)                                                    \
  { name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, doc }

static PyMethodDef socket_methods[] = {
    {"close", sock_close, METH_NOARGS,
     "close($self, /)\n--\n\nClose the socket; the peer sees EOF. "
     "Idempotent; any later operation raises OSError(EBADF)."},
    {"bind", sock_bind, METH_O,
     "bind($self, address, /)\n--\n\nBind to an address: a sockaddr or "
     "a tuple; already bound: the OS error."},
    FAST("listen", sock_listen,
         "listen($self, backlog=128, /)\n--\n\nListen for connections. "
         "The default backlog is min(SOMAXCONN, 128); a negative one is "
         "taken as 0."),
    {"accept", sock_accept, METH_NOARGS,
     "accept($self, /)\n--\n\nAccept a connection: (socket, sockaddr). "
     "The new socket has this one's timeout."},
    {"connect", sock_connect, METH_O,
     "connect($self, address, /)\n--\n\nConnect, within the timeout "
     "(TimeoutError); non-blocking: OSError(EINPROGRESS)."},
    FAST("send", uspy_sock_send,
         "send($self, data, flags=0, /)\n--\n\nSend once; return the "
         "count sent, possibly short."),
    FAST("sendall", uspy_sock_sendall,
         "sendall($self, data, flags=0, /)\n--\n\nSend everything or "
         "raise; the timeout bounds the whole call. The exception's "
         "characters_written says how much went."),
    FAST("recv", uspy_sock_recv,
         "recv($self, bufsize, flags=0, /)\n--\n\nReceive at most "
         "bufsize bytes; b'' at EOF. Non-blocking with nothing there: "
         "BlockingIOError."),
    FAST("recv_into", uspy_sock_recv_into,
         "recv_into($self, buf, nbytes=0, flags=0, /)\n--\n\nReceive "
         "once into a writable buffer (nbytes 0: all of it); return the "
         "count."),
    FAST("sendto", uspy_sock_sendto,
         "sendto($self, data, /, *flags_address)\n--\n\n"
         "sendto(data, address) or sendto(data, flags, address): send a "
         "datagram; return the count sent."),
    FAST("recvfrom", uspy_sock_recvfrom,
         "recvfrom($self, bufsize, flags=0, /)\n--\n\nReceive a datagram: "
         "(bytes, sockaddr)."),
    FAST("sendmsg", uspy_sock_sendmsg,
         "sendmsg($self, buffers, ancdata=(), flags=0, address=None, /)"
         "\n--\n\nSend the buffers gathered as one message, with "
         "ancillary data (level, type, data) items; return the count "
         "sent."),
    FAST("recvmsg", uspy_sock_recvmsg,
         "recvmsg($self, bufsize, ancbufsize=0, flags=0, /)\n--\n\n"
         "Receive one message: (data, ancdata, msg_flags, address)."),
    FAST("recvmsg_into", uspy_sock_recvmsg_into,
         "recvmsg_into($self, buffers, ancbufsize=0, flags=0, /)\n--\n\n"
         "Receive one message scattered into writable buffers: (nbytes, "
         "ancdata, msg_flags, address)."),
    FAST("read", uspy_sock_read,
         "read($self, size=-1, /)\n--\n\nRead size bytes (no short reads "
         "unless EOF), or all until EOF when size is -1 or None. "
         "Non-blocking: what is there, None if nothing."),
    FAST("readinto", uspy_sock_readinto,
         "readinto($self, buf, nbytes=None, /)\n--\n\nRead into a "
         "writable buffer, as read() (nbytes None: its length); return the "
         "count, None if non-blocking and nothing is there."),
    FAST("readline", uspy_sock_readline,
         "readline($self, size=-1, /)\n--\n\nRead one line, with its "
         "newline (at most size bytes); never reads past it. Non-blocking: "
         "None if nothing is there."),
    FAST("write", uspy_sock_write,
         "write($self, buf, /, *off_max_len)\n--\n\nwrite(buf), "
         "write(buf, max_len) or write(buf, off, max_len): write "
         "buf[off:off+max_len] (clamped, no copy; a str as UTF-8), all of "
         "it (non-blocking: what fits, None if nothing); return the count."),
    FAST("setsockopt", sock_setsockopt,
         "setsockopt($self, level, option, value, /)\n--\n\nSet an "
         "option; value is an int or bytes-like."),
    FAST("getsockopt", sock_getsockopt,
         "getsockopt($self, level, option, /, *buflen)\n--\n\n"
         "getsockopt(level, option): the option as an int; "
         "getsockopt(level, option, buflen): as at most buflen (0-1024) "
         "bytes."),
    {"settimeout", sock_settimeout, METH_O,
     "settimeout($self, value, /)\n--\n\nNone: blocking; 0: "
     "non-blocking; > 0: seconds before TimeoutError (ETIMEDOUT)."},
    {"gettimeout", sock_gettimeout, METH_NOARGS,
     "gettimeout($self, /)\n--\n\nThe timeout in seconds, or None."},
    {"setblocking", sock_setblocking, METH_O,
     "setblocking($self, flag, /)\n--\n\nsettimeout(None) if flag, else "
     "settimeout(0)."},
    {"getblocking", sock_getblocking, METH_NOARGS,
     "getblocking($self, /)\n--\n\nFalse only when non-blocking."},
    FAST("makefile", sock_makefile,
         "makefile($self, mode='rb', buffering=0, /)\n--\n\nA binary "
         "stream: the socket itself, or with buffering > 0 a "
         "BufferedStream over it."),
    {"fileno", sock_fileno, METH_NOARGS,
     "fileno($self, /)\n--\n\nThe descriptor (-1 once closed)."},
    {"detach", sock_detach, METH_NOARGS,
     "detach($self, /)\n--\n\nGive up the descriptor without closing "
     "it; return it."},
    {"shutdown", sock_shutdown, METH_O,
     "shutdown($self, how, /)\n--\n\nShut down reading (SHUT_RD), "
     "writing (SHUT_WR) or both (SHUT_RDWR)."},
    {"getsockname", sock_getsockname, METH_NOARGS,
     "getsockname($self, /)\n--\n\nThe local address, a sockaddr."},
    {"getpeername", sock_getpeername, METH_NOARGS,
     "getpeername($self, /)\n--\n\nThe peer's address, a sockaddr."},
    {"__enter__", sock_enter, METH_NOARGS,
     "__enter__($self, /)\n--\n\nReturn the socket."},
    FAST("__exit__", sock_exit,
         "__exit__($self, /, *exc_info)\n--\n\nClose the socket."),
    {NULL, NULL, 0, NULL}};

static PyMemberDef socket_members[] = {{"__weaklistoffset__", T_PYSSIZET,
                                        offsetof(uspy_socket, weakreflist),
                                        READONLY, NULL},
                                       {NULL, 0, 0, 0, NULL}};

static PyType_Slot socket_slots[] = {
    {Py_tp_doc, "socket(af=AF_INET, type=SOCK_STREAM, proto=0, /)\n--\n\n"
                "A socket that is also a stream (read, readinto, readline, "
                "write).\nproto 0 picks TCP for SOCK_STREAM, UDP for "
                "SOCK_DGRAM."},
    {Py_tp_new, socket_new},
    {Py_tp_finalize, socket_finalize},
    {Py_tp_dealloc, socket_dealloc},
    {Py_tp_repr, socket_repr},
    {Py_tp_methods, socket_methods},
    {Py_tp_getset, socket_getset},
    {Py_tp_members, socket_members},
    {0, NULL}};

PyType_Spec uspy_socket_spec = {
    .name = "usocket.socket",
    .basicsize = sizeof(uspy_socket),
    .flags =
        Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = socket_slots,
};
