/* mbedtls.c: the TLS engine on mbedTLS (2.28, and 3.6 as MicroPython
 * builds it). Its bytes move through callbacks of ours whose reads and
 * writes are the core's (us__tls_io_*): mbedTLS never touches the
 * descriptor, and never waits.
 *
 * What differs from the OpenSSL engine:
 * - mbedTLS 2.28 speaks TLS 1.2 (its TLS 1.3 is experimental and left
 *   off); 3.6 speaks 1.2 and 1.3 where its build enables them.
 * - Suite names are mbedTLS's, e.g. "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"
 *   (a list separated by ',' or ':').
 * - mbedTLS 2.28 checks a host name only against DNS names: when the host
 *   given to a client is an IP address, this file checks the peer's
 *   certificate's iPAddress subjectAltNames itself (any version, so both
 *   behave alike), and sends no SNI, as the OpenSSL engine.
 * - A context's streams share its random generator, which locks itself
 *   only when mbedTLS has MBEDTLS_THREADING_C. */
#include "engine.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#if defined(MBEDTLS_THREADING_C)
#include <mbedtls/threading.h>
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif
#if MBEDTLS_VERSION_NUMBER < 0x03000000
#include <mbedtls/cipher.h>
#endif

const char us__tlse_name[] = "mbedtls";

/* The platform's CA bundle (Debian's and its kin's). */
#define STORE_FILE "/etc/ssl/certs/ca-certificates.crt"

/* What a context replaced (a chain and key, a suite list), kept until
 * the context goes: a stream in its handshake may still be reading it. */
struct kept {
  struct kept *next;
  mbedtls_x509_crt own;
  mbedtls_pk_context key;
  int *suites;
};

struct us__tlse_ctx {
  mbedtls_ssl_config conf;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg; /* locks itself under MBEDTLS_THREADING_C */
  mbedtls_x509_crt ca;
  mbedtls_x509_crt own; /* our chain, leaf first */
  mbedtls_pk_context key;
  int has_own; /* own and key are in conf */
  int *suites; /* the cipher list, 0-ended, or NULL: the library's */
  struct kept *kept;
  int role;
  int verify;
  int check_host; /* a client checks the host name it is given */
  /* A client trusts the platform's store unless given CAs: parsing the
   * bundle is costly, so it waits for the first stream that needs it. */
  int store_due;
#if defined(MBEDTLS_THREADING_C)
  mbedtls_threading_mutex_t lock; /* guards store_due and the load */
#endif
};

struct us__tlse {
  mbedtls_ssl_context ssl;
  us__tlse_ctx_t *ctx;
  us_tls_t *owner;
  unsigned char ip[16]; /* the host, when it is an address */
  size_t ip_len;        /* 4 or 16; 0: a name, or none */
  int io_err;           /* the error a read or write of ours met, or 0 */
  int done;             /* the handshake is over */
  int closed;           /* the peer's close_notify came */
};

/* ---- the core's I/O --------------------------------------------------- */

static int bio_send(void *arg, const unsigned char *buf, size_t len) {
  us__tlse_t *e = arg;
  ssize_t n = us__tls_io_send(e->owner, buf, len > INT_MAX ? INT_MAX : len);
  if (n > 0)
    return (int)n;
  if (n == -EAGAIN)
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  if (!e->io_err)
    e->io_err = n < 0 ? (int)n : -EPIPE;
  return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_recv(void *arg, unsigned char *buf, size_t len) {
  us__tlse_t *e = arg;
  ssize_t n = us__tls_io_recv(e->owner, buf, len > INT_MAX ? INT_MAX : len);
  if (n > 0)
    return (int)n;
  if (n == 0)
    return 0; /* the library's "connection EOF" */
  if (n == -EAGAIN)
    return MBEDTLS_ERR_SSL_WANT_READ;
  if (!e->io_err)
    e->io_err = (int)n;
  return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* ---- errors ----------------------------------------------------------- */

static int verify_error(uint32_t flags) {
  if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_MISSING))
    return US_TLS_ERR_UNTRUSTED;
  if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
    return US_TLS_ERR_EXPIRED;
  if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
    return US_TLS_ERR_HOSTNAME;
  return US_TLS_ERR_VERIFY;
}

