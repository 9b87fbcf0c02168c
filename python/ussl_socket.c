/* ussl_socket.c: ussl's SSLSocket, a TLS stream (the core's us_tls_t)
 * over a usocket socket: MicroPython's stream methods, as the socket's. */
#include "ussl.h"

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "usocket_methods.h"
#include <structmember.h>

#define SS(self) ((ussl_socket *)(self))
/* The longest close() waits to send close_notify. */
#define CLOSE_NOTIFY_NS ((int64_t)1000000000)
#define CTXOF(t) ((ussl_context *)(t)->ctx)

/* ---- set-up ------------------------------------------------------------- */

/* The TLS stream over t's connected socket, for host (a str, or NULL). */
static int make_tls(ussl_socket *t, PyObject *host) {
  const char *name = NULL;
  if (host && !t->server_side && !(name = PyUnicode_AsUTF8(host)))
    return -1;
  int r = us_tls_new(&t->tls, CTXOF(t)->ctx, t->s, name);
  if (r < 0) {
    ussl_raise(CTXOF(t), r);
    return -1;
  }
  if (host && !t->host)
    t->host = Py_NewRef(host);
  return 0;
}

PyObject *ussl_socket_new(uspy_state *st, PyObject *ctx, PyObject *sock,
                          int server_side, int handshake, PyObject *host) {
  if (!PyObject_TypeCheck(sock, st->socket_type)) {
    PyErr_Format(PyExc_TypeError,
                 "wrap_socket() needs a usocket socket, not %.100s",
                 Py_TYPE(sock)->tp_name);
    return NULL;
  }
  us_socket_t *s = &((uspy_socket *)sock)->sock;
  if (s->fd < 0)
    return uspy_raise(-EBADF);
  if (s->type != SOCK_STREAM) {
    PyErr_SetString(PyExc_ValueError, "TLS needs a SOCK_STREAM socket");
    return NULL;
  }
  ussl_socket *t = PyObject_New(ussl_socket, st->tls_socket_type);
  if (!t)
    return NULL;
  t->sock = Py_NewRef(sock);
  t->s = s;
  t->tls = NULL;
  t->ctx = Py_NewRef(ctx);
  t->host = Py_XNewRef(host);
  t->server_side = server_side;
  t->handshake_on_connect = handshake;
  t->closed = 0;
  t->weakreflist = NULL;
  /* Connected already (an accepted socket, a client's after connect):
   * the stream starts now; else at connect(). */
  us_addr_t peer;
  if (us_getpeername(s, &peer) == 0) {
    int r = make_tls(t, host) < 0 ? -1 : 0;
    if (r == 0 && handshake) {
      r = us_tls_handshake(t->tls);
      if (r < 0 && r != -EAGAIN) {
        ussl_raise(CTXOF(t), r);
        r = -1;
      } else {
        r = 0;
      }
    }
    if (r < 0) {
      Py_DECREF(t);
      return NULL;
    }
  }
  return (PyObject *)t;
}

static void ss_dealloc(PyObject *self) {
  ussl_socket *t = SS(self);
  PyTypeObject *tp = Py_TYPE(self);
  if (t->weakreflist)
    PyObject_ClearWeakRefs(self);
  us_tls_free(t->tls);
  Py_XDECREF(t->sock);
  Py_XDECREF(t->ctx);
  Py_XDECREF(t->host);
  tp->tp_free(self);
  Py_DECREF(tp);
}

/* The stream, or NULL with an exception: closed, or not connected. */
static us_tls_t *stream(ussl_socket *t) {
  if (t->closed || t->s->fd < 0) {
    uspy_raise(-EBADF);
    return NULL;
  }
  if (!t->tls)
    uspy_raise(-ENOTCONN);
  return t->tls;
}

static PyObject *fail(ussl_socket *t, ssize_t r) {
  return ussl_raise(CTXOF(t), (int)r);
}

