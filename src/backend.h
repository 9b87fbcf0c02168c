/* backend.h: the seam between the portable core and one platform's sockets.
 *
 * Exactly one backend is compiled in (src/posix/ or src/lwip/). Every
 * function it gives is a single, non-retrying system call: it returns a
 * count, a descriptor or 0 on success and a negative errno on failure,
 * and never blocks longer than the kernel call itself. Waiting, EINTR and
 * deadlines belong to the core (src/call.c), never to a backend. The last
 * few functions make no system call: src/sockaddr.c has them for all.
 */
#ifndef US_BACKEND_H
#define US_BACKEND_H

/* The backend's platform.h names its constants for the core (US__AF_INET,
 * US__MSG_PEEK...): the core's files include no network header. */
#include "platform.h"
#include "usocket.h"

/* Readiness bits for us__sys_wait(); the values of POLLIN/POLLOUT. */
enum { US__IN = 0x001, US__OUT = 0x004 };

/* A new descriptor: close-on-exec, never raising SIGPIPE, non-blocking if
 * asked. */
int us__sys_socket(int family, int type, int proto, int nonblocking);
int us__sys_close(int fd);
int us__sys_set_nonblocking(int fd, int on);
/* Family, type and protocol of an existing descriptor. */
int us__sys_sockinfo(int fd, int *family, int *type, int *proto);

int us__sys_bind(int fd, const us_addr_t *addr);
int us__sys_listen(int fd, int backlog);
/* A new descriptor, close-on-exec, non-blocking if asked. */
int us__sys_accept(int fd, us_addr_t *peer, int nonblocking);
int us__sys_connect(int fd, const us_addr_t *addr);
/* The outcome of a connect to addr that was in progress and is no longer
 * (the descriptor became writable): 0 or the negated error. Either way the
 * socket is left as a finished blocking connect leaves it (connected: a
 * later connect fails with EISCONN). */
int us__sys_connect_result(int fd, const us_addr_t *addr);
int us__sys_shutdown(int fd, int how);
/* The socket's own name, or its peer's. */
int us__sys_name(int fd, us_addr_t *addr, int peer);

/* The calls above with raw addresses, which hold a platform struct
 * sockaddr (us_rawaddr_t): on return, len is the kernel's length. */
int us__sys_bind_raw(int fd, const us_rawaddr_t *addr);
int us__sys_accept_raw(int fd, us_rawaddr_t *peer, int nonblocking);
int us__sys_connect_raw(int fd, const us_rawaddr_t *addr);
int us__sys_connect_result_raw(int fd, const us_rawaddr_t *addr);
/* The socket's own name, or its peer's. */
int us__sys_name_raw(int fd, us_rawaddr_t *addr, int peer);
ssize_t us__sys_sendto_raw(int fd, const void *buf, size_t len, int flags,
                           const us_rawaddr_t *to);
ssize_t us__sys_recvfrom_raw(int fd, void *buf, size_t len, int flags,
                             us_rawaddr_t *from);
/* AF_UNIX addresses (see us_rawaddr_unix and us_rawaddr_unix_path; the
 * caller has checked a file name for NULs). */
int us__sys_unix_encode(us_rawaddr_t *addr, const char *path, size_t len);
int us__sys_unix_decode(const us_rawaddr_t *addr, const char **path,
                        size_t *len);

/* flags are the platform's MSG_* bits; sends never raise SIGPIPE. */
ssize_t us__sys_send(int fd, const void *buf, size_t len, int flags);
ssize_t us__sys_recv(int fd, void *buf, size_t len, int flags);
ssize_t us__sys_sendto(int fd, const void *buf, size_t len, int flags,
                       const us_addr_t *to);
ssize_t us__sys_recvfrom(int fd, void *buf, size_t len, int flags,
                         us_addr_t *from);
/* sendmsg(2) and recvmsg(2) of a us_msg_t. A receive takes controllen
 * and the room of msg->addr as capacities and sets them and msg->flags on
 * success only; the descriptors it brings are close-on-exec. */
ssize_t us__sys_sendmsg(int fd, const us_msg_t *msg, int flags);
ssize_t us__sys_recvmsg(int fd, us_msg_t *msg, int flags);
/* Closes the descriptors of the SCM_RIGHTS items of control (read with
 * us_cmsg_next: the layout is the platform's, see src/cmsg.c). */
void us__sys_cmsg_close_fds(const void *control, size_t len);
/* Bytes waiting to be read (FIONREAD). */
ssize_t us__sys_pending(int fd);

int us__sys_setsockopt(int fd, int level, int name, const void *val,
                       size_t len);
/* Whether closing fd lingers (SO_LINGER on, with a time other than 0). */
int us__sys_lingers(int fd);
int us__sys_getsockopt(int fd, int level, int name, void *val, size_t *len);

/* Waits for events on fd for at most timeout_ns (< 0: forever). Returns
 * the events that are ready (POLLERR/POLLHUP included), 0 on timeout. */
int us__sys_wait(int fd, int events, int64_t timeout_ns);

/* Waits for any of n descriptors: fds[i] for events[i]; ready[i] gets
 * what is ready of it (POLLERR/POLLHUP included). Returns how many are
 * ready, 0 on timeout (< 0: forever), or a negative errno. Signals as
 * us__sys_wait. */
#define US__WAIT_MANY_MAX 16
int us__sys_wait_many(const int *fds, const int *events, int *ready, int n,
                      int64_t timeout_ns);

