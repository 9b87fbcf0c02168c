/* tls_util.c: the plain-OpenSSL side of the TLS benchmarks. */
#include "tls_util.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>

void bench_tls_die(const char *what) {
  fprintf(stderr, "bench: %s\n", what);
  ERR_print_errors_fp(stderr);
  exit(2);
}

static SSL_CTX *new_ctx(const SSL_METHOD *method) {
  SSL_CTX *ctx = SSL_CTX_new(method);
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_ciphersuites(ctx, BENCH_TLS_SUITE))
    bench_tls_die("SSL_CTX_new");
  return ctx;
}

SSL_CTX *bench_tls_server_ctx(const char *cert, const char *key) {
  SSL_CTX *ctx = new_ctx(TLS_server_method());
  /* TLS 1.2 too, with the same AES-128-GCM, for a client that has no
   * TLS 1.3 (mbedTLS 2.28): every other client negotiates TLS 1.3. */
  if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
      !SSL_CTX_set_cipher_list(ctx, BENCH_TLS12_SUITE))
    bench_tls_die("allowing TLS 1.2");
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
    bench_tls_die("loading the certificate and key");
  /* Tickets would make every client read (and CPython's store) a
   * session it never resumes. */
  if (!SSL_CTX_set_num_tickets(ctx, 0))
    bench_tls_die("SSL_CTX_set_num_tickets");
  /* A client may end without close_notify (CPython's close sends none):
   * the peer takes that as the end, not as an attack. */
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  return ctx;
}

SSL_CTX *bench_tls_client_ctx(const char *ca_file) {
  SSL_CTX *ctx = new_ctx(TLS_client_method());
  if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
    bench_tls_die("loading the CA file");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  /* The limit reads a record's header and body in one system call. */
  SSL_CTX_set_read_ahead(ctx, 1);
  return ctx;
}

static SSL *new_ssl(SSL_CTX *ctx, int fd) {
  SSL *ssl = SSL_new(ctx);
  if (!ssl || !SSL_set_fd(ssl, fd))
    bench_tls_die("SSL_new");
  return ssl;
}

SSL *bench_tls_accept(SSL_CTX *ctx, int fd) {
  SSL *ssl = new_ssl(ctx, fd);
  if (SSL_accept(ssl) != 1)
    bench_tls_die("SSL_accept");
  return ssl;
}

SSL *bench_tls_connect(SSL_CTX *ctx, int fd) {
  SSL *ssl = new_ssl(ctx, fd);
  if (!SSL_set_tlsext_host_name(ssl, BENCH_TLS_HOST) ||
      !SSL_set1_host(ssl, BENCH_TLS_HOST))
    bench_tls_die("setting the host name");
  if (SSL_connect(ssl) != 1)
    bench_tls_die("SSL_connect");
  return ssl;
}

void bench_tls_write_all(SSL *ssl, const void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    size_t n;
    if (!SSL_write_ex(ssl, (const char *)buf + done, len - done, &n))
      bench_tls_die("SSL_write");
    done += n;
  }
}

size_t bench_tls_read_full(SSL *ssl, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    size_t n;
    if (!SSL_read_ex(ssl, (char *)buf + got, len - got, &n)) {
      if (SSL_get_error(ssl, 0) == SSL_ERROR_ZERO_RETURN)
        break;
      bench_tls_die("SSL_read");
    }
    got += n;
  }
  return got;
}
