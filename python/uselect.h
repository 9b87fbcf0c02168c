/* uselect.h: what the files of the CPython module uselect share. */
#ifndef USPY_USELECT_H
#define USPY_USELECT_H

#include "common.h"

/* uselect.select(rlist, wlist, xlist[, timeout]), METH_FASTCALL. */
PyObject *uspy_select(PyObject *module, PyObject *const *args,
                      Py_ssize_t nargs);

#endif
