/* test_tls.c: TLS streams against real peers (openssl s_server, s_client,
 * curl, and ourselves), with certificates made by each test with
 * `openssl req`: the good ones, an expired one, one for another host. */
#ifdef US_TLS_ENGINE

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define SEC ((int64_t)1000000000)

/* ---- certificates --------------------------------------------------- */

static char pki_dir[64];
static int fds_before;

/* Under ASan: a leak check now (the test's child ends with _exit, which
 * skips the one at exit). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAKS() __lsan_do_recoverable_leak_check()
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define LEAKS() __lsan_do_recoverable_leak_check()
#endif
#endif
#ifndef LEAKS
#define LEAKS() 0
#endif

/* The file `name` of the test's certificates (four buffers in turn). */
static const char *pki(const char *name) {
  static char buf[4][128];
  static int i;
  char *p = buf[i++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s", pki_dir, name);
  return p;
}

/* A CA, and certificates it signed: srv (localhost and 127.0.0.1),
 * expired (the same names, out of date) and wrong (other.example); self,
 * which signed itself. */
static void pki_make(void) {
  fds_before = open_fds();
  snprintf(pki_dir, sizeof pki_dir, "/tmp/us_tls_XXXXXX");
  ASSERT(mkdtemp(pki_dir) != NULL);
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "set -e; cd %s; K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 "
           "-nodes'\n"
           "openssl req -x509 $K -keyout ca.key -out ca.pem -days 30 "
           "-subj /CN=usocket-test-ca\n"
           "mk() { openssl req $K -keyout $1.key -out $1.csr -subj /CN=$2\n"
           "  printf 'subjectAltName=%%s\\n' $3 >$1.ext\n"
           "  openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key "
           "-CAcreateserial -out $1.pem -days $4 -extfile $1.ext; }\n"
           "mk srv localhost DNS:localhost,IP:127.0.0.1 30\n"
           "mk expired localhost DNS:localhost,IP:127.0.0.1 -1\n"
           "mk wrong other.example DNS:other.example 30\n"
           "openssl req -x509 $K -keyout self.key -out self.pem -days 30 "
           "-subj /CN=self\n"
           "openssl x509 -in srv.pem -outform DER -out srv.der\n"
           "openssl x509 -in wrong.pem -outform DER -out wrong.der\n"
           "openssl pkey -in srv.key -outform DER -out srv.key.der\n"
           "openssl x509 -in ca.pem -outform DER -out ca.der\n",
           pki_dir);
  char sh[160];
  FILE *f = fopen(pki("make.sh"), "w");
  ASSERT(f != NULL);
  fputs(cmd, f);
  fclose(f);
  snprintf(sh, sizeof sh, "sh %s >/dev/null 2>&1", pki("make.sh"));
  ASSERT_OK(system(sh));
}

/* Removes the certificates, and checks that nothing leaked. */
static void pki_remove(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", pki_dir);
  ASSERT_OK(system(cmd));
  /* Every test ends here: nothing it opened or allocated is left. */
  ASSERT_EQ(open_fds(), fds_before);
  ASSERT_OK(LEAKS());
}

/* Gives c the certificate `name` and its key (name.pem, name.key). */
static void cert_file(us_tls_ctx_t *c, const char *name) {
  char cert[64], key[64];
  snprintf(cert, sizeof cert, "%s.pem", name);
  snprintf(key, sizeof key, "%s.key", name);
  ASSERT_OK(us_tls_ctx_cert_file(c, pki(cert), pki(key)));
}

static us_tls_ctx_t *server_ctx(const char *name) {
  us_tls_ctx_t *c;
  ASSERT_OK(us_tls_ctx_new(&c, US_TLS_SERVER));
  cert_file(c, name);
  return c;
}

static us_tls_ctx_t *client_ctx(void) {
  us_tls_ctx_t *c;
  ASSERT_OK(us_tls_ctx_new(&c, US_TLS_CLIENT));
  ASSERT_OK(us_tls_ctx_ca_file(c, pki("ca.pem")));
  return c;
}

/* The certificates, and the two contexts most tests use: our server's,
 * with srv's certificate, and a client's that trusts our CA. */
static void pki_begin(us_tls_ctx_t **sc, us_tls_ctx_t **cc) {
  pki_make();
  *sc = server_ctx("srv");
  *cc = client_ctx();
}

/* Frees two contexts, then removes the certificates (with pki_remove's
 * checks). */
static void pki_end(us_tls_ctx_t *a, us_tls_ctx_t *b) {
  us_tls_ctx_free(a);
  us_tls_ctx_free(b);
  pki_remove();
}

/* ---- processes ------------------------------------------------------ */

/* Runs argv with stdin and stdout as given (-1: /dev/null); it dies with
 * the test, even one that aborts. */
static pid_t spawn(char *const argv[], int in, int out) {
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDWR);
    dup2(in >= 0 ? in : null, 0);
    dup2(out >= 0 ? out : null, 1);
    dup2(null, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static int reap(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    ASSERT_EQ(errno, EINTR);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void stop(pid_t pid) {
  kill(pid, SIGTERM);
  reap(pid);
}

/* A port free now on 127.0.0.1, for a peer process to listen on. */
static uint16_t free_port(void) {
  us_socket_t s;
  us_addr_t a;
  tcp_listener(&s, &a);
  ASSERT_OK(us_socket_close(&s));
  return a.port;
}

/* Starts openssl s_server on a free port of 127.0.0.1, which it returns
 * in *port, with srv's certificate and the options in extra (ending with
 * NULL; at most 12 are taken). The names extra holds from pki() stay
 * good: this takes only two more of its four buffers. */
static pid_t s_server_start(uint16_t *port, char *const extra[]) {
  char accept[32];
  *port = free_port();
  snprintf(accept, sizeof accept, "127.0.0.1:%u", *port);
  char *argv[21] = {"openssl", "s_server",
                    "-accept", accept,
                    "-cert",   (char *)pki("srv.pem"),
                    "-key",    (char *)pki("srv.key")};
  for (int i = 0, n = 8; extra[i] && n < 20; i++)
    argv[n++] = extra[i];
  return spawn(argv, -1, -1);
}

/* Connects to 127.0.0.1:port, trying for up to 10 s while a peer process
 * starts; the socket gets a 10 s timeout. */
static void connect_retry(us_socket_t *s, uint16_t port) {
  us_addr_t a;
  ASSERT_OK(us_addr_parse(&a, AF_INET, "127.0.0.1", port));
  for (int i = 0;; i++) {
    ASSERT_OK(us_socket_open(s, AF_INET, SOCK_STREAM, 0));
    if (us_connect(s, &a) == 0)
      break;
    ASSERT_OK(us_socket_close(s));
    ASSERT(i < 200);
    usleep(50000);
  }
  ASSERT_OK(us_settimeout(s, 10 * SEC));
}

/* Reads fd to its end (at most cap - 1 bytes, NUL-terminated). */
static size_t read_all(int fd, char *buf, size_t cap) {
  size_t n = 0;
  ssize_t r;
  while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) != 0) {
    if (r < 0) {
      ASSERT_EQ(errno, EINTR);
      continue;
    }
    n += (size_t)r;
  }
  buf[n] = '\0';
  return n;
}

