/* uselect.h: what the files of the CPython module uselect share. */
#ifndef USPY_USELECT_H
#define USPY_USELECT_H

#include "common.h"

/* uselect.select(rlist, wlist, xlist[, timeout]), METH_FASTCALL. */
PyObject *uspy_select(PyObject *module, PyObject *const *args,
                      Py_ssize_t nargs);

/* The descriptor obj stands for, -1 with an exception; *sock gets the
 * core socket of a usocket socket or of a ussl stream (else NULL), whose
 * own descriptor it is, whatever a subclass's fileno() says, and *tls a
 * connected ussl stream's TLS stream (else NULL). A closed object
 * (fileno() -1) is OSError(EBADF); a negative int, or fileno() below -1,
 * ValueError. */
int uspy_sel_fd(PyObject *obj, us_socket_t **sock, us_tls_t **tls);

/* Registers obj in ps for events, by fd, its socket and TLS stream as
 * uspy_sel_fd gave them: a TLS stream is readable while it holds
 * decrypted bytes. */
int uspy_sel_add(us_pollset_t *ps, int fd, us_socket_t *sock, us_tls_t *tls,
                 int events, void *data);

/* poll.ipoll()'s iterator type, and a new one yielding the n results in
 * out: each out[i].data an object the caller holds a reference to, which
 * becomes the iterator's (and is dropped if it cannot be made). */
extern PyType_Spec uspy_ipoll_spec;
PyObject *uspy_ipoll_new(PyTypeObject *type, const us_pollev_t *out, int n);

#endif
