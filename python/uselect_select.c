/* uselect_select.c: uselect.select(), over a poll set made for one wait. */
#include "uselect.h"

#include <errno.h>

/* select()'s work: the objects of three sequences in one portable set
 * (built for one wait, a kernel epoll set would cost more than it saves).
 * Each distinct descriptor's entry points at its slot in rev. */
typedef struct {
  PyObject *seq[3];
  int *fds[3];
  int *rev;
  us_pollset_t *ps;
} sel_call;

static void sel_call_free(sel_call *c) {
  for (int i = 0; i < 3; i++) {
    Py_XDECREF(c->seq[i]);
    PyMem_Free(c->fds[i]);
  }
  PyMem_Free(c->rev);
  us_pollset_free(c->ps);
}

/* Fills c from the three sequences; the number of distinct descriptors,
 * or -1 with an exception. */
static Py_ssize_t sel_call_fill(sel_call *c, PyObject *const *lists) {
  static const int asks[3] = {US_POLLIN, US_POLLOUT, 0};
  Py_ssize_t total = 0, distinct = 0;
  for (int i = 0; i < 3; i++) {
    c->seq[i] = PySequence_Fast(lists[i], "arguments 1-3 must be sequences");
    if (!c->seq[i])
      return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(c->seq[i]);
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
    PyObject **items = PySequence_Fast_ITEMS(c->seq[i]);
    for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(c->seq[i]); j++) {
      int fd = c->fds[i][j] = PyObject_AsFileDescriptor(items[j]);
      if (fd < 0)
        return -1;
      us_pollev_t cur;
      if (us_pollset_get(c->ps, fd, &cur) < 0)
        cur = (us_pollev_t){fd, 0, &c->rev[distinct++]};
      if ((r = us_pollset_add(c->ps, fd, cur.events | asks[i], cur.data)) < 0)
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
    PyObject **items = PySequence_Fast_ITEMS(c.seq[i]);
    for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(c.seq[i]); j++) {
      us_pollev_t cur;
      us_pollset_get(c.ps, c.fds[i][j], &cur);
      if (sel_ready(i, *(int *)cur.data) &&
          PyList_Append(lists[i], items[j]) < 0)
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
