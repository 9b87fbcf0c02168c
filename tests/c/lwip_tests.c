/* lwip_tests.c: what issue 16 asks of the core over lwIP, which only an
 * lwIP build can show: a connect to where SYNs vanish keeps its timeout,
 * and readline's lwIP calls per queued line (counted by wrapping lwIP's
 * receive and poll at link time: -Wl,--wrap). */
#include <errno.h>
#include <lwip/sockets.h>
#include <string.h>

#include "test.h"

static int calls;

int __real_lwip_recv(int s, void *mem, size_t len, int flags);
int __wrap_lwip_recv(int s, void *mem, size_t len, int flags) {
  calls++;
  return __real_lwip_recv(s, mem, len, flags);
}

int __real_lwip_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int __wrap_lwip_poll(struct pollfd *fds, nfds_t nfds, int timeout) {
  calls++;
  return __real_lwip_poll(fds, nfds, timeout);
}

/* lwip_stack.c's interface drops what is not for its own addresses: a SYN
 * to 10.0.0.1 is never answered. */
static void timed_connect_to_a_silent_port_times_out(void) {
  us_socket_t s;
  us_addr_t to;
  ASSERT_OK(us_socket_open(&s, AF_INET, SOCK_STREAM, 0));
  ASSERT_OK(us_addr_parse(&to, AF_INET, "10.0.0.1", 80));
  ASSERT_OK(us_settimeout(&s, 300 * 1000000LL));
  int64_t t0 = now_ms();
  ASSERT_EQ(us_connect(&s, &to), -ETIMEDOUT);
  int64_t took = now_ms() - t0;
  printf("  connect timed out after %lld ms (timeout 300 ms)\n",
         (long long)took);
  fflush(stdout);
  ASSERT(took >= 300);
  ASSERT(took <= LATE_MS(350));
  ASSERT_OK(us_socket_close(&s));
}

static void readline_takes_two_lwip_calls_per_queued_line(void) {
  us_socket_t a, b;
  enum { LINES = 20 };
  char text[LINES * 8 + 1] = "";
  tcp_pair(&a, &b);
  for (int i = 0; i < LINES; i++)
    snprintf(text + strlen(text), 9, "line %02d\n", i);
  ASSERT_OK(us_sendall(&a, text, strlen(text), 0, NULL));
  ASSERT_OK(us_settimeout(&b, 2000 * 1000000LL));
  struct heap_sink h;
  heap_sink_init(&h);
  /* The first line waits for the bytes; the rest are queued by then. */
  ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 8);
  calls = 0;
  for (int i = 1; i < LINES; i++) {
    h.sink.len = 0;
    ASSERT_EQ(us_readline(&b, &h.sink, SIZE_MAX), 8);
    ASSERT(memcmp(h.sink.data, text + 8 * i, 8) == 0);
  }
  printf("  %d lwIP calls for %d queued lines\n", calls, LINES - 1);
  fflush(stdout);
  ASSERT(calls <= 2 * (LINES - 1));
  free(h.sink.data);
  us_socket_close(&a);
  us_socket_close(&b);
}

TEST_TABLE(lwip_tests) = {{"lwip_timed_connect_to_a_silent_port_times_out",
                           timed_connect_to_a_silent_port_times_out},
                          {"lwip_readline_takes_two_lwip_calls_per_queued_line",
                           readline_takes_two_lwip_calls_per_queued_line},
                          TEST_END};
