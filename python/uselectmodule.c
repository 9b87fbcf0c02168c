/* uselectmodule.c: the CPython module uselect: its poll objects over the
 * core's poll sets (src/pollset.c), and set-up; select() is in
 * uselect_select.c. This file only converts objects: registration,
 * one-shot arming, deadlines and signals are the core's. */
#include "uselect.h"
#include "uspy.h" /* usocket's socket objects, for their us_socket_t */
#ifdef US_TLS_ENGINE
#include "ussl.h" /* ussl's streams, for their us_tls_t */
#endif

#include <errno.h>
#include <string.h>

#define ASKABLE (US_POLLIN | US_POLLOUT | US_POLLERR | US_POLLHUP | US_POLLNVAL)

typedef struct {
  PyTypeObject *poll_type;
  PyTypeObject *ipoll_type;
} sel_state;

typedef struct {
  PyObject_HEAD us_pollset_t *ps; /* NULL once cleared by the collector */
  /* {id(obj): fd} for every registered object: unregister() must find an
   * object whose fileno() no longer answers (a closed socket says -1). The
   * set itself holds the strong reference, as the entry's data. */
  PyObject *by_id;
  us_pollev_t *out; /* a wait's results; grown, never shrunk */
  size_t out_cap;
  int polling; /* a wait is under way, the GIL released: out is in use */
} sel_poll;

/* ---- conversions -------------------------------------------------------- */

