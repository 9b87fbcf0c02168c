/* openssl.c: the TLS engine on OpenSSL 3. Its bytes move through a BIO
 * of ours whose reads and writes are the core's (us__tls_io_*): OpenSSL
 * never touches the descriptor, and never waits. */
#include "engine.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

const char us__tlse_name[] = "openssl";

struct us__tlse_ctx {
  SSL_CTX *ssl;
  int role;
  int verify;
  int check_host; /* a client checks the host name it is given */
  /* A client trusts the platform's store unless given CAs: loading it
   * parses every certificate of the bundle (about 240 million
   * instructions), so it waits for the first stream that needs it. */
  int store_due;
  CRYPTO_RWLOCK *lock; /* guards store_due */
};

struct us__tlse {
  SSL *ssl;
  us_tls_t *owner;
  int io_err; /* the error a read or write of ours met, or 0 */
  int eof;    /* our read met the end of the socket's stream */
};

/* ---- the BIO over the core's I/O -------------------------------------- */

static BIO_METHOD *bio_method;
static CRYPTO_ONCE bio_once = CRYPTO_ONCE_STATIC_INIT;

static int bio_write(BIO *b, const char *buf, size_t len, size_t *written) {
  us__tlse_t *e = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  ssize_t n = us__tls_io_send(e->owner, buf, len);
  if (n > 0) {
    *written = (size_t)n;
    return 1;
  }
  if (n == -EAGAIN)
    BIO_set_retry_write(b);
  else
    e->io_err = n < 0 ? (int)n : -EPIPE;
  return 0;
}

static int bio_read(BIO *b, char *buf, size_t len, size_t *got) {
  us__tlse_t *e = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  ssize_t n = us__tls_io_recv(e->owner, buf, len);
  if (n > 0) {
    *got = (size_t)n;
    return 1;
  }
  if (n == 0)
    e->eof = 1;
  else if (n == -EAGAIN)
    BIO_set_retry_read(b);
  else
    e->io_err = (int)n;
  return 0;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)num;
  (void)ptr;
  us__tlse_t *e = BIO_get_data(b);
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1; /* nothing is held back: every write went to the socket */
  case BIO_CTRL_EOF:
    /* How OpenSSL tells a peer that vanished from one that is slow. */
    return e && e->eof;
  default:
    return 0;
  }
}

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static void bio_make_method(void) {
  BIO_METHOD *m =
      BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "usocket");
  if (m && BIO_meth_set_write_ex(m, bio_write) &&
      BIO_meth_set_read_ex(m, bio_read) && BIO_meth_set_ctrl(m, bio_ctrl) &&
      BIO_meth_set_create(m, bio_create))
    bio_method = m;
  else
    BIO_meth_free(m);
}

/* ---- errors ----------------------------------------------------------- */

static int verify_error(long v) {
  switch (v) {
  case X509_V_ERR_CERT_HAS_EXPIRED:
  case X509_V_ERR_CERT_NOT_YET_VALID:
    return US_TLS_ERR_EXPIRED;
  case X509_V_ERR_HOSTNAME_MISMATCH:
  case X509_V_ERR_IP_ADDRESS_MISMATCH:
    return US_TLS_ERR_HOSTNAME;
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
  case X509_V_ERR_CERT_UNTRUSTED:
    return US_TLS_ERR_UNTRUSTED;
  default:
    return US_TLS_ERR_VERIFY;
  }
}

/* The error of the library's own (SSL_ERROR_SSL): what its queue says. */
static int library_error(us__tlse_t *e) {
  unsigned long err = ERR_peek_last_error();
  int reason = ERR_GET_REASON(err);
  ERR_clear_error();
  if (ERR_GET_LIB(err) != ERR_LIB_SSL)
    return US_TLS_ERR_ENGINE;
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
    return verify_error(SSL_get_verify_result(e->ssl));
  if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
    return US_TLS_ERR_TRUNCATED;
  if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
    return US_TLS_ERR_NO_PEER_CERT;
  /* An alert from the peer is reported as SSL_AD_REASON_OFFSET plus its
   * code. */
  if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
    return US_TLS_ERR_ALERT;
  return US_TLS_ERR_PROTOCOL;
}

/* What a failed call (ret <= 0) of the library means for the core. */
static int failure(us__tlse_t *e, int ret) {
  int code = SSL_get_error(e->ssl, ret);
  switch (code) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return -EAGAIN; /* said only when the error queue is empty */
  case SSL_ERROR_ZERO_RETURN:
    ERR_clear_error();
    return 0;
  case SSL_ERROR_SYSCALL:
    ERR_clear_error();
    if (e->io_err)
      return e->io_err;
    return e->eof ? US_TLS_ERR_TRUNCATED : US_TLS_ERR_ENGINE;
  case SSL_ERROR_SSL:
    if (e->io_err) {
      ERR_clear_error();
      return e->io_err;
    }
    return library_error(e);
  default:
    ERR_clear_error();
    return US_TLS_ERR_ENGINE;
  }
}

