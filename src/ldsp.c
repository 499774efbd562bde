/* pastream.core.dsp: DSP helpers on float32 Buffers, for the recipes.
 *
 *   dsp.window(kind, n)                  -> mono Buffer ("hann", "hamming", "blackman")
 *   dsp.apply_window(buf, win)           -> buf, every channel times win (also buf:apply_window)
 *   dsp.fft_magnitude(buf [, ch [, out]])-> Buffer of n/2+1 magnitudes |X[k]|
 *   dsp.rfft(buf [, ch [, re, im]])      -> re, im Buffers of n/2+1 values
 *   dsp.Biquad{type, freq, q, samplerate, channels} -> filter with :process(buf), :reset()
 *   dsp.to_db(x), dsp.from_db(db)        -- dBFS of an amplitude: 20*log10(|x|)
 *   dsp.gain_db(buf, db [, ch])          -> buf (also buf:gain_db)
 *   dsp.mix(buf [, weights [, out]])     -> mono Buffer: the channels' mean, or weighted sum
 *
 * Windows are symmetric (w[0] = w[n-1]), as numpy.hanning/hamming/blackman
 * and MATLAB's default: the periodic form only matters for exact
 * overlap-add reconstruction, which nothing here does.
 *
 * Channel arguments: nil or 0 means the mean of all channels (a mono
 * signal), 1..channels one channel.  The FFT is KissFFT's real transform,
 * unnormalized (a full-scale sine of n points peaks near n/2).  Its plans
 * and work memory are cached per size in a userdata that is an upvalue of
 * the FFT functions, so repeated calls on one chunk size allocate nothing
 * but the result (and nothing at all when `out` buffers are given). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kiss_fftr.h>

#include "lpastream.h"

#define PS_BIQUAD "pastream.Biquad"
#define FFT_CACHE 8   /* plan sizes kept; the oldest is replaced */

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- argument helpers ---- */

static ps_buffer *tofloatbuf(lua_State *L, int idx)
{
    ps_buffer *b = ps_checkbuffer(L, idx);
    if (b->format != PS_FLOAT32)
        luaL_argerror(L, idx, lua_pushfstring(L,
            "DSP needs a float32 buffer, got %s (use buf:convert('float32'))",
            ps_format_name(b->format)));
    return b;
}

static float *fdata(const ps_buffer *b) { return (float *)(void *)b->mem->data; }


/* An optional mono float32 result buffer at idx, resized to `frames`
 * within its capacity; or a new one.  Leaves it on the stack top. */
static float *outbuffer(lua_State *L, int idx, int64_t frames, const char *what)
{
    if (lua_isnoneornil(L, idx))
        return fdata(ps_newbuffer(L, frames, 1, PS_FLOAT32));
    ps_buffer *o = tofloatbuf(L, idx);
    if (o->channels != 1 || (int64_t)(o->mem->bytes / sizeof(float)) < frames)
        luaL_argerror(L, idx, lua_pushfstring(L,
            "%s needs a mono buffer of capacity >= %I frames, got %d channels, capacity %I",
            what, (lua_Integer)frames, o->channels,
            (lua_Integer)(o->mem->bytes / sizeof(float) / (size_t)o->channels)));
    o->frames = frames;
    lua_pushvalue(L, idx);
    return fdata(o);
}

/* Channel c of b (0: mean of channels) into dst, frames samples. */
static void take_channel(const ps_buffer *b, int c, float *dst)
{
    const float *s = fdata(b);
    int nc = b->channels;
    if (c) {
        for (int64_t f = 0; f < b->frames; f++)
            dst[f] = s[f * nc + c - 1];
        return;
    }
    for (int64_t f = 0; f < b->frames; f++) {
        double acc = 0;
        for (int ch = 0; ch < nc; ch++)
            acc += s[f * nc + ch];
        dst[f] = (float)(acc / nc);
    }
}

/* ---- windows ---- */

static int dsp_window(lua_State *L)
{
    static const char *const kinds[] = { "hann", "hamming", "blackman", NULL };
    int kind = luaL_checkoption(L, 1, NULL, kinds);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 1, 2, "window length must be >= 1");
    float *w = fdata(ps_newbuffer(L, n, 1, PS_FLOAT32));
    if (n == 1) {
        w[0] = 1;
        return 1;
    }
    for (lua_Integer i = 0; i < n; i++) {
        double x = 2 * M_PI * (double)i / (double)(n - 1);
        double v;
        switch (kind) {
        case 0:  v = 0.5 - 0.5 * cos(x); break;
        case 1:  v = 0.54 - 0.46 * cos(x); break;
        default: v = 0.42 - 0.5 * cos(x) + 0.08 * cos(2 * x); break;
        }
        w[i] = (float)v;
    }
    return 1;
}

