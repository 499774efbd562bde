/* pastream.Buffer: interleaved sample frames, with whole-buffer operations
 * in C so that scripts need no per-sample Lua loops.
 *
 * Indexing is by sample, as the memory is laid out: #buf is frames *
 * channels and buf[i] is the i-th interleaved sample (1-based), so
 * `for i = 1, #buf do ... end` visits every sample.  buf:sample(f, c) reads
 * by frame and channel. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "lpastream.h"

#define BUF_MAXCH 1024      /* the most channels a Buffer has (checked where made) */

ps_mem *ps_mem_new(size_t bytes)
{
    /* The header is added to the size: near SIZE_MAX the sum would wrap to
     * a tiny allocation that the caller then overruns. */
    if (bytes > SIZE_MAX - sizeof(ps_mem) - 1)
        return NULL;
    ps_mem *m = calloc(1, sizeof *m + (bytes ? bytes : 1));
    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    m->bytes = bytes;
    return m;
}

/* glibc serves a large calloc with fresh mmap pages that the kernel maps
 * only at their first touch: a page fault each, which in the realtime
 * callback is a stall (426 of them recording 4.5 s into a new Buffer).  So
 * every page is made present and writable here, on the Lua thread, before
 * a stream may use the memory: the kernel's MADV_POPULATE_WRITE where it
 * has it (Linux 5.14), else a write of each page's first byte to itself.
 * Called at every start: pages already present cost a table walk. */
void ps_mem_populate(ps_mem *m)
{
    if (!m)
        return;
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    uintptr_t lo = (uintptr_t)m & ~(uintptr_t)(page - 1);
    uintptr_t hi = (uintptr_t)(m->data + m->bytes);
#if defined(MADV_POPULATE_WRITE) && !defined(__SANITIZE_ADDRESS__)
    /* (Under ASan the loop below runs instead: its instrumented writes
     * fault in the shadow memory of the pages too.) */
    if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0)
        return;
#endif
    volatile unsigned char *p = m->data;
    for (size_t i = 0; i < m->bytes; i += page - ((uintptr_t)(p + i) & (page - 1)))
        p[i] = p[i];
    if (m->bytes)
        p[m->bytes - 1] = p[m->bytes - 1];
}

ps_mem *ps_mem_ref(ps_mem *m)
{
    atomic_fetch_add(&m->refs, 1);
    return m;
}

void ps_mem_unref(ps_mem *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1)
        free(m);
}

ps_format ps_checkformat(lua_State *L, int idx, const char *def)
{
    const char *name = luaL_optstring(L, idx, def);
    int f = ps_format_parse(name);
    if (f < 0)
        luaL_argerror(L, idx, lua_pushfstring(L,
            "unknown sample format '%s' (float32, int32, int24, int16, int8, uint8)", name));
    return (ps_format)f;
}

/* The one checked accessor for a Buffer argument (liolib's tofile): a
 * closed Buffer has no memory, and every user of b->mem comes through
 * here.  Only close/__gc and __tostring take a closed one (buffer_raw). */
ps_buffer *ps_checkbuffer(lua_State *L, int idx)
{
    ps_buffer *b = luaL_checkudata(L, idx, PS_BUFFER);
    if (!b->mem)
        luaL_error(L, "attempt to use a freed buffer (argument #%d was closed)", idx);
    return b;
}

static ps_buffer *buffer_raw(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, PS_BUFFER);
}

ps_buffer *ps_newbuffer(lua_State *L, int64_t frames, int channels, ps_format f)
{
    if (frames < 0)
        luaL_error(L, "buffer frames must be >= 0, got %I", (lua_Integer)frames);
    if (channels < 1 || channels > 1024)
        luaL_error(L, "buffer channels must be 1..1024, got %d", channels);
    size_t ss = ps_format_size(f);
    if ((uint64_t)frames > SIZE_MAX / ss / (size_t)channels)
        luaL_error(L, "buffer of %I frames is too large", (lua_Integer)frames);
    /* Created closed first, so that an allocation error leaves nothing half made. */
    ps_buffer *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->mem = NULL;
    b->frames = 0;
    b->channels = channels;
    b->format = f;
    luaL_setmetatable(L, PS_BUFFER);
    b->mem = ps_mem_new((size_t)frames * (size_t)channels * ss);
    if (!b->mem)
        luaL_error(L, "not enough memory for a buffer of %I frames", (lua_Integer)frames);
    b->frames = frames;
    if (f == PS_UINT8)
        memset(b->mem->data, 0x80, b->mem->bytes);
    return b;
}