/* What a failed call (ret < 0) of the library means for the core. */
static int failure(us__tlse_t *e, int ret) {
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
    return -EAGAIN;
  if (e->io_err)
    return e->io_err;
  switch (ret) {
  case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
    return 0;
  case MBEDTLS_ERR_SSL_CONN_EOF:
    return US_TLS_ERR_TRUNCATED;
  case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
    return US_TLS_ERR_ALERT;
  case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
    return verify_error(mbedtls_ssl_get_verify_result(&e->ssl));
  case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
    return US_TLS_ERR_NO_PEER_CERT;
  case MBEDTLS_ERR_SSL_ALLOC_FAILED:
    return -ENOMEM;
  case MBEDTLS_ERR_SSL_INTERNAL_ERROR:
    return US_TLS_ERR_ENGINE;
  default:
    return US_TLS_ERR_PROTOCOL;
  }
}

/* ---- contexts --------------------------------------------------------- */

static int rng(void *arg, unsigned char *buf, size_t len) {
  return mbedtls_ctr_drbg_random(arg, buf, len);
}

int us__tlse_ctx_new(us__tlse_ctx_t **cp, int role) {
  static const unsigned char who[] = "usocket";
  *cp = NULL;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
  /* 3.x's TLS reaches its crypto through PSA, which must be up. */
  if (psa_crypto_init() != PSA_SUCCESS)
    return US_TLS_ERR_ENGINE;
#endif
  us__tlse_ctx_t *c = calloc(1, sizeof *c);
  if (!c)
    return -ENOMEM;
  mbedtls_ssl_config_init(&c->conf);
  mbedtls_entropy_init(&c->entropy);
  mbedtls_ctr_drbg_init(&c->drbg);
  mbedtls_x509_crt_init(&c->ca);
  mbedtls_x509_crt_init(&c->own);
  mbedtls_pk_init(&c->key);
#if defined(MBEDTLS_THREADING_C)
  mbedtls_mutex_init(&c->lock);
#endif
  c->role = role;
  c->check_host = 1;
  c->store_due = role == US_TLS_CLIENT;
  int r = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
                                who, sizeof who - 1);
  if (r == 0)
    r = mbedtls_ssl_config_defaults(
        &c->conf,
        role == US_TLS_SERVER ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
        MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (r != 0) {
    us__tlse_ctx_free(c);
    return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : US_TLS_ERR_ENGINE;
  }
  mbedtls_ssl_conf_rng(&c->conf, rng, &c->drbg);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
  mbedtls_ssl_conf_min_tls_version(&c->conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
  mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                               MBEDTLS_SSL_MINOR_VERSION_3);
#endif
  mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
  us__tlse_ctx_verify(c, role == US_TLS_CLIENT ? US_TLS_VERIFY_REQUIRED
                                               : US_TLS_VERIFY_NONE);
  *cp = c;
  return 0;
}

void us__tlse_ctx_free(us__tlse_ctx_t *c) {
  if (!c)
    return;
  mbedtls_ssl_config_free(&c->conf);
  mbedtls_ctr_drbg_free(&c->drbg);
  mbedtls_entropy_free(&c->entropy);
  mbedtls_x509_crt_free(&c->ca);
  mbedtls_x509_crt_free(&c->own);
  mbedtls_pk_free(&c->key);
#if defined(MBEDTLS_THREADING_C)
  mbedtls_mutex_free(&c->lock);
#endif
  free(c->suites);
  while (c->kept) {
    struct kept *k = c->kept;
    c->kept = k->next;
    mbedtls_x509_crt_free(&k->own);
    mbedtls_pk_free(&k->key);
    free(k->suites);
    free(k);
  }
  free(c);
}

/* A node for what c replaces now, on its list. */
static struct kept *keep(us__tlse_ctx_t *c) {
  struct kept *k = calloc(1, sizeof *k);
  if (k) {
    mbedtls_x509_crt_init(&k->own);
    mbedtls_pk_init(&k->key);
    k->next = c->kept;
    c->kept = k;
  }
  return k;
}

