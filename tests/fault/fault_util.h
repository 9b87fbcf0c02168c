/* fault_util.h: what the fault-injection tests share: a byte pattern to
 * check delivery against, peers that use the plain system calls (so the
 * rules aimed at the core never touch them), and the run's tally. */
#ifndef US_FAULT_UTIL_H
#define US_FAULT_UTIL_H

#include <pthread.h>

#include "fault.h"
#include "test.h"

#define MS ((int64_t)1000000)

/* The pattern's byte at stream offset i: no short period, so a lost or
 * repeated run of bytes shows up at once. */
unsigned char pattern_at(size_t i);
/* Fills buf with the pattern from offset `from`. */
void pattern_fill(void *buf, size_t from, size_t len);
/* Aborts unless buf holds the pattern from offset `from`; counts the
 * bytes checked in the run's tally. */
void pattern_expect(const void *buf, size_t from, size_t len);
/* Aborts unless buf[0..len) equals want[0..len); tallied likewise. */
void bytes_expect(const void *buf, const void *want, size_t len);

/* Arms a watchdog: a test that hangs dies (and fails) instead. */
void guard(unsigned seconds);
/* Adds this test's injected faults to the run's tally; call at the end. */
void fault_done(void);

/* A peer on a thread, using plain send/recv on a descriptor. */
struct peer {
  pthread_t thread;
  int fd;
  char *buf;     /* writer: what to send; reader: what arrived */
  size_t len;    /* writer: how much; reader: room, then the count read */
  int shut;      /* writer: shut down writing when done */
  int64_t delay; /* writer: ns to wait before each chunk of `chunk` */
  size_t chunk;
};
/* Sends len bytes of the pattern from fd, then shuts down writing. */
void peer_write_pattern(struct peer *p, int fd, size_t len);
/* Reads from fd until EOF or `room` bytes, for at most 10 s. */
void peer_read(struct peer *p, int fd, size_t room);
/* Joins the peer; returns the count it moved. */
size_t peer_join(struct peer *p);

/* Plain send of everything, outside the core. */
void raw_send_all(int fd, const void *buf, size_t len);

#endif
