/* SPSC lock-free ring buffer; see ringbuf.h for the contract.
 *
 * Memory ordering, the whole of it:
 * - Each side loads its own index relaxed: only it ever stores it.
 * - The producer loads read_idx with acquire, so the consumer's reads of the
 *   slots it released happen before the producer overwrites them; it
 *   publishes write_idx with release, so the data it copied is visible
 *   before the consumer can see the new index.
 * - The consumer mirrors that: acquire on write_idx, release on read_idx.
 * - read_cache/write_cache are plain: each is only ever touched by the side
 *   that owns it.  A cached index is an older value of the real one, so it
 *   can only understate the room or data there is, never overstate it; the
 *   acquire load that refreshed it already ordered everything it covers. */
#include "ringbuf.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* The indexes are shared with the realtime thread: a lock-based atomic
 * would take a lock there. */
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && sizeof(size_t) == sizeof(long),
               "size_t atomics must be lock-free");

/* Returns the bytes needed, or 0 if elem_size * capacity overflows. */
size_t ps_ring_bytes(size_t elem_size, size_t capacity)
{
    if (elem_size != 0 && capacity > SIZE_MAX / elem_size)
        return 0;
    return elem_size * capacity;
}

/* Returns 0, or -EINVAL for a bad capacity, element size, memory or size. */
int ps_ring_init(ps_ring *r, void *mem, size_t elem_size, size_t capacity)
{
    /* capacity & (capacity - 1) clears the lowest set bit: zero only for
     * powers of two.  A power of two also divides 2^N, which is what lets
     * free-running size_t indexes wrap around without a glitch. */
    if (mem == NULL || elem_size == 0 || capacity == 0 ||
        (capacity & (capacity - 1)) != 0 ||
        ps_ring_bytes(elem_size, capacity) == 0)
        return -EINVAL;
    r->capacity = capacity;
    r->mask = capacity - 1;
    r->elem_size = elem_size;
    r->data = mem;
    memset(mem, 0, elem_size * capacity);   /* fault pages in now, not in a callback */
    ps_ring_reset(r);
    return 0;
}

/* Returns nothing. */
void ps_ring_reset(ps_ring *r)
{
    /* Relaxed is enough: neither side runs, and whatever starts them
     * (thread creation, stream start) synchronizes with this thread. */
    atomic_store_explicit(&r->write_idx, 0, memory_order_relaxed);
    atomic_store_explicit(&r->read_idx, 0, memory_order_relaxed);
    r->read_cache = 0;
    r->write_cache = 0;
}

/* Returns the fill level, clamped to [0, capacity]. */
size_t ps_ring_read_available(const ps_ring *r)
{
    /* read_idx first: write_idx, loaded later, is at least as large, so the
     * difference never goes negative.  Only an observer that is not the
     * consumer can see it exceed capacity (read_idx moved meanwhile). */
    size_t ri = atomic_load_explicit(&r->read_idx, memory_order_acquire);
    size_t wi = atomic_load_explicit(&r->write_idx, memory_order_acquire);
    size_t used = wi - ri;
    return used > r->capacity ? r->capacity : used;
}

/* Returns the free space, clamped to [0, capacity]. */
size_t ps_ring_write_available(const ps_ring *r)
{
    /* write_idx first: read_idx, loaded later, can then only make the ring
     * look emptier.  Only an observer that is not the producer can see
     * read_idx pass its stale write_idx ("negative" fill): the ring was
     * drained meanwhile, so report it empty. */
    size_t wi = atomic_load_explicit(&r->write_idx, memory_order_acquire);
    size_t ri = atomic_load_explicit(&r->read_idx, memory_order_acquire);
    size_t used = wi - ri;
    if (used > r->capacity)
        used = 0;
    return r->capacity - used;
}

/* Split n elements starting at free-running index idx into at most two
 * contiguous regions.  Returns n. */
static size_t split(const ps_ring *r, size_t idx, size_t n, void **p1,
                    size_t *n1, void **p2, size_t *n2)
{
    size_t at = idx & r->mask;
    size_t first = r->capacity - at;        /* elements before the end */
    if (first > n)
        first = n;
    *p1 = r->data + at * r->elem_size;
    *n1 = first;
    *p2 = n > first ? r->data : NULL;
    *n2 = n - first;
    return n;
}

