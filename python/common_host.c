/* common_host.c: the core's host hooks and errors, for CPython. */
#include "common.h"

#include <errno.h>
#include <math.h>

static void *py_unlock(void) { return PyEval_SaveThread(); }

static void py_lock(void *token) { PyEval_RestoreThread(token); }

static int py_check_signals(void) {
  return PyErr_CheckSignals() < 0 ? -EINTR : 0;
}

#if PY_VERSION_HEX >= 0x030D0000
/* Still exported from 3.13 on, but declared only in CPython's internal
 * headers, which an extension cannot include. */
PyAPI_FUNC(int) _PyOS_IsMainThread(void);
#endif

/* CPython runs Python signal handlers only in the main thread (of the
 * main interpreter): only its calls must be interrupted by them. */
static int py_handles_signals(void) { return _PyOS_IsMainThread(); }

/* The GIL excludes every other thread, and CPython never unwinds a C
 * frame; a build without the GIL has no such lock. */
#ifdef Py_GIL_DISABLED
#define PY_EXCLUSIVE 0
#else
#define PY_EXCLUSIVE 1
#endif

static const us_host_t cpython_host = {py_unlock, py_lock, py_check_signals,
                                       py_handles_signals, PY_EXCLUSIVE};

void uspy_install_host(void) { us_set_host(&cpython_host); }

static PyObject *new_error(int err) {
  if (err <= US_GAI_BASE) {
    int code = us_gai_code(err);
    return PyObject_CallFunction(PyExc_OSError, "is", code, us_strerror(err));
  }
  PyObject *type = err == -ETIMEDOUT ? PyExc_TimeoutError : PyExc_OSError;
  /* OSError(errno, text) picks the subclass (ConnectionResetError, ...). */
  return PyObject_CallFunction(type, "is", -err, us_strerror(err));
}

PyObject *uspy_raise(int err) {
  /* A host callback (a signal handler, a sink's grow) that failed has set
   * its own exception: that one explains the error best. */
  if (PyErr_Occurred())
    return NULL;
  if (err == -ENOMEM)
    return PyErr_NoMemory();
  PyObject *exc = new_error(err);
  if (exc) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
  return NULL;
}

PyObject *uspy_raise_written(int err, size_t written) {
  if (PyErr_Occurred())
    return NULL;
  PyObject *exc = new_error(err);
  if (!exc)
    return NULL;
  PyObject *n = PyLong_FromSize_t(written);
  if (!n || PyObject_SetAttrString(exc, "characters_written", n) < 0) {
    Py_XDECREF(n);
    Py_DECREF(exc);
    return NULL;
  }
  Py_DECREF(n);
  PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_DECREF(exc);
  return NULL;
}

int uspy_timeout_arg(PyObject *arg, double scale, int allow_negative,
                     int64_t *out) {
  if (arg == Py_None) {
    *out = US_TIMEOUT_BLOCK;
    return 0;
  }
  double v = PyFloat_AsDouble(arg);
  if (v == -1.0 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_TypeError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError,
                   "timeout must be None or a number, not %.100s",
                   Py_TYPE(arg)->tp_name);
    }
    return -1;
  }
  if (isnan(v)) {
    PyErr_SetString(PyExc_ValueError, "timeout must not be NaN");
    return -1;
  }
  if (v < 0) {
    if (!allow_negative) {
      PyErr_SetString(PyExc_ValueError, "timeout value out of range");
      return -1;
    }
    *out = US_TIMEOUT_BLOCK;
    return 0;
  }
  double ns = ceil(v * scale);
  if (ns >= 9.2e18) {
    PyErr_SetString(PyExc_OverflowError, "timeout is too large");
    return -1;
  }
  *out = (int64_t)ns;
  return 0;
}
