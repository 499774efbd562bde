/* Tests for src/ringbuf.c: unit tests, then a two-thread stress test.
 *
 *     test_ringbuf [FRAMES [SEED]]
 *
 * FRAMES (default 1e8, or $PS_RING_FRAMES) is how many frames the main
 * stress run pushes through a 1024-frame ring; pass a small count under
 * ThreadSanitizer, which is ~20x slower.  SEED varies the chunk sizes. */
#define _POSIX_C_SOURCE 200809L

#include "ringbuf.h"
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* ---- frame contents: frame number i, recognisable at any element size ---- */

/* Byte j of frame i.  The low 8 bytes carry i itself (so a 3-byte frame is
 * a 24-bit counter, like int24 mono); bytes past 8 mix in j so that a frame
 * shifted by a byte inside a 12-byte element is caught too. */
static unsigned char frame_byte(uint64_t i, size_t j)
{
    return j < 8 ? (unsigned char)(i >> (8 * j))
                 : (unsigned char)(i * 31u + j * 0x9du);
}

static void fill_frame(unsigned char *p, size_t es, uint64_t i)
{
    if (es == 8) {              /* the stress test's hot path */
        memcpy(p, &i, 8);
        return;
    }
    for (size_t j = 0; j < es; j++)
        p[j] = frame_byte(i, j);
}

static int frame_ok(const unsigned char *p, size_t es, uint64_t i)
{
    if (es == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        return v == i;
    }
    for (size_t j = 0; j < es; j++)
        if (p[j] != frame_byte(i, j))
            return 0;
    return 1;
}

static void fill_frames(unsigned char *p, size_t es, uint64_t first, size_t n)
{
    for (size_t k = 0; k < n; k++)
        fill_frame(p + k * es, es, first + k);
}

/* Returns how many of the n frames at p are not first, first+1, ... */
static size_t bad_frames(const unsigned char *p, size_t es, uint64_t first,
                         size_t n)
{
    size_t bad = 0;
    for (size_t k = 0; k < n; k++)
        bad += !frame_ok(p + k * es, es, first + k);
    return bad;
}

/* ---- unit tests ---- */

static unsigned char mem[4096];
static unsigned char buf[4096];

static void test_bytes_and_init(void)
{
    ps_ring r;

    CHECK_EQ(ps_ring_bytes(3, 16), 48, "bytes: 16 frames of 3 bytes");
    CHECK_EQ(ps_ring_bytes(4, SIZE_MAX / 2 + 1), 0, "bytes: overflow gives 0");
    CHECK_EQ(ps_ring_bytes(2, SIZE_MAX / 2), SIZE_MAX - 1,
             "bytes: largest that fits");

    CHECK_EQ(ps_ring_init(&r, mem, 4, 0), -EINVAL, "init: capacity 0");
    CHECK_EQ(ps_ring_init(&r, mem, 4, 3), -EINVAL, "init: capacity 3");
    CHECK_EQ(ps_ring_init(&r, mem, 4, 1000), -EINVAL, "init: capacity 1000");
    CHECK_EQ(ps_ring_init(&r, mem, 4, 1025), -EINVAL, "init: capacity 1025");
    CHECK_EQ(ps_ring_init(&r, mem, 0, 16), -EINVAL, "init: elem_size 0");
    CHECK_EQ(ps_ring_init(&r, NULL, 4, 16), -EINVAL, "init: mem NULL");
    CHECK_EQ(ps_ring_init(&r, mem, 4, SIZE_MAX / 2 + 1), -EINVAL,
             "init: size overflows");
    CHECK_EQ(ps_ring_init(&r, mem, 4, 1), 0, "init: capacity 1");
    CHECK_EQ(ps_ring_init(&r, mem, 4, 1024), 0, "init: capacity 1024");
    CHECK_EQ(r.capacity, 1024, "init: capacity stored");
    CHECK_EQ(r.mask, 1023, "init: mask");
    CHECK_EQ(r.elem_size, 4, "init: elem_size stored");
    CHECK(r.data == mem, "init: data is the caller's memory");

    /* The point of the padding: producer and consumer indexes never share a
     * 64-byte line, wherever the struct lands. */
    CHECK(offsetof(ps_ring, read_idx) - offsetof(ps_ring, write_idx) >= 64,
          "layout: indexes 64 bytes apart");
    CHECK(offsetof(ps_ring, write_idx) >= 64, "layout: write_idx 64 bytes from the start");
    CHECK(sizeof(ps_ring) - offsetof(ps_ring, data) >= 64,
          "layout: the constants 64 bytes from the end");
    CHECK(offsetof(ps_ring, read_cache) - offsetof(ps_ring, write_idx) >= 64,
          "layout: producer's cache 64 bytes from write_idx");
    CHECK(offsetof(ps_ring, read_idx) - offsetof(ps_ring, read_cache) >= 64,
          "layout: producer's cache 64 bytes from read_idx");
    CHECK(offsetof(ps_ring, write_cache) - offsetof(ps_ring, read_idx) >= 64,
          "layout: consumer's cache 64 bytes from read_idx");
    CHECK(offsetof(ps_ring, capacity) - offsetof(ps_ring, write_cache) >= 64,
          "layout: consumer's cache 64 bytes from the constants");
}

