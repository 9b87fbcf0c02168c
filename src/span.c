/* span.c: which part of a caller's buffer a stream call addresses, by the
 * rules of MicroPython's stream methods, for every binding alike. */
#include "usocket.h"

size_t us_span(size_t len, size_t off, size_t max_len, size_t *at) {
  if (off > len)
    off = len;
  *at = off;
  return len - off < max_len ? len - off : max_len;
}
