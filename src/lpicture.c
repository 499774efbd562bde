/* pastream.core pictures: a spectrogram and a waveform drawn as PNG files.
 *
 *   core.Spectrogram{frames, channels, samplerate, width, height, fft,
 *                    window, range, log, fmin, mix} -> sp
 *   core.Waveform{frames, channels, samplerate, width, height, scale,
 *                 range, clip}                      -> wf
 *   sp:add(buf) / wf:add(buf)      float32 chunks of the signal, in order
 *   sp:write(path, title, caption) -> info table (layout, ticks), or nil, msg
 *   core.read_png(path)            -> {width, height, pixels = RGB string}, or nil, msg
 *
 * Both pictures are accumulated in one pass over chunks of any size (the
 * recipes feed offline chunks of a file; a Buffer is one chunk), so a file
 * of an hour never sits in memory.  A spectrogram column averages the power
 * spectra of Hann-windowed FFTs (KissFFT) at half-window hops across the
 * frames the column covers, like sox's; a waveform column keeps each
 * channel's min, max, RMS and whether a sample reached the clip level.
 * lua/pastream/picture.lua is the API on top (ps.spectrogram, ps.waveform).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiss_fftr.h>

#include "image.h"
#include "lpastream.h"

#define PS_SPECTROGRAM "pastream.Spectrogram"
#define PS_WAVEFORM "pastream.Waveform"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* colours */
#define C_BG      PS_RGB(0, 0, 0)
#define C_FRAME   PS_RGB(128, 128, 128)
#define C_TEXT    PS_RGB(220, 220, 220)
#define C_DIM     PS_RGB(150, 150, 150)
#define C_CLIP    PS_RGB(255, 0, 0)      /* used for clip marks only */

/* The first frame of column c of w, for a signal of n frames: frame f
 * falls in column floor(f * w / n). */
static int64_t col_edge(int64_t c, int64_t n, int w) { return (c * n + w - 1) / w; }

/* ---- options ---- */

static lua_Number opt_num(lua_State *L, const char *k, lua_Number def, lua_Number lo, lua_Number hi)
{
    lua_getfield(L, 1, k);
    lua_Number v = def;
    if (!lua_isnil(L, -1)) {
        int ok;
        v = lua_tonumberx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "option '%s': a number expected, got %s", k, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    if (!(v >= lo && v <= hi)) {
        char msg[160];
        snprintf(msg, sizeof msg, "option '%s' must be within %g..%g, got %g", k, lo, hi, v);
        luaL_error(L, "%s", msg);
    }
    return v;
}

static int opt_int(lua_State *L, const char *k, int def, int lo, int hi)
{
    lua_Number v = opt_num(L, k, def, lo, hi);
    if (v != floor(v)) {
        char msg[120];
        snprintf(msg, sizeof msg, "option '%s' must be an integer, got %g", k, v);
        luaL_error(L, "%s", msg);
    }
    return (int)v;
}

static int opt_bool(lua_State *L, const char *k)
{
    lua_getfield(L, 1, k);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static const char *opt_str(lua_State *L, const char *k, const char *def)
{
    lua_getfield(L, 1, k);
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)   /* no number converted on the stack */
        luaL_error(L, "option '%s': a string expected, got %s", k, luaL_typename(L, -1));
    const char *s = lua_isnil(L, -1) ? def : lua_tostring(L, -1);
    lua_pop(L, 1);   /* the string stays alive in the options table */
    return s;
}

static const ps_buffer *checkchunk(lua_State *L, int idx, int channels)
{
    ps_buffer *b = ps_checkbuffer(L, idx);
    if (!b->mem)
        luaL_error(L, "attempt to use a freed buffer");
    if (b->format != PS_FLOAT32)
        luaL_argerror(L, idx, lua_pushfstring(L, "a float32 buffer expected, got %s",
                                              ps_format_name(b->format)));
    if (b->channels != channels)
        luaL_argerror(L, idx, lua_pushfstring(L, "%d channels expected, got %d",
                                              channels, b->channels));
    return b;
}

/* ---- the frame around the panes, shared by both pictures ---- */

typedef struct layout {
    int left, top, pw, ph, gap, panes, w, h;
} layout;

static void layout_init(layout *lo, int pw, int ph, int panes, int right)
{
    lo->left = 64, lo->top = 30, lo->gap = 14;
    lo->pw = pw, lo->ph = ph, lo->panes = panes;
    lo->w = lo->left + pw + 1 + right;
    lo->h = lo->top + panes * ph + (panes - 1) * lo->gap + 1 + 40;
}

static int pane_top(const layout *lo, int p) { return lo->top + p * (lo->ph + lo->gap); }
static int panes_bottom(const layout *lo) { return pane_top(lo, lo->panes - 1) + lo->ph; }

static void push_layout(lua_State *L, const layout *lo)
{
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, lo->w); lua_setfield(L, -2, "width");
    lua_pushinteger(L, lo->h); lua_setfield(L, -2, "height");
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, lo->left); lua_setfield(L, -2, "x");
    lua_pushinteger(L, lo->top); lua_setfield(L, -2, "y");
    lua_pushinteger(L, lo->pw); lua_setfield(L, -2, "width");
    lua_pushinteger(L, lo->ph); lua_setfield(L, -2, "height");
    lua_setfield(L, -2, "plot");
    lua_createtable(L, lo->panes, 0);
    for (int p = 0; p < lo->panes; p++) {
        lua_pushinteger(L, pane_top(lo, p));
        lua_rawseti(L, -2, p + 1);
    }
    lua_setfield(L, -2, "pane_y");
}