/* ---- a peer of ours, in a thread ------------------------------------ */

struct peer {
  us_socket_t sock;
  us_tls_ctx_t *ctx;
  const char *host;  /* client peers: the name to verify */
  const char *reply; /* written after the handshake, if not NULL */
  int notify;        /* then close_notify */
  int gated;         /* if so, before the handshake, a byte from: */
  int gate[2];       /* a pipe */
  int echo;          /* before the reply: a line, sent back */
  const char *raw;   /* after it: bytes straight on the socket */
  int hold_ms;       /* then a silence before the end */
  size_t raw_len;
  int result; /* the handshake's */
  pthread_t thread;
};

static void *peer_run(void *arg) {
  struct peer *p = arg;
  us_tls_t *t;
  ASSERT_OK(us_tls_new(&t, p->ctx, &p->sock, p->host));
  char go;
  if (p->gated)
    ASSERT_EQ(read(p->gate[0], &go, 1), 1);
  p->result = us_tls_handshake(t);
  if (p->result == 0 && p->echo) {
    struct heap_sink h;
    heap_sink_init(&h);
    ssize_t n = us_tls_readline(t, &h.sink, SIZE_MAX);
    ASSERT(n > 0);
    ASSERT_EQ(us_tls_write(t, h.sink.data, (size_t)n), n);
    free(h.sink.data);
  }
  if (p->result == 0 && p->reply)
    ASSERT_EQ(us_tls_write(t, p->reply, strlen(p->reply)),
              (ssize_t)strlen(p->reply));
  if (p->result == 0 && p->raw)
    ASSERT_EQ(us_write(&p->sock, p->raw, p->raw_len), (ssize_t)p->raw_len);
  if (p->result == 0 && p->notify)
    ASSERT_OK(us_tls_shutdown(t));
  if (p->hold_ms)
    usleep((useconds_t)p->hold_ms * 1000);
  us_tls_free(t);
  ASSERT_OK(us_socket_close(&p->sock));
  return NULL;
}

/* Runs our TLS server on sock in a thread. */
static void peer_start(struct peer *p, us_tls_ctx_t *ctx, const char *reply,
                       int notify) {
  p->ctx = ctx;
  p->reply = reply;
  p->notify = notify;
  ASSERT_OK(us_settimeout(&p->sock, 10 * SEC));
  ASSERT_OK(pthread_create(&p->thread, NULL, peer_run, p));
}

/* A client socket *c connected to our server p (its socket accepted). */
static void pair_with(us_socket_t *c, struct peer *p) {
  tcp_pair(c, &p->sock);
  ASSERT_OK(us_settimeout(c, 10 * SEC));
}

/* A client of ours (stream t on socket c, sink h for its reads) and our
 * server p in a thread, on the two ends of a loopback pair. */
struct session {
  struct peer p;
  us_socket_t c;
  us_tls_t *t;
  struct heap_sink h;
};

/* Starts our server with sc: it writes reply (if not NULL) after the
 * handshake, then close_notify if notify; s->p's other fields are set
 * before. The client, with cc, expects the name host. */
static void session_open(struct session *s, us_tls_ctx_t *sc, const char *reply,
                         int notify, us_tls_ctx_t *cc, const char *host) {
  pair_with(&s->c, &s->p);
  peer_start(&s->p, sc, reply, notify);
  ASSERT_OK(us_tls_new(&s->t, cc, &s->c, host));
  heap_sink_init(&s->h);
}

/* Waits for the server to end, then frees the client. */
static void session_close(struct session *s) {
  pthread_join(s->p.thread, NULL);
  free(s->h.sink.data);
  us_tls_free(s->t);
  ASSERT_OK(us_socket_close(&s->c));
}

/* The handshake of a client of ours to our server using cert `name`:
 * returns the client's result, and the server's in *server. */
static int client_meets(const char *name, us_tls_ctx_t *cc, const char *host,
                        int *server) {
  struct session s = {0};
  us_tls_ctx_t *sc = server_ctx(name);
  session_open(&s, sc, NULL, 0, cc, host);
  int r = us_tls_handshake(s.t);
  /* Closed before the server is waited for: a server still in its
   * handshake meets the end at once. */
  us_tls_free(s.t);
  ASSERT_OK(us_socket_close(&s.c));
  pthread_join(s.p.thread, NULL);
  *server = s.p.result;
  us_tls_ctx_free(sc);
  return r;
}

/* A client stream t on c, connected (if connect) to lsn, on which nobody
 * accepts: the kernel completes the connect, no handshake ever gets an
 * answer. */
struct silent {
  us_socket_t lsn, c;
  us_addr_t a;
  us_tls_ctx_t *cc;
  us_tls_t *t;
};

#define KEEP_TIMEOUT INT64_MIN

/* timeout_ns: c's timeout, or KEEP_TIMEOUT for the default. */
static void silent_open(struct silent *s, int connect, int64_t timeout_ns) {
  tcp_listener(&s->lsn, &s->a);
  ASSERT_OK(us_socket_open(&s->c, AF_INET, SOCK_STREAM, 0));
  if (connect)
    ASSERT_OK(us_connect(&s->c, &s->a));
  if (timeout_ns != KEEP_TIMEOUT)
    ASSERT_OK(us_settimeout(&s->c, timeout_ns));
  s->cc = client_ctx();
  ASSERT_OK(us_tls_new(&s->t, s->cc, &s->c, "localhost"));
}

/* Frees it all; c_closed: the test closed c itself. */
static void silent_close(struct silent *s, int c_closed) {
  us_tls_free(s->t);
  us_tls_ctx_free(s->cc);
  if (!c_closed)
    ASSERT_OK(us_socket_close(&s->c));
  ASSERT_OK(us_socket_close(&s->lsn));
}

/* ---- tests ----------------------------------------------------------- */

static void test_tls_client_to_openssl_s_server(void) {
  pki_make();
  uint16_t port;
  char *extra[] = {"-rev", "-quiet", NULL};
  pid_t pid = s_server_start(&port, extra);
  us_socket_t s;
  connect_retry(&s, port);
  us_tls_ctx_t *ctx = client_ctx();
  us_tls_t *t;
  ASSERT_OK(us_tls_new(&t, ctx, &s, "localhost"));
  ASSERT_OK(us_tls_handshake(t));
  ASSERT_EQ(us_tls_write(t, "hello world\n", 12), 12);
  struct heap_sink h;
  heap_sink_init(&h);
  ASSERT_EQ(us_tls_readline(t, &h.sink, SIZE_MAX), 12);
  ASSERT(memcmp(h.sink.data, "dlrow olleh\n", 12) == 0);
  free(h.sink.data);
  us_tls_free(t);
  us_tls_ctx_free(ctx);
  ASSERT_OK(us_socket_close(&s));
  stop(pid);
  pki_remove();
}

