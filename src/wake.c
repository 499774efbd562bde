#include "wake.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int ps_wake_open(ps_wake *w)
{
    atomic_init(&w->pending, 0);
    w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return w->fd < 0 ? -errno : 0;
}

void ps_wake_close(ps_wake *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

void ps_wake_signal(ps_wake *w)
{
    if (!w || w->fd < 0)
        return;
    if (atomic_exchange_explicit(&w->pending, 1, memory_order_acq_rel) == 0) {
        uint64_t one = 1;
        /* Non-blocking; a full counter (2^64-2 pending) cannot happen since
         * the flag allows one write per drain.  Errors are not reportable
         * from here and a lost write only delays a reader polling too. */
        ssize_t r = write(w->fd, &one, sizeof one);
        (void)r;
    }
}

void ps_wake_clear(ps_wake *w)
{
    uint64_t v;
    /* Drain first, then clear the flag.  The other order loses wake-ups: a
     * signal between the two would see the flag clear, write, and have its
     * write drained, leaving the flag set with nothing to read, so every
     * later signal would be skipped.  In this order a signal that comes
     * during the drain finds the flag still set and writes nothing, and the
     * reader, which looks at the shared state only after this returns,
     * sees what that signal announced.  One read drains it: an eventfd
     * read returns and resets the whole counter, and the flag lets at most
     * one write through per clear (a late one from the last round at most
     * adds to the counter), so a second read would only find it empty and
     * cost a system call on every wake-up. */
    ssize_t r = read(w->fd, &v, sizeof v);
    (void)r;
    atomic_exchange_explicit(&w->pending, 0, memory_order_acq_rel);
}

int ps_wake_wait(ps_wake *w, int timeout_ms)
{
    struct pollfd p = { .fd = w->fd, .events = POLLIN };
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    ps_wake_clear(w);
    return r > 0;
}
