/* A coalesced, async-signal-safe wake-up from the realtime thread.
 *
 * The callback may not lock or block, but writing to an eventfd is one
 * non-blocking syscall (it is what uv_async_send does too).  A flag makes many
 * signals between two drains cost one write: a woken reader clears the flag,
 * then drains everything that is available, so no event is ever missed.
 *
 * The reader side is just a file descriptor, so a disk thread can poll(2) it
 * and Lua can watch it with a luv poll handle, in the host and in plain lua5.4
 * alike. */
#ifndef PS_WAKE_H
#define PS_WAKE_H

#include <stdatomic.h>
#include <time.h>

typedef struct ps_wake {
    atomic_int pending;
    int fd;                      /* eventfd, non-blocking; -1 when closed */
} ps_wake;

int  ps_wake_open(ps_wake *w);   /* 0, or -errno */
void ps_wake_close(ps_wake *w);  /* safe to call twice */
void ps_wake_signal(ps_wake *w); /* realtime-safe; NULL is a no-op */
void ps_wake_clear(ps_wake *w);  /* reader: reset before draining */
/* Reader: block up to timeout_ms (-1 forever) for a signal, then clear it.
 * Returns 1 when signalled, 0 on timeout. */
int  ps_wake_wait(ps_wake *w, int timeout_ms);

/* Monotonic seconds (CLOCK_MONOTONIC), for the timeouts of the threads
 * that wait on wake-ups and of the watchdog.  Inline: the disk threads
 * call it in their loop.  Returns the time. */
static inline double ps_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