/* Pane borders, the channel names, the time axis, title and caption.
 * Leaves info.xticks = {{value, x}, ...} in the table on the stack top. */
static void draw_frame(lua_State *L, ps_image *im, const layout *lo, double seconds,
                       const char *title, const char *caption, int named)
{
    for (int p = 0; p < lo->panes; p++) {
        int y = pane_top(lo, p);
        ps_image_rect(im, lo->left - 1, y - 1, lo->pw + 2, 1, C_FRAME);
        ps_image_rect(im, lo->left - 1, y + lo->ph, lo->pw + 2, 1, C_FRAME);
        ps_image_rect(im, lo->left - 1, y - 1, 1, lo->ph + 2, C_FRAME);
        ps_image_rect(im, lo->left + lo->pw, y - 1, 1, lo->ph + 2, C_FRAME);
        if (named) {
            char name[32];
            snprintf(name, sizeof name, "channel %d", p + 1);
            ps_image_text(im, lo->left + lo->pw - ps_text_width(name), y - 11, name, C_DIM);
        }
    }
    /* time ticks: round values at least 60 pixels apart */
    int yb = panes_bottom(lo) + 1;
    double step = ps_nice_step(seconds > 0 ? seconds * 60.0 / lo->pw : 1);
    lua_newtable(L);
    int n = 0;
    for (int i = 0;; i++) {
        double t = i * step;
        if (t > seconds * (1 + 1e-9))
            break;
        int x = lo->left + (seconds > 0 ? (int)lround(t / seconds * lo->pw) : 0);
        char lab[32];
        ps_format_tick(lab, sizeof lab, t);
        ps_image_rect(im, x, yb, 1, 4, C_FRAME);
        int tw = ps_text_width(lab);
        int tx = x - tw / 2;
        if (tx + tw > im->w - 1)
            tx = im->w - 1 - tw;
        ps_image_text(im, tx, yb + 6, lab, C_TEXT);
        lua_createtable(L, 0, 2);
        lua_pushnumber(L, t); lua_setfield(L, -2, "value");
        lua_pushinteger(L, x); lua_setfield(L, -2, "x");
        lua_rawseti(L, -2, ++n);
        if (i > 100000)
            break;
    }
    lua_setfield(L, -2, "xticks");
    const char *xt = "Time (s)";
    ps_image_text(im, lo->left + (lo->pw - ps_text_width(xt)) / 2, yb + 18, xt, C_TEXT);
    if (title && *title) {
        int tw = ps_text_width(title);
        int tx = lo->left + (lo->pw - tw) / 2;
        ps_image_text(im, tx < 2 ? 2 : tx, 6, title, C_TEXT);
    }
    if (caption && *caption)
        ps_image_text(im, 2, lo->h - 10, caption, C_DIM);
}

/* A y tick of pane p at row y: a mark and a label to its left. */
static void ytick(lua_State *L, ps_image *im, const layout *lo, int y, double value,
                  const char *lab, int *n)
{
    ps_image_rect(im, lo->left - 5, y, 4, 1, C_FRAME);
    ps_image_text(im, lo->left - 7 - ps_text_width(lab), y - 3, lab, C_TEXT);
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, value); lua_setfield(L, -2, "value");
    lua_pushinteger(L, y); lua_setfield(L, -2, "y");
    lua_rawseti(L, -2, ++*n);
}

static void axis_title_up(ps_image *im, const layout *lo, const char *s)
{
    int h = panes_bottom(lo) - lo->top;
    ps_image_text_up(im, 3, lo->top + (h - ps_text_width(s)) / 2, s, C_TEXT);
}

