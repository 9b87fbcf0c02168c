/* lwipopts.h: lwIP for a Cortex-M board with an RTOS, as the cross build
 * check (mk/lwip.mk) configures it: the sockets API with poll, IPv6, DNS
 * and the socket options the core uses. What a port whose network stack
 * is lwIP with sockets (esp32-style) must enable for usocket.
 */
#ifndef US_CROSS_LWIPOPTS_H
#define US_CROSS_LWIPOPTS_H

#define NO_SYS 0
#define LWIP_TCPIP_CORE_LOCKING 1
#define MEM_ALIGNMENT 4
#define MEM_SIZE (16 * 1024)

#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_RAW 1
#define LWIP_DNS 1

#define LWIP_NETCONN 1
#define LWIP_SOCKET 1
/* The core calls lwip_* by name: no macros named socket(), close()... */
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_POLL 1
#define LWIP_SO_RCVTIMEO 1
#define LWIP_SO_SNDTIMEO 1
#define LWIP_SO_RCVBUF 1
#define LWIP_SO_LINGER 1
#define SO_REUSE 1
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_NETIF_LOOPBACK 1
#define SYS_LIGHTWEIGHT_PROT 1

#endif /* US_CROSS_LWIPOPTS_H */
