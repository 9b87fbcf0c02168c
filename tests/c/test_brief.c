/* Non-blocking calls under an exclusive host (us_host_t.exclusive, as
 * CPython's GIL) are brief: they skip their record and their hold on the
 * socket. They must behave exactly as full calls, and become full before
 * any host code runs that could close the socket under them. */
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const us_host_t exclusive_host = {test_unlock, test_lock, NULL, NULL, 1};

/* Waits (2 s at most) until n bytes are queued on s, then makes s
 * non-blocking again. A peek may see only the first of two segments. */
static void arrived(us_socket_t *s, ssize_t n) {
  char buf[16];
  int64_t end = now_ms() + 2000;
  ASSERT_OK(us_settimeout(s, 2000 * 1000000LL));
  while (us_recv(s, buf, (size_t)n, MSG_PEEK) < n && now_ms() < end)
    ;
  ASSERT_EQ(us_recv(s, buf, (size_t)n, MSG_PEEK), n);
  ASSERT_OK(us_settimeout(s, 0));
}

/* Non-blocking calls keep the lock and move the bytes; a timed one under
 * the same host still lets the lock go to wait, and takes it back. */
static void nonblocking_calls_keep_the_lock(void) {
  us_socket_t a, b;
  char buf[64];
  us_set_host(&exclusive_host);
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&a, 0));
  ASSERT_OK(us_settimeout(&b, 0));
  host_unlocks = host_locks = 0;
  ASSERT_EQ(us_write(&a, "one\ntwo\n", 8), 8);
  arrived(&b, 8);
  host_unlocks = host_locks = 0;
  us_sink_t sink;
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_readline(&b, &sink, sizeof buf), 4);
  ASSERT(memcmp(buf, "one\n", 4) == 0);
  us_sink_fixed(&sink, buf, 4);
  ASSERT_EQ(us_read(&b, &sink, 4), 4);
  ASSERT(memcmp(buf, "two\n", 4) == 0);
  ASSERT_EQ(us_send(&a, "xyz", 3, 0), 3);
  ASSERT_EQ(host_unlocks, 0);
  arrived(&b, 3);
  host_unlocks = host_locks = 0;
  ASSERT_EQ(us_recv(&b, buf, 3, 0), 3);
  ASSERT(memcmp(buf, "xyz", 3) == 0);
  ASSERT_EQ(us_recv(&b, buf, 1, 0), -EAGAIN);
  ASSERT_EQ(us_calls_in_progress(), 0);
  ASSERT_EQ(host_unlocks, 0);
  ASSERT_EQ(host_locks, 0);
  ASSERT_OK(us_settimeout(&b, 20 * 1000000));
  ASSERT_EQ(us_recv(&b, buf, 1, 0), -ETIMEDOUT);
  ASSERT(host_unlocks >= 1);
  ASSERT_EQ(host_locks, host_unlocks);
  us_socket_close(&a);
  us_socket_close(&b);
  ASSERT_EQ(us_recv(&b, buf, 1, 0), -EBADF);
  us_set_host(NULL);
}

/* A host callback that closes the socket its call is using, as a Python
 * signal handler or allocator hook may: the close must be put off until
 * the call ends, or its number could be reused under the call. */
static us_socket_t *victim;
static int victim_fd, open_after_close, callbacks;

static void close_victim(void) {
  if (!victim || victim->fd < 0)
    return;
  callbacks++;
  us_socket_close(victim);
  open_after_close = fd_open(victim_fd);
}

static int closing_check(void) {
  close_victim();
  return 0;
}

static const us_host_t closing_host = {test_unlock, test_lock, closing_check,
                                       NULL, 1};

static void signal_handler_close_is_put_off(void) {
  us_socket_t a, b;
  us_set_host(&closing_host);
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&a, 0));
  /* More than the socket buffers hold: the first send is short, and the
   * transfer runs the host's check before it tries again. */
  size_t len = 64u << 20;
  char *big = calloc(1, len);
  ASSERT(big);
  victim = &a;
  victim_fd = a.fd;
  open_after_close = 0;
  callbacks = 0;
  ssize_t n = us_write(&a, big, len);
  ASSERT_EQ(callbacks, 1);
  ASSERT(open_after_close);         /* put off while the call ran */
  ASSERT(n > 0 && (size_t)n < len); /* what went before the close */
  ASSERT(!fd_open(victim_fd));      /* then closed */
  ASSERT_EQ(us_write(&a, big, 1), -EBADF);
  victim = NULL;
  free(big);
  us_socket_close(&b);
  us_set_host(NULL);
}

static int (*heap_grow)(us_sink_t *, size_t);

static int closing_grow(us_sink_t *sink, size_t need) {
  close_victim();
  return heap_grow(sink, need);
}

static void grow_callback_close_is_put_off(void) {
  us_socket_t a, b;
  char c;
  us_set_host(&exclusive_host);
  tcp_pair(&a, &b);
  ASSERT_EQ(us_send(&a, "x", 1, 0), 1);
  /* Arrived (a blocking peek waits for it) before the non-blocking read. */
  ASSERT_EQ(us_recv(&b, &c, 1, MSG_PEEK), 1);
  ASSERT_OK(us_settimeout(&b, 0));
  struct heap_sink hs;
  heap_sink_init(&hs);
  heap_grow = hs.sink.grow;
  hs.sink.grow = closing_grow;
  victim = &b;
  victim_fd = b.fd;
  open_after_close = 0;
  callbacks = 0;
  ssize_t n = us_read(&b, &hs.sink, 100);
  ASSERT_EQ(callbacks, 1);
  ASSERT(open_after_close);
  ASSERT_EQ(n, -EBADF);
  ASSERT(!fd_open(victim_fd));
  victim = NULL;
  free(hs.sink.data);
  us_socket_close(&a);
  us_set_host(NULL);
}