static size_t nsamples(const ps_buffer *b) { return (size_t)b->frames * (size_t)b->channels; }
static size_t nbytes(const ps_buffer *b) { return nsamples(b) * ps_format_size(b->format); }
static unsigned char *sample_ptr(const ps_buffer *b, size_t i)
{
    return b->mem->data + i * ps_format_size(b->format);
}

/* ps.Buffer(frames [, channels [, format]])
 * ps.Buffer(table [, channels [, format]])   -- interleaved samples
 * ps.Buffer(string, channels [, format])     -- raw bytes, native endian */
static int buffer_new(lua_State *L)
{
    /* Checked before the cast to int, which would wrap 2^32 + 1 to 1. */
    lua_Integer ch = luaL_optinteger(L, 2, 1);
    luaL_argcheck(L, ch >= 1 && ch <= 1024, 2, "channels must be 1..1024");
    int channels = (int)ch;
    ps_format f = ps_checkformat(L, 3, "float32");
    switch (lua_type(L, 1)) {
    case LUA_TNUMBER: {
        lua_Integer frames = luaL_checkinteger(L, 1);
        luaL_argcheck(L, frames >= 0, 1, "frames must be >= 0");
        ps_newbuffer(L, frames, channels, f);
        return 1;
    }
    case LUA_TTABLE: {
        lua_Integer n = luaL_len(L, 1);
        if (n % channels)
            return luaL_error(L, "a table of %I samples is not a whole number of %d-channel frames",
                              n, channels);
        ps_buffer *b = ps_newbuffer(L, n / channels, channels, f);
        for (lua_Integer i = 1; i <= n; i++) {
            int isnum;
            lua_Number v = (lua_geti(L, 1, i), lua_tonumberx(L, -1, &isnum));
            if (!isnum)
                return luaL_error(L, "sample %I of the table is not a number", i);
            lua_pop(L, 1);
            ps_sample_set(f, sample_ptr(b, (size_t)i - 1), v);
        }
        return 1;
    }
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, 1, &len);
        size_t fb = (size_t)channels * ps_format_size(f);
        if (len % fb)
            return luaL_error(L, "a string of %d bytes is not a whole number of %d-byte frames "
                              "(%d channels of %s)", (int)len, (int)fb, channels, ps_format_name(f));
        ps_buffer *b = ps_newbuffer(L, (int64_t)(len / fb), channels, f);
        memcpy(b->mem->data, s, len);
        return 1;
    }
    default:
        return luaL_typeerror(L, 1, "frame count, table or string");
    }
}

static int buffer_gc(lua_State *L)
{
    ps_buffer *b = buffer_raw(L, 1);
    ps_mem_unref(b->mem);
    b->mem = NULL;
    b->frames = 0;
    return 0;
}


static size_t checksample(lua_State *L, ps_buffer *b, int idx)
{
    lua_Integer i = luaL_checkinteger(L, idx);
    if (i < 1 || (size_t)i > nsamples(b))
        luaL_error(L, "sample index %I out of range 1..%I (%I frames x %d channels)",
                   i, (lua_Integer)nsamples(b), (lua_Integer)b->frames, b->channels);
    return (size_t)i - 1;
}

static int buffer_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)nsamples(ps_checkbuffer(L, 1)));
    return 1;
}

static int buffer_newindex(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    size_t i = checksample(L, b, 2);
    ps_sample_set(b->format, sample_ptr(b, i), luaL_checknumber(L, 3));
    return 0;
}

static int buffer_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TNUMBER) {
        ps_buffer *b = ps_checkbuffer(L, 1);
        size_t i = checksample(L, b, 2);
        lua_pushnumber(L, ps_sample_get(b->format, sample_ptr(b, i)));
        return 1;
    }
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "methods");
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

/* buf:sample(frame, channel [, value]): read, or write when value is given. */
static int buffer_sample(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    lua_Integer f = luaL_checkinteger(L, 2), c = luaL_optinteger(L, 3, 1);
    if (f < 1 || f > b->frames)
        return luaL_error(L, "frame %I out of range 1..%I", f, (lua_Integer)b->frames);
    if (c < 1 || c > b->channels)
        return luaL_error(L, "channel %I out of range 1..%d", c, b->channels);
    unsigned char *p = sample_ptr(b, (size_t)(f - 1) * (size_t)b->channels + (size_t)(c - 1));
    if (lua_isnoneornil(L, 4)) {
        lua_pushnumber(L, ps_sample_get(b->format, p));
        return 1;
    }
    ps_sample_set(b->format, p, luaL_checknumber(L, 4));
    return 0;
}

