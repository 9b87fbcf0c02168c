/* test_fault_readline.c: us_readline returns each line whole and never
 * takes a byte past its newline, whatever the receives return. */
#include <errno.h>
#include <sys/socket.h>

#include "fault_util.h"

/* Lines of the pattern: the newline's place is chosen by the length list,
 * and any '\n' the pattern itself holds is replaced, so lines are exact. */
struct lines {
  char *text;
  size_t len;
  size_t ends[64]; /* offset just past each line's '\n' */
  int n;
};

static void lines_make(struct lines *l, const size_t *lens, int n) {
  l->len = 0;
  for (int i = 0; i < n; i++)
    l->len += lens[i];
  l->text = malloc(l->len);
  ASSERT(l->text != NULL);
  pattern_fill(l->text, 0, l->len);
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    for (size_t j = off; j < off + lens[i]; j++)
      if (l->text[j] == '\n')
        l->text[j] = '.';
    off += lens[i];
    l->text[off - 1] = '\n';
    l->ends[i] = off;
  }
  l->n = n;
}

/* Reads every line with a growing sink and checks each against the text;
 * then the stream must be at EOF. */
static void readline_all(us_socket_t *s, const struct lines *l) {
  struct heap_sink h;
  size_t start = 0, longest = 0;
  heap_sink_init(&h);
  for (int i = 0; i < l->n; i++) {
    h.sink.len = 0;
    ASSERT_EQ(us_readline(s, &h.sink, SIZE_MAX), l->ends[i] - start);
    bytes_expect(h.sink.data, l->text + start, l->ends[i] - start);
    /* Memory follows the data: a few times the longest line at most. */
    if (l->ends[i] - start > longest)
      longest = l->ends[i] - start;
    ASSERT(h.largest <= 4 * longest + 256);
    start = l->ends[i];
  }
  h.sink.len = 0;
  ASSERT_EQ(us_readline(s, &h.sink, SIZE_MAX), 0);
  free(h.sink.data);
}

static const size_t mixed[] = {1, 2,    80, 127,   128, 129,   255, 256,   1000,
                               3, 4097, 1,  20000, 64,  65536, 1,   70000, 5};
#define NMIXED (int)(sizeof mixed / sizeof mixed[0])

static void run_lines(const size_t *lens, int n) {
  us_socket_t a, b;
  struct lines l;
  struct peer p = {0};
  tcp_pair(&a, &b);
  lines_make(&l, lens, n);
  p.buf = l.text;
  peer_write_pattern(&p, a.fd, l.len);
  readline_all(&b, &l);
  peer_join(&p);
  fault_done();
  free(l.text);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void readline_one_byte_receives(void) {
  static const size_t lens[] = {1, 300, 5000, 2, 40000};
  guard(30);
  ASSERT_OK(us__fault_short(US__FAULT_RECV, 1, -1));
  run_lines(lens, 5);
}

static void readline_short_receives(void) {
  guard(30);
  us__fault_t f = {.most = 100, .count = -1, .every = 2};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  ASSERT_OK(us__fault_short(US__FAULT_RECV, 7, -1));
  run_lines(mixed, NMIXED);
}

static void readline_eintr_storm(void) {
  guard(30);
  us__fault_t f = {.err = -EINTR, .count = -1, .every = 2};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  run_lines(mixed, NMIXED);
}

static void timed_readline_eagain_bursts(void) {
  us_socket_t a, b;
  struct lines l;
  struct peer p = {.chunk = 4096, .delay = MS / 20};
  guard(30);
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&b, 5000 * MS));
  us__fault_t f = {.err = -EAGAIN, .count = -1, .every = 3};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  ASSERT_OK(us__fault_fail(US__FAULT_WAIT, -EINTR, 50));
  lines_make(&l, mixed, NMIXED);
  p.buf = l.text;
  peer_write_pattern(&p, a.fd, l.len);
  readline_all(&b, &l);
  peer_join(&p);
  fault_done();
  free(l.text);
  us_socket_close(&a);
  us_socket_close(&b);
}

/* A reset in the middle of a line: the part before it is returned, the
 * next call reports the reset, and no byte is lost or taken twice. */
static void readline_reset_mid_line(void) {
  us_socket_t a, b;
  struct lines l;
  struct heap_sink h;
  static const size_t lens[] = {40, 40, 40};
  guard(20);
  tcp_pair(&a, &b);
  heap_sink_init(&h);
  lines_make(&l, lens, 3);
  raw_send_all(a.fd, l.text, l.len);
  shutdown(a.fd, SHUT_WR);
  us__fault_t f = {.err = -ECONNRESET, .count = 1, .after = 100};
  ASSERT_OK(us__fault_add(US__FAULT_RECV, &f));
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 40);
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 40);
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 20);
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), -ECONNRESET);
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 20);
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 0);
  bytes_expect(h.sink.data, l.text, l.len);
  fault_done();
  free(h.sink.data);
  free(l.text);
  us_socket_close(&a);
  us_socket_close(&b);
}