/* A count, None for -EAGAIN when none_on_eagain, else the error. */
static PyObject *count(ussl_socket *t, ssize_t r, int none_on_eagain) {
  if (PyErr_Occurred())
    return NULL;
  if (r >= 0)
    return PyLong_FromSsize_t(r);
  if (none_on_eagain && r == -EAGAIN)
    Py_RETURN_NONE;
  return fail(t, r);
}

/* Ends a read into a bytes sink, with ussl's errors. */
static PyObject *bytes_result(ussl_socket *t, uspy_bytes_sink *s, ssize_t r,
                              int none_on_eagain) {
  if (r < 0 && r != -EAGAIN && !PyErr_Occurred()) {
    Py_XDECREF(uspy_bytes_sink_finish(s, 0, 0));
    return fail(t, r);
  }
  return uspy_bytes_sink_finish(s, r, none_on_eagain);
}

static int limit_arg(PyObject *const *args, Py_ssize_t n, const char *name,
                     size_t *max) {
  *max = SIZE_MAX;
  if (uspy_nargs(name, n, 0, 1) < 0)
    return -1;
  if (n == 0 || args[0] == Py_None)
    return 0;
  if (!PyLong_Check(args[0])) {
    PyErr_Format(PyExc_TypeError, "size must be an int, not %.100s",
                 Py_TYPE(args[0])->tp_name);
    return -1;
  }
  Py_ssize_t v = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
  if (v == -1 && PyErr_Occurred())
    return -1;
  if (v >= 0)
    *max = (size_t)v;
  return 0;
}

/* ---- connection --------------------------------------------------------- */

/* The name a client verifies when none was given: the one the address
 * was resolved from (getaddrinfo's), or a tuple's host. */
static PyObject *name_of_addr(uspy_state *st, PyObject *addr) {
  if (PyTuple_Check(addr) && PyTuple_GET_SIZE(addr) >= 2 &&
      PyUnicode_Check(PyTuple_GET_ITEM(addr, 0)))
    return PyTuple_GET_ITEM(addr, 0);
  return uspy_sockaddr_name(st, addr);
}

static PyObject *ss_connect(PyObject *self, PyObject *arg) {
  ussl_socket *t = SS(self);
  us_addr_t a;
  if (t->closed || t->s->fd < 0)
    return uspy_raise(-EBADF);
  if (t->tls || t->server_side)
    return uspy_raise(-EISCONN);
  uspy_state *st = uspy_state_of(Py_TYPE(self));
  if (uspy_addr_from_obj(st, t->s->family, arg, &a) < 0)
    return NULL;
  if (make_tls(t, t->host ? t->host : name_of_addr(st, arg)) < 0)
    return NULL;
  int r = t->handshake_on_connect ? us_tls_connect(t->tls, &a)
                                  : us_connect(t->s, &a);
  if (r < 0)
    return fail(t, r);
  Py_RETURN_NONE;
}

static PyObject *ss_do_handshake(PyObject *self, PyObject *unused) {
  (void)unused;
  ussl_socket *t = SS(self);
  us_tls_t *tls = stream(t);
  if (!tls)
    return NULL;
  int r = us_tls_handshake(tls);
  if (r < 0)
    return fail(t, r);
  Py_RETURN_NONE;
}

/* ---- stream methods ----------------------------------------------------- */

static PyObject *read_bytes(PyObject *self, PyObject *const *args, Py_ssize_t n,
                            const char *name,
                            ssize_t (*fn)(us_tls_t *, us_sink_t *, size_t)) {
  ussl_socket *t = SS(self);
  size_t max;
  us_tls_t *tls;
  if (limit_arg(args, n, name, &max) < 0 || !(tls = stream(t)))
    return NULL;
  uspy_bytes_sink s;
  uspy_bytes_sink_init(&s);
  ssize_t r = max ? fn(tls, &s.sink, max) : 0;
  return bytes_result(t, &s, r, 1);
}

static PyObject *ss_read(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  return read_bytes(self, args, n, "read", us_tls_read);
}

