/* Sample formats: names, sizes, silence, and conversion to and from double.
 *
 * The formats are PortAudio's interleaved ones.  int24 is packed (3 bytes,
 * native endian) as PortAudio delivers it.  uint8 is offset binary, so its
 * silence is 0x80, not 0: every "fill with silence" goes through
 * ps_sample_silence(). */
#ifndef PS_SAMPLE_H
#define PS_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

typedef enum ps_format {
    PS_FLOAT32, PS_INT32, PS_INT24, PS_INT16, PS_INT8, PS_UINT8,
    PS_NFORMATS
} ps_format;

extern const char *const ps_format_names[PS_NFORMATS + 1]; /* NULL-terminated */

int           ps_format_parse(const char *name);   /* ps_format, or -1 */
const char   *ps_format_name(ps_format f);
size_t        ps_format_size(ps_format f);         /* bytes per sample */
unsigned long ps_format_pa(ps_format f);           /* PaSampleFormat */
unsigned char ps_sample_silence(ps_format f);      /* byte to memset */

/* A packed 24-bit sample (3 bytes, native endian) <-> int32 in -2^23..2^23-1. */
int32_t ps_int24_get(const unsigned char *b);
void    ps_int24_set(unsigned char *b, int32_t v);

/* Sample <-> double in [-1, 1), scaled as PortAudio does (1/32768 etc.). */
double ps_sample_get(ps_format f, const void *p);
void   ps_sample_set(ps_format f, void *p, double v);   /* clips */

#endif
