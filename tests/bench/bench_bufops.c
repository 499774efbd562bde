/* The common Buffer operations as plain C loops over an interleaved stereo
 * float32 block: the reference for tests/bench/bufops.lua, which times the
 * same operations through pastream's Lua Buffer methods.
 *
 *   bench_bufops [FRAMES [REPEATS]]
 *
 * Operations (per call, over every sample of a FRAMES x 2 block):
 *   gain  d[i] *= g                 (alternately 0.5 and 2: values stay put)
 *   peak  max |x| per channel
 *   rms   sqrt(mean x^2) per channel, double accumulators (as Buffer:rms)
 *   add   d[i] += g * o[i]          (alternately +0.5 and -0.5)
 * Output: bufop <op> c <ns per sample> (best of 3 timings of REPEATS calls). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CH 2

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static volatile double sink;

__attribute__((noinline)) static void gain(float *d, size_t n, float g)
{
    for (size_t i = 0; i < n; i++)
        d[i] *= g;
}

__attribute__((noinline)) static void add(float *d, const float *o, size_t n, float g)
{
    for (size_t i = 0; i < n; i++)
        d[i] += g * o[i];
}

__attribute__((noinline)) static void peak(const float *d, size_t frames, double *out)
{
    float m[CH] = { 0 };
    for (size_t f = 0; f < frames; f++)
        for (int c = 0; c < CH; c++) {
            float v = fabsf(d[f * CH + c]);
            if (v > m[c]) m[c] = v;
        }
    for (int c = 0; c < CH; c++)
        out[c] = m[c];
}

__attribute__((noinline)) static void rms(const float *d, size_t frames, double *out)
{
    double acc[CH] = { 0 };
    for (size_t f = 0; f < frames; f++)
        for (int c = 0; c < CH; c++) {
            double v = d[f * CH + c];
            acc[c] += v * v;
        }
    for (int c = 0; c < CH; c++)
        out[c] = sqrt(acc[c] / (double)frames);
}

int main(int argc, char **argv)
{
    size_t frames = argc > 1 ? (size_t)atol(argv[1]) : 48000;
    int reps = argc > 2 ? atoi(argv[2]) : 500;
    size_t n = frames * CH;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        a[i] = (float)sin((double)i * 0.001) * 0.5f;
        b[i] = (float)cos((double)i * 0.0007) * 0.25f;
    }
    static const char *names[] = { "gain", "peak", "rms", "add" };
    for (int op = 0; op < 4; op++) {
        double best = 1e30, r[CH];
        for (int t = 0; t < 3; t++) {
            double t0 = now();
            for (int k = 0; k < reps; k++) {
                switch (op) {
                case 0: gain(a, n, (k & 1) ? 2.0f : 0.5f); break;
                case 1: peak(a, frames, r); sink += r[0] + r[1]; break;
                case 2: rms(a, frames, r); sink += r[0] + r[1]; break;
                case 3: add(a, b, n, (k & 1) ? -0.5f : 0.5f); break;
                }
            }
            double dt = now() - t0;
            if (dt < best) best = dt;
        }
        sink += a[n / 2];
        printf("bufop\t%s\tc\t%.4f\n", names[op], best * 1e9 / ((double)reps * (double)n));
    }
    free(a);
    free(b);
    return 0;
}
