/* fake_peer.h: the scripted peer that the stream targets (fuzz_stream,
 * fuzz_tls) read from, standing in for the kernel through the
 * fault-injection build's us__fault_kernel(), on a virtual clock.
 *
 * A script of tokens, taken from the fuzzer's input, says when bytes may
 * arrive and what happens between them: EINTR, EAGAIN, stalls. The peer
 * answers the core's receives, waits, pending counts and clock from it;
 * the target says, through its hooks, how its bytes arrive and what a
 * receive or a wait meets when nothing is there. The peer also splits an
 * input into its header, script and calls, and checks what the calls
 * return that both targets check alike.
 */
#ifndef US_FUZZ_FAKE_PEER_H
#define US_FUZZ_FAKE_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "check.h"
#include "fault.h"

#define MS ((int64_t)1000000)
#define MAX_TOKENS 4096
/* The time a signal takes to handle: an EINTR costs it. */
#define SIGNAL_NS (MS / 2)
#define MAX_DATA ((size_t)1 << 18)
/* The longest run of made-up bytes one token may ask for. */
#define MADE_UP_MAX ((size_t)16384)
/* A hook's answer that sends the receive round its loop again. */
#define PEER_AGAIN (-((ssize_t)1 << 40))

enum kind { T_DATA, T_EINTR, T_EAGAIN, T_STALL, T_RESET, T_EOF };
enum mode { M_BLOCK, M_NONBLOCK, M_TIMED };

struct token {
  enum kind kind;
  size_t len; /* T_DATA: a piece: how many more bytes may arrive */
  int64_t ns; /* T_STALL: how long nothing arrives */
};

struct peer_hooks {
  /* Lets in what the script allows now; returns how many bytes the
   * receives may take, from bytes[consumed] on. */
  size_t (*arrive)(void);
  /* A receive that finds nothing and no stall ahead: its result, or
   * PEER_AGAIN to look again. */
  ssize_t (*recv_idle)(size_t len);
  /* A wait for input that finds nothing and no stall ahead: its result. */
  int (*wait_idle)(int64_t timeout_ns);
  /* The client's sends; NULL leaves them to the real kernel. */
  __typeof__(us__sys_send) *send;
};

/* The peer. hooks, all and bytes are set once, by peer_init(); the rest
 * is one input's, cleared by peer_begin(). The script sends
 * all[0..all_len), which the API has returned up to all[delivered]; the
 * receives have taken bytes[0..consumed) (bytes: all, or what a target
 * makes of it, such as TLS records). */
struct peer {
  const struct peer_hooks *hooks;
  uint8_t *all;
  const uint8_t *bytes;
  int ntok, head; /* the script: toks[head..ntok) still to come */
  size_t all_len, consumed, delivered;
  int64_t clock, stalled; /* stalled: ns of the head stall already spent */
  int64_t timeout;        /* a timed call's: 1..256 ms, from the input */
  enum mode mode;
  int end_reset;  /* the stream ends with a reset, not EOF */
  int reset_sent; /* the reset was returned by a receive */
  int stopped;    /* this call met EOF, an error, EAGAIN or the time */
};

extern struct peer peer;
extern struct token toks[MAX_TOKENS]; /* apart: too big to clear per run */

/* One input: its script, and its calls, two bytes each, which are read
 * from the input's end backwards (see input_op()). */
struct input {
  const uint8_t *script, *calls;
  size_t script_len, ncalls;
};

static inline uint8_t input_op(const struct input *in, size_t i) {
  return in->calls[2 * (in->ncalls - i) - 1];
}

static inline uint8_t input_arg(const struct input *in, size_t i) {
  return in->calls[2 * (in->ncalls - i) - 2];
}

/* Once, from LLVMFuzzerInitialize: makes the socket every input reads
 * from and takes the kernel's place. bytes: what the receives read; NULL
 * for peer.all. */
void peer_init(const struct peer_hooks *hooks, const uint8_t *bytes);
/* Starts one input, of at least `header` bytes (3 or more): in[0] & 3 is
 * the mode (3: timed too), in[1] the timeout, in[2] the call count. Sets
 * *s to a fresh copy of the socket in that mode, and *out to the script,
 * which follows the header, and the calls. */
void peer_begin(struct input *out, us_socket_t *s, const uint8_t *in,
                size_t size, size_t header);

const struct token *peer_head(void);
/* Appends n bytes to what the peer sends: from `from`, or, when it is
 * NULL, made up, with a newline every `every` bytes (0 or 1: none).
 * Returns -1, adding nothing, for n of 0 or bytes that do not fit. */
int peer_add_data(const uint8_t *from, size_t n, unsigned every);
/* The caller waiting (in select, say) until the head stall is over. */
void peer_tick(void);
/* The end of the stream, for a receive of len bytes: the reset once, when
 * the stream ends with one, else EOF. */
ssize_t peer_end(size_t len);

/* A mode's timeout on s: what us_settimeout() does, minus the
 * descriptor's flags, which the peer does not look at. */
void peer_set_mode(us_socket_t *s, enum mode mode);
/* A growing sink's growth, which must stay within what the target
 * allows for the data at hand. */
int peer_grow(us_sink_t *sink, size_t need, size_t allowed);
/* A call's max from its arg: sizes around the small ones, around `big`,
 * and the largest; or, from 0x80 up, a multiple of 3. */
size_t peer_pick_max(uint8_t arg, size_t big);

/* Whether a call begun at t0 had a reason to return less than it could:
 * the peer said EOF, reset or EAGAIN, or the deadline came (the core sees
 * it on the clock, with no call to the peer). */
int peer_had_reason(int64_t t0);
/* A timed call begun at t0 that returned r kept to its deadline, give or
 * take one signal handler's run, and never timed out early. */
void peer_check_deadline(ssize_t r, int64_t t0);
/* A line of r bytes ends with its only '\n', unless max, a full sink or
 * a reason to stop (had_reason) cut it short. */
void peer_check_line(ssize_t r, const us_sink_t *sink, size_t max, int64_t t0,
                     int (*had_reason)(int64_t t0));
/* A buffered stream's fast path: a whole line (or max bytes) already read
 * ahead, which must be what comes next, or nothing, and then nothing is
 * taken. */
void peer_takeline(us_bufstream_t *b, size_t max);

#endif /* US_FUZZ_FAKE_PEER_H */
