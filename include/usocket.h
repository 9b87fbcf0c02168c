/* usocket.h: the public C API of usocket, MicroPython's socket model in C.
 *
 * Conventions, for every function below:
 * - Errors are negative errno values (-EAGAIN, -ETIMEDOUT, ...); 0 or a
 *   count means success. Nothing here reads or leaves a meaning in errno.
 * - A socket carries a timeout: blocking (US_TIMEOUT_BLOCK), non-blocking
 *   (0) or a positive number of nanoseconds. Every call that can block
 *   honours it as a deadline on a monotonic clock for the whole call, and
 *   fails with -ETIMEDOUT on expiry (-EAGAIN when non-blocking).
 * - Host callbacks (us_host_t, us_sink_t.grow) are always called with the
 *   host's interpreter lock held.
 * - Address families, socket types, option levels and names are the
 *   platform's own values (AF_INET, SOCK_STREAM, SOL_SOCKET, ...).
 */
#ifndef USOCKET_H
#define USOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define US_VERSION "0.1.0"

/* Timeout values for us_settimeout(). */
#define US_TIMEOUT_BLOCK ((int64_t)-1)
#define US_TIMEOUT_NONBLOCK ((int64_t)0)

/* Default listen backlog when the caller has no opinion. */
#define US_LISTEN_DEFAULT 128

/* A socket address, independent of the platform's sockaddr layout. */
typedef struct us_addr {
  uint8_t ip[16];    /* network byte order; IPv4 uses ip[0..3] */
  uint32_t flowinfo; /* IPv6 only, host byte order */
  uint32_t scope_id; /* IPv6 only: interface index */
  uint16_t port;     /* host byte order */
  uint16_t family;   /* AF_INET, AF_INET6, or 0 for "no address" */
} us_addr_t;

/* A socket address in the platform's own struct sockaddr form, for the
 * families us_addr_t does not hold (AF_UNIX): the calls named *_raw take
 * and give it, and leave the IP calls and us_addr_t as small as they are.
 * len bytes of data are in use. */
#define US_RAWADDR_MAX 128
typedef struct us_rawaddr {
  size_t len;
  union {
    unsigned char data[US_RAWADDR_MAX];
    uint64_t align_; /* as struct sockaddr_storage */
  } u;
} us_rawaddr_t;

/* How many of the next lines a socket remembers the lengths of. */
#define US_RX_LINES 4

/* A lock the core takes around one side of an object's state (private:
 * see docs/threads.md). word holds its state and the fork generation it
 * was taken in; owner names the thread holding it (a number of the
 * core's, not a pointer: two locks fit where one pointer-sized would
 * make every socket 16 bytes larger). */
typedef struct us__lock {
  uint32_t word;
  uint32_t owner;
} us__lock_t;

/* A socket. Treat the fields as read-only; use the functions. Threads may
 * share one: its receiving calls run one at a time, as do its sending
 * calls, so each call's bytes are whole (docs/threads.md). It must not
 * be moved or copied while calls on it are under way. */
typedef struct us_socket {
  int fd; /* -1 once closed */
  int proto;
  int64_t timeout_ns; /* US_TIMEOUT_BLOCK, 0, or > 0 */
  /* Calls in progress on it, in any thread, and poll sets holding it;
   * with the fork generation they were counted in, so that a child never
   * takes its parent's for its own. */
  uint32_t busy;
  int zombie_fd; /* closed while busy: closed for real by the last */
  /* One receiving call and one sending call at a time: readline's look
   * and take, and a write's pieces, are never interleaved with another
   * thread's (a buffered stream's buffers are guarded by them too). */
  us__lock_t rx_lock, tx_lock;
  /* What readline's last look (a peek) saw of the receive queue, kept up
   * to date as bytes are taken: the lengths of the first whole lines, in
   * order from the head of the queue, and whether bytes are known queued
   * (how many, up to 65,535). A line known whole is then taken with a
   * single receive. */
  uint16_t rx_line[US_RX_LINES];
  uint16_t rx_known;
  /* An error held back behind bytes already returned (a negative errno:
   * 16 bits hold them all). The fields are narrow to keep the socket 56
   * bytes, and a Python socket object smaller than CPython's. */
  int16_t pending_err;
  int16_t family; /* AF_* and SOCK_* numbers are small everywhere */
  uint8_t type;
  /* SO_LINGER with a time is set: closing it may block (see close). */
  uint8_t lingers;
} us_socket_t;

/* How a blocking call cooperates with its host (an interpreter or plain C).
 * Any member may be NULL.
 *
 * Signals: in the thread that runs the host's handlers, a signal that
 * comes at any moment of a blocking call (before, during or after its
 * kernel wait) runs check_signals promptly, never only at the deadline:
 * each wait blocks signals, runs check_signals, releases the lock and lets
 * them in atomically with the kernel wait (ppoll). No call blocks in the
 * kernel anywhere else: under a host with an unlock hook, every socket's
 * descriptor is non-blocking, whatever its timeout, and blocking and
 * timed calls are the core's waits (sends and receives also pass
 * MSG_DONTWAIT, so that they hold even if another holder of the same open
 * descriptor makes it blocking; accept and connect have no such flag). A
 * handler may run with signals blocked, when one came just before a
 * wait. */
typedef struct us_host {
  /* Before a call may block: release the host's lock; returns a token. */
  void *(*unlock)(void);
  /* After it: take the lock back. */
  void (*lock)(void *token);
  /* Lock held, before each wait of the thread below and after EINTR: run
   * pending signal handlers. Return 0 to go on with the remaining time, or
   * a negative errno (-EINTR) to give up. */
  int (*check_signals)(void);
  /* Lock held: nonzero if the calling thread is one whose handlers run
   * (CPython: the main thread). NULL: every thread is. */
  int (*handles_signals)(void);
  /* Nonzero if the lock is exclusive, as CPython's GIL: every call into
   * this library from any thread holds it (a thread gives it up only
   * inside a call, through unlock), and the host never unwinds a call's
   * frames. A non-blocking call, which keeps the lock throughout, then
   * skips its guard against other threads' closes and against unwinding
   * (a third of its own cost). 0 for a host that longjmps out of calls
   * (MicroPython) or lets threads in without the lock. */
  int exclusive;
} us_host_t;

