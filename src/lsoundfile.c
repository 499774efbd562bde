/* pastream.SoundFile: a sound file read or written directly from Lua, for
 * offline work (no device): ps.open(path [, mode [, opts]]).  Reading and
 * writing go straight through libsndfile on the calling thread, as fast as
 * the disk and the CPU allow; file:chunks{} (lua/pastream/init.lua) is the
 * offline twin of stream:chunks{}. */
#include <string.h>

#include "disk.h"
#include "lpastream.h"
#include "sfformat.h"

#define PS_SOUNDFILE "pastream.SoundFile"

typedef struct ps_soundfile {
    SNDFILE *sf;              /* NULL once closed */
    SF_INFO info;
    int mode;                 /* SFM_READ or SFM_WRITE */
    int is_pipe;
    int dither;               /* writing: TPDF dither into integer files */
    uint64_t rng;             /* the dither's state */
} ps_soundfile;

static ps_soundfile *tofile(lua_State *L)
{
    ps_soundfile *f = luaL_checkudata(L, 1, PS_SOUNDFILE);
    if (!f->sf)
        luaL_error(L, "attempt to use a closed sound file");
    return f;
}

/* ps.open(path [, "r"|"w" [, {type, subtype, endian, samplerate, channels}]])
 * -> file | nil, message.  Writing needs samplerate and channels; reading a
 * RAW file needs samplerate, channels and subtype.  "-" is stdin/stdout. */
