/* Sound files as wholes, in one call each: the Buffer of a whole file
 * (save, load), what a file is (file_info), what this libsndfile writes
 * (formats), the type a file name says (type_from_name), and the file
 * options every file call shares (ps_sf_format_word, ps_sf_read_info).  The
 * names and codes are sfformat.c's; an open file read or written piece by
 * piece is the SoundFile type (lsoundfile.c), and a stream's files run on
 * disk threads (disk.c, attached in lstream.c).
 *
 *   core.save(path, buf, samplerate [, {type, subtype, endian, dither}])
 *   core.load(path) -> buf, samplerate | nil, message
 *   core.file_info(path [, options]) -> info | nil, message
 *   core.formats() -> {type = {subtype, ...}}
 *   core.type_from_name(path) -> type | nil */
#include <sndfile.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "lpastream.h"
#include "sfformat.h"

/* ---- the file options every file call shares ---- */

static const char *optfield(lua_State *L, int t, const char *k)
{
    if (lua_type(L, t) != LUA_TTABLE)
        return NULL;
    lua_getfield(L, t, k);
    const char *v = lua_isnil(L, -1) ? NULL : lua_tostring(L, -1);
    if (!v && !lua_isnil(L, -1))
        luaL_error(L, "file option '%s' must be a string", k);
    lua_pop(L, 1);
    return v;
}

