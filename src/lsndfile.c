/* Whole-file reading and writing of Buffers with libsndfile.
 *
 *   core.save(path, buf, samplerate [, {type =, subtype =, endian =, dither =}])
 *   core.load(path) -> buf, samplerate
 *
 * Streaming to and from disk while a stream runs is done by C disk threads
 * (the Files issue); these are for files that fit in memory. */
#include <sndfile.h>
#include <unistd.h>

#include "disk.h"
#include "lpastream.h"
#include "sfformat.h"

/* An option of the table at t: a string, or NULL when absent. */
static const char *optname(lua_State *L, int t, const char *k)
{
    if (lua_type(L, t) != LUA_TTABLE)
        return NULL;
    lua_getfield(L, t, k);
    const char *v = lua_isnil(L, -1) ? NULL : lua_tostring(L, -1);
    if (!v && !lua_isnil(L, -1))
        luaL_error(L, "option '%s' must be a string, got %s", k, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
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
    char list[600], err[300];
    if (!lua_isnoneornil(L, 4))
        luaL_checktype(L, 4, LUA_TTABLE);
    luaL_argcheck(L, rate > 0 && rate <= 0x7fffffff, 3, "samplerate must be > 0");
    const char *type = optname(L, 4, "type"), *sub = optname(L, 4, "subtype");
    const char *end = optname(L, 4, "endian");
    if (!sub)
        sub = optname(L, 4, "encoding");
    int major = type ? ps_sf_major(type) : ps_sf_major_from_path(path);
    if (major < 0) {
        ps_sf_list_majors(list, sizeof list);
        return luaL_error(L, "%s: unknown file type '%s' (%s)", path, type, list);
    }
    if (!major)
        major = SF_FORMAT_WAV;
    int st = sub ? ps_sf_subtype(sub) : ps_sf_subtype_for(major, b->format);
    if (st < 0) {
        ps_sf_list_subtypes(list, sizeof list);
        return luaL_error(L, "%s: unknown subtype '%s' (%s)", path, sub, list);
    }
    int en = end ? ps_sf_endian(end) : 0;
    if (en < 0)
        return luaL_error(L, "%s: unknown endian '%s' (file, little, big, cpu)", path, end);
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

void ps_sndfile_functions(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "save", core_save }, { "load", core_load }, { NULL, NULL }
    };
    luaL_setfuncs(L, funcs, 0);
}
