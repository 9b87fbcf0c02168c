/* check.h: the fuzz targets' assertion. It holds in every build type, and
 * it aborts, which libFuzzer reports as a finding and saves the input for.
 */
#ifndef US_FUZZ_CHECK_H
#define US_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);    \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#endif /* US_FUZZ_CHECK_H */
