/* fuzz_tls.c: the TLS stream's read path (us_tls_read, us_tls_readline,
 * us_tls_recv, the stream's us_bufstream_readline and takeline, pending
 * and poll) over the OpenSSL engine, against a real OpenSSL server in
 * this process, on memory BIOs. The input decides what the server sends
 * and in which records, how its bytes arrive (in pieces, with EINTR,
 * EAGAIN and stalls), how the stream ends (close_notify, a close without
 * it, a reset), one flipped byte of ciphertext, and the calls that read.
 * The target checks that every byte comes once and in order and never a
 * byte of a record that was tampered with, that readline never takes a
 * byte past its newline, that an error behind bytes comes with the next
 * call, that a close without close_notify is US_TLS_ERR_TRUNCATED and
 * tampering a TLS error, never a quiet end, and that timeouts end on the
 * deadline (a virtual clock).
 *
 * Input: flags, timeout, call count n, two bytes of where to flip a
 * ciphertext byte and one of which bit; the script; then 2n bytes of calls
 * at the end. The scripted peer (fake_peer.c) stands in for the kernel:
 * our client's sends go to the server's read BIO, and what the server
 * writes is what the client's receives get.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fake_peer.h"

#define MAX_RECORDS 1024
#define RECORD_MAX ((size_t)16384)
/* Room for the handshake and every record's header, padding and tag. */
#define WIRE_MAX (MAX_DATA + MAX_RECORDS * 64 + 65536)

enum end { E_NOTIFY, E_CLOSE, E_RESET };

static SSL_CTX *server_ctx;
static us_tls_ctx_t *client_ctx;

/* What the peer leaves to this target. The server sends the peer's
 * all[0..all_len) in records; its bytes, handshake first, are
 * wire[0..wire_len) (the peer's bytes), of which the client has received
 * wire[0..consumed) and may receive up to `limit`. */
static struct {
  uint8_t *wire;
  size_t wire_len, limit;
  size_t rec_len[MAX_RECORDS];  /* plaintext per record, as scripted */
  size_t rec_pt[MAX_RECORDS];   /* all[] offset where each record ends */
  size_t rec_wire[MAX_RECORDS]; /* wire[] offset where each record ends */
  int nrec;
  size_t send_most; /* the most bytes one send of the client's takes */
  enum end end;
  int tls12;
  SSL *srv;
  BIO *srv_in, *srv_out;
  int srv_done;       /* handshake over: everything is on the wire */
  size_t hs_end;      /* where the handshake's bytes end */
  int corrupt;        /* a byte of wire[corrupt_pos] is flipped */
  size_t corrupt_pos; /* ... somewhere after the handshake */
  int end_now;        /* this call's recv met the end or the reset */
  int ended;          /* a call returned the stream's last word: */
  ssize_t final;      /* 0 or the error, which every later call repeats */
  int owed;           /* the end met behind bytes: the next call says it */
} k;

static size_t avail(void) {
  size_t lim = k.limit < k.wire_len ? k.limit : k.wire_len;
  return lim - peer.consumed;
}

/* More of the wire may arrive when the client has taken what was there:
 * the pieces a receive sees follow the script, and once the script's
 * pieces are used up, everything arrives. */
static size_t arrive(void) {
  while (avail() == 0 && k.limit < k.wire_len) {
    const struct token *t = peer_head();
    if (!t) {
      k.limit = SIZE_MAX;
    } else if (t->kind == T_DATA) {
      k.limit += t->len;
      peer.head++;
    } else {
      break;
    }
  }
  return avail();
}

/* Moves what the server wrote onto the wire. */
static void drain(void) {
  int n;
  while ((n = BIO_read(k.srv_out, k.wire + k.wire_len,
                       (int)(WIRE_MAX - k.wire_len))) > 0)
    k.wire_len += (size_t)n;
  CHECK(BIO_ctrl_pending(k.srv_out) == 0);
}

/* The server's part once its handshake is over: the records, the end,
 * and the tampering, all at once. */
static void serve(void) {
  size_t off = 0;
  for (int i = 0; i < k.nrec; i++) {
    size_t went = 0;
    CHECK(SSL_write_ex(k.srv, peer.all + off, k.rec_len[i], &went) == 1);
    CHECK(went == k.rec_len[i]);
    off += went;
    drain();
    k.rec_pt[i] = off;
    k.rec_wire[i] = k.wire_len;
  }
  if (k.end == E_NOTIFY) {
    CHECK(SSL_shutdown(k.srv) >= 0);
    drain();
  }
  if (k.corrupt && k.wire_len > k.hs_end) {
    k.corrupt_pos = k.hs_end + k.corrupt_pos % (k.wire_len - k.hs_end);
    k.wire[k.corrupt_pos] ^= (uint8_t)k.corrupt;
  } else {
    k.corrupt = 0;
  }
}