static int write_or_fail(lua_State *L, ps_image *im, const char *path)
{
    char err[512];
    int r = ps_image_write_png(im, path, err, sizeof err);
    ps_image_free(im);
    if (r != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

/* ================= the spectrogram ================= */

typedef struct spectro {
    int64_t frames;         /* the signal's length, as told */
    int channels, panes;    /* panes: 1 when mixed */
    double rate;
    int width, height;      /* plot columns, rows per pane */
    int nfft, nbins, logf;
    double range, fmin;
    const char *window_name;
    float *win;
    double wscale;          /* |X|^2 times this: power relative to a full-scale sine */
    kiss_fftr_cfg cfg;
    kiss_fft_cpx *out;
    float *tmp;
    float *hist;            /* interleaved frames hstart .. hstart + hlen */
    int64_t hstart, hlen, hcap;
    int64_t received;
    int col, j, k;          /* the next window: window j of k in column col */
    double *acc;            /* panes x nbins power sums of the current column */
    float *rowlo, *rowhi, *rowc;   /* the bins each pixel row covers (from the bottom) */
    uint8_t *level;         /* panes x height x width palette indices, rows top down */
    int64_t windows;
} spectro;

static spectro *tospectro(lua_State *L)
{
    spectro *s = luaL_checkudata(L, 1, PS_SPECTROGRAM);
    if (!s->level)
        luaL_error(L, "attempt to use a closed spectrogram");
    return s;
}

static void spectro_free(spectro *s)
{
    free(s->win); free(s->out); free(s->tmp); free(s->hist); free(s->acc);
    free(s->rowlo); free(s->rowhi); free(s->rowc); free(s->level);
    if (s->cfg)
        kiss_fftr_free(s->cfg);
    memset(s, 0, sizeof *s);
}

/* close, __gc and __close: safe to call twice */
static int spectro_close(lua_State *L)
{
    spectro_free(luaL_checkudata(L, 1, PS_SPECTROGRAM));
    return 0;
}

/* The first frame of window j of k in column c. */
static int64_t window_start(const spectro *s, int c, int j, int k)
{
    int64_t s0 = col_edge(c, s->frames, s->width), s1 = col_edge(c + 1, s->frames, s->width);
    int64_t st = s0 + (s1 - s0) * (2 * j + 1) / (2 * k) - s->nfft / 2;
    /* windows stay inside the signal when it is long enough: one that
     * straddles an end sees a step there, which smears over every bin */
    if (st > s->frames - s->nfft) st = s->frames - s->nfft;
    return st < 0 ? 0 : st;
}

static int windows_in(const spectro *s, int c)
{
    int64_t span = col_edge(c + 1, s->frames, s->width) - col_edge(c, s->frames, s->width);
    /* half-window hops, so that every frame weighs alike; a column of four
     * windows or more averages enough without the overlap, at half the cost */
    int64_t hop = span >= 4 * (int64_t)s->nfft ? s->nfft : s->nfft / 2;
    int64_t k = (span + hop - 1) / hop;
    return k < 1 ? 1 : (int)k;
}

/* Bin position (fractional) of the frequency at pixel row r, r = 0 at the
 * bottom; r may be half-way between rows (the edges). */
static double row_bin(const spectro *s, double r)
{
    double nyq = s->rate / 2, t = r / (s->height - 1), f;
    if (s->logf)
        f = s->fmin * pow(nyq / s->fmin, t);
    else
        f = t * nyq;
    return f / nyq * (s->nbins - 1);
}

/* One window at frame `start`: its power spectrum added to acc, per pane. */
static void spectro_window(spectro *s, int64_t start)
{
    int nc = s->channels, n = s->nfft;
    /* the frames of the window that are there; silence around them */
    int64_t a = start > s->hstart ? start : s->hstart;
    int64_t b = start + n;
    if (b > s->hstart + s->hlen) b = s->hstart + s->hlen;
    if (b > s->received) b = s->received;
    int i0 = a - start < n ? (int)(a - start) : n, i1 = b > a ? (int)(b - start) : i0;
    const float *fr = s->hist + (size_t)(a - s->hstart) * (size_t)nc;
    for (int p = 0; p < s->panes; p++) {
        float *t = s->tmp;
        memset(t, 0, sizeof(float) * (size_t)i0);
        memset(t + i1, 0, sizeof(float) * (size_t)(n - i1));
        if (s->panes == nc) {
            const float *x = fr + p;
            for (int i = i0; i < i1; i++, x += nc)
                t[i] = *x * s->win[i];
        } else {
            const float *x = fr;
            float g = 1.0f / (float)nc;
            for (int i = i0; i < i1; i++, x += nc) {
                float m = 0;
                for (int c = 0; c < nc; c++)
                    m += x[c];
                t[i] = m * g * s->win[i];
            }
        }
        kiss_fftr(s->cfg, s->tmp, s->out);
        double *acc = s->acc + (size_t)p * (size_t)s->nbins;
        for (int b = 0; b < s->nbins; b++)
            acc[b] += (double)s->out[b].r * s->out[b].r + (double)s->out[b].i * s->out[b].i;
    }
    s->windows++;
}

/* The column's averaged spectra turned into palette indices. */
static void spectro_column(spectro *s)
{
    for (int p = 0; p < s->panes; p++) {
        double *acc = s->acc + (size_t)p * (size_t)s->nbins;
        for (int r = 0; r < s->height; r++) {
            int lo = (int)ceil(s->rowlo[r]), hi = (int)floor(s->rowhi[r]);
            if (lo < 0) lo = 0;
            if (hi > s->nbins - 1) hi = s->nbins - 1;
            double pw;
            if (hi > lo) {            /* several bins in the row: the strongest */
                pw = acc[lo];
                for (int b = lo + 1; b <= hi; b++)
                    if (acc[b] > pw) pw = acc[b];
            } else {                  /* between bins: interpolated */
                double c = s->rowc[r];
                int b0 = (int)floor(c);
                if (b0 >= s->nbins - 1)
                    pw = acc[s->nbins - 1];
                else {
                    double fr = c - b0;
                    pw = acc[b0] * (1 - fr) + acc[b0 + 1] * fr;
                }
            }
            /* log2f: a float is exact enough for a pixel, and much faster */
            double db = 3.0102999566398120 * log2f((float)(pw / s->k * s->wscale) + 1e-30f);
            double t = (db + s->range) / s->range;
            int lv = t <= 0 ? 0 : t >= 1 ? PS_HEAT_LEVELS - 1 : (int)lround(t * (PS_HEAT_LEVELS - 1));
            int y = s->height - 1 - r;
            s->level[((size_t)p * (size_t)s->height + (size_t)y) * (size_t)s->width + (size_t)s->col] = (uint8_t)lv;
        }
        memset(acc, 0, sizeof(double) * (size_t)s->nbins);
    }
}

/* Every window whose frames have all arrived (or all of them when `all`). */
static void spectro_run(spectro *s, int all)
{
    while (s->col < s->width) {
        int64_t st = window_start(s, s->col, s->j, s->k);
        if (!all && st + s->nfft > s->received && s->received < s->frames)
            return;
        spectro_window(s, st);
        if (++s->j == s->k) {
            spectro_column(s);
            s->j = 0;
            if (++s->col < s->width)
                s->k = windows_in(s, s->col);
        }
    }
}

static int spectro_add(lua_State *L)
{
    spectro *s = tospectro(L);
    const ps_buffer *b = checkchunk(L, 2, s->channels);
    const float *src = (const float *)(const void *)b->mem->data;
    int nc = s->channels;
    int64_t left = b->frames;
    while (left > 0) {
        /* drop what no window needs any more, then append a piece */
        int64_t need = s->col < s->width ? window_start(s, s->col, s->j, s->k) : s->received;
        if (need > s->hstart) {
            int64_t drop = need - s->hstart;
            if (drop > s->hlen) drop = s->hlen;
            memmove(s->hist, s->hist + (size_t)drop * (size_t)nc,
                    (size_t)(s->hlen - drop) * (size_t)nc * sizeof(float));
            s->hstart += drop, s->hlen -= drop;
        }
        if (s->hlen == 0)
            s->hstart = s->received;
        int64_t piece = s->hcap - s->hlen;
        if (piece > left) piece = left;
        memcpy(s->hist + (size_t)s->hlen * (size_t)nc, src, (size_t)piece * (size_t)nc * sizeof(float));
        s->hlen += piece, s->received += piece;
        src += (size_t)piece * (size_t)nc, left -= piece;
        spectro_run(s, 0);
    }
    lua_settop(L, 1);
    return 1;
}

static int spectro_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Number frames = opt_num(L, "frames", -1, 1, 1e14);
    int channels = opt_int(L, "channels", 1, 1, 64);
    double rate = opt_num(L, "samplerate", 48000, 1, 1e7);
    int mix = opt_bool(L, "mix");
    int panes = mix ? 1 : channels;
    int width = opt_int(L, "width", 800, 16, 8000);
    int defh = panes == 1 ? 513 : panes == 2 ? 257 : panes <= 4 ? 129 : 65;
    int height = opt_int(L, "height", defh, 16, 4000);
    int logf = opt_bool(L, "log");
    if ((lua_Integer)height * panes + 14 * (panes - 1) > 16000)
        luaL_error(L, "option 'height': %d rows x %d panes make a picture over 16000 pixels high "
                   "(use a smaller height, or mix = true)", height, panes);
    int deffft = 16;   /* a bin a row; a log axis spreads the low bins over many rows: 4x finer */
    while (deffft / 2 + 1 < height)
        deffft *= 2;
    if (logf)
        deffft *= 4;
    int nfft = opt_int(L, "fft", deffft, 16, 65536);
    if (nfft % 2)
        luaL_error(L, "option 'fft' must be even, got %d", nfft);
    double range = opt_num(L, "range", 120, 10, 200);
    double fmin = opt_num(L, "fmin", fmax(20, rate / nfft), 1e-3, rate / 2 * 0.999);
    static const char *const wins[] = { "hann", "hamming", "blackman", "rectangular", NULL };
    const char *wname = opt_str(L, "window", "hann");
    int wk = -1;
    for (int i = 0; wins[i]; i++)
        if (!strcmp(wins[i], wname)) wk = i;
    if (wk < 0)
        luaL_error(L, "option 'window': hann, hamming, blackman or rectangular, got '%s'", wname);

    spectro *s = lua_newuserdatauv(L, sizeof *s, 0);
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, PS_SPECTROGRAM);
    s->frames = (int64_t)frames, s->channels = channels, s->panes = panes, s->rate = rate;
    s->width = width, s->height = height, s->nfft = nfft, s->nbins = nfft / 2 + 1;
    s->logf = logf, s->range = range, s->fmin = fmin, s->window_name = wins[wk];
    s->hcap = nfft + 65536;
    s->win = malloc(sizeof(float) * (size_t)nfft);
    s->tmp = malloc(sizeof(float) * (size_t)nfft);
    s->out = malloc(sizeof(kiss_fft_cpx) * (size_t)s->nbins);
    s->hist = malloc(sizeof(float) * (size_t)s->hcap * (size_t)channels);
    s->acc = calloc((size_t)panes * (size_t)s->nbins, sizeof(double));
    s->rowlo = malloc(sizeof(float) * (size_t)height);
    s->rowhi = malloc(sizeof(float) * (size_t)height);
    s->rowc = malloc(sizeof(float) * (size_t)height);
    s->level = calloc((size_t)panes * (size_t)height * (size_t)width, 1);
    s->cfg = kiss_fftr_alloc(nfft, 0, NULL, NULL);
    if (!s->win || !s->tmp || !s->out || !s->hist || !s->acc || !s->rowlo || !s->rowhi
        || !s->rowc || !s->level || !s->cfg) {
        spectro_free(s);
        return luaL_error(L, "out of memory for a %dx%d spectrogram", width, height);
    }
    double sum = 0;
    for (int i = 0; i < nfft; i++) {
        double x = 2 * M_PI * i / nfft, w;   /* periodic: hops of n/2 sum flat */
        switch (wk) {
        case 0:  w = 0.5 - 0.5 * cos(x); break;
        case 1:  w = 0.54 - 0.46 * cos(x); break;
        case 2:  w = 0.42 - 0.5 * cos(x) + 0.08 * cos(2 * x); break;
        default: w = 1; break;
        }
        s->win[i] = (float)w;
        sum += w;
    }
    s->wscale = 4 / (sum * sum);   /* (2 |X| / sum w)^2: a full-scale sine's bin reads 1 */
    for (int r = 0; r < height; r++) {
        s->rowlo[r] = (float)row_bin(s, r - 0.5);
        s->rowhi[r] = (float)row_bin(s, r + 0.5);
        s->rowc[r] = (float)row_bin(s, r);
    }
    s->k = windows_in(s, 0);
    return 1;
}

