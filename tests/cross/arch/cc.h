/* cc.h: lwIP's compiler and C library facts for arm-none-eabi-gcc with
 * newlib (the cross build check). */
#ifndef US_CROSS_ARCH_CC_H
#define US_CROSS_ARCH_CC_H

#include <stdlib.h>
#include <sys/time.h>

/* newlib's sys/time.h declares struct timeval, and errno.h its values. */
#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_RAND() ((u32_t)rand())

#endif /* US_CROSS_ARCH_CC_H */
