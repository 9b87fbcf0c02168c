/* ussl.h: what the files of the module ussl share. Its objects live in
 * the usocket extension (built with a TLS engine), where they reach the
 * socket and address objects they wrap; python/ussl.py is the module
 * users import, made of usocket._ussl. */
#ifndef USPY_USSL_H
#define USPY_USSL_H

#include "uspy.h"

/* IPPROTO_SEC (the WiPy's): a TCP socket meant to be wrapped. */
#define USPY_IPPROTO_SEC 282

/* SSLContext: the settings a TLS stream is made with. */
typedef struct {
  PyObject_HEAD us_tls_ctx_t *ctx;
  int role;           /* US_TLS_CLIENT or US_TLS_SERVER */
  int verify_mode;    /* CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED */
  int check_hostname; /* a client verifies the server's name */
  int hostname_off;   /* check_hostname = False was set, not implied */
  int legacy;         /* made by the module's wrap_socket: its hints */
} ussl_context;

/* SSLSocket: a TLS stream over a usocket socket. */
typedef struct {
  PyObject_HEAD PyObject *sock; /* the socket object, held till freed */
  us_socket_t *s;               /* inside sock */
  us_tls_t *tls;                /* NULL until connected; freed with us */
  PyObject *ctx;                /* the SSLContext */
  PyObject *host;               /* the server's name (str), or NULL */
  int server_side;
  int handshake_on_connect;
  int closed;
  PyObject *weakreflist;
} ussl_socket;

extern PyType_Spec ussl_context_spec;
extern PyType_Spec ussl_socket_spec;

/* Adds usocket._ussl, the module ussl.py exposes, to usocket's module m. */
int ussl_add_module(PyObject *m, uspy_state *st);

/* A new SSLSocket over the usocket socket sock, with ctx (an SSLContext);
 * host: a str, or NULL. Handshakes at once when sock is connected and
 * handshake is set (a non-blocking socket leaves it to the first read or
 * write). NULL with an exception. */
PyObject *ussl_socket_new(uspy_state *st, PyObject *ctx, PyObject *sock,
                          int server_side, int handshake, PyObject *host);

/* Raises the OSError for a TLS failure err of a stream of ctx: a
 * verification failure names the fix in the way ctx was made. NULL. */
PyObject *ussl_raise(const ussl_context *ctx, int err);

/* The host name a usocket address remembers (getaddrinfo's), or NULL. */
PyObject *uspy_sockaddr_name(uspy_state *st, PyObject *addr);

#endif
