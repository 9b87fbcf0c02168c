/* lwip/inet_text.c: text and packed IP addresses without the C library's
 * inet_ntop/inet_pton, which lwIP's systems lack (lwIP's own print IPv6
 * in capitals and parse leniently): the forms glibc reads and writes
 * (RFC 5952), so that both backends answer alike. */
#include "lwip_sys.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int put(char *buf, size_t len, const char *text) {
  size_t n = strlen(text);
  if (n + 1 > len)
    return -ENOSPC;
  memcpy(buf, text, n + 1);
  return (int)n;
}

static void v4_text(const uint8_t *p, char *out) {
  sprintf(out, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

static void v6_text(const uint8_t *p, char *out) {
  unsigned w[8];
  for (int i = 0; i < 8; i++)
    w[i] = (unsigned)p[2 * i] << 8 | p[2 * i + 1];
  /* The longest run of two or more zero words (the first of equals). */
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && w[j] == 0)
      j++;
    if (j - i > best_len && j - i >= 2)
      best = i, best_len = j - i;
    i = j > i ? j : i + 1;
  }
  /* As glibc: an IPv4-compatible or -mapped address ends dotted. */
  int dotted = best == 0 && (best_len == 6 || (best_len == 7 && w[7] != 1) ||
                             (best_len == 5 && w[5] == 0xffff));
  char *o = out;
  for (int i = 0; i < 8; i++) {
    if (i == best) { /* "::" stands for the run */
      *o++ = ':';
      *o++ = ':';
      i += best_len - 1;
      continue;
    }
    if (i > 0 && i != best + best_len)
      *o++ = ':';
    if (dotted && i == 6) {
      v4_text(p + 12, o);
      return;
    }
    o += sprintf(o, "%x", w[i]);
  }
  *o = '\0';
}

int us__sys_ntop(int family, const void *packed, char *buf, size_t len) {
  char text[48];
  if (family == AF_INET)
    v4_text(packed, text);
  else if (family == AF_INET6)
    v6_text(packed, text);
  else
    return -EAFNOSUPPORT;
  return put(buf, len, text);
}

/* Four decimal parts, each below 256, without leading zeros. */
static int v4_parse(const char *s, uint8_t *out) {
  for (int part = 0; part < 4; part++) {
    if (part > 0 && *s++ != '.')
      return 0;
    if (*s < '0' || *s > '9')
      return 0;
    unsigned v = 0;
    const char *start = s;
    while (*s >= '0' && *s <= '9') {
      v = v * 10 + (unsigned)(*s++ - '0');
      if (v > 255 || (s - start > 1 && *start == '0'))
        return 0;
    }
    out[part] = (uint8_t)v;
  }
  return *s == '\0';
}

static int hex(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int v6_parse(const char *s, uint8_t *out) {
  uint8_t w[16];
  int n = 0, gap = -1; /* bytes filled; where "::" stands */
  if (*s == ':' && *++s != ':')
    return 0;
  while (*s) {
    if (*s == ':') {
      if (gap >= 0)
        return 0;
      gap = n;
      s++;
      continue;
    }
    const char *start = s;
    unsigned v = 0;
    int d, digits = 0;
    while ((d = hex(*s)) >= 0 && digits < 5)
      v = v << 4 | (unsigned)d, s++, digits++;
    if (*s == '.') { /* the last 32 bits, dotted */
      if (n > 12 || !v4_parse(start, w + n))
        return 0;
      n += 4;
      s += strlen(s);
      break;
    }
    if (digits == 0 || digits > 4 || n > 14)
      return 0;
    w[n++] = (uint8_t)(v >> 8);
    w[n++] = (uint8_t)v;
    if (*s == ':') {
      if (*++s == '\0')
        return 0;
    } else if (*s != '\0') {
      return 0;
    }
  }
  if (gap >= 0) {
    if (n == 16)
      return 0;
    memset(out, 0, 16);
    memcpy(out, w, (size_t)gap);
    memcpy(out + 16 - (n - gap), w + gap, (size_t)(n - gap));
    return 1;
  }
  if (n != 16)
    return 0;
  memcpy(out, w, 16);
  return 1;
}

int us__sys_pton(int family, const char *text, void *packed) {
  if (family == AF_INET)
    return v4_parse(text, packed) ? 4 : -EINVAL;
  if (family == AF_INET6)
    return v6_parse(text, packed) ? 16 : -EINVAL;
  return -EAFNOSUPPORT;
}