/* dBFS legend: a bar of the palette with round labels. */
static void draw_legend(ps_image *im, const layout *lo, const uint8_t lut[PS_HEAT_LEVELS][3], double range)
{
    int x = lo->left + lo->pw + 18, y0 = lo->top, h = panes_bottom(lo) - y0;
    for (int y = 0; y < h; y++) {
        int lv = (int)lround((1 - (double)y / (h - 1)) * (PS_HEAT_LEVELS - 1));
        for (int i = 0; i < 12; i++)
            ps_image_put(im, x + i, y0 + y, lut[lv]);
    }
    double step = ps_nice_step(range * 14.0 / h);
    if (step < 10 && range >= 60) step = 10;
    for (double d = 0; d <= range + 1e-9; d += step) {
        int y = y0 + (int)lround(d / range * (h - 1));
        char lab[16];
        ps_format_tick(lab, sizeof lab, -d);
        ps_image_rect(im, x + 12, y, 3, 1, C_FRAME);
        ps_image_text(im, x + 17, y - 3, lab, C_TEXT);
    }
    ps_image_text(im, x - 2, panes_bottom(lo) + 6, "dBFS", C_TEXT);
}

static int spectro_write(lua_State *L)
{
    spectro *s = tospectro(L);
    const char *path = luaL_checkstring(L, 2);
    const char *title = luaL_optstring(L, 3, NULL);
    const char *caption = luaL_optstring(L, 4, NULL);
    spectro_run(s, 1);   /* a signal shorter than told: the rest is silence */

    layout lo;
    layout_init(&lo, s->width, s->height, s->panes, 80);
    ps_image im;
    if (ps_image_init(&im, lo.w, lo.h, C_BG) != 0)
        return luaL_error(L, "out of memory for a %dx%d image", lo.w, lo.h);
    uint8_t lut[PS_HEAT_LEVELS][3];
    ps_palette_heat(lut);
    for (int p = 0; p < s->panes; p++) {
        int y0 = pane_top(&lo, p);
        for (int y = 0; y < s->height; y++) {
            const uint8_t *lv = s->level + ((size_t)p * (size_t)s->height + (size_t)y) * (size_t)s->width;
            uint8_t *px = im.px + ((size_t)(y0 + y) * (size_t)im.w + (size_t)lo.left) * 3;
            for (int x = 0; x < s->width; x++, px += 3)
                memcpy(px, lut[lv[x]], 3);
        }
    }
    push_layout(L, &lo);
    draw_frame(L, &im, &lo, (double)s->frames / s->rate, title, caption, s->panes > 1);
    /* frequency ticks, the same on every pane */
    double nyq = s->rate / 2;
    int khz = nyq >= 2000;
    lua_newtable(L);
    int n = 0;
    for (int p = 0; p < s->panes; p++) {
        int y0 = pane_top(&lo, p);
        if (!s->logf) {
            double unit = khz ? 1000 : 1;
            double step = ps_nice_step(nyq / unit * 16.0 / s->height) * unit;
            for (double f = 0; f <= nyq * (1 + 1e-9); f += step) {
                int y = y0 + s->height - 1 - (int)lround(f / nyq * (s->height - 1));
                char lab[32];
                ps_format_tick(lab, sizeof lab, f / unit);
                ytick(L, &im, &lo, y, f, lab, &n);
            }
        } else {
            int last = 1 << 30;
            for (double dec = pow(10, floor(log10(s->fmin))); dec <= nyq; dec *= 10) {
                static const double m[] = { 1, 2, 5 };
                for (int i = 0; i < 3; i++) {
                    double f = m[i] * dec;
                    if (f < s->fmin * (1 - 1e-9) || f > nyq * (1 + 1e-9))
                        continue;
                    double r = log(f / s->fmin) / log(nyq / s->fmin) * (s->height - 1);
                    int y = y0 + s->height - 1 - (int)lround(r);
                    if (last - y < 11)
                        continue;
                    last = y;
                    char lab[32];
                    if (f >= 1000) {
                        ps_format_tick(lab, sizeof lab, f / 1000);
                        strcat(lab, "k");
                    } else
                        ps_format_tick(lab, sizeof lab, f);
                    ytick(L, &im, &lo, y, f, lab, &n);
                }
            }
        }
    }
    lua_setfield(L, -2, "yticks");
    axis_title_up(&im, &lo, s->logf ? "Frequency (Hz)" : khz ? "Frequency (kHz)" : "Frequency (Hz)");
    draw_legend(&im, &lo, lut, s->range);
    lua_pushinteger(L, s->nfft); lua_setfield(L, -2, "fft");
    lua_pushinteger(L, s->windows); lua_setfield(L, -2, "windows");
    lua_pushstring(L, s->window_name); lua_setfield(L, -2, "window");
    lua_pushinteger(L, s->frames); lua_setfield(L, -2, "frames");
    return write_or_fail(L, &im, path);
}