/* Our server: takes a line, answers one, and closes with close_notify. */
static void serve_one(us_socket_t *lsn, const char *name, const char *line,
                      const char *answer) {
  us_socket_t c;
  ASSERT_OK(us_settimeout(lsn, 10 * SEC));
  ASSERT_OK(us_accept(lsn, &c, NULL));
  us_tls_ctx_t *ctx = server_ctx(name);
  us_tls_t *t;
  ASSERT_OK(us_tls_new(&t, ctx, &c, NULL));
  ASSERT_OK(us_tls_handshake(t));
  struct heap_sink h;
  heap_sink_init(&h);
  ASSERT_EQ(us_tls_readline(t, &h.sink, 4096), (ssize_t)strlen(line));
  ASSERT(memcmp(h.sink.data, line, strlen(line)) == 0);
  free(h.sink.data);
  ASSERT_EQ(us_tls_write(t, answer, strlen(answer)), (ssize_t)strlen(answer));
  ASSERT_OK(us_tls_shutdown(t));
  us_tls_free(t);
  us_tls_ctx_free(ctx);
  ASSERT_OK(us_socket_close(&c));
}

static void test_tls_server_to_openssl_s_client(void) {
  pki_make();
  us_socket_t lsn;
  us_addr_t a;
  tcp_listener(&lsn, &a);
  char connect[32];
  snprintf(connect, sizeof connect, "127.0.0.1:%u", a.port);
  char *argv[] = {"openssl",
                  "s_client",
                  "-connect",
                  connect,
                  "-CAfile",
                  (char *)pki("ca.pem"),
                  "-verify_return_error",
                  "-verify_hostname",
                  "localhost",
                  "-quiet",
                  NULL};
  int in[2], out[2];
  ASSERT_OK(pipe(in));
  ASSERT_OK(pipe(out));
  pid_t pid = spawn(argv, in[0], out[1]);
  close(in[0]);
  close(out[1]);
  ASSERT_EQ(write(in[1], "ping\n", 5), 5);
  serve_one(&lsn, "srv", "ping\n", "pong\n");
  char buf[256];
  read_all(out[0], buf, sizeof buf);
  close(in[1]);
  close(out[0]);
  ASSERT(strstr(buf, "pong\n") != NULL);
  ASSERT_EQ(reap(pid), 0);
  ASSERT_OK(us_socket_close(&lsn));
  pki_remove();
}

static void test_tls_server_to_curl(void) {
  pki_make();
  us_socket_t lsn;
  us_addr_t a;
  tcp_listener(&lsn, &a);
  char url[64], resolve[64];
  snprintf(url, sizeof url, "https://localhost:%u/hello", a.port);
  snprintf(resolve, sizeof resolve, "localhost:%u:127.0.0.1", a.port);
  char *argv[] = {"curl",  "-sS",       "--max-time",
                  "20",    "--http1.1", "--resolve",
                  resolve, "--cacert",  (char *)pki("ca.pem"),
                  url,     NULL};
  int out[2];
  ASSERT_OK(pipe(out));
  pid_t pid = spawn(argv, -1, out[1]);
  close(out[1]);
  serve_one(&lsn, "srv", "GET /hello HTTP/1.1\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n"
            "\r\nhello\n");
  char buf[256];
  read_all(out[0], buf, sizeof buf);
  close(out[0]);
  ASSERT_EQ(reap(pid), 0);
  ASSERT(strcmp(buf, "hello\n") == 0);
  ASSERT_OK(us_socket_close(&lsn));
  pki_remove();
}

/* Lines over TLS: short ones several to a record, one longer than the
 * stream's buffer, and the rest at the end without a newline. */
static void test_tls_readline_to_our_server(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  size_t big = 100000;
  char *text = malloc(big + 64);
  strcpy(text, "a\nbb\nccc\n");
  size_t n = strlen(text);
  memset(text + n, 'x', big);
  n += big;
  strcpy(text + n, "\nlast");
  struct session s = {0};
  session_open(&s, sc, text, 1, cc, "127.0.0.1");
  us_tls_t *t = s.t;
  us_sink_t *sink = &s.h.sink;
  ASSERT_EQ(us_tls_readline(t, sink, SIZE_MAX), 2);
  ASSERT_EQ(us_tls_readline(t, sink, SIZE_MAX), 3);
  ASSERT(memcmp(sink->data, "a\nbb\n", 5) == 0);
  /* The third line's bytes came in the record already read: the stream
   * has them although the socket may not. */
  ASSERT(us_tls_pending(t) > 0);
  ASSERT(us_tls_poll(t, US_POLLIN) & US_POLLIN);
  ASSERT_EQ(us_tls_readline(t, sink, 2), 2); /* max bytes of a line */
  ASSERT_EQ(us_tls_readline(t, sink, SIZE_MAX), 2);
  sink->len = 0;
  ASSERT_EQ(us_tls_readline(t, sink, SIZE_MAX), (ssize_t)big + 1);
  ASSERT_EQ(sink->data[big], '\n');
  ASSERT_EQ(sink->data[0], 'x');
  sink->len = 0;
  ASSERT_EQ(us_tls_readline(t, sink, SIZE_MAX), 4);
  ASSERT(memcmp(sink->data, "last", 4) == 0);
  ASSERT_EQ(us_tls_readline(t, sink, SIZE_MAX), 0); /* close_notify */
  session_close(&s);
  ASSERT_OK(s.p.result);
  free(text);
  pki_end(sc, cc);
}

/* read with no short reads, recv with what is there, and the buffered
 * stream's fast path, over one connection. */
static void test_tls_read_recv_bufstream(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  struct session s = {0};
  session_open(&s, sc, "0123456789line\nrest", 1, cc, "localhost");
  us_sink_t *sink = &s.h.sink;
  char buf[8];
  ASSERT_EQ(us_tls_recv(s.t, buf, 4), 4);
  ASSERT(memcmp(buf, "0123", 4) == 0);
  ASSERT_EQ(us_tls_read(s.t, sink, 6), 6);
  ASSERT(memcmp(sink->data, "456789", 6) == 0);
  const char *line;
  size_t len;
  us_bufstream_t *b = us_tls_bufstream(s.t);
  ASSERT_EQ(us_bufstream_takeline(b, &line, &len, SIZE_MAX), 1);
  ASSERT_EQ(len, 5);
  ASSERT(memcmp(line, "line\n", 5) == 0);
  us_bufstream_takeline_done(b);
  sink->len = 0;
  ASSERT_EQ(us_tls_read(s.t, sink, SIZE_MAX), 4); /* to the end */
  ASSERT(memcmp(sink->data, "rest", 4) == 0);
  session_close(&s);
  pki_end(sc, cc);
}