/* A reset that comes after bytes: the bytes are returned, the reset held
 * for the next call, as a full call does; nothing lets the lock go. */
static void reset_after_bytes_is_held_for_the_next_call(void) {
  us_socket_t a, b;
  char buf[64];
  us_sink_t sink;
  struct linger lg = {1, 0};
  us_set_host(&exclusive_host);
  tcp_pair(&a, &b);
  ASSERT_EQ(us_write(&a, "data", 4), 4);
  arrived(&b, 4);
  ASSERT_OK(us_setsockopt(&a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
  us_socket_close(&a); /* sends RST */
  /* Waits (2 s at most) for the reset, which a poll set reports unasked. */
  us_pollset_t *ps;
  us_pollev_t ev;
  ASSERT_OK(us_pollset_new(&ps, 0));
  ASSERT_OK(us_pollset_add_socket(ps, &b, 0, NULL));
  ASSERT_EQ(us_pollset_wait(ps, &ev, 1, 2000 * 1000000LL, 0), 1);
  us_pollset_free(ps);
  host_unlocks = host_locks = 0;
  us_sink_fixed(&sink, buf, sizeof buf);
  ssize_t n = us_read(&b, &sink, sizeof buf);
  /* Linux may drop unread data on RST; whatever arrived is returned, and
   * the reset itself is never swallowed. */
  if (n == 4) {
    ASSERT(memcmp(buf, "data", 4) == 0);
    ASSERT_EQ(sink.len, 4);
    us_sink_fixed(&sink, buf, sizeof buf);
    n = us_read(&b, &sink, sizeof buf);
  }
  ASSERT_EQ(n, -ECONNRESET);
  ASSERT_EQ(sink.len, 0);
  ASSERT_EQ(host_unlocks, 0);
  ASSERT_EQ(us_calls_in_progress(), 0);
  us_socket_close(&b);
  us_set_host(NULL);
}

/* Writes until the socket takes no more: each returns what went (the
 * last ones may be short), then -EAGAIN; the peer gets every byte
 * counted, in order, and no other. */
static void write_counts_what_went_until_eagain(void) {
  us_socket_t a, b;
  size_t piece = 48 * 1024 + 7, sent = 0, got = 0;
  unsigned char *out = malloc(piece), *in = malloc(piece);
  ASSERT(out && in);
  us_set_host(&exclusive_host);
  tcp_pair(&a, &b);
  ASSERT_OK(us_settimeout(&a, 0));
  host_unlocks = 0;
  ssize_t n = 0;
  for (int i = 0; i < 10000; i++) {
    for (size_t k = 0; k < piece; k++)
      out[k] = (unsigned char)((sent + k) % 251);
    n = us_write(&a, out, piece);
    if (n < 0)
      break;
    ASSERT(n > 0 && (size_t)n <= piece);
    sent += (size_t)n;
  }
  ASSERT_EQ(n, -EAGAIN);
  ASSERT(sent > 0);
  ASSERT_EQ(host_unlocks, 0);
  us_socket_close(&a);
  for (;;) {
    us_sink_t sink;
    us_sink_fixed(&sink, in, piece);
    n = us_read(&b, &sink, piece); /* blocking: until EOF */
    ASSERT(n >= 0);
    if (n == 0)
      break;
    for (ssize_t k = 0; k < n; k++)
      ASSERT_EQ(in[k], (unsigned char)((got + (size_t)k) % 251));
    got += (size_t)n;
  }
  ASSERT_EQ(got, sent);
  free(out);
  free(in);
  us_socket_close(&b);
  us_set_host(NULL);
}

/* A read between readlines takes part of a line that readline had
 * noted: the next readlines still return the lines as they are. */
static void read_between_readlines_keeps_their_notes(void) {
  static const char *const lines[] = {"\n", "c\n", "dd\n"};
  us_socket_t a, b;
  char buf[16];
  us_sink_t sink;
  us_set_host(&exclusive_host);
  tcp_pair(&a, &b);
  ASSERT_EQ(us_write(&a, "a\nbbbb\nc\ndd\n", 12), 12);
  arrived(&b, 12);
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_readline(&b, &sink, sizeof buf), 2);
  ASSERT(memcmp(buf, "a\n", 2) == 0);
  us_sink_fixed(&sink, buf, 4); /* all of "bbbb\n" but its newline */
  ASSERT_EQ(us_read(&b, &sink, 4), 4);
  ASSERT(memcmp(buf, "bbbb", 4) == 0);
  for (int i = 0; i < 3; i++) {
    size_t len = strlen(lines[i]);
    us_sink_fixed(&sink, buf, sizeof buf);
    ASSERT_EQ(us_readline(&b, &sink, sizeof buf), (ssize_t)len);
    ASSERT(memcmp(buf, lines[i], len) == 0);
  }
  us_sink_fixed(&sink, buf, sizeof buf);
  ASSERT_EQ(us_read(&b, &sink, sizeof buf), -EAGAIN);
  us_socket_close(&a);
  us_socket_close(&b);
  us_set_host(NULL);
}

TEST_TABLE(brief_tests) = {
    {"brief_nonblocking_calls_keep_the_lock", nonblocking_calls_keep_the_lock},
    {"brief_signal_handler_close_is_put_off", signal_handler_close_is_put_off},
    {"brief_grow_callback_close_is_put_off", grow_callback_close_is_put_off},
    {"brief_reset_after_bytes_is_held_for_the_next_call",
     reset_after_bytes_is_held_for_the_next_call},
    {"brief_write_counts_what_went_until_eagain",
     write_counts_what_went_until_eagain},
    {"brief_read_between_readlines_keeps_their_notes",
     read_between_readlines_keeps_their_notes},
    TEST_END};