/* ================= the waveform ================= */

typedef struct wave {
    int64_t frames;
    int channels;
    double rate;
    int width, height, db;
    double range;
    float clip;
    float *mn, *mx;          /* channels x width */
    double *sq;
    int64_t *cnt, *clips;    /* cnt: width; clips: channels x width */
    int64_t received, edge;
    int col;
} wave;

static wave *towave(lua_State *L)
{
    wave *w = luaL_checkudata(L, 1, PS_WAVEFORM);
    if (!w->mn)
        luaL_error(L, "attempt to use a closed waveform");
    return w;
}

static void wave_free(wave *w)
{
    free(w->mn); free(w->mx); free(w->sq); free(w->cnt); free(w->clips);
    memset(w, 0, sizeof *w);
}

static int wave_close(lua_State *L)
{
    wave_free(luaL_checkudata(L, 1, PS_WAVEFORM));
    return 0;
}

static int wave_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Number frames = opt_num(L, "frames", -1, 1, 1e14);
    int channels = opt_int(L, "channels", 1, 1, 64);
    double rate = opt_num(L, "samplerate", 48000, 1, 1e7);
    int width = opt_int(L, "width", 1000, 16, 8000);
    int height = opt_int(L, "height", channels == 1 ? 240 : 160, 16, 4000);
    if ((lua_Integer)height * channels + 14 * (channels - 1) > 16000)
        luaL_error(L, "option 'height': %d rows x %d channels make a picture over 16000 pixels high",
                   height, channels);
    const char *scale = opt_str(L, "scale", "linear");
    int db = !strcmp(scale, "db");
    if (!db && strcmp(scale, "linear"))
        luaL_error(L, "option 'scale': linear or db, got '%s'", scale);
    double range = opt_num(L, "range", 48, 6, 200);
    double clip = opt_num(L, "clip", 32767.0 / 32768 - 1e-6, 1e-6, 1e6);
    wave *w = lua_newuserdatauv(L, sizeof *w, 0);
    memset(w, 0, sizeof *w);
    luaL_setmetatable(L, PS_WAVEFORM);
    w->frames = (int64_t)frames, w->channels = channels, w->rate = rate;
    w->width = width, w->height = height, w->db = db, w->range = range, w->clip = (float)clip;
    size_t cw = (size_t)channels * (size_t)width;
    w->mn = malloc(sizeof(float) * cw);
    w->mx = malloc(sizeof(float) * cw);
    w->sq = calloc(cw, sizeof(double));
    w->cnt = calloc((size_t)width, sizeof(int64_t));
    w->clips = calloc(cw, sizeof(int64_t));
    if (!w->mn || !w->mx || !w->sq || !w->cnt || !w->clips) {
        wave_free(w);
        return luaL_error(L, "out of memory for a waveform %d wide", width);
    }
    for (size_t i = 0; i < cw; i++)
        w->mn[i] = INFINITY, w->mx[i] = -INFINITY;
    w->edge = col_edge(1, w->frames, width);
    return 1;
}

