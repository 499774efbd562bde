/* Ring buffer throughput: ours (src/ringbuf.c, the object the Makefile
 * builds) against JACK's jack_ringbuffer and against a single-thread memcpy
 * of the same bytes.
 *
 *   bench_ring [ROUNDS [MIB_PER_RUN]]
 *
 * For every ring size (16 KiB, 64 KiB, 1 MiB) and chunk size (256 B, 1 KiB,
 * 8 KiB), a producer thread streams MIB_PER_RUN MiB from a source buffer into
 * the ring in chunks, and a consumer thread reads them out, chunk by chunk,
 * into a destination buffer of the same size (2 MiB each, so the data comes
 * from and goes to memory the way an audio stream's would).  Both sides use
 * the plain copying calls (ps_ring_write/ps_ring_read,
 * jack_ringbuffer_write/jack_ringbuffer_read), take what fits, and spin
 * (pause, then sched_yield) when the ring is full or empty: one policy for
 * both rings.  Our ring counts elements: 8-byte elements here (a stereo
 * float32 frame), so every chunk is whole frames.  The threads are pinned to
 * two different CPUs when there are two.  memcpy copies the same chunks from
 * the source buffer to the destination buffer on one thread.
 *
 * Contenders alternate within each round (ours, jack, memcpy, then the next
 * round), ROUNDS rounds; every run is checked (destination == source).
 * Output: one TSV line per configuration and contender with the median
 * throughput in GB/s (10^9 bytes/s) over the rounds:
 *   ring <ring_bytes> <chunk_bytes> <ours|jack|memcpy> <GB/s> <min> <max>
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <jack/ringbuffer.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringbuf.h"

#define ELEM 8                        /* bytes per element of our ring */
#define BUFBYTES (2u << 20)           /* source and destination buffers */

enum { OURS, JACK, MEMCPY, NKINDS };
static const char *kind_name[NKINDS] = { "ours", "jack", "memcpy" };

static unsigned char *src, *dst;

typedef struct job {
    int kind;
    size_t chunk, total;
    ps_ring *ours;
    jack_ringbuffer_t *jack;
    atomic_int go;
    int cpu_prod, cpu_cons;
} job;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void relax(unsigned *spins)
{
    if (++*spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        *spins = 0;
        sched_yield();
    }
}