static int mask_of(PyObject *arg, int *out) {
  if (!PyLong_Check(arg)) {
    PyErr_Format(PyExc_TypeError, "eventmask must be an int, not %.100s",
                 Py_TYPE(arg)->tp_name);
    return -1;
  }
  int overflow;
  long v = PyLong_AsLongAndOverflow(arg, &overflow);
  if (v == -1 && PyErr_Occurred())
    return -1;
  if (overflow || v < 0 || (v & ~(long)ASKABLE)) {
    PyErr_Format(PyExc_ValueError,
                 "eventmask must combine POLLIN, POLLOUT, POLLERR, POLLHUP, "
                 "POLLNVAL, not %R",
                 arg);
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* poll()'s timeout: milliseconds as an int (MicroPython takes no float),
 * None or any negative meaning no limit. */
static int timeout_ms_of(PyObject *arg, int64_t *ns) {
  *ns = US_TIMEOUT_BLOCK;
  if (!arg || arg == Py_None)
    return 0;
  if (!PyLong_Check(arg)) {
    PyErr_Format(PyExc_TypeError,
                 "timeout must be an int (milliseconds) or None, not %.100s",
                 Py_TYPE(arg)->tp_name);
    return -1;
  }
  int overflow;
  long long ms = PyLong_AsLongLongAndOverflow(arg, &overflow);
  if (ms == -1 && PyErr_Occurred())
    return -1;
  if (overflow < 0 || (!overflow && ms < 0))
    return 0;
  if (overflow > 0 || ms > INT64_MAX / 1000000) {
    PyErr_SetString(PyExc_OverflowError, "timeout is too large");
    return -1;
  }
  *ns = (int64_t)ms * 1000000;
  return 0;
}

/* The core socket inside a usocket socket object (or a subclass's), or
 * NULL for any other object. Checked by what made the type, never by a
 * name that a compatibility shim could have put in sys.modules. */
static us_socket_t *usocket_of(PyObject *obj) {
  PyTypeObject *t = Py_TYPE(obj);
  while (t && strcmp(t->tp_name, "usocket.socket") != 0)
    t = t->tp_base;
  if (!t || !(t->tp_flags & Py_TPFLAGS_HEAPTYPE) ||
      t->tp_basicsize != (Py_ssize_t)sizeof(uspy_socket))
    return NULL;
  PyObject *m = PyType_GetModule(t);
  PyModuleDef *def = m ? PyModule_GetDef(m) : NULL;
  if (!def || strcmp(def->m_name, "usocket") != 0 ||
      def->m_size != (Py_ssize_t)sizeof(uspy_state)) {
    PyErr_Clear();
    return NULL;
  }
  return &((uspy_socket *)obj)->sock;
}

/* OSError(EBADF) for an object whose descriptor is gone. */
static int raise_closed(PyObject *obj) {
  PyObject *exc =
      PyUnicode_FromFormat("Bad file descriptor (the %.100s object is closed)",
                           Py_TYPE(obj)->tp_name);
  if (exc) {
    PyObject *args = Py_BuildValue("(iN)", EBADF, exc);
    exc = args ? PyObject_Call(PyExc_OSError, args, NULL) : NULL;
    Py_XDECREF(args);
  }
  if (exc) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
  return -1;
}

#ifdef US_TLS_ENGINE
/* A ussl stream (an object of usocket's type ussl.SSLSocket), or NULL. */
static ussl_socket *ussl_of(PyObject *obj) {
  PyTypeObject *t = Py_TYPE(obj);
  if (strcmp(t->tp_name, "ussl.SSLSocket") != 0 ||
      !(t->tp_flags & Py_TPFLAGS_HEAPTYPE) ||
      t->tp_basicsize != (Py_ssize_t)sizeof(ussl_socket))
    return NULL;
  PyObject *m = PyType_GetModule(t);
  PyModuleDef *def = m ? PyModule_GetDef(m) : NULL;
  if (!def || strcmp(def->m_name, "usocket") != 0) {
    PyErr_Clear();
    return NULL;
  }
  return (ussl_socket *)obj;
}
#endif

int uspy_sel_add(us_pollset_t *ps, int fd, us_socket_t *sock, us_tls_t *tls,
                 int events, void *data) {
  if (!sock)
    return us_pollset_add(ps, fd, events, data);
  if (sock->fd != fd)
    return -EBADF;
  return tls ? us_pollset_add_tls(ps, tls, events, data)
             : us_pollset_add_socket(ps, sock, events, data);
}

int uspy_sel_fd(PyObject *obj, us_socket_t **sock, us_tls_t **tls) {
  *tls = NULL;
#ifdef US_TLS_ENGINE
  ussl_socket *ss = ussl_of(obj);
  if (ss) {
    *sock = ss->s;
    *tls = ss->tls;
    int fd = ss->closed ? -1 : ss->s->fd;
    return fd < 0 ? raise_closed(obj) : fd;
  }
#endif
  *sock = usocket_of(obj);
  if (*sock) {
    /* Its own descriptor, whatever a subclass's fileno() says: that is
     * the one a poll set holds it by, and books it under. */
    int fd = (*sock)->fd;
    return fd < 0 ? raise_closed(obj) : fd;
  }
  if (PyLong_Check(obj))
    return PyObject_AsFileDescriptor(obj);
  PyObject *r = PyObject_CallMethod(obj, "fileno", NULL);
  if (!r) {
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
      PyErr_Clear();
      PyErr_SetString(PyExc_TypeError,
                      "argument must be an int, or have a fileno() method.");
    }
    return -1;
  }
  /* A closed object's fileno() says -1 (CPython's sockets, ours); other
   * numbers, negative ones included, are judged as ints. */
  long v = PyLong_Check(r) ? PyLong_AsLong(r) : 0;
  int fd;
  if (v == -1 && !PyErr_Occurred()) {
    fd = raise_closed(obj);
  } else {
    PyErr_Clear();
    fd = PyObject_AsFileDescriptor(r);
  }
  Py_DECREF(r);
  return fd;
}

static int args_between(const char *name, Py_ssize_t nargs, Py_ssize_t min,
                        Py_ssize_t max) {
  if (nargs >= min && nargs <= max)
    return 0;
  PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd arguments (%zd given)",
               name, min, max, nargs);
  return -1;
}

/* ---- the registry's Python side ----------------------------------------- */

static sel_poll *live(PyObject *self) {
  sel_poll *p = (sel_poll *)self;
  if (!p->ps) {
    PyErr_SetString(PyExc_ValueError, "poll object is cleared");
    return NULL;
  }
  return p;
}

static void drop_key(sel_poll *p, PyObject *obj) {
  PyObject *key = PyLong_FromVoidPtr(obj);
  if (!key || PyDict_DelItem(p->by_id, key) < 0)
    PyErr_Clear(); /* absent already: nothing to undo */
  Py_XDECREF(key);
}

/* Forgets whatever is registered on fd; its object, whose reference the
 * set held, goes to *gone (NULL if none) for the caller to drop once its
 * own bookkeeping is done: a finalizer run by that decref may call back
 * into this poll object. */