/* Installs the host's hooks for every later call (NULL: plain C defaults,
 * where EINTR is always retried). Call once, before any socket is used:
 * a socket's descriptor gets its mode at birth from the host in force. */
void us_set_host(const us_host_t *host);

/* For a host that may unwind a call's frames without returning through
 * them (a longjmp out of a signal handler, as MicroPython's unix port
 * raises KeyboardInterrupt): take k = us_calls_in_progress() before a call
 * and, when the host unwinds past it, us_abandon_calls(k) before going
 * on. That gives back what the calling thread's calls begun since held
 * (a socket side's turn, the hold that puts a close off, the signals held
 * around a wait, forgetting what readline knew of the queue), so the
 * socket works again from any thread and a close closes. It never touches
 * the unwound frames. The host's own lock (us_host_t.lock) is not taken
 * back. Exact wherever a call can wait or make a system call; a call
 * unwound in the few instructions between taking one of these and noting
 * it keeps that one. Lock not needed; per thread. */
unsigned us_calls_in_progress(void);
void us_abandon_calls(unsigned keep);

/* A growable destination for the reading calls. `data` holds `cap` bytes,
 * of which `len` are filled. `grow`, when not NULL, must make room for at
 * least `need` bytes in all (updating data and cap) and return 0, or return
 * a negative errno; without it the sink is a fixed buffer. */
typedef struct us_sink {
  char *data;
  size_t len;
  size_t cap;
  int (*grow)(struct us_sink *sink, size_t need);
  void *ctx; /* the owner's */
} us_sink_t;

/* Initialises a fixed sink over buf[0..cap). */
void us_sink_fixed(us_sink_t *sink, void *buf, size_t cap);

/* ---- lifetime -------------------------------------------------------- */

/* Opens a socket. proto 0 picks TCP for SOCK_STREAM and UDP for SOCK_DGRAM.
 * type is the socket's type alone (flags such as SOCK_NONBLOCK are
 * -EINVAL: settimeout says how it blocks, and it is always close-on-exec).
 * The socket starts blocking, close-on-exec, and never raises SIGPIPE.
 * Its descriptor (s->fd) blocks when the socket does, except under a host
 * with an unlock hook (us_set_host), where it is non-blocking throughout:
 * read or written directly, it may fail with EAGAIN. */
int us_socket_open(us_socket_t *s, int family, int type, int proto);
/* Wraps an existing descriptor (its family and type are read from it). */
int us_socket_from_fd(us_socket_t *s, int fd);
/* Closes the descriptor. Idempotent: closing a closed socket returns 0.
 * Calls blocked on it in other threads (in the kernel, or waiting for
 * their turn) return -EBADF promptly, and the descriptor number is not
 * reused before the last of them has left. In a forked child, the
 * parent's calls and poll sets do not count: the child's close closes
 * its own descriptor and never shuts the shared connection down.
 * A close may block only when SO_LINGER is on with a time and bytes are
 * unsent: for such a socket (SO_LINGER set by us_setsockopt, inherited
 * from its listener by us_accept, or found by us_socket_from_fd) the
 * host's lock is released around the real close, the deferred one too;
 * any other close keeps it. */
int us_socket_close(us_socket_t *s);
/* Gives up ownership of the descriptor without closing it; returns it,
 * in the mode the socket's timeout says: blocking if the socket was
 * (under a host too), else non-blocking. */
int us_socket_detach(us_socket_t *s);

/* ---- timeouts -------------------------------------------------------- */

/* Sets the timeout: US_TIMEOUT_BLOCK, 0 (non-blocking) or > 0 nanoseconds.
 * Other negative values: -EINVAL. A call under way in another thread keeps
 * the timeout it began with; the socket's next call has the new one. */
int us_settimeout(us_socket_t *s, int64_t timeout_ns);

/* Per-call deadlines. The monotonic clock that deadlines are read on, in
 * nanoseconds (CLOCK_MONOTONIC on POSIX). */
int64_t us_now(void);
/* No deadline (the clock never reads 0 once the system runs). */
#define US_DEADLINE_NONE ((int64_t)0)
/* Bounds the calling thread's calls by an absolute deadline on us_now()'s
 * clock, without changing any socket's timeout, until set again; returns
 * the previous one, so that a caller can bound one call as libdill does:
 *   int64_t was = us_set_deadline(us_now() + 2000000000);
 *   r = us_read(s, &sink, n);
 *   us_set_deadline(was);
 * Every call of the thread that may wait (on a socket, for a socket's
 * turn, in a poll set, for a name lookup, us_create_connection) ends by
 * the sooner of the deadline and its own timeout, with what its timeout
 * would have given then: -ETIMEDOUT (the stream calls: a short count
 * first, as on a timeout), 0 for a poll set's wait. A blocking socket's
 * call bounded so never blocks in the kernel past it (us_accept waits for
 * a connection to come first: one that another thread takes meanwhile
 * leaves it blocked until the next, as accept(2) has no flag not to
 * block and the descriptor's mode is shared with every other caller:
 * threads that share a listener and bound their accepts give it a
 * timeout instead, us_settimeout); a non-blocking
 * socket stays non-blocking. A deadline already passed still lets a call
 * take what is ready at once. US_DEADLINE_NONE: none. Per thread; no lock
 * needed. */
int64_t us_set_deadline(int64_t deadline_ns);

