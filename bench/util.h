/* util.h: what the C benchmark programs share: the run protocol that
 * bench/run.py speaks, a monotonic clock, and loopback set-up with plain
 * system calls (set-up is never timed, so it need not go through the API
 * under test).
 *
 * Protocol: a program in the server role binds 127.0.0.1:0 and prints
 * "port N" before it accepts; the timed side prints one line
 * "result SECONDS COUNT" when it is done. Anything else goes to stderr.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Every program stops by itself after this long, whatever its peer does. */
#define BENCH_TIME_LIMIT_S 600

/* The length of one line in the readline workloads, '\n' included. */
#define BENCH_LINE_LEN 40

/* Prints a message with the errno text and exits with status 2. */
void bench_die(const char *what);
/* Parses a non-negative decimal argument or exits with a usage error. */
long long bench_arg(const char *text, const char *name);
/* Monotonic seconds. */
double bench_now(void);
/* Arms the time limit and ignores SIGPIPE (a vanished peer is an error
 * the program reports, not a silent death). */
void bench_start(void);
/* Prints the result line and flushes it. */
void bench_result(double seconds, long long count);

/* The echo-server workload opens up to 1,000 connections at once. */
#define BENCH_BACKLOG 1024

/* A listening TCP socket on 127.0.0.1 at an ephemeral port; *port gets
 * the port. With announce, prints "port N" for run.py. */
int bench_listen(int *port, int announce);
/* The same with a backlog of its own. */
int bench_listen_backlog(int *port, int announce, int backlog);
/* Raises the soft limit on descriptors to hold `conns` sockets and some
 * more, or exits if the hard limit is too low. */
void bench_enough_fds(long long conns);
/* Accepts one connection, waiting at most the time limit. */
int bench_accept(int lfd);
/* A blocking TCP connection to 127.0.0.1:port, with TCP_NODELAY. */
int bench_connect(int port);
/* Sets TCP_NODELAY: the ping-pong messages are small. */
void bench_nodelay(int fd);

/* malloc that exits on failure (n may be 0). */
void *bench_xmalloc(size_t n);

/* One workload of a program: its name, how many arguments it takes, and
 * the function that runs it on them. */
typedef struct bench_workload {
  const char *name;
  int args;
  int (*fn)(char **argv);
} bench_workload_t;

/* Runs the workload argv[0] names with the arguments after it, or prints
 * a usage line pointing at `program`'s first comment and returns 2. */
int bench_dispatch(const bench_workload_t *table, size_t n, int argc,
                   char **argv, const char *program);

/* Fills buf with lines of BENCH_LINE_LEN bytes ending in '\n'; len must be
 * a multiple of BENCH_LINE_LEN. */
void bench_fill_lines(char *buf, size_t len);

#endif
