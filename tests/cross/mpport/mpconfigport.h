/* mpconfigport.h: the MicroPython configuration the binding's cross build
 * (mk/lwip.mk, test-binding-portable) compiles against: a small Cortex-M
 * port with what the socket module needs and little else. Floats (for
 * timeouts), finalisers (a socket closes when collected), terse error
 * messages and the scheduler (which networked ports have) are on; threads
 * are off, as on most such boards.
 */
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_CORE_FEATURES)

#define MICROPY_ENABLE_COMPILER (1)
#define MICROPY_ENABLE_GC (1)
#define MICROPY_ENABLE_FINALISER (1)
#define MICROPY_ENABLE_SCHEDULER (1)
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_ERROR_REPORTING (MICROPY_ERROR_REPORTING_TERSE)
#define MICROPY_PY_THREAD (0)
/* The binding's module replaces the port's. */
#define MICROPY_PY_SOCKET (0)

typedef long mp_off_t;

#include <alloca.h>

#define MICROPY_HW_BOARD_NAME "usocket-cross"
#define MICROPY_HW_MCU_NAME "cortex-m4"
#define MP_STATE_PORT MP_STATE_VM