/* Producer: up to n of the elements there is room for at write index wi. */
static inline size_t room_for(ps_ring *r, size_t wi, size_t n)
{
    size_t room = r->capacity - (wi - r->read_cache);
    if (room < n) {             /* only now look at the consumer's line */
        r->read_cache = atomic_load_explicit(&r->read_idx, memory_order_acquire);
        room = r->capacity - (wi - r->read_cache);
    }
    return n < room ? n : room;
}

/* Consumer: up to n of the elements there are to read at read index ri. */
static inline size_t data_for(ps_ring *r, size_t ri, size_t n)
{
    size_t used = r->write_cache - ri;
    if (used < n) {             /* only now look at the producer's line */
        r->write_cache = atomic_load_explicit(&r->write_idx, memory_order_acquire);
        used = r->write_cache - ri;
    }
    return n < used ? n : used;
}

/* Returns the number of elements available in the two regions. */
size_t ps_ring_write_regions(ps_ring *r, size_t n, void **p1, size_t *n1,
                             void **p2, size_t *n2)
{
    size_t wi = atomic_load_explicit(&r->write_idx, memory_order_relaxed);
    return split(r, wi, room_for(r, wi, n), p1, n1, p2, n2);
}

/* Returns nothing. */
void ps_ring_write_advance(ps_ring *r, size_t n)
{
    size_t wi = atomic_load_explicit(&r->write_idx, memory_order_relaxed);
    /* Against the cached index: the shared one may only be further on, and
     * re-reading it here would pull the consumer's line over every time.
     * More than the regions gave is a caller's bug: clamped, never an
     * assert(), which would abort the process from the realtime callback. */
    size_t room = r->capacity - (wi - r->read_cache);
    if (n > room)
        n = room;
    atomic_store_explicit(&r->write_idx, wi + n, memory_order_release);
}

/* Returns the number of elements available in the two regions. */
size_t ps_ring_read_regions(ps_ring *r, size_t n, void **p1, size_t *n1,
                            void **p2, size_t *n2)
{
    size_t ri = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    return split(r, ri, data_for(r, ri, n), p1, n1, p2, n2);
}

/* Returns nothing. */
void ps_ring_read_advance(ps_ring *r, size_t n)
{
    size_t ri = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    size_t data = r->write_cache - ri;
    if (n > data)                   /* as in ps_ring_write_advance */
        n = data;
    atomic_store_explicit(&r->read_idx, ri + n, memory_order_release);
}

/* The copying calls: the same index logic as the region calls, without
 * their out-parameters (cheaper: tests/bench/NOTES.md), and the copy as at
 * most two memcpy calls in bytes.  Return how many elements
 * were copied. */
size_t ps_ring_write(ps_ring *r, const void *src, size_t n)
{
    size_t wi = atomic_load_explicit(&r->write_idx, memory_order_relaxed);
    n = room_for(r, wi, n);
    if (n == 0)
        return 0;               /* full: src may even be NULL when n is 0 */
    size_t es = r->elem_size, at = wi & r->mask, first = r->capacity - at;
    if (first >= n)
        memcpy(r->data + at * es, src, n * es);
    else {
        memcpy(r->data + at * es, src, first * es);
        memcpy(r->data, (const unsigned char *)src + first * es, (n - first) * es);
    }
    atomic_store_explicit(&r->write_idx, wi + n, memory_order_release);
    return n;
}

size_t ps_ring_read(ps_ring *r, void *dst, size_t n)
{
    size_t ri = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    n = data_for(r, ri, n);
    if (n == 0)
        return 0;
    if (dst != NULL) {
        size_t es = r->elem_size, at = ri & r->mask, first = r->capacity - at;
        if (first >= n)
            memcpy(dst, r->data + at * es, n * es);
        else {
            memcpy(dst, r->data + at * es, first * es);
            memcpy((unsigned char *)dst + first * es, r->data, (n - first) * es);
        }
    }
    atomic_store_explicit(&r->read_idx, ri + n, memory_order_release);
    return n;
}