lua_Integer ps_optfieldint(lua_State *L, int t, const char *k, lua_Integer def)
{
    if (lua_type(L, t) != LUA_TTABLE)
        return def;
    lua_getfield(L, t, k);
    lua_Integer v = lua_isnil(L, -1) ? def : luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Format word from file options {type, subtype (or encoding), endian};
 * the major defaults to `major`.  Raises on unknown names. */
int ps_sf_format_word(lua_State *L, int t, int major, int *subtype_given)
{
    char list[600];
    const char *type = optfield(L, t, "type");
    const char *sub = optfield(L, t, "subtype");
    const char *end = optfield(L, t, "endian");
    if (!sub)
        sub = optfield(L, t, "encoding");
    if (type) {
        major = ps_sf_major(type);
        if (major < 0) {
            ps_sf_list_majors(list, sizeof list);
            luaL_error(L, "unknown file type '%s' (%s)", type, list);
        }
    }
    int w = major;
    *subtype_given = 0;
    if (sub) {
        int st = ps_sf_subtype(sub);
        if (st < 0) {
            ps_sf_list_subtypes(list, sizeof list);
            luaL_error(L, "unknown encoding '%s' (%s)", sub, list);
        }
        w |= st;
        *subtype_given = 1;
    }
    if (end) {
        int e = ps_sf_endian(end);
        if (e < 0)
            luaL_error(L, "unknown endian '%s' (file, little, big, cpu)", end);
        w |= e;
    }
    return w;
}

int ps_fail(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushnil(L);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    return 2;
}

/* SF_INFO for opening `path` to read, from the file options at index t:
 * a RAW file needs samplerate, channels and subtype.  Returns NULL, or
 * the name of what is missing. */
const char *ps_sf_read_info(lua_State *L, int t, const char *path, SF_INFO *info)
{
    int given;
    int w = ps_sf_format_word(L, t, ps_sf_major_from_path(path), &given);
    memset(info, 0, sizeof *info);
    if ((w & SF_FORMAT_TYPEMASK) != SF_FORMAT_RAW)
        return NULL;
    info->samplerate = (int)ps_optfieldint(L, t, "samplerate", 0);
    info->channels = (int)ps_optfieldint(L, t, "channels", 0);
    info->format = w;
    return !info->samplerate ? "samplerate" : !info->channels ? "channels"
         : !given ? "subtype (encoding)" : NULL;
}


/* core.save(path, buf, samplerate [, {type, subtype, endian, dither}]).
 * The samples go through the disk writer's conversion (ps_disk_write_all),
 * so libsndfile writes the file's byte order, and float32 into an integer
 * file is the exact inverse of reading it (or TPDF dithered, dither =
 * true).  A combination libsndfile cannot write is refused (raised) before
 * the file is opened: nothing is written. */
static int core_save(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    ps_buffer *b = ps_checkbuffer(L, 2);
    lua_Integer rate = luaL_checkinteger(L, 3);
    char err[300];
    if (!lua_isnoneornil(L, 4))
        luaL_checktype(L, 4, LUA_TTABLE);
    luaL_argcheck(L, rate > 0 && rate <= 0x7fffffff, 3, "samplerate must be > 0");
    int major = ps_sf_major_from_path(path), given;
    int w = ps_sf_format_word(L, 4, major ? major : SF_FORMAT_WAV, &given);
    major = w & SF_FORMAT_TYPEMASK;
    int st = given ? w & SF_FORMAT_SUBMASK
           : (major == SF_FORMAT_OGG && ps_sf_subtype_from_path(path)) ? ps_sf_subtype_from_path(path)
           : ps_sf_subtype_for(major, b->format);
    int en = w & SF_FORMAT_ENDMASK;
    int dither = 0;
    if (lua_type(L, 4) == LUA_TTABLE) {
        lua_getfield(L, 4, "dither");
        dither = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    SF_INFO info = { .samplerate = (int)rate, .channels = b->channels,
                     .format = major | st | en };
    if (!sf_format_check(&info))
        return luaL_error(L, "%s: a %s file cannot hold %s%s%s%s (%d channel%s of %s samples)",
                          path, ps_sf_major_name(major), ps_sf_subtype_name(st),
                          en ? ", " : "", en ? ps_sf_endian_name(en) : "", en ? " endian" : "",
                          b->channels, b->channels == 1 ? "" : "s", ps_format_name(b->format));
    if (ps_sf_probe_write(&info, err, sizeof err) < 0)
        return luaL_error(L, "%s: libsndfile cannot write a %s file of %s: %s", path,
                          ps_sf_major_name(major), ps_sf_subtype_name(st), err);
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, ps_sf_open_error(path));
        return 2;
    }
    int r = ps_disk_write_all(sf, b->format, b->channels, b->mem->data, b->frames, dither,
                              NULL, err, sizeof err);
    if (sf_close(sf) != 0 && r == 0) {
        snprintf(err, sizeof err, "error while closing");
        r = -1;
    }
    if (r < 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int core_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    ps_format f = ps_checkformat(L, 2, "float32");
    SF_INFO info = { 0 };
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, ps_sf_open_error(path));
        return 2;
    }
    if (f != PS_FLOAT32) {
        sf_close(sf);
        return luaL_error(L, "load reads float32 only for now, %s asked for", ps_format_name(f));
    }
    /* A header may claim more than memory holds (a huge or lying file):
     * refuse it here rather than let the allocation or the reading of
     * gigabytes run the machine out of memory. */
    /* libsndfile gives SF_COUNT_MAX when the header has no length (an
     * unfinished FLAC, say): that is a damaged file, not a huge one. */
    if (info.frames == SF_COUNT_MAX) {
        sf_close(sf);
        lua_pushnil(L);
        lua_pushfstring(L, "%s: the header gives no length (an unfinished or damaged file)", path);
        return 2;
    }
    double bytes = (double)info.frames * info.channels * sizeof(float);
    double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (info.frames < 0 || (mem > 0 && bytes > mem / 2)) {
        sf_close(sf);
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %I frames of %d channels (%I MiB as float32) are more than "
                        "half this machine's memory (%I MiB): read it in chunks (ps.chunks{input = ...})",
                        path, (lua_Integer)info.frames, info.channels,
                        (lua_Integer)(bytes / 1048576), (lua_Integer)(mem / 1048576));
        return 2;
    }
    ps_buffer *b = ps_newbuffer(L, info.frames, info.channels, f);
    sf_count_t got = sf_readf_float(sf, (float *)(void *)b->mem->data, info.frames);
    sf_close(sf);
    if (got != info.frames) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: read %I of %I frames", path, (lua_Integer)got,
                        (lua_Integer)info.frames);
        return 2;
    }
    lua_pushinteger(L, info.samplerate);
    return 2;
}