/* ---- connection set-up ----------------------------------------------- */

int us_bind(us_socket_t *s, const us_addr_t *addr);
/* backlog < 0 is taken as 0. */
int us_listen(us_socket_t *s, int backlog);
/* Accepts into *conn, which inherits s's timeout; *peer may be NULL. */
int us_accept(us_socket_t *s, us_socket_t *conn, us_addr_t *peer);
/* A timed connect; non-blocking: -EINPROGRESS. Port 0: -EINVAL. */
int us_connect(us_socket_t *s, const us_addr_t *addr);
/* How long us_create_connection lets an attempt run alone before it
 * starts the next (RFC 8305's Connection Attempt Delay). */
#define US_CONNECT_ATTEMPT_DELAY ((int64_t)250000000)
/* Opens *s connected to host:port (a name or a numeric host; port a
 * number or a service name), as Python's socket.create_connection, within
 * ONE deadline of timeout_ns (US_TIMEOUT_BLOCK: none) for the whole call,
 * the lookup included (us_getaddrinfo_timed). The name's addresses are
 * tried in RFC 8305's order (the families alternate, IPv6 first, each in
 * the resolver's order): each attempt runs alone for
 * US_CONNECT_ATTEMPT_DELAY, then the next starts while it goes on (at once
 * when one fails), and the first to connect wins, the others closed.
 * source (may be NULL) is bound first and restricts the addresses to its
 * family, unless it is an any-address (the port alone matters then). The new
 * socket has timeout_ns as its timeout. Errors: the lookup's, -ETIMEDOUT, or
 * the last attempt's (-ECONNREFUSED, ...); the host's error after a signal; on
 * any error *s is untouched. */
int us_create_connection(us_socket_t *s, const char *host, const char *port,
                         int64_t timeout_ns, const us_addr_t *source);
/* how: SHUT_RD, SHUT_WR or SHUT_RDWR. */
int us_shutdown(us_socket_t *s, int how);
int us_getsockname(const us_socket_t *s, us_addr_t *addr);
int us_getpeername(const us_socket_t *s, us_addr_t *addr);

/* The same calls with raw addresses (us_rawaddr_t), for any family;
 * the kernel judges the address. An accepted peer, a name and a sender
 * come back as the kernel gives them: len 0 when it gives none (an
 * unbound datagram sender), only the family for an unnamed AF_UNIX
 * socket. */
int us_bind_raw(us_socket_t *s, const us_rawaddr_t *addr);
int us_connect_raw(us_socket_t *s, const us_rawaddr_t *addr);
int us_accept_raw(us_socket_t *s, us_socket_t *conn, us_rawaddr_t *peer);
int us_getsockname_raw(const us_socket_t *s, us_rawaddr_t *addr);
int us_getpeername_raw(const us_socket_t *s, us_rawaddr_t *addr);

/* ---- datagram and single-call I/O ------------------------------------ */

/* One send; returns the count sent (may be short). Blocking, under a host
 * (us_set_host), a stream send takes all of it, as the kernel's would, or
 * returns the count that went when an error (the host's) stopped it. */
ssize_t us_send(us_socket_t *s, const void *buf, size_t len, int flags);
/* Sends everything, within one deadline. *sent (may be NULL) receives the
 * count sent even on failure; non-blocking and full: -EAGAIN. */
int us_sendall(us_socket_t *s, const void *buf, size_t len, int flags,
               size_t *sent);
/* One receive of at most len bytes; 0 at EOF. Every receive returns the
 * count it copied: with MSG_TRUNC a datagram's whole length is not
 * reported; on a stream socket MSG_TRUNC (which would drop bytes without
 * copying them) is -EINVAL. */
ssize_t us_recv(us_socket_t *s, void *buf, size_t len, int flags);
/* One receive of at most max bytes into a sink, growing it only as far as
 * the data that has arrived: a huge max allocates nothing up front. */
ssize_t us_recv_sink(us_socket_t *s, us_sink_t *sink, size_t max, int flags);
ssize_t us_sendto(us_socket_t *s, const void *buf, size_t len, int flags,
                  const us_addr_t *to);
/* *from may be NULL. */
ssize_t us_recvfrom(us_socket_t *s, void *buf, size_t len, int flags,
                    us_addr_t *from);
/* us_recvfrom into a sink, as us_recv_sink. */
ssize_t us_recvfrom_sink(us_socket_t *s, us_sink_t *sink, size_t max, int flags,
                         us_addr_t *from);

/* us_sendto and us_recvfrom_sink with raw addresses (see us_bind_raw). */
ssize_t us_sendto_raw(us_socket_t *s, const void *buf, size_t len, int flags,
                      const us_rawaddr_t *to);
ssize_t us_recvfrom_raw_sink(us_socket_t *s, us_sink_t *sink, size_t max,
                             int flags, us_rawaddr_t *from);

/* ---- vectored and message I/O ---------------------------------------- */

/* One piece of a vectored call: len bytes at base. A send only reads them
 * (base is not const so that one array serves both directions). */
typedef struct us_iov {
  void *base;
  size_t len;
} us_iov_t;

/* The most pieces one call takes (the kernel's IOV_MAX on Linux and the
 * BSDs); more: -EMSGSIZE. */
#define US_IOV_MAX 1024

/* One message: its data in iov[0..iovlen), its ancillary data (control,
 * controllen bytes in the platform's layout: built with us_cmsg_put, read
 * with us_cmsg_next) and an address (NULL: none). A receive fills in: the
 * control bytes received (controllen becomes their length; give 0 for
 * none), the sender (len 0 when the kernel gives none, as a connected
 * stream) and flags (MSG_TRUNC: the datagram was longer than iov holds;
 * MSG_CTRUNC: the ancillary data did not all fit, and descriptors that did
 * not fit were closed by the kernel). */