static void server_step(void) {
  int r = SSL_do_handshake(k.srv);
  if (r == 1) {
    drain();
    k.hs_end = k.wire_len;
    serve();
    k.srv_done = 1;
  } else {
    /* Our client's handshake never fails the server's. */
    CHECK(SSL_get_error(k.srv, r) == SSL_ERROR_WANT_READ);
    drain();
  }
}

static ssize_t peer_send(int fd, const void *buf, size_t len, int flags) {
  (void)fd;
  (void)flags;
  size_t n = len < k.send_most ? len : k.send_most;
  /* After its handshake the server listens no more (to an alert, say). */
  if (!k.srv_done && n > 0) {
    CHECK(BIO_write(k.srv_in, buf, (int)n) == (int)n);
    server_step();
  }
  return (ssize_t)n;
}

static ssize_t recv_idle(size_t len) {
  if (!k.srv_done) {
    /* The server waits for the client: nothing comes until it sends.
     * A client that then waits is caught in wait_idle. */
    peer.stopped |= peer.mode == M_NONBLOCK;
    return -EAGAIN;
  }
  if (peer_head()) { /* a piece with nothing left to bring */
    peer.head++;
    return PEER_AGAIN;
  }
  k.end_now = 1;
  return peer_end(len);
}

static int wait_idle(int64_t timeout_ns) {
  const struct token *t = peer_head();
  if (t && t->kind == T_EAGAIN)
    return US__IN; /* a spurious wake-up: the receive meets the EAGAIN */
  if (!k.srv_done) {
    /* Nothing will ever come: the server waits for the client, which
     * waits for it. Only a look (us_tls_poll) may ask. */
    CHECK(timeout_ns == 0);
    return 0;
  }
  return US__IN; /* the end */
}

static const struct peer_hooks hooks = {.arrive = arrive,
                                        .recv_idle = recv_idle,
                                        .wait_idle = wait_idle,
                                        .send = peer_send};

/* Adds a record of n bytes of the server's, from `from` or made up with a
 * newline every `every` bytes (0: none). */
static void add_record(const uint8_t *from, size_t n, unsigned every) {
  if (k.nrec < MAX_RECORDS && peer_add_data(from, n, every) == 0)
    k.rec_len[k.nrec++] = n;
}

/* Reads the script from in[0..len): the server's records and, between
 * them, how the wire arrives. */
static void parse_script(const uint8_t *in, size_t len) {
  size_t i = 0;
  while (i < len && peer.ntok < MAX_TOKENS) {
    uint8_t b = in[i++];
    struct token t = {T_DATA, 0, 0};
    if (b < 0x60) { /* a record of 1..96 bytes, given */
      size_t n = (size_t)b + 1;
      if (n > len - i)
        n = len - i;
      add_record(in + i, n, 0);
      i += n;
      continue;
    }
    if (b < 0x80) { /* a record of 16..16384 bytes, made up */
      size_t n = (size_t)(b & 0x1f) + 1;
      unsigned every = i < len ? (unsigned)in[i++] * 7 + 1 : 0;
      add_record(NULL, n * n * 16, every);
      continue;
    }
    if (b < 0xa0) { /* a piece of 1..16 or 64..16384 bytes */
      size_t n = b & 0x1f;
      t.len = n < 16 ? n + 1 : (n - 15) * (n - 15) * 64;
    } else if (b < 0xc0) {
      t.kind = T_EINTR;
    } else if (b < 0xe0) {
      t.kind = T_EAGAIN;
    } else {
      int64_t ms = (b - 0xe0) + 1;
      t.kind = T_STALL;
      t.ns = ms * ms * MS;
    }
    toks[peer.ntok++] = t;
  }
}

/* A growing sink whose growth must follow the data: at most a few times
 * what the call already got, plus a record or two and the eager size. */
static int grow(us_sink_t *sink, size_t need) {
  return peer_grow(sink, need, 3 * sink->len + 65536 + 2 * RECORD_MAX + 256);
}

struct run {
  us_socket_t s;
  us_tls_t *t;
  us_bufstream_t *b; /* the stream's buffered face */
  us_sink_t heap;
};

/* Decrypted bytes read ahead in the stream, not yet returned. */
static size_t held(const struct run *run) {
  return run->b->rend - run->b->rpos;
}

/* The most plaintext the client can have: that of the records it has
 * received whole, none from the tampered one on. */
static size_t decryptable(void) {
  size_t n = 0;
  for (int i = 0; i < k.nrec && k.srv_done; i++) {
    if (k.rec_wire[i] > peer.consumed ||
        (k.corrupt && k.rec_wire[i] > k.corrupt_pos))
      break;
    n = k.rec_pt[i];
  }
  return n;
}

