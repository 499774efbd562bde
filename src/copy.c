/* Copying frames through a channel map: the generic mapped copy, the plan
 * that picks the fastest way for a map, and the copy kernels per
 * instruction set; see copy.h.  Taken out of engine.c, which keeps the
 * callback's rules and calls these through the plan and kernel it chose
 * when the run was armed.  Nothing here allocates, locks or blocks: the
 * callback runs every function but ps_copy_plan, ps_copy_kernel and the
 * ISA queries, which run when a run is armed. */
#include "copy.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define RLX memory_order_relaxed

bool ps_copy_is_identity(const int *map, int n, int src_ch)
{
    if (n != src_ch)
        return false;
    for (int k = 0; k < n; k++)
        if (map[k] != k + 1)
            return false;
    return true;
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
    if (ps_copy_is_identity(map, dst_ch, src_ch))
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
 * Their figures: tests/bench/NOTES.md. */

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
 * no faster than the AVX2 ones (tests/bench/NOTES.md), and on Intel CPUs 512-bit vectors can lower the core's
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

