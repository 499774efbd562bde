/* image.h: an RGB canvas for the pictures (spectrogram, waveform): filled
 * rectangles, 5x8 bitmap text, a heat palette, and PNG files through
 * libpng, written and read.  Plain C: no Lua header. */
#ifndef PS_IMAGE_H
#define PS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ps_image {
    int w, h;
    uint8_t *px;          /* w*h*3 bytes, rows top to bottom */
} ps_image;

#define PS_RGB(r, g, b) (((uint32_t)(r) << 16) | ((uint32_t)(g) << 8) | (uint32_t)(b))

/* 0 on success, -1 when out of memory (or a size outside 1..16384). */
int  ps_image_init(ps_image *im, int w, int h, uint32_t bg);
void ps_image_free(ps_image *im);
void ps_image_rect(ps_image *im, int x, int y, int w, int h, uint32_t rgb);  /* clipped */
static inline void ps_image_put(ps_image *im, int x, int y, const uint8_t rgb[3])
{
    if (x >= 0 && y >= 0 && x < im->w && y < im->h) {
        uint8_t *p = im->px + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
        p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
    }
}

/* Text in the 5x8 font, 6 pixels a character; (x, y) is the top left.
 * ps_image_text_up draws it turned a quarter left (reading upwards), (x, y)
 * the top left of the turned box.  Both return the text's length in pixels. */
#define PS_TEXT_ADVANCE 6
#define PS_TEXT_HEIGHT  8
int ps_text_width(const char *s);
int ps_image_text(ps_image *im, int x, int y, const char *s, uint32_t rgb);
int ps_image_text_up(ps_image *im, int x, int y, const char *s, uint32_t rgb);

/* The heat palette (black, purple, red, orange, yellow, white: luminance
 * rises all the way, so brighter always means louder).  240 steps leave
 * room in a 256-colour PNG palette for the frame and text. */
#define PS_HEAT_LEVELS 240
void ps_palette_heat(uint8_t lut[PS_HEAT_LEVELS][3]);

/* Write as an 8-bit PNG (palette when it has <= 256 colours, else RGB).  0 on success; -1 with a message in err. */
int ps_image_write_png(const ps_image *im, const char *path, char *err, size_t errlen);
/* Read any PNG as 8-bit RGB (libpng's transformations).  0 on success. */
int ps_image_read_png(ps_image *im, const char *path, char *err, size_t errlen);

/* Round axis steps: the smallest 1, 2 or 5 times a power of ten that is
 * at least min_step. */
double ps_nice_step(double min_step);
/* A tick label: "%g"-like, no exponent, at most 3 decimals, "-0" as "0". */
void ps_format_tick(char *buf, size_t n, double v);

#endif
