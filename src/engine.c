#include "engine.h"

#include <string.h>

#define RLX memory_order_relaxed

/* Counters only the callback writes (the others only read them, and
 * ps_engine_arm resets them while no callback runs): a relaxed load and
 * store, not an atomic add.  On x86 an add is a locked instruction, a full
 * barrier that waits until the block's copied bytes have left the store
 * buffer: a few ns a callback, measured. */
static inline void bump64(_Atomic int64_t *c, int64_t k)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RLX) + k, RLX);
}

static inline void bump32(_Atomic uint32_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RLX) + 1, RLX);
}

static void set_identity(int *map, int n)
{
    for (int k = 0; k < PS_MAXCH; k++)
        map[k] = k < n ? k + 1 : 0;
}

void ps_engine_init(ps_engine *e)
{
    memset(e, 0, sizeof *e);
    e->in_format = e->out_format = PS_FLOAT32;
    e->in_ss = e->out_ss = 4;
    e->frames = -1;
    set_identity(e->rxmap, PS_MAXCH);
    set_identity(e->txmap, PS_MAXCH);
    e->rx_identity = e->tx_identity = true;
    e->rx_plan = e->tx_plan = PS_COPY_IDENTITY;
    ps_engine_arm(e);
}

static bool is_identity(const int *map, int n, int src_ch)
{
    if (n != src_ch)
        return false;
    for (int k = 0; k < n; k++)
        if (map[k] != k + 1)
            return false;
    return true;
}

int ps_engine_set_input(ps_engine *e, int channels, ps_format f)
{
    if (channels < 0 || channels > PS_MAXCH || f >= PS_NFORMATS)
        return -1;
    e->in_channels = channels;
    e->in_format = f;
    e->in_ss = ps_format_size(f);
    return ps_engine_set_rxmap(e, channels, NULL);
}

int ps_engine_set_output(ps_engine *e, int channels, ps_format f)
{
    if (channels < 0 || channels > PS_MAXCH || f >= PS_NFORMATS)
        return -1;
    e->out_channels = channels;
    e->out_format = f;
    e->out_ss = ps_format_size(f);
    return ps_engine_set_txmap(e, channels, NULL);
}

int ps_engine_set_rxmap(ps_engine *e, int rx_channels, const int *map)
{
    if (rx_channels < 0 || rx_channels > PS_MAXCH)
        return -1;
    if (map) {
        for (int k = 0; k < rx_channels; k++)
            if (map[k] < 0 || map[k] > e->in_channels)
                return -1;
        memcpy(e->rxmap, map, sizeof(int) * (size_t)rx_channels);
    } else
        set_identity(e->rxmap, rx_channels);
    e->rx_channels = rx_channels;
    e->rx_identity = is_identity(e->rxmap, rx_channels, e->in_channels);
    e->rx_plan = ps_copy_plan(rx_channels, e->in_channels, e->rxmap, e->in_ss,
                              ps_sample_silence(e->in_format));
    e->rx_fn = ps_copy_kernel(e->rx_plan, (size_t)rx_channels * e->in_ss);
    return 0;
}

int ps_engine_set_txmap(ps_engine *e, int tx_channels, const int *map)
{
    if (tx_channels < 0 || tx_channels > PS_MAXCH)
        return -1;
    if (map) {
        for (int k = 0; k < e->out_channels; k++)
            if (map[k] < 0 || map[k] > tx_channels)
                return -1;
        memcpy(e->txmap, map, sizeof(int) * (size_t)e->out_channels);
    } else
        set_identity(e->txmap, tx_channels < e->out_channels ? tx_channels : e->out_channels);
    e->tx_channels = tx_channels;
    e->tx_identity = is_identity(e->txmap, e->out_channels, tx_channels);
    e->tx_plan = ps_copy_plan(e->out_channels, tx_channels, e->txmap, e->out_ss,
                              ps_sample_silence(e->out_format));
    e->tx_fn = ps_copy_kernel(e->tx_plan, (size_t)e->out_channels * e->out_ss);
    return 0;
}

void ps_engine_arm(ps_engine *e)
{
    e->phase = PS_PHASE_SOURCE;
    e->txbuf_pos = 0;
    e->rxbuf_pos = 0;
    e->pad_left = e->pad;
    e->offset_left = e->offset > 0 ? e->offset : 0;
    e->gap.pos = e->gap.count = 0;
    e->disk_pending = 0;
    /* tx_eof is the producer's: it may already have written everything
     * while prebuffering, so it is reset with the ring, not here. */
    atomic_store(&e->frame_count, 0);
    atomic_store(&e->tx_frames, 0);
    atomic_store(&e->rx_frames, 0);
    atomic_store(&e->tx_lost, 0);
    atomic_store(&e->rx_lost, 0);
    for (int i = 0; i < PS_NXRUN; i++)
        atomic_store(&e->xruns[i], 0);
    atomic_store(&e->status, PS_RUNNING);
    atomic_store(&e->status_frame, 0);
    atomic_store(&e->ending, 0);
    for (int i = 0; i < PS_MAXCH; i++) {
        atomic_store(&e->in_peak[i], 0);
        atomic_store(&e->out_peak[i], 0);
        atomic_store(&e->in_clips[i], 0);
        atomic_store(&e->out_clips[i], 0);
    }
    atomic_store(&e->finished, false);
}