static void test_empty_full(void)
{
    ps_ring r;
    ps_ring_init(&r, mem, 4, 8);

    CHECK_EQ(ps_ring_read_available(&r), 0, "new ring: nothing to read");
    CHECK_EQ(ps_ring_write_available(&r), 8, "new ring: all 8 free");
    CHECK_EQ(ps_ring_read(&r, buf, 4), 0, "read from empty gives 0");

    fill_frames(buf, 4, 0, 16);
    CHECK_EQ(ps_ring_write(&r, buf, 5), 5, "write 5");
    CHECK_EQ(ps_ring_read_available(&r), 5, "5 to read");
    CHECK_EQ(ps_ring_write_available(&r), 3, "3 free");
    CHECK_EQ(ps_ring_write(&r, buf + 5 * 4, 10), 3, "write 10 into 3 free");
    CHECK_EQ(ps_ring_read_available(&r), 8, "full: 8 to read");
    CHECK_EQ(ps_ring_write_available(&r), 0, "full: none free");
    CHECK_EQ(ps_ring_write(&r, buf, 1), 0, "write to full gives 0");
    CHECK_EQ(ps_ring_write(&r, NULL, 0), 0, "write of 0 (NULL src) gives 0");

    memset(buf, 0, sizeof buf);
    CHECK_EQ(ps_ring_read(&r, buf, 100), 8, "read all 8");
    CHECK_EQ(bad_frames(buf, 4, 0, 8), 0, "the 8 come out in order");
    CHECK_EQ(ps_ring_read_available(&r), 0, "empty again");
    CHECK_EQ(ps_ring_write_available(&r), 8, "all free again");
}

static void test_wrap_copy(void)
{
    ps_ring r;
    ps_ring_init(&r, mem, 4, 8);

    fill_frames(buf, 4, 0, 6);
    ps_ring_write(&r, buf, 6);
    ps_ring_read(&r, NULL, 6);              /* indexes now at 6 */

    fill_frames(buf, 4, 100, 5);
    CHECK_EQ(ps_ring_write(&r, buf, 5), 5, "wrap: write 5 from index 6");
    /* 2 land at the end of the memory, 3 at its start. */
    CHECK(frame_ok(mem + 6 * 4, 4, 100) && frame_ok(mem + 7 * 4, 4, 101),
          "wrap: first 2 at slots 6, 7");
    CHECK(frame_ok(mem, 4, 102) && frame_ok(mem + 8, 4, 104),
          "wrap: last 3 at slots 0..2");
    memset(buf, 0, sizeof buf);
    CHECK_EQ(ps_ring_read(&r, buf, 8), 5, "wrap: read 5 back");
    CHECK_EQ(bad_frames(buf, 4, 100, 5), 0, "wrap: in order across the seam");
}