int us__tlse_ctx_verify(us__tlse_ctx_t *c, int mode) {
  /* OPTIONAL: the library verifies a certificate but lets a bad one
   * pass; the handshake's end refuses it (a server's client may still
   * send none). A server refuses a client without one there too: with
   * TLS 1.3 the client's handshake is over by then, and an alert sent
   * from the library's handshake would reach it under keys it no longer
   * reads with; after the handshake both read the same. */
  int authmode = MBEDTLS_SSL_VERIFY_NONE;
  if (mode == US_TLS_VERIFY_OPTIONAL ||
      (mode == US_TLS_VERIFY_REQUIRED && c->role == US_TLS_SERVER))
    authmode = MBEDTLS_SSL_VERIFY_OPTIONAL;
  else if (mode == US_TLS_VERIFY_REQUIRED)
    authmode = MBEDTLS_SSL_VERIFY_REQUIRED;
  mbedtls_ssl_conf_authmode(&c->conf, authmode);
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

static void lock(us__tlse_ctx_t *c) {
#if defined(MBEDTLS_THREADING_C)
  mbedtls_mutex_lock(&c->lock);
#else
  (void)c;
#endif
}

static void unlock(us__tlse_ctx_t *c) {
#if defined(MBEDTLS_THREADING_C)
  mbedtls_mutex_unlock(&c->lock);
#else
  (void)c;
#endif
}

/* Called locked. A bundle some of whose certificates the library cannot
 * read still gives the others. No bundle (another system, or a build
 * without files) is an empty store, as OpenSSL's would be: the handshake
 * then finds no trusted issuer, unless asked (asked: the caller wants the
 * store itself, and learns it has none). */
static int load_store(us__tlse_ctx_t *c, int asked) {
  c->store_due = 0;
#if defined(MBEDTLS_FS_IO)
  /* SSL_CERT_FILE names another bundle, as it does for OpenSSL. */
  const char *file = getenv("SSL_CERT_FILE");
  int r =
      mbedtls_x509_crt_parse_file(&c->ca, file && *file ? file : STORE_FILE);
  int none =
      r == MBEDTLS_ERR_PK_FILE_IO_ERROR || r == MBEDTLS_ERR_X509_FILE_IO_ERROR;
  if (r >= 0 || (none && !asked))
    return 0;
  return r == MBEDTLS_ERR_X509_ALLOC_FAILED ? -ENOMEM : US_TLS_ERR_ENGINE;
#else
  return asked ? US_TLS_ERR_ENGINE : 0; /* no files: give CAs as data */
#endif
}

int us__tlse_ctx_ca_default(us__tlse_ctx_t *c) {
  lock(c);
  int r = load_store(c, 1);
  unlock(c);
  return r;
}

/* PEM text has a "-----BEGIN " line; DER never starts with a '-'. */
static int is_pem(const void *data, size_t len) {
  static const char mark[] = "-----BEGIN ";
  const size_t n = sizeof mark - 1;
  const char *p = data, *end = p + len;
  while ((size_t)(end - p) >= n &&
         (p = memchr(p, '-', (size_t)(end - p))) != NULL &&
         (size_t)(end - p) >= n) {
    if (memcmp(p, mark, n) == 0)
      return 1;
    p++;
  }
  return 0;
}

static size_t count_certs(const mbedtls_x509_crt *x) {
  size_t n = 0;
  for (; x && x->raw.p; x = x->next)
    n++;
  return n;
}

/* Parses the certificates in data (PEM: all of them, or one DER) onto
 * chain: 0, or a negative mbedTLS error, or > 0 when some were not
 * understood. The PEM parser wants text that ends in a NUL. */
static int parse_certs(mbedtls_x509_crt *chain, const void *data, size_t len) {
  if (!is_pem(data, len))
    return mbedtls_x509_crt_parse_der(chain, data, len);
  unsigned char *text = malloc(len + 1);
  if (!text)
    return MBEDTLS_ERR_X509_ALLOC_FAILED;
  memcpy(text, data, len);
  text[len] = '\0';
  int r = mbedtls_x509_crt_parse(chain, text, len + 1);
  free(text);
  return r;
}

int us__tlse_ctx_ca(us__tlse_ctx_t *c, const void *data, size_t len) {
  lock(c);
  c->store_due = 0;
  size_t before = count_certs(&c->ca);
  int r = parse_certs(&c->ca, data, len);
  size_t added = count_certs(&c->ca) - before;
  unlock(c);
  if (r == MBEDTLS_ERR_X509_ALLOC_FAILED)
    return -ENOMEM;
  return added ? 0 : US_TLS_ERR_BAD_CERT;
}

static int parse_key(us__tlse_ctx_t *c, mbedtls_pk_context *k, const void *data,
                     size_t len) {
  unsigned char *text = NULL;
  const unsigned char *p = data;
  if (is_pem(data, len)) {
    if (!(text = malloc(len + 1)))
      return -ENOMEM;
    memcpy(text, data, len);
    text[len++] = '\0';
    p = text;
  }
  /* No pass phrase: an encrypted key is a bad key here. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
  int r = mbedtls_pk_parse_key(k, p, len, NULL, 0, rng, &c->drbg);
#else
  (void)c;
  int r = mbedtls_pk_parse_key(k, p, len, NULL, 0);
#endif
  if (text) {
    memset(text, 0, len);
    free(text);
  }
  return r == 0 ? 0 : US_TLS_ERR_BAD_KEY;
}

int us__tlse_ctx_cert(us__tlse_ctx_t *c, const void *chain, size_t chain_len,
                      const void *key, size_t key_len) {
  mbedtls_x509_crt own;
  mbedtls_pk_context k;
  mbedtls_x509_crt_init(&own);
  mbedtls_pk_init(&k);
  int r = parse_certs(&own, chain, chain_len);
  if (r != 0 || !own.raw.p)
    r = r == MBEDTLS_ERR_X509_ALLOC_FAILED ? -ENOMEM : US_TLS_ERR_BAD_CERT;
  else
    r = parse_key(c, &k, key, key_len);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
  if (r == 0 && mbedtls_pk_check_pair(&own.pk, &k, rng, &c->drbg) != 0)
#else
  if (r == 0 && mbedtls_pk_check_pair(&own.pk, &k) != 0)
#endif
    r = US_TLS_ERR_KEY_MISMATCH;
  struct kept *old = r == 0 && c->has_own ? keep(c) : NULL;
  if (r == 0 && c->has_own && !old)
    r = -ENOMEM;
  if (r < 0) {
    mbedtls_x509_crt_free(&own);
    mbedtls_pk_free(&k);
    return r;
  }
  /* The config points at c->own and c->key: their contents change in
   * place (each call of mbedtls_ssl_conf_own_cert would add a pair). */
  if (old) {
    old->own = c->own;
    old->key = c->key;
  }
  c->own = own;
  c->key = k;
  if (!c->has_own) {
    r = mbedtls_ssl_conf_own_cert(&c->conf, &c->own, &c->key);
    if (r != 0)
      return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : US_TLS_ERR_ENGINE;
    c->has_own = 1;
  }
  return 0;
}

/* One list holds both versions' suites here: a list of one version's
 * only keeps the handshake to that version (a server would otherwise
 * pick TLS 1.3 and find no suite for it). */
static void versions_for(us__tlse_ctx_t *c, const int *ids) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
  int v12 = 0, v13 = 0;
  for (; *ids; ids++) {
    if (strncmp(mbedtls_ssl_get_ciphersuite_name(*ids), "TLS1-3-", 7) == 0)
      v13 = 1;
    else
      v12 = 1;
  }
  mbedtls_ssl_conf_min_tls_version(&c->conf, v12 ? MBEDTLS_SSL_VERSION_TLS1_2
                                                 : MBEDTLS_SSL_VERSION_TLS1_3);
  mbedtls_ssl_conf_max_tls_version(&c->conf, v13 ? MBEDTLS_SSL_VERSION_TLS1_3
                                                 : MBEDTLS_SSL_VERSION_TLS1_2);
#else
  (void)c, (void)ids; /* TLS 1.2 only */
#endif
}

