/* uspy.h: what the files of the CPython module usocket share. */
#ifndef USPY_H
#define USPY_H

#include "common.h"

/* The module's state: its types. */
typedef struct {
  PyTypeObject *socket_type;
  PyTypeObject *sockaddr_type;
  PyTypeObject *buffered_type;
  /* ussl's (python/ussl*.c), with a TLS engine; else NULL. */
  PyTypeObject *tls_context_type;
  PyTypeObject *tls_socket_type;
} uspy_state;

typedef struct {
  PyObject_HEAD us_socket_t sock;
  PyObject *weakreflist;
} uspy_socket;

typedef struct {
  PyObject_HEAD us_addr_t addr;
  Py_hash_t hash; /* -1 until computed */
  /* The host name it was resolved from (getaddrinfo's str), or NULL:
   * what a TLS stream connecting to it verifies. */
  PyObject *name;
} uspy_sockaddr;

extern PyModuleDef uspy_module;

/* The state of the module that defined type's instance. */
uspy_state *uspy_state_of(PyTypeObject *type);

/* Type specs, made into heap types at module exec. */
extern PyType_Spec uspy_socket_spec;
extern PyType_Spec uspy_sockaddr_spec;
extern PyType_Spec uspy_buffered_spec;

/* A new sockaddr object holding *addr. */
PyObject *uspy_sockaddr_new(uspy_state *st, const us_addr_t *addr);
/* As uspy_sockaddr_new, remembering the name (a str, or NULL) that addr
 * was resolved from. */
PyObject *uspy_sockaddr_new_named(uspy_state *st, const us_addr_t *addr,
                                  PyObject *name);
/* Converts a sockaddr object or a tuple to an address for a socket of the
 * given family; 0, or -1 with an exception set. Names are resolved. */
int uspy_addr_from_obj(uspy_state *st, int family, PyObject *obj,
                       us_addr_t *out);

/* AF_UNIX addresses (usocket_unix.c): a str path or bytes-like as a raw
 * address (0, or -1 with TypeError, ValueError for a NUL inside a file
 * name, OSError for one too long); and back: str for a file name ('' for
 * an unnamed socket), bytes for an abstract name, None for no address. */
int uspy_unix_addr_from_obj(PyObject *obj, us_rawaddr_t *out);
PyObject *uspy_unix_addr_new(const us_rawaddr_t *addr);
/* An AF_UNIX socket's bind (or connect), accept, and getsockname (or
 * getpeername), which its IP methods hand over to. */
PyObject *uspy_unix_bind(PyObject *self, PyObject *arg, int connect);
PyObject *uspy_unix_accept(PyObject *self);
PyObject *uspy_unix_name(PyObject *self, int peer);

/* A new socket object wrapping an open core socket (taking it over). */
PyObject *uspy_socket_wrap(uspy_state *st, const us_socket_t *sock);
/* The largest buffer makefile() allocates: each is taken whole, up front. */
#define USPY_MAX_BUFFERING ((Py_ssize_t)16 << 20)

/* A new BufferedStream over a socket object. */
PyObject *uspy_buffered_new(uspy_state *st, PyObject *sock, Py_ssize_t size,
                            int readable, int writable);

/* A sink that becomes a bytes object: it starts in a small buffer of its
 * own (a short line costs one exact allocation at the end) and moves to a
 * bytes object, grown as the core asks, when that is too small. */
#define USPY_SINK_INLINE 256
typedef struct {
  us_sink_t sink;
  PyObject *bytes;
  char inline_buf[USPY_SINK_INLINE];
} uspy_bytes_sink;

void uspy_bytes_sink_init(uspy_bytes_sink *s);
/* Ends a read of result r: the bytes (trimmed), None when r is -EAGAIN
 * and none_on_eagain, or NULL with the exception. Releases the sink. */
PyObject *uspy_bytes_sink_finish(uspy_bytes_sink *s, ssize_t r,
                                 int none_on_eagain);

/* A writable buffer held for one call (readinto and the like). An exact
 * bytearray, the usual case, is pinned directly: its export count goes up
 * as its buffer export would raise it, so nothing can resize it while the
 * GIL is released, without the buffer protocol's round trip (about 70
 * instructions). Anything else goes through PyObject_GetBuffer. A
 * read-only buffer is a TypeError. */
typedef struct {
  Py_buffer view; /* buf and len always; the rest only when exported */
  PyByteArrayObject *pinned;
} uspy_wbuf;

int uspy_wbuf_get_exported(PyObject *o, uspy_wbuf *w);

static inline int uspy_wbuf_get(PyObject *o, uspy_wbuf *w) {
  if (PyByteArray_CheckExact(o)) {
    w->pinned = (PyByteArrayObject *)o;
    w->pinned->ob_exports++;
    w->view.buf = PyByteArray_AS_STRING(o);
    w->view.len = PyByteArray_GET_SIZE(o);
    return 0;
  }
  return uspy_wbuf_get_exported(o, w);
}

static inline void uspy_wbuf_release(uspy_wbuf *w) {
  if (w->pinned)
    w->pinned->ob_exports--;
  else
    PyBuffer_Release(&w->view);
}

/* A read-only buffer argument, held for one call: bytes (read in place),
 * str (its UTF-8 bytes, as MicroPython reads a str wherever it takes a
 * buffer; CPython caches them in the str), an exact bytearray (pinned as
 * uspy_wbuf pins it), or anything exporting a buffer. Else -1 with
 * TypeError. */
typedef struct {
  const char *buf;
  size_t len;
  Py_buffer view;
  int exported;
  PyByteArrayObject *pinned;
} uspy_rbuf;

int uspy_rbuf_get(PyObject *o, uspy_rbuf *r);

static inline void uspy_rbuf_release(uspy_rbuf *r) {
  if (r->pinned)
    r->pinned->ob_exports--;
  else if (r->exported)
    PyBuffer_Release(&r->view);
}

/* readinto's nbytes for a buffer of len bytes: None is len; a negative
 * count or one past len is ValueError. 0, or -1 with the exception. */
int uspy_nbytes_arg(PyObject *o, size_t len, size_t *out);

/* write(buf[, off], max_len) as MicroPython's streams take it: narrows
 * *r to the part addressed (args: what follows buf, n of them, 0 to 2).
 * off and max_len are ints taken modulo 2**64 as MicroPython does: -1 is
 * "no limit". 0, or -1 with TypeError. */
int uspy_rbuf_span(uspy_rbuf *r, PyObject *const *args, Py_ssize_t n);

#endif
