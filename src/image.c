/* image.c: the RGB canvas, its bitmap text and palette, and PNG files
 * through libpng (see image.h). */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "font5x8.h"
#include "image.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

int ps_image_init(ps_image *im, int w, int h, uint32_t bg)
{
    im->w = im->h = 0;
    im->px = NULL;
    if (w < 1 || h < 1 || w > 16384 || h > 16384)
        return -1;
    im->px = malloc((size_t)w * (size_t)h * 3);
    if (!im->px)
        return -1;
    im->w = w, im->h = h;
    ps_image_rect(im, 0, 0, w, h, bg);
    return 0;
}

void ps_image_free(ps_image *im)
{
    free(im->px);
    im->px = NULL;
    im->w = im->h = 0;
}

void ps_image_rect(ps_image *im, int x, int y, int w, int h, uint32_t rgb)
{
    int x1 = x + w, y1 = y + h;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x1 > im->w) x1 = im->w;
    if (y1 > im->h) y1 = im->h;
    uint8_t c[3] = { (uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8), (uint8_t)rgb };
    for (int j = y; j < y1; j++) {
        uint8_t *p = im->px + ((size_t)j * (size_t)im->w + (size_t)x) * 3;
        for (int i = x; i < x1; i++, p += 3)
            p[0] = c[0], p[1] = c[1], p[2] = c[2];
    }
}

int ps_text_width(const char *s)
{
    int n = (int)strlen(s);
    return n ? n * PS_TEXT_ADVANCE - 1 : 0;
}

static const char *const *glyph(unsigned char ch)
{
    if (ch < PS_FONT_FIRST || ch > PS_FONT_LAST)
        ch = '?';
    return ps_font5x8[ch - PS_FONT_FIRST];
}

/* One text renderer for both directions: a glyph cell (gx, gy) lands at
 * x + gx, y + gy upright, or at x + gy, y + len - 1 - gx turned. */
static int draw_text(ps_image *im, int x, int y, const char *s, uint32_t rgb, int up)
{
    uint8_t c[3] = { (uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8), (uint8_t)rgb };
    int len = ps_text_width(s);
    for (int i = 0; s[i]; i++) {
        const char *const *g = glyph((unsigned char)s[i]);
        for (int gy = 0; gy < PS_FONT_H; gy++)
            for (int gx = 0; gx < PS_FONT_W; gx++) {
                if (g[gy][gx] != '#')
                    continue;
                int px = i * PS_TEXT_ADVANCE + gx;
                if (up)
                    ps_image_put(im, x + gy, y + len - 1 - px, c);
                else
                    ps_image_put(im, x + px, y + gy, c);
            }
    }
    return len;
}

int ps_image_text(ps_image *im, int x, int y, const char *s, uint32_t rgb)
{
    return draw_text(im, x, y, s, rgb, 0);
}

int ps_image_text_up(ps_image *im, int x, int y, const char *s, uint32_t rgb)
{
    return draw_text(im, x, y, s, rgb, 1);
}

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void ps_palette_heat(uint8_t lut[PS_HEAT_LEVELS][3])
{
    for (int i = 0; i < PS_HEAT_LEVELS; i++) {
        double x = i / (PS_HEAT_LEVELS - 1.0), r, g, b;
        /* red rises first, green (through orange and yellow) later, blue
         * gives the quiet end its purple and comes back to make white */
        r = x < 0.10 ? 0 : x < 0.62 ? sin((x - 0.10) / 0.52 * M_PI / 2) : 1;
        g = x < 0.50 ? 0 : x < 0.88 ? sin((x - 0.50) / 0.38 * M_PI / 2) : 1;
        b = x < 0.50 ? 0.55 * sin(x / 0.50 * M_PI) : x < 0.76 ? 0 : (x - 0.76) / 0.24;
        lut[i][0] = (uint8_t)lround(255 * clamp01(r));
        lut[i][1] = (uint8_t)lround(255 * clamp01(g));
        lut[i][2] = (uint8_t)lround(255 * clamp01(b));
    }
}

/* libpng reports errors by longjmp from its error callback; the message is
 * kept for the caller. */