const char *ps_status_name(ps_status st)
{
    switch (st) {
    case PS_RUNNING:      return "running";
    case PS_COMPLETE:     return "complete";
    case PS_BUFFER_EMPTY: return "BufferEmpty";
    case PS_BUFFER_FULL:  return "BufferFull";
    case PS_XRUN:         return "XRun";
    case PS_STOPPED:      return "stopped";
    case PS_DEVICE_ERROR: return "DeviceError";
    }
    return "unknown";
}

/* ---- copying ---------------------------------------------------------- */

/* The generic mapped copy, specialised by sample size so the inner loop is
 * a plain strided load/store.  Channel outer, frames inner: the map entry
 * is looked up once per channel and block, not once per sample. */
#define COPY_MAPPED(T)                                                      \
    do {                                                                    \
        T *d = (T *)(void *)dst;                                            \
        const T *s = (const T *)(const void *)src;                          \
        for (int k = 0; k < dst_ch; k++) {                                  \
            if (map[k]) {                                                   \
                const T *sk = s + (map[k] - 1);                             \
                for (size_t i = 0; i < nframes; i++)                        \
                    d[i * (size_t)dst_ch + (size_t)k] = sk[i * (size_t)src_ch]; \
            } else {                                                        \
                for (size_t i = 0; i < nframes; i++)                        \
                    d[i * (size_t)dst_ch + (size_t)k] = (T)0;               \
            }                                                               \
        }                                                                   \
    } while (0)

void ps_copy_mapped(unsigned char *dst, int dst_ch, const unsigned char *src,
                    int src_ch, const int *map, size_t ss, unsigned char silence,
                    size_t nframes)
{
    if (!src) {
        memset(dst, silence, nframes * (size_t)dst_ch * ss);
        return;
    }
    if (silence == 0 && ((uintptr_t)dst | (uintptr_t)src) % ss == 0) {
        switch (ss) {
        case 4: COPY_MAPPED(uint32_t); return;
        case 2: COPY_MAPPED(uint16_t); return;
        case 1: COPY_MAPPED(uint8_t); return;
        default: break;
        }
    }
    size_t dfb = (size_t)dst_ch * ss, sfb = (size_t)src_ch * ss;
    for (int k = 0; k < dst_ch; k++) {
        unsigned char *d = dst + (size_t)k * ss;
        if (map[k]) {
            const unsigned char *s = src + (size_t)(map[k] - 1) * ss;
            for (size_t i = 0; i < nframes; i++, d += dfb, s += sfb)
                memcpy(d, s, ss);
        } else {
            for (size_t i = 0; i < nframes; i++, d += dfb)
                memset(d, silence, ss);
        }
    }
}

ps_copy_kind ps_copy_plan(int dst_ch, int src_ch, const int *map, size_t ss,
                          unsigned char silence)
{
    if (is_identity(map, dst_ch, src_ch))
        return PS_COPY_IDENTITY;
    /* Stereo to stereo with 32-bit samples (float32, int32): the layouts
     * that mapping options produce most, each a fixed shuffle per frame. */
    if (dst_ch == 2 && src_ch == 2 && ss == 4) {
        int a = map[0], b = map[1];
        if (a == 2 && b == 1) return PS_COPY_SWAP2;
        if (a == 1 && b == 1) return PS_COPY_LEFT2;
        if (a == 2 && b == 2) return PS_COPY_RIGHT2;
        if (silence == 0 && a == 0 && b == 2) return PS_COPY_MUTE_LEFT2;
        if (silence == 0 && a == 1 && b == 0) return PS_COPY_MUTE_RIGHT2;
    }
    return PS_COPY_GENERIC;
}

/* ---- the copy kernels ----------------------------------------------------
 *
 * One function per planned kind and instruction set, all of the same shape
 * (ps_copy_fn): n 32-bit words from s to d, any alignment, no overlap, a
 * multiple of two words (a stereo frame) for the stereo kinds.  They are
 * bit-exact: shuffles and masks, never arithmetic on the samples.  A kernel
 * is chosen once, when a map is set, and the engine keeps it, so the
 * callback pays one indirect call and no dispatch.  Within a kernel there is
 * no branch per frame: four vectors a step, then single vectors, then the
 * rest.  AVX2 and AVX-512 store a first vector at d and go on from the
 * next vector-sized boundary of d, so that no later store straddles a cache
 * line; the rest is one masked step (AVX-512) or a last vector that ends
 * at the end (AVX2); the overlapping stores write the same values twice.
 * SSE2 and C end with a single frame.  Below AVX2 an identity copy is
 * memcpy (one call; the vector kernels beat it for the callback's sizes).
 *
 * Measured (tests/bench/bench_callback, the callback with both maps "2 1",
 * stereo float32 duplex, 256-frame blocks, AMD Zen 4): the SSE2 loop these
 * replace 0.69 ns/frame; the C kernels 0.66, SSE2 0.34, AVX2 0.24,
 * AVX-512 0.25; a plain memcpy of the same bytes 0.19. */