int us__tlse_ctx_ciphers(us__tlse_ctx_t *c, const char *list) {
  size_t max = 1;
  for (const char *p = list; *p; p++)
    max += *p == ',' || *p == ':';
  int *ids = calloc(max + 1, sizeof *ids);
  if (!ids)
    return -ENOMEM;
  size_t n = 0;
  char name[128];
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",: ");
    if (len > 0 && len < sizeof name) {
      memcpy(name, p, len);
      name[len] = '\0';
      int id = mbedtls_ssl_get_ciphersuite_id(name);
      if (id != 0)
        ids[n++] = id; /* names it does not know are left out */
    }
    p += len;
    p += *p != '\0';
  }
  if (n == 0) {
    free(ids);
    return US_TLS_ERR_CIPHERS;
  }
  struct kept *old = c->suites ? keep(c) : NULL;
  if (c->suites && !old) {
    free(ids);
    return -ENOMEM;
  }
  if (old)
    old->suites = c->suites;
  versions_for(c, ids);
  mbedtls_ssl_conf_ciphersuites(&c->conf, ids);
  c->suites = ids;
  return 0;
}

size_t us__tlse_ctx_cipher_names(const us__tlse_ctx_t *c, const char **names,
                                 size_t max) {
  const int *ids = c->suites ? c->suites : mbedtls_ssl_list_ciphersuites();
  size_t n = 0;
  for (; *ids; ids++) {
    const char *name = mbedtls_ssl_get_ciphersuite_name(*ids);
    if (!name || strcmp(name, "unknown") == 0)
      continue;
    if (n < max)
      names[n] = name;
    n++;
  }
  return n;
}