struct reader {
  us_tls_t *t;
  ssize_t n;
  char line[16];
};

static void *read_a_line(void *arg) {
  struct reader *r = arg;
  us_sink_t sink;
  us_sink_fixed(&sink, r->line, sizeof r->line);
  r->n = us_tls_readline(r->t, &sink, sizeof r->line);
  return NULL;
}

/* Completes t's handshake, then reads a line of it in thread *th. */
static void reader_start(struct reader *r, us_tls_t *t, pthread_t *th) {
  r->t = t;
  ASSERT_OK(us_tls_handshake(t));
  ASSERT_OK(pthread_create(th, NULL, read_a_line, r));
}

/* A reader blocked in one thread leaves the stream to a writer in
 * another: the write goes out and brings the reader its answer. */
static void test_tls_reader_and_writer_threads(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  struct session s = {0};
  s.p.echo = 1;
  session_open(&s, sc, NULL, 1, cc, "localhost");
  struct reader r = {NULL, 0, {0}};
  pthread_t th;
  reader_start(&r, s.t, &th);
  usleep(100000); /* the reader waits for the socket by now */
  ASSERT_EQ(us_tls_write(r.t, "ping\n", 5), 5);
  pthread_join(th, NULL);
  ASSERT_EQ(r.n, 5);
  ASSERT(memcmp(r.line, "ping\n", 5) == 0);
  session_close(&s);
  pki_end(sc, cc);
}

/* A close from another thread wakes a read blocked on a silent peer. */
static void test_tls_close_wakes_read(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  struct session s = {0};
  s.p.hold_ms = 1500;
  session_open(&s, sc, NULL, 0, cc, "localhost");
  struct reader r = {NULL, 0, {0}};
  pthread_t th;
  reader_start(&r, s.t, &th);
  usleep(200000);
  int64_t t0 = now_ms();
  ASSERT_OK(us_socket_close(&s.c));
  pthread_join(th, NULL);
  ASSERT(now_ms() - t0 <= LATE_MS(0));
  ASSERT_EQ(r.n, -EBADF);
  pthread_join(s.p.thread, NULL);
  us_tls_free(r.t);
  pki_end(sc, cc);
}

/* A server that accepts and never answers: the handshake ends at the
 * socket's deadline, not before, and not much after. */
static void test_tls_handshake_deadline(void) {
  pki_make();
  struct silent s;
  silent_open(&s, 1, 300 * 1000000);
  int64_t t0 = now_ms();
  ASSERT_EQ(us_tls_handshake(s.t), -ETIMEDOUT);
  int64_t took = now_ms() - t0;
  ASSERT(took >= 300);
  ASSERT(took <= LATE_MS(300));
  /* The first read runs the handshake too, under its own deadline. */
  struct heap_sink h;
  heap_sink_init(&h);
  t0 = now_ms();
  ASSERT_EQ(us_tls_readline(s.t, &h.sink, SIZE_MAX), -ETIMEDOUT);
  ASSERT(now_ms() - t0 <= LATE_MS(300));
  free(h.sink.data);
  silent_close(&s, 0);
  pki_remove();
}

struct blocked {
  us_tls_t *t;
  int result;
};

static void *handshake_blocked(void *arg) {
  struct blocked *b = arg;
  b->result = us_tls_handshake(b->t);
  return NULL;
}

/* A close from another thread wakes a handshake blocked on a silent
 * server at once. */
static void test_tls_close_wakes_handshake(void) {
  pki_make();
  struct silent s;
  silent_open(&s, 1, KEEP_TIMEOUT);
  struct blocked b = {s.t, 1};
  pthread_t th;
  ASSERT_OK(pthread_create(&th, NULL, handshake_blocked, &b));
  usleep(200000);
  int64_t t0 = now_ms();
  ASSERT_OK(us_socket_close(&s.c));
  pthread_join(th, NULL);
  ASSERT(now_ms() - t0 <= LATE_MS(0));
  ASSERT_EQ(b.result, -EBADF);
  silent_close(&s, 1);
  pki_remove();
}

static volatile sig_atomic_t interrupted;
static void on_alarm(int sig) {
  (void)sig;
  interrupted = 1;
}
static int check_interrupt(void) { return interrupted ? -EINTR : 0; }

/* Ctrl-C during a handshake: the host's signal check runs as the signal
 * comes and its error ends the call, long before the deadline. */
static void test_tls_signal_ends_handshake(void) {
  pki_make();
  static const us_host_t host = {NULL, NULL, check_interrupt, NULL, 0};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: the wait sees EINTR */
  ASSERT_OK(sigaction(SIGALRM, &sa, NULL));
  us_set_host(&host);
  struct silent s;
  silent_open(&s, 1, 10 * SEC);
  ualarm(200000, 0);
  int64_t t0 = now_ms();
  ASSERT_EQ(us_tls_handshake(s.t), -EINTR);
  ASSERT(now_ms() - t0 <= LATE_MS(200));
  ASSERT(interrupted);
  us_set_host(NULL);
  silent_close(&s, 0);
  pki_remove();
}

static void test_tls_untrusted_expired_wrong_host(void) {
  pki_make();
  int server;
  us_tls_ctx_t *cc = client_ctx(), *bare;
  /* The platform's store only: our CA is not in it. */
  ASSERT_OK(us_tls_ctx_new(&bare, US_TLS_CLIENT));
  ASSERT_EQ(client_meets("srv", bare, "localhost", &server),
            US_TLS_ERR_UNTRUSTED);
  ASSERT_EQ(server, US_TLS_ERR_ALERT);
  ASSERT_EQ(client_meets("expired", cc, "localhost", &server),
            US_TLS_ERR_EXPIRED);
  ASSERT_EQ(client_meets("wrong", cc, "localhost", &server),
            US_TLS_ERR_HOSTNAME);
  ASSERT_EQ(client_meets("srv", cc, "other.example", &server),
            US_TLS_ERR_HOSTNAME);
  ASSERT_EQ(client_meets("srv", cc, "127.0.0.2", &server), US_TLS_ERR_HOSTNAME);
  /* The good case on the same path, by name and by address. */
  ASSERT_OK(client_meets("srv", cc, "localhost", &server));
  ASSERT_OK(server);
  ASSERT_OK(client_meets("srv", cc, "127.0.0.1", &server));
  /* Verification off: the untrusted one is accepted. */
  ASSERT_OK(us_tls_ctx_verify(bare, US_TLS_VERIFY_NONE));
  ASSERT_OK(client_meets("expired", bare, NULL, &server));
  /* Each error has its own message. */
  ASSERT(strstr(us_strerror(US_TLS_ERR_UNTRUSTED), "not trusted") != NULL);
  ASSERT(strstr(us_strerror(US_TLS_ERR_HOSTNAME), "host") != NULL);
  ASSERT(strstr(us_strerror(US_TLS_ERR_EXPIRED), "expired") != NULL);
  pki_end(cc, bare);
}