static int corrupt_met(void) {
  return k.corrupt && peer.consumed > k.corrupt_pos;
}

static int is_tls_error(ssize_t r) {
  return r <= US_TLS_BASE - 1 && r >= US_TLS_ERR_LAST;
}

/* Whether a call that returned less than it could had a reason to: the
 * peer's end, a reset or EAGAIN, the deadline, or the tampered record. */
static int had_reason(int64_t t0) {
  /* close_notify ends the stream with no word from the kernel. */
  int notified = k.end == E_NOTIFY && k.srv_done && peer.consumed == k.wire_len;
  return peer_had_reason(t0) || corrupt_met() || notified || k.ended || k.owed;
}

/* The stream's last word, r (0 or an error): whether it is the right one. */
static void check_end(ssize_t r) {
  if (k.corrupt) {
    /* Tampering is a TLS error, or a reset while the client waits for
     * the rest of a record it was told is longer; never a clean end. */
    CHECK(corrupt_met());
    CHECK(is_tls_error(r) || (r == -ECONNRESET && k.end == E_RESET));
    return;
  }
  CHECK(peer.delivered == peer.all_len);
  if (k.end == E_NOTIFY)
    CHECK(r == 0);
  else if (k.end == E_CLOSE)
    CHECK(r == US_TLS_ERR_TRUNCATED);
  else
    CHECK(r == -ECONNRESET && peer.reset_sent);
}

/* Checks one call's result r, got at data[0..r), and takes it. */
static void check_call(struct run *run, ssize_t r, const char *data, size_t max,
                       int64_t t0) {
  if (peer.mode == M_TIMED)
    peer_check_deadline(r, t0);
  else
    CHECK(r != -ETIMEDOUT);
  CHECK(r != -EAGAIN || (peer.mode == M_NONBLOCK && peer.stopped));
  if (k.ended || k.owed) {
    CHECK(r == (k.ended ? k.final : r)); /* the last word, said again */
    CHECK(r <= 0 && r != -EAGAIN && r != -ETIMEDOUT);
  }
  if (r == -EAGAIN || r == -ETIMEDOUT)
    return;
  if (r <= 0) {
    if (!k.ended)
      check_end(r);
    k.ended = 1;
    k.final = r;
    k.owed = 0;
    return;
  }
  CHECK((size_t)r <= max);
  CHECK(memcmp(data, peer.all + peer.delivered, (size_t)r) == 0);
  peer.delivered += (size_t)r;
  CHECK(peer.delivered <= decryptable());
  /* The end met behind these bytes, with nothing left to return. */
  if (k.end_now && held(run) == 0 && peer.delivered == peer.all_len &&
      !k.corrupt)
    k.owed = 1;
}

/* What the stream says it holds, and what poll says of it. */
static void look(struct run *run) {
  size_t h = held(run), n = us_tls_pending(run->t);
  CHECK(n >= h);
  /* The read buffer comes with the first refill: NULL until then. */
  CHECK(h == 0 ||
        memcmp(run->b->rbuf + run->b->rpos, peer.all + peer.delivered, h) == 0);
  CHECK(peer.delivered + h <= decryptable());
  if (n > 0 && !k.ended) {
    int r = us_tls_poll(run->t, US_POLLIN);
    CHECK(r >= 0 && (r & US_POLLIN));
  }
}

/* Runs one call: op and arg come from the input's tail. */
static void call(struct run *run, uint8_t op, uint8_t arg) {
  size_t cap = (size_t)arg + 1, max = peer_pick_max(arg, RECORD_MAX);
  us_sink_t sink, *use = &run->heap;
  ssize_t r = 0;
  int64_t t0 = peer.clock;
  peer.stopped = k.end_now = 0;
  run->heap.len = 0;
  char *fixed = malloc(cap); /* exactly cap: ASan sees any overrun */
  CHECK(fixed != NULL);
  us_sink_fixed(&sink, fixed, cap);
  if (op & 8)
    use = &sink;
  switch (op & 7) {
  case 0:
  case 1:
    r = us_tls_read(run->t, use, max);
    if (r >= 0 && (size_t)r < max && (use->grow || use->len < use->cap))
      CHECK(had_reason(t0)); /* no short read without a reason */
    break;
  case 2:
  case 3:
    r = us_tls_readline(run->t, use, max);
    peer_check_line(r, use, max, t0, had_reason);
    break;
  case 4:
    r = us_tls_recv(run->t, fixed, max = cap);
    use = &sink;
    break;
  case 5:
    r = us_bufstream_readline(run->b, use, max);
    peer_check_line(r, use, max, t0, had_reason);
    break;
  case 6:
    if (op & 0x10)
      look(run);
    else
      peer_set_mode(&run->s, (enum mode)(arg % 3));
    free(fixed);
    return;
  case 7:
    peer_takeline(run->b, max);
    free(fixed);
    return;
  }
  check_call(run, r, use->data, max, t0);
  free(fixed);
  if (r == -EAGAIN || r == -ETIMEDOUT)
    peer_tick();
}

