/* platform.h: the selected backend's platform constants (US__AF_INET,
 * US__SOL_SOCKET...), for the core and for bindings that must compile
 * where there is no sys/socket.h (a Cortex-M with lwIP and newlib).
 *
 * The build names the backend once (US_BACKEND_LWIP, else POSIX); neither
 * the core nor a binding includes a network header of its own.
 */
#ifndef US_PLATFORM_SELECT_H
#define US_PLATFORM_SELECT_H

#if defined(US_BACKEND_LWIP)
#include "lwip/platform.h"
#else
#include "posix/platform.h"
#endif
/* What every backend spells alike, on the values of the one above. */
#include "platform_bsd.h"

#endif /* US_PLATFORM_SELECT_H */
