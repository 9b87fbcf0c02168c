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
 * (fake_peer.c) stands in for the kernel, on a virtual clock; the bytes
 * the script has it send are what the receives get.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fake_peer.h"

/* What the peer leaves to this target. The script's bytes
 * all[consumed..arrived) are in the "kernel". */
static struct {
  size_t arrived;
  int reset_now; /* this call met the reset */
} k;

/* Data arrives when the kernel's buffer is empty: a run of DATA tokens
 * arrives together, so the pieces a receive sees follow the script. */
static void arrive(void) {
  if (k.arrived > peer.consumed)
    return;
  while (peer_head() && peer_head()->kind == T_DATA)
    k.arrived += toks[peer.head++].len;
}

static size_t arrived(void) {
  arrive();
  return k.arrived - peer.consumed;
}

/* At the end of the stream: no data left and nothing more to come. */
static int at_end(void) {
  arrive();
  const struct token *t = peer_head();
  return k.arrived == peer.consumed &&
         (!t || t->kind == T_RESET || t->kind == T_EOF);
}

static ssize_t recv_idle(size_t len) {
  const struct token *t = peer_head();
  if (t && t->kind != T_RESET && t->kind != T_EOF)
    return PEER_AGAIN; /* an EINTR or EAGAIN that came after the stall */
  ssize_t r = peer_end(len);
  if (r == -ECONNRESET)
    k.reset_now = 1;
  return r;
}

static int wait_idle(int64_t timeout_ns) {
  (void)timeout_ns;
  return US__IN; /* the end, or a spurious wake-up before EAGAIN */
}

static const struct peer_hooks hooks = {
    .arrive = arrived, .recv_idle = recv_idle, .wait_idle = wait_idle};