typedef struct us_msg {
  const us_iov_t *iov;
  int iovlen;
  void *control;
  size_t controllen;
  us_rawaddr_t *addr;
  int flags;
} us_msg_t;

/* us_send of the pieces gathered in order: one send (may be short on a
 * stream; under a host, a blocking stream send takes all, as us_send). */
ssize_t us_sendv(us_socket_t *s, const us_iov_t *iov, int n, int flags);
/* us_sendall of the pieces in order: all of them within ONE deadline, a
 * partial send resumed inside the piece it stopped in. *sent (may be
 * NULL) is the count sent even on failure. */
int us_sendallv(us_socket_t *s, const us_iov_t *iov, int n, int flags,
                size_t *sent);
/* us_recv scattered over the pieces in order: one receive; 0 at EOF. */
ssize_t us_recvv(us_socket_t *s, const us_iov_t *iov, int n, int flags);
/* sendmsg(2) within the socket's timeout, as us_sendv: msg->addr (raw,
 * see us_bind_raw) is the destination of a datagram, the ancillary data
 * goes with the first byte. */
ssize_t us_sendmsg(us_socket_t *s, const us_msg_t *msg, int flags);
/* recvmsg(2) within the socket's timeout, as us_recvv, filling msg in (see
 * us_msg_t). Descriptors received (SCM_RIGHTS) are close-on-exec and the
 * caller's to close; if the call fails after they arrived (the socket
 * closed meanwhile) they are closed, never leaked. */
ssize_t us_recvmsg(us_socket_t *s, us_msg_t *msg, int flags);

/* One ancillary data item, as us_cmsg_next gives it. */
typedef struct us_cmsg {
  int level; /* SOL_SOCKET... */
  int type;  /* SCM_RIGHTS... */
  const void *data;
  size_t len;
} us_cmsg_t;

/* The platform's CMSG_LEN and CMSG_SPACE: the length of an item holding
 * len bytes of data, and the room it takes with its padding; 0 when len
 * is too large to be one. */
size_t us_cmsg_len(size_t len);
size_t us_cmsg_space(size_t len);
/* Appends an item at *pos of control (cap bytes, aligned as a pointer
 * and zeroed by the caller), advancing *pos by us_cmsg_space(len). No
 * room: -ENOSPC. */
int us_cmsg_put(void *control, size_t cap, size_t *pos, int level, int type,
                const void *data, size_t len);
/* The item at *pos of the len bytes received: 1 with *out filled and *pos
 * advanced, 0 at the end. An item cut short (MSG_CTRUNC) is given with
 * the data that arrived. */
int us_cmsg_next(const void *control, size_t len, size_t *pos, us_cmsg_t *out);
/* Closes every descriptor held by the SCM_RIGHTS items of control, for a
 * caller that cannot hand them on. */
void us_cmsg_close_fds(const void *control, size_t len);

/* ---- stream I/O ------------------------------------------------------ */

/* Reads until max bytes are added to the sink or EOF (max SIZE_MAX: until
 * EOF). Returns the count added. If an error (the timeout, -EAGAIN when
 * non-blocking, a reset) stops it after some bytes arrived, returns that
 * short count, and a lasting error (a reset) is reported by the next call:
 * no byte is ever dropped. With no bytes, returns the error. */
ssize_t us_read(us_socket_t *s, us_sink_t *sink, size_t max);
/* Reads one line including its '\n' (at most max bytes), or what remains
 * at EOF, never consuming a byte past the newline. A line costs a look
 * (MSG_PEEK) and a receive, and a look notes where up to US_RX_LINES
 * lines end, so queued lines cost 1 + 1/US_RX_LINES system calls each.
 * What a look saw stays true while the socket's bytes are read only
 * through usocket: a descriptor read behind its back (the fd handed to
 * recv(2) elsewhere) between two readline calls may leave it taking a
 * known line's length of whatever is then queued. Errors as us_read. */
ssize_t us_readline(us_socket_t *s, us_sink_t *sink, size_t max);
/* Writes everything on a blocking or timed socket and returns len; if an
 * error (or the timeout) stops it after some bytes went, returns that short
 * count and the next call reports the error. Non-blocking: what fits, maybe
 * short; -EAGAIN when nothing did. */
ssize_t us_write(us_socket_t *s, const void *buf, size_t len);

/* The part of a buffer of len bytes that MicroPython's stream methods
 * address with write(buf, max_len) or write(buf, off, max_len): an offset
 * past the end is the end, and the length is at most max_len. Hosts pass
 * their integers truncated to size_t as MicroPython does, so -1 means "no
 * limit" for max_len and "the end" for off. Returns the length and sets
 * *at to the offset: the caller passes buf + *at on, copying nothing. */
size_t us_span(size_t len, size_t off, size_t max_len, size_t *at);

/* ---- buffered streams -------------------------------------------------- */

/* A read-ahead and write-behind buffer over a socket, for callers that
 * read many small lines. Bytes it has read ahead are seen only through
 * it. The socket stays the caller's: the stream never closes it. Threads
 * may share a stream as they share its socket (each read or write is
 * whole), but not with us_bufstream_init or us_bufstream_free. */
typedef struct us_bufstream {
  us_socket_t *sock;
  /* What its bytes pass through on their way to the socket (private):
   * NULL for the socket itself, or a layer such as a TLS stream's. */
  const struct us__layer *layer;
  void *layer_ctx;
  /* rbuf[rpos..rend) is read ahead and not yet taken; a TLS stream's
   * rbuf is NULL until its first read (an idle session holds none). */
  char *rbuf;
  size_t rpos, rend, rcap;
  char *wbuf; /* wbuf[0..wlen) waits to be written */
  size_t wlen, wcap;
} us_bufstream_t;