/* ---- connections ------------------------------------------------------ */

/* An IP address in host: its bytes in ip, 4 or 16 of them; 0: a name. */
static size_t parse_ip(const char *host, unsigned char ip[16]) {
  us_addr_t a;
  if (us_addr_parse(&a, AF_INET, host, 1) == 0) {
    memcpy(ip, a.ip, 4);
    return 4;
  }
  if (strchr(host, ':') && us_addr_parse(&a, AF_INET6, host, 1) == 0) {
    memcpy(ip, a.ip, 16);
    return 16;
  }
  return 0;
}

/* The library verifies the chain; the leaf's iPAddress subjectAltNames
 * are ours to match (a SAN's tag is context-specific 7, its value the
 * address's bytes). */
static int verify_ip(void *arg, mbedtls_x509_crt *crt, int depth,
                     uint32_t *flags) {
  const us__tlse_t *e = arg;
  if (depth != 0)
    return 0;
  for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p;
       s = s->next) {
    if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) &&
        s->buf.len == e->ip_len && memcmp(s->buf.p, e->ip, e->ip_len) == 0)
      return 0;
  }
  *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
  return 0;
}

/* The name a client sends as SNI is also the one the library checks:
 * with the check off, a mismatch it found is forgotten, and the rest of
 * the verification stands. */
static int name_unchecked(void *arg, mbedtls_x509_crt *crt, int depth,
                          uint32_t *flags) {
  (void)arg, (void)crt;
  if (depth == 0)
    *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
  return 0;
}

int us__tlse_new(us__tlse_t **ep, us__tlse_ctx_t *c, us_tls_t *t,
                 const char *host) {
  *ep = NULL;
  /* Loaded by the first stream that verifies; later ones wait for it on
   * the lock, not to verify against a store half loaded. */
  if (c->verify != US_TLS_VERIFY_NONE && c->role == US_TLS_CLIENT) {
    lock(c);
    int r = c->store_due ? load_store(c, 0) : 0;
    unlock(c);
    if (r < 0)
      return r;
  }
  us__tlse_t *e = calloc(1, sizeof *e);
  if (!e)
    return -ENOMEM;
  e->owner = t;
  e->ctx = c;
  mbedtls_ssl_init(&e->ssl);
  int r = mbedtls_ssl_setup(&e->ssl, &c->conf);
  if (r == 0 && c->role == US_TLS_CLIENT) {
    e->ip_len = host ? parse_ip(host, e->ip) : 0;
    if (e->ip_len) {
      /* An address is checked as one, and is never sent as SNI. */
      r = mbedtls_ssl_set_hostname(&e->ssl, NULL);
      if (c->check_host)
        mbedtls_ssl_set_verify(&e->ssl, verify_ip, e);
    } else {
      /* NULL: no name to check (verification is off, or the core said
       * no name is needed). */
      r = mbedtls_ssl_set_hostname(&e->ssl, host);
      if (host && !c->check_host)
        mbedtls_ssl_set_verify(&e->ssl, name_unchecked, NULL);
    }
  }
  if (r != 0) {
    us__tlse_free(e);
    return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : -EINVAL;
  }
  mbedtls_ssl_set_bio(&e->ssl, e, bio_send, bio_recv, NULL);
  *ep = e;
  return 0;
}

void us__tlse_free(us__tlse_t *e) {
  if (e) {
    mbedtls_ssl_free(&e->ssl);
    free(e);
  }
}

static void begin(us__tlse_t *e) { e->io_err = 0; }

/* Tells the peer why we end the handshake, when the library did not. */
static void refuse(us__tlse_t *e, unsigned char alert) {
  int r = mbedtls_ssl_send_alert_message(&e->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                         alert);
  (void)r; /* best effort: the session ends either way */
}

/* What the library let pass (see us__tlse_ctx_verify): a certificate the
 * peer sent must have verified, and a server that requires one must have
 * had one. Told by the flags alone ("missing" is none sent): a build may
 * keep no copy of the peer's certificate. */