/* Whether the peer's certificate is the file `der` holds. */
static int peer_cert_is(us_tls_t *t, const char *der) {
  char got[4096], want[4096];
  size_t n = read_file(pki(der), want, sizeof want);
  return us_tls_peer_cert(t, got, sizeof got) == (ssize_t)n &&
         memcmp(got, want, n) == 0;
}

/* The host name unchecked: a trusted certificate for another name (or
 * address) is accepted, and a verifying client may give no name; an
 * untrusted or expired one still fails. Checked again, the name must
 * match. */
static void test_tls_check_host_off(void) {
  pki_make();
  int server;
  us_tls_ctx_t *cc = client_ctx(), *bare;
  ASSERT_OK(us_tls_ctx_new(&bare, US_TLS_CLIENT)); /* the platform's CAs */
  ASSERT_OK(us_tls_ctx_check_host(cc, 0));
  ASSERT_OK(us_tls_ctx_check_host(bare, 0));
  ASSERT_OK(client_meets("wrong", cc, "localhost", &server));
  ASSERT_OK(server);
  ASSERT_OK(client_meets("srv", cc, "other.example", &server));
  ASSERT_OK(client_meets("srv", cc, "127.0.0.2", &server));
  ASSERT_OK(client_meets("wrong", cc, NULL, &server));
  ASSERT_EQ(client_meets("srv", bare, "localhost", &server),
            US_TLS_ERR_UNTRUSTED);
  ASSERT_EQ(client_meets("expired", cc, "other.example", &server),
            US_TLS_ERR_EXPIRED);
  ASSERT_OK(us_tls_ctx_verify(cc, US_TLS_VERIFY_OPTIONAL));
  ASSERT_OK(client_meets("wrong", cc, "localhost", &server));
  ASSERT_OK(us_tls_ctx_verify(cc, US_TLS_VERIFY_REQUIRED));
  ASSERT_OK(us_tls_ctx_check_host(cc, 1));
  ASSERT_EQ(client_meets("wrong", cc, "localhost", &server),
            US_TLS_ERR_HOSTNAME);
  ASSERT_EQ(client_meets("srv", cc, "127.0.0.2", &server), US_TLS_ERR_HOSTNAME);
  us_socket_t a, b;
  us_tls_t *t;
  tcp_pair(&a, &b);
  ASSERT_EQ(us_tls_new(&t, cc, &a, NULL), US_TLS_ERR_NO_HOST);
  ASSERT_OK(us_socket_close(&a));
  ASSERT_OK(us_socket_close(&b));
  pki_end(cc, bare);
}

/* With the name unchecked, the host still goes as SNI: a server that
 * picks its certificate by SNI (openssl s_server's second one) shows the
 * one for the name asked. */
static void test_tls_check_host_off_sends_sni(void) {
  pki_make();
  uint16_t port;
  char *extra[] = {"-servername", "other.example",
                   "-cert2",      (char *)pki("wrong.pem"),
                   "-key2",       (char *)pki("wrong.key"),
                   "-naccept",    "2",
                   "-quiet",      NULL};
  pid_t pid = s_server_start(&port, extra);
  us_tls_ctx_t *ctx = client_ctx();
  ASSERT_OK(us_tls_ctx_check_host(ctx, 0));
  const char *host[2] = {"other.example", "localhost"};
  const char *want[2] = {"wrong.der", "srv.der"};
  for (int i = 0; i < 2; i++) {
    us_socket_t s;
    us_tls_t *t;
    connect_retry(&s, port);
    ASSERT_OK(us_tls_new(&t, ctx, &s, host[i]));
    ASSERT_OK(us_tls_handshake(t));
    ASSERT(peer_cert_is(t, want[i]));
    us_tls_free(t);
    ASSERT_OK(us_socket_close(&s));
  }
  us_tls_ctx_free(ctx);
  stop(pid);
  pki_remove();
}

/* Bytes that are not TLS, to a client and to a server. */
static void test_tls_garbage_is_protocol_error(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  static const char junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
  us_socket_t a, b;
  us_tls_t *t;
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&a, 10 * SEC));
  ASSERT_EQ(us_write(&b, junk, sizeof junk - 1), (ssize_t)sizeof junk - 1);
  ASSERT_OK(us_tls_new(&t, cc, &a, "localhost"));
  ASSERT_EQ(us_tls_handshake(t), US_TLS_ERR_PROTOCOL);
  /* The session is over: every later call says so again. */
  ASSERT_EQ(us_tls_write(t, "x", 1), US_TLS_ERR_PROTOCOL);
  us_tls_free(t);
  ASSERT_OK(us_socket_close(&a));
  ASSERT_OK(us_socket_close(&b));
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&b, 10 * SEC));
  ASSERT_EQ(us_write(&a, "GET / HTTP/1.0\r\n\r\n", 18), 18);
  ASSERT_OK(us_tls_new(&t, sc, &b, NULL));
  ASSERT_EQ(us_tls_handshake(t), US_TLS_ERR_PROTOCOL);
  us_tls_free(t);
  ASSERT_OK(us_socket_close(&a));
  ASSERT_OK(us_socket_close(&b));
  pki_end(sc, cc);
}

/* A peer that closes without close_notify: the bytes before it arrive,
 * then an error, never a quiet end of file. With close_notify: EOF. */
static void test_tls_close_without_notify_is_error(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  for (int notify = 0; notify <= 1; notify++) {
    struct session s = {0};
    session_open(&s, sc, "partial", notify, cc, "localhost");
    us_sink_t *sink = &s.h.sink;
    ASSERT_EQ(us_tls_read(s.t, sink, 100), 7);
    ASSERT(memcmp(sink->data, "partial", 7) == 0);
    sink->len = 0;
    if (notify) {
      ASSERT_EQ(us_tls_read(s.t, sink, 100), 0);
    } else {
      ASSERT_EQ(us_tls_read(s.t, sink, 100), US_TLS_ERR_TRUNCATED);
      ASSERT_EQ(us_tls_readline(s.t, sink, 100), US_TLS_ERR_TRUNCATED);
    }
    session_close(&s);
  }
  pki_end(sc, cc);
}

/* What a reading client meets after "ok" when the server then sends
 * raw bytes and closes without close_notify. */