static int forget_fd(sel_poll *p, int fd, PyObject **gone) {
  us_pollev_t cur;
  *gone = NULL;
  if (us_pollset_get(p->ps, fd, &cur) < 0)
    return 0;
  int r = us_pollset_remove(p->ps, fd);
  if (r < 0) {
    uspy_raise(r);
    return -1;
  }
  drop_key(p, cur.data);
  *gone = cur.data;
  return 0;
}

/* Finds the descriptor obj is registered on: itself, or (an int, or
 * another object for the same descriptor) by its descriptor. 1 found,
 * 0 not registered, -1 with an exception (no fileno at all). */
static int lookup(sel_poll *p, PyObject *obj, int *fd) {
  PyObject *key = PyLong_FromVoidPtr(obj);
  if (!key)
    return -1;
  PyObject *v = PyDict_GetItemWithError(p->by_id, key);
  Py_DECREF(key);
  if (v) {
    *fd = (int)PyLong_AsLong(v);
    return 1;
  }
  if (PyErr_Occurred())
    return -1;
  us_socket_t *sock;
  us_tls_t *tls;
  int f = uspy_sel_fd(obj, &sock, &tls);
  if (f < 0) {
    /* A closed object (or a negative int) cannot be registered. */
    if (!PyErr_ExceptionMatches(PyExc_ValueError) &&
        !PyErr_ExceptionMatches(PyExc_OSError))
      return -1;
    PyErr_Clear();
    return 0;
  }
  us_pollev_t cur;
  if (us_pollset_get(p->ps, f, &cur) < 0)
    return 0;
  *fd = f;
  return 1;
}

/* Registers obj on fd, which uspy_sel_fd gave for it (its socket too):
 * no Python code runs from then until obj is booked under the very
 * number the set watches. */
static PyObject *do_register(sel_poll *p, PyObject *obj, int fd,
                             us_socket_t *sock, us_tls_t *tls, int mask) {
  PyObject *gone = NULL, *key = PyLong_FromVoidPtr(obj),
           *fdobj = PyLong_FromLong(fd);
  if (!key || !fdobj)
    goto fail;
  /* Registered before under another descriptor: that one is stale. */
  PyObject *prev = PyDict_GetItemWithError(p->by_id, key);
  if (!prev && PyErr_Occurred())
    goto fail;
  long was = prev ? PyLong_AsLong(prev) : fd;
  if (was != fd && forget_fd(p, (int)was, &gone) < 0)
    goto fail;
  us_pollev_t cur;
  int had = us_pollset_get(p->ps, fd, &cur) == 0;
  int same = had && cur.data == obj, replaced = had && !same;
  if (PyDict_SetItem(p->by_id, key, fdobj) < 0)
    goto fail;
  /* A usocket socket is held: closing it while registered is reported
   * (POLLNVAL) on every backend, and its number is kept until then. */
  int r = uspy_sel_add(p->ps, fd, sock, tls, mask, obj);
  if (r < 0) {
    if (!same)
      drop_key(p, obj);
    uspy_raise(r);
    goto fail;
  }
  if (!same)
    Py_INCREF(obj);
  if (replaced) { /* one registration per descriptor: the new object wins */
    drop_key(p, cur.data);
    Py_DECREF((PyObject *)cur.data);
  }
  Py_DECREF(key);
  Py_DECREF(fdobj);
  Py_XDECREF(gone);
  Py_RETURN_NONE;
fail:
  Py_XDECREF(key);
  Py_XDECREF(fdobj);
  Py_XDECREF(gone);
  return NULL;
}

/* ---- poll objects -------------------------------------------------------- */

static PyObject *poll_register(PyObject *self, PyObject *const *args,
                               Py_ssize_t nargs) {
  sel_poll *p = live(self);
  int mask = US_POLLIN | US_POLLOUT;
  us_socket_t *sock;
  us_tls_t *tls;
  if (!p || args_between("register", nargs, 1, 2) < 0 ||
      (nargs > 1 && mask_of(args[1], &mask) < 0))
    return NULL;
  int fd = uspy_sel_fd(args[0], &sock, &tls);
  if (fd < 0)
    return NULL;
  return do_register(p, args[0], fd, sock, tls, mask);
}

static PyObject *poll_unregister(PyObject *self, PyObject *obj) {
  sel_poll *p = live(self);
  int fd, r;
  if (!p || (r = lookup(p, obj, &fd)) < 0)
    return NULL;
  /* Not registered: nothing to do, as in MicroPython. */
  PyObject *gone = NULL;
  if (r > 0 && forget_fd(p, fd, &gone) < 0)
    return NULL;
  Py_XDECREF(gone);
  Py_RETURN_NONE;
}

