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
#include <unistd.h>

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
    n += fd_open(fd);
  return n;
}

#define NO_RESOLVER                                                            \
  "Debian's liblwip has no resolver (LWIP_DNS 0): localhost does not resolve"
#define KERNEL_CALL "calls the kernel on an lwIP descriptor"
#define KERNEL_PAIR "polls the kernel's socket pairs, pipes and files"

/* What cannot hold on lwIP, and why. */
int fd_open(int fd) { return lwip_fcntl(fd, F_GETFL, 0) >= 0; }

static const struct {
  const char *name, *why;
} skips[] = {
    {"unix_", "lwIP has no AF_UNIX sockets"},
    {"msg_scm_rights_pass_a_descriptor", "lwIP has no AF_UNIX sockets"},
    {"addr_getaddrinfo_service_name_and_localhost", NO_RESOLVER},
    {"addr_getaddrinfo_timed_resolves_and_checks_timeout", NO_RESOLVER},
    {"create_connection_connects_and_keeps_timeout", NO_RESOLVER},
    {"nameinfo_numeric_at_once", "lwIP has no services database"},
    {"msg_sendallv_resumes_inside_a_piece", "lwIP has no SO_SNDBUF"},
    {"deadline_keeps_nonblocking_and_takes_what_is_ready", KERNEL_CALL},
    {"wrapped_descriptor_with_linger_releases_the_host_lock", KERNEL_CALL},
    {"socket_from_fd_reads_family_and_type", KERNEL_CALL},
    {"socket_plain_c_descriptor_follows_the_timeout", KERNEL_CALL},
    {"socket_host_descriptor_is_nonblocking_until_detached", KERNEL_CALL},
    {"stream_readline_remembers_the_lines_a_look_saw", KERNEL_CALL},
    {"stream_readline_known_line_gone_behind_its_back", KERNEL_CALL},
    /* A forked child has lwIP's memory but not its tcpip thread, and may
     * have its core lock as that thread held it: locked for ever. */
    {"fork_", "lwIP's stack does not survive fork: its tcpip thread stays "
              "behind, perhaps holding the core lock"},
    {"pollset_backend_is_named", "names the kernel's (epoll, poll)"},
    {"pollset_wait_times_out_on_the_deadline", KERNEL_PAIR},
    {"pollset_reports_ready_with_its_data", KERNEL_PAIR},
    {"pollset_adding_again_replaces_mask_and_data", KERNEL_PAIR},
    {"pollset_bad_arguments_are_refused", KERNEL_PAIR},
    {"pollset_removing_keeps_the_others", KERNEL_PAIR},
    {"pollset_oneshot_disarms_until_modify", KERNEL_PAIR},
    {"pollset_hangup_is_reported_unasked", KERNEL_PAIR},
    {"pollset_closed_while_registered_never_crashes", KERNEL_PAIR},
    {"pollset_reused_descriptor_number_works", KERNEL_PAIR},
    {"pollset_regular_files_are_always_ready", KERNEL_PAIR},
    {"pollset_many_idle_one_ready", KERNEL_PAIR},
    {"pollset_max_bounds_the_results_fairly", KERNEL_PAIR},
    {"pollset_lock_is_released_only_to_wait", KERNEL_PAIR},
    {"pollset_signals_keep_the_deadline", KERNEL_PAIR},
    {"pollset_host_error_after_a_signal_ends_the_wait", KERNEL_PAIR},
    {"pollset_changes_made_by_a_handler_count", KERNEL_PAIR},
    {"pollset_huge_numbers_allocate_nothing", KERNEL_PAIR},
};

const char *test_skip_reason(const char *name) {
  for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++)
    if (strstr(name, skips[i].name))
      return skips[i].why;
  return NULL;
}