/* A line already decrypted whole in the stream's buffer becomes its bytes
 * object at once: no sink to grow and shrink, no call set-up, the GIL
 * kept. The reading side's lock keeps out another thread's read; the
 * buffer lives as long as the object, so a close() running meanwhile
 * only makes the next call fail. A close, or an error held back, seen
 * before is left to the call to report. Flattened: the core's part is
 * inlined, saving two calls a line. Returns 1 with *res set (the line,
 * or NULL on an error), 0 when no whole line is there yet. */
__attribute__((flatten)) static int take_buffered(ussl_socket *t,
                                                  PyObject **res) {
  const char *line;
  size_t len;
  us_bufstream_t *b = us_tls_bufstream(t->tls);
  if (!us_bufstream_takeline(b, &line, &len, SIZE_MAX))
    return 0;
  *res = PyBytes_FromStringAndSize(line, (Py_ssize_t)len);
  us_bufstream_takeline_done(b);
  return 1;
}

static PyObject *ss_readline(PyObject *self, PyObject *const *args,
                             Py_ssize_t n) {
  ussl_socket *t = SS(self);
  PyObject *res;
  if (n == 0 && !t->closed && t->tls && t->s->fd >= 0 && !t->s->pending_err &&
      take_buffered(t, &res))
    return res;
  return read_bytes(self, args, n, "readline", us_tls_readline);
}

/* readinto(buf[, nbytes]) and recv_into(buf[, nbytes]). */
static PyObject *into(PyObject *self, PyObject *const *args, Py_ssize_t n,
                      const char *name, int whole) {
  ussl_socket *t = SS(self);
  uspy_wbuf w;
  size_t max;
  us_tls_t *tls;
  if (uspy_nargs(name, n, 1, 2) < 0 || !(tls = stream(t)) ||
      uspy_wbuf_get(args[0], &w) < 0)
    return NULL;
  if (uspy_nbytes_arg(n > 1 ? args[1] : Py_None, (size_t)w.view.len, &max) <
      0) {
    uspy_wbuf_release(&w);
    return NULL;
  }
  ssize_t r;
  if (whole) {
    us_sink_t sink;
    us_sink_fixed(&sink, w.view.buf, max);
    r = max ? us_tls_read(tls, &sink, max) : 0;
  } else {
    r = max ? us_tls_recv(tls, w.view.buf, max) : 0;
  }
  uspy_wbuf_release(&w);
  return count(t, r, whole);
}

static PyObject *ss_readinto(PyObject *self, PyObject *const *args,
                             Py_ssize_t n) {
  return into(self, args, n, "readinto", 1);
}

static PyObject *ss_recv_into(PyObject *self, PyObject *const *args,
                              Py_ssize_t n) {
  return into(self, args, n, "recv_into", 0);
}

static PyObject *ss_recv(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  ussl_socket *t = SS(self);
  Py_ssize_t size;
  us_tls_t *tls;
  if (uspy_nargs("recv", n, 1, 2) < 0 || !(tls = stream(t)))
    return NULL;
  size = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
  if (size == -1 && PyErr_Occurred())
    return NULL;
  if (size < 0) {
    PyErr_SetString(PyExc_ValueError, "negative buffersize in recv");
    return NULL;
  }
  PyObject *b = PyBytes_FromStringAndSize(NULL, size);
  if (!b)
    return NULL;
  ssize_t r = size ? us_tls_recv(tls, PyBytes_AS_STRING(b), (size_t)size) : 0;
  if (r < 0 || PyErr_Occurred()) {
    Py_DECREF(b);
    return count(t, r, 0);
  }
  if (r != size && _PyBytes_Resize(&b, r) < 0)
    return NULL;
  return b;
}

/* write(buf[, off], max_len), send(buf), sendall(buf). */
static PyObject *ss_write(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  ussl_socket *t = SS(self);
  uspy_rbuf b;
  us_tls_t *tls;
  if (uspy_nargs("write", n, 1, 3) < 0 || !(tls = stream(t)) ||
      uspy_rbuf_get(args[0], &b) < 0)
    return NULL;
  if (uspy_rbuf_span(&b, args + 1, n - 1) < 0) {
    uspy_rbuf_release(&b);
    return NULL;
  }
  ssize_t r = us_tls_write(tls, b.buf, b.len);
  uspy_rbuf_release(&b);
  return count(t, r, 1);
}

