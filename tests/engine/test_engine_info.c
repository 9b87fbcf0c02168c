/* test_engine_info.c: what an engine tells of a session (engine.h's
 * us__tlse_peer_cert, us__tlse_cipher, us__tlse_ctx_cipher_names), tested
 * on the engine alone: this file is the core's I/O for it (a socketpair,
 * never waiting), and steps a client and a server in turn. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "tls/engine.h"

/* One end: the engine's "stream" handle is this. */
struct end {
  int fd;
  us__tlse_t *e;
};

ssize_t us__tls_io_send(us_tls_t *t, const void *buf, size_t len) {
  ssize_t n =
      send(((struct end *)t)->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  return n < 0 ? -errno : n;
}

ssize_t us__tls_io_recv(us_tls_t *t, void *buf, size_t len) {
  ssize_t n = recv(((struct end *)t)->fd, buf, len, MSG_DONTWAIT);
  return n < 0 ? -errno : n;
}

static char dir[64];

static const char *path(const char *name) {
  static char buf[2][128];
  static int i;
  char *p = buf[i++ % 2];
  snprintf(p, sizeof buf[0], "%s/%s", dir, name);
  return p;
}

/* A self-signed P-256 certificate for localhost and ::1, PEM and DER. */
static void make_cert(void) {
  char cmd[640];
  snprintf(dir, sizeof dir, "/tmp/us_etls_XXXXXX");
  ASSERT(mkdtemp(dir) != NULL);
  snprintf(cmd, sizeof cmd,
           "(cd %s && openssl req -x509 -newkey ec -pkeyopt "
           "ec_paramgen_curve:P-256 -nodes -keyout k.pem -out c.pem -days 2 "
           "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:::1 "
           "&& openssl x509 -in c.pem -outform DER "
           "-out c.der) >/dev/null 2>&1",
           dir);
  ASSERT_OK(system(cmd));
}

static void remove_cert(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ASSERT_OK(system(cmd));
}

/* Both handshakes, stepped in turn until both are done (bounded). */
static void handshake(struct end *c, struct end *s) {
  int rc = -EAGAIN, rs = -EAGAIN;
  for (int i = 0; i < 1000 && (rc != 0 || rs != 0); i++) {
    if (rc != 0)
      rc = us__tlse_handshake(c->e);
    if (rs != 0)
      rs = us__tlse_handshake(s->e);
    ASSERT(rc == 0 || rc == -EAGAIN);
    ASSERT(rs == 0 || rs == -EAGAIN);
    if (rc == -EAGAIN && rs == -EAGAIN) {
      struct pollfd p[2] = {{c->fd, POLLIN, 0}, {s->fd, POLLIN, 0}};
      ASSERT(poll(p, 2, 10000) > 0);
    }
  }
  ASSERT_OK(rc);
  ASSERT_OK(rs);
}

static const char suite[] = "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384";

static void engine_session_info(void) {
  make_cert();
  char chain[4096], key[4096], der[4096];
  size_t chain_len = read_file(path("c.pem"), chain, sizeof chain);
  size_t key_len = read_file(path("k.pem"), key, sizeof key);
  size_t der_len = read_file(path("c.der"), der, sizeof der);
  us__tlse_ctx_t *cc, *sc;
  ASSERT_OK(us__tlse_ctx_new(&cc, US_TLS_CLIENT));
  ASSERT_OK(us__tlse_ctx_new(&sc, US_TLS_SERVER));
  ASSERT_OK(us__tlse_ctx_verify(cc, US_TLS_VERIFY_NONE));
  ASSERT_OK(us__tlse_ctx_cert(sc, chain, chain_len, key, key_len));
  ASSERT_OK(us__tlse_ctx_ciphers(sc, suite));
  int sv[2];
  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  struct end c = {sv[0], NULL}, s = {sv[1], NULL};
  ASSERT_OK(us__tlse_new(&c.e, cc, (us_tls_t *)&c, NULL));
  ASSERT_OK(us__tlse_new(&s.e, sc, (us_tls_t *)&s, NULL));
  const char *name = NULL, *version = NULL;
  int bits = -1;
  ASSERT_EQ(us__tlse_cipher(c.e, &name, &version, &bits), -ENOTCONN);
  ASSERT_EQ(us__tlse_peer_cert(c.e, NULL, 0), 0);
  handshake(&c, &s);

  /* The client has the server's certificate, byte for byte; a short
   * buffer gets its start, and the length still. */
  char got[4096];
  ASSERT_EQ(us__tlse_peer_cert(c.e, NULL, 0), der_len);
  ASSERT_EQ(us__tlse_peer_cert(c.e, got, sizeof got), der_len);
  ASSERT(memcmp(got, der, der_len) == 0);
  memset(got, 'x', sizeof got);
  ASSERT_EQ(us__tlse_peer_cert(c.e, got, 10), der_len);
  ASSERT(memcmp(got, der, 10) == 0);
  ASSERT_EQ(got[10], 'x');
  /* The client sent none. */
  ASSERT_EQ(us__tlse_peer_cert(s.e, got, sizeof got), 0);

  /* The suite the server allowed, seen alike by both. */
  ASSERT_OK(us__tlse_cipher(c.e, &name, &version, &bits));
  ASSERT(strcmp(name, suite) == 0);
  ASSERT(strcmp(version, "TLSv1.2") == 0);
  ASSERT_EQ(bits, 256);
  ASSERT_OK(us__tlse_cipher(s.e, &name, &version, &bits));
  ASSERT(strcmp(name, suite) == 0);

  us__tlse_free(c.e);
  us__tlse_free(s.e);
  close(sv[0]);
  close(sv[1]);
  us__tlse_ctx_free(cc);
  us__tlse_ctx_free(sc);
  remove_cert();
}

static void engine_cipher_names(void) {
  us__tlse_ctx_t *c;
  ASSERT_OK(us__tlse_ctx_new(&c, US_TLS_CLIENT));
  /* The library's list by default: many, each with a name. */
  const char *names[512];
  size_t n = us__tlse_ctx_cipher_names(c, names, 512);
  ASSERT(n > 5 && n <= 512);
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    ASSERT(names[i] != NULL && names[i][0] != '\0');
    found |= strcmp(names[i], suite) == 0;
  }
  ASSERT(found);
  /* A list of ours: its suites in its order, unknown names left out. */
  ASSERT_OK(us__tlse_ctx_ciphers(c, "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256:"
                                    "NO-SUCH-SUITE,"
                                    "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"));
  ASSERT_EQ(us__tlse_ctx_cipher_names(c, names, 512), 2);
  ASSERT(strcmp(names[0], "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256") == 0);
  ASSERT(strcmp(names[1], suite) == 0);
  /* At most max of them are given; the count is still all. */
  names[1] = NULL;
  ASSERT_EQ(us__tlse_ctx_cipher_names(c, names, 1), 2);
  ASSERT(names[1] == NULL);
  ASSERT_EQ(us__tlse_ctx_cipher_names(c, NULL, 0), 2);
  us__tlse_ctx_free(c);
}