static int sf_open_lua(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *mode = luaL_optstring(L, 2, "r");
    luaL_argcheck(L, strcmp(mode, "r") == 0 || strcmp(mode, "w") == 0, 2, "\"r\" or \"w\" expected");
    int writing = mode[0] == 'w';

    ps_soundfile *f = lua_newuserdatauv(L, sizeof *f, 0);
    memset(f, 0, sizeof *f);
    luaL_setmetatable(L, PS_SOUNDFILE);
    if (writing) {
        /* the file options every file call shares (lwholefile.c) */
        int major = ps_sf_major_from_path(path), given;
        if (!major)
            major = strcmp(path, "-") == 0 ? SF_FORMAT_AU : SF_FORMAT_WAV;
        int w = ps_sf_format_word(L, 3, major, &given);
        major = w & SF_FORMAT_TYPEMASK;
        int st = given ? w & SF_FORMAT_SUBMASK : 0;
        f->info.samplerate = (int)ps_optfieldint(L, 3, "samplerate", 0);
        f->info.channels = (int)ps_optfieldint(L, 3, "channels", 0);
        if (f->info.samplerate <= 0 || f->info.channels <= 0)
            return luaL_error(L, "writing %s needs samplerate and channels", path);
        if (!st && major == SF_FORMAT_OGG)
            st = ps_sf_subtype_from_path(path);
        f->info.format = major | (st ? st : ps_sf_subtype_for(major, PS_FLOAT32)) | (w & SF_FORMAT_ENDMASK);
        char err[300];
        if (!sf_format_check(&f->info)) {
            lua_pushnil(L);
            lua_pushfstring(L, "%s: a %s file cannot hold %s", path, ps_sf_major_name(major),
                            ps_sf_subtype_name(f->info.format));
            return 2;
        }
        if (ps_sf_probe_write(&f->info, err, sizeof err) < 0) {
            lua_pushnil(L);
            lua_pushfstring(L, "%s: libsndfile cannot write a %s file of %s: %s", path,
                            ps_sf_major_name(major), ps_sf_subtype_name(f->info.format), err);
            return 2;
        }
    } else {
        const char *missing = ps_sf_read_info(L, 3, path, &f->info);
        if (missing) {
            lua_pushnil(L);
            lua_pushfstring(L, "%s: a RAW file needs samplerate, channels and subtype; %s is missing",
                            path, missing);
            return 2;
        }
    }
    if (writing && lua_type(L, 3) == LUA_TTABLE) {
        lua_getfield(L, 3, "dither");
        f->dither = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    f->mode = writing ? SFM_WRITE : SFM_READ;
    f->sf = ps_sf_open(path, f->mode, &f->info, &f->is_pipe);
    if (!f->sf) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, ps_sf_open_error(path));
        return 2;
    }
    /* float samples in [-1, 1) whatever the file holds, exact for float files */
    sf_command(f->sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    if (writing)
        sf_command(f->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    return 1;
}

static void check_buffer(lua_State *L, ps_soundfile *f, ps_buffer *b)
{
    if (b->format != PS_FLOAT32)
        luaL_error(L, "sound files read and write float32 buffers, this one is %s",
                   ps_format_name(b->format));
    if (b->channels != f->info.channels)
        luaL_error(L, "the buffer has %d channels, the file %d", b->channels, f->info.channels);
}

/* The (buf, first, count) arguments of read and write, checked. */
static ps_buffer *check_range(lua_State *L, ps_soundfile *f, lua_Integer *first, lua_Integer *count)
{
    ps_buffer *b = ps_checkbuffer(L, 2);
    check_buffer(L, f, b);
    *first = luaL_optinteger(L, 3, 1);
    *count = luaL_optinteger(L, 4, b->frames - *first + 1);
    if (*first < 1 || *count < 0 || *first - 1 + *count > b->frames)
        luaL_error(L, "frames %I..%I out of range 1..%I", *first, *first + *count - 1,
                   (lua_Integer)b->frames);
    return b;
}

/* file:read(buf [, first [, count]]) -> frames read into buf (0 at the end). */
static int f_read(lua_State *L)
{
    ps_soundfile *f = tofile(L);
    lua_Integer first, count;
    ps_buffer *b = check_range(L, f, &first, &count);
    if (f->mode != SFM_READ)
        return luaL_error(L, "the file is open for writing");
    float *p = (float *)(void *)b->mem->data + (size_t)(first - 1) * (size_t)b->channels;
    sf_count_t n = sf_readf_float(f->sf, p, count);
    if (n < count && sf_error(f->sf) != SF_ERR_NO_ERROR)
        return luaL_error(L, "read error: %s", sf_strerror(f->sf));
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* file:write(buf [, first [, count]]) -> frames written; raises on error. */
static int f_write(lua_State *L)
{
    ps_soundfile *f = tofile(L);
    lua_Integer first, count;
    ps_buffer *b = check_range(L, f, &first, &count);
    if (f->mode != SFM_WRITE)
        return luaL_error(L, "the file is open for reading");
    const float *p = (const float *)(const void *)b->mem->data + (size_t)(first - 1) * (size_t)b->channels;
    /* The disk writer's conversion: float32 into an integer file is the
     * exact inverse of reading it (libsndfile's own would scale by
     * 2^(bits-1) - 1), or TPDF dithered (dither = true). */
    char err[300];
    if (ps_disk_write_all(f->sf, PS_FLOAT32, b->channels, p, count, f->dither, &f->rng,
                          err, sizeof err) < 0)
        return luaL_error(L, "%s", err);
    lua_pushinteger(L, (lua_Integer)count);
    return 1;
}

/* file:seek(frame [, whence = "set"|"cur"|"end"]) -> new position (frames). */
static int f_seek(lua_State *L)
{
    static const char *const names[] = { "set", "cur", "end", NULL };
    static const int whences[] = { SEEK_SET, SEEK_CUR, SEEK_END };
    ps_soundfile *f = tofile(L);
    lua_Integer pos = luaL_checkinteger(L, 2);
    int w = luaL_checkoption(L, 3, "set", names);
    sf_count_t r = sf_seek(f->sf, pos, whences[w]);
    if (r < 0) {
        lua_pushnil(L);
        lua_pushstring(L, f->is_pipe ? "cannot seek a pipe" : sf_strerror(f->sf));
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)r);
    return 1;
}

static int f_close(lua_State *L)
{
    ps_soundfile *f = luaL_checkudata(L, 1, PS_SOUNDFILE);
    if (f->sf) {
        int r = ps_sf_close(f->sf);
        f->sf = NULL;
        if (r != 0) {
            lua_pushnil(L);
            lua_pushstring(L, sf_error_number(r));
            return 2;
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int f_index(lua_State *L)
{
    ps_soundfile *f = luaL_checkudata(L, 1, PS_SOUNDFILE);
    const char *k = luaL_checkstring(L, 2);
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "methods");
    if (lua_getfield(L, -1, k) != LUA_TNIL)
        return 1;
    if (strcmp(k, "closed") == 0) { lua_pushboolean(L, f->sf == NULL); return 1; }
    if (strcmp(k, "samplerate") == 0) lua_pushinteger(L, f->info.samplerate);
    else if (strcmp(k, "channels") == 0) lua_pushinteger(L, f->info.channels);
    else if (strcmp(k, "frames") == 0) lua_pushinteger(L, f->mode == SFM_READ ? f->info.frames : 0);
    else if (strcmp(k, "type") == 0) lua_pushstring(L, ps_sf_major_name(f->info.format));
    else if (strcmp(k, "subtype") == 0) lua_pushstring(L, ps_sf_subtype_name(f->info.format));
    else if (strcmp(k, "mode") == 0) lua_pushstring(L, f->mode == SFM_READ ? "r" : "w");
    else return 0;
    return 1;
}

static int f_repr(lua_State *L)
{
    ps_soundfile *f = luaL_checkudata(L, 1, PS_SOUNDFILE);
    if (!f->sf)
        lua_pushliteral(L, "SoundFile (closed)");
    else
        lua_pushfstring(L, "SoundFile(%s/%s, %d Hz, %d channels, %s)",
                        ps_sf_major_name(f->info.format), ps_sf_subtype_name(f->info.format),
                        f->info.samplerate, f->info.channels, f->mode == SFM_READ ? "r" : "w");
    return 1;
}

static const luaL_Reg methods[] = {
    { "read", f_read }, { "write", f_write }, { "seek", f_seek }, { "close", f_close },
    { NULL, NULL }
};

static const luaL_Reg metamethods[] = {
    { "__index", f_index }, { "__tostring", f_repr }, { "__gc", f_close }, { "__close", f_close },
    { NULL, NULL }
};

void ps_soundfile_functions(lua_State *L)
{
    luaL_newmetatable(L, PS_SOUNDFILE);
    luaL_setfuncs(L, metamethods, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "methods");
    lua_getfield(L, -1, "methods");
    lua_setfield(L, -3, "soundfile_methods");
    lua_pop(L, 1);
    lua_pushcfunction(L, sf_open_lua);
    lua_setfield(L, -2, "open");
}