/* Reads the script from in[0..len) into tokens and the peer's bytes. */
static void parse_script(const uint8_t *in, size_t len) {
  size_t i = 0;
  while (i < len && peer.ntok < MAX_TOKENS) {
    uint8_t b = in[i++];
    struct token t = {T_DATA, 0, 0};
    if (b < 0x80) { /* 1..128 bytes, given */
      size_t n = (size_t)b + 1;
      if (n > len - i)
        n = len - i;
      if (peer_add_data(in + i, n, 0) != 0)
        continue;
      i += n;
      t.len = n;
    } else if (b < 0xa0) { /* 96..3072 bytes, made up, few newlines */
      size_t n = ((size_t)(b & 0x1f) + 1) * 96;
      unsigned every = i < len ? (unsigned)in[i++] * 7 + 1 : 0;
      if (peer_add_data(NULL, n, every) != 0)
        continue;
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
    toks[peer.ntok++] = t;
    if (t.kind == T_RESET || t.kind == T_EOF)
      break; /* nothing comes after the end */
  }
  if (peer.ntok > 0 && toks[peer.ntok - 1].kind == T_RESET)
    peer.end_reset = 1;
}

/* A growing sink whose growth must follow the data: at most the eager
 * size or what is waiting, plus a few times what the call already got. */
static int grow(us_sink_t *sink, size_t need) {
  size_t waiting = k.arrived - peer.consumed;
  return peer_grow(sink, need,
                   3 * sink->len + (waiting > 65536 ? waiting : 65536) + 256);
}

struct run {
  us_socket_t s;
  us_sink_t heap;
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
  if (peer.mode == M_TIMED) {
    CHECK(r >= 0 || r == -ETIMEDOUT);
    peer_check_deadline(r, t0);
  } else {
    CHECK(r >= 0 || r == -EAGAIN);
  }
  if (r < 0)
    return;
  CHECK((size_t)r <= max);
  CHECK(peer.delivered + (size_t)r <= peer.consumed || peek);
  CHECK(r == 0 || memcmp(data, peer.all + peer.delivered, (size_t)r) == 0);
  if (!peek)
    peer.delivered += (size_t)r;
  /* Nothing taken from the kernel but returned, or held in the buffer. */
  CHECK(peer.consumed - peer.delivered == held(run));
  if (r == 0 && max > 0)
    CHECK(at_end() && held(run) == 0);
  if (k.reset_now && r > 0)
    run->reset_owed = 1;
}

#define NO_CALL ((ssize_t)1 << 40)

/* The same calls through the buffered stream (no peek: it would see past
 * what the buffer holds). Returns NO_CALL when there is nothing to check. */
static ssize_t call_buffered(struct run *run, uint8_t op, us_sink_t *use,
                             size_t max, int64_t t0) {
  ssize_t r;
  switch (op & 7) {
  case 2:
  case 3:
  case 7:
    r = us_bufstream_readline(&run->b, use, max);
    peer_check_line(r, use, max, t0, peer_had_reason);
    return r;
  case 4: /* the fast path: a whole line already buffered, or nothing */
    peer_takeline(&run->b, max);
    return NO_CALL;
  case 6:
    peer_set_mode(&run->s, (enum mode)(max % 3));
    return NO_CALL;
  default:
    r = us_bufstream_read(&run->b, use, max);
    if (r >= 0 && (size_t)r < max && (use->grow || use->len < use->cap))
      CHECK(peer_had_reason(t0)); /* no short read without a reason */
    return r;
  }
}

/* Runs one call: op and arg come from the input's tail. */
static void call(struct run *run, uint8_t op, uint8_t arg) {
  size_t cap = (size_t)arg + 1, max = peer_pick_max(arg, 65536);
  char *fixed = NULL;
  us_sink_t sink, *use = &run->heap;
  ssize_t r = 0;
  int64_t t0 = peer.clock;
  peer.stopped = k.reset_now = 0;
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
      peer_tick();
    return;
  }
  switch (op & 7) {
  case 0:
  case 1:
    r = us_read(&run->s, use, max);
    if (r >= 0 && (size_t)r < max && (use->grow || (size_t)r < cap))
      CHECK(peer_had_reason(t0)); /* no short read without a reason */
    break;
  case 2:
  case 3:
    r = us_readline(&run->s, use, max);
    peer_check_line(r, use, max, t0, peer_had_reason);
    break;
  case 4:
    r = us_recv_sink(&run->s, use, max, 0);
    break;
  case 5:
    r = us_recv(&run->s, fixed, max = cap, 0);
    break;
  case 6:
    peer_set_mode(&run->s, (enum mode)(arg % 3));
    free(fixed);
    return;
  case 7:
    r = us_recv(&run->s, fixed, max = cap, MSG_PEEK);
    break;
  }
  check_call(run, r, use->data, max, (op & 7) == 7, t0);
  free(fixed);
  if (r == -EAGAIN || r == -ETIMEDOUT)
    peer_tick();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  peer_init(&hooks, NULL);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
  if (size < 3)
    return 0;
  struct input input;
  struct run run = {.heap.grow = grow};
  memset(&k, 0, sizeof k);
  peer_begin(&input, &run.s, in, size, 3);
  if (in[0] & 8) { /* read through a buffered stream, of a size chosen */
    static const size_t sizes[4] = {0, 1, 7, 100};
    run.buffered = 1;
    CHECK(us_bufstream_init(&run.b, &run.s, sizes[(in[0] >> 4) & 3]) == 0);
  }
  parse_script(input.script, input.script_len);
  /* Unless the script says how the stream ends, the mode byte does. */
  if (!peer.ntok || (toks[peer.ntok - 1].kind != T_RESET &&
                     toks[peer.ntok - 1].kind != T_EOF))
    peer.end_reset = (in[0] & 4) != 0;
  for (size_t i = 0; i < input.ncalls; i++)
    call(&run, input_op(&input, i), input_arg(&input, i));
  /* Then read to the end: everything scripted must come out. */
  for (int i = 0; !at_end() || held(&run) || run.reset_owed ||
                  (peer.end_reset && !peer.reset_sent);
       i++) {
    CHECK(i < 100000);
    call(&run, 0, 0x0f); /* us_read, growing, max SIZE_MAX */
  }
  CHECK(peer.delivered == peer.consumed && peer.consumed == peer.all_len);
  free(run.heap.data);
  if (run.buffered)
    us_bufstream_free(&run.b);
  return 0;
}