/* Allocates buffers of `size` bytes (0: 64 KiB); -ENOMEM. */
int us_bufstream_init(us_bufstream_t *b, us_socket_t *sock, size_t size);
/* Frees the buffers, dropping unwritten bytes: flush first. */
void us_bufstream_free(us_bufstream_t *b);
/* The fast path: if a whole line (or max bytes) is already buffered, sets
 * *line and *len to it, consumes it and returns 1; else returns 0 (also
 * when another thread is reading b: us_bufstream_readline then waits). On
 * 1 the stream's reading side stays locked, the line valid, until
 * us_bufstream_takeline_done(b), which must follow soon, with no other
 * call on b in between. */
int us_bufstream_takeline(us_bufstream_t *b, const char **line, size_t *len,
                          size_t max);
void us_bufstream_takeline_done(us_bufstream_t *b);
/* Reads a line (at most max bytes) into sink, as us_readline. */
ssize_t us_bufstream_readline(us_bufstream_t *b, us_sink_t *sink, size_t max);
/* Reads max bytes or until EOF into sink, as us_read. */
ssize_t us_bufstream_read(us_bufstream_t *b, us_sink_t *sink, size_t max);
/* Buffers len bytes, writing out whenever the buffer fills; returns len,
 * or as us_write a short count or the error. */
ssize_t us_bufstream_write(us_bufstream_t *b, const void *buf, size_t len);
/* One read of at most len bytes: what is buffered, else what one receive
 * brings (maybe short); 0 at EOF. Errors as us_recv. */
ssize_t us_bufstream_recv(us_bufstream_t *b, void *buf, size_t len);
/* Writes out what is buffered, as us_sendall. */
int us_bufstream_flush(us_bufstream_t *b);
/* Flushes (unless another thread is writing b: that call sends what is
 * buffered, or fails as the socket closes), then closes the socket,
 * waking b's calls blocked in other threads, which return -EBADF. Returns
 * the flush's error, else the close's. The buffers stay: free them with
 * us_bufstream_free once no call on b is in progress. */
int us_bufstream_close(us_bufstream_t *b);

/* ---- TLS -------------------------------------------------------------- */

/* A TLS stream runs over a connected stream socket and keeps every promise
 * of the socket's stream calls: no short reads or writes, readline without
 * a system call per byte, the socket's timeout as one deadline for the
 * whole call (the handshake too), -EAGAIN when non-blocking, and a close
 * from another thread or the host's signal check waking a blocked call.
 * The library under it (the engine: OpenSSL or mbedTLS) never waits in
 * the kernel itself: usocket moves its bytes and does the waiting. */

/* A context: the settings shared by the streams made from it. Setters are
 * for before the first stream; a context may be freed while its streams
 * live (they keep what they need). */
typedef struct us_tls_ctx us_tls_ctx_t;
/* One TLS stream over a socket. */
typedef struct us_tls us_tls_t;

/* Roles for us_tls_ctx_new(). */
#define US_TLS_CLIENT 0
#define US_TLS_SERVER 1
/* Verification modes: none; a certificate the peer presents must verify;
 * the peer must present one that verifies. */
#define US_TLS_VERIFY_NONE 0
#define US_TLS_VERIFY_OPTIONAL 1
#define US_TLS_VERIFY_REQUIRED 2

/* A new context for role. Secure by default: a client verifies the
 * server's certificate (US_TLS_VERIFY_REQUIRED) and the host name given
 * to us_tls_new(), against the platform's CA store unless CAs are given
 * (us_tls_ctx_ca_*: then those only; the store is loaded by the first
 * stream that needs it); a server asks nothing of its clients
 * (US_TLS_VERIFY_NONE). -ENOMEM, -EINVAL for a bad role. */
int us_tls_ctx_new(us_tls_ctx_t **ctx, int role);
/* NULL is ok. */
void us_tls_ctx_free(us_tls_ctx_t *ctx);
int us_tls_ctx_verify(us_tls_ctx_t *ctx, int mode);
/* Whether a client checks the host name given to us_tls_new() against the
 * server's certificate (on by default). Off, the certificate is still
 * verified as the verification mode says (trusted, in date), the host
 * still sent as SNI, and a client that verifies may be given no host. */
int us_tls_ctx_check_host(us_tls_ctx_t *ctx, int on);
/* Trusts the CA certificates in a file or in memory (PEM, one or more, or
 * one DER), besides those already given. Unreadable file: its -errno;
 * not certificates: US_TLS_ERR_BAD_CERT. */
int us_tls_ctx_ca_file(us_tls_ctx_t *ctx, const char *path);
int us_tls_ctx_ca_data(us_tls_ctx_t *ctx, const void *data, size_t len);
/* Trusts the platform's CA store too (a client given no CAs does). */
int us_tls_ctx_ca_default(us_tls_ctx_t *ctx);
/* Our certificate chain (PEM: the leaf first, then its issuers; or one
 * DER certificate) and its private key (PEM or DER), from files or
 * memory; a NULL key file means the key is in the chain's file.
 * US_TLS_ERR_BAD_CERT, US_TLS_ERR_BAD_KEY, US_TLS_ERR_KEY_MISMATCH. */
int us_tls_ctx_cert_file(us_tls_ctx_t *ctx, const char *chain_path,
                         const char *key_path);
int us_tls_ctx_cert_data(us_tls_ctx_t *ctx, const void *chain, size_t chain_len,
                         const void *key, size_t key_len);
/* Restricts the cipher suites, in the engine's own syntax (OpenSSL's
 * cipher list or TLS 1.3 suite names). None known: US_TLS_ERR_CIPHERS. */
int us_tls_ctx_ciphers(us_tls_ctx_t *ctx, const char *list);
/* The names of the suites streams of ctx may negotiate, in the engine's
 * naming and preference order: up to max of them into names (valid while
 * ctx lives and its suites stay as they are); returns how many there are. */