static int read_after_raw(us_tls_ctx_t *sc, us_tls_ctx_t *cc, const char *raw,
                          size_t raw_len) {
  struct session s = {0};
  s.p.raw = raw;
  s.p.raw_len = raw_len;
  session_open(&s, sc, "ok", 0, cc, "localhost");
  ASSERT_EQ(us_tls_read(s.t, &s.h.sink, 2), 2);
  s.h.sink.len = 0;
  ssize_t r = us_tls_read(s.t, &s.h.sink, 100);
  session_close(&s);
  return (int)r;
}

/* A peer that closes in the middle of a record, and one that announces
 * a record larger than TLS allows. */
static void test_tls_cut_and_huge_records(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  /* Application data, 64 bytes announced, 10 sent. */
  static const char cut[] = "\x17\x03\x03\x00\x40"
                            "0123456789";
  ASSERT_EQ(read_after_raw(sc, cc, cut, sizeof cut - 1), US_TLS_ERR_TRUNCATED);
  /* 65,535 bytes announced: more than any record may hold. */
  static const char huge[] = "\x17\x03\x03\xff\xff"
                             "0123456789";
  ASSERT_EQ(read_after_raw(sc, cc, huge, sizeof huge - 1), US_TLS_ERR_PROTOCOL);
  pki_end(sc, cc);
}

/* Non-blocking: the handshake and a read say -EAGAIN and what they wait
 * for, and finish once that is ready. */
static void test_tls_nonblocking(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  struct session s = {0};
  /* The server answers only once let go: the client's first step must
   * wait for its reply. */
  s.p.gated = 1;
  ASSERT_OK(pipe(s.p.gate));
  session_open(&s, sc, "late\n", 0, cc, "localhost");
  ASSERT_OK(us_settimeout(&s.c, 0));
  ASSERT_EQ(us_tls_handshake(s.t), -EAGAIN);
  ASSERT_EQ(us_tls_wants(s.t), US_POLLIN);
  ASSERT_EQ(write(s.p.gate[1], "", 1), 1);
  int r, rounds = 0;
  while ((r = us_tls_handshake(s.t)) == -EAGAIN) {
    struct pollfd pfd = {s.c.fd, (short)us_tls_wants(s.t), 0};
    ASSERT(poll(&pfd, 1, 10000) == 1);
    ASSERT(++rounds < 100);
  }
  ASSERT_OK(r);
  ssize_t n;
  rounds = 0;
  while ((n = us_tls_readline(s.t, &s.h.sink, SIZE_MAX)) == -EAGAIN) {
    ASSERT_EQ(us_tls_wants(s.t), US_POLLIN);
    struct pollfd pfd = {s.c.fd, POLLIN, 0};
    ASSERT(poll(&pfd, 1, 10000) == 1);
    ASSERT(++rounds < 100);
  }
  ASSERT_EQ(n, 5);
  ASSERT(memcmp(s.h.sink.data, "late\n", 5) == 0);
  session_close(&s);
  close(s.p.gate[0]);
  close(s.p.gate[1]);
  pki_end(sc, cc);
}

/* Certificates and keys in DER, and a CA given as bytes. */
static void test_tls_der_and_data(void) {
  pki_make();
  us_tls_ctx_t *sc, *cc;
  ASSERT_OK(us_tls_ctx_new(&sc, US_TLS_SERVER));
  ASSERT_OK(us_tls_ctx_cert_file(sc, pki("srv.der"), pki("srv.key.der")));
  ASSERT_OK(us_tls_ctx_new(&cc, US_TLS_CLIENT));
  char der[4096];
  size_t n = read_file(pki("ca.der"), der, sizeof der);
  ASSERT_OK(us_tls_ctx_ca_data(cc, der, n));
  struct session s = {0};
  session_open(&s, sc, "der\n", 1, cc, "localhost");
  ASSERT_EQ(us_tls_readline(s.t, &s.h.sink, SIZE_MAX), 4);
  session_close(&s);
  ASSERT_OK(s.p.result);
  pki_end(sc, cc);
}

/* A server that requires a client certificate: refused without one,
 * accepted with one its CA signed. */
static void test_tls_client_certificate(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  ASSERT_OK(us_tls_ctx_verify(sc, US_TLS_VERIFY_REQUIRED));
  ASSERT_OK(us_tls_ctx_ca_file(sc, pki("ca.pem")));
  for (int with_cert = 0; with_cert <= 1; with_cert++) {
    if (with_cert)
      cert_file(cc, "srv");
    struct session s = {0};
    session_open(&s, sc, "welcome\n", 1, cc, "localhost");
    /* TLS 1.3: the client's handshake ends before the server has looked
     * at its certificate; the refusal comes as an alert to its read. */
    ssize_t r = us_tls_readline(s.t, &s.h.sink, SIZE_MAX);
    session_close(&s);
    if (with_cert) {
      ASSERT_EQ(r, 8);
      ASSERT_OK(s.p.result);
    } else {
      ASSERT_EQ(r, US_TLS_ERR_ALERT);
      ASSERT_EQ(s.p.result, US_TLS_ERR_NO_PEER_CERT);
    }
  }
  pki_end(sc, cc);
}

/* A server that verifies a client certificate if one comes: none is
 * fine, a good one is, one it cannot trust ends the handshake. */
static void test_tls_verify_optional(void) {
  pki_make();
  us_tls_ctx_t *sc = server_ctx("srv");
  ASSERT_OK(us_tls_ctx_verify(sc, US_TLS_VERIFY_OPTIONAL));
  ASSERT_OK(us_tls_ctx_ca_file(sc, pki("ca.pem")));
  static const char *const certs[] = {NULL, "srv", "self"};
  for (int i = 0; i < 3; i++) {
    us_tls_ctx_t *cc = client_ctx();
    if (certs[i])
      cert_file(cc, certs[i]);
    struct session s = {0};
    session_open(&s, sc, "hi\n", 1, cc, "localhost");
    ssize_t r = us_tls_readline(s.t, &s.h.sink, SIZE_MAX);
    session_close(&s);
    if (i < 2) {
      ASSERT_EQ(r, 3);
      ASSERT_OK(s.p.result);
    } else {
      ASSERT_EQ(r, US_TLS_ERR_ALERT);
      ASSERT_EQ(s.p.result, US_TLS_ERR_UNTRUSTED);
    }
    us_tls_ctx_free(cc);
  }
  us_tls_ctx_free(sc);
  pki_remove();
}

/* A context given a second chain and key serves the second one only. */
static void test_tls_cert_replaced(void) {
  pki_make();
  us_tls_ctx_t *sc = server_ctx("wrong"), *cc = client_ctx();
  /* First wrong's certificate, for other.example; then srv's in its place,
   * for localhost. */
  static const char *const hosts[] = {"other.example", "localhost"};
  for (int i = 0; i < 2; i++) {
    if (i)
      cert_file(sc, "srv");
    struct session s = {0};
    session_open(&s, sc, NULL, 0, cc, hosts[i]);
    ASSERT_OK(us_tls_handshake(s.t));
    session_close(&s);
    ASSERT_OK(s.p.result);
  }
  pki_end(sc, cc);
}

