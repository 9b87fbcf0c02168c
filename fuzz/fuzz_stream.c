/* fuzz_stream.c: us_read, us_readline, us_recv_sink and us_recv against a
 * scripted peer. The input decides what arrives and in which pieces, the
 * EINTRs, EAGAINs, stalls and the reset, and the calls that read it; the
 * target checks that every byte is delivered once and in order, that
 * readline never takes a byte past its newline, that errors behind bytes
 * come with the next call, and that timeouts end on the deadline.
 *
 * Input: mode byte, timeout byte, call count n; the script; then 2n bytes
 * of calls at the end. The mode byte also says whether every read goes
 * through a buffered stream (us_bufstream_*), and of which size. The peer
 * stands in for the kernel through the fault-injection build's
 * us__fault_kernel(), on a virtual clock.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault.h"

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);    \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#define MS ((int64_t)1000000)
#define MAX_TOKENS 4096
/* The time a signal takes to handle: an EINTR costs it. */
#define SIGNAL_NS (MS / 2)
#define MAX_DATA ((size_t)1 << 18)

enum kind { T_DATA, T_EINTR, T_EAGAIN, T_STALL, T_RESET, T_EOF };
enum mode { M_BLOCK, M_NONBLOCK, M_TIMED };

struct token {
  enum kind kind;
  size_t len; /* T_DATA: bytes of `all` it brings */
  int64_t ns; /* T_STALL: how long nothing arrives */
};

/* The peer's state for one input. Bytes all[consumed..arrived) are in
 * the "kernel"; all[0..delivered) have been returned by the API. */
static struct token toks[MAX_TOKENS]; /* apart: too big to clear per run */
static uint8_t letters[26 + 32 * 96]; /* "abc...zabc...", for made-up data */
static struct {
  int ntok, head;
  uint8_t *all;
  size_t all_len, arrived, consumed, delivered;
  int64_t clock, stalled; /* stalled: ns of the head stall already spent */
  int end_reset;          /* the stream ends with a reset, not EOF */
  int reset_sent;         /* the reset was returned by recv */
  int stopped;            /* this call met EOF, an error or the time */
  int reset_now;          /* this call met the reset */
  enum mode mode;
} k;

static const struct token *head(void) {
  return k.head < k.ntok ? &toks[k.head] : NULL;
}

/* Data arrives when the kernel's buffer is empty: a run of DATA tokens
 * arrives together, so the pieces a receive sees follow the script. */
static void arrive(void) {
  if (k.arrived > k.consumed)
    return;
  while (head() && head()->kind == T_DATA)
    k.arrived += toks[k.head++].len;
}

/* At the end of the stream: no data left and nothing more to come. */
static int at_end(void) {
  arrive();
  const struct token *t = head();
  return k.arrived == k.consumed &&
         (!t || t->kind == T_RESET || t->kind == T_EOF);
}

static ssize_t peer_recv(int fd, void *buf, size_t len, int flags) {
  (void)fd;
  for (;;) {
    const struct token *t = head();
    if (t && t->kind == T_EINTR) {
      k.head++;
      k.clock += SIGNAL_NS;
      return -EINTR;
    }
    if (t && t->kind == T_EAGAIN) {
      k.head++;
      k.stopped |= k.mode != M_TIMED; /* a timed call waits instead */
      return -EAGAIN;
    }
    arrive();
    size_t avail = k.arrived - k.consumed;
    if (avail > 0) {
      size_t n = len < avail ? len : avail;
      memcpy(buf, k.all + k.consumed, n);
      if (!(flags & MSG_PEEK))
        k.consumed += n;
      return (ssize_t)n;
    }
    t = head();
    if (t && t->kind == T_STALL) {
      if (k.mode != M_BLOCK) {
        k.stopped |= k.mode == M_NONBLOCK; /* a timed call waits instead */
        return -EAGAIN;
      }
      k.clock += t->ns - k.stalled; /* a blocking receive sleeps it out */
      k.stalled = 0;
      k.head++;
      continue;
    }
    if (t && t->kind != T_RESET && t->kind != T_EOF)
      continue; /* an EINTR or EAGAIN that came after the stall */
    if (k.end_reset && !k.reset_sent) {
      k.reset_sent = 1;
      k.reset_now = 1;
      k.stopped = 1;
      return -ECONNRESET;
    }
    k.stopped |= len > 0;
    return 0;
  }
}

static ssize_t peer_pending(int fd) {
  (void)fd;
  arrive();
  return (ssize_t)(k.arrived - k.consumed);
}