static PyObject *poll_modify(PyObject *self, PyObject *const *args,
                             Py_ssize_t nargs) {
  sel_poll *p = live(self);
  int fd, mask, r;
  if (!p || args_between("modify", nargs, 2, 2) < 0 ||
      mask_of(args[1], &mask) < 0 || (r = lookup(p, args[0], &fd)) < 0)
    return NULL;
  r = r ? us_pollset_modify(p->ps, fd, mask) : -ENOENT;
  if (r < 0)
    return uspy_raise(r);
  Py_RETURN_NONE;
}

/* One wait; its results in p->out, each object held, or -1 with an
 * exception. p stays marked as polling until drop_results(): a finalizer
 * run by the caller's allocations that polls p again gets RuntimeError
 * instead of overwriting the results being read. */
static int do_wait(sel_poll *p, int64_t timeout_ns, int flags) {
  if (p->polling) {
    PyErr_SetString(PyExc_RuntimeError, "concurrent poll() invocation");
    return -1;
  }
  size_t want = us_pollset_count(p->ps);
  if (!want)
    want = 1;
  if (want > p->out_cap) {
    us_pollev_t *out = PyMem_Realloc(p->out, want * sizeof *out);
    if (!out) {
      PyErr_NoMemory();
      return -1;
    }
    p->out = out;
    p->out_cap = want;
  }
  p->polling = 1;
  int n = us_pollset_wait(p->ps, p->out, want, timeout_ns, flags);
  if (n < 0) {
    p->polling = 0;
    if (n == -EBUSY && !PyErr_Occurred())
      PyErr_SetString(PyExc_RuntimeError, "concurrent poll() invocation");
    uspy_raise(n);
    return -1;
  }
  /* Hold every object before allocating: a collection run by the
   * allocator may call code that unregisters them. */
  for (int i = 0; i < n; i++)
    Py_INCREF((PyObject *)p->out[i].data);
  return n;
}

/* The held results of a wait, let go; p->out is free for the next. */
static void drop_results(sel_poll *p, int n) {
  for (int i = 0; i < n; i++)
    Py_DECREF((PyObject *)p->out[i].data);
  p->polling = 0;
}

static PyObject *poll_poll(PyObject *self, PyObject *const *args,
                           Py_ssize_t nargs) {
  sel_poll *p = live(self);
  int64_t ns;
  if (!p || args_between("poll", nargs, 0, 1) < 0 ||
      timeout_ms_of(nargs ? args[0] : NULL, &ns) < 0)
    return NULL;
  int n = do_wait(p, ns, 0);
  if (n < 0)
    return NULL;
  PyObject *list = PyList_New(n);
  for (int i = 0; list && i < n; i++) {
    PyObject *t = PyTuple_New(2), *ev = PyLong_FromLong(p->out[i].events);
    if (!t || !ev) {
      Py_XDECREF(t);
      Py_XDECREF(ev);
      Py_CLEAR(list);
      break;
    }
    Py_INCREF((PyObject *)p->out[i].data);
    PyTuple_SET_ITEM(t, 0, (PyObject *)p->out[i].data);
    PyTuple_SET_ITEM(t, 1, ev);
    PyList_SET_ITEM(list, i, t);
  }
  drop_results(p, n);
  return list;
}

static PyObject *poll_ipoll(PyObject *self, PyObject *const *args,
                            Py_ssize_t nargs) {
  sel_poll *p = live(self);
  int64_t ns;
  if (!p || args_between("ipoll", nargs, 0, 2) < 0 ||
      timeout_ms_of(nargs ? args[0] : NULL, &ns) < 0)
    return NULL;
  long flags = 0;
  if (nargs > 1) {
    if (!PyLong_Check(args[1])) {
      PyErr_SetString(PyExc_TypeError, "flags must be an int");
      return NULL;
    }
    flags = PyLong_AsLong(args[1]);
    if (flags == -1 && PyErr_Occurred())
      return NULL;
    if (flags != 0 && flags != 1) {
      PyErr_SetString(PyExc_ValueError, "flags must be 0 or 1 (one-shot)");
      return NULL;
    }
  }
  int n = do_wait(p, ns, flags ? US_POLL_ONESHOT : 0);
  if (n < 0)
    return NULL;
  sel_state *st = PyType_GetModuleState(Py_TYPE(self));
  if (!st) {
    drop_results(p, n);
    return NULL;
  }
  /* The results' references become the iterator's. */
  PyObject *it = uspy_ipoll_new(st->ipoll_type, p->out, n);
  p->polling = 0;
  return it;
}