static PyObject *ss_send(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  ussl_socket *t = SS(self);
  uspy_rbuf b;
  us_tls_t *tls;
  if (uspy_nargs("send", n, 1, 1) < 0 || !(tls = stream(t)) ||
      uspy_rbuf_get(args[0], &b) < 0)
    return NULL;
  ssize_t r = us_tls_write(tls, b.buf, b.len);
  uspy_rbuf_release(&b);
  return count(t, r, 0);
}

static PyObject *ss_sendall(PyObject *self, PyObject *const *args,
                            Py_ssize_t n) {
  ussl_socket *t = SS(self);
  uspy_rbuf b;
  us_tls_t *tls;
  if (uspy_nargs("sendall", n, 1, 1) < 0 || !(tls = stream(t)) ||
      uspy_rbuf_get(args[0], &b) < 0)
    return NULL;
  size_t len = b.len;
  ssize_t r = us_tls_write(tls, b.buf, len);
  uspy_rbuf_release(&b);
  if (PyErr_Occurred())
    return NULL;
  if (r >= 0 && (size_t)r < len) /* the time ran out part way */
    return uspy_raise_written(t->s->timeout_ns == 0 ? -EAGAIN : -ETIMEDOUT,
                              (size_t)r);
  if (r < 0)
    return fail(t, r);
  Py_RETURN_NONE;
}

/* ---- what the session tells --------------------------------------------- */

static PyObject *ss_getpeercert(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"binary_form", NULL};
  int binary = 0;
  ussl_socket *t = SS(self);
  us_tls_t *tls;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:getpeercert", kwlist,
                                   &binary) ||
      !(tls = stream(t)))
    return NULL;
  ssize_t len = us_tls_peer_cert(tls, NULL, 0);
  if (len < 0)
    return fail(t, len);
  if (len == 0)
    Py_RETURN_NONE;
  PyObject *der = PyBytes_FromStringAndSize(NULL, len);
  if (!der)
    return NULL;
  ssize_t got = us_tls_peer_cert(tls, PyBytes_AS_STRING(der), (size_t)len);
  if (got != len) {
    Py_DECREF(der);
    return fail(t, got < 0 ? got : US_TLS_ERR_ENGINE);
  }
  if (binary)
    return der;
  /* The dict CPython gives, decoded by python/usocket/_cert.py. */
  PyObject *mod = PyImport_ImportModule("usocket._cert");
  PyObject *r = mod ? PyObject_CallMethod(mod, "decode", "O", der) : NULL;
  Py_XDECREF(mod);
  Py_DECREF(der);
  return r;
}

static PyObject *ss_cipher(PyObject *self, PyObject *unused) {
  (void)unused;
  ussl_socket *t = SS(self);
  us_tls_t *tls = stream(t);
  const char *name, *version;
  int bits;
  if (!tls)
    return NULL;
  int r = us_tls_cipher(tls, &name, &version, &bits);
  if (r == -ENOTCONN)
    Py_RETURN_NONE; /* as CPython's, before the handshake */
  if (r < 0)
    return fail(t, r);
  return Py_BuildValue("(ssi)", name, version, bits);
}

/* ---- the socket's part -------------------------------------------------- */

static PyObject *on_sock(PyObject *self, const char *method, PyObject *arg) {
  ussl_socket *t = SS(self);
  return arg ? PyObject_CallMethod(t->sock, method, "O", arg)
             : PyObject_CallMethod(t->sock, method, NULL);
}

static PyObject *ss_settimeout(PyObject *self, PyObject *arg) {
  return on_sock(self, "settimeout", arg);
}

static PyObject *ss_setblocking(PyObject *self, PyObject *arg) {
  return on_sock(self, "setblocking", arg);
}

