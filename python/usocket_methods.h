/* usocket_methods.h: the socket's data methods (usocket_io.c), listed in
 * the method table of usocket_socket.c, and the argument helpers. */
#ifndef USPY_METHODS_H
#define USPY_METHODS_H

#include "uspy.h"

/* 0 if n is within [min, max], else -1 with TypeError. */
int uspy_nargs(const char *name, Py_ssize_t n, Py_ssize_t min, Py_ssize_t max);
/* An int argument that fits a C int; -1 with TypeError/OverflowError. */
int uspy_int_arg(PyObject *o, const char *what, int *out);

PyObject *uspy_sock_read(PyObject *self, PyObject *const *args, Py_ssize_t n);
PyObject *uspy_sock_readline(PyObject *self, PyObject *const *args,
                             Py_ssize_t n);
PyObject *uspy_sock_readinto(PyObject *self, PyObject *const *args,
                             Py_ssize_t n);
PyObject *uspy_sock_recv_into(PyObject *self, PyObject *const *args,
                              Py_ssize_t n);
PyObject *uspy_sock_write(PyObject *self, PyObject *const *args, Py_ssize_t n);
PyObject *uspy_sock_send(PyObject *self, PyObject *const *args, Py_ssize_t n);
PyObject *uspy_sock_sendall(PyObject *self, PyObject *const *args,
                            Py_ssize_t n);
PyObject *uspy_sock_sendto(PyObject *self, PyObject *const *args, Py_ssize_t n);
PyObject *uspy_sock_recv(PyObject *self, PyObject *const *args, Py_ssize_t n);
PyObject *uspy_sock_recvfrom(PyObject *self, PyObject *const *args,
                             Py_ssize_t n);
/* usocket_msg.c: message I/O, and the module's CMSG_LEN/CMSG_SPACE. */
PyObject *uspy_sock_sendmsg(PyObject *self, PyObject *const *args,
                            Py_ssize_t n);
PyObject *uspy_sock_recvmsg(PyObject *self, PyObject *const *args,
                            Py_ssize_t n);
PyObject *uspy_sock_recvmsg_into(PyObject *self, PyObject *const *args,
                                 Py_ssize_t n);
PyObject *uspy_mod_cmsg_len(PyObject *module, PyObject *arg);
PyObject *uspy_mod_cmsg_space(PyObject *module, PyObject *arg);

#endif