static int dsp_apply_window(lua_State *L)
{
    ps_buffer *b = tofloatbuf(L, 1), *w = tofloatbuf(L, 2);
    if (w->channels != 1 || w->frames != b->frames)
        return luaL_error(L, "window of %I frames x %d channels does not fit a buffer of %I "
                          "frames (it must be mono and as long)", (lua_Integer)w->frames,
                          w->channels, (lua_Integer)b->frames);
    float *d = fdata(b);
    const float *wd = fdata(w);
    int nc = b->channels;
    for (int64_t f = 0; f < b->frames; f++)
        for (int c = 0; c < nc; c++)
            d[f * nc + c] *= wd[f];
    lua_settop(L, 1);
    return 1;
}

/* ---- FFT ---- */

typedef struct fft_plan {
    int n;
    kiss_fftr_cfg cfg;
    float *in;            /* n real samples */
    kiss_fft_cpx *out;    /* n/2 + 1 bins */
} fft_plan;

typedef struct fft_cache {
    fft_plan p[FFT_CACHE];
    int next;             /* slot to replace when all are used */
} fft_cache;

static void plan_free(fft_plan *p)
{
    kiss_fftr_free(p->cfg);
    free(p->in);
    free(p->out);
    memset(p, 0, sizeof *p);
}

static int cache_gc(lua_State *L)
{
    fft_cache *c = lua_touserdata(L, 1);
    for (int i = 0; i < FFT_CACHE; i++)
        plan_free(&c->p[i]);
    return 0;
}

static fft_plan *get_plan(lua_State *L, int64_t n)
{
    fft_cache *c = lua_touserdata(L, lua_upvalueindex(1));
    if (n < 2 || n % 2 || n > (1 << 26))
        luaL_error(L, "FFT size must be even and 2..%d, got %I", 1 << 26, (lua_Integer)n);
    for (int i = 0; i < FFT_CACHE; i++)
        if (c->p[i].n == n)
            return &c->p[i];
    fft_plan *p = &c->p[c->next];
    c->next = (c->next + 1) % FFT_CACHE;
    plan_free(p);
    p->cfg = kiss_fftr_alloc((int)n, 0, NULL, NULL);
    p->in = malloc((size_t)n * sizeof *p->in);
    p->out = malloc(((size_t)n / 2 + 1) * sizeof *p->out);
    if (!p->cfg || !p->in || !p->out) {
        plan_free(p);
        luaL_error(L, "not enough memory for an FFT of %I points", (lua_Integer)n);
    }
    p->n = (int)n;
    return p;
}

/* Transform channel `c` of the buffer at 1; returns the plan holding the bins. */
static fft_plan *transform(lua_State *L, int chidx)
{
    ps_buffer *b = tofloatbuf(L, 1);
    int c = ps_optchannel(L, b, chidx);
    fft_plan *p = get_plan(L, b->frames);
    if (c == 0 && b->channels == 1) {
        kiss_fftr(p->cfg, fdata(b), p->out);
    } else {
        take_channel(b, c, p->in);
        kiss_fftr(p->cfg, p->in, p->out);
    }
    return p;
}

static int dsp_fft_magnitude(lua_State *L)
{
    fft_plan *p = transform(L, 2);
    int nb = p->n / 2 + 1;
    float *m = outbuffer(L, 3, nb, "fft_magnitude");
    for (int k = 0; k < nb; k++)
        m[k] = (float)hypot(p->out[k].r, p->out[k].i);
    return 1;
}

static int dsp_rfft(lua_State *L)
{
    fft_plan *p = transform(L, 2);
    int nb = p->n / 2 + 1;
    float *re = outbuffer(L, 3, nb, "rfft (re)");
    float *im = outbuffer(L, 4, nb, "rfft (im)");
    for (int k = 0; k < nb; k++) {
        re[k] = p->out[k].r;
        im[k] = p->out[k].i;
    }
    return 2;
}

/* ---- gain, dB, mix ---- */

static int dsp_to_db(lua_State *L)
{
    double x = fabs(luaL_checknumber(L, 1));
    lua_pushnumber(L, x > 0 ? 20 * log10(x) : -HUGE_VAL);
    return 1;
}

static int dsp_from_db(lua_State *L)
{
    lua_pushnumber(L, pow(10, luaL_checknumber(L, 1) / 20));
    return 1;
}