/* 32-bit sample access through memcpy: any alignment, and one plain move
 * once compiled. */
static inline uint32_t ld32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void st32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Portable C: a frame at a time, the kind fixed per function. */
#define C_KERNEL(name, L, R)                                                \
    static void name(unsigned char *d, const unsigned char *s, size_t n)   \
    {                                                                       \
        for (size_t f = n / 2; f; f--, d += 8, s += 8) {                    \
            uint32_t l = ld32(s), r = ld32(s + 4);                          \
            (void)l; (void)r;                                               \
            st32(d, L);                                                     \
            st32(d + 4, R);                                                 \
        }                                                                   \
    }
C_KERNEL(c_swap2, r, l)
C_KERNEL(c_left2, l, l)
C_KERNEL(c_right2, r, r)
C_KERNEL(c_mute_left2, 0, r)
C_KERNEL(c_mute_right2, l, 0)

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
#define PS_X86 1
#include <immintrin.h>

/* Lane patterns (pshufd immediates; lane 0 is the first sample in memory). */
#define SH_SWAP  _MM_SHUFFLE(2, 3, 0, 1)
#define SH_LEFT  _MM_SHUFFLE(2, 2, 0, 0)
#define SH_RIGHT _MM_SHUFFLE(3, 3, 1, 1)

#define LD128(p)     _mm_loadu_si128((const __m128i *)(const void *)(p))
#define ST128(p, v)  _mm_storeu_si128((__m128i *)(void *)(p), v)
#define LD256(p)     _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define ST256(p, v)  _mm256_storeu_si256((__m256i *)(void *)(p), v)

/* SSE2: 4 words (two frames) a vector; the odd frame at the end is a
 * 64-bit step. */
#define SSE2_KERNEL(name, OP)                                               \
    static void name(unsigned char *d, const unsigned char *s, size_t n)   \
    {                                                                       \
        size_t i = 0;                                                       \
        for (; i + 16 <= n; i += 16) {                                      \
            __m128i a = LD128(s + i * 4), b = LD128(s + i * 4 + 16);        \
            __m128i c = LD128(s + i * 4 + 32), e = LD128(s + i * 4 + 48);   \
            ST128(d + i * 4, OP(a));                                        \
            ST128(d + i * 4 + 16, OP(b));                                   \
            ST128(d + i * 4 + 32, OP(c));                                   \
            ST128(d + i * 4 + 48, OP(e));                                   \
        }                                                                   \
        for (; i + 4 <= n; i += 4)                                          \
            ST128(d + i * 4, OP(LD128(s + i * 4)));                         \
        if (i < n) {                                                        \
            __m128i a = _mm_loadl_epi64((const __m128i *)(const void *)(s + i * 4)); \
            _mm_storel_epi64((__m128i *)(void *)(d + i * 4), OP(a));        \
        }                                                                   \
    }
#define SSE2_SWAP(v)  _mm_shuffle_epi32(v, SH_SWAP)
#define SSE2_LEFT(v)  _mm_shuffle_epi32(v, SH_LEFT)
#define SSE2_RIGHT(v) _mm_shuffle_epi32(v, SH_RIGHT)
#define SSE2_MUTEL(v) _mm_and_si128(v, _mm_set_epi32(-1, 0, -1, 0))
#define SSE2_MUTER(v) _mm_and_si128(v, _mm_set_epi32(0, -1, 0, -1))
SSE2_KERNEL(sse2_swap2, SSE2_SWAP)
SSE2_KERNEL(sse2_left2, SSE2_LEFT)
SSE2_KERNEL(sse2_right2, SSE2_RIGHT)
SSE2_KERNEL(sse2_mute_left2, SSE2_MUTEL)
SSE2_KERNEL(sse2_mute_right2, SSE2_MUTER)

/* memcpy as a kernel, for copies too short for a vector. */
static void copy_words(unsigned char *d, const unsigned char *s, size_t n)
{
    memcpy(d, s, n * 4);
}

/* Words from d to the next multiple of `align` bytes, when d is on a frame
 * boundary (`frame` bytes: a step from there keeps the lanes of a frame
 * together); else 0, and the stores stay unaligned. */
static inline size_t head_words(const unsigned char *d, uintptr_t align, uintptr_t frame)
{
    uintptr_t a = (uintptr_t)d;
    return a % frame ? 0 : (size_t)((0 - a) & (align - 1)) / 4;
}

/* AVX2: 8 words (four frames) a vector.  Fewer than 8 words in all go to
 * SMALL.  Otherwise a first vector at d, then on from the first 32-byte
 * boundary after it (aligned stores that never straddle a cache line), and
 * a last vector that ends at the end; the first and last overlap the rest,
 * writing the same values twice. */