/* min, max, sum of squares and clipped samples of one channel's run:
 * plain loops the compiler keeps in registers (and vectorizes at -O3). */
static void wave_run(const float *p, int stride, int64_t n, float clip,
                     float *mn, float *mx, double *sq, int64_t *clips)
{
    float lo = *mn, hi = *mx, s = 0;
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = p[i * stride];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        s += v * v;
        c += (v >= clip) | (v <= -clip);
    }
    *mn = lo, *mx = hi, *sq += s, *clips += c;
}

static int wave_add(lua_State *L)
{
    wave *w = towave(L);
    const ps_buffer *b = checkchunk(L, 2, w->channels);
    const float *src = (const float *)(const void *)b->mem->data;
    int nc = w->channels;
    int64_t left = b->frames;
    while (left > 0) {
        while (w->received >= w->edge && w->col < w->width - 1) {
            w->col++;
            w->edge = col_edge(w->col + 1, w->frames, w->width);
        }
        int64_t run = w->col < w->width - 1 ? w->edge - w->received : left;
        if (run > left) run = left;
        for (int c = 0; c < nc; c++) {
            size_t i = (size_t)c * (size_t)w->width + (size_t)w->col;
            wave_run(src + c, nc, run, w->clip, &w->mn[i], &w->mx[i], &w->sq[i], &w->clips[i]);
        }
        w->cnt[w->col] += run;
        w->received += run, src += (size_t)run * (size_t)nc, left -= run;
    }
    lua_settop(L, 1);
    return 1;
}

