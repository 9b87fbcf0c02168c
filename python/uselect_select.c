/* uselect_select.c: uselect.select(), over a poll set made for one wait. */
#include "uselect.h"

#include <errno.h>

/* select()'s work: the objects of three sequences in one portable set
 * (built for one wait, a kernel epoll set would cost more than it saves).
 * Each distinct descriptor's entry points at its slot in rev. */
typedef struct {
  /* The caller's sequences, copied: fileno() (Python code) and other
   * threads, while the wait runs, may change the originals. */
  PyObject *seq[3];
  int *fds[3];
  int *rev;
  us_pollset_t *ps;
} sel_call;

static void sel_call_free(sel_call *c) {
  /* The set first: the last release of a socket closed meanwhile closes
   * its descriptor, and no Python code may run while it is half gone. */
  us_pollset_free(c->ps);
  for (int i = 0; i < 3; i++) {
    Py_XDECREF(c->seq[i]);
    PyMem_Free(c->fds[i]);
  }
  PyMem_Free(c->rev);
}

/* Watches fd for ask, on top of what it is watched for already. A usocket
 * socket is held by the set, as poll() does: closed by another thread, it
 * wakes the wait (POLLNVAL), and its number is not reused until the set
 * is freed. */
static int sel_watch(sel_call *c, int fd, us_socket_t *sock, us_tls_t *tls,
                     int ask, Py_ssize_t *distinct) {
  us_pollev_t cur;
  int known = us_pollset_get(c->ps, fd, &cur) == 0;
  if (!known)
    cur = (us_pollev_t){fd, 0, &c->rev[(*distinct)++]};
  if (sock)
    return uspy_sel_add(c->ps, fd, sock, tls, cur.events | ask, cur.data);
  /* modify keeps the hold an earlier socket on fd took. */
  return known ? us_pollset_modify(c->ps, fd, cur.events | ask)
               : us_pollset_add(c->ps, fd, ask, cur.data);
}

/* Fills c from the three sequences; the number of distinct descriptors,
 * or -1 with an exception. */
static Py_ssize_t sel_call_fill(sel_call *c, PyObject *const *lists) {
  static const int asks[3] = {US_POLLIN, US_POLLOUT, 0};
  Py_ssize_t total = 0, distinct = 0;
  for (int i = 0; i < 3; i++) {
    PyObject *fast =
        PySequence_Fast(lists[i], "arguments 1-3 must be sequences");
    if (!fast)
      return -1;
    c->seq[i] = PySequence_Tuple(fast); /* a list is copied, a tuple kept */
    Py_DECREF(fast);
    if (!c->seq[i])
      return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(c->seq[i]);
    c->fds[i] = PyMem_Malloc((n ? n : 1) * sizeof(int));
    if (!c->fds[i])
      return PyErr_NoMemory(), -1;
    total += n;
  }
  c->rev = PyMem_Calloc(total ? total : 1, sizeof(int));
  int r = c->rev ? us_pollset_new(&c->ps, US_POLLSET_PORTABLE) : -ENOMEM;
  if (r < 0)
    return uspy_raise(r), -1;
  for (int i = 0; i < 3; i++) {
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(c->seq[i]); j++) {
      us_socket_t *sock;
      us_tls_t *tls;
      int fd = c->fds[i][j] =
          uspy_sel_fd(PyTuple_GET_ITEM(c->seq[i], j), &sock, &tls);
      if (fd < 0)
        return -1;
      if ((r = sel_watch(c, fd, sock, tls, asks[i], &distinct)) < 0)
        return uspy_raise(r), -1;
    }
  }
  return distinct;
}

/* Whether events make an object of list i ready: readable and writable
 * include the errors a read or a write would then report at once. */
static int sel_ready(int i, int events) {
  static const int shows[3] = {US_POLLIN | US_POLLHUP | US_POLLERR,
                               US_POLLOUT | US_POLLERR,
                               US_POLLERR | US_POLLHUP};
  return (events & shows[i]) != 0;
}

PyObject *uspy_select(PyObject *module, PyObject *const *args,
                      Py_ssize_t nargs) {
  (void)module;
  sel_call c = {{NULL, NULL, NULL}, {NULL, NULL, NULL}, NULL, NULL};
  PyObject *result = NULL, *lists[3] = {NULL, NULL, NULL};
  us_pollev_t *out = NULL;
  int64_t ns = US_TIMEOUT_BLOCK;
  if (nargs < 3 || nargs > 4) {
    PyErr_Format(PyExc_TypeError, "select() takes 3 or 4 arguments (%zd given)",
                 nargs);
    return NULL;
  }
  if (nargs > 3 && uspy_timeout_arg(args[3], 1e9, 0, &ns) < 0)
    return NULL;
  Py_ssize_t distinct = sel_call_fill(&c, args);
  if (distinct < 0)
    goto done;
  out = PyMem_Malloc((distinct ? distinct : 1) * sizeof *out);
  if (!out) {
    PyErr_NoMemory();
    goto done;
  }
  int n = us_pollset_wait(c.ps, out, distinct ? distinct : 1, ns, 0);
  if (n < 0) {
    uspy_raise(n);
    goto done;
  }
  for (int k = 0; k < n; k++) {
    if (out[k].events & US_POLLNVAL) { /* closed by another thread */
      uspy_raise(-EBADF);
      goto done;
    }
    *(int *)out[k].data = out[k].events;
  }
  for (int i = 0; i < 3; i++) {
    if (!(lists[i] = PyList_New(0)))
      goto done;
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(c.seq[i]); j++) {
      us_pollev_t cur;
      us_pollset_get(c.ps, c.fds[i][j], &cur);
      if (sel_ready(i, *(int *)cur.data) &&
          PyList_Append(lists[i], PyTuple_GET_ITEM(c.seq[i], j)) < 0)
        goto done;
    }
  }
  result = PyTuple_Pack(3, lists[0], lists[1], lists[2]);
done:
  for (int i = 0; i < 3; i++)
    Py_XDECREF(lists[i]);
  PyMem_Free(out);
  sel_call_free(&c);
  return result;
}
