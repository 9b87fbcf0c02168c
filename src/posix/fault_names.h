/* fault_names.h: in a fault-injection build, renames the POSIX backend's
 * fallible calls to us__real_* so that src/fault.c can stand in front of
 * them under the seam's own names. Included before backend.h, so that
 * backend.h then declares the renamed functions; a normal build sees an
 * empty file and compiles exactly as before. */
#ifndef US_POSIX_FAULT_NAMES_H
#define US_POSIX_FAULT_NAMES_H

#if defined(US_FAULT_INJECT) && US_FAULT_INJECT
#define us__sys_socket us__real_socket
#define us__sys_accept us__real_accept
#define us__sys_connect us__real_connect
#define us__sys_send us__real_send
#define us__sys_recv us__real_recv
#define us__sys_sendto us__real_sendto
#define us__sys_recvfrom us__real_recvfrom
#define us__sys_sendmsg us__real_sendmsg
#define us__sys_recvmsg us__real_recvmsg
#define us__sys_pending us__real_pending
#define us__sys_wait us__real_wait
#define us__sys_resolve us__real_resolve
#define us__sys_now us__real_now
#endif

#endif /* US_POSIX_FAULT_NAMES_H */