/* The pixel row of amplitude a in a pane from y0, height h. */
static double wave_y(const wave *w, int y0, int h, double a)
{
    double m;
    if (w->db) {
        double d = fabs(a) > 0 ? 20 * log10(fabs(a)) : -1e9;
        m = (d + w->range) / w->range;
        m = m < 0 ? 0 : m > 1 ? 1 : m;
        m = a < 0 ? -m : m;
    } else
        m = a < -1 ? -1 : a > 1 ? 1 : a;
    return y0 + (1 - m) / 2 * (h - 1);
}

static int wave_write(lua_State *L)
{
    wave *w = towave(L);
    const char *path = luaL_checkstring(L, 2);
    const char *title = luaL_optstring(L, 3, NULL);
    const char *caption = luaL_optstring(L, 4, NULL);
    int64_t frames = w->frames;   /* shorter than told: the rest is left blank */
    layout lo;
    layout_init(&lo, w->width, w->height, w->channels, 20);
    ps_image im;
    if (ps_image_init(&im, lo.w, lo.h, PS_RGB(16, 18, 26)) != 0)
        return luaL_error(L, "out of memory for a %dx%d image", lo.w, lo.h);
    const uint8_t env[3] = { 70, 130, 220 }, rms[3] = { 150, 195, 255 }, red[3] = { 255, 0, 0 };
    int64_t total_clips = 0;
    for (int c = 0; c < w->channels; c++) {
        int y0 = pane_top(&lo, c), h = w->height;
        ps_image_rect(&im, lo.left, y0, lo.pw, h, PS_RGB(8, 10, 16));
        ps_image_rect(&im, lo.left, y0 + (h - 1) / 2, lo.pw, 1, PS_RGB(60, 62, 74));
        int last = -1;
        for (int x = 0; x < w->width; x++) {
            /* columns narrower than a frame show the one before */
            int src = w->cnt[x] > 0 ? x : col_edge(x, frames, w->width) < w->received ? last : -1;
            if (src < 0)
                continue;
            last = src;
            size_t i = (size_t)c * (size_t)w->width + (size_t)src;
            double a = w->mx[i], b = w->mn[i], r = sqrt(w->sq[i] / (double)w->cnt[src]);
            int clipped = w->clips[i] > 0 && src == x;
            if (src == x)
                total_clips += w->clips[i];
            int ya = (int)floor(wave_y(w, y0, h, a)), yb = (int)ceil(wave_y(w, y0, h, b));
            if (yb < ya) { int t = ya; ya = yb; yb = t; }
            for (int y = ya; y <= yb; y++)
                ps_image_put(&im, lo.left + x, y, env);
            int ra = (int)lround(wave_y(w, y0, h, r)), rb = (int)lround(wave_y(w, y0, h, -r));
            if (ra < ya) ra = ya;
            if (rb > yb) rb = yb;
            for (int y = ra; y <= rb; y++)
                ps_image_put(&im, lo.left + x, y, rms);
            if (clipped) {
                /* red: the envelope beyond the clip level, and marks on the
                 * pane's edges that show at any zoom */
                int yc = (int)floor(wave_y(w, y0, h, w->clip)), yd = (int)ceil(wave_y(w, y0, h, -w->clip));
                for (int y = ya; y <= yb; y++)
                    if (y <= yc || y >= yd)
                        ps_image_put(&im, lo.left + x, y, red);
                for (int y = 0; y < 4; y++) {
                    ps_image_put(&im, lo.left + x, y0 + y, red);
                    ps_image_put(&im, lo.left + x, y0 + h - 1 - y, red);
                }
            }
        }
    }
    push_layout(L, &lo);
    draw_frame(L, &im, &lo, (double)frames / w->rate, title, caption, w->channels > 1);
    lua_newtable(L);
    int n = 0;
    for (int c = 0; c < w->channels; c++) {
        int y0 = pane_top(&lo, c), h = w->height;
        if (!w->db) {
            static const double v[] = { 1, 0.5, 0, -0.5, -1 };
            for (int i = 0; i < 5; i++) {
                char lab[16];
                ps_format_tick(lab, sizeof lab, v[i]);
                ytick(L, &im, &lo, (int)lround(wave_y(w, y0, h, v[i])), v[i], lab, &n);
            }
        } else {
            double step = ps_nice_step(w->range * 12.0 / (h / 2.0));
            if (step < 6) step = 6; else if (step < 12) step = 12; else step = ceil(step / 12) * 12;
            for (double d = 0; d < w->range - 1e-9; d += step) {
                char lab[16];
                ps_format_tick(lab, sizeof lab, -d);
                double a = pow(10, -d / 20);
                ytick(L, &im, &lo, (int)lround(wave_y(w, y0, h, a)), -d, lab, &n);
                ytick(L, &im, &lo, (int)lround(wave_y(w, y0, h, -a)), -d, lab, &n);
            }
            ytick(L, &im, &lo, (int)lround(wave_y(w, y0, h, 0)), -INFINITY, "-inf", &n);
        }
    }
    lua_setfield(L, -2, "yticks");
    axis_title_up(&im, &lo, w->db ? "Level (dBFS)" : "Amplitude");
    /* the per-channel figures, for the caption and the caller */
    lua_createtable(L, w->channels, 0);
    for (int c = 0; c < w->channels; c++) {
        float pk = 0;
        int64_t cl = 0;
        for (int x = 0; x < w->width; x++) {
            size_t i = (size_t)c * (size_t)w->width + (size_t)x;
            if (w->cnt[x] == 0) continue;
            pk = fmaxf(pk, fmaxf(fabsf(w->mn[i]), fabsf(w->mx[i])));
            cl += w->clips[i];
        }
        lua_createtable(L, 0, 2);
        lua_pushnumber(L, pk); lua_setfield(L, -2, "peak");
        lua_pushinteger(L, cl); lua_setfield(L, -2, "clipped");
        lua_rawseti(L, -2, c + 1);
    }
    lua_setfield(L, -2, "channels");
    /* the clipped columns, 0-based pixel x from the plot's left */
    lua_newtable(L);
    n = 0;
    for (int x = 0; x < w->width; x++) {
        int any = 0;
        for (int c = 0; c < w->channels; c++)
            any |= w->clips[(size_t)c * (size_t)w->width + (size_t)x] > 0;
        if (any) {
            lua_pushinteger(L, x);
            lua_rawseti(L, -2, ++n);
        }
    }
    lua_setfield(L, -2, "clip_columns");
    lua_pushinteger(L, frames); lua_setfield(L, -2, "frames");
    lua_pushinteger(L, total_clips); lua_setfield(L, -2, "clipped");
    return write_or_fail(L, &im, path);
}

