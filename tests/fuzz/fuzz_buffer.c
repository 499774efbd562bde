/* Fuzz target: ps.Buffer (src/lbuffer.c's constructor, reached as
 * core.Buffer from luaopen_pastream_core, which is what lua/pastream/
 * init.lua exports as ps.Buffer) from strings, tables and frame counts.
 *
 * The first bytes choose the way in, the channels and the format; the rest
 * is the data; one more way runs sub, copyfrom and resize with any
 * indices on a Buffer made from a string.  An argument error is an expected answer, but only where the
 * input is really wrong: a good string must make a Buffer whose tostring()
 * is the same bytes, a table of samples that the format holds exactly must
 * come back exactly, and no value may leave a sample out of range.  Any
 * other outcome aborts (a finding), as does a sanitizer report. */
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpastream.h"

int luaopen_pastream_core(lua_State *L);

/* A Buffer too large for memory must be refused with "not enough memory",
 * which needs malloc to return NULL under ASan too. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

#define FINDING(...) (fprintf(stderr, "fuzz_buffer: " __VA_ARGS__), fputc('\n', stderr), abort())

static lua_State *L;

static void setup(void)
{
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "pastream.core", luaopen_pastream_core, 0);
    lua_getfield(L, -1, "Buffer");
    lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.Buffer");
    lua_settop(L, 0);
}

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static unsigned byte(input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t bytes(input *in, int k)   /* k bytes, little endian */
{
    uint64_t v = 0;
    for (int i = 0; i < k; i++)
        v |= (uint64_t)byte(in) << (8 * i);
    return v;
}

/* Channels: mostly 1..8, sometimes a value the constructor must refuse
 * (0, negative, above 1024, above 2^32 where an int cast would wrap). */
static lua_Integer pick_channels(input *in)
{
    unsigned c = byte(in);
    switch (c >> 5) {
    case 6:  return (lua_Integer)(c & 31) - 16;                      /* -16..15 */
    case 7:  return (lua_Integer)((c & 7) == 7 ? 1025 : ((uint64_t)1 << 32) + (c & 7));
    default: return 1 + (c & 7);
    }
}

/* Call Buffer(arg1 on the stack top, channels, format).  Returns 1 with the
 * Buffer on the stack, or 0 with the error message. */
static int construct(lua_Integer channels, const char *fmt)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.Buffer");
    lua_insert(L, -2);
    lua_pushinteger(L, channels);
    if (fmt)
        lua_pushstring(L, fmt);
    else
        lua_pushnil(L);
    return lua_pcall(L, 3, 1, 0) == LUA_OK;
}

static const char *errtext(void)
{
    const char *m = lua_tostring(L, -1);
    return m ? m : "(not a string)";
}

static int channels_ok(lua_Integer c) { return c >= 1 && c <= 1024; }

static size_t method_len(const char *method, const char **s)
{
    size_t len = 0;
    lua_getfield(L, -1, method);
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        FINDING("buf:%s() failed: %s", method, errtext());
    *s = lua_tolstring(L, -1, &len);
    return len;
}

/* ps.Buffer(string, channels, format): refused exactly when the string is
 * not whole frames; else tostring() gives the bytes back. */
static void from_string(input *in, lua_Integer ch, ps_format f)
{
    size_t ss = ps_format_size(f);
    lua_pushlstring(L, (const char *)in->p, in->n);
    int ok = construct(ch, ps_format_name(f));
    int want = channels_ok(ch) && in->n % ((size_t)ch * ss) == 0;
    if (ok != want)
        FINDING("Buffer(string of %zu bytes, %lld, %s): %s", in->n, (long long)ch,
                ps_format_name(f), ok ? "accepted" : errtext());
    if (!ok)
        return;
    ps_buffer *b = ps_checkbuffer(L, -1);
    if (b->frames != (int64_t)(in->n / ((size_t)ch * ss)) || b->channels != ch)
        FINDING("string Buffer has %lld frames x %d channels", (long long)b->frames, b->channels);
    const char *s;
    size_t len = method_len("tostring", &s);
    if (len != in->n || memcmp(s, in->p, len) != 0)
        FINDING("string Buffer tostring() differs from the input (%zu bytes)", in->n);
}

/* A sample value the format holds exactly, and its bytes (native endian,
 * written here independently of src/sample.c). */