#define AVX2_KERNEL(name, OP, SMALL, FRAME)                                 \
    __attribute__((target("avx2")))                                         \
    static void name(unsigned char *d, const unsigned char *s, size_t n)   \
    {                                                                       \
        if (n < 8) {                                                        \
            SMALL(d, s, n);                                                 \
            return;                                                         \
        }                                                                   \
        ST256(d, OP(LD256(s)));                                             \
        size_t i = head_words(d, 32, FRAME);                                \
        if (i == 0)                                                         \
            i = 8;                                                          \
        for (; i + 32 <= n; i += 32) {                                      \
            __m256i a = LD256(s + i * 4), b = LD256(s + i * 4 + 32);        \
            __m256i c = LD256(s + i * 4 + 64), e = LD256(s + i * 4 + 96);   \
            ST256(d + i * 4, OP(a));                                        \
            ST256(d + i * 4 + 32, OP(b));                                   \
            ST256(d + i * 4 + 64, OP(c));                                   \
            ST256(d + i * 4 + 96, OP(e));                                   \
        }                                                                   \
        for (; i + 8 <= n; i += 8)                                          \
            ST256(d + i * 4, OP(LD256(s + i * 4)));                         \
        if (i < n)                                                          \
            ST256(d + (n - 8) * 4, OP(LD256(s + (n - 8) * 4)));             \
    }
#define AVX2_SWAP(v)  _mm256_shuffle_epi32(v, SH_SWAP)
#define AVX2_LEFT(v)  _mm256_shuffle_epi32(v, SH_LEFT)
#define AVX2_RIGHT(v) _mm256_shuffle_epi32(v, SH_RIGHT)
#define AVX2_MUTEL(v) _mm256_and_si256(v, _mm256_set_epi32(-1, 0, -1, 0, -1, 0, -1, 0))
#define AVX2_MUTER(v) _mm256_and_si256(v, _mm256_set_epi32(0, -1, 0, -1, 0, -1, 0, -1))
#define AVX2_NONE(v)  (v)
AVX2_KERNEL(avx2_copy, AVX2_NONE, copy_words, 4)
AVX2_KERNEL(avx2_swap2, AVX2_SWAP, sse2_swap2, 8)
AVX2_KERNEL(avx2_left2, AVX2_LEFT, sse2_left2, 8)
AVX2_KERNEL(avx2_right2, AVX2_RIGHT, sse2_right2, 8)
AVX2_KERNEL(avx2_mute_left2, AVX2_MUTEL, sse2_mute_left2, 8)
AVX2_KERNEL(avx2_mute_right2, AVX2_MUTER, sse2_mute_right2, 8)

/* AVX-512: 16 words (eight frames) a vector.  Fewer than 16 words in all
 * are one masked load and store.  Otherwise, like AVX2: a first vector at
 * d, then on from the first 64-byte boundary after it, and the last 0..15
 * words as one masked step.  The muted kinds load with a lane mask that
 * zeroes the muted channel, and need no other operation. */
#define LD512(m, p)  _mm512_maskz_loadu_epi32((__mmask16)(m), p)
#define AVX512_KERNEL(name, LMASK, OP, FRAME)                               \
    __attribute__((target("avx512f")))                                      \
    static void name(unsigned char *d, const unsigned char *s, size_t n)   \
    {                                                                       \
        size_t i;                                                           \
        if (n < 16) {                                                       \
            i = 0;                                                          \
        } else {                                                            \
            _mm512_storeu_si512(d, OP(LD512(LMASK, s)));                    \
            i = head_words(d, 64, FRAME);                                   \
            if (i == 0)                                                     \
                i = 16;                                                     \
            for (; i + 64 <= n; i += 64) {                                  \
                __m512i a = LD512(LMASK, s + i * 4);                        \
                __m512i b = LD512(LMASK, s + i * 4 + 64);                   \
                __m512i c = LD512(LMASK, s + i * 4 + 128);                  \
                __m512i e = LD512(LMASK, s + i * 4 + 192);                  \
                _mm512_storeu_si512(d + i * 4, OP(a));                      \
                _mm512_storeu_si512(d + i * 4 + 64, OP(b));                 \
                _mm512_storeu_si512(d + i * 4 + 128, OP(c));                \
                _mm512_storeu_si512(d + i * 4 + 192, OP(e));                \
            }                                                               \
            for (; i + 16 <= n; i += 16)                                    \
                _mm512_storeu_si512(d + i * 4, OP(LD512(LMASK, s + i * 4))); \
        }                                                                   \
        if (i < n) {                                                        \
            unsigned m = (1u << (n - i)) - 1;                               \
            _mm512_mask_storeu_epi32(d + i * 4, (__mmask16)m,               \
                                     OP(LD512(m & (LMASK), s + i * 4)));    \
        }                                                                   \
    }