/* ================= reading PNG files back ================= */

static int core_read_png(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    ps_image im;
    char err[512];
    if (ps_image_read_png(&im, path, err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, im.w); lua_setfield(L, -2, "width");
    lua_pushinteger(L, im.h); lua_setfield(L, -2, "height");
    lua_pushlstring(L, (const char *)im.px, (size_t)im.w * (size_t)im.h * 3);
    lua_setfield(L, -2, "pixels");
    ps_image_free(&im);
    return 1;
}

static void createmeta(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__close");
    lua_pop(L, 1);
}

static const luaL_Reg spectro_methods[] = {
    { "add", spectro_add }, { "write", spectro_write }, { "close", spectro_close }, { NULL, NULL }
};
static const luaL_Reg wave_methods[] = {
    { "add", wave_add }, { "write", wave_write }, { "close", wave_close }, { NULL, NULL }
};

/* core.Spectrogram, core.Waveform, core.read_png into the table on top. */
void ps_picture_functions(lua_State *L)
{
    createmeta(L, PS_SPECTROGRAM, spectro_methods, spectro_close);
    createmeta(L, PS_WAVEFORM, wave_methods, wave_close);
    lua_pushcfunction(L, spectro_new);
    lua_setfield(L, -2, "Spectrogram");
    lua_pushcfunction(L, wave_new);
    lua_setfield(L, -2, "Waveform");
    lua_pushcfunction(L, core_read_png);
    lua_setfield(L, -2, "read_png");
}
