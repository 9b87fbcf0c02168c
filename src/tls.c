/* tls.c: the TLS stream: a layer over a socket that an engine (see
 * tls/engine.h) encrypts through. The reading logic is the buffered
 * stream's (bufstream.c): the stream is one, whose bytes pass through
 * this layer. The engine never waits; the layer waits in us__op_wait,
 * within the call's deadline, for what the engine said it needs. */
#include "core.h"
#include "tls/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The most plaintext one TLS record holds: a read-ahead of this much
 * takes a whole record with one engine call. */
#define RECORD_MAX ((size_t)16384)
/* Certificate and key files larger than this are not read. */
#define FILE_MAX ((long)(16 * 1024 * 1024))

struct us_tls_ctx {
  us__tlse_ctx_t *e;
  int role;
  int has_cert;
  int check_host; /* a client checks the host name (us_tls_ctx_check_host) */
  unsigned refs;  /* the owner's, plus one per stream */
};

struct us_tls {
  us_bufstream_t buf; /* the read-ahead of decrypted bytes */
  us__tlse_t *e;
  us_tls_ctx_t *ctx;
  /* The engine serves one call at a time (a reader's and a writer's
   * steps alternate): held only while it runs, never while waiting. */
  us__lock_t elock;
  us__op_t *op; /* the call whose step the engine runs: its I/O uses it */
  int want;     /* what the step's I/O met: US__IN/OUT, or 0 */
  int stop;     /* the host's error its I/O met (a signal's), or 0 */
  int done;     /* the handshake is over */
  int notified; /* close_notify went */
  /* Read without the engine's lock (atomic): */
  int waits; /* what the last -EAGAIN waits for: US__IN/OUT */
  int err;   /* the failure that ended the session, or 0 */
};

/* ---- contexts --------------------------------------------------------- */

int us_tls_ctx_new(us_tls_ctx_t **ctx, int role) {
  *ctx = NULL;
  if (role != US_TLS_CLIENT && role != US_TLS_SERVER)
    return -EINVAL;
  us_tls_ctx_t *c = calloc(1, sizeof *c);
  if (!c)
    return -ENOMEM;
  int r = us__tlse_ctx_new(&c->e, role);
  if (r < 0) {
    free(c);
    return r;
  }
  c->role = role;
  c->check_host = 1;
  c->refs = 1;
  *ctx = c;
  return 0;
}

static void ctx_unref(us_tls_ctx_t *c) {
  if (c && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    us__tlse_ctx_free(c->e);
    free(c);
  }
}

void us_tls_ctx_free(us_tls_ctx_t *ctx) { ctx_unref(ctx); }

int us_tls_ctx_verify(us_tls_ctx_t *ctx, int mode) {
  if (mode < US_TLS_VERIFY_NONE || mode > US_TLS_VERIFY_REQUIRED)
    return -EINVAL;
  return us__tlse_ctx_verify(ctx->e, mode);
}

int us_tls_ctx_check_host(us_tls_ctx_t *ctx, int on) {
  int r = us__tlse_ctx_check_host(ctx->e, on != 0);
  if (r == 0)
    ctx->check_host = on != 0;
  return r;
}

/* Reads a whole file into *data (malloc'd, the caller frees). */
static int read_file(const char *path, char **data, size_t *len) {
  *data = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return -errno;
  int r = 0;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0)
    size = ftell(f);
  if (size < 0 || size > FILE_MAX || fseek(f, 0, SEEK_SET) != 0) {
    r = size > FILE_MAX ? -EFBIG : -EIO;
  } else if (!(*data = malloc((size_t)size + 1))) {
    r = -ENOMEM;
  } else if (fread(*data, 1, (size_t)size, f) != (size_t)size) {
    r = -EIO;
  } else {
    (*data)[size] = '\0';
    *len = (size_t)size;
  }
  fclose(f);
  if (r < 0) {
    free(*data);
    *data = NULL;
  }
  return r;
}

int us_tls_ctx_ca_data(us_tls_ctx_t *ctx, const void *data, size_t len) {
  return us__tlse_ctx_ca(ctx->e, data, len);
}

int us_tls_ctx_ca_file(us_tls_ctx_t *ctx, const char *path) {
  char *data;
  size_t len;
  int r = read_file(path, &data, &len);
  if (r == 0)
    r = us__tlse_ctx_ca(ctx->e, data, len);
  free(data);
  return r;
}

int us_tls_ctx_ca_default(us_tls_ctx_t *ctx) {
  return us__tlse_ctx_ca_default(ctx->e);
}

int us_tls_ctx_cert_data(us_tls_ctx_t *ctx, const void *chain, size_t chain_len,
                         const void *key, size_t key_len) {
  int r = us__tlse_ctx_cert(ctx->e, chain, chain_len, key, key_len);
  if (r == 0)
    ctx->has_cert = 1;
  return r;
}

