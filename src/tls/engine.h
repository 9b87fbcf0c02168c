/* engine.h: the TLS engine seam. The core's TLS stream (src/tls.c) knows
 * no TLS library; one file per library (src/tls/openssl.c, ...) provides
 * these calls, and moves its bytes only through the core's us__tls_io_*,
 * which never wait: the core waits, within the call's deadline, when an
 * engine call returns -EAGAIN, then calls it again.
 *
 * Every engine call returns >= 0 on success or a negative error: -EAGAIN
 * when an I/O call of the core's said so, the error an I/O call returned
 * (a reset, a close), or a US_TLS_ERR_* code. Certificates and keys reach
 * an engine as bytes (PEM or DER): the core reads the files. */
#ifndef US_TLS_ENGINE_H
#define US_TLS_ENGINE_H

#include "usocket.h"

typedef struct us__tlse_ctx us__tlse_ctx_t;
typedef struct us__tlse us__tlse_t;

/* ---- from the core, for the engines ----------------------------------- */

/* Sends up to len bytes of t's ciphertext: > 0, or -EAGAIN, or an error. */
ssize_t us__tls_io_send(us_tls_t *t, const void *buf, size_t len);
/* Receives up to len bytes: > 0, 0 at the end of the socket's stream,
 * -EAGAIN, or an error. */
ssize_t us__tls_io_recv(us_tls_t *t, void *buf, size_t len);

/* ---- from each engine ------------------------------------------------- */

/* "openssl", "mbedtls". */
extern const char us__tlse_name[];

/* A context for role (US_TLS_CLIENT, US_TLS_SERVER), with the defaults
 * us_tls_ctx_new() documents. */
int us__tlse_ctx_new(us__tlse_ctx_t **c, int role);
void us__tlse_ctx_free(us__tlse_ctx_t *c);
int us__tlse_ctx_verify(us__tlse_ctx_t *c, int mode);
/* Whether a client's streams check the host given to us__tlse_new against
 * the peer's certificate (on at first); off, the host is still sent as
 * SNI (a name, never an address) and the rest is verified as before. */
int us__tlse_ctx_check_host(us__tlse_ctx_t *c, int on);
/* Trusts the certificates in data (PEM, or one DER certificate); from
 * then on a client trusts the platform's store only if asked. */
int us__tlse_ctx_ca(us__tlse_ctx_t *c, const void *data, size_t len);
int us__tlse_ctx_ca_default(us__tlse_ctx_t *c);
int us__tlse_ctx_cert(us__tlse_ctx_t *c, const void *chain, size_t chain_len,
                      const void *key, size_t key_len);
int us__tlse_ctx_ciphers(us__tlse_ctx_t *c, const char *list);
/* Whether streams of c verify their peer (a client then needs a host). */
int us__tlse_ctx_verifies(const us__tlse_ctx_t *c);

/* A connection of c for the core's stream t (passed back to the I/O
 * calls); host as us_tls_new (NULL: no SNI, no name to check). */
int us__tlse_new(us__tlse_t **e, us__tlse_ctx_t *c, us_tls_t *t,
                 const char *host);
void us__tlse_free(us__tlse_t *e);
/* 0 once the handshake is done. */
int us__tlse_handshake(us__tlse_t *e);
/* Up to len decrypted bytes (> 0; 0 after the peer's close_notify). */
ssize_t us__tlse_read(us__tlse_t *e, void *buf, size_t len);
/* Encrypts and sends some of buf (> 0). After -EAGAIN the next call must
 * pass the same bytes again. */
ssize_t us__tlse_write(us__tlse_t *e, const void *buf, size_t len);
/* Sends close_notify: 0 when sent. */
int us__tlse_close_notify(us__tlse_t *e);
/* Decrypted bytes the engine holds, ready for us__tlse_read. */
size_t us__tlse_pending(const us__tlse_t *e);

/* ---- what a session can tell (after the handshake) -------------------- */

/* The peer's certificate, DER: its length (copying at most len bytes of it
 * to buf, which may be NULL to ask the length), 0 when the peer sent none. */
ssize_t us__tlse_peer_cert(const us__tlse_t *e, void *buf, size_t len);
/* The negotiated suite's name (the engine's naming), protocol version
 * ("TLSv1.3") and secret bits; -ENOTCONN before the handshake. */
int us__tlse_cipher(const us__tlse_t *e, const char **name,
                    const char **version, int *bits);
/* The names of the suites c may negotiate, at most max of them, in
 * preference order: how many there are. Valid while c lives. */
size_t us__tlse_ctx_cipher_names(const us__tlse_ctx_t *c, const char **names,
                                 size_t max);

#endif