static int buffer_frames(lua_State *L) { lua_pushinteger(L, ps_checkbuffer(L, 1)->frames); return 1; }
static int buffer_channels(lua_State *L) { lua_pushinteger(L, ps_checkbuffer(L, 1)->channels); return 1; }
static int buffer_format(lua_State *L)
{
    lua_pushstring(L, ps_format_name(ps_checkbuffer(L, 1)->format));
    return 1;
}

/* buf:sub(i [, j]): a new buffer with frames i..j (negative counts from the end). */
static int buffer_sub(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    lua_Integer n = b->frames;
    lua_Integer i = luaL_optinteger(L, 2, 1), j = luaL_optinteger(L, 3, -1);
    if (i < 0) i = n + i + 1;
    if (j < 0) j = n + j + 1;
    if (i < 1) i = 1;
    if (j > n) j = n;
    lua_Integer len = j >= i ? j - i + 1 : 0;
    ps_buffer *r = ps_newbuffer(L, len, b->channels, b->format);
    size_t fb = ps_buffer_framebytes(b);
    if (len)
        memcpy(r->mem->data, b->mem->data + (size_t)(i - 1) * fb, (size_t)len * fb);
    return 1;
}

static int buffer_copy(lua_State *L)
{
    lua_settop(L, 1);
    return buffer_sub(L);
}

static int buffer_tostring(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    lua_pushlstring(L, (const char *)b->mem->data, nbytes(b));
    return 1;
}

static int buffer_totable(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    size_t n = nsamples(b);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, ps_sample_get(b->format, sample_ptr(b, i)));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int buffer_repr(lua_State *L)
{
    ps_buffer *b = buffer_raw(L, 1);
    if (!b->mem)
        lua_pushliteral(L, "Buffer (freed)");
    else
        lua_pushfstring(L, "Buffer(%I frames, %d channel%s, %s)", (lua_Integer)b->frames,
                        b->channels, b->channels == 1 ? "" : "s", ps_format_name(b->format));
    return 1;
}

/* The one channel argument of Buffer and DSP functions: nil or 0 means
 * every channel (each one, or their mean: the caller says which); else
 * 1..channels.  Raises naming the argument. */
int ps_optchannel(lua_State *L, const ps_buffer *b, int idx)
{
    lua_Integer c = luaL_optinteger(L, idx, 0);
    if (c < 0 || c > b->channels)
        luaL_argerror(L, idx, lua_pushfstring(L, "channel %I out of range 1..%d",
                                              c, b->channels));
    return (int)c;
}

/* Apply fn(value) -> value to every sample of channel c (0: all). */
#define EACH_SAMPLE(b, c, body)                                                \
    do {                                                                       \
        size_t ss_ = ps_format_size((b)->format);                              \
        for (int64_t f_ = 0; f_ < (b)->frames; f_++)                           \
            for (int ch_ = 0; ch_ < (b)->channels; ch_++) {                    \
                if ((c) && ch_ != (c) - 1) continue;                           \
                unsigned char *p = (b)->mem->data +                            \
                    ((size_t)f_ * (size_t)(b)->channels + (size_t)ch_) * ss_;  \
                body;                                                          \
            }                                                                  \
    } while (0)

/* buf:fill(value [, channel]) */
static int buffer_fill(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    double v = luaL_optnumber(L, 2, 0);
    int c = ps_optchannel(L, b, 3);
    if (b->format == PS_FLOAT32 && c == 0) {
        float x = (float)v;
        float *d = (float *)(void *)b->mem->data;
        for (size_t i = 0; i < nsamples(b); i++)
            d[i] = x;
    } else
        EACH_SAMPLE(b, c, ps_sample_set(b->format, p, v));
    lua_settop(L, 1);
    return 1;
}

/* buf:gain(factor [, channel]) */
static int buffer_gain(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    double g = luaL_checknumber(L, 2);
    int c = ps_optchannel(L, b, 3);
    if (b->format == PS_FLOAT32 && c == 0) {
        float x = (float)g;
        float *d = (float *)(void *)b->mem->data;
        for (size_t i = 0; i < nsamples(b); i++)
            d[i] *= x;
    } else
        EACH_SAMPLE(b, c, ps_sample_set(b->format, p, ps_sample_get(b->format, p) * g));
    lua_settop(L, 1);
    return 1;
}