/* The client's handshake with host, to a server of sc, verifying with
 * cc: its result, the server's stepped along until the client is done. */
static int client_result(us__tlse_ctx_t *cc, us__tlse_ctx_t *sc,
                         const char *host) {
  int sv[2];
  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  struct end c = {sv[0], NULL}, s = {sv[1], NULL};
  ASSERT_OK(us__tlse_new(&c.e, cc, (us_tls_t *)&c, host));
  ASSERT_OK(us__tlse_new(&s.e, sc, (us_tls_t *)&s, NULL));
  int rc = -EAGAIN, rs = -EAGAIN;
  for (int i = 0; i < 1000 && rc == -EAGAIN; i++) {
    rc = us__tlse_handshake(c.e);
    if (rs == -EAGAIN)
      rs = us__tlse_handshake(s.e);
    if (rc == -EAGAIN && rs != -EAGAIN) {
      struct pollfd p = {c.fd, POLLIN, 0};
      ASSERT(poll(&p, 1, 10000) > 0);
    } else if (rc == -EAGAIN) {
      struct pollfd p[2] = {{c.fd, POLLIN, 0}, {s.fd, POLLIN, 0}};
      ASSERT(poll(p, 2, 10000) > 0);
    }
  }
  us__tlse_free(c.e);
  us__tlse_free(s.e);
  close(sv[0]);
  close(sv[1]);
  return rc;
}

/* An address as the host is checked against the certificate's iPAddress
 * names (mbedTLS 2.28 checks only DNS names: the engine does this). */
static void engine_ip_hosts(void) {
  make_cert();
  char chain[4096], key[4096];
  size_t chain_len = read_file(path("c.pem"), chain, sizeof chain);
  size_t key_len = read_file(path("k.pem"), key, sizeof key);
  us__tlse_ctx_t *cc, *sc;
  ASSERT_OK(us__tlse_ctx_new(&cc, US_TLS_CLIENT));
  ASSERT_OK(us__tlse_ctx_new(&sc, US_TLS_SERVER));
  ASSERT_OK(us__tlse_ctx_ca(cc, chain, chain_len));
  ASSERT_OK(us__tlse_ctx_cert(sc, chain, chain_len, key, key_len));
  ASSERT_OK(client_result(cc, sc, "localhost"));
  ASSERT_OK(client_result(cc, sc, "::1"));
  ASSERT_EQ(client_result(cc, sc, "::2"), US_TLS_ERR_HOSTNAME);
  ASSERT_EQ(client_result(cc, sc, "127.0.0.1"), US_TLS_ERR_HOSTNAME);
  ASSERT_EQ(client_result(cc, sc, "other.example"), US_TLS_ERR_HOSTNAME);
  us__tlse_ctx_free(cc);
  us__tlse_ctx_free(sc);
  remove_cert();
}

TEST_TABLE(engine_tests) = {{"engine_session_info", engine_session_info},
                            {"engine_cipher_names", engine_cipher_names},
                            {"engine_ip_hosts", engine_ip_hosts},
                            TEST_END};