static void test_wrap_regions(void)
{
    ps_ring r;
    void *p1, *p2;
    size_t n1, n2;
    const size_t es = 3;

    ps_ring_init(&r, mem, es, 8);
    ps_ring_write_regions(&r, 6, &p1, &n1, &p2, &n2);   /* advance only what regions gave */
    ps_ring_write_advance(&r, 6);
    ps_ring_read_regions(&r, 6, &p1, &n1, &p2, &n2);
    ps_ring_read_advance(&r, 6);            /* indexes now at 6 */

    CHECK_EQ(ps_ring_write_regions(&r, 5, &p1, &n1, &p2, &n2), 5,
             "regions: 5 writable from index 6");
    CHECK(p1 == mem + 6 * es, "regions: p1 at slot 6");
    CHECK_EQ(n1, 2, "regions: n1 = 2 up to the end");
    CHECK(p2 == mem, "regions: p2 at the start");
    CHECK_EQ(n2, 3, "regions: n2 = 3");
    fill_frames(p1, es, 200, n1);
    fill_frames(p2, es, 200 + n1, n2);
    CHECK_EQ(ps_ring_read_available(&r), 0, "regions: nothing readable before advance");
    ps_ring_write_advance(&r, 5);
    CHECK_EQ(ps_ring_read_available(&r), 5, "regions: 5 readable after advance");

    CHECK_EQ(ps_ring_write_regions(&r, 100, &p1, &n1, &p2, &n2), 3,
             "regions: request clipped to the 3 free");
    CHECK(p1 == mem + 3 * es && n1 == 3 && p2 == NULL && n2 == 0,
          "regions: one region, slots 3..5");

    CHECK_EQ(ps_ring_read_regions(&r, 100, &p1, &n1, &p2, &n2), 5,
             "regions: 5 readable");
    CHECK(p1 == mem + 6 * es && n1 == 2 && p2 == mem && n2 == 3,
          "regions: read side sees the same two regions");
    CHECK_EQ(bad_frames(p1, es, 200, n1) + bad_frames(p2, es, 200 + n1, n2), 0,
             "regions: contents read in place");
    ps_ring_read_advance(&r, 2);            /* release only the first region */
    CHECK_EQ(ps_ring_read_regions(&r, 100, &p1, &n1, &p2, &n2), 3,
             "regions: 3 left after a partial advance");
    CHECK(p1 == mem && n1 == 3 && p2 == NULL && n2 == 0,
          "regions: now one region at slot 0");
    CHECK(frame_ok(p1, es, 202), "regions: next frame is the right one");
    ps_ring_read_advance(&r, 3);

    /* Exactly at the end: a request that just fits needs no second region. */
    ps_ring_init(&r, mem, es, 8);
    ps_ring_write_regions(&r, 6, &p1, &n1, &p2, &n2);   /* advance only what regions gave */
    ps_ring_write_advance(&r, 6);
    ps_ring_read_regions(&r, 6, &p1, &n1, &p2, &n2);
    ps_ring_read_advance(&r, 6);
    CHECK_EQ(ps_ring_write_regions(&r, 2, &p1, &n1, &p2, &n2), 2,
             "regions: 2 up to the end");
    CHECK(p1 == mem + 6 * es && n1 == 2 && p2 == NULL && n2 == 0,
          "regions: no second region when it just fits");
    ps_ring_write_advance(&r, 2);           /* index 8: masked back to slot 0 */
    CHECK_EQ(ps_ring_write_regions(&r, 8, &p1, &n1, &p2, &n2), 6,
             "regions: 6 free after the end");
    CHECK(p1 == mem && n1 == 6 && p2 == NULL && n2 == 0,
          "regions: from slot 0, one region");

    /* Full ring: zero elements, a valid empty first region, no second. */
    ps_ring_write_advance(&r, 6);
    CHECK_EQ(ps_ring_write_regions(&r, 4, &p1, &n1, &p2, &n2), 0,
             "regions: full ring gives 0");
    CHECK(n1 == 0 && n2 == 0 && p2 == NULL, "regions: sizes 0 when full");
    ps_ring_read_regions(&r, 8, &p1, &n1, &p2, &n2);
    ps_ring_read_advance(&r, 8);
    CHECK_EQ(ps_ring_read_regions(&r, 4, &p1, &n1, &p2, &n2), 0,
             "regions: empty ring gives 0");
    CHECK(n1 == 0 && n2 == 0 && p2 == NULL, "regions: sizes 0 when empty");
}

/* Round trips through a 16-frame ring with sizes that walk the seam across
 * every slot, for one element size. */
static void test_elem_size(size_t es)
{
    ps_ring r;
    uint64_t wnext = 0, rnext = 0;
    size_t bad = 0;

    CHECK_EQ(ps_ring_init(&r, mem, es, 16), 0, "elem %zu: init", es);
    for (size_t round = 0; round < 64; round++) {
        size_t n = 1 + (round * 7) % 16;
        fill_frames(buf, es, wnext, n);
        wnext += ps_ring_write(&r, buf, n);     /* may not all fit */
        /* Leave some behind now and then, so the fill level varies too. */
        size_t want = round % 3 == 0 ? n / 2 : 16;
        memset(buf, 0xee, sizeof buf);
        size_t got = ps_ring_read(&r, buf, want);
        bad += bad_frames(buf, es, rnext, got);
        rnext += got;
    }
    size_t rest = ps_ring_read(&r, buf, 16);
    bad += bad_frames(buf, es, rnext, rest);
    rnext += rest;
    CHECK_EQ(bad, 0, "elem %zu: every frame intact and in order", es);
    CHECK_EQ(rnext, wnext, "elem %zu: read all %llu written", es,
             (unsigned long long)wnext);
}