/* buf:add(other [, gain]): buf += other * gain, sample by sample (mix). */
static int buffer_add(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1), *o = ps_checkbuffer(L, 2);
    double g = luaL_optnumber(L, 3, 1.0);
    if (o->frames != b->frames || o->channels != b->channels)
        return luaL_error(L, "cannot add a buffer of %I frames x %d channels to one of %I x %d",
                          (lua_Integer)o->frames, o->channels, (lua_Integer)b->frames, b->channels);
    if (b->format == PS_FLOAT32 && o->format == PS_FLOAT32) {
        /* The generic path's arithmetic (double, rounded to float once),
         * without its two format switches per sample. */
        float *d = (float *)(void *)b->mem->data;
        const float *s = (const float *)(const void *)o->mem->data;
        for (size_t i = 0, n = nsamples(b); i < n; i++)
            d[i] = (float)((double)d[i] + g * (double)s[i]);
        lua_settop(L, 1);
        return 1;
    }
    size_t sb = ps_format_size(b->format), so = ps_format_size(o->format);
    for (size_t i = 0; i < nsamples(b); i++) {
        unsigned char *p = b->mem->data + i * sb;
        ps_sample_set(b->format, p, ps_sample_get(b->format, p) +
                      g * ps_sample_get(o->format, o->mem->data + i * so));
    }
    lua_settop(L, 1);
    return 1;
}

/* Peak |x| and sum of x*x of every channel of float32 frames, in one pass,
 * folded into peak[] and sumsq[] (channels entries each).  The sums are in
 * double, as the generic path's: an hour of audio is 10^8 samples per
 * channel, more than a float sum keeps. */
static void stats_f32(const float *d, size_t frames, int channels, float *peak,
                      double *sumsq)
{
    size_t n = frames * (size_t)channels, i = 0;
#ifdef __SSE2__
    /* 1, 2 or 4 channels divide a 4-float vector: lane j is always channel
     * j % channels, and in the double halves, lanes (0, 1) and (2, 3). */
    if (channels == 1 || channels == 2 || channels == 4) {
        const __m128 absmask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
        __m128 pk = _mm_setzero_ps();
        __m128d lo0 = _mm_setzero_pd(), hi0 = _mm_setzero_pd();
        __m128d lo1 = _mm_setzero_pd(), hi1 = _mm_setzero_pd();
        for (; i + 8 <= n; i += 8) {            /* two independent chains */
            __m128 a = _mm_loadu_ps(d + i), b = _mm_loadu_ps(d + i + 4);
            pk = _mm_max_ps(pk, _mm_and_ps(a, absmask));
            pk = _mm_max_ps(pk, _mm_and_ps(b, absmask));
            __m128d a0 = _mm_cvtps_pd(a), a1 = _mm_cvtps_pd(_mm_movehl_ps(a, a));
            __m128d b0 = _mm_cvtps_pd(b), b1 = _mm_cvtps_pd(_mm_movehl_ps(b, b));
            lo0 = _mm_add_pd(lo0, _mm_mul_pd(a0, a0));
            hi0 = _mm_add_pd(hi0, _mm_mul_pd(a1, a1));
            lo1 = _mm_add_pd(lo1, _mm_mul_pd(b0, b0));
            hi1 = _mm_add_pd(hi1, _mm_mul_pd(b1, b1));
        }
        float p4[4];
        double s4[4];
        _mm_storeu_ps(p4, pk);
        _mm_storeu_pd(s4, _mm_add_pd(lo0, lo1));
        _mm_storeu_pd(s4 + 2, _mm_add_pd(hi0, hi1));
        for (int j = 0; j < 4; j++) {
            int c = j % channels;
            if (p4[j] > peak[c]) peak[c] = p4[j];
            sumsq[c] += s4[j];
        }
    }
#endif
    for (; i < n; i++) {                        /* the rest, or all of it */
        int c = (int)(i % (size_t)channels);
        float a = fabsf(d[i]);
        if (a > peak[c]) peak[c] = a;
        sumsq[c] += (double)d[i] * d[i];
    }
}

/* Per-channel statistic: returns one value per channel, or one for `channel`. */
typedef enum { ST_PEAK, ST_RMS, ST_MIN, ST_MAX } stat_kind;