#define AVX512_SWAP(v)  _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)SH_SWAP)
#define AVX512_LEFT(v)  _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)SH_LEFT)
#define AVX512_RIGHT(v) _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)SH_RIGHT)
#define AVX512_NONE(v)  (v)
AVX512_KERNEL(avx512_copy, 0xFFFF, AVX512_NONE, 4)
AVX512_KERNEL(avx512_swap2, 0xFFFF, AVX512_SWAP, 8)
AVX512_KERNEL(avx512_left2, 0xFFFF, AVX512_LEFT, 8)
AVX512_KERNEL(avx512_right2, 0xFFFF, AVX512_RIGHT, 8)
AVX512_KERNEL(avx512_mute_left2, 0xAAAA, AVX512_NONE, 8)
AVX512_KERNEL(avx512_mute_right2, 0x5555, AVX512_NONE, 8)
#endif

/* kernels[isa][kind], NULL where there is none (identity below AVX2:
 * memcpy; generic: ps_copy_mapped; a set the build lacks). */
static ps_copy_fn const kernels[PS_NISA][PS_NCOPY] = {
    [PS_ISA_C] = {
        [PS_COPY_SWAP2] = c_swap2, [PS_COPY_LEFT2] = c_left2, [PS_COPY_RIGHT2] = c_right2,
        [PS_COPY_MUTE_LEFT2] = c_mute_left2, [PS_COPY_MUTE_RIGHT2] = c_mute_right2 },
#ifdef PS_X86
    [PS_ISA_SSE2] = {
        [PS_COPY_SWAP2] = sse2_swap2, [PS_COPY_LEFT2] = sse2_left2,
        [PS_COPY_RIGHT2] = sse2_right2, [PS_COPY_MUTE_LEFT2] = sse2_mute_left2,
        [PS_COPY_MUTE_RIGHT2] = sse2_mute_right2 },
    [PS_ISA_AVX2] = {
        [PS_COPY_IDENTITY] = avx2_copy,
        [PS_COPY_SWAP2] = avx2_swap2, [PS_COPY_LEFT2] = avx2_left2,
        [PS_COPY_RIGHT2] = avx2_right2, [PS_COPY_MUTE_LEFT2] = avx2_mute_left2,
        [PS_COPY_MUTE_RIGHT2] = avx2_mute_right2 },
    [PS_ISA_AVX512] = {
        [PS_COPY_IDENTITY] = avx512_copy,
        [PS_COPY_SWAP2] = avx512_swap2, [PS_COPY_LEFT2] = avx512_left2,
        [PS_COPY_RIGHT2] = avx512_right2, [PS_COPY_MUTE_LEFT2] = avx512_mute_left2,
        [PS_COPY_MUTE_RIGHT2] = avx512_mute_right2 },
#endif
};

/* The best set this machine runs, found once; and the cap on what is used:
 * AVX2 unless a test or benchmark sets another.  The AVX-512 kernels were
 * no faster than the AVX2 ones here (AMD Zen 4: about 2% slower in
 * bench_callback), and on Intel CPUs 512-bit vectors can lower the core's
 * clock and stall it while it switches (glibc's memcpy avoids them there
 * for that reason), so they are kept, and tested, but only used when asked
 * for: ps_copy_set_isa(PS_ISA_AVX512). */
enum { ISA_DEFAULT_CAP = PS_ISA_AVX2 };
static atomic_int isa_best = -1, isa_cap = ISA_DEFAULT_CAP;

int ps_copy_isa_best(void)
{
    int best = atomic_load_explicit(&isa_best, RLX);
    if (best >= 0)
        return best;
    best = PS_ISA_C;
#ifdef PS_X86
    /* __builtin_cpu_supports also checks that the OS saves the registers. */
    __builtin_cpu_init();
    best = PS_ISA_SSE2;
    if (__builtin_cpu_supports("avx2"))
        best = PS_ISA_AVX2;
    if (__builtin_cpu_supports("avx512f"))
        best = PS_ISA_AVX512;
#endif
    atomic_store_explicit(&isa_best, best, RLX);
    return best;
}

int ps_copy_isa(void)
{
    int best = ps_copy_isa_best(), cap = atomic_load_explicit(&isa_cap, RLX);
    return cap < best ? cap : best;
}

int ps_copy_set_isa(int cap)
{
    if (cap < 0 || cap >= PS_NISA)
        cap = ISA_DEFAULT_CAP;
    atomic_store_explicit(&isa_cap, cap, RLX);
    return ps_copy_isa();
}

ps_copy_fn ps_copy_kernel(ps_copy_kind kind, size_t frame_bytes)
{
    if ((unsigned)kind >= PS_NCOPY || frame_bytes % 4)
        return NULL;
    return kernels[ps_copy_isa()][kind];
}

void ps_copy_planned(ps_copy_kind kind, unsigned char *dst, int dst_ch,
                     const unsigned char *src, int src_ch, const int *map,
                     size_t ss, unsigned char silence, size_t nframes)
{
    if (!src || kind == PS_COPY_GENERIC) {
        ps_copy_mapped(dst, dst_ch, src, src_ch, map, ss, silence, nframes);
        return;
    }
    size_t fb = (size_t)dst_ch * ss;
    ps_copy_fn fn = ps_copy_kernel(kind, fb);
    if (fn)
        fn(dst, src, nframes * (fb / 4));
    else
        memcpy(dst, src, nframes * fb);    /* identity */
}