int us_tls_ctx_cert_file(us_tls_ctx_t *ctx, const char *chain_path,
                         const char *key_path) {
  char *chain, *key = NULL;
  size_t chain_len, key_len = 0;
  int r = read_file(chain_path, &chain, &chain_len);
  if (r == 0 && key_path)
    r = read_file(key_path, &key, &key_len);
  if (r == 0)
    r = us_tls_ctx_cert_data(ctx, chain, chain_len, key ? key : chain,
                             key ? key_len : chain_len);
  free(chain);
  free(key);
  return r;
}

int us_tls_ctx_ciphers(us_tls_ctx_t *ctx, const char *list) {
  return us__tlse_ctx_ciphers(ctx->e, list);
}

size_t us_tls_ctx_cipher_names(us_tls_ctx_t *ctx, const char **names,
                               size_t max) {
  return us__tlse_ctx_cipher_names(ctx->e, names, max);
}

const char *us_tls_engine(void) { return us__tlse_name; }

/* ---- the engine's I/O ------------------------------------------------- */

/* What an I/O of the engine's met: the socket's errors are the engine's
 * to handle, but an error of the host's (its signal check, run after a
 * system call's EINTR) is no fault of the session: the engine is told to
 * try again later, and the step ends with that error. */
static ssize_t io_result(us_tls_t *t, ssize_t n, int dir) {
  if (n == -EAGAIN || n == -EWOULDBLOCK) {
    t->want = dir;
    return -EAGAIN;
  }
  if (n == -EINTR || n == -ETIMEDOUT) {
    t->stop = (int)n;
    t->want = dir;
    return -EAGAIN;
  }
  return n;
}

ssize_t us__tls_io_send(us_tls_t *t, const void *buf, size_t len) {
  return io_result(
      t,
      us__send_once(t->op, buf, len, US__MSG_DONTWAIT | US__MSG_NOSIGNAL, NULL),
      US__OUT);
}

ssize_t us__tls_io_recv(us_tls_t *t, void *buf, size_t len) {
  return io_result(t, us__recv_once(t->op, buf, len, US__MSG_DONTWAIT, NULL),
                   US__IN);
}

/* ---- driving the engine ----------------------------------------------- */

enum step { HANDSHAKE, READ, WRITE, NOTIFY };

/* One engine step for op, the handshake first if it is not over. */
static ssize_t step_once(us_tls_t *t, enum step what, void *buf, size_t len) {
  if (!t->done) {
    int r = us__tlse_handshake(t->e);
    if (r < 0)
      return r;
    /* Release: what the handshake learnt is read without the lock. */
    __atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
  }
  switch (what) {
  case READ:
    return us__tlse_read(t->e, buf, len);
  case WRITE:
    return us__tlse_write(t->e, buf, len);
  case NOTIFY:
    return t->notified ? 0 : us__tlse_close_notify(t->e);
  default:
    return 0;
  }
}

/* Runs a step until it is done, waiting as the engine asks within op's
 * deadline. An engine failure ends the session: every later call meets
 * it again. A wait's failure (timeout, close, signal) leaves the engine
 * where it was, to go on in a later call. */
static ssize_t drive(us__op_t *op, us_tls_t *t, enum step what, void *buf,
                     size_t len) {
  for (;;) {
    int err = __atomic_load_n(&t->err, __ATOMIC_RELAXED);
    if (err)
      return err;
    if (!us__lock_try(&t->elock)) {
      int r = us__op_lock_wait(op, &t->elock, 0);
      if (r < 0)
        return r;
    }
    t->op = op;
    t->want = 0;
    t->stop = 0;
    ssize_t n = step_once(t, what, buf, len);
    int want = t->want ? t->want : US__IN, stop = t->stop;
    t->op = NULL;
    if (n >= 0 && what == NOTIFY)
      t->notified = 1;
    if (n < 0 && n != -EAGAIN)
      __atomic_store_n(&t->err, (int)n, __ATOMIC_RELAXED);
    __atomic_store_n(&t->waits, want, __ATOMIC_RELAXED);
    us__lock_drop(&t->elock);
    if (n != -EAGAIN)
      return n;
    if (stop)
      return stop;
    int r = us__op_wait(op, want);
    if (r < 0)
      return r;
  }
}

static ssize_t layer_recv(us__op_t *op, void *ctx, void *buf, size_t len) {
  return drive(op, ctx, READ, buf, len);
}

static int layer_send_all(us__op_t *op, void *ctx, const void *buf, size_t len,
                          size_t *done) {
  *done = 0;
  while (*done < len) {
    ssize_t n = drive(op, ctx, WRITE, (char *)buf + *done, len - *done);
    if (n < 0)
      return (int)n;
    *done += (size_t)n;
    /* As a socket's long send: a signal's handler may end it between
     * its pieces. */
    int r = *done < len ? us__op_signals(op) : 0;
    if (r < 0)
      return r;
  }
  return 0;
}

static const us__layer_t tls_layer = {layer_recv, layer_send_all};

/* ---- streams ---------------------------------------------------------- */