static int buffer_stat(lua_State *L, stat_kind kind)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    int c = ps_optchannel(L, b, 2);
    int first = c ? c - 1 : 0, last = c ? c : b->channels;
    size_t ss = ps_format_size(b->format);
    luaL_checkstack(L, last - first, "too many channels");
    if (b->format == PS_FLOAT32 && (kind == ST_PEAK || kind == ST_RMS)) {
        /* Every channel in one pass, whichever was asked for. */
        float peak[BUF_MAXCH] = { 0 };
        double sumsq[BUF_MAXCH] = { 0 };
        stats_f32((const float *)(const void *)b->mem->data, (size_t)b->frames,
                  b->channels, peak, sumsq);
        for (int ch = first; ch < last; ch++)
            lua_pushnumber(L, kind == ST_PEAK ? (double)peak[ch]
                              : b->frames ? sqrt(sumsq[ch] / (double)b->frames) : 0);
        return last - first;
    }
    for (int ch = first; ch < last; ch++) {
        double acc = kind == ST_MIN ? INFINITY : kind == ST_MAX ? -INFINITY : 0;
        for (int64_t f = 0; f < b->frames; f++) {
            double v = ps_sample_get(b->format, b->mem->data +
                                     ((size_t)f * (size_t)b->channels + (size_t)ch) * ss);
            switch (kind) {
            case ST_PEAK: if (fabs(v) > acc) acc = fabs(v); break;
            case ST_RMS:  acc += v * v; break;
            case ST_MIN:  if (v < acc) acc = v; break;
            case ST_MAX:  if (v > acc) acc = v; break;
            }
        }
        if (kind == ST_RMS)
            acc = b->frames ? sqrt(acc / (double)b->frames) : 0;
        if (b->frames == 0 && (kind == ST_MIN || kind == ST_MAX))
            acc = 0;
        lua_pushnumber(L, acc);
    }
    return last - first;
}

/* t[i] as a number, 0 when absent. */
static double getnum(lua_State *L, int t, int i)
{
    double v = (lua_rawgeti(L, t, i) == LUA_TNUMBER) ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    return v;
}

/* buf:stats([peak, sumsq]) -> peak, sumsq: every channel's peak |sample|
 * and sum of squares in one pass, folded into the tables given (a running
 * total over chunks: rms = sqrt(sumsq[c] / frames)), or into new ones. */
static int buffer_stats(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    int ch = b->channels;
    for (int a = 2; a <= 3; a++) {
        if (lua_isnoneornil(L, a)) {
            lua_settop(L, a - 1);
            lua_createtable(L, ch, 0);
        } else
            luaL_argexpected(L, lua_type(L, a) == LUA_TTABLE, a,
                             a == 2 ? "table of peaks or nil" : "table of sums or nil");
    }
    lua_settop(L, 3);
    float peak[BUF_MAXCH];
    double sumsq[BUF_MAXCH];
    for (int c = 0; c < ch; c++) {
        peak[c] = (float)getnum(L, 2, c + 1);
        sumsq[c] = getnum(L, 3, c + 1);
    }
    if (b->format == PS_FLOAT32)
        stats_f32((const float *)(const void *)b->mem->data, (size_t)b->frames, ch, peak, sumsq);
    else {
        size_t ss = ps_format_size(b->format);
        for (size_t i = 0; i < nsamples(b); i++) {
            int c = (int)(i % (size_t)ch);
            double v = ps_sample_get(b->format, b->mem->data + i * ss);
            if (fabs(v) > peak[c]) peak[c] = (float)fabs(v);
            sumsq[c] += v * v;
        }
    }
    for (int c = 0; c < ch; c++) {
        lua_pushnumber(L, peak[c]);
        lua_rawseti(L, 2, c + 1);
        lua_pushnumber(L, sumsq[c]);
        lua_rawseti(L, 3, c + 1);
    }
    return 2;
}

static int buffer_peak(lua_State *L) { return buffer_stat(L, ST_PEAK); }
static int buffer_rms(lua_State *L) { return buffer_stat(L, ST_RMS); }
static int buffer_min(lua_State *L) { return buffer_stat(L, ST_MIN); }
static int buffer_max(lua_State *L) { return buffer_stat(L, ST_MAX); }

