/* fault.h: the fault-injection build's controls, for tests and fuzzers.
 *
 * Built only with US_FAULT_INJECT: src/fault.c then stands between the
 * core and the POSIX backend (see posix/fault_names.h) and can make chosen
 * system calls fail, or move fewer bytes, before they reach the kernel.
 * Rules are kept per operation and tried in the order they were added;
 * the first one that is due decides the fate of a call. Thread-safe.
 */
#ifndef US_FAULT_H
#define US_FAULT_H

#include "backend.h"

/* The calls a rule can aim at: the backend functions of the same name. */
typedef enum us__fault_op {
  US__FAULT_SOCKET,
  US__FAULT_ACCEPT,
  US__FAULT_CONNECT,
  US__FAULT_SEND,
  US__FAULT_RECV,
  US__FAULT_SENDTO,
  US__FAULT_RECVFROM,
  US__FAULT_PENDING,
  US__FAULT_WAIT,
  US__FAULT_RESOLVE,
  US__FAULT_SENDMSG,
  US__FAULT_RECVMSG,
  US__FAULT_NOPS
} us__fault_op_t;

typedef struct us__fault {
  /* The negative errno (or, for the resolver, US_GAI_ERROR code) the call
   * returns instead of running; 0 makes it a short call instead. A failed
   * connect has already started connecting, as after a real EINTR. */
  int err;
  /* For a short call: the most bytes it may move (at least 1). */
  size_t most;
  /* How many calls to fault; < 0: no limit. */
  long count;
  /* Fault one due call in `every` (0 or 1: each one). */
  unsigned every;
  /* Wait until this many bytes have gone through the operation (peeks do
   * not count); calls before that are shortened so that the rule starts
   * exactly at that byte. */
  size_t after;
  /* Time a faulted call spends before failing, as a slow system call hit
   * by a signal would: keeps a storm from being a busy loop. */
  int64_t hold_ns;
} us__fault_t;

/* What went through the seam since the process started. */
typedef struct us__fault_stats {
  unsigned long long injected;              /* faults injected, all ops */
  unsigned long long calls[US__FAULT_NOPS]; /* calls made */
  unsigned long long bytes[US__FAULT_NOPS]; /* bytes moved, peeks aside */
} us__fault_stats_t;

/* Stand-ins for the kernel behind the rules: each member that is set
 * replaces the real call (a fuzzer's scripted peer, a virtual clock). Set
 * them before any call is under way; NULL restores the real kernel. */
typedef struct us__fault_kernel {
  __typeof__(us__sys_recv) *recv;
  __typeof__(us__sys_send) *send;
  __typeof__(us__sys_pending) *pending;
  __typeof__(us__sys_wait) *wait;
  __typeof__(us__sys_now) *now;
} us__fault_kernel_t;
void us__fault_kernel(const us__fault_kernel_t *kernel);

/* Adds a rule for op; -EINVAL for a bad op or a short call of 0 bytes,
 * -ENOSPC when op already has its maximum of rules. */
int us__fault_add(us__fault_op_t op, const us__fault_t *rule);
/* Shorthands: fail the next `count` calls of op with err, or limit them
 * to `most` bytes each. */
int us__fault_fail(us__fault_op_t op, int err, long count);
int us__fault_short(us__fault_op_t op, size_t most, long count);
/* Drops every rule, and the byte counts that `after` looks at; the totals
 * of us__fault_stats() are kept. */
void us__fault_reset(void);
void us__fault_stats(us__fault_stats_t *out);

#endif /* US_FAULT_H */