/* The set's references, detached from it: used to clear and to free. */
static void poll_release(sel_poll *p) {
  us_pollset_t *ps = p->ps;
  if (!ps)
    return;
  size_t n = us_pollset_count(ps);
  PyObject **held = n ? PyMem_Malloc(n * sizeof *held) : NULL;
  us_pollev_t ev;
  for (size_t i = 0; i < n; i++) {
    us_pollset_at(ps, i, &ev);
    if (held)
      held[i] = ev.data;
    else /* out of memory: leak the objects rather than crash */
      Py_INCREF((PyObject *)ev.data);
  }
  p->ps = NULL;
  us_pollset_free(ps);
  /* Only now, the set gone: a finalizer run by a decref sees a cleared
   * object, never a half-emptied one. */
  for (size_t i = 0; held && i < n; i++)
    Py_DECREF(held[i]);
  PyMem_Free(held);
}

static int poll_traverse(PyObject *self, visitproc visit, void *arg) {
  sel_poll *p = (sel_poll *)self;
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(p->by_id);
  us_pollev_t ev;
  for (size_t i = 0; p->ps && us_pollset_at(p->ps, i, &ev) == 0; i++)
    Py_VISIT((PyObject *)ev.data);
  return 0;
}

static int poll_clear(PyObject *self) {
  sel_poll *p = (sel_poll *)self;
  poll_release(p);
  Py_CLEAR(p->by_id);
  return 0;
}

static void poll_dealloc(PyObject *self) {
  sel_poll *p = (sel_poll *)self;
  PyTypeObject *type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  poll_clear(self);
  PyMem_Free(p->out);
  type->tp_free(self);
  Py_DECREF(type);
}

static PyObject *poll_repr(PyObject *self) {
  sel_poll *p = (sel_poll *)self;
  if (!p->ps)
    return PyUnicode_FromString("<uselect.poll cleared>");
  return PyUnicode_FromFormat("<uselect.poll %s, %zu registered>",
                              us_pollset_backend(p->ps),
                              us_pollset_count(p->ps));
}

static PyMethodDef poll_methods[] = {
    {"register", (PyCFunction)(void (*)(void))poll_register, METH_FASTCALL,
     "register($self, obj, eventmask=uselect.POLLIN|uselect.POLLOUT, /)\n--\n\n"
     "Watch obj (an int descriptor or an object with fileno()) for the "
     "events in eventmask. Registering again replaces the mask (and "
     "re-arms a one-shot entry); registering another object with the same "
     "descriptor replaces the first. POLLERR, POLLHUP and POLLNVAL are "
     "always reported, asked for or not. A usocket socket is watched by "
     "its own descriptor; a closed object is OSError(EBADF)."},
    {"unregister", poll_unregister, METH_O,
     "unregister($self, obj, /)\n--\n\n"
     "Stop watching obj (found even once closed). An object that is not "
     "registered is ignored, as in MicroPython."},
    {"modify", (PyCFunction)(void (*)(void))poll_modify, METH_FASTCALL,
     "modify($self, obj, eventmask, /)\n--\n\n"
     "Replace obj's eventmask and re-arm it after a one-shot ipoll(). "
     "OSError(ENOENT) if obj is not registered."},
    {"poll", (PyCFunction)(void (*)(void))poll_poll, METH_FASTCALL,
     "poll($self, timeout=-1, /)\n--\n\n"
     "Wait until a registered object is ready, at most timeout "
     "milliseconds (an int; -1 or None: no limit). Returns a list of "
     "(obj, events) where obj is the registered object itself; an empty "
     "list on timeout."},
    {"ipoll", (PyCFunction)(void (*)(void))poll_ipoll, METH_FASTCALL,
     "ipoll($self, timeout=-1, flags=0, /)\n--\n\n"
     "As poll(), returning an iterator of (obj, events). flags=1 is "
     "one-shot: each object reported is disarmed (reports nothing, not "
     "even POLLHUP) until modify() or register() re-arms it."},
    {NULL, NULL, 0, NULL}};