/* buf:convert(format): a new buffer in another sample format. */
static int buffer_convert(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    ps_format f = ps_checkformat(L, 2, NULL);
    ps_buffer *r = ps_newbuffer(L, b->frames, b->channels, f);
    size_t sb = ps_format_size(b->format), sr = ps_format_size(f);
    for (size_t i = 0; i < nsamples(b); i++)
        ps_sample_set(f, r->mem->data + i * sr, ps_sample_get(b->format, b->mem->data + i * sb));
    return 1;
}

/* buf:equals(other): same shape, format and bytes. */
static int buffer_equals(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1), *o = ps_checkbuffer(L, 2);
    lua_pushboolean(L, b->frames == o->frames && b->channels == o->channels &&
                       b->format == o->format &&
                       memcmp(b->mem->data, o->mem->data, nbytes(b)) == 0);
    return 1;
}

/* Frames the buffer's memory can hold (its size when made). */
static int64_t capacity(const ps_buffer *b)
{
    return (int64_t)(b->mem->bytes / ps_buffer_framebytes(b));
}

static int buffer_capacity(lua_State *L)
{
    lua_pushinteger(L, capacity(ps_checkbuffer(L, 1)));
    return 1;
}

/* buf:resize(frames): change the frame count within the capacity, without
 * allocating (chunk iterators reuse one buffer for chunks of any size). */
static int buffer_resize(lua_State *L)
{
    ps_buffer *b = ps_checkbuffer(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    if (n < 0 || n > capacity(b))
        return luaL_error(L, "cannot resize to %I frames: capacity is %I",
                          n, (lua_Integer)capacity(b));
    b->frames = n;
    lua_settop(L, 1);
    return 1;
}

/* buf:copyfrom(src [, dst_first [, src_first [, count]]]): copy frames from
 * another buffer (or the same one: overlapping ranges are fine) of the same
 * channels and format.  Returns buf. */
static int buffer_copyfrom(lua_State *L)
{
    ps_buffer *d = ps_checkbuffer(L, 1), *s = ps_checkbuffer(L, 2);
    lua_Integer df = luaL_optinteger(L, 3, 1), sf = luaL_optinteger(L, 4, 1);
    /* Indices may be anywhere in the integer range: every sum below is
     * formed only once both starts are known to be >= 1, so none overflows
     * (an overflowed sum passed the range check, and memmove ran wild). */
    int starts_ok = sf >= 1 && df >= 1;
    lua_Integer n = luaL_optinteger(L, 5, starts_ok ? s->frames - (sf - 1) : -1);
    if (d->channels != s->channels || d->format != s->format)
        return luaL_error(L, "cannot copy %d channels of %s into %d channels of %s",
                          s->channels, ps_format_name(s->format), d->channels,
                          ps_format_name(d->format));
    if (!starts_ok || n < 0 || n > s->frames - (sf - 1) || n > d->frames - (df - 1))
        return luaL_error(L, "cannot copy %I frames from frame %I of %I into frame %I of %I",
                          n, sf, (lua_Integer)s->frames, df, (lua_Integer)d->frames);
    size_t fb = ps_buffer_framebytes(d);
    memmove(d->mem->data + (size_t)(df - 1) * fb, s->mem->data + (size_t)(sf - 1) * fb,
            (size_t)n * fb);
    lua_settop(L, 1);
    return 1;
}

static const luaL_Reg methods[] = {
    { "capacity", buffer_capacity }, { "resize", buffer_resize },
    { "copyfrom", buffer_copyfrom },
    { "frames", buffer_frames },     { "channels", buffer_channels },
    { "format", buffer_format },     { "sample", buffer_sample },
    { "sub", buffer_sub },           { "copy", buffer_copy },
    { "tostring", buffer_tostring }, { "totable", buffer_totable },
    { "fill", buffer_fill },         { "gain", buffer_gain },
    { "add", buffer_add },           { "peak", buffer_peak },
    { "rms", buffer_rms },           { "min", buffer_min },
    { "max", buffer_max },           { "convert", buffer_convert },
    { "equals", buffer_equals },     { "stats", buffer_stats },
    { NULL, NULL }
};

static const luaL_Reg metamethods[] = {
    { "__index", buffer_index },     { "__newindex", buffer_newindex },
    { "__len", buffer_len },         { "__tostring", buffer_repr },
    { "__gc", buffer_gc },           { "__close", buffer_gc },
    { NULL, NULL }
};

int luaopen_pastream_buffer(lua_State *L)
{
    luaL_newmetatable(L, PS_BUFFER);
    luaL_setfuncs(L, metamethods, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    lua_pushcfunction(L, buffer_new);
    return 1;
}