/* The platform's store, named by SSL_CERT_FILE: a bundle with our CA is
 * trusted; no bundle at all is a store that trusts nothing. */
static void test_tls_platform_store_file(void) {
  pki_make();
  int server;
  us_tls_ctx_t *cc;
  ASSERT_OK(setenv("SSL_CERT_FILE", pki("ca.pem"), 1));
  ASSERT_OK(us_tls_ctx_new(&cc, US_TLS_CLIENT));
  ASSERT_OK(client_meets("srv", cc, "localhost", &server));
  us_tls_ctx_free(cc);
  ASSERT_OK(setenv("SSL_CERT_FILE", pki("missing.pem"), 1));
  ASSERT_OK(us_tls_ctx_new(&cc, US_TLS_CLIENT));
  ASSERT_EQ(client_meets("srv", cc, "localhost", &server),
            US_TLS_ERR_UNTRUSTED);
  us_tls_ctx_free(cc);
  ASSERT_OK(unsetenv("SSL_CERT_FILE"));
  pki_remove();
}

/* Contexts: what they refuse, with the error that names it. */
static void test_tls_context_errors(void) {
  pki_make();
  us_tls_ctx_t *c, *s;
  us_tls_t *t;
  us_socket_t a, b;
  ASSERT_EQ(us_tls_ctx_new(&c, 7), -EINVAL);
  ASSERT_OK(us_tls_ctx_new(&c, US_TLS_CLIENT));
  ASSERT_OK(us_tls_ctx_new(&s, US_TLS_SERVER));
  ASSERT_EQ(us_tls_ctx_ca_file(c, pki("missing.pem")), -ENOENT);
  ASSERT_EQ(us_tls_ctx_ca_data(c, "not a certificate", 17),
            US_TLS_ERR_BAD_CERT);
  ASSERT_EQ(us_tls_ctx_cert_file(s, pki("srv.pem"), pki("srv.pem")),
            US_TLS_ERR_BAD_KEY);
  ASSERT_EQ(us_tls_ctx_cert_file(s, pki("srv.pem"), pki("wrong.key")),
            US_TLS_ERR_KEY_MISMATCH);
  ASSERT_EQ(us_tls_ctx_ciphers(c, "NO-SUCH-CIPHER"), US_TLS_ERR_CIPHERS);
  if (strcmp(us_tls_engine(), "mbedtls") == 0) {
    /* mbedTLS's own names, a list of them; names it does not know are
     * left out of one that has some it knows. */
    ASSERT_OK(us_tls_ctx_ciphers(c, "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"));
    ASSERT_OK(us_tls_ctx_ciphers(
        c, "NO-SUCH-CIPHER:TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256,"
           "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"));
    ASSERT_EQ(us_tls_ctx_ciphers(c, "NO-SUCH,OTHER:"), US_TLS_ERR_CIPHERS);
  } else {
    ASSERT_OK(us_tls_ctx_ciphers(c, "ECDHE-ECDSA-AES128-GCM-SHA256"));
    ASSERT_OK(us_tls_ctx_ciphers(c, "TLS_AES_128_GCM_SHA256"));
  }
  tcp_pair(&a, &b);
  /* Secure by default: a client with no host name cannot verify one. */
  ASSERT_EQ(us_tls_new(&t, c, &a, NULL), US_TLS_ERR_NO_HOST);
  ASSERT_EQ(us_tls_new(&t, s, &b, NULL), US_TLS_ERR_NO_CERT);
  ASSERT(strcmp(us_tls_engine(), US_TLS_NAME) == 0); /* the build's */
  ASSERT_OK(us_socket_close(&a));
  ASSERT_OK(us_socket_close(&b));
  pki_end(c, s);
}

/* What a session tells once its handshake is done: the server's
 * certificate as the file holds it, the suite; before it, -ENOTCONN. */
static void test_tls_session_facts(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  struct session s = {0};
  session_open(&s, sc, "facts\n", 1, cc, "localhost");
  us_tls_t *t = s.t;
  const char *name = NULL, *version = NULL;
  int bits = -1;
  char small[8];
  ASSERT_EQ(us_tls_peer_cert(t, NULL, 0), -ENOTCONN);
  ASSERT_EQ(us_tls_cipher(t, &name, &version, &bits), -ENOTCONN);
  ASSERT(name == NULL && bits == -1);
  ASSERT_OK(us_tls_handshake(t));
  char der[4096], want[4096];
  size_t n = read_file(pki("srv.der"), want, sizeof want);
  ASSERT_EQ(us_tls_peer_cert(t, NULL, 0), (ssize_t)n);
  ASSERT_EQ(us_tls_peer_cert(t, der, sizeof der), (ssize_t)n);
  ASSERT(memcmp(der, want, n) == 0);
  /* A short buffer gets the start, and the whole length is told. */
  memset(small, 0, sizeof small);
  ASSERT_EQ(us_tls_peer_cert(t, small, sizeof small), (ssize_t)n);
  ASSERT(memcmp(small, want, sizeof small) == 0);
  ASSERT_OK(us_tls_cipher(t, &name, &version, &bits));
  /* Each engine's naming: OpenSSL's TLS 1.3 suites ("TLS_AES_..."),
   * mbedTLS's own ("TLS-ECDHE-..."; 2.28 negotiates TLS 1.2). */
  if (strcmp(us_tls_engine(), "mbedtls") == 0) {
    ASSERT(strcmp(version, "TLSv1.2") == 0 || strcmp(version, "TLSv1.3") == 0);
    ASSERT(strncmp(name, "TLS-", 4) == 0);
  } else {
    ASSERT(strcmp(version, "TLSv1.3") == 0);
    ASSERT(strncmp(name, "TLS_", 4) == 0);
  }
  ASSERT(bits == 128 || bits == 256);
  ASSERT_EQ(us_tls_readline(t, &s.h.sink, SIZE_MAX), 6);
  session_close(&s);
  ASSERT_OK(s.p.result);
  pki_end(sc, cc);
}

