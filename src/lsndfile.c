/* Whole-file reading and writing of Buffers with libsndfile.
 *
 *   core.save(path, buf, samplerate [, {type =, subtype =, endian =}])
 *   core.load(path) -> buf, samplerate
 *
 * Streaming to and from disk while a stream runs is done by C disk threads
 * (the Files issue); these are for files that fit in memory. */
#include <sndfile.h>
#include <unistd.h>

#include "lpastream.h"
#include "sfformat.h"

static int core_save(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    ps_buffer *b = ps_checkbuffer(L, 2);
    lua_Integer rate = luaL_checkinteger(L, 3);
    int major = ps_sf_major_from_path(path);
    if (!major)
        major = SF_FORMAT_WAV;
    SF_INFO info = { .samplerate = (int)rate, .channels = b->channels,
                     .format = major | ((major == SF_FORMAT_OGG && ps_sf_subtype_from_path(path))
                                        ? ps_sf_subtype_from_path(path)
                                        : ps_sf_subtype_for(major, b->format)) };
    if (!sf_format_check(&info))
        return luaL_error(L, "%s: this file type cannot hold %s samples", path,
                          ps_format_name(b->format));
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, ps_sf_open_error(path));
        return 2;
    }
    sf_count_t bytes = (sf_count_t)((size_t)b->frames * ps_buffer_framebytes(b));
    sf_count_t n = sf_write_raw(sf, b->mem->data, bytes);
    const char *err = n == bytes ? NULL : sf_strerror(sf);
    if (sf_close(sf) != 0 && !err)
        err = "error while closing";
    if (err) {
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
