/* uselect_ipoll.c: the iterator that poll.ipoll() returns. It holds the
 * results of one wait and yields them as (obj, events) tuples; a tuple
 * that nobody but the iterator holds any more (the usual `for obj, ev in
 * p.ipoll()`, which unpacks it) is refilled for the next result instead of
 * being freed and made anew, so a tuple a caller keeps never changes. */
#include "uselect.h"

typedef struct {
  PyObject *obj; /* a strong reference */
  int events;
} ipoll_item;

typedef struct {
  PyObject_VAR_HEAD Py_ssize_t next;
  PyObject *last;   /* the tuple yielded last, or NULL */
  PyObject *ev_obj; /* the events yielded last, as an int, or NULL */
  int ev;           /* and as a C int */
  ipoll_item items[1];
} ipoll_iter;

PyObject *uspy_ipoll_new(PyTypeObject *type, const us_pollev_t *out, int n) {
  /* The caller's references to every out[i].data become the iterator's:
   * held by the caller until then, as a collection run by this allocation
   * may run code that unregisters them. */
  ipoll_iter *it = PyObject_GC_NewVar(ipoll_iter, type, n);
  if (!it) {
    for (int i = 0; i < n; i++)
      Py_DECREF((PyObject *)out[i].data);
    return NULL;
  }
  it->next = 0;
  it->last = NULL;
  it->ev_obj = NULL;
  for (int i = 0; i < n; i++) {
    it->items[i].obj = out[i].data;
    it->items[i].events = out[i].events;
  }
  PyObject_GC_Track(it);
  return (PyObject *)it;
}

/* The events as an int: nearly always what the last result had. */
static PyObject *events_obj(ipoll_iter *it, int events) {
  if (!it->ev_obj || it->ev != events) {
    PyObject *ev = PyLong_FromLong(events);
    if (!ev)
      return NULL;
    Py_XSETREF(it->ev_obj, ev);
    it->ev = events;
  }
  return Py_NewRef(it->ev_obj);
}

static PyObject *ipoll_next(PyObject *self) {
  ipoll_iter *it = (ipoll_iter *)self;
  if (it->next >= Py_SIZE(it))
    return NULL;
  ipoll_item *item = &it->items[it->next];
  PyObject *ev = events_obj(it, item->events);
  if (!ev)
    return NULL;
  /* Taken from the iterator: a finalizer run below cannot see it twice. */
  PyObject *obj = item->obj;
  item->obj = NULL;
  it->next++;
  PyObject *t = it->last;
  if (t && Py_REFCNT(t) == 1) {
    PyObject *old0 = PyTuple_GET_ITEM(t, 0), *old1 = PyTuple_GET_ITEM(t, 1);
    PyTuple_SET_ITEM(t, 0, obj);
    PyTuple_SET_ITEM(t, 1, ev);
    /* The collector may have untracked it while it held nothing that it
     * tracks; it must track it again if obj is of a kind it tracks. The
     * tuple is at hand, obj's type most likely not in the cache: the
     * tuple is asked first. */
    if (!PyObject_GC_IsTracked(t) && PyType_IS_GC(Py_TYPE(obj)))
      PyObject_GC_Track(t);
    Py_INCREF(t);
    Py_DECREF(old0);
    Py_DECREF(old1);
    return t;
  }
  t = PyTuple_New(2);
  if (!t) {
    Py_DECREF(obj);
    Py_DECREF(ev);
    return NULL;
  }
  PyTuple_SET_ITEM(t, 0, obj);
  PyTuple_SET_ITEM(t, 1, ev);
  Py_INCREF(t);
  Py_XSETREF(it->last, t);
  return t;
}

static int ipoll_traverse(PyObject *self, visitproc visit, void *arg) {
  ipoll_iter *it = (ipoll_iter *)self;
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(it->last);
  Py_VISIT(it->ev_obj);
  for (Py_ssize_t i = it->next; i < Py_SIZE(it); i++)
    Py_VISIT(it->items[i].obj);
  return 0;
}

static int ipoll_clear(PyObject *self) {
  ipoll_iter *it = (ipoll_iter *)self;
  Py_CLEAR(it->last);
  Py_CLEAR(it->ev_obj);
  for (Py_ssize_t i = it->next; i < Py_SIZE(it); i++)
    Py_CLEAR(it->items[i].obj);
  it->next = Py_SIZE(it);
  return 0;
}

static void ipoll_dealloc(PyObject *self) {
  PyTypeObject *type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  ipoll_clear(self);
  PyObject_GC_Del(self);
  Py_DECREF(type);
}

static PyType_Slot ipoll_slots[] = {
    {Py_tp_doc, "The results of one poll.ipoll() wait, as (obj, events)."},
    {Py_tp_dealloc, ipoll_dealloc},
    {Py_tp_traverse, ipoll_traverse},
    {Py_tp_clear, ipoll_clear},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, ipoll_next},
    {0, NULL}};

PyType_Spec uspy_ipoll_spec = {
    .name = "uselect.ipoll_iterator",
    .basicsize = offsetof(ipoll_iter, items),
    .itemsize = sizeof(ipoll_item),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC
#ifdef Py_TPFLAGS_IMMUTABLETYPE
             | Py_TPFLAGS_IMMUTABLETYPE
#endif
#ifdef Py_TPFLAGS_DISALLOW_INSTANTIATION
             | Py_TPFLAGS_DISALLOW_INSTANTIATION
#endif
    ,
    .slots = ipoll_slots,
};