/* The poll set's portable wait (src/pollset_poll.c): one poll of fds[0..n)
 * (the platform's struct pollfd, US__POLL* bits) of at most timeout_ns
 * (< 0: no limit), signals as us__sys_wait. The count of ready entries, 0
 * when the time passed, or a negative errno. */
int us__sys_poll(us__pollfd_t *fds, size_t n, int64_t timeout_ns);
/* 0 if fd is an open descriptor, else a negative errno (-EBADF). */
int us__sys_check_open(int fd);

/* Signals that must interrupt a wait, for the thread that runs the host's
 * handlers: us__sys_hold_signals() blocks every signal in the calling
 * thread, keeping the mask it had. While they are held, us__sys_wait()
 * and the poll sets' waits wait with that kept mask in force, atomically
 * (ppoll, epoll_pwait): a signal that arrived after the hold, even before
 * the wait began, interrupts the wait (-EINTR) instead of slipping by.
 * us__sys_release_signals() restores the mask. Holds nest (per thread). */
void us__sys_hold_signals(void);
void us__sys_release_signals(void);
/* Forgets every hold of the calling thread, restoring the mask from
 * before the outermost: its calls were abandoned (us_abandon_calls). */
void us__sys_reset_signals(void);
/* A monotonic clock in nanoseconds. */
int64_t us__sys_now(void);

/* Waits while *word holds value, for at most timeout_ns (< 0: no limit);
 * may return early. -EINTR if a signal came, else 0. */
int us__sys_lock_wait(uint32_t *word, uint32_t value, int64_t timeout_ns);
/* Wakes one thread waiting on word, or all of them. */
void us__sys_lock_wake(uint32_t *word, int all);
/* fn runs in the child of every later fork() (once registered, it stays:
 * one fn for the process). */
void us__sys_on_fork(void (*fn)(void));

/* Text and packed addresses, as inet_ntop/inet_pton. */
int us__sys_ntop(int family, const void *packed, char *buf, size_t len);
int us__sys_pton(int family, const char *text, void *packed);
/* The platform resolver, which may block for long: the core calls it with
 * the host's lock released. On success *res holds the results, to walk
 * with us__sys_resolve_each() (lock held) and free. */
int us__sys_resolve(const char *host, const char *port, int family, int type,
                    int proto, int flags, void **res);
/* The same lookup on a resolver thread, for a caller that may stop
 * waiting: *l is the lookup under way. Never blocks. */
typedef struct us__lookup us__lookup_t;
int us__sys_lookup_start(const char *host, const char *port, int family,
                         int type, int proto, int flags, us__lookup_t **l);
/* A descriptor that becomes readable (US__IN) when l is over. */
int us__sys_lookup_fd(const us__lookup_t *l);
/* Ends l once its descriptor was readable: its result as
 * us__sys_resolve's (and *res), its descriptor closed before it returns;
 * (not over: -EAGAIN, l abandoned). Either way l is gone. */
int us__sys_lookup_end(us__lookup_t *l, void **res);
/* Gives l up without its result: it is dropped if not started, and what
 * it holds is freed when the resolver returns. */
void us__sys_lookup_abandon(us__lookup_t *l);
/* A reverse lookup's address and names (getnameinfo). */
typedef struct us__names {
  us_rawaddr_t addr;
  char host[1025]; /* NI_MAXHOST */
  char serv[32];   /* NI_MAXSERV */
} us__names_t;
/* getnameinfo of n->addr into n->host and n->serv, flags the platform's
 * NI_*: 0, a negative errno or US_GAI_ERROR(code). May block for long. */
int us__sys_nameinfo(us__names_t *n, int flags);
/* Whether a reverse lookup with these flags never leaves the machine
 * (numeric host and service): then it runs without a resolver thread. */
int us__sys_nameinfo_local(int flags);
/* The reverse lookup on a resolver thread, as us__sys_lookup_start; it
 * ends with us__sys_rlookup_end (the names into *out on success), or is
 * abandoned as any lookup. */
int us__sys_rlookup_start(const us__names_t *in, int flags, us__lookup_t **l);
int us__sys_rlookup_end(us__lookup_t *l, us__names_t *out);
void us__sys_resolve_free(void *res);
/* The index of a network interface by name (if_nametoindex), or
 * -ENODEV. */
int us__sys_ifindex(const char *name);
/* The message for a resolver code, given without its sign. */
const char *us__sys_gai_strerror(int magnitude);

/* What every backend does alike on its platform.h's types: one file for
 * all (src/sockaddr.c), no system call. */
/* A platform struct sockaddr of len bytes: returns its family, and for
 * AF_INET/AF_INET6 fills *a (else zeroes it); *data_off (may be NULL) is
 * where the family's own bytes start. Too short: -EINVAL. */
int us__sys_addr_decode(const void *raw, size_t len, us_addr_t *a,
                        size_t *data_off);
/* *a as a platform struct sockaddr in raw[0..cap); returns its length. */
int us__sys_addr_encode(const us_addr_t *a, void *raw, size_t cap);
/* A raw address's family, 0 for none. */
int us__sys_rawaddr_family(const us_rawaddr_t *addr);
/* Calls cb for each IPv4/IPv6 result of us__sys_resolve; returns their
 * count or cb's error. */
int us__sys_resolve_each(void *res, us_addrinfo_cb cb, void *ctx);

#endif /* US_BACKEND_H */
