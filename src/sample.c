#include "sample.h"

#include <math.h>
#include <portaudio.h>
#include <string.h>

const char *const ps_format_names[PS_NFORMATS + 1] = {
    "float32", "int32", "int24", "int16", "int8", "uint8", NULL
};

static const size_t sizes[PS_NFORMATS] = { 4, 4, 3, 2, 1, 1 };

int ps_format_parse(const char *name)
{
    for (int i = 0; i < PS_NFORMATS; i++)
        if (strcmp(name, ps_format_names[i]) == 0)
            return i;
    return -1;
}

const char *ps_format_name(ps_format f) { return ps_format_names[f]; }
size_t ps_format_size(ps_format f) { return sizes[f]; }
unsigned char ps_sample_silence(ps_format f) { return f == PS_UINT8 ? 0x80 : 0; }

unsigned long ps_format_pa(ps_format f)
{
    static const PaSampleFormat pa[PS_NFORMATS] = {
        paFloat32, paInt32, paInt24, paInt16, paInt8, paUInt8
    };
    return pa[f];
}

int32_t ps_int24_get(const unsigned char *b)
{
    uint32_t u;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
#else
    u = (uint32_t)b[2] | (uint32_t)b[1] << 8 | (uint32_t)b[0] << 16;
#endif
    return (int32_t)(u << 8) >> 8;   /* sign-extend */
}

void ps_int24_set(unsigned char *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    b[0] = u & 0xff; b[1] = (u >> 8) & 0xff; b[2] = (u >> 16) & 0xff;
#else
    b[2] = u & 0xff; b[1] = (u >> 8) & 0xff; b[0] = (u >> 16) & 0xff;
#endif
}

double ps_sample_get(ps_format f, const void *p)
{
    switch (f) {
    case PS_FLOAT32: { float v; memcpy(&v, p, 4); return v; }
    case PS_INT32:   { int32_t v; memcpy(&v, p, 4); return v / 2147483648.0; }
    case PS_INT24:   return ps_int24_get(p) / 8388608.0;
    case PS_INT16:   { int16_t v; memcpy(&v, p, 2); return v / 32768.0; }
    case PS_INT8:    return *(const int8_t *)p / 128.0;
    case PS_UINT8:   return (*(const uint8_t *)p - 128) / 128.0;
    default:         return 0;
    }
}

/* Round and clip to the integer range [lo, hi]. */
static long long scale(double v, double full, long long lo, long long hi)
{
    double s = nearbyint(v * full);
    if (!(s >= (double)lo)) return lo;          /* also catches NaN */
    if (s > (double)hi) return hi;
    return (long long)s;
}

void ps_sample_set(ps_format f, void *p, double v)
{
    switch (f) {
    case PS_FLOAT32: { float x = (float)v; memcpy(p, &x, 4); break; }
    case PS_INT32: {
        int32_t x = (int32_t)scale(v, 2147483648.0, INT32_MIN, INT32_MAX);
        memcpy(p, &x, 4);
        break;
    }
    case PS_INT24: ps_int24_set(p, (int32_t)scale(v, 8388608.0, -8388608, 8388607)); break;
    case PS_INT16: {
        int16_t x = (int16_t)scale(v, 32768.0, INT16_MIN, INT16_MAX);
        memcpy(p, &x, 2);
        break;
    }
    case PS_INT8:  *(int8_t *)p = (int8_t)scale(v, 128.0, -128, 127); break;
    case PS_UINT8: *(uint8_t *)p = (uint8_t)(scale(v, 128.0, -128, 127) + 128); break;
    default: break;
    }
}
