/* common.h: CPython glue that the usocket and uselect modules share. */
#ifndef USPY_COMMON_H
#define USPY_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "usocket.h"

/* Installs the core's host hooks for CPython: the GIL is released while a
 * call blocks, and EINTR runs Python's signal handlers (an exception they
 * raise ends the call). Idempotent; call from module exec. */
void uspy_install_host(void);

/* Raises the exception for a negative error from the core and returns
 * NULL. An exception already set (by a signal handler or a sink's grow
 * during the call) is kept; -ETIMEDOUT is a TimeoutError; resolver failures are
 * OSError(code) with the resolver's negative code. */
PyObject *uspy_raise(int err);

/* As uspy_raise, with `characters_written` set on the exception: how many
 * bytes went before the error. */
PyObject *uspy_raise_written(int err, size_t written);

/* A timeout argument in seconds (None, or a number >= 0) as the core's
 * nanoseconds; -1 with ValueError/TypeError set on bad input. `scale` is
 * how many nanoseconds one unit is (1e9 for seconds, 1e6 for ms). Negative
 * numbers are an error unless allow_negative, which maps them to block. */
int uspy_timeout_arg(PyObject *arg, double scale, int allow_negative,
                     int64_t *out);

#endif
