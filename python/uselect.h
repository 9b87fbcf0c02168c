/* uselect.h: what the files of the CPython module uselect share. */
#ifndef USPY_USELECT_H
#define USPY_USELECT_H

#include "common.h"

/* uselect.select(rlist, wlist, xlist[, timeout]), METH_FASTCALL. */
PyObject *uspy_select(PyObject *module, PyObject *const *args,
                      Py_ssize_t nargs);

/* The descriptor obj stands for, -1 with an exception; *sock gets the
 * core socket of a usocket socket (else NULL), whose own descriptor it is,
 * whatever a subclass's fileno() says. A closed object (fileno() -1) is
 * OSError(EBADF); a negative int, or fileno() below -1, ValueError. */
int uspy_sel_fd(PyObject *obj, us_socket_t **sock);

#endif
