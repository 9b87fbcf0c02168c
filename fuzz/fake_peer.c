/* fake_peer.c: the scripted peer behind the stream targets; see
 * fake_peer.h. */
#include "fake_peer.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

struct peer peer;
struct token toks[MAX_TOKENS];
static uint8_t letters[26 + MADE_UP_MAX]; /* "abc...zabc...", made-up data */
static us_socket_t template_socket;

const struct token *peer_head(void) {
  return peer.head < peer.ntok ? &toks[peer.head] : NULL;
}

static ssize_t fake_recv(int fd, void *buf, size_t len, int flags) {
  (void)fd;
  for (;;) {
    const struct token *t = peer_head();
    if (t && t->kind == T_EINTR) {
      peer.head++;
      peer.clock += SIGNAL_NS;
      return -EINTR;
    }
    if (t && t->kind == T_EAGAIN) {
      peer.head++;
      peer.stopped |= peer.mode != M_TIMED; /* a timed call waits instead */
      return -EAGAIN;
    }
    size_t n = peer.hooks->arrive();
    if (n > 0) {
      n = len < n ? len : n;
      memcpy(buf, peer.bytes + peer.consumed, n);
      if (!(flags & MSG_PEEK))
        peer.consumed += n;
      return (ssize_t)n;
    }
    t = peer_head();
    if (t && t->kind == T_STALL) {
      if (peer.mode != M_BLOCK) {
        peer.stopped |= peer.mode == M_NONBLOCK; /* a timed call waits */
        return -EAGAIN;
      }
      peer.clock += t->ns - peer.stalled; /* a blocking receive sleeps it out */
      peer.stalled = 0;
      peer.head++;
      continue;
    }
    ssize_t r = peer.hooks->recv_idle(len);
    if (r != PEER_AGAIN)
      return r;
  }
}

static ssize_t fake_pending(int fd) {
  (void)fd;
  return (ssize_t)peer.hooks->arrive();
}

static int fake_wait(int fd, int events, int64_t timeout_ns) {
  (void)fd;
  const struct token *t = peer_head();
  if (t && t->kind == T_EINTR) {
    peer.head++;
    /* Interrupted partway: never later than the wait's own end. */
    peer.clock +=
        timeout_ns >= 0 && timeout_ns < SIGNAL_NS ? timeout_ns : SIGNAL_NS;
    return -EINTR;
  }
  if (!(events & US__IN))
    return events & US__OUT;
  if (peer.hooks->arrive() > 0)
    return US__IN;
  t = peer_head();
  if (!t || t->kind != T_STALL)
    return peer.hooks->wait_idle(timeout_ns);
  int64_t left = t->ns - peer.stalled;
  if (timeout_ns >= 0 && timeout_ns < left) {
    peer.clock += timeout_ns;
    peer.stalled += timeout_ns;
    peer.stopped = 1;
    return 0;
  }
  peer.clock += left;
  peer.stalled = 0;
  peer.head++;
  return US__IN;
}

static int64_t fake_now(void) { return peer.clock; }

void peer_init(const struct peer_hooks *hooks, const uint8_t *bytes) {
  static us__fault_kernel_t kernel = {.recv = fake_recv,
                                      .pending = fake_pending,
                                      .wait = fake_wait,
                                      .now = fake_now};
  int sv[2];
  /* A real socket only to get a fully set-up us_socket_t; the peer
   * answers every call the reading functions make on it. */
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK(us_socket_from_fd(&template_socket, sv[0]) == 0);
  for (size_t i = 0; i < sizeof letters; i++)
    letters[i] = (uint8_t)('a' + i % 26);
  peer.all = malloc(MAX_DATA);
  CHECK(peer.all != NULL);
  peer.bytes = bytes ? bytes : peer.all;
  peer.hooks = hooks;
  kernel.send = hooks->send;
  us__fault_kernel(&kernel);
}