/* ---- contexts --------------------------------------------------------- */

int us__tlse_ctx_new(us__tlse_ctx_t **cp, int role) {
  *cp = NULL;
  if (!CRYPTO_THREAD_run_once(&bio_once, bio_make_method) || !bio_method)
    return US_TLS_ERR_ENGINE;
  us__tlse_ctx_t *c = OPENSSL_zalloc(sizeof *c);
  if (!c)
    return -ENOMEM;
  c->role = role;
  c->check_host = 1;
  c->store_due = role == US_TLS_CLIENT;
  c->lock = CRYPTO_THREAD_lock_new();
  c->ssl = SSL_CTX_new(role == US_TLS_SERVER ? TLS_server_method()
                                             : TLS_client_method());
  if (!c->ssl || !c->lock) {
    us__tlse_ctx_free(c);
    ERR_clear_error();
    return -ENOMEM;
  }
  SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
  /* A write may end after a record (the core sends the rest), and its
   * retry may come from another copy of the same bytes. */
  SSL_CTX_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* Read as much as has arrived at once, not a header then a body. */
  SSL_CTX_set_read_ahead(c->ssl, 1);
  /* A session's certificate and suite stay what the handshake made them
   * (us__tlse_peer_cert, us__tlse_cipher read them without a lock). */
  SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION);
  us__tlse_ctx_verify(c, role == US_TLS_CLIENT ? US_TLS_VERIFY_REQUIRED
                                               : US_TLS_VERIFY_NONE);
  *cp = c;
  return 0;
}

void us__tlse_ctx_free(us__tlse_ctx_t *c) {
  if (c) {
    SSL_CTX_free(c->ssl);
    CRYPTO_THREAD_lock_free(c->lock);
    OPENSSL_free(c);
  }
}

int us__tlse_ctx_verify(us__tlse_ctx_t *c, int mode) {
  int flags = SSL_VERIFY_NONE;
  if (mode != US_TLS_VERIFY_NONE)
    flags = SSL_VERIFY_PEER;
  if (mode == US_TLS_VERIFY_REQUIRED && c->role == US_TLS_SERVER)
    flags |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(c->ssl, flags, NULL);
  c->verify = mode;
  return 0;
}

int us__tlse_ctx_check_host(us__tlse_ctx_t *c, int on) {
  c->check_host = on;
  return 0;
}

int us__tlse_ctx_verifies(const us__tlse_ctx_t *c) {
  return c->verify != US_TLS_VERIFY_NONE;
}

/* Whether the platform's store is still to load; from now on it is not
 * (the caller loads it, or gave CAs). */
static int store_due(us__tlse_ctx_t *c) {
  if (!CRYPTO_THREAD_write_lock(c->lock))
    return 0;
  int due = c->store_due;
  c->store_due = 0;
  CRYPTO_THREAD_unlock(c->lock);
  return due;
}

static int load_store(us__tlse_ctx_t *c) {
  int ok = SSL_CTX_set_default_verify_paths(c->ssl);
  ERR_clear_error();
  return ok ? 0 : US_TLS_ERR_ENGINE;
}

int us__tlse_ctx_ca_default(us__tlse_ctx_t *c) {
  store_due(c);
  return load_store(c);
}

/* PEM text has a "-----BEGIN " line; DER never starts with a '-'. */
static int is_pem(const void *data, size_t len) {
  static const char mark[] = "-----BEGIN ";
  const size_t n = sizeof mark - 1;
  const char *p = data, *end = p + len;
  while (len >= n && (p = memchr(p, '-', (size_t)(end - p))) != NULL &&
         (size_t)(end - p) >= n) {
    if (memcmp(p, mark, n) == 0)
      return 1;
    p++;
  }
  return 0;
}

/* Never asks for a pass phrase: an encrypted key is a bad key here. */
static int no_password(char *buf, int size, int rw, void *u) {
  (void)buf, (void)size, (void)rw, (void)u;
  return 0;
}

/* Reads the certificates in data, one by one into *x (NULL after the
 * last); *bio starts NULL and is freed after the last. */
static X509 *next_cert(const void *data, size_t len, BIO **bio) {
  if (!is_pem(data, len)) {
    if (*bio)
      return NULL; /* one DER certificate, taken already */
    *bio = BIO_new(BIO_s_null());
    const unsigned char *p = data;
    return len <= LONG_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
  }
  if (!*bio)
    *bio = BIO_new_mem_buf(data, len > INT_MAX ? INT_MAX : (int)len);
  return *bio ? PEM_read_bio_X509(*bio, NULL, no_password, NULL) : NULL;
}

