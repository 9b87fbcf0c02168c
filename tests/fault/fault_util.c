/* fault_util.c: the fault tests' pattern, plain peers and tally. */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fault_util.h"

/* Each test runs in a child of main.c, so the tally lives in memory that
 * the children share with the parent, which prints it when it exits. */
struct tally {
  atomic_ullong faults;
  atomic_ullong bytes;
  atomic_uint tests;
};
static struct tally *tally;

__attribute__((constructor)) static void tally_open(void) {
  void *p = mmap(NULL, sizeof *tally, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT(p != MAP_FAILED);
  tally = p;
}

/* Children leave through _exit(), so only the runner itself gets here. */
__attribute__((destructor)) static void tally_print(void) {
  printf("fault summary: %llu faults injected, %llu bytes checked, "
         "%u tests reporting\n",
         (unsigned long long)atomic_load(&tally->faults),
         (unsigned long long)atomic_load(&tally->bytes),
         atomic_load(&tally->tests));
  fflush(stdout);
}

unsigned char pattern_at(size_t i) {
  uint32_t x = (uint32_t)i * 2654435761u;
  return (unsigned char)((x >> 24) ^ (uint32_t)(i >> 16));
}

void pattern_fill(void *buf, size_t from, size_t len) {
  unsigned char *p = buf;
  for (size_t i = 0; i < len; i++)
    p[i] = pattern_at(from + i);
}

void pattern_expect(const void *buf, size_t from, size_t len) {
  const unsigned char *p = buf;
  for (size_t i = 0; i < len; i++) {
    if (p[i] != pattern_at(from + i)) {
      fprintf(stderr, "pattern differs at offset %zu (+%zu)\n", from + i, i);
      abort();
    }
  }
  atomic_fetch_add(&tally->bytes, len);
}

void bytes_expect(const void *buf, const void *want, size_t len) {
  ASSERT(memcmp(buf, want, len) == 0);
  atomic_fetch_add(&tally->bytes, len);
}

void guard(unsigned seconds) { alarm(seconds); }

void fault_done(void) {
  us__fault_stats_t st;
  us__fault_stats(&st);
  atomic_fetch_add(&tally->faults, st.injected);
  atomic_fetch_add(&tally->tests, 1);
}

void raw_send_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    ASSERT(n > 0);
    p += n;
    len -= (size_t)n;
  }
}

static void *writer(void *arg) {
  struct peer *p = arg;
  size_t chunk = p->chunk ? p->chunk : p->len;
  for (size_t off = 0; off < p->len; off += chunk) {
    if (p->delay > 0) {
      struct timespec ts = {0, (long)p->delay};
      nanosleep(&ts, NULL);
    }
    raw_send_all(p->fd, p->buf + off,
                 chunk < p->len - off ? chunk : p->len - off);
  }
  if (p->shut)
    shutdown(p->fd, SHUT_WR);
  return NULL;
}

void peer_write_pattern(struct peer *p, int fd, size_t len) {
  if (!p->buf) {
    p->buf = malloc(len ? len : 1);
    ASSERT(p->buf != NULL);
    pattern_fill(p->buf, 0, len);
  }
  p->fd = fd;
  p->len = len;
  p->shut = 1;
  ASSERT_OK(pthread_create(&p->thread, NULL, writer, p));
}

static void *reader(void *arg) {
  struct peer *p = arg;
  size_t room = p->len;
  int64_t end = now_ms() + 10000;
  p->len = 0;
  while (p->len < room && now_ms() < end) {
    struct pollfd pfd = {.fd = p->fd, .events = POLLIN, .revents = 0};
    if (poll(&pfd, 1, 100) <= 0)
      continue;
    ssize_t n = recv(p->fd, p->buf + p->len, room - p->len, 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
      break;
    if (n > 0)
      p->len += (size_t)n;
  }
  return NULL;
}

void peer_read(struct peer *p, int fd, size_t room) {
  p->buf = malloc(room ? room : 1);
  ASSERT(p->buf != NULL);
  p->fd = fd;
  p->len = room;
  ASSERT_OK(pthread_create(&p->thread, NULL, reader, p));
}

size_t peer_join(struct peer *p) {
  ASSERT_OK(pthread_join(p->thread, NULL));
  return p->len;
}