static int check_peer(us__tlse_t *e) {
  const us__tlse_ctx_t *c = e->ctx;
  if (c->verify == US_TLS_VERIFY_NONE ||
      (c->verify == US_TLS_VERIFY_REQUIRED && c->role == US_TLS_CLIENT))
    return 0;
  uint32_t flags = mbedtls_ssl_get_verify_result(&e->ssl);
  if (flags == 0)
    return 0;
  if (flags == MBEDTLS_X509_BADCERT_MISSING) {
    if (c->verify == US_TLS_VERIFY_OPTIONAL)
      return 0;
    refuse(e, MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
    return US_TLS_ERR_NO_PEER_CERT;
  }
  refuse(e, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
  return verify_error(flags);
}

/* TLS 1.2 here: the library sends each handshake message on its own,
 * so a peer that refuses us may close while our flight still goes, and
 * our write meets its reset. Its alert may wait, unread, on the socket:
 * if the next record is a fatal alert, that is why the handshake ended. */
static int alert_before_reset(us__tlse_t *e) {
  unsigned char rec[7];
  size_t got = 0;
  while (got < sizeof rec) {
    ssize_t n = us__tls_io_recv(e->owner, rec + got, sizeof rec - got);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  /* type 21 (alert), version 3.x, length 2, level 2 (fatal) */
  return got >= 6 && rec[0] == 21 && rec[1] == 3 && rec[3] == 0 &&
         rec[4] == 2 && rec[5] == 2;
}

int us__tlse_handshake(us__tlse_t *e) {
  begin(e);
  int r = mbedtls_ssl_handshake(&e->ssl);
  if (r == 0) {
    r = check_peer(e);
    e->done = r == 0;
    return r;
  }
  r = failure(e, r);
  if ((r == -EPIPE || r == -ECONNRESET) && alert_before_reset(e))
    return US_TLS_ERR_ALERT;
  /* A handshake cut short by a clean close is still cut short. */
  return r == 0 ? US_TLS_ERR_TRUNCATED : r;
}

ssize_t us__tlse_read(us__tlse_t *e, void *buf, size_t len) {
  /* The library says close_notify once; later reads would meet the
   * socket's end, which is no truncation then. */
  if (e->closed)
    return 0;
  for (;;) {
    begin(e);
    int r = mbedtls_ssl_read(&e->ssl, buf, len);
    if (r > 0)
      return r;
    if (r == 0) /* the stream's end, without close_notify */
      return len ? US_TLS_ERR_TRUNCATED : 0;
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
    if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
      continue; /* TLS 1.3: a ticket, not data */
#endif
    if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
      e->closed = 1;
    return failure(e, r);
  }
}

ssize_t us__tlse_write(us__tlse_t *e, const void *buf, size_t len) {
  begin(e);
  int r = mbedtls_ssl_write(&e->ssl, buf, len);
  if (r >= 0)
    return r;
  r = failure(e, r);
  return r == 0 ? -EPIPE : r; /* the peer's close_notify: no more writes */
}

int us__tlse_close_notify(us__tlse_t *e) {
  begin(e);
  int r = mbedtls_ssl_close_notify(&e->ssl);
  return r == 0 ? 0 : failure(e, r);
}

size_t us__tlse_pending(const us__tlse_t *e) {
  size_t n = mbedtls_ssl_get_bytes_avail(&e->ssl);
  /* A record may wait whole in the library's buffer, not yet decrypted,
   * while the socket has nothing more: readable too. */
  if (n == 0)
    return mbedtls_ssl_check_pending(&e->ssl) ? 1 : 0;
  return n;
}

/* ---- what a session can tell ------------------------------------------ */

ssize_t us__tlse_peer_cert(const us__tlse_t *e, void *buf, size_t len) {
  const mbedtls_x509_crt *x = mbedtls_ssl_get_peer_cert(&e->ssl);
  if (!x || !x->raw.p)
    return 0;
  if (buf)
    memcpy(buf, x->raw.p, len < x->raw.len ? len : x->raw.len);
  return (ssize_t)x->raw.len;
}

int us__tlse_cipher(const us__tlse_t *e, const char **name,
                    const char **version, int *bits) {
  if (!e->done)
    return -ENOTCONN;
  const char *suite = mbedtls_ssl_get_ciphersuite(&e->ssl);
  const mbedtls_ssl_ciphersuite_t *info =
      suite ? mbedtls_ssl_ciphersuite_from_string(suite) : NULL;
  if (!info)
    return -ENOTCONN;
  *name = suite;
  *version = mbedtls_ssl_get_version(&e->ssl);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
  *bits = (int)mbedtls_ssl_ciphersuite_get_cipher_key_bitlen(info);
#else
  const mbedtls_cipher_info_t *ci = mbedtls_cipher_info_from_type(info->cipher);
  *bits = ci ? (int)ci->key_bitlen : 0;
#endif
  return 0;
}