int us__tlse_ctx_ca(us__tlse_ctx_t *c, const void *data, size_t len) {
  X509_STORE *store = SSL_CTX_get_cert_store(c->ssl);
  store_due(c);
  BIO *bio = NULL;
  int added = 0, r = 0;
  X509 *x;
  while ((x = next_cert(data, len, &bio)) != NULL) {
    if (!X509_STORE_add_cert(store, x))
      r = US_TLS_ERR_BAD_CERT;
    X509_free(x);
    added++;
  }
  BIO_free(bio);
  ERR_clear_error();
  return r < 0 ? r : added ? 0 : US_TLS_ERR_BAD_CERT;
}

static EVP_PKEY *read_key(const void *data, size_t len) {
  if (!is_pem(data, len)) {
    const unsigned char *p = data;
    return len <= LONG_MAX ? d2i_AutoPrivateKey(NULL, &p, (long)len) : NULL;
  }
  BIO *bio = BIO_new_mem_buf(data, len > INT_MAX ? INT_MAX : (int)len);
  EVP_PKEY *k =
      bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
  BIO_free(bio);
  return k;
}

int us__tlse_ctx_cert(us__tlse_ctx_t *c, const void *chain, size_t chain_len,
                      const void *key, size_t key_len) {
  BIO *bio = NULL;
  int r = 0;
  X509 *leaf = next_cert(chain, chain_len, &bio), *x;
  EVP_PKEY *k = NULL;
  if (!leaf || !SSL_CTX_use_certificate(c->ssl, leaf)) {
    r = US_TLS_ERR_BAD_CERT;
    goto out;
  }
  SSL_CTX_clear_chain_certs(c->ssl);
  while ((x = next_cert(chain, chain_len, &bio)) != NULL) {
    if (!SSL_CTX_add0_chain_cert(c->ssl, x)) {
      X509_free(x);
      r = US_TLS_ERR_BAD_CERT;
      goto out;
    }
  }
  if (!(k = read_key(key, key_len)))
    r = US_TLS_ERR_BAD_KEY;
  else if (!SSL_CTX_use_PrivateKey(c->ssl, k) ||
           !SSL_CTX_check_private_key(c->ssl))
    r = US_TLS_ERR_KEY_MISMATCH;
out:
  X509_free(leaf);
  EVP_PKEY_free(k);
  BIO_free(bio);
  ERR_clear_error();
  return r;
}

int us__tlse_ctx_ciphers(us__tlse_ctx_t *c, const char *list) {
  /* TLS 1.2's list and TLS 1.3's suites have separate setters; a list
   * that neither knows is refused. */
  int ok = SSL_CTX_set_cipher_list(c->ssl, list) ||
           SSL_CTX_set_ciphersuites(c->ssl, list);
  ERR_clear_error();
  return ok ? 0 : US_TLS_ERR_CIPHERS;
}

/* ---- connections ------------------------------------------------------ */

static int is_address(const char *host) {
  ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
  int found = ip != NULL;
  ASN1_OCTET_STRING_free(ip);
  return found;
}

/* Sends host as SNI, and has the handshake check it (when c does): a
 * certificate for another name then fails the verification. */
static int set_host(us__tlse_t *e, const us__tlse_ctx_t *c, const char *host) {
  X509_VERIFY_PARAM *vp = SSL_get0_param(e->ssl);
  /* An address is checked as one, and is never sent as SNI. */
  if (is_address(host))
    return !c->check_host || X509_VERIFY_PARAM_set1_ip_asc(vp, host);
  return SSL_set_tlsext_host_name(e->ssl, host) &&
         (!c->check_host || X509_VERIFY_PARAM_set1_host(vp, host, 0));
}

int us__tlse_new(us__tlse_t **ep, us__tlse_ctx_t *c, us_tls_t *t,
                 const char *host) {
  *ep = NULL;
  /* Loaded by the first stream that verifies; later ones wait for it on
   * the lock, not to verify against a store half loaded. */
  if (c->verify != US_TLS_VERIFY_NONE && c->role == US_TLS_CLIENT) {
    if (!CRYPTO_THREAD_write_lock(c->lock))
      return US_TLS_ERR_ENGINE;
    int r = c->store_due ? load_store(c) : 0;
    c->store_due = 0;
    CRYPTO_THREAD_unlock(c->lock);
    if (r < 0)
      return r;
  }
  us__tlse_t *e = OPENSSL_zalloc(sizeof *e);
  if (!e)
    return -ENOMEM;
  e->owner = t;
  e->ssl = SSL_new(c->ssl);
  BIO *bio = e->ssl ? BIO_new(bio_method) : NULL;
  if (!bio) {
    us__tlse_free(e);
    ERR_clear_error();
    return -ENOMEM;
  }
  BIO_set_data(bio, e);
  SSL_set_bio(e->ssl, bio, bio);
  if (c->role == US_TLS_SERVER) {
    SSL_set_accept_state(e->ssl);
  } else {
    SSL_set_connect_state(e->ssl);
    if (host) {
      int ok = set_host(e, c, host);
      ERR_clear_error();
      if (!ok) {
        us__tlse_free(e);
        return -EINVAL;
      }
    }
  }
  *ep = e;
  return 0;
}