static int peer_wait(int fd, int events, int64_t timeout_ns) {
  (void)fd;
  const struct token *t = head();
  if (t && t->kind == T_EINTR) {
    k.head++;
    /* Interrupted partway: never later than the wait's own end. */
    k.clock +=
        timeout_ns >= 0 && timeout_ns < SIGNAL_NS ? timeout_ns : SIGNAL_NS;
    return -EINTR;
  }
  if (!(events & US__IN))
    return events & US__OUT;
  arrive();
  if (k.arrived > k.consumed || !t || t->kind != T_STALL)
    return US__IN; /* data, the end, or a spurious wake-up before EAGAIN */
  int64_t left = t->ns - k.stalled;
  if (timeout_ns >= 0 && timeout_ns < left) {
    k.clock += timeout_ns;
    k.stalled += timeout_ns;
    k.stopped = 1;
    return 0;
  }
  k.clock += left;
  k.stalled = 0;
  k.head++;
  return US__IN;
}

static int64_t peer_now(void) { return k.clock; }

static const us__fault_kernel_t peer = {.recv = peer_recv,
                                        .pending = peer_pending,
                                        .wait = peer_wait,
                                        .now = peer_now};

/* The caller waiting (in select, say) until the head stall is over. */
static void tick(void) {
  const struct token *t = head();
  if (t && t->kind == T_STALL) {
    k.clock += t->ns - k.stalled;
    k.stalled = 0;
    k.head++;
  }
}

/* Reads the script from in[0..len) into tokens and `all`. */
static void parse_script(const uint8_t *in, size_t len) {
  size_t i = 0;
  while (i < len && k.ntok < MAX_TOKENS) {
    uint8_t b = in[i++];
    struct token t = {T_DATA, 0, 0};
    if (b < 0x80) { /* 1..128 bytes, given */
      size_t n = (size_t)b + 1;
      if (n > len - i)
        n = len - i;
      if (n == 0 || k.all_len + n > MAX_DATA)
        continue;
      memcpy(k.all + k.all_len, in + i, n);
      i += n;
      t.len = n;
    } else if (b < 0xa0) { /* 96..3072 bytes, made up, few newlines */
      size_t n = ((size_t)(b & 0x1f) + 1) * 96;
      unsigned every = i < len ? (unsigned)in[i++] * 7 + 1 : 0;
      if (k.all_len + n > MAX_DATA)
        continue;
      /* Copied and strided, not made byte by byte: the fuzzer traces
       * every comparison in this file, which would cost most of a run. */
      memcpy(k.all + k.all_len, letters + k.all_len % 26, n);
      for (size_t j = every - 1; every > 1 && j < n; j += every)
        k.all[k.all_len + j] = '\n';
      t.len = n;
    } else if (b < 0xc0) {
      t.kind = T_EINTR;
    } else if (b < 0xe0) {
      t.kind = T_EAGAIN;
    } else if (b < 0xf8) {
      int64_t ms = (b - 0xe0) + 1;
      t.kind = T_STALL;
      t.ns = ms * ms * MS;
    } else {
      t.kind = b < 0xfc ? T_RESET : T_EOF;
    }
    if (t.kind == T_DATA)
      k.all_len += t.len;
    toks[k.ntok++] = t;
    if (t.kind == T_RESET || t.kind == T_EOF)
      break; /* nothing comes after the end */
  }
  if (k.ntok > 0 && toks[k.ntok - 1].kind == T_RESET)
    k.end_reset = 1;
}

/* A growing sink whose growth must follow the data: at most the eager
 * size or what is waiting, plus a few times what the call already got. */
static int grow(us_sink_t *sink, size_t need) {
  size_t waiting = k.arrived - k.consumed;
  size_t allowed = 3 * sink->len + (waiting > 65536 ? waiting : 65536) + 256;
  CHECK(need <= allowed);
  char *p = realloc(sink->data, need);
  CHECK(p != NULL);
  sink->data = p;
  sink->cap = need;
  return 0;
}

static size_t pick_max(uint8_t arg) {
  static const size_t table[16] = {1,       2,    3,     7,     8,
                                   100,     127,  128,   129,   255,
                                   1000,    4096, 65536, 65537, (size_t)1 << 31,
                                   SIZE_MAX};
  return arg < 0x80 ? table[arg & 15] : (size_t)(arg - 0x7f) * 3;
}