size_t us_tls_ctx_cipher_names(us_tls_ctx_t *ctx, const char **names,
                               size_t max);
/* The engine built in: "openssl" or "mbedtls". */
const char *us_tls_engine(void);

/* A TLS stream over sock, which stays the caller's (its timeout rules
 * every call; us_tls_free never closes it). host: the server's name, sent
 * as SNI and verified against its certificate (an IP address is checked
 * as one); NULL for a server, or a client that verifies nothing or checks
 * no host name (a client that checks one without one: US_TLS_ERR_NO_HOST).
 * Nothing is sent yet. */
int us_tls_new(us_tls_t **t, us_tls_ctx_t *ctx, us_socket_t *sock,
               const char *host);
/* Runs the handshake to its end within the socket's timeout; the first
 * read or write runs it too when not called. Non-blocking: -EAGAIN until
 * done (call again when us_tls_wants() is ready). */
int us_tls_handshake(us_tls_t *t);
/* Connects t's socket (not yet connected) to addr, then runs the
 * handshake: both within ONE deadline, the socket's timeout (or the
 * thread's us_set_deadline, if sooner). Non-blocking: us_connect's
 * -EINPROGRESS, the handshake left to the first read or write. */
int us_tls_connect(us_tls_t *t, const us_addr_t *addr);
/* The stream calls, as the socket's (us_read, us_readline, us_write,
 * us_recv). Decrypted bytes are read ahead in the stream's buffer, so a
 * line costs no system call when its record has arrived. A peer that
 * closes the connection without TLS's close_notify (a truncation attack
 * looks the same) is US_TLS_ERR_TRUNCATED, never a quiet end of file.
 * A non-blocking write that returned a short count or -EAGAIN may hold
 * a record half sent: the next write must start with the bytes it did
 * not count. A TLS failure ends the session: later calls return it. */
ssize_t us_tls_read(us_tls_t *t, us_sink_t *sink, size_t max);
ssize_t us_tls_readline(us_tls_t *t, us_sink_t *sink, size_t max);
ssize_t us_tls_write(us_tls_t *t, const void *buf, size_t len);
ssize_t us_tls_recv(us_tls_t *t, void *buf, size_t len);
/* The stream as a buffered stream, for us_bufstream_* (takeline's fast
 * path included); it has no write-behind buffer: writes go out at once.
 * Valid until us_tls_free. Its close closes the socket. */
us_bufstream_t *us_tls_bufstream(us_tls_t *t);
/* Decrypted bytes waiting in the stream: a read takes them without
 * touching the socket, which may have none. A read under way in another
 * thread counts as none (it is about to take them). */
size_t us_tls_pending(us_tls_t *t);
/* As us_poll for the stream: POLLIN also when bytes are pending. */
int us_tls_poll(us_tls_t *t, int events);
/* What a non-blocking call that returned -EAGAIN waits for: US_POLLIN or
 * US_POLLOUT (a read may need to write, and a write to read). */
int us_tls_wants(const us_tls_t *t);
/* The peer's certificate, DER, once the handshake is done: its length,
 * copying at most len bytes of it to buf (NULL: just the length); 0 when
 * the peer sent none. Before the handshake: -ENOTCONN. */
ssize_t us_tls_peer_cert(us_tls_t *t, void *buf, size_t len);
/* The negotiated suite (*name, the engine's naming), protocol (*version,
 * "TLSv1.3") and secret bits, once the handshake is done (strings valid
 * until us_tls_free); before it: -ENOTCONN. */
int us_tls_cipher(us_tls_t *t, const char **name, const char **version,
                  int *bits);
/* Sends close_notify (once), within the timeout; the socket stays open. */
int us_tls_shutdown(us_tls_t *t);
/* Frees the stream (no call on it may be in progress); NULL is ok. */
void us_tls_free(us_tls_t *t);

/* TLS failures sit below US_TLS_BASE, apart from errno and the resolver's
 * range; us_strerror() names each. */
#define US_TLS_BASE (-200000)
#define US_TLS_ERR_PROTOCOL (US_TLS_BASE - 1)  /* not TLS, or broken */
#define US_TLS_ERR_ALERT (US_TLS_BASE - 2)     /* the peer sent an alert */
#define US_TLS_ERR_UNTRUSTED (US_TLS_BASE - 3) /* no trusted issuer */
#define US_TLS_ERR_EXPIRED (US_TLS_BASE - 4)   /* expired or not yet valid */
#define US_TLS_ERR_HOSTNAME (US_TLS_BASE - 5)  /* for another host */
#define US_TLS_ERR_VERIFY (US_TLS_BASE - 6)    /* other verify failure */
#define US_TLS_ERR_NO_PEER_CERT (US_TLS_BASE - 7)
#define US_TLS_ERR_TRUNCATED (US_TLS_BASE - 8) /* closed w/o close_notify */
#define US_TLS_ERR_BAD_CERT (US_TLS_BASE - 9)
#define US_TLS_ERR_BAD_KEY (US_TLS_BASE - 10)
#define US_TLS_ERR_KEY_MISMATCH (US_TLS_BASE - 11)
#define US_TLS_ERR_CIPHERS (US_TLS_BASE - 12)
#define US_TLS_ERR_NO_HOST (US_TLS_BASE - 13)
#define US_TLS_ERR_NO_CERT (US_TLS_BASE - 14) /* a server without one */
#define US_TLS_ERR_ENGINE (US_TLS_BASE - 15)  /* the engine failed */
#define US_TLS_ERR_LAST US_TLS_ERR_ENGINE

/* ---- readiness -------------------------------------------------------- */

/* The events among `events` (POLLIN, POLLOUT) that are ready now, plus
 * POLLERR/POLLHUP when set; never waits. Closed: -EBADF. */
int us_poll(const us_socket_t *s, int events);

/* ---- options ---------------------------------------------------------- */

