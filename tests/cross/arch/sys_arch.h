/* sys_arch.h: the RTOS objects lwIP's sockets need, as handles an RTOS
 * port would define (the cross build compiles, it never links a kernel). */
#ifndef US_CROSS_ARCH_SYS_ARCH_H
#define US_CROSS_ARCH_SYS_ARCH_H

typedef void *sys_sem_t;
typedef void *sys_mutex_t;
typedef void *sys_mbox_t;
typedef void *sys_thread_t;
/* The critical section's saved state (an interrupt mask on a Cortex-M). */
typedef unsigned long sys_prot_t;
#define SYS_MBOX_NULL NULL
#define SYS_SEM_NULL NULL
#define sys_sem_valid(s) (*(s) != NULL)
#define sys_sem_set_invalid(s) (*(s) = NULL)
#define sys_mutex_valid(m) (*(m) != NULL)
#define sys_mutex_set_invalid(m) (*(m) = NULL)
#define sys_mbox_valid(m) (*(m) != NULL)
#define sys_mbox_set_invalid(m) (*(m) = NULL)

#endif /* US_CROSS_ARCH_SYS_ARCH_H */