static void test_discard(void)
{
    ps_ring r;
    ps_ring_init(&r, mem, 12, 8);

    fill_frames(buf, 12, 0, 5);
    ps_ring_write(&r, buf, 5);
    CHECK_EQ(ps_ring_read(&r, NULL, 3), 3, "discard: NULL dst drops 3");
    CHECK_EQ(ps_ring_read_available(&r), 2, "discard: 2 left");
    CHECK_EQ(ps_ring_read(&r, buf, 1), 1, "discard: read 1 after");
    CHECK(frame_ok(buf, 12, 3), "discard: it is frame 3");
    CHECK_EQ(ps_ring_read(&r, NULL, 100), 1, "discard: dropping 100 drops the 1 left");
    CHECK_EQ(ps_ring_read(&r, NULL, 100), 0, "discard: empty gives 0");
}

static void test_reset(void)
{
    ps_ring r;
    void *p1, *p2;
    size_t n1, n2;

    ps_ring_init(&r, mem, 8, 8);
    fill_frames(buf, 8, 0, 8);
    ps_ring_write(&r, buf, 7);
    ps_ring_read(&r, NULL, 2);
    ps_ring_reset(&r);
    CHECK_EQ(ps_ring_read_available(&r), 0, "reset: nothing to read");
    CHECK_EQ(ps_ring_write_available(&r), 8, "reset: all free");
    ps_ring_write_regions(&r, 8, &p1, &n1, &p2, &n2);
    CHECK(p1 == mem && n1 == 8 && n2 == 0, "reset: writing starts at slot 0");
}

/* The indexes are free-running: crossing SIZE_MAX must change nothing. */
static void test_index_overflow(void)
{
    ps_ring r;
    ps_ring_init(&r, mem, 8, 8);
    atomic_store(&r.write_idx, SIZE_MAX - 2);
    atomic_store(&r.read_idx, SIZE_MAX - 2);
    r.read_cache = r.write_cache = SIZE_MAX - 2;   /* as if the sides had met there */

    CHECK_EQ(ps_ring_write_available(&r), 8, "overflow: empty near SIZE_MAX");
    fill_frames(buf, 8, 40, 8);
    CHECK_EQ(ps_ring_write(&r, buf, 8), 8, "overflow: fill across the wrap");
    CHECK_EQ(ps_ring_read_available(&r), 8, "overflow: full after the wrap");
    CHECK_EQ(ps_ring_write_available(&r), 0, "overflow: none free");
    memset(buf, 0, sizeof buf);
    CHECK_EQ(ps_ring_read(&r, buf, 8), 8, "overflow: read all back");
    CHECK_EQ(bad_frames(buf, 8, 40, 8), 0, "overflow: in order");
    CHECK_EQ(atomic_load(&r.read_idx), 5, "overflow: index wrapped to 5");
}

/* Each side caches the other's index: a stale cache must never hide room
 * or data that is there, nor show any that is not. */
