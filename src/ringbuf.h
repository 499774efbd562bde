/* Single-producer/single-consumer lock-free ring buffer (C11 atomics).
 *
 * This is the only thing data crosses between the realtime callback, the
 * disk threads and the Lua thread (with atomic counters and flags beside
 * it), so it never allocates, locks or blocks.  Modelled on PortAudio's pa_ringbuffer: power-of-two capacity,
 * caller-owned memory, and a two-phase zero-copy API (get regions, advance).
 *
 * Capacity is counted in elements ("frames") of elem_size bytes each, so a
 * frame of any sample format and channel count (3 bytes for int24 mono) is
 * one element.  The two indexes are free-running counters, masked on access:
 * write_idx - read_idx is the fill level, and the whole capacity is usable.
 *
 * Exactly one thread may call the write side (ps_ring_write,
 * ps_ring_write_regions, ps_ring_write_advance) and one the read side
 * (ps_ring_read, ps_ring_read_regions, ps_ring_read_advance) at a time.
 * ps_ring_init and ps_ring_reset need both sides stopped. */
#ifndef PS_RINGBUF_H
#define PS_RINGBUF_H

#include <stddef.h>
#include <stdatomic.h>

/* Padding, not alignas(64): the struct is often embedded in memory that is
 * only max_align_t-aligned (malloc, Lua userdata), where an over-aligned
 * type would be undefined behaviour.  Keeping each field below 64 bytes away
 * from the next keeps them on different cache lines anyway, and the pads at
 * both ends keep them off the lines of whatever the struct is embedded
 * between (a field there that one thread writes and the other reads would
 * otherwise ping-pong the index lines as if they were shared).
 *
 * Each side also keeps a private copy of the other side's index, refreshed
 * only when the copy says there is not enough room (producer) or data
 * (consumer).  Most calls then touch no line the other thread writes: the
 * shared index lines move between cores only when a side has caught up. */
#define PS_RING_PAD_(used) (64 - (used))

typedef struct ps_ring {
    char pad_head_[64];
    _Atomic size_t write_idx;   /* written by the producer only */
    char pad_write_[PS_RING_PAD_(sizeof(_Atomic size_t))];
    size_t read_cache;          /* producer's last view of read_idx */
    char pad_rcache_[PS_RING_PAD_(sizeof(size_t))];
    _Atomic size_t read_idx;    /* written by the consumer only */
    char pad_read_[PS_RING_PAD_(sizeof(_Atomic size_t))];
    size_t write_cache;         /* consumer's last view of write_idx */
    char pad_wcache_[PS_RING_PAD_(sizeof(size_t))];
    /* Read-only after init, read by both sides: a line of their own. */
    size_t capacity;            /* elements, power of two */
    size_t mask;                /* capacity - 1 */
    size_t elem_size;           /* bytes per element */
    unsigned char *data;        /* capacity * elem_size bytes, caller-owned */
    char pad_tail_[64];
} ps_ring;

/* Bytes of memory a ring of `capacity` elements of `elem_size` bytes needs;
 * 0 if that does not fit in a size_t. */
size_t ps_ring_bytes(size_t elem_size, size_t capacity);

/* Set up `r` over `mem` (ps_ring_bytes(elem_size, capacity) bytes), empty.
 * The memory is zeroed here so that every page is touched before a
 * realtime thread uses it.  Returns 0, or -EINVAL if capacity is not a power
 * of two >= 1, elem_size is 0, mem is NULL, or the size overflows. */
int ps_ring_init(ps_ring *r, void *mem, size_t elem_size, size_t capacity);

/* Empty the ring.  Only while neither side runs.  Returns nothing. */
void ps_ring_reset(ps_ring *r);

/* Elements ready to read.  Exact for the consumer (it can only grow under
 * it); from any other thread a snapshot, clamped to [0, capacity]. */
size_t ps_ring_read_available(const ps_ring *r);

/* Free elements ready to write.  Exact for the producer (it can only grow
 * under it); from any other thread a snapshot, clamped to [0, capacity]. */
size_t ps_ring_write_available(const ps_ring *r);

/* Producer: copy up to n elements from src.  Returns how many were copied
 * (less than n when the ring fills up, 0 when it is full). */
size_t ps_ring_write(ps_ring *r, const void *src, size_t n);

/* Consumer: copy up to n elements into dst, or discard them when dst is
 * NULL.  Returns how many were consumed (0 when the ring is empty). */
size_t ps_ring_read(ps_ring *r, void *dst, size_t n);

/* Producer, zero-copy: get room for up to n elements as at most two
 * contiguous regions (*p1, *n1 elements) then (*p2, *n2 elements); *p2 is
 * the start of the buffer when the room wraps, else NULL with *n2 == 0.
 * Fill them, then call ps_ring_write_advance.  Returns *n1 + *n2. */
size_t ps_ring_write_regions(ps_ring *r, size_t n, void **p1, size_t *n1,
                             void **p2, size_t *n2);

/* Producer: publish n elements written into the regions (n must not exceed
 * what ps_ring_write_regions returned; more is clamped to the room there
 * was, never an abort).  Returns nothing. */
void ps_ring_write_advance(ps_ring *r, size_t n);

/* Consumer, zero-copy: get up to n readable elements as at most two
 * contiguous regions, like ps_ring_write_regions.  Returns *n1 + *n2. */
size_t ps_ring_read_regions(ps_ring *r, size_t n, void **p1, size_t *n1,
                            void **p2, size_t *n2);

/* Consumer: release n elements (n must not exceed what
 * ps_ring_read_regions returned; more is clamped to the data there was)
 * back to the producer.  Returns nothing. */
void ps_ring_read_advance(ps_ring *r, size_t n);

#endif