/* Copy n source frames (tx layout) to the device output at frame `at`. */
static void tx_copy(ps_engine *e, unsigned char *out, size_t at,
                    const unsigned char *src, size_t n)
{
    size_t fb = (size_t)e->out_channels * e->out_ss;
    if (e->tx_fn)
        e->tx_fn(out + at * fb, src, n * (fb / 4));
    else if (e->tx_identity)
        memcpy(out + at * fb, src, n * fb);
    else
        ps_copy_planned(e->tx_plan, out + at * fb, e->out_channels, src, e->tx_channels,
                        e->txmap, e->out_ss, ps_sample_silence(e->out_format), n);
}

static void tx_silence(ps_engine *e, unsigned char *out, size_t at, size_t n)
{
    size_t fb = (size_t)e->out_channels * e->out_ss;
    memset(out + at * fb, ps_sample_silence(e->out_format), n * fb);
}

/* Receive n device frames (in may be NULL: silence) into dst (rx layout). */
static void rx_copy(ps_engine *e, unsigned char *dst, const unsigned char *in, size_t n)
{
    size_t fb = (size_t)e->rx_channels * e->in_ss;
    if (e->rx_fn && in)
        e->rx_fn(dst, in, n * (fb / 4));
    else if (e->rx_identity && in)
        memcpy(dst, in, n * fb);
    else
        ps_copy_planned(e->rx_plan, dst, e->rx_channels, in, e->in_channels,
                        e->rxmap, e->in_ss, ps_sample_silence(e->in_format), n);
}

/* ---- the two directions ------------------------------------------------ */

/* Fill up to n frames of output from the source, then padding.  Returns
 * the number of frames of playback produced (source + pad); fewer than n
 * means playback ended (phase DONE) or the ring underran (*underrun). */
static size_t tx_fill(ps_engine *e, unsigned char *out, size_t n, bool *underrun)
{
    size_t got = 0;
    *underrun = false;
    while (got < n && e->phase != PS_PHASE_DONE) {
        if (e->phase == PS_PHASE_SOURCE) {
            if (e->txbuf) {
                int64_t avail = e->txbuf_frames - e->txbuf_pos;
                if (avail <= 0) {
                    if (e->loop && e->txbuf_frames > 0)
                        e->txbuf_pos = 0;
                    else
                        e->phase = PS_PHASE_PAD;
                    continue;
                }
                size_t k = (size_t)avail < n - got ? (size_t)avail : n - got;
                size_t fb = (size_t)e->tx_channels * e->out_ss;
                tx_copy(e, out, got, e->txbuf + (size_t)e->txbuf_pos * fb, k);
                e->txbuf_pos += (int64_t)k;
                got += k;
                bump64(&e->tx_frames, (int64_t)k);
            } else if (e->txring) {
                void *p1, *p2;
                size_t n1, n2;
                size_t k = ps_ring_read_regions(e->txring, n - got, &p1, &n1, &p2, &n2);
                if (k == 0) {
                    /* eof is published after the last write, so once it is
                     * seen, an empty ring really is the end. */
                    if (atomic_load_explicit(&e->tx_eof, memory_order_acquire)) {
                        if (ps_ring_read_available(e->txring) == 0)
                            e->phase = PS_PHASE_PAD;
                        continue;
                    }
                    if (e->flags & PS_FILL_GAPS) {
                        tx_silence(e, out, got, n - got);
                        bump64(&e->tx_lost, (int64_t)(n - got));
                        got = n;
                        break;
                    }
                    *underrun = true;
                    break;
                }
                tx_copy(e, out, got, p1, n1);
                if (n2)
                    tx_copy(e, out, got + n1, p2, n2);
                ps_ring_read_advance(e->txring, k);
                got += k;
                bump64(&e->tx_frames, (int64_t)k);
            } else {
                /* No playback source: the output plays silence. */
                tx_silence(e, out, got, n - got);
                got = n;
            }
        } else {   /* PS_PHASE_PAD */
            if (e->pad_left < 0) {
                tx_silence(e, out, got, n - got);
                got = n;
            } else if (e->pad_left == 0) {
                e->phase = PS_PHASE_DONE;
            } else {
                size_t k = (size_t)e->pad_left < n - got ? (size_t)e->pad_left : n - got;
                tx_silence(e, out, got, k);
                e->pad_left -= (int64_t)k;
                got += k;
            }
        }
    }
    return got;
}

/* Announce the pending gap to the ring's reader.  If the gap queue is full
 * the silence cannot be placed: the frames stay counted in rx_lost only. */
static void flush_gap(ps_engine *e)
{
    if (e->gapq)
        ps_ring_write(e->gapq, &e->gap, 1);
    e->gap.count = 0;
}