/* A self-signed certificate for localhost (EC P-256), made once: the
 * server's, and the client's only trusted CA. */
static void make_cert(void) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  CHECK(key && x);
  CHECK(X509_set_version(x, 2));
  CHECK(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
  CHECK(X509_gmtime_adj(X509_getm_notBefore(x), -86400));
  CHECK(X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650));
  X509_NAME *name = X509_get_subject_name(x);
  CHECK(X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0));
  CHECK(X509_set_issuer_name(x, name));
  CHECK(X509_set_pubkey(x, key));
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
  X509_EXTENSION *san =
      X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost");
  CHECK(san && X509_add_ext(x, san, -1));
  X509_EXTENSION_free(san);
  CHECK(X509_sign(x, key, EVP_sha256()) > 0);

  server_ctx = SSL_CTX_new(TLS_server_method());
  CHECK(server_ctx != NULL);
  CHECK(SSL_CTX_use_certificate(server_ctx, x) == 1);
  CHECK(SSL_CTX_use_PrivateKey(server_ctx, key) == 1);
  SSL_CTX_set_min_proto_version(server_ctx, TLS1_2_VERSION);
  /* No tickets and no cache: every run is the same full handshake, and
   * the server writes nothing after it but what the input says. */
  SSL_CTX_set_num_tickets(server_ctx, 0);
  SSL_CTX_set_options(server_ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(server_ctx, SSL_SESS_CACHE_OFF);

  BIO *pem = BIO_new(BIO_s_mem());
  CHECK(pem && PEM_write_bio_X509(pem, x));
  char *text;
  long len = BIO_get_mem_data(pem, &text);
  CHECK(us_tls_ctx_new(&client_ctx, US_TLS_CLIENT) == 0);
  CHECK(us_tls_ctx_ca_data(client_ctx, text, (size_t)len) == 0);
  CHECK(us_tls_ctx_verify(client_ctx, US_TLS_VERIFY_REQUIRED) == 0);
  BIO_free(pem);
  X509_free(x);
  EVP_PKEY_free(key);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  k.wire = malloc(WIRE_MAX);
  CHECK(k.wire != NULL);
  make_cert();
  peer_init(&hooks, k.wire);
  return 0;
}

#define HEADER 6

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
  static const size_t send_most[4] = {SIZE_MAX, 1, 5, 100};
  if (size < HEADER)
    return 0;
  struct input input;
  struct run run = {.heap.grow = grow};
  uint8_t *wire = k.wire;
  memset(&k, 0, sizeof k);
  k.wire = wire;
  peer_begin(&input, &run.s, in, size, HEADER);
  k.tls12 = (in[0] >> 2) & 1;
  k.end = (enum end)((in[0] >> 3) & 3);
  if (k.end > E_RESET)
    k.end = E_NOTIFY;
  peer.end_reset = k.end == E_RESET;
  k.corrupt = (in[0] & 0x20) ? 1 << (in[5] & 7) : 0;
  k.corrupt_pos = (size_t)in[3] | (size_t)in[4] << 8;
  k.send_most = send_most[in[0] >> 6];
  parse_script(input.script, input.script_len);

  k.srv = SSL_new(server_ctx);
  k.srv_in = BIO_new(BIO_s_mem());
  k.srv_out = BIO_new(BIO_s_mem());
  CHECK(k.srv && k.srv_in && k.srv_out);
  SSL_set_bio(k.srv, k.srv_in, k.srv_out);
  SSL_set_accept_state(k.srv);
  if (k.tls12)
    CHECK(SSL_set_max_proto_version(k.srv, TLS1_2_VERSION));

  CHECK(us_tls_new(&run.t, client_ctx, &run.s, "localhost") == 0);
  run.b = us_tls_bufstream(run.t);
  for (size_t i = 0; i < input.ncalls; i++)
    call(&run, input_op(&input, i), input_arg(&input, i));
  /* Then read to the end: everything must come out, then the last word,
   * and then that word again. */
  for (int i = 0; !k.ended; i++) {
    CHECK(i < 20000);
    call(&run, 0, 0x0f); /* us_tls_read, growing, max SIZE_MAX */
  }
  call(&run, 0, 0x0f);
  if (k.corrupt) {
    /* What came before the tampered record came whole. */
    size_t before = 0;
    for (int i = 0; i < k.nrec && k.rec_wire[i] <= k.corrupt_pos; i++)
      before = k.rec_pt[i];
    CHECK(peer.delivered == before);
  }
  free(run.heap.data);
  us_tls_free(run.t);
  SSL_free(k.srv);
  return 0;
}
