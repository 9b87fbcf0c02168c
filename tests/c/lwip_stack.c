/* lwip_stack.c: the C tests over lwIP's own stack (make test-lwip): each
 * test's child starts lwIP's tcpip thread and one interface that loops
 * back whatever it is sent (127.0.0.1/8 and ::1), so the tests talk to
 * themselves through lwIP, with no tap device and no privilege. The tests
 * that cannot hold on lwIP are listed with the reason. */
#include <lwip/ip_addr.h>
#include <lwip/netif.h>
#include <lwip/sockets.h>
#include <lwip/sys.h>
#include <lwip/tcpip.h>
#include <string.h>

#include "test.h"

static struct netif loop;

/* LWIP_NETIF_LOOPBACK hands packets for the interface's own addresses to
 * netif_loop_output before these are called: anything else is dropped. */
static err_t drop4(struct netif *n, struct pbuf *p, const ip4_addr_t *to) {
  (void)n, (void)p, (void)to;
  return ERR_OK;
}

static err_t drop6(struct netif *n, struct pbuf *p, const ip6_addr_t *to) {
  (void)n, (void)p, (void)to;
  return ERR_OK;
}

static err_t loop_init(struct netif *n) {
  n->name[0] = 'l';
  n->name[1] = 'o';
  n->mtu = 1500;
  n->output = drop4;
  n->output_ip6 = drop6;
  return ERR_OK;
}

static void started(void *arg) { sys_sem_signal((sys_sem_t *)arg); }

void test_child_setup(void) {
  sys_sem_t up;
  ASSERT(sys_sem_new(&up, 0) == ERR_OK);
  tcpip_init(started, &up);
  sys_sem_wait(&up);
  sys_sem_free(&up);

  ip4_addr_t ip, mask, gw;
  IP4_ADDR(&ip, 127, 0, 0, 1);
  IP4_ADDR(&mask, 255, 0, 0, 0);
  ip4_addr_set_zero(&gw);
  LOCK_TCPIP_CORE();
  ASSERT(netif_add(&loop, &ip, &mask, &gw, NULL, loop_init, tcpip_input));
  ip6_addr_t one;
  memset(&one, 0, sizeof one);
  one.addr[3] = PP_HTONL(1);
  netif_ip6_addr_set(&loop, 0, &one);
  netif_ip6_addr_set_state(&loop, 0, IP6_ADDR_VALID);
  netif_set_default(&loop);
  netif_set_link_up(&loop);
  netif_set_up(&loop);
  UNLOCK_TCPIP_CORE();
}

/* lwIP's sockets open now: the numbers it answers for (lwIP hands out
 * LWIP_SOCKET_OFFSET up, as many as it has netconns). */
int open_fds(void) {
  int n = 0;
  for (int fd = 0; fd < LWIP_SOCKET_OFFSET + 256; fd++)
    if (lwip_fcntl(fd, F_GETFL, 0) >= 0)
      n++;
  return n;
}

static const struct {
  const char *name, *why;
} skips[] = {
    {"unix", "lwIP has no AF_UNIX sockets"},
};

const char *test_skip_reason(const char *name) {
  for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++)
    if (strstr(name, skips[i].name))
      return skips[i].why;
  return NULL;
}
