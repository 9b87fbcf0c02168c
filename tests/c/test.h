/* test.h: the C tests' assertions (they check under NDEBUG too) and
 * registry, plus loopback helpers shared by the test files. */
#ifndef US_TEST_H
#define US_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usocket.h"

#define ASSERT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#define ASSERT_EQ(a, b)                                                        \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    if (a_ != b_) {                                                            \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,      \
              __LINE__, #a, #b, a_, b_);                                       \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#define ASSERT_OK(expr) ASSERT_EQ((expr), 0)

typedef void (*test_fn)(void);
struct test_case {
  const char *name;
  test_fn fn;
};

/* Each test file defines one table; a constructor hands it to main.c, so
 * adding a file needs no edit anywhere else. */
void test_register(const struct test_case *table);
#define TEST_TABLE(name)                                                       \
  static const struct test_case name[];                                        \
  __attribute__((constructor)) static void register_##name(void) {             \
    test_register(name);                                                       \
  }                                                                            \
  static const struct test_case name[]
#define TEST_END                                                               \
  { NULL, NULL }

/* A listening TCP socket on 127.0.0.1 with an ephemeral port; *addr gets
 * its address. */
void tcp_listener(us_socket_t *lsn, us_addr_t *addr);
/* A connected pair over loopback: *a is the client, *b the accepted end. */
void tcp_pair(us_socket_t *a, us_socket_t *b);
/* A growable sink over malloc'd memory (the test frees sink.data) that
 * counts its growths and records its largest size. */
struct heap_sink {
  us_sink_t sink;
  int grows;
  size_t largest;
};
void heap_sink_init(struct heap_sink *h);
/* Reads the file at path into buf, which holds it with room to spare (so
 * it was read whole); returns its size, which is not 0. */
size_t read_file(const char *path, char *buf, size_t cap);

/* A host lock that counts: test_unlock() adds one to host_unlocks and
 * returns a token that test_lock() checks, adding one to host_locks. */
extern int host_unlocks, host_locks;
void *test_unlock(void);
void test_lock(void *token);

/* Monotonic milliseconds. */
int64_t now_ms(void);
/* Time bounds. A deadline never fires early, so a lower bound is the
 * contract's own figure; an upper bound is that figure plus the slack a busy
 * machine (both cores loaded, sanitizers, valgrind) adds before a thread
 * whose wait ended runs again: 400 ms, or US_TEST_SLACK_MS. It stays far
 * below what the bugs these bounds catch cost (a restarted or missed
 * deadline, a wait for the whole timeout). */
int64_t slack_ms(void);
#define LATE_MS(ms) ((ms) + slack_ms())
/* The number of open descriptors of this process. */
int open_fds(void);
/* Whether fd is an open descriptor of the backend's. */
int fd_open(int fd);

#endif