int us_setsockopt(us_socket_t *s, int level, int name, const void *val,
                  size_t len);
/* *len: in, the room at val; out, the length written. */
int us_getsockopt(us_socket_t *s, int level, int name, void *val, size_t *len);

/* ---- addresses -------------------------------------------------------- */

/* Parses a numeric host ("1.2.3.4", "::1", "fe80::1%eth0", or "" for the
 * any-address) into *addr for the given family (0: whichever parses).
 * Never resolves names: not numeric is -EINVAL; IPv6 text with family
 * AF_INET: -EAFNOSUPPORT. */
int us_addr_parse(us_addr_t *addr, int family, const char *host, uint16_t port);
/* As us_addr_parse, but a host that is not numeric is resolved for the
 * family (the first result is taken), as CPython does for tuple addresses.
 * A name with no address of that family: -EAFNOSUPPORT; resolver failures
 * as us_getaddrinfo. */
int us_addr_resolve(us_addr_t *addr, int family, const char *host,
                    uint16_t port);
/* Writes the host part as text (RFC 5952 for IPv6); returns its length,
 * or -ENOSPC. 46 bytes are always enough. */
int us_addr_format(const us_addr_t *addr, char *buf, size_t len);
/* 1 if two addresses are equal in every field, else 0. */
int us_addr_equal(const us_addr_t *a, const us_addr_t *b);

/* Decodes the platform's struct sockaddr bytes (len of them), the raw
 * form MicroPython's unix port passes around. Returns the family: for
 * AF_INET and AF_INET6, *addr holds the address; for any other, *addr is
 * zeroed and *data_off (may be NULL) says where the family's own bytes
 * (sa_data) start. Shorter than the header or its family's struct: -EINVAL. */
int us_addr_from_raw(us_addr_t *addr, const void *raw, size_t len,
                     size_t *data_off);
/* Encodes an AF_INET/AF_INET6 address as the platform's struct sockaddr in
 * raw[0..cap); returns its length. Other families: -EAFNOSUPPORT; cap too
 * small: -ENOSPC. 28 bytes are always enough. */
int us_addr_to_raw(const us_addr_t *addr, void *raw, size_t cap);

/* Raw bytes (len of them, as MicroPython passes addresses around) as a
 * raw address; more than US_RAWADDR_MAX: -EINVAL. */
int us_rawaddr_set(us_rawaddr_t *addr, const void *raw, size_t len);
/* The family of a raw address (0 when it holds none). */
int us_rawaddr_family(const us_rawaddr_t *addr);
/* An AF_UNIX address for a path of len bytes. One that starts with a NUL
 * byte is a Linux abstract name, taken as it is (len 0: the kernel picks
 * one at bind); any other must hold no NUL (-EINVAL) and leave room for
 * one after it. Too long: -ENAMETOOLONG. No AF_UNIX: -EAFNOSUPPORT. */
int us_rawaddr_unix(us_rawaddr_t *addr, const char *path, size_t len);
/* The path of an AF_UNIX address: *path and *len point into addr, an
 * abstract name with its leading NUL, a file name without the NUL that
 * ends it; len 0 for an unnamed socket. Another family: -EAFNOSUPPORT. */
int us_rawaddr_unix_path(const us_rawaddr_t *addr, const char **path,
                         size_t *len);

/* Packed bytes (4 or 16) to text; returns the text length. Unknown family:
 * -EAFNOSUPPORT; buffer too small: -ENOSPC. */
int us_inet_ntop(int family, const void *packed, char *buf, size_t len);
/* Text to packed bytes; returns 4 or 16. Invalid text: -EINVAL. */
int us_inet_pton(int family, const char *text, void *packed);

/* One result of us_getaddrinfo, valid during the callback only. */
typedef struct us_addrinfo {
  int family;
  int type;
  int proto;
  const char *canonname; /* "" unless AI_CANONNAME asked for it */
  us_addr_t addr;
} us_addrinfo_t;

/* Called for each result; return 0 to go on, or a negative errno to stop
 * (us_getaddrinfo then returns it). */
typedef int (*us_addrinfo_cb)(void *ctx, const us_addrinfo_t *ai);

/* Resolves host (NULL for none) and port (a number or a service name;
 * NULL for 0). family, type and proto filter; 0 means any. Numeric hosts
 * never reach the resolver. Returns the number of results, a negative
 * errno (from the callback, or -EINVAL for bad arguments), or a resolver
 * failure as US_GAI_ERROR(code): see us_gai_code(). */
int us_getaddrinfo(const char *host, const char *port, int family, int type,
                   int proto, int flags, us_addrinfo_cb cb, void *ctx);

/* us_getaddrinfo within timeout_ns: US_TIMEOUT_BLOCK waits as long as the
 * system resolver does, 0 or more bounds the lookup (-ETIMEDOUT when it
 * passes; 0 takes only an answer that is there at once). Under a host
 * (us_set_host) every name lookup, timed or not, releases the host's lock
 * and runs its check_signals promptly when a signal comes, whose error
 * ends the call. The system resolver (nsswitch: /etc/hosts, DNS as
 * resolv.conf says) runs on one of a few resolver threads; a lookup given
 * up (timeout, signal) goes on there until the resolver returns, then
 * frees all it holds: abandoned lookups never cost more than those few
 * threads, and while all of them are busy a new lookup waits its turn
 * within its own time limit. Numeric hosts answer at once, as in
 * us_getaddrinfo. Other negative timeouts: -EINVAL. */
int us_getaddrinfo_timed(const char *host, const char *port, int family,
                         int type, int proto, int flags, int64_t timeout_ns,
                         us_addrinfo_cb cb, void *ctx);