void us__tlse_free(us__tlse_t *e) {
  if (e) {
    SSL_free(e->ssl);
    OPENSSL_free(e);
  }
}

/* Starts a library call: its error queue must be empty, and so must our
 * notes of the last call's I/O. */
static void begin(us__tlse_t *e) {
  /* Looking first is far cheaper than a clear, which empties all 16
   * slots: the ping-pong of 64-byte messages costs 1,300 instructions a
   * round trip less (15,050 -> 13,735). */
  if (ERR_peek_error())
    ERR_clear_error();
  e->io_err = 0;
}

int us__tlse_handshake(us__tlse_t *e) {
  begin(e);
  int r = SSL_do_handshake(e->ssl);
  if (r == 1) {
    /* The handshake's record buffers (some 34 KiB) go back until the
     * first read or write takes them again: a session opened and left
     * idle holds no more than CPython's, whose ssl gives them back after
     * every record (SSL_MODE_RELEASE_BUFFERS, which costs the ping-pong
     * of 64-byte messages some 2,100 instructions a round trip). Kept if
     * they hold bytes that came with the handshake's last flight. */
    SSL_free_buffers(e->ssl);
    return 0;
  }
  r = failure(e, r);
  /* A handshake cut short by a clean close is still cut short. */
  return r == 0 ? US_TLS_ERR_TRUNCATED : r;
}

ssize_t us__tlse_read(us__tlse_t *e, void *buf, size_t len) {
  size_t got = 0;
  begin(e);
  int r = SSL_read_ex(e->ssl, buf, len, &got);
  return r == 1 ? (ssize_t)got : failure(e, r);
}

ssize_t us__tlse_write(us__tlse_t *e, const void *buf, size_t len) {
  size_t went = 0;
  begin(e);
  int r = SSL_write_ex(e->ssl, buf, len, &went);
  if (r == 1)
    return (ssize_t)went;
  r = failure(e, r);
  return r == 0 ? -EPIPE : r; /* the peer's close_notify: no more writes */
}

int us__tlse_close_notify(us__tlse_t *e) {
  begin(e);
  int r = SSL_shutdown(e->ssl);
  if (r >= 0)
    return 0; /* 0: ours went, the peer's not yet seen: enough */
  return failure(e, r);
}

size_t us__tlse_pending(const us__tlse_t *e) {
  int n = SSL_pending(e->ssl);
  /* Read ahead, a record may wait whole in the library's buffer while
   * the socket has nothing more: readable too. */
  if (n <= 0)
    return SSL_has_pending(e->ssl) ? 1 : 0;
  return (size_t)n;
}

/* ---- what a session can tell ------------------------------------------ */

ssize_t us__tlse_peer_cert(const us__tlse_t *e, void *buf, size_t len) {
  X509 *x = SSL_get0_peer_certificate(e->ssl);
  if (!x)
    return 0;
  unsigned char *der = NULL;
  int n = i2d_X509(x, &der);
  if (n <= 0) {
    ERR_clear_error();
    return US_TLS_ERR_ENGINE;
  }
  if (buf)
    memcpy(buf, der, (size_t)n < len ? (size_t)n : len);
  OPENSSL_free(der);
  return n;
}

int us__tlse_cipher(const us__tlse_t *e, const char **name,
                    const char **version, int *bits) {
  const SSL_CIPHER *c = SSL_get_current_cipher(e->ssl);
  if (!c || !SSL_is_init_finished(e->ssl))
    return -ENOTCONN;
  *name = SSL_CIPHER_get_name(c);
  *version = SSL_get_version(e->ssl);
  *bits = SSL_CIPHER_get_bits(c, NULL);
  return 0;
}

size_t us__tlse_ctx_cipher_names(const us__tlse_ctx_t *c, const char **names,
                                 size_t max) {
  STACK_OF(SSL_CIPHER) *all = SSL_CTX_get_ciphers(c->ssl);
  int n = all ? sk_SSL_CIPHER_num(all) : 0;
  for (int i = 0; i < n && (size_t)i < max; i++)
    names[i] = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(all, i));
  return n > 0 ? (size_t)n : 0;
}