static void test_cached_indexes(void)
{
    ps_ring r;
    ps_ring_init(&r, mem, 8, 8);

    fill_frames(buf, 8, 0, 8);
    CHECK_EQ(ps_ring_write(&r, buf, 8), 8, "cache: fill");
    CHECK_EQ(ps_ring_write(&r, buf, 1), 0, "cache: full, nothing more");
    CHECK_EQ(ps_ring_read(&r, buf, 3), 3, "cache: consumer frees 3");
    CHECK_EQ(r.read_cache, 0, "cache: producer has not looked yet");
    CHECK_EQ(ps_ring_write(&r, buf + 3 * 8, 5), 3, "cache: producer sees all 3 freed");
    CHECK_EQ(r.read_cache, 3, "cache: refreshed when short of room");

    CHECK_EQ(ps_ring_read(&r, NULL, 4), 4, "cache: consumer takes 4 of its cached 5");
    CHECK_EQ(r.write_cache, 8, "cache: consumer did not need to look");
    CHECK_EQ(ps_ring_read(&r, buf, 8), 4, "cache: and the 4 it had not seen");
    CHECK_EQ(r.write_cache, 11, "cache: refreshed when short of data");
    CHECK_EQ(bad_frames(buf + 8, 8, 3, 3), 0, "cache: the frames written after the refresh");
    CHECK_EQ(ps_ring_read(&r, buf, 1), 0, "cache: empty now");

    /* Requests the cached room covers do not refresh it. */
    CHECK_EQ(ps_ring_write(&r, buf, 2), 2, "cache: write 2 (refreshes: cached room was 0)");
    CHECK_EQ(r.read_cache, 11, "cache: producer saw the ring empty");
    CHECK_EQ(ps_ring_read(&r, NULL, 2), 2, "cache: consumer takes them");
    CHECK_EQ(ps_ring_write(&r, buf, 2), 2, "cache: write 2 within the cached room of 6");
    CHECK_EQ(r.read_cache, 11, "cache: no refresh for it");
    CHECK_EQ(ps_ring_write_available(&r), 6, "cache: exact free space from the indexes");
}

/* ---- stress: one producer, one consumer, random chunks ---- */

/* xorshift64*: each thread has its own, no shared state. */
static uint64_t rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

typedef struct stress {
    ps_ring ring;
    uint64_t frames;            /* to push through */
    size_t max_chunk;           /* chunk sizes are 1..max_chunk */
    uint64_t seed_w, seed_r;
    unsigned char *scratch_w, *scratch_r;
    uint64_t yields_w, yields_r;
    /* results, written by the consumer */
    uint64_t received, bad, first_bad;
} stress;

/* Up to m elements of regions (p1, n1), (p2, n2): how many lie in each. */
static void take(size_t m, size_t n1, size_t *m1, size_t *m2)
{
    *m1 = m < n1 ? m : n1;
    *m2 = m - *m1;
}

static void *producer(void *arg)
{
    stress *s = arg;
    ps_ring *r = &s->ring;
    size_t es = r->elem_size;
    uint64_t next = 0, seed = s->seed_w;
    unsigned long turn = 0;

    while (next < s->frames) {
        size_t want = 1 + rng(&seed) % s->max_chunk, done;
        if (want > s->frames - next)
            want = s->frames - next;
        if (turn++ & 1) {                   /* copy interface */
            fill_frames(s->scratch_w, es, next, want);
            done = ps_ring_write(r, s->scratch_w, want);
        } else {                            /* zero-copy, sometimes partial */
            void *p1, *p2;
            size_t n1, n2, m1, m2;
            done = ps_ring_write_regions(r, want, &p1, &n1, &p2, &n2);
            if (done > 1 && rng(&seed) % 4 == 0)
                done = 1 + rng(&seed) % done;
            take(done, n1, &m1, &m2);
            fill_frames(p1, es, next, m1);
            fill_frames(p2, es, next + m1, m2);
            ps_ring_write_advance(r, done);
        }
        next += done;
        if (done == 0) {
            s->yields_w++;
            sched_yield();
        }
    }
    return NULL;
}

static void note_bad(stress *s, const unsigned char *p, uint64_t first,
                     size_t n)
{
    size_t es = s->ring.elem_size;
    for (size_t k = 0; k < n; k++)
        if (!frame_ok(p + k * es, es, first + k) && s->bad++ == 0)
            s->first_bad = first + k;
}