/* core.file_info(path [, {type, subtype, endian, samplerate, channels}])
 * -> {samplerate, channels, frames, type, subtype, endian, seekable} | nil, message */
static int core_file_info(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int pipe;
    SF_INFO info;
    const char *missing = ps_sf_read_info(L, 2, path, &info);
    if (missing)
        return ps_fail(L, "%s: a RAW file needs samplerate, channels and subtype; %s is missing",
                    path, missing);
    SNDFILE *sf = ps_sf_open(path, SFM_READ, &info, &pipe);
    if (!sf)
        return ps_fail(L, "%s: %s", path, ps_sf_open_error(path));
    sf_close(sf);
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, info.samplerate); lua_setfield(L, -2, "samplerate");
    lua_pushinteger(L, info.channels);   lua_setfield(L, -2, "channels");
    lua_pushinteger(L, info.frames);     lua_setfield(L, -2, "frames");
    lua_pushstring(L, ps_sf_major_name(info.format));   lua_setfield(L, -2, "type");
    lua_pushstring(L, ps_sf_subtype_name(info.format)); lua_setfield(L, -2, "subtype");
    lua_pushstring(L, ps_sf_endian_name(info.format));  lua_setfield(L, -2, "endian");
    lua_pushboolean(L, info.seekable);   lua_setfield(L, -2, "seekable");
    return 1;
}

/* core.formats() -> {type = {subtype, ...}, ...}: what this libsndfile can
 * write, for the types and subtypes pastream has names for: what
 * sf_format_check accepts and a probe write shows (ps_sf_probe_write). */
static int core_formats(lua_State *L)
{
    static const char *types[] = { "wav", "aiff", "au", "raw", "paf", "svx", "nist", "voc",
        "ircam", "w64", "mat4", "mat5", "pvf", "xi", "htk", "sds", "avr", "wavex", "sd2",
        "flac", "caf", "wve", "ogg", "mpc2k", "rf64", "mpeg", NULL };
    static const char *subs[] = { "pcm_s8", "pcm_16", "pcm_24", "pcm_32", "pcm_u8", "float",
        "double", "ulaw", "alaw", "ima_adpcm", "ms_adpcm", "gsm610", "vox_adpcm", "g721_32",
        "g723_24", "g723_40", "dwvw_12", "dwvw_16", "dwvw_24", "dpcm_8", "dpcm_16", "vorbis",
        "opus", "alac_16", "alac_20", "alac_24", "alac_32", "mpeg_layer_iii", NULL };
    lua_newtable(L);
    for (int i = 0; types[i]; i++) {
        int major = ps_sf_major(types[i]);
        if (major < 0)
            continue;
        int n = 0;
        lua_newtable(L);
        for (int j = 0; subs[j]; j++) {
            int st = ps_sf_subtype(subs[j]);
            SF_INFO info = { .samplerate = 48000, .channels = 1, .format = major | (st < 0 ? 0 : st) };
            char err[300];
            if (st >= 0 && sf_format_check(&info) && ps_sf_probe_write(&info, err, sizeof err) == 0) {
                lua_pushstring(L, subs[j]);
                lua_rawseti(L, -2, ++n);
            }
        }
        if (n)
            lua_setfield(L, -2, types[i]);
        else
            lua_pop(L, 1);
    }
    return 1;
}

/* core.type_from_name(path) -> the file type its extension names ("wav",
 * "flac", ...), or nil.  A recording into a temporary file takes its type
 * from the name it will end up with. */
static int core_type_from_name(lua_State *L)
{
    int major = ps_sf_major_from_path(luaL_checkstring(L, 1));
    if (major)
        lua_pushstring(L, ps_sf_major_name(major));
    else
        lua_pushnil(L);
    return 1;
}

void ps_wholefile_functions(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "save", core_save }, { "load", core_load }, { "file_info", core_file_info },
        { "formats", core_formats }, { "type_from_name", core_type_from_name },
        { NULL, NULL }
    };
    luaL_setfuncs(L, funcs, 0);
}