static double exact_sample(input *in, ps_format f, unsigned char *out)
{
    switch (f) {
    case PS_FLOAT32: {
        float v;
        uint32_t u = (uint32_t)bytes(in, 4);
        memcpy(&v, &u, 4);
        if (isnan(v))
            v = 0.5f;               /* a NaN's payload need not survive a double */
        memcpy(out, &v, 4);
        return v;
    }
    case PS_INT32: { int32_t v = (int32_t)bytes(in, 4); memcpy(out, &v, 4); return v / 2147483648.0; }
    case PS_INT24: {
        uint32_t u = (uint32_t)bytes(in, 3);
        int32_t v = (int32_t)(u << 8) >> 8;
        ps_int24_set(out, v);
        return v / 8388608.0;
    }
    case PS_INT16: { int16_t v = (int16_t)bytes(in, 2); memcpy(out, &v, 2); return v / 32768.0; }
    case PS_INT8:  { int8_t v = (int8_t)byte(in); memcpy(out, &v, 1); return v / 128.0; }
    case PS_UINT8: { uint8_t v = (uint8_t)byte(in); *out = v; return (v - 128) / 128.0; }
    default: return 0;
    }
}

/* ps.Buffer(table, channels, format).  mode 0: samples the format holds
 * exactly, which must round-trip bit for bit; mode 1: any double (NaN,
 * infinities, huge), which must clip into the format's range; mode 2: like
 * 1 with a non-number somewhere, which must be refused. */
static void from_table(input *in, lua_Integer ch, ps_format f, int mode)
{
    size_t ss = ps_format_size(f);
    size_t n = in->n / (mode == 0 ? ss : 8);
    if (n > 4096)
        n = 4096;
    unsigned char *want = malloc(n * ss + 1);
    size_t bad = mode == 2 && n ? in->p[0] % n : (size_t)-1;
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        if (i == bad) {
            lua_pushboolean(L, 1);
        } else if (mode == 0) {
            lua_pushnumber(L, exact_sample(in, f, want + i * ss));
        } else {
            uint64_t u = bytes(in, 8);
            double d;
            memcpy(&d, &u, 8);
            lua_pushnumber(L, d);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    int ok = construct(ch, ps_format_name(f));
    int expect = channels_ok(ch) && n % (size_t)ch == 0 && bad == (size_t)-1;
    if (ok != expect)
        FINDING("Buffer(table of %zu, %lld, %s) mode %d: %s", n, (long long)ch,
                ps_format_name(f), mode, ok ? "accepted" : errtext());
    if (ok) {
        const char *s;
        size_t len = method_len("tostring", &s);
        if (len != n * ss)
            FINDING("table Buffer of %zu samples has %zu bytes", n, len);
        if (mode == 0 && memcmp(s, want, len) != 0)
            FINDING("table Buffer (%s) does not hold the exact samples given", ps_format_name(f));
        for (size_t i = 0; i < n; i++) {
            double v = ps_sample_get(f, s + i * ss);
            if (f != PS_FLOAT32 && !(v >= -1.0 && v < 1.0))
                FINDING("sample %zu of a %s Buffer is %g", i + 1, ps_format_name(f), v);
        }
    }
    free(want);
}

/* ps.Buffer(frames, channels, format): small counts give zeroed (silent)
 * Buffers; negative and too large ones are refused, never allocated. */
static void from_count(input *in, lua_Integer ch, ps_format f)
{
    uint64_t u = bytes(in, 8);
    lua_Integer frames;
    switch (u >> 62) {
    case 0: frames = (lua_Integer)(u & 0xffff); break;
    case 1: frames = INT64_MAX - (lua_Integer)(u & 0xff); break;  /* beyond any memory */
    default: frames = (lua_Integer)u; break;                       /* negative */
    }
    int huge = frames > 0xffff;
    lua_pushinteger(L, frames);
    int ok = construct(ch, ps_format_name(f));
    int expect = channels_ok(ch) && frames >= 0 && !huge;
    if (ok != expect)
        FINDING("Buffer(%lld, %lld, %s): %s", (long long)frames, (long long)ch,
                ps_format_name(f), ok ? "accepted" : errtext());
    if (ok) {
        const char *s;
        size_t len = method_len("tostring", &s);
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)s[i] != ps_sample_silence(f))
                FINDING("a new %s Buffer is not silent at byte %zu", ps_format_name(f), i);
    }
}

/* A frame index or count: mostly small, sometimes at the ends of the
 * integer range, where index arithmetic overflows. */
static lua_Integer pick_index(input *in)
{
    unsigned c = byte(in);
    uint64_t v = bytes(in, (c & 4) ? 8 : 1);
    switch (c & 3) {
    case 0:  return (lua_Integer)(v % 40) - 20;
    case 1:  return (lua_Integer)v;
    case 2:  return INT64_MAX - (lua_Integer)(v & 0xff);
    default: return INT64_MIN + (lua_Integer)(v & 0xff);
    }
}