int us_tls_new(us_tls_t **tp, us_tls_ctx_t *ctx, us_socket_t *sock,
               const char *host) {
  *tp = NULL;
  if (ctx->role == US_TLS_SERVER && !ctx->has_cert)
    return US_TLS_ERR_NO_CERT;
  if (ctx->role == US_TLS_CLIENT && !host && ctx->check_host &&
      us__tlse_ctx_verifies(ctx->e))
    return US_TLS_ERR_NO_HOST;
  us_tls_t *t = calloc(1, sizeof *t);
  if (!t)
    return -ENOMEM;
  us__lock_init(&t->elock);
  int r = us__bufstream_setup(&t->buf, sock, &tls_layer, t, RECORD_MAX, 0);
  if (r == 0 && (r = us__tlse_new(&t->e, ctx->e, t, host)) < 0)
    us_bufstream_free(&t->buf);
  if (r < 0) {
    free(t);
    return r;
  }
  __atomic_add_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL);
  t->ctx = ctx;
  *tp = t;
  return 0;
}

void us_tls_free(us_tls_t *t) {
  if (!t)
    return;
  us__tlse_free(t->e);
  us_bufstream_free(&t->buf);
  ctx_unref(t->ctx);
  free(t);
}

/* Runs a step as a call of its own on one side of the socket. */
static int call_step(us_tls_t *t, us__lock_t *side, enum step what) {
  us__op_t op;
  int r = us__op_begin_locked(&op, t->buf.sock, side, 0);
  if (r < 0)
    return r;
  r = (int)drive(&op, t, what, NULL, 0);
  us__op_end(&op);
  return r < 0 ? r : 0;
}

int us_tls_handshake(us_tls_t *t) {
  return call_step(t, &t->buf.sock->rx_lock, HANDSHAKE);
}

int us_tls_connect(us_tls_t *t, const us_addr_t *addr) {
  us_socket_t *s = t->buf.sock;
  int64_t timeout = s->timeout_ns, was = US_DEADLINE_NONE;
  int bounded = timeout > 0;
  if (bounded) {
    /* One deadline for both steps, or the thread's own if sooner. */
    int64_t until = us_now() + timeout;
    was = us_set_deadline(until);
    if (was != US_DEADLINE_NONE && was < until)
      us_set_deadline(was);
  }
  int r = us_connect(s, addr);
  if (r == 0)
    r = us_tls_handshake(t);
  if (bounded)
    us_set_deadline(was);
  return r;
}

int us_tls_shutdown(us_tls_t *t) {
  return call_step(t, &t->buf.sock->tx_lock, NOTIFY);
}

ssize_t us_tls_read(us_tls_t *t, us_sink_t *sink, size_t max) {
  return us_bufstream_read(&t->buf, sink, max);
}

ssize_t us_tls_readline(us_tls_t *t, us_sink_t *sink, size_t max) {
  return us_bufstream_readline(&t->buf, sink, max);
}

ssize_t us_tls_write(us_tls_t *t, const void *buf, size_t len) {
  return us_bufstream_write(&t->buf, buf, len);
}

ssize_t us_tls_recv(us_tls_t *t, void *buf, size_t len) {
  return us_bufstream_recv(&t->buf, buf, len);
}

us_bufstream_t *us_tls_bufstream(us_tls_t *t) { return &t->buf; }

size_t us_tls_pending(us_tls_t *t) {
  /* Counted with the reading side and the engine free; a read in
   * progress is about to change the count anyway (it counts as none). */
  us__lock_t *rx = &t->buf.sock->rx_lock;
  size_t n = 0;
  if (us__lock_try(rx)) {
    n = t->buf.rend - t->buf.rpos;
    if (us__lock_try(&t->elock)) {
      n += us__tlse_pending(t->e);
      us__lock_drop(&t->elock);
    }
    us__lock_drop(rx);
  }
  return n;
}

int us_tls_poll(us_tls_t *t, int events) {
  int r = us_poll(t->buf.sock, events);
  if (r >= 0 && (events & US_POLLIN) && us_tls_pending(t))
    r |= US_POLLIN;
  return r;
}

int us_tls_wants(const us_tls_t *t) {
  int want = __atomic_load_n(&t->waits, __ATOMIC_RELAXED);
  return want == US__OUT ? US_POLLOUT : US_POLLIN;
}

/* The session's facts are fixed once the handshake is over (the engine
 * refuses renegotiation), so they are read without the engine's lock. */
static int handshaken(const us_tls_t *t) {
  return __atomic_load_n(&t->done, __ATOMIC_ACQUIRE);
}

ssize_t us_tls_peer_cert(us_tls_t *t, void *buf, size_t len) {
  if (!handshaken(t))
    return -ENOTCONN;
  return us__tlse_peer_cert(t->e, buf, len);
}

int us_tls_cipher(us_tls_t *t, const char **name, const char **version,
                  int *bits) {
  if (!handshaken(t))
    return -ENOTCONN;
  return us__tlse_cipher(t->e, name, version, bits);
}