static void *consumer(void *arg)
{
    stress *s = arg;
    ps_ring *r = &s->ring;
    uint64_t next = 0, seed = s->seed_r;
    unsigned long turn = 0;

    while (next < s->frames) {
        size_t want = 1 + rng(&seed) % s->max_chunk, done;
        if (turn++ & 1) {                   /* copy interface */
            done = ps_ring_read(r, s->scratch_r, want);
            note_bad(s, s->scratch_r, next, done);
        } else {                            /* zero-copy, sometimes partial */
            void *p1, *p2;
            size_t n1, n2, m1, m2;
            done = ps_ring_read_regions(r, want, &p1, &n1, &p2, &n2);
            if (done > 1 && rng(&seed) % 4 == 0)
                done = 1 + rng(&seed) % done;
            take(done, n1, &m1, &m2);
            note_bad(s, p1, next, m1);
            note_bad(s, p2, next + m1, m2);
            ps_ring_read_advance(r, done);
        }
        next += done;
        if (done == 0) {
            s->yields_r++;
            sched_yield();
        }
    }
    s->received = next;
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_stress(size_t es, size_t capacity, size_t max_chunk,
                        uint64_t frames, uint64_t seed)
{
    stress s = {0};
    void *ringmem = malloc(ps_ring_bytes(es, capacity));
    s.scratch_w = malloc(es * max_chunk);
    s.scratch_r = malloc(es * max_chunk);
    if (!ringmem || !s.scratch_w || !s.scratch_r) {
        CHECK(0, "stress: out of memory");
        return;
    }
    ps_ring_init(&s.ring, ringmem, es, capacity);
    s.frames = frames;
    s.max_chunk = max_chunk;
    s.seed_w = seed * 2 + 1;                /* xorshift seeds must be nonzero */
    s.seed_r = seed * 2 + 2;

    pthread_t tw, tr;
    double t0 = now();
    int e = pthread_create(&tr, NULL, consumer, &s);
    e = e ? e : pthread_create(&tw, NULL, producer, &s);
    if (e) {
        CHECK(0, "stress: pthread_create failed (%d)", e);
        exit(1);
    }
    pthread_join(tw, NULL);
    pthread_join(tr, NULL);
    double dt = now() - t0;

    printf("# stress elem %zu, ring %zu, chunks 1..%zu, seed %llu: "
           "%llu frames in %.2f s (%.1f Mframes/s), yields w %llu r %llu\n",
           es, capacity, max_chunk, (unsigned long long)seed,
           (unsigned long long)frames, dt, (double)frames / dt / 1e6,
           (unsigned long long)s.yields_w, (unsigned long long)s.yields_r);
    CHECK_EQ(s.received, frames, "stress elem %zu: every frame arrived", es);
    CHECK_EQ(s.bad, 0, "stress elem %zu: no bad frame (first bad index: %lld)",
             es, s.bad ? (long long)s.first_bad : -1ll);
    CHECK_EQ(ps_ring_read_available(&s.ring), 0, "stress elem %zu: drained", es);
    free(ringmem);
    free(s.scratch_w);
    free(s.scratch_r);
}

/* Advancing past what the regions gave is a caller's bug; on the callback
 * path it must not abort the process (it was an assert()): it is clamped
 * to the room or data there was, and the ring stays consistent. */
static void test_advance_clamped(void)
{
    unsigned char mem[16 * 4];
    ps_ring r;
    void *p1, *p2;
    size_t n1, n2;
    ps_ring_init(&r, mem, 4, 16);
    ps_ring_write_regions(&r, 10, &p1, &n1, &p2, &n2);
    ps_ring_write_advance(&r, 10);
    ps_ring_write_advance(&r, 100);      /* 6 elements of room */
    CHECK_EQ(ps_ring_read_available(&r), 16, "advance: a write past the room is clamped to it");
    CHECK_EQ(ps_ring_write_available(&r), 0, "advance: and the ring is full, not wrapped");
    ps_ring_read_regions(&r, 16, &p1, &n1, &p2, &n2);
    ps_ring_read_advance(&r, 1000);
    CHECK_EQ(ps_ring_read_available(&r), 0, "advance: a read past the data is clamped to it");
    CHECK_EQ(ps_ring_write_available(&r), 16, "advance: and the ring is empty");
}

int main(int argc, char **argv)
{
    const char *env = getenv("PS_RING_FRAMES");
    uint64_t frames = argc > 1 ? strtoull(argv[1], NULL, 0)
                    : env ? strtoull(env, NULL, 0) : 100000000ull;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;

    /* A lost wake-up or a miscount would hang the stress test: fail instead. */
    alarm((unsigned)(120 + frames / 500000));

    test_bytes_and_init();
    test_empty_full();
    test_wrap_copy();
    test_wrap_regions();
    test_elem_size(1);
    test_elem_size(3);
    test_elem_size(8);
    test_elem_size(12);
    test_discard();
    test_reset();
    test_index_overflow();
    test_cached_indexes();
    test_advance_clamped();

    /* The main run: uint64 counter frames through a 1024-frame ring. */
    test_stress(8, 1024, 1024, frames, seed);
    /* Odd sizes: int24 mono with chunks bigger than the ring (clipping),
     * and 12-byte frames through a tiny ring (constant wrapping). */
    test_stress(3, 256, 300, frames / 10, seed + 1);
    test_stress(12, 16, 16, frames / 100, seed + 2);
    return CHECK_DONE();
}