struct run {
  us_socket_t s;
  us_sink_t heap;
  int64_t timeout;
  int reset_owed; /* a reset met after bytes: the next call must say so */
  int buffered;   /* every read goes through b, which reads ahead */
  us_bufstream_t b;
};

/* Bytes read ahead into the buffered stream, not yet returned. */
static size_t held(const struct run *run) {
  return run->buffered ? run->b.rend - run->b.rpos : 0;
}

/* Checks one call's result r, got at data[0..r), and takes it. */
static void check_call(struct run *run, ssize_t r, const char *data, size_t max,
                       int peek, int64_t t0) {
  if (run->reset_owed) {
    CHECK(r == -ECONNRESET);
    run->reset_owed = 0;
    return;
  }
  if (r == -ECONNRESET) {
    CHECK(k.reset_now);
    return;
  }
  if (k.mode == M_TIMED) {
    CHECK(r >= 0 || r == -ETIMEDOUT);
    /* The deadline holds, give or take one signal handler's run, and
     * never comes early. */
    CHECK(k.clock - t0 <= run->timeout + SIGNAL_NS);
    CHECK(r != -ETIMEDOUT || k.clock - t0 >= run->timeout);
  } else {
    CHECK(r >= 0 || r == -EAGAIN);
  }
  if (r < 0)
    return;
  CHECK((size_t)r <= max);
  CHECK(k.delivered + (size_t)r <= k.consumed || peek);
  CHECK(r == 0 || memcmp(data, k.all + k.delivered, (size_t)r) == 0);
  if (!peek)
    k.delivered += (size_t)r;
  /* Nothing taken from the kernel but returned, or held in the buffer. */
  CHECK(k.consumed - k.delivered == held(run));
  if (r == 0 && max > 0)
    CHECK(at_end() && held(run) == 0);
  if (k.reset_now && r > 0)
    run->reset_owed = 1;
}

static void set_mode(struct run *run, enum mode mode) {
  k.mode = mode;
  /* What us_settimeout() does, minus the descriptor's flags, which the
   * scripted peer does not look at. */
  run->s.timeout_ns = US_TIMEOUT_NONBLOCK;
  if (mode == M_BLOCK)
    run->s.timeout_ns = US_TIMEOUT_BLOCK;
  else if (mode == M_TIMED)
    run->s.timeout_ns = run->timeout;
}

/* Whether a call that returned less than it could had a reason to: the
 * peer said EOF, reset or EAGAIN, or the deadline came (the core sees it
 * on the clock, with no call to the peer). */
static int had_reason(const struct run *run, int64_t t0) {
  return k.stopped || (k.mode == M_TIMED && k.clock - t0 >= run->timeout);
}

/* A line ends with its only '\n', unless max, a full sink or a reason
 * to stop cut it short. */
static void check_line(const struct run *run, ssize_t r, const us_sink_t *sink,
                       size_t max, int64_t t0) {
  if (r <= 0)
    return;
  const char *d = sink->data;
  CHECK(memchr(d, '\n', (size_t)r - 1) == NULL);
  if (d[r - 1] != '\n' && (size_t)r < max &&
      (sink->grow || sink->len < sink->cap))
    CHECK(had_reason(run, t0));
}

#define NO_CALL ((ssize_t)1 << 40)

/* The same calls through the buffered stream (no peek: it would see past
 * what the buffer holds). Returns NO_CALL when there is nothing to check. */
static ssize_t call_buffered(struct run *run, uint8_t op, us_sink_t *use,
                             size_t max, int64_t t0) {
  ssize_t r;
  const char *line;
  size_t len;
  switch (op & 7) {
  case 2:
  case 3:
  case 7:
    r = us_bufstream_readline(&run->b, use, max);
    check_line(run, r, use, max, t0);
    return r;
  case 4: /* the fast path: a whole line already buffered, or nothing */
    if (!us_bufstream_takeline(&run->b, &line, &len, max)) {
      const char *at = run->b.rbuf + run->b.rpos;
      CHECK(held(run) < max && !memchr(at, '\n', held(run)));
      return NO_CALL;
    }
    CHECK(len > 0 && len <= max && !memchr(line, '\n', len - 1));
    CHECK(line[len - 1] == '\n' || len == max);
    CHECK(!memcmp(line, k.all + k.delivered, len));
    us_bufstream_takeline_done(&run->b);
    k.delivered += len;
    return NO_CALL;
  case 6:
    set_mode(run, (enum mode)(max % 3));
    return NO_CALL;
  default:
    r = us_bufstream_read(&run->b, use, max);
    if (r >= 0 && (size_t)r < max && (use->grow || use->len < use->cap))
      CHECK(had_reason(run, t0)); /* no short read without a reason */
    return r;
  }
}