static PyType_Slot poll_slots[] = {
    {Py_tp_doc, "A set of objects to wait on; made by uselect.poll()."},
    {Py_tp_dealloc, poll_dealloc},
    {Py_tp_traverse, poll_traverse},
    {Py_tp_clear, poll_clear},
    {Py_tp_repr, poll_repr},
    {Py_tp_methods, poll_methods},
    {0, NULL}};

static PyType_Spec poll_spec = {
    .name = "uselect.poll",
    .basicsize = sizeof(sel_poll),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC
#ifdef Py_TPFLAGS_IMMUTABLETYPE
             | Py_TPFLAGS_IMMUTABLETYPE
#endif
#ifdef Py_TPFLAGS_DISALLOW_INSTANTIATION
             | Py_TPFLAGS_DISALLOW_INSTANTIATION
#endif
    ,
    .slots = poll_slots,
};

/* ---- module functions ---------------------------------------------------- */

static PyObject *sel_poll_new(PyObject *module, PyObject *unused) {
  (void)unused;
  sel_state *st = PyModule_GetState(module);
  sel_poll *p = PyObject_GC_New(sel_poll, st->poll_type);
  if (!p)
    return NULL;
  p->ps = NULL;
  p->out = NULL;
  p->out_cap = 0;
  p->polling = 0;
  p->by_id = PyDict_New();
  int r = p->by_id ? us_pollset_new(&p->ps, 0) : 0;
  PyObject_GC_Track(p);
  if (!p->by_id || r < 0) {
    if (r < 0)
      uspy_raise(r);
    Py_DECREF(p);
    return NULL;
  }
  return (PyObject *)p;
}

static PyMethodDef sel_methods[] = {
    {"poll", sel_poll_new, METH_NOARGS,
     "poll()\n--\n\nA new, empty poll object. On Linux it uses epoll: a "
     "wait costs what is ready, not what is registered."},
    {"select", (PyCFunction)(void (*)(void))uspy_select, METH_FASTCALL,
     "select(rlist, wlist, xlist, timeout=None, /)\n--\n\n"
     "Wait until objects of rlist are readable, of wlist writable, or of "
     "xlist in error or hung up, at most timeout seconds (None: no limit). "
     "Returns three lists of the objects passed in. A descriptor that is "
     "not open, or an object closed before or during the call, raises "
     "OSError(EBADF)."},
    {NULL, NULL, 0, NULL}};

static int sel_exec(PyObject *m) {
  sel_state *st = PyModule_GetState(m);
  /* This module links its own copy of the core: its hooks are its own. */
  uspy_install_host();
  st->poll_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &poll_spec, NULL);
  st->ipoll_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &uspy_ipoll_spec, NULL);
  if (!st->poll_type || !st->ipoll_type)
    return -1;
  static const struct {
    const char *name;
    int value;
  } consts[] = {{"POLLIN", US_POLLIN},
                {"POLLOUT", US_POLLOUT},
                {"POLLERR", US_POLLERR},
                {"POLLHUP", US_POLLHUP},
                {"POLLNVAL", US_POLLNVAL}};
  for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
    if (PyModule_AddIntConstant(m, consts[i].name, consts[i].value) < 0)
      return -1;
  return 0;
}

static int sel_traverse(PyObject *m, visitproc visit, void *arg) {
  sel_state *st = PyModule_GetState(m);
  Py_VISIT(st->poll_type);
  Py_VISIT(st->ipoll_type);
  return 0;
}

static int sel_clear(PyObject *m) {
  sel_state *st = PyModule_GetState(m);
  Py_CLEAR(st->poll_type);
  Py_CLEAR(st->ipoll_type);
  return 0;
}

static void sel_free(void *m) { sel_clear(m); }

static PyModuleDef_Slot sel_slots[] = {{Py_mod_exec, sel_exec}, {0, NULL}};

static PyModuleDef sel_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "uselect",
    .m_doc = "MicroPython's uselect on CPython: poll objects that return "
             "the registered objects themselves, one-shot ipoll(), and "
             "select(). Works with usocket sockets, CPython sockets, pipes, "
             "files and int descriptors.",
    .m_size = sizeof(sel_state),
    .m_methods = sel_methods,
    .m_slots = sel_slots,
    .m_traverse = sel_traverse,
    .m_clear = sel_clear,
    .m_free = sel_free,
};

PyMODINIT_FUNC PyInit_uselect(void) { return PyModuleDef_Init(&sel_module); }
