/* Callback cost: nanoseconds per frame of ps_engine_callback (the object
 * the Makefile builds) for a stereo float32 duplex stream that plays from a
 * transmit ring and records into a receive ring, as stream:chunks with
 * playback or a file playrec runs it, against a plain memcpy of the same
 * bytes.
 *
 *   bench_callback [ROUNDS]
 *
 * Contenders, alternated within every round:
 *   memcpy    per block: memcpy(out, tx ring memory, B frames) and
 *             memcpy(rx ring memory, in, B frames), walking through the same
 *             ring memory the engine uses
 *   identity  the callback, identity channel maps (a memcpy per direction)
 *   mapped    the callback with both maps swapped ("2 1" each way)
 * for block sizes B = 256 and 1024 frames.  Rings of 65536 frames (the
 * default buffersize).  Per batch, untimed: the transmit ring is filled and
 * the receive ring drained; timed: the 65536/B callbacks that empty the one
 * and fill the other.  One wake-up is attached and never cleared, so the
 * callbacks pay the coalescing flag but not the eventfd write a reader
 * triggers once per wake-up (about one syscall per callback at most).
 *
 * Output: callback <B> <memcpy|identity|mapped> <median ns/frame> <min> <max>
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

#define CH 2
#define FB (CH * 4)          /* bytes per frame */
#define CAP 65536            /* ring frames */
#define BATCHES 256

enum { MEMCPY, IDENTITY, MAPPED, NKINDS };
static const char *kind_name[NKINDS] = { "memcpy", "identity", "mapped" };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct bench {
    ps_engine e;
    ps_ring tx, rx;
    unsigned char *txmem, *rxmem, *srcbuf, *in, *out;
    ps_wake wake;
} bench;

static void configure(bench *b, int mapped)
{
    static const int swap[2] = { 2, 1 };
    ps_engine_init(&b->e);
    if (ps_engine_set_input(&b->e, CH, PS_FLOAT32) || ps_engine_set_output(&b->e, CH, PS_FLOAT32) ||
        ps_engine_set_rxmap(&b->e, CH, mapped ? swap : NULL) ||
        ps_engine_set_txmap(&b->e, CH, mapped ? swap : NULL)) {
        fprintf(stderr, "engine configuration failed\n");
        exit(1);
    }
    if (b->e.rx_identity == mapped || b->e.tx_identity == mapped) {
        fprintf(stderr, "unexpected identity flags\n");
        exit(1);
    }
    b->e.frames = -1;                  /* runs forever */
    b->e.txring = &b->tx;
    b->e.rxring = &b->rx;
    b->e.wake[0] = &b->wake;
    ps_ring_reset(&b->tx);
    ps_ring_reset(&b->rx);
    atomic_store(&b->e.tx_eof, false);
    ps_engine_arm(&b->e);
}

/* Untimed: fill the tx ring, empty the rx ring. */
static void refill(bench *b)
{
    size_t w = ps_ring_write_available(&b->tx);
    ps_ring_write(&b->tx, b->srcbuf, w);
    ps_ring_read(&b->rx, NULL, ps_ring_read_available(&b->rx));
}

/* ns per frame of one measurement. */
static double measure(bench *b, int kind, size_t B)
{
    size_t calls = CAP / B;
    double t = 0;
    if (kind != MEMCPY)
        configure(b, kind == MAPPED);
    for (int batch = 0; batch < BATCHES; batch++) {
        size_t pos = 0;
        refill(b);
        double t0 = now();
        if (kind == MEMCPY) {
            for (size_t i = 0; i < calls; i++, pos += B * FB) {
                memcpy(b->out, b->txmem + pos, B * FB);
                memcpy(b->rxmem + pos, b->in, B * FB);
            }
        } else {
            for (size_t i = 0; i < calls; i++)
                if (ps_engine_callback(b->in, b->out, B, NULL, 0, &b->e) != paContinue) {
                    fprintf(stderr, "callback ended: %s\n",
                            ps_status_name((ps_status)atomic_load(&b->e.status)));
                    exit(1);
                }
        }
        t += now() - t0;
        __asm__ volatile("" ::: "memory");
    }
    if (kind != MEMCPY) {
        /* the engine really moved every frame */
        long long want = (long long)BATCHES * CAP;
        if (atomic_load(&b->e.tx_frames) != want || atomic_load(&b->e.rx_frames) != want) {
            fprintf(stderr, "frame counts wrong\n");
            exit(1);
        }
    }
    return t * 1e9 / ((double)BATCHES * CAP);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 11;
    if (rounds < 1) rounds = 1;
    if (rounds > 101) rounds = 101;
    bench b;
    memset(&b, 0, sizeof b);
    b.txmem = aligned_alloc(64, CAP * FB);
    b.rxmem = aligned_alloc(64, CAP * FB);
    b.srcbuf = aligned_alloc(64, CAP * FB);
    b.in = aligned_alloc(64, 4096 * FB);
    b.out = aligned_alloc(64, 4096 * FB);
    for (size_t i = 0; i < CAP * CH; i++)
        ((float *)(void *)b.srcbuf)[i] = (float)(i % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < 4096 * CH; i++)
        ((float *)(void *)b.in)[i] = (float)(i % 777) / 777.0f - 0.5f;
    memset(b.out, 0, 4096 * FB);
    ps_ring_init(&b.tx, b.txmem, FB, CAP);
    ps_ring_init(&b.rx, b.rxmem, FB, CAP);
    if (ps_wake_open(&b.wake) != 0) {
        fprintf(stderr, "eventfd failed\n");
        return 1;
    }

    static const size_t blocks[] = { 256, 1024 };
    for (size_t bi = 0; bi < 2; bi++) {
        double v[NKINDS][101];
        for (int k = 0; k < NKINDS; k++)       /* warm up */
            measure(&b, k, blocks[bi]);
        for (int r = 0; r < rounds; r++)
            for (int k0 = 0; k0 < NKINDS; k0++) {
                int k = (k0 + r) % NKINDS;
                v[k][r] = measure(&b, k, blocks[bi]);
            }
        for (int k = 0; k < NKINDS; k++) {
            qsort(v[k], (size_t)rounds, sizeof v[k][0], cmp_double);
            printf("callback\t%zu\t%s\t%.4f\t%.4f\t%.4f\n", blocks[bi], kind_name[k],
                   v[k][rounds / 2], v[k][0], v[k][rounds - 1]);
        }
    }
    ps_wake_close(&b.wake);
    return 0;
}