/* Call buf:NAME(args...) on the Buffer at stack index 1; true if it
 * succeeded (the result is popped). */
static int call_method(const char *name, int nargs, const lua_Integer *args, int with_self)
{
    lua_getfield(L, 1, name);
    lua_pushvalue(L, 1);
    if (with_self)
        lua_pushvalue(L, 1);
    for (int i = 0; i < nargs; i++)
        lua_pushinteger(L, args[i]);
    int ok = lua_pcall(L, 1 + with_self + nargs, 1, 0) == LUA_OK;
    if (!ok)
        lua_pop(L, 1);
    return ok;
}

/* sub(i, j), copyfrom(self, dst, src [, count]) and resize(n) with any
 * indices, checked against the same rules computed here without overflow
 * (__int128): in range they must do exactly that, out of range refuse. */
static void methods(input *in, ps_format f)
{
    size_t fb = ps_format_size(f);
    size_t nf = in->n / fb / 2;
    if (nf > 64)
        nf = 64;
    lua_pushlstring(L, (const char *)in->p, nf * fb);
    in->p += nf * fb;
    in->n -= nf * fb;
    if (!construct(1, ps_format_name(f)))
        FINDING("Buffer(string of %zu frames): %s", nf, errtext());
    ps_buffer *b = ps_checkbuffer(L, 1);
    unsigned char *ref = malloc(nf * fb + 1);
    memcpy(ref, b->mem->data, nf * fb);
    __int128 n = (__int128)nf;

    lua_Integer ij[2] = { pick_index(in), pick_index(in) };
    __int128 i = ij[0], j = ij[1];
    if (i < 0) i = n + i + 1;
    if (j < 0) j = n + j + 1;
    if (i < 1) i = 1;
    if (j > n) j = n;
    __int128 len = j >= i ? j - i + 1 : 0;
    lua_getfield(L, 1, "sub");
    lua_pushvalue(L, 1);
    lua_pushinteger(L, ij[0]);
    lua_pushinteger(L, ij[1]);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK)
        FINDING("sub(%lld, %lld) of %zu frames: %s", (long long)ij[0], (long long)ij[1], nf, errtext());
    ps_buffer *r = ps_checkbuffer(L, -1);
    if (r->frames != (int64_t)len || (len && memcmp(r->mem->data, ref + (size_t)(i - 1) * fb, (size_t)len * fb)))
        FINDING("sub(%lld, %lld) of %zu frames gave %lld frames, want %lld", (long long)ij[0],
                (long long)ij[1], nf, (long long)r->frames, (long long)len);
    lua_pop(L, 1);

    unsigned c = byte(in);
    lua_Integer a[3] = { pick_index(in), pick_index(in), pick_index(in) };
    int nargs = (c & 1) ? 3 : 2;
    __int128 df = a[0], sf = a[1], cnt = nargs == 3 ? a[2] : n - sf + 1;
    int valid = cnt >= 0 && sf >= 1 && sf - 1 + cnt <= n && df >= 1 && df - 1 + cnt <= n;
    int ok = call_method("copyfrom", nargs, a, 1);
    if (ok != valid)
        FINDING("copyfrom(self, %lld, %lld%s%lld) on %zu frames: %s", (long long)a[0],
                (long long)a[1], nargs == 3 ? ", " : " [", (long long)a[2], nf,
                ok ? "done" : errtext());
    if (ok) {
        memmove(ref + (size_t)(df - 1) * fb, ref + (size_t)(sf - 1) * fb, (size_t)cnt * fb);
        if (memcmp(b->mem->data, ref, nf * fb) != 0)
            FINDING("copyfrom(self, %lld, %lld, %lld) copied the wrong frames",
                    (long long)a[0], (long long)a[1], (long long)cnt);
    }

    lua_Integer nn = pick_index(in);
    ok = call_method("resize", 1, &nn, 0);
    if (ok != (nn >= 0 && (uint64_t)nn <= nf))
        FINDING("resize(%lld) of a %zu-frame Buffer: %s", (long long)nn, nf, ok ? "done" : errtext());
    free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!L)
        setup();
    input in = { data, size };
    unsigned how = byte(&in);
    lua_Integer ch = pick_channels(&in);
    ps_format f = (ps_format)(byte(&in) % PS_NFORMATS);
    switch (how % 6) {
    case 0: from_string(&in, ch, f); break;
    case 1: from_table(&in, ch, f, 0); break;
    case 2: from_table(&in, ch, f, 1); break;
    case 3: from_table(&in, ch, f, 2); break;
    case 4: from_count(&in, ch, f); break;
    default: methods(&in, f); break;
    }
    lua_settop(L, 0);
    return 0;
}