/* The suites a context may negotiate follow what it was restricted to. */
static void test_tls_cipher_names(void) {
  us_tls_ctx_t *c;
  const char *names[256];
  ASSERT_OK(us_tls_ctx_new(&c, US_TLS_CLIENT));
  size_t all = us_tls_ctx_cipher_names(c, names, 256);
  ASSERT(all > 3 && all < 256);
  ASSERT_EQ(us_tls_ctx_cipher_names(c, NULL, 0), all);
  ASSERT_EQ(us_tls_ctx_cipher_names(c, names, 1), all);
  /* Restricted to one suite of the engine's naming: OpenSSL keeps its
   * TLS 1.2 list beside the TLS 1.3 suite named; mbedTLS has only it. */
  int mbed = strcmp(us_tls_engine(), "mbedtls") == 0;
  const char *one = mbed ? "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256"
                         : "TLS_CHACHA20_POLY1305_SHA256";
  ASSERT_OK(us_tls_ctx_ciphers(c, one));
  size_t n = us_tls_ctx_cipher_names(c, names, 256);
  ASSERT(n < all);
  ASSERT(strcmp(names[0], one) == 0);
  if (mbed)
    ASSERT_EQ(n, 1);
  for (size_t i = 1; i < n; i++)
    ASSERT(strncmp(names[i], "TLS_", 4) != 0);
  /* A refused list leaves the suites as they were. */
  ASSERT_EQ(us_tls_ctx_ciphers(c, "NO-SUCH-CIPHER"), US_TLS_ERR_CIPHERS);
  ASSERT_EQ(us_tls_ctx_cipher_names(c, names, 256), n);
  us_tls_ctx_free(c);
}

/* Connect and handshake share one deadline: a server that accepts and
 * never answers ends the whole call at the socket's timeout. */
static void test_tls_connect_one_deadline(void) {
  pki_make();
  struct silent s;
  silent_open(&s, 0, 300 * 1000000);
  int64_t t0 = now_ms();
  ASSERT_EQ(us_tls_connect(s.t, &s.a), -ETIMEDOUT);
  int64_t took = now_ms() - t0;
  ASSERT(took >= 300);
  ASSERT(took <= LATE_MS(300));
  /* The thread's deadline is back as it was: none. */
  ASSERT_EQ(us_set_deadline(US_DEADLINE_NONE), US_DEADLINE_NONE);
  /* Connected already: the connect's own error. */
  ASSERT_EQ(us_tls_connect(s.t, &s.a), -EISCONN);
  silent_close(&s, 0);
  pki_remove();
}

/* A poll set sees a TLS stream readable while it holds decrypted bytes,
 * which its socket does not show once the record was read whole. */
static void test_tls_pollset_pending(void) {
  us_tls_ctx_t *sc, *cc;
  pki_begin(&sc, &cc);
  struct session s = {0};
  s.p.hold_ms = 1000; /* the socket stays quiet (no EOF) meanwhile */
  session_open(&s, sc, "one\ntwo\n", 0, cc, "localhost");
  us_tls_t *t = s.t;
  us_socket_t *c = &s.c;
  ASSERT_EQ(us_tls_readline(t, &s.h.sink, SIZE_MAX), 4);
  ASSERT(us_tls_pending(t) == 4);
  us_pollset_t *ps;
  us_pollev_t ev[2];
  int marker;
  /* The socket alone: nothing to read in the kernel. */
  ASSERT_OK(us_pollset_new(&ps, 0));
  ASSERT_OK(us_pollset_add_socket(ps, c, US_POLLIN, &marker));
  ASSERT_EQ(us_pollset_wait(ps, ev, 2, 0, 0), 0);
  /* The stream: readable, at once even with no time limit. */
  ASSERT_OK(us_pollset_add_tls(ps, t, US_POLLIN, &marker));
  int64_t t0 = now_ms();
  ASSERT_EQ(us_pollset_wait(ps, ev, 2, US_TIMEOUT_BLOCK, US_POLL_ONESHOT), 1);
  ASSERT(now_ms() - t0 <= LATE_MS(0));
  ASSERT_EQ(ev[0].fd, c->fd);
  ASSERT_EQ(ev[0].events, US_POLLIN);
  ASSERT(ev[0].data == &marker);
  /* One-shot: disarmed until modified. */
  ASSERT_EQ(us_pollset_wait(ps, ev, 2, 0, 0), 0);
  ASSERT_OK(us_pollset_modify(ps, c->fd, US_POLLIN));
  ASSERT_EQ(us_pollset_wait(ps, ev, 2, 0, 0), 1);
  /* Asked only for POLLOUT: the pending bytes do not count. */
  ASSERT_OK(us_pollset_modify(ps, c->fd, US_POLLOUT));
  ASSERT_EQ(us_pollset_wait(ps, ev, 2, 0, 0), 1);
  ASSERT_EQ(ev[0].events, US_POLLOUT);
  /* Taken: quiet again. */
  s.h.sink.len = 0;
  ASSERT_EQ(us_tls_readline(t, &s.h.sink, SIZE_MAX), 4);
  ASSERT_OK(us_pollset_modify(ps, c->fd, US_POLLIN));
  ASSERT_EQ(us_pollset_wait(ps, ev, 2, 0, 0), 0);
  ASSERT_OK(us_pollset_remove(ps, c->fd));
  ASSERT_EQ((long)us_pollset_count(ps), 0);
  us_pollset_free(ps);
  session_close(&s);
  ASSERT_OK(s.p.result);
  pki_end(sc, cc);
}

TEST_TABLE(tls_tests) = {
    {"tls_client_to_openssl_s_server", test_tls_client_to_openssl_s_server},
    {"tls_server_to_openssl_s_client", test_tls_server_to_openssl_s_client},
    {"tls_server_to_curl", test_tls_server_to_curl},
    {"tls_readline_to_our_server", test_tls_readline_to_our_server},
    {"tls_read_recv_bufstream", test_tls_read_recv_bufstream},
    {"tls_reader_and_writer_threads", test_tls_reader_and_writer_threads},
    {"tls_close_wakes_read", test_tls_close_wakes_read},
    {"tls_handshake_deadline", test_tls_handshake_deadline},
    {"tls_close_wakes_handshake", test_tls_close_wakes_handshake},
    {"tls_signal_ends_handshake", test_tls_signal_ends_handshake},
    {"tls_untrusted_expired_wrong_host", test_tls_untrusted_expired_wrong_host},
    {"tls_check_host_off", test_tls_check_host_off},
    {"tls_check_host_off_sends_sni", test_tls_check_host_off_sends_sni},
    {"tls_garbage_is_protocol_error", test_tls_garbage_is_protocol_error},
    {"tls_close_without_notify_is_error",
     test_tls_close_without_notify_is_error},
    {"tls_cut_and_huge_records", test_tls_cut_and_huge_records},
    {"tls_nonblocking", test_tls_nonblocking},
    {"tls_der_and_data", test_tls_der_and_data},
    {"tls_client_certificate", test_tls_client_certificate},
    {"tls_verify_optional", test_tls_verify_optional},
    {"tls_cert_replaced", test_tls_cert_replaced},
    {"tls_platform_store_file", test_tls_platform_store_file},
    {"tls_context_errors", test_tls_context_errors},
    {"tls_session_facts", test_tls_session_facts},
    {"tls_cipher_names", test_tls_cipher_names},
    {"tls_connect_one_deadline", test_tls_connect_one_deadline},
    {"tls_pollset_pending", test_tls_pollset_pending},
    TEST_END};

#endif