/* Deliver n input frames; returns false when the sink is full (BufferFull). */
static bool rx_store(ps_engine *e, const unsigned char *in, size_t n)
{
    size_t fb_in = (size_t)e->in_channels * e->in_ss;
    if (e->offset_left > 0) {
        size_t k = (size_t)e->offset_left < n ? (size_t)e->offset_left : n;
        e->offset_left -= (int64_t)k;
        n -= k;
        if (in)
            in += k * fb_in;
    }
    if (n == 0)
        return true;

    size_t fb = (size_t)e->rx_channels * e->in_ss;
    size_t put = 0;
    /* A pending gap is announced before any frame after it is published,
     * so a reader that sees those frames also sees the gap. */
    if (e->gap.count && e->rxring && ps_ring_write_available(e->rxring) > 0)
        flush_gap(e);
    if (e->rxbuf) {
        int64_t room = e->rxbuf_frames - e->rxbuf_pos;
        put = (size_t)room < n ? (size_t)room : n;
        rx_copy(e, e->rxbuf + (size_t)e->rxbuf_pos * fb, in, put);
        e->rxbuf_pos += (int64_t)put;
    } else if (e->rxring) {
        void *p1, *p2;
        size_t n1, n2;
        put = ps_ring_write_regions(e->rxring, n, &p1, &n1, &p2, &n2);
        rx_copy(e, p1, in, n1);
        if (n2)
            rx_copy(e, p2, in ? in + n1 * fb_in : NULL, n2);
        ps_ring_write_advance(e->rxring, put);
    } else {
        return true;       /* nobody records: input is discarded */
    }
    bump64(&e->rx_frames, (int64_t)put);
    if (put < n) {
        if (e->flags & PS_FILL_GAPS) {
            int64_t lost = (int64_t)(n - put);
            int64_t at = atomic_load_explicit(&e->rx_frames, RLX);
            bump64(&e->rx_lost, lost);
            if (e->gapq) {
                if (e->gap.count && e->gap.pos != at)
                    flush_gap(e);
                e->gap.pos = at;
                e->gap.count += lost;
            }
            return true;
        }
        return false;
    }
    return true;
}

/* Frames between two wake-ups of the disk threads: an eighth of the
 * smaller ring, or every block when there is no ring. */
static int64_t disk_batch(const ps_engine *e)
{
    size_t cap = SIZE_MAX;
    if (e->txring && e->txring->capacity < cap)
        cap = e->txring->capacity;
    if (e->rxring && e->rxring->capacity < cap)
        cap = e->rxring->capacity;
    return cap == SIZE_MAX ? 1 : (int64_t)(cap / 8);
}

static void wake_all(ps_engine *e)
{
    for (int i = 0; i < PS_MAXWAKE; i++)
        ps_wake_signal(e->wake[i]);
}

static int finish(ps_engine *e, ps_status st, int64_t at, int ret)
{
    /* One winner: it stores the frame first, then publishes the status, so
     * whoever sees the status also sees its frame. */
    int expected = 0;
    if (atomic_compare_exchange_strong(&e->ending, &expected, 1)) {
        atomic_store(&e->status_frame, at);
        atomic_store(&e->status, (int)st);
    }
    wake_all(e);
    return ret;
}

/* ---- meters ------------------------------------------------------------ */

#define CLIP_LEVEL (32767.0f / 32768.0f)

static void meter(_Atomic uint32_t *peaks, _Atomic int64_t *clips, const unsigned char *buf,
                  int channels, ps_format f, size_t nframes)
{
    size_t ss = ps_format_size(f);
    for (int c = 0; c < channels; c++) {
        float m = 0;
        int64_t clipped = 0;
        const unsigned char *p = buf + (size_t)c * ss;
        size_t stride = (size_t)channels * ss;
        if (f == PS_FLOAT32) {
            for (size_t i = 0; i < nframes; i++, p += stride) {
                float v;
                memcpy(&v, p, 4);
                v = v < 0 ? -v : v;
                if (v > m) m = v;
                clipped += v >= CLIP_LEVEL;
            }
        } else {
            for (size_t i = 0; i < nframes; i++, p += stride) {
                float v = (float)ps_sample_get(f, p);
                v = v < 0 ? -v : v;
                if (v > m) m = v;
                clipped += v >= CLIP_LEVEL;
            }
        }
        if (clipped)          /* one writer: a plain add, lock-free */
            atomic_fetch_add_explicit(&clips[c], clipped, RLX);
        uint32_t bits;
        memcpy(&bits, &m, 4);
        /* One writer; a take racing with this may lose one block's peak. */
        if (bits > atomic_load_explicit(&peaks[c], RLX))
            atomic_store_explicit(&peaks[c], bits, RLX);
    }
}

void ps_engine_flush_gap(ps_engine *e)
{
    if (e->gap.count)
        flush_gap(e);
}

int64_t ps_engine_clips(ps_engine *e, int dir, int ch)
{
    return atomic_load_explicit(dir ? &e->out_clips[ch] : &e->in_clips[ch], RLX);
}