/* A fixed sink smaller than the line, short receives: each call fills the
 * sink and no more; the line arrives whole across calls. */
static void readline_fixed_sink_short_receives(void) {
  us_socket_t a, b;
  struct lines l;
  char buf[50];
  static const size_t lens[] = {130, 7, 50, 51};
  guard(20);
  tcp_pair(&a, &b);
  lines_make(&l, lens, 4);
  raw_send_all(a.fd, l.text, l.len);
  shutdown(a.fd, SHUT_WR);
  ASSERT_OK(us__fault_short(US__FAULT_RECV, 3, -1));
  size_t off = 0;
  for (int calls = 0; calls < 100; calls++) {
    us_sink_t sink;
    us_sink_fixed(&sink, buf, sizeof buf);
    ssize_t n = us_readline(&b, &sink, SIZE_MAX);
    ASSERT(n >= 0);
    if (n == 0)
      break;
    bytes_expect(buf, l.text + off, (size_t)n);
    /* Only a full sink or a newline ends a call. */
    ASSERT((size_t)n == sizeof buf || buf[n - 1] == '\n');
    ASSERT(memchr(buf, '\n', (size_t)n - 1) == NULL);
    off += (size_t)n;
  }
  ASSERT_EQ(off, l.len);
  fault_done();
  free(l.text);
  us_socket_close(&a);
  us_socket_close(&b);
}

/* Lines already queued: a look notes US_RX_LINES of them, each then taken
 * by one receive, so a line costs 1 + 1/US_RX_LINES receives, not 2; and
 * with every receive failing EAGAIN once in a while, or cut short, the
 * lines still come whole. */
static void readline_counts(long every, size_t most, size_t per4) {
  us_socket_t a, b;
  struct lines l;
  size_t lens[64];
  us__fault_stats_t before, after;
  for (int i = 0; i < 64; i++)
    lens[i] = 40;
  tcp_pair(&a, &b);
  lines_make(&l, lens, 64);
  raw_send_all(a.fd, l.text, l.len);
  shutdown(a.fd, SHUT_WR);
  /* Timed: EAGAIN from a blocking socket would be its own timeout. */
  ASSERT_OK(us_settimeout(&b, 5000 * MS));
  if (every)
    ASSERT_OK(us__fault_add(
        US__FAULT_RECV,
        &(us__fault_t){.err = -EAGAIN, .count = -1, .every = every}));
  if (most)
    ASSERT_OK(us__fault_short(US__FAULT_RECV, most, -1));
  us__fault_stats(&before);
  readline_all(&b, &l);
  us__fault_stats(&after);
  us__fault_reset();
  size_t calls = after.calls[US__FAULT_RECV] - before.calls[US__FAULT_RECV];
  /* 64 lines, then the look that finds EOF. */
  ASSERT(calls <= 64 / 4 * per4 + 1);
  ASSERT(calls >= 64 + 1);
  fault_done();
  free(l.text);
  us_socket_close(&a);
  us_socket_close(&b);
}

static void readline_queued_lines_take_one_receive_each(void) {
  guard(10);
  readline_counts(0, 0, 5);
}

static void readline_queued_lines_with_eagain_and_short_receives(void) {
  guard(10);
  readline_counts(3, 0, 16); /* an EAGAIN sends a line the long way */
  /* 40-byte lines in 7-byte pieces: a look and a take for each piece. */
  readline_counts(0, 7, 4 * 13);
}

TEST_TABLE(fault_readline_tests) = {
    {"fault_readline_one_byte_receives", readline_one_byte_receives},
    {"fault_readline_queued_lines_take_one_receive_each",
     readline_queued_lines_take_one_receive_each},
    {"fault_readline_queued_lines_with_eagain_and_short_receives",
     readline_queued_lines_with_eagain_and_short_receives},
    {"fault_readline_short_receives", readline_short_receives},
    {"fault_readline_eintr_storm", readline_eintr_storm},
    {"fault_timed_readline_eagain_bursts", timed_readline_eagain_bursts},
    {"fault_readline_reset_mid_line", readline_reset_mid_line},
    {"fault_readline_fixed_sink_short_receives",
     readline_fixed_sink_short_receives},
    TEST_END};