void peer_begin(struct input *out, us_socket_t *s, const uint8_t *in,
                size_t size, size_t header) {
  struct peer keep = peer;
  memset(&peer, 0, sizeof peer);
  peer.hooks = keep.hooks;
  peer.all = keep.all;
  peer.bytes = keep.bytes;
  peer.clock = 1000 * MS;
  peer.timeout = ((int64_t)in[1] + 1) * MS;
  size_t ncalls = in[2];
  if (ncalls * 2 > size - header)
    ncalls = (size - header) / 2;
  *s = template_socket;
  peer_set_mode(s, (in[0] & 3) == 3 ? M_TIMED : (enum mode)(in[0] & 3));
  out->script = in + header;
  out->script_len = size - header - 2 * ncalls;
  out->calls = in + size - 2 * ncalls;
  out->ncalls = ncalls;
}

int peer_add_data(const uint8_t *from, size_t n, unsigned every) {
  if (n == 0 || peer.all_len + n > MAX_DATA)
    return -1;
  uint8_t *to = peer.all + peer.all_len;
  if (from) {
    memcpy(to, from, n);
  } else {
    CHECK(n <= MADE_UP_MAX);
    /* Copied and strided, not made byte by byte: the fuzzer traces
     * every comparison here, which would cost most of a run. */
    memcpy(to, letters + peer.all_len % 26, n);
    for (size_t j = every - 1; every > 1 && j < n; j += every)
      to[j] = '\n';
  }
  peer.all_len += n;
  return 0;
}

void peer_tick(void) {
  const struct token *t = peer_head();
  if (t && t->kind == T_STALL) {
    peer.clock += t->ns - peer.stalled;
    peer.stalled = 0;
    peer.head++;
  }
}

ssize_t peer_end(size_t len) {
  if (peer.end_reset && !peer.reset_sent) {
    peer.reset_sent = 1;
    peer.stopped = 1;
    return -ECONNRESET;
  }
  peer.stopped |= len > 0;
  return 0;
}

void peer_set_mode(us_socket_t *s, enum mode mode) {
  peer.mode = mode;
  s->timeout_ns = US_TIMEOUT_NONBLOCK;
  if (mode == M_BLOCK)
    s->timeout_ns = US_TIMEOUT_BLOCK;
  else if (mode == M_TIMED)
    s->timeout_ns = peer.timeout;
}

int peer_grow(us_sink_t *sink, size_t need, size_t allowed) {
  CHECK(need <= allowed);
  char *p = realloc(sink->data, need);
  CHECK(p != NULL);
  sink->data = p;
  sink->cap = need;
  return 0;
}

size_t peer_pick_max(uint8_t arg, size_t big) {
  const size_t table[16] = {1,       2,    3,   7,       8,
                            100,     127,  128, 129,     255,
                            1000,    4096, big, big + 1, (size_t)1 << 31,
                            SIZE_MAX};
  return arg < 0x80 ? table[arg & 15] : (size_t)(arg - 0x7f) * 3;
}

int peer_had_reason(int64_t t0) {
  return peer.stopped ||
         (peer.mode == M_TIMED && peer.clock - t0 >= peer.timeout);
}

void peer_check_deadline(ssize_t r, int64_t t0) {
  CHECK(peer.clock - t0 <= peer.timeout + SIGNAL_NS);
  CHECK(r != -ETIMEDOUT || peer.clock - t0 >= peer.timeout);
}

void peer_check_line(ssize_t r, const us_sink_t *sink, size_t max, int64_t t0,
                     int (*had_reason)(int64_t t0)) {
  if (r <= 0)
    return;
  const char *d = sink->data;
  CHECK(memchr(d, '\n', (size_t)r - 1) == NULL);
  if (d[r - 1] != '\n' && (size_t)r < max &&
      (sink->grow || sink->len < sink->cap))
    CHECK(had_reason(t0));
}

void peer_takeline(us_bufstream_t *b, size_t max) {
  const char *line;
  size_t len;
  if (!us_bufstream_takeline(b, &line, &len, max)) {
    size_t h = b->rend - b->rpos;
    /* The read buffer comes with the first refill: NULL until then. */
    CHECK(h < max && (h == 0 || !memchr(b->rbuf + b->rpos, '\n', h)));
    return;
  }
  CHECK(len > 0 && len <= max && !memchr(line, '\n', len - 1));
  CHECK(line[len - 1] == '\n' || len == max);
  CHECK(!memcmp(line, peer.all + peer.delivered, len));
  us_bufstream_takeline_done(b);
  peer.delivered += len;
}