static void pin(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *producer(void *arg)
{
    job *j = arg;
    pin(j->cpu_prod);
    while (!atomic_load(&j->go))
        ;
    size_t pos = 0;                       /* bytes written */
    unsigned spins = 0;
    while (pos < j->total) {
        size_t at = pos % BUFBYTES, want = j->chunk - (pos % j->chunk), got;
        if (j->kind == OURS)
            got = ps_ring_write(j->ours, src + at, want / ELEM) * ELEM;
        else
            got = jack_ringbuffer_write(j->jack, (const char *)src + at, want);
        if (got)
            pos += got, spins = 0;
        else
            relax(&spins);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    job *j = arg;
    pin(j->cpu_cons);
    while (!atomic_load(&j->go))
        ;
    size_t pos = 0;
    unsigned spins = 0;
    while (pos < j->total) {
        size_t at = pos % BUFBYTES, want = j->chunk - (pos % j->chunk), got;
        if (j->kind == OURS)
            got = ps_ring_read(j->ours, dst + at, want / ELEM) * ELEM;
        else
            got = jack_ringbuffer_read(j->jack, (char *)dst + at, want);
        if (got)
            pos += got, spins = 0;
        else
            relax(&spins);
    }
    return NULL;
}

/* One timed run; returns GB/s, or -1 on a check failure. */
static double run(int kind, size_t ring_bytes, size_t chunk, size_t total, int cpus[2])
{
    memset(dst, 0, BUFBYTES);
    double t0, t1;
    if (kind == MEMCPY) {
        pin(cpus[0]);
        t0 = now();
        for (size_t pos = 0; pos < total; pos += chunk) {
            size_t at = pos % BUFBYTES;
            memcpy(dst + at, src + at, chunk);
        }
        t1 = now();
        __asm__ volatile("" ::: "memory");
    } else {
        job j = { .kind = kind, .chunk = chunk, .total = total,
                  .cpu_prod = cpus[0], .cpu_cons = cpus[1] };
        void *mem = NULL;
        ps_ring ring;
        if (kind == OURS) {
            mem = malloc(ring_bytes);
            if (ps_ring_init(&ring, mem, ELEM, ring_bytes / ELEM) != 0) {
                fprintf(stderr, "ps_ring_init failed\n");
                exit(1);
            }
            j.ours = &ring;
        } else {
            j.jack = jack_ringbuffer_create(ring_bytes);
            if (!j.jack) {
                fprintf(stderr, "jack_ringbuffer_create failed\n");
                exit(1);
            }
            memset(j.jack->buf, 0, j.jack->size);   /* touch it, as ps_ring_init does */
        }
        atomic_init(&j.go, 0);
        pthread_t tp, tc;
        pthread_create(&tc, NULL, consumer, &j);
        pthread_create(&tp, NULL, producer, &j);
        struct timespec ms = { 0, 2000000 };
        nanosleep(&ms, NULL);                       /* both threads up and pinned */
        t0 = now();
        atomic_store(&j.go, 1);
        pthread_join(tp, NULL);
        pthread_join(tc, NULL);
        t1 = now();
        if (kind == OURS)
            free(mem);
        else
            jack_ringbuffer_free(j.jack);
    }
    if (memcmp(src, dst, BUFBYTES) != 0) {
        fprintf(stderr, "%s ring %zu chunk %zu: destination differs from source\n",
                kind_name[kind], ring_bytes, chunk);
        return -1;
    }
    return (double)total / (t1 - t0) / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 128;
    if (rounds < 1) rounds = 1;
    size_t total = mib << 20;                       /* a multiple of BUFBYTES and every chunk */
    if (total < BUFBYTES) total = BUFBYTES;
    total -= total % BUFBYTES;

    src = aligned_alloc(64, BUFBYTES);
    dst = aligned_alloc(64, BUFBYTES);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < BUFBYTES; i += 8) {      /* xorshift: no pattern to compress or guess */
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memcpy(src + i, &x, 8);
    }

    /* Two distinct CPUs for producer and consumer, if this process may use two. */
    int cpus[2] = { -1, -1 }, n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
            if (CPU_ISSET(c, &set))
                cpus[n++] = c;
    if (n < 2)
        cpus[0] = cpus[1] = -1;

    static const size_t rings[] = { 16 << 10, 64 << 10, 1 << 20 };
    static const size_t chunks[] = { 256, 1 << 10, 8 << 10 };
    int fail = 0;
    for (size_t ri = 0; ri < 3; ri++)
        for (size_t ci = 0; ci < 3; ci++) {
            double v[NKINDS][64];
            if (rounds > 64) rounds = 64;
            for (int r = 0; r < rounds; r++)
                for (int k0 = 0; k0 < NKINDS; k0++) {
                    int k = (k0 + r) % NKINDS;      /* rotate who goes first */
                    v[k][r] = run(k, rings[ri], chunks[ci], total, cpus);
                    if (v[k][r] < 0) fail = 1;
                }
            for (int k = 0; k < NKINDS; k++) {
                qsort(v[k], (size_t)rounds, sizeof v[k][0], cmp_double);
                double med = rounds % 2 ? v[k][rounds / 2]
                                        : (v[k][rounds / 2 - 1] + v[k][rounds / 2]) / 2;
                printf("ring\t%zu\t%zu\t%s\t%.3f\t%.3f\t%.3f\n", rings[ri], chunks[ci],
                       kind_name[k], med, v[k][0], v[k][rounds - 1]);
            }
            fflush(stdout);
        }
    free(src);
    free(dst);
    return fail;
}