float ps_engine_take_peak(ps_engine *e, int dir, int ch)
{
    uint32_t bits = atomic_exchange(dir ? &e->out_peak[ch] : &e->in_peak[ch], 0);
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

/* ---- the callback ------------------------------------------------------ */

/* The callback's way to end a run: announce a gap at the very end, then
 * finish.  (Only the callback produces gaps: ps_engine_end, called from
 * other threads, must not.) */
static int end_run(ps_engine *e, ps_status st, int64_t at, int ret)
{
    if (e->gap.count)
        flush_gap(e);
    return finish(e, st, at, ret);
}

int ps_engine_callback(const void *input, void *output, unsigned long nframes,
                       const PaStreamCallbackTimeInfo *time_info,
                       PaStreamCallbackFlags flags, void *user_data)
{
    ps_engine *e = user_data;
    if (atomic_load_explicit(&e->abandoned, memory_order_acquire))
        return paAbort;
    const unsigned char *in = e->in_channels ? input : NULL;
    unsigned char *out = e->out_channels ? output : NULL;
    int64_t done = atomic_load_explicit(&e->frame_count, RLX);
    size_t n = nframes, played;
    bool underrun = false, xrun = false;
    (void)time_info;

    static const PaStreamCallbackFlags kinds[PS_NXRUN] = {
        paInputUnderflow, paInputOverflow, paOutputUnderflow, paOutputOverflow
    };
    if (flags & (paInputUnderflow | paInputOverflow | paOutputUnderflow | paOutputOverflow))
        for (int i = 0; i < PS_NXRUN; i++)
            if (flags & kinds[i]) {
                bump32(&e->xruns[i]);
                xrun = true;
            }

    if (atomic_load_explicit(&e->status, RLX) != PS_RUNNING) {
        if (out)
            tx_silence(e, out, 0, nframes);
        return paComplete;
    }
    if (xrun && e->fatal_xruns) {
        if (out)
            tx_silence(e, out, 0, nframes);
        return end_run(e, PS_XRUN, done, paAbort);
    }

    if (e->frames >= 0 && (int64_t)n > e->frames - done)
        n = (size_t)(e->frames - done);

    played = n;
    if (out) {
        played = tx_fill(e, out, n, &underrun);
        if (played < nframes)
            tx_silence(e, out, played, nframes - played);
    }
    /* Playback ended early: the stream's last frame is the last one played. */
    n = played;

    if (in || e->in_channels) {
        if (!rx_store(e, in, n)) {
            atomic_store_explicit(&e->frame_count, done + (int64_t)n, RLX);
            return end_run(e, PS_BUFFER_FULL, done + (int64_t)n, paAbort);
        }
    }
    done += (int64_t)n;
    atomic_store_explicit(&e->frame_count, done, memory_order_release);
    if (e->flags & PS_METER) {
        if (in)
            meter(e->in_peak, e->in_clips, in, e->in_channels, e->in_format, n);
        if (out)
            meter(e->out_peak, e->out_clips, out, e->out_channels, e->out_format, n);
    }

    if (underrun)
        return end_run(e, PS_BUFFER_EMPTY, done, paAbort);
    if (e->phase == PS_PHASE_DONE && e->frames >= 0 && done < e->frames)
        return end_run(e, PS_BUFFER_EMPTY, done, paAbort);
    if (e->phase == PS_PHASE_DONE || (e->frames >= 0 && done >= e->frames))
        return end_run(e, PS_COMPLETE, done, paComplete);
    /* wake[0] is the Lua side: it needs every block only when it moves
     * frames itself (a source, a sink, chunks). */
    if (!(e->flags & PS_QUIET))
        ps_wake_signal(e->wake[0]);
    /* The others are disk threads.  They move whatever is there when woken
     * and sleep at most a tenth of a second, so they are woken once an
     * eighth of the smaller ring has moved, not after every block: a
     * wake-up costs a thread about 10 us of CPU here, and at short periods
     * a recording's disk thread would spend more on waking than on
     * writing.  Seven eighths of the ring stay as the margin. */
    e->disk_pending += (int64_t)nframes;
    if (e->disk_pending >= disk_batch(e)) {
        e->disk_pending = 0;
        for (int i = 1; i < PS_MAXWAKE; i++)
            if (e->wake[i])
                ps_wake_signal(e->wake[i]);
    }
    return paContinue;
}

void ps_engine_finished(void *user_data)
{
    ps_engine *e = user_data;
    /* Still running means neither the callback nor the user ended it: the
     * host API stopped the stream (the server went away, a device error). */
    finish(e, PS_DEVICE_ERROR, atomic_load(&e->frame_count), 0);
    atomic_store(&e->finished, true);
    wake_all(e);
}

void ps_engine_abandon(ps_engine *e)
{
    atomic_store_explicit(&e->abandoned, true, memory_order_release);
    finish(e, PS_DEVICE_ERROR, atomic_load(&e->frame_count), 0);
    atomic_store(&e->finished, true);
    wake_all(e);
}

void ps_engine_end(ps_engine *e, ps_status st)
{
    finish(e, st, atomic_load(&e->frame_count), 0);
}