static int dsp_gain_db(lua_State *L)
{
    ps_buffer *b = tofloatbuf(L, 1);
    float g = (float)pow(10, luaL_checknumber(L, 2) / 20);
    int c = ps_optchannel(L, b, 3);
    float *d = fdata(b);
    int nc = b->channels;
    for (int64_t f = 0; f < b->frames; f++)
        for (int ch = 0; ch < nc; ch++)
            if (!c || ch == c - 1)
                d[f * nc + ch] *= g;
    lua_settop(L, 1);
    return 1;
}

static int dsp_mix(lua_State *L)
{
    ps_buffer *b = tofloatbuf(L, 1);
    int nc = b->channels;
    if (lua_isnoneornil(L, 2)) {
        float *d = outbuffer(L, 3, b->frames, "mix");
        take_channel(b, 0, d);
        return 1;
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    if (luaL_len(L, 2) != nc)
        return luaL_argerror(L, 2, lua_pushfstring(L, "%I weights for a buffer of %d channels",
                                                   luaL_len(L, 2), nc));
    double w[1024];
    for (int c = 0; c < nc; c++) {
        int isnum;
        w[c] = (lua_geti(L, 2, c + 1), lua_tonumberx(L, -1, &isnum));
        if (!isnum)
            return luaL_argerror(L, 2, lua_pushfstring(L, "weight %d is not a number", c + 1));
        lua_pop(L, 1);
    }
    float *d = outbuffer(L, 3, b->frames, "mix");
    const float *s = fdata(b);
    for (int64_t f = 0; f < b->frames; f++) {
        double acc = 0;
        for (int c = 0; c < nc; c++)
            acc += w[c] * s[f * nc + c];
        d[f] = (float)acc;
    }
    return 1;
}

/* ---- biquad (RBJ Audio EQ Cookbook, direct form II transposed) ---- */

typedef struct biquad {
    double b0, b1, b2, a1, a2;   /* normalized by a0 */
    int channels;
    double z[][2];               /* per channel state */
} biquad;

static biquad *tobiquad(lua_State *L) { return luaL_checkudata(L, 1, PS_BIQUAD); }

static double numfield(lua_State *L, const char *k, double def, int required)
{
    lua_getfield(L, 1, k);
    int isnum;
    double v = lua_tonumberx(L, -1, &isnum);
    if (lua_isnil(L, -1)) {
        if (required)
            luaL_error(L, "Biquad: '%s' is required", k);
        v = def;
    } else if (!isnum)
        luaL_error(L, "Biquad: '%s' must be a number, got %s", k, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* dsp.Biquad{type=, freq=, q=0.7071, samplerate=, channels=1} */
static int dsp_biquad(lua_State *L)
{
    static const char *const types[] = { "lowpass", "highpass", "bandpass", NULL };
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "type");
    const char *tname = lua_tostring(L, -1);
    int type = -1;
    for (int i = 0; tname && types[i]; i++)
        if (strcmp(tname, types[i]) == 0)
            type = i;
    if (type < 0)
        return luaL_error(L, "Biquad: type must be 'lowpass', 'highpass' or 'bandpass', got %s",
                          tname ? tname : luaL_typename(L, -1));
    lua_pop(L, 1);
    double fs = numfield(L, "samplerate", 0, 1);
    double f0 = numfield(L, "freq", 0, 1);
    double q = numfield(L, "q", M_SQRT1_2, 0);
    double chs = numfield(L, "channels", 1, 0);
    if (!(fs > 0))
        return luaL_error(L, "Biquad: samplerate must be > 0, got %f", fs);
    if (!(f0 > 0 && f0 < fs / 2))
        return luaL_error(L, "Biquad: freq must be between 0 and samplerate/2 (%f), got %f",
                          fs / 2, f0);
    if (!(q > 0))
        return luaL_error(L, "Biquad: q must be > 0, got %f", q);
    if (!(chs >= 1 && chs <= 1024 && chs == floor(chs)))
        return luaL_error(L, "Biquad: channels must be an integer 1..1024, got %f", chs);
    int nc = (int)chs;

    double w0 = 2 * M_PI * f0 / fs, cw = cos(w0), alpha = sin(w0) / (2 * q);
    double b0, b1, b2, a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
    switch (type) {
    case 0:  b0 = (1 - cw) / 2; b1 = 1 - cw; b2 = b0; break;
    case 1:  b0 = (1 + cw) / 2; b1 = -(1 + cw); b2 = b0; break;
    default: b0 = alpha; b1 = 0; b2 = -alpha; break;   /* 0 dB peak gain */
    }
    biquad *bq = lua_newuserdatauv(L, sizeof *bq + (size_t)nc * sizeof bq->z[0], 0);
    bq->b0 = b0 / a0; bq->b1 = b1 / a0; bq->b2 = b2 / a0;
    bq->a1 = a1 / a0; bq->a2 = a2 / a0;
    bq->channels = nc;
    memset(bq->z, 0, (size_t)nc * sizeof bq->z[0]);
    luaL_setmetatable(L, PS_BIQUAD);
    return 1;
}

/* bq:process(buf) -> buf, filtered in place; the state carries over to the next call. */
static int biquad_process(lua_State *L)
{
    biquad *q = tobiquad(L);
    ps_buffer *b = tofloatbuf(L, 2);
    if (b->channels != q->channels)
        return luaL_error(L, "Biquad for %d channels cannot process a buffer of %d channels",
                          q->channels, b->channels);
    float *d = fdata(b);
    int nc = b->channels;
    for (int c = 0; c < nc; c++) {
        double z1 = q->z[c][0], z2 = q->z[c][1];
        for (int64_t f = 0; f < b->frames; f++) {
            double x = d[f * nc + c];
            double y = q->b0 * x + z1;
            z1 = q->b1 * x - q->a1 * y + z2;
            z2 = q->b2 * x - q->a2 * y;
            d[f * nc + c] = (float)y;
        }
        q->z[c][0] = z1;
        q->z[c][1] = z2;
    }
    lua_settop(L, 2);
    return 1;
}

static int biquad_reset(lua_State *L)
{
    biquad *q = tobiquad(L);
    memset(q->z, 0, (size_t)q->channels * sizeof q->z[0]);
    lua_settop(L, 1);
    return 1;
}

/* bq:coefficients() -> b0, b1, b2, a1, a2 (normalized, a0 = 1) */
static int biquad_coefficients(lua_State *L)
{
    biquad *q = tobiquad(L);
    lua_pushnumber(L, q->b0); lua_pushnumber(L, q->b1); lua_pushnumber(L, q->b2);
    lua_pushnumber(L, q->a1); lua_pushnumber(L, q->a2);
    return 5;
}

static int biquad_channels(lua_State *L)
{
    lua_pushinteger(L, tobiquad(L)->channels);
    return 1;
}

static int biquad_repr(lua_State *L)
{
    lua_pushfstring(L, "Biquad(%d channel%s)", tobiquad(L)->channels,
                    tobiquad(L)->channels == 1 ? "" : "s");
    return 1;
}

static const luaL_Reg biquad_methods[] = {
    { "process", biquad_process }, { "reset", biquad_reset },
    { "coefficients", biquad_coefficients }, { "channels", biquad_channels },
    { NULL, NULL }
};

static const luaL_Reg biquad_meta[] = {
    { "__tostring", biquad_repr }, { "__index", NULL },
    { NULL, NULL }
};

static const luaL_Reg dsp_funcs[] = {
    { "window", dsp_window }, { "apply_window", dsp_apply_window },
    { "to_db", dsp_to_db },   { "from_db", dsp_from_db },
    { "gain_db", dsp_gain_db }, { "mix", dsp_mix },
    { "Biquad", dsp_biquad },
    { NULL, NULL }
};

static const luaL_Reg fft_funcs[] = {   /* upvalue: the plan cache */
    { "fft_magnitude", dsp_fft_magnitude }, { "rfft", dsp_rfft },
    { NULL, NULL }
};

/* Sets core.dsp in the table on top, and buf:apply_window / buf:gain_db
 * (call it after the Buffer type is registered). */
void ps_dsp_functions(lua_State *L)
{
    luaL_newmetatable(L, PS_BIQUAD);
    luaL_setfuncs(L, biquad_meta, 0);
    luaL_newlib(L, biquad_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    luaL_newlib(L, dsp_funcs);
    fft_cache *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, cache_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    luaL_setfuncs(L, fft_funcs, 1);

    if (luaL_getmetatable(L, PS_BUFFER) == LUA_TTABLE &&
        lua_getfield(L, -1, "methods") == LUA_TTABLE) {
        lua_getfield(L, -3, "apply_window");
        lua_setfield(L, -2, "apply_window");
        lua_getfield(L, -3, "gain_db");
        lua_setfield(L, -2, "gain_db");
    }
    lua_pop(L, 2);
    lua_setfield(L, -2, "dsp");
}
