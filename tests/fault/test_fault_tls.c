/* test_fault_tls.c: a TLS stream delivers every byte once, in order,
 * through EINTR storms and one-byte reads and writes at the backend, and
 * a signal's error ends one call without ending the session. The peer is
 * OpenSSL on a plain descriptor, out of the rules' reach. */
#ifdef US_TLS_ENGINE

#include <errno.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault_util.h"

#define STREAM_LEN ((size_t)200000)

static char dir[64];

/* A self-signed certificate for the peer (the client verifies none). */
static void make_cert(void) {
  char cmd[512];
  snprintf(dir, sizeof dir, "/tmp/us_ftls_XXXXXX");
  ASSERT(mkdtemp(dir) != NULL);
  snprintf(cmd, sizeof cmd,
           "cd %s && openssl req -x509 -newkey ec -pkeyopt "
           "ec_paramgen_curve:P-256 -nodes -keyout k.pem -out c.pem "
           "-days 2 -subj /CN=localhost >/dev/null 2>&1",
           dir);
  ASSERT_OK(system(cmd));
}

static void remove_cert(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ASSERT_OK(system(cmd));
}

struct tls_peer {
  pthread_t thread;
  int fd;
  size_t len; /* the pattern's bytes to send, then close_notify */
  int ok;
};

static void *tls_peer_run(void *arg) {
  struct tls_peer *p = arg;
  char cert[96], key[96];
  snprintf(cert, sizeof cert, "%s/c.pem", dir);
  snprintf(key, sizeof key, "%s/k.pem", dir);
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  ASSERT(SSL_CTX_use_certificate_chain_file(ctx, cert) == 1);
  ASSERT(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1);
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, p->fd);
  if (SSL_accept(ssl) == 1) {
    char *buf = malloc(p->len);
    pattern_fill(buf, 0, p->len);
    size_t went;
    p->ok = SSL_write_ex(ssl, buf, p->len, &went) == 1 && went == p->len &&
            SSL_shutdown(ssl) >= 0;
    free(buf);
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return NULL;
}

/* Our TLS client on *s, reading from an OpenSSL peer on the other end. */
static us_tls_t *client_with_peer(us_socket_t *s, us_socket_t *other,
                                  struct tls_peer *p, us_tls_ctx_t **ctx) {
  make_cert();
  tcp_pair(s, other);
  ASSERT_OK(us_settimeout(s, 10 * 1000 * MS));
  p->fd = other->fd;
  p->len = STREAM_LEN;
  ASSERT_OK(pthread_create(&p->thread, NULL, tls_peer_run, p));
  us_tls_t *t;
  ASSERT_OK(us_tls_ctx_new(ctx, US_TLS_CLIENT));
  ASSERT_OK(us_tls_ctx_verify(*ctx, US_TLS_VERIFY_NONE));
  ASSERT_OK(us_tls_new(&t, *ctx, s, NULL));
  return t;
}

static void finish(us_tls_t *t, us_tls_ctx_t *ctx, us_socket_t *a,
                   us_socket_t *b, struct tls_peer *p) {
  pthread_join(p->thread, NULL);
  ASSERT(p->ok);
  us_tls_free(t);
  us_tls_ctx_free(ctx);
  us_socket_close(a);
  us_socket_close(b);
  remove_cert();
  fault_done();
}

/* Reads the whole stream with us_tls_read, then its clean end. */
static void read_all_and_expect(us_tls_t *t) {
  struct heap_sink h;
  heap_sink_init(&h);
  ASSERT_EQ(us_tls_read(t, &h.sink, SIZE_MAX), STREAM_LEN);
  pattern_expect(h.sink.data, 0, STREAM_LEN);
  ASSERT_EQ(us_tls_read(t, &h.sink, SIZE_MAX), 0);
  free(h.sink.data);
}

static int checks;
static int count_checks(void) {
  checks++;
  return 0;
}

static void tls_eintr_storm_loses_nothing(void) {
  us_socket_t a, b;
  struct tls_peer p = {0};
  us_tls_ctx_t *ctx;
  static const us_host_t host = {NULL, NULL, count_checks, NULL, 0};
  guard(30);
  us_set_host(&host);
  us_tls_t *t = client_with_peer(&a, &b, &p, &ctx);
  us__fault_t f = {.err = -EINTR, .count = -1, .every = 2};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  ASSERT_OK(us__fault_add(US__FAULT_SEND, &f));
  read_all_and_expect(t);
  us__fault_stats_t st;
  us__fault_stats(&st);
  ASSERT(st.injected > 0);
  ASSERT(checks > 0);
  finish(t, ctx, &a, &b, &p);
}

static void tls_one_byte_reads_and_writes(void) {
  us_socket_t a, b;
  struct tls_peer p = {0};
  us_tls_ctx_t *ctx;
  guard(60);
  us_tls_t *t = client_with_peer(&a, &b, &p, &ctx);
  ASSERT_OK(us__fault_short(US__FAULT_RECV, 1, 20000));
  ASSERT_OK(us__fault_short(US__FAULT_SEND, 1, -1));
  read_all_and_expect(t);
  finish(t, ctx, &a, &b, &p);
}

/* The host's check, run before each wait and after an EINTR: gives up
 * once, at the EINTR the rule injects (a wait's checks before it pass). */
static int interrupts;
static int interrupt_at_fault(void) {
  us__fault_stats_t st;
  us__fault_stats(&st);
  if (st.injected == 0 || interrupts)
    return 0;
  interrupts++;
  return -EINTR;
}

/* Ctrl-C during a read: that call ends with the host's error, and the
 * next one goes on with the session, losing nothing. */
static void tls_signal_error_keeps_session(void) {
  us_socket_t a, b;
  struct tls_peer p = {0};
  us_tls_ctx_t *ctx;
  static const us_host_t host = {NULL, NULL, interrupt_at_fault, NULL, 0};
  guard(30);
  us_tls_t *t = client_with_peer(&a, &b, &p, &ctx);
  ASSERT_OK(us_tls_handshake(t));
  us_set_host(&host);
  /* The first receive after 40,000 bytes (two records and more) is
   * interrupted. */
  us__fault_t f = {.err = -EINTR, .count = 1, .after = 40000};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  struct heap_sink h;
  heap_sink_init(&h);
  ssize_t n = us_tls_read(t, &h.sink, SIZE_MAX);
  /* The bytes read before the signal are returned, and then nothing
   * more until the next call. */
  ASSERT(n > 0 && (size_t)n < STREAM_LEN);
  ASSERT_EQ(interrupts, 1);
  ASSERT_EQ(us_tls_read(t, &h.sink, SIZE_MAX), STREAM_LEN - (size_t)n);
  pattern_expect(h.sink.data, 0, STREAM_LEN);
  ASSERT_EQ(us_tls_read(t, &h.sink, SIZE_MAX), 0);
  free(h.sink.data);
  finish(t, ctx, &a, &b, &p);
}

TEST_TABLE(fault_tls_tests) = {
    {"fault_tls_eintr_storm_loses_nothing", tls_eintr_storm_loses_nothing},
    {"fault_tls_one_byte_reads_and_writes", tls_one_byte_reads_and_writes},
    {"fault_tls_signal_error_keeps_session", tls_signal_error_keeps_session},
    TEST_END};

#endif