/* Runs one call: op and arg come from the input's tail. */
static void call(struct run *run, uint8_t op, uint8_t arg) {
  size_t cap = (size_t)arg + 1, max = pick_max(arg);
  char *fixed = NULL;
  us_sink_t sink, *use = &run->heap;
  ssize_t r = 0;
  int64_t t0 = k.clock;
  k.stopped = k.reset_now = 0;
  run->heap.len = 0;
  if (op & 1) {
    fixed = malloc(cap); /* exactly cap: ASan sees any overrun */
    CHECK(fixed != NULL);
    us_sink_fixed(&sink, fixed, cap);
    use = &sink;
  }
  if (run->buffered) {
    r = call_buffered(run, op, use, max, t0);
    if (r != NO_CALL)
      check_call(run, r, use->data, max, 0, t0);
    free(fixed);
    if (r == -EAGAIN || r == -ETIMEDOUT)
      tick();
    return;
  }
  switch (op & 7) {
  case 0:
  case 1:
    r = us_read(&run->s, use, max);
    if (r >= 0 && (size_t)r < max && (use->grow || (size_t)r < cap))
      CHECK(had_reason(run, t0)); /* no short read without a reason */
    break;
  case 2:
  case 3:
    r = us_readline(&run->s, use, max);
    check_line(run, r, use, max, t0);
    break;
  case 4:
    r = us_recv_sink(&run->s, use, max, 0);
    break;
  case 5:
    r = us_recv(&run->s, fixed, max = cap, 0);
    break;
  case 6:
    set_mode(run, (enum mode)(arg % 3));
    free(fixed);
    return;
  case 7:
    r = us_recv(&run->s, fixed, max = cap, MSG_PEEK);
    break;
  }
  check_call(run, r, use->data, max, (op & 7) == 7, t0);
  free(fixed);
  if (r == -EAGAIN || r == -ETIMEDOUT)
    tick();
}

static us_socket_t template_socket;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  int sv[2];
  /* A real socket only to get a fully set-up us_socket_t; the scripted
   * peer answers every call the reading functions make on it. */
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK(us_socket_from_fd(&template_socket, sv[0]) == 0);
  for (size_t i = 0; i < sizeof letters; i++)
    letters[i] = (uint8_t)('a' + i % 26);
  k.all = malloc(MAX_DATA);
  CHECK(k.all != NULL);
  us__fault_kernel(&peer);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
  if (size < 3)
    return 0;
  uint8_t *all = k.all;
  memset(&k, 0, sizeof k);
  k.all = all;
  k.clock = 1000 * MS;
  struct run run = {.s = template_socket};
  run.heap.grow = grow;
  run.timeout = ((int64_t)in[1] + 1) * MS;
  size_t ncalls = in[2];
  if (ncalls * 2 > size - 3)
    ncalls = (size - 3) / 2;
  set_mode(&run, (in[0] & 3) == 3 ? M_TIMED : (enum mode)(in[0] & 3));
  if (in[0] & 8) { /* read through a buffered stream, of a size chosen */
    static const size_t sizes[4] = {0, 1, 7, 100};
    run.buffered = 1;
    CHECK(us_bufstream_init(&run.b, &run.s, sizes[(in[0] >> 4) & 3]) == 0);
  }
  parse_script(in + 3, size - 3 - 2 * ncalls);
  /* Unless the script says how the stream ends, the mode byte does. */
  if (!k.ntok ||
      (toks[k.ntok - 1].kind != T_RESET && toks[k.ntok - 1].kind != T_EOF))
    k.end_reset = (in[0] & 4) != 0;
  for (size_t i = 0; i < ncalls; i++)
    call(&run, in[size - 1 - 2 * i], in[size - 2 - 2 * i]);
  /* Then read to the end: everything scripted must come out. */
  for (int i = 0; !at_end() || held(&run) || run.reset_owed ||
                  (k.end_reset && !k.reset_sent);
       i++) {
    CHECK(i < 100000);
    call(&run, 0, 0x0f); /* us_read, growing, max SIZE_MAX */
  }
  CHECK(k.delivered == k.consumed && k.consumed == k.all_len);
  free(run.heap.data);
  if (run.buffered)
    us_bufstream_free(&run.b);
  return 0;
}