typedef struct png_err { char *buf; size_t len; } png_err;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_err *e = png_get_error_ptr(png);
    snprintf(e->buf, e->len, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

/* The image as palette indices when it has at most 256 colours (the
 * pictures here do: a 240-step palette and a few for the frame), which
 * deflates a third of the bytes of RGB.  Returns the number of colours, or
 * 0 when there are more (idx then unused). */
static int to_palette(const ps_image *im, uint8_t *idx, png_color pal[256])
{
    enum { HS = 1024 };            /* open-addressing hash: colour -> index */
    uint32_t key[HS];
    int16_t val[HS];
    memset(val, -1, sizeof val);
    int n = 0;
    uint32_t prev = 0xffffffff;
    int pidx = 0;
    size_t np = (size_t)im->w * (size_t)im->h;
    for (size_t i = 0; i < np; i++) {
        const uint8_t *p = im->px + i * 3;
        uint32_t c = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        if (c != prev) {          /* runs of one colour are the common case */
            uint32_t h = (c * 2654435761u) >> 22;
            while (val[h] >= 0 && key[h] != c)
                h = (h + 1) & (HS - 1);
            if (val[h] < 0) {
                if (n == 256)
                    return 0;
                key[h] = c, val[h] = (int16_t)n;
                pal[n].red = p[0], pal[n].green = p[1], pal[n].blue = p[2];
                n++;
            }
            prev = c, pidx = val[h];
        }
        idx[i] = (uint8_t)pidx;
    }
    return n;
}

int ps_image_write_png(const ps_image *im, const char *path, char *err, size_t errlen)
{
    png_err e = { err, errlen };
    png_color pal[256];
    uint8_t *volatile idx = malloc((size_t)im->w * (size_t)im->h);
    volatile int ncol = idx ? to_palette(im, idx, pal) : 0;
    FILE *volatile f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(idx);
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        fclose(f);
        free(idx);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        free(idx);
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", err);
        snprintf(err, errlen, "%s: %s", path, tmp);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)im->w, (png_uint_32)im->h, 8,
                 ncol ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (ncol)
        png_set_PLTE(png, info, pal, ncol);
    /* palette images deflate best unfiltered; zlib's level 6 costs little
     * on a byte a pixel */
    png_set_compression_level(png, ncol ? 6 : 3);
    png_set_filter(png, 0, ncol ? PNG_FILTER_NONE : PNG_FILTER_SUB);
    png_write_info(png, info);
    for (int y = 0; y < im->h; y++)
        png_write_row(png, ncol ? idx + (size_t)y * (size_t)im->w
                                : im->px + (size_t)y * (size_t)im->w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(idx);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int ps_image_read_png(ps_image *im, const char *path, char *err, size_t errlen)
{
    png_err e = { err, errlen };
    im->w = im->h = 0;
    im->px = NULL;
    FILE *volatile f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8)) {
        fclose(f);
        snprintf(err, errlen, "%s: not a PNG file", path);
        return -1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    uint8_t *volatile px = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        free(px);
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", err);
        snprintf(err, errlen, "%s: %s", path, tmp);
        return -1;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (w < 1 || h < 1 || w > 16384 || h > 16384)
        png_error(png, "image size out of range");
    /* everything to 8-bit RGB: palettes expanded, grey to RGB, alpha dropped */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3)
        png_error(png, "unexpected row size after conversion to RGB");
    px = malloc((size_t)w * h * 3);
    if (!px)
        png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++)
        png_read_row(png, px + (size_t)y * w * 3, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    im->w = (int)w, im->h = (int)h, im->px = px;
    return 0;
}

double ps_nice_step(double min_step)
{
    if (!(min_step > 0))
        return 1;
    double p = pow(10, floor(log10(min_step)));
    static const double m[] = { 1, 2, 5, 10 };
    for (int i = 0; i < 4; i++)
        if (m[i] * p >= min_step * (1 - 1e-9))
            return m[i] * p;
    return 10 * p;
}

void ps_format_tick(char *buf, size_t n, double v)
{
    if (fabs(v) < 1e-9)
        v = 0;
    snprintf(buf, n, "%.3f", v);
    /* drop trailing zeros and a trailing point */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
}
