/* tls_util.h: what the plain-OpenSSL benchmark programs (the TLS peer
 * and the TLS limit client) share. Every TLS workload runs TLS 1.3 with
 * TLS_AES_128_GCM_SHA256 (TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 for
 * a client that has no TLS 1.3), a P-256 certificate for "localhost" that the
 * run makes for itself (bench/workloads.py), and no session tickets, so
 * that each handshake is a full one for every client alike.
 */
#ifndef BENCH_TLS_UTIL_H
#define BENCH_TLS_UTIL_H

#include <stddef.h>

#include <openssl/ssl.h>

/* The suite every TLS workload negotiates. */
#define BENCH_TLS_SUITE "TLS_AES_128_GCM_SHA256"
/* The peer's only TLS 1.2 suite, for a client without TLS 1.3. */
#define BENCH_TLS12_SUITE "ECDHE-ECDSA-AES128-GCM-SHA256"
/* The name the certificate is for, and the clients verify. */
#define BENCH_TLS_HOST "localhost"

/* Prints what failed with OpenSSL's error queue, exits with status 2. */
void bench_tls_die(const char *what);
/* A server context with the chain and key files. */
SSL_CTX *bench_tls_server_ctx(const char *cert, const char *key);
/* A client context that trusts ca_file only and verifies the host. */
SSL_CTX *bench_tls_client_ctx(const char *ca_file);
/* A session on fd, its handshake done (blocking descriptor). */
SSL *bench_tls_accept(SSL_CTX *ctx, int fd);
SSL *bench_tls_connect(SSL_CTX *ctx, int fd);
/* Writes all len bytes. */
void bench_tls_write_all(SSL *ssl, const void *buf, size_t len);
/* Reads exactly len bytes; fewer only at the peer's close_notify. */
size_t bench_tls_read_full(SSL *ssl, void *buf, size_t len);

#endif