/* The names of an IP address and port, as getnameinfo(3): the host's
 * name (or its numeric text) into host[0..hostlen) and the service's into
 * serv[0..servlen), each ended by a NUL (NULL: not wanted; too small:
 * -ENOSPC). flags are the platform's NI_* values (NI_NUMERICHOST,
 * NI_NUMERICSERV, NI_NAMEREQD, NI_DGRAM, NI_NOFQDN). Within timeout_ns,
 * with the resolver threads, signals and abandoned lookups of
 * us_getaddrinfo_timed; with NI_NUMERICHOST and NI_NUMERICSERV both it
 * answers at once, without a thread. An address of another family:
 * -EAFNOSUPPORT; a resolver failure (NI_NAMEREQD and no name): as
 * us_getaddrinfo's, US_GAI_ERROR(code). */
int us_getnameinfo(const us_addr_t *addr, int flags, char *host, size_t hostlen,
                   char *serv, size_t servlen, int64_t timeout_ns);

/* Resolver failures sit below US_GAI_BASE so they never look like errno. */
#define US_GAI_BASE (-100000)
#define US_GAI_ERROR(code) (US_GAI_BASE - ((code) < 0 ? -(code) : (code)))
/* For a result below US_GAI_BASE: the resolver's own code, made negative
 * (e.g. -2 for "name not known" on glibc), as MicroPython reports it. */
int us_gai_code(int result);
/* A message for any error this API returns (errno, resolver or TLS). */
const char *us_strerror(int err);

/* ---- poll sets -------------------------------------------------------- */

/* Readiness events: masks to watch for and results of a wait. The values
 * are MicroPython's (and Linux's) on every platform. US_POLLERR and
 * US_POLLHUP are reported whether asked for or not. */
#define US_POLLIN 0x001
#define US_POLLOUT 0x004
#define US_POLLERR 0x008
#define US_POLLHUP 0x010
/* The descriptor is closed: always seen for a socket registered with
 * us_pollset_add_socket; for a bare descriptor only by a set that checks
 * each one on every wait (poll(2): US_POLLSET_PORTABLE, or no epoll), as
 * epoll forgets a closed descriptor silently. */
#define US_POLLNVAL 0x020

/* us_pollset_new() flag: use poll(2) even where epoll exists. */
#define US_POLLSET_PORTABLE 0x1
/* us_pollset_wait() flag: each descriptor reported is disarmed (reports
 * nothing at all) until us_pollset_add or us_pollset_modify re-arms it. */
#define US_POLL_ONESHOT 0x1

/* A set of descriptors to wait on, each with an event mask and the
 * owner's data. A wait costs O(ready descriptors) with epoll (Linux) and
 * O(registered) with poll(2). Under the host's lock, one thread may wait
 * while others add, modify or remove; without a host, use one thread. */
typedef struct us_pollset us_pollset_t;

/* One registration (mask asked for), or one ready descriptor (events). */
typedef struct us_pollev {
  int fd;
  int events;
  void *data; /* the owner's, as given to us_pollset_add */
} us_pollev_t;

/* A new, empty set; flags 0 or US_POLLSET_PORTABLE. */
int us_pollset_new(us_pollset_t **ps, int flags);
/* Frees the set, releasing its sockets (the descriptors and data are the
 * owner's). NULL is ok. */
void us_pollset_free(us_pollset_t *ps);
/* Watches fd for events (US_POLLIN|US_POLLOUT; ERR/HUP/NVAL accepted and
 * implied), or, if fd is already in the set, replaces its mask and data;
 * either way it is armed. Unknown bits: -EINVAL; fd not open: -EBADF,
 * found before anything is sized by fd's number. */
int us_pollset_add(us_pollset_t *ps, int fd, int events, void *data);
/* As us_pollset_add for s's descriptor, and holds s until removed (s must
 * stay valid that long): closing s meanwhile shuts it down at once (the
 * peer sees EOF) but keeps its descriptor, so that the number is not
 * reused, and the set reports it as US_POLLNVAL, on every backend. */
int us_pollset_add_socket(us_pollset_t *ps, us_socket_t *s, int events,
                          void *data);
/* As us_pollset_add_socket for t's socket, and t is readable (US_POLLIN)
 * whenever it holds decrypted bytes (us_tls_pending), which its socket
 * may not show: a record read whole leaves nothing in the kernel. t must
 * stay valid while registered. */
int us_pollset_add_tls(us_pollset_t *ps, us_tls_t *t, int events, void *data);
/* Replaces fd's mask and re-arms it. Not in the set: -ENOENT. */
int us_pollset_modify(us_pollset_t *ps, int fd, int events);
/* Forgets fd (releasing its socket), even one closed meanwhile. Not in
 * the set: -ENOENT. */
int us_pollset_remove(us_pollset_t *ps, int fd);
/* fd's registration into *ev; not in the set: -ENOENT. */
int us_pollset_get(const us_pollset_t *ps, int fd, us_pollev_t *ev);
/* How many descriptors are in the set. */
size_t us_pollset_count(const us_pollset_t *ps);
/* The i-th registration (in no particular order, stable while the set
 * does not change) into *ev; i past the end: -ENOENT. */
int us_pollset_at(const us_pollset_t *ps, size_t i, us_pollev_t *ev);
/* Waits up to timeout_ns (US_TIMEOUT_BLOCK: no limit; 0: a check) for
 * registered descriptors to be ready and writes at most max of them to
 * out (never more than were registered when the wait began). Returns
 * the count, 0 when the time passed, or a negative errno: -EBUSY if
 * another wait on the set is under way, or the host's error after a
 * signal. flags: 0 or US_POLL_ONESHOT. */
int us_pollset_wait(us_pollset_t *ps, us_pollev_t *out, size_t max,
                    int64_t timeout_ns, int flags);
/* The backend in use: "epoll" or "poll". */
const char *us_pollset_backend(const us_pollset_t *ps);

#ifdef __cplusplus
}
#endif

#endif /* USOCKET_H */