static PyObject *ss_gettimeout(PyObject *self, PyObject *unused) {
  (void)unused;
  return on_sock(self, "gettimeout", NULL);
}

static PyObject *ss_getpeername(PyObject *self, PyObject *unused) {
  (void)unused;
  return on_sock(self, "getpeername", NULL);
}

static PyObject *ss_getsockname(PyObject *self, PyObject *unused) {
  (void)unused;
  return on_sock(self, "getsockname", NULL);
}

static PyObject *ss_setsockopt(PyObject *self, PyObject *args) {
  PyObject *m = PyObject_GetAttrString(SS(self)->sock, "setsockopt");
  PyObject *r = m ? PyObject_Call(m, args, NULL) : NULL;
  Py_XDECREF(m);
  return r;
}

static PyObject *ss_fileno(PyObject *self, PyObject *unused) {
  (void)unused;
  ussl_socket *t = SS(self);
  return PyLong_FromLong(t->closed ? -1 : t->s->fd);
}

static PyObject *ss_close(PyObject *self, PyObject *unused) {
  (void)unused;
  ussl_socket *t = SS(self);
  if (t->closed)
    Py_RETURN_NONE;
  t->closed = 1;
  const char *name, *version;
  int bits;
  /* The session ends with close_notify, once it began: the peer tells
   * the end from a cut. Best effort, and bounded (a peer that reads
   * nothing must not hold close() up): the socket closes whatever it
   * says. */
  if (t->tls && t->s->fd >= 0 &&
      us_tls_cipher(t->tls, &name, &version, &bits) == 0) {
    int64_t until = us_now() + CLOSE_NOTIFY_NS;
    int64_t was = us_set_deadline(until);
    if (was != US_DEADLINE_NONE && was < until)
      us_set_deadline(was);
    (void)us_tls_shutdown(t->tls);
    us_set_deadline(was);
  }
  /* A signal handler's exception (Ctrl-C while close_notify waited)
   * still ends the call, once the socket is closed. */
  int r = us_socket_close(t->s);
  if (PyErr_Occurred())
    return NULL;
  if (r < 0 && r != -ECONNRESET && r != -EINTR && r != -EBADF)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

static PyObject *ss_enter(PyObject *self, PyObject *unused) {
  (void)unused;
  return Py_NewRef(self);
}

static PyObject *ss_exit(PyObject *self, PyObject *const *args, Py_ssize_t n) {
  (void)args;
  (void)n;
  return ss_close(self, NULL);
}

static PyObject *ss_repr(PyObject *self) {
  ussl_socket *t = SS(self);
  return PyUnicode_FromFormat(
      "<ussl.SSLSocket fd=%d, %s%s>", t->closed ? -1 : t->s->fd,
      t->server_side ? "server" : "client", t->tls ? "" : ", not connected");
}

static PyObject *get_context(PyObject *self, void *c) {
  (void)c;
  return Py_NewRef(SS(self)->ctx);
}

static PyObject *get_server_hostname(PyObject *self, void *c) {
  (void)c;
  PyObject *h = SS(self)->host;
  return Py_NewRef(h ? h : Py_None);
}

static PyObject *get_server_side(PyObject *self, void *c) {
  (void)c;
  return PyBool_FromLong(SS(self)->server_side);
}

#define FAST(name, fn, doc)                                                    \
  { name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, doc }

static PyMethodDef ss_methods[] = {
    FAST("read", ss_read,
         "read($self, size=-1, /)\n--\n\nsize bytes (fewer only at the "
         "end), or all until the end when -1; None when non-blocking and "
         "none are ready."),
    FAST("readline", ss_readline,
         "readline($self, size=-1, /)\n--\n\nOne line, with its newline."),
    FAST("readinto", ss_readinto,
         "readinto($self, buf, nbytes=None, /)\n--\n\nFill buf (or its "
         "first nbytes); the count, None when non-blocking and none are "
         "ready."),
    FAST("write", ss_write,
         "write($self, buf, /, *off_max_len)\n--\n\nwrite(buf), "
         "write(buf, max_len) or write(buf, off, max_len): the count "
         "written, None when non-blocking and none could be."),
    FAST("recv", ss_recv,
         "recv($self, bufsize, /)\n--\n\nUp to bufsize bytes, b'' at the "
         "end."),
    FAST("recv_into", ss_recv_into,
         "recv_into($self, buf, nbytes=None, /)\n--\n\nUp to nbytes into "
         "buf: the count."),
    FAST("send", ss_send, "send($self, buf, /)\n--\n\nWrite buf: the count."),
    FAST("sendall", ss_sendall,
         "sendall($self, buf, /)\n--\n\nWrite all of buf."),
    {"connect", ss_connect, METH_O,
     "connect($self, address, /)\n--\n\nConnect the socket, then run the "
     "handshake, within one deadline (the socket's timeout)."},
    {"do_handshake", ss_do_handshake, METH_NOARGS,
     "do_handshake($self, /)\n--\n\nRun the handshake now."},
    {"getpeercert", (PyCFunction)(void (*)(void))ss_getpeercert,
     METH_VARARGS | METH_KEYWORDS,
     "getpeercert($self, /, binary_form=False)\n--\n\nThe peer's "
     "certificate: DER bytes, or a dict as CPython's; None if it sent "
     "none."},
    {"cipher", ss_cipher, METH_NOARGS,
     "cipher($self, /)\n--\n\n(name, protocol version, secret bits), or None "
     "before the handshake."},
    {"settimeout", ss_settimeout, METH_O,
     "settimeout($self, value, /)\n--\n\nThe socket's timeout."},
    {"setblocking", ss_setblocking, METH_O,
     "setblocking($self, flag, /)\n--\n\nsettimeout(None) or (0)."},
    {"gettimeout", ss_gettimeout, METH_NOARGS,
     "gettimeout($self, /)\n--\n\nThe socket's timeout."},
    {"getpeername", ss_getpeername, METH_NOARGS,
     "getpeername($self, /)\n--\n\nThe peer's address."},
    {"getsockname", ss_getsockname, METH_NOARGS,
     "getsockname($self, /)\n--\n\nOur address."},
    {"setsockopt", ss_setsockopt, METH_VARARGS,
     "setsockopt($self, level, optname, value, /)\n--\n\nAs the socket's."},
    {"fileno", ss_fileno, METH_NOARGS,
     "fileno($self, /)\n--\n\nThe socket's descriptor (-1 once closed)."},
    {"close", ss_close, METH_NOARGS,
     "close($self, /)\n--\n\nSend close_notify (once the session began), "
     "then close the socket."},
    {"__enter__", ss_enter, METH_NOARGS,
     "__enter__($self, /)\n--\n\nReturn the stream."},
    FAST("__exit__", ss_exit,
         "__exit__($self, /, *exc_info)\n--\n\nClose the stream."),
    {NULL, NULL, 0, NULL}};

static PyGetSetDef ss_getset[] = {
    {"context", get_context, NULL, "The SSLContext.", NULL},
    {"server_hostname", get_server_hostname, NULL,
     "The name the server is verified as, or None.", NULL},
    {"server_side", get_server_side, NULL, "Whether we are the server.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef ss_members[] = {{"__weaklistoffset__", T_PYSSIZET,
                                    offsetof(ussl_socket, weakreflist),
                                    READONLY, NULL},
                                   {NULL, 0, 0, 0, NULL}};

static PyType_Slot ss_slots[] = {
    {Py_tp_doc, "A TLS stream over a usocket socket, as wrap_socket() "
                "returns."},
    {Py_tp_dealloc, ss_dealloc},
    {Py_tp_repr, ss_repr},
    {Py_tp_methods, ss_methods},
    {Py_tp_getset, ss_getset},
    {Py_tp_members, ss_members},
    {0, NULL}};

PyType_Spec ussl_socket_spec = {
    .name = "ussl.SSLSocket",
    .basicsize = sizeof(ussl_socket),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = ss_slots,
};
