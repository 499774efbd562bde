/* Copying interleaved frames through a channel map (copy.c): the generic
 * strided copy, a plan chosen once per map, and bit-exact copy kernels per
 * instruction set.  The engine chooses the plan and kernel when a run is
 * armed and the callback only calls them.  Never includes a Lua header. */
#ifndef PS_COPY_H
#define PS_COPY_H

#include <stdbool.h>
#include <stddef.h>

/* Whether map (n entries, 1-based) copies src_ch channels unchanged:
 * n == src_ch and map[k] == k + 1. */
bool ps_copy_is_identity(const int *map, int n, int src_ch);

/* How a channel map copies, chosen once when the map is set (never in the
 * callback): a plain memcpy, a fixed stereo shuffle, or the generic
 * per-channel strided copy. */
typedef enum {
    PS_COPY_IDENTITY,       /* same layout: memcpy */
    PS_COPY_GENERIC,        /* any map: ps_copy_mapped */
    PS_COPY_SWAP2,          /* stereo 32-bit "2 1" */
    PS_COPY_LEFT2,          /* stereo 32-bit "1 1" */
    PS_COPY_RIGHT2,         /* stereo 32-bit "2 2" */
    PS_COPY_MUTE_LEFT2,     /* stereo 32-bit "0 2", silence 0 */
    PS_COPY_MUTE_RIGHT2,    /* stereo 32-bit "1 0", silence 0 */
    PS_NCOPY
} ps_copy_kind;

/* A copy kernel: n 32-bit words from src to dst (n * 4 bytes), any
 * alignment, no overlap; for the stereo kinds n is even (two per frame). */
typedef void (*ps_copy_fn)(unsigned char *dst, const unsigned char *src, size_t n);

/* The instruction sets the copy kernels have versions for, in order. */
enum { PS_ISA_C, PS_ISA_SSE2, PS_ISA_AVX2, PS_ISA_AVX512, PS_NISA };

/* Copy nframes interleaved frames, mapping channels: dst channel k gets src
 * channel map[k] (1-based), or silence for 0.  src NULL gives silence. */
void ps_copy_mapped(unsigned char *dst, int dst_ch, const unsigned char *src,
                    int src_ch, const int *map, size_t ss, unsigned char silence,
                    size_t nframes);

/* The fastest way to copy through `map` (dst_ch entries) with these
 * channel counts, sample size and silence byte.  Returns the kind. */
ps_copy_kind ps_copy_plan(int dst_ch, int src_ch, const int *map, size_t ss,
                          unsigned char silence);

/* The kernel for `kind` with frames of frame_bytes (destination) bytes, in
 * the instruction set ps_copy_isa() names; it copies nframes * frame_bytes / 4
 * words.  NULL when there is none: always for PS_COPY_GENERIC
 * (ps_copy_mapped) and for frames that are not whole 32-bit words; for
 * PS_COPY_IDENTITY below AVX2 (memcpy).  Setting a map calls this once and
 * the engine keeps the result: the callback never dispatches. */
ps_copy_fn ps_copy_kernel(ps_copy_kind kind, size_t frame_bytes);

/* PS_ISA_*: the best set this CPU (and OS) runs, detected once; the set
 * kernels come from: the best, capped at PS_ISA_AVX2 by default (AVX-512
 * was no faster: tests/bench/NOTES.md); and for tests and benchmarks, set that
 * cap (an out-of-range one restores the default) for kernels asked for
 * afterwards: a map set before keeps its kernel.  Returns the set now in
 * use. */
int ps_copy_isa_best(void);
int ps_copy_isa(void);
int ps_copy_set_isa(int cap);

/* ps_copy_mapped's result, the way `kind` (from ps_copy_plan with the same
 * arguments) says.  Any alignment.  Returns nothing. */
void ps_copy_planned(ps_copy_kind kind, unsigned char *dst, int dst_ch,
                     const unsigned char *src, int src_ch, const int *map,
                     size_t ss, unsigned char silence, size_t nframes);

#endif
