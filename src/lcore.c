/* pastream.core: the C module.  Device and host-API listing, versions, and
 * the Buffer and Stream types.  `require "pastream"` loads lua/pastream/
 * init.lua, which builds the public API on top of this.  The pastream-lua
 * host and plain lua5.4 both load it as pastream/core.so from package.cpath. */
#include <dlfcn.h>
#include <sndfile.h>
#include <string.h>
#include <uv.h>

#include "device.h"
#include "lpastream.h"
#include "sigchain.h"

static void init_or_raise(lua_State *L)
{
    PaError r = ps_pa_init();
    if (r != paNoError)
        luaL_error(L, "PortAudio failed to start: %s", ps_pa_error_text(r));
}

#define SETNUM(k, v)  (lua_pushnumber(L, (v)), lua_setfield(L, -2, k))
#define SETINT(k, v)  (lua_pushinteger(L, (v)), lua_setfield(L, -2, k))
#define SETSTR(k, v)  (lua_pushstring(L, (v)), lua_setfield(L, -2, k))

/* core.devices() -> list of device tables, 1-based position = index + 1;
 * each has every field PortAudio gives plus `index` (PortAudio's, 0-based),
 * `hostapi_name`, and default_input/default_output flags. */
static int core_devices(lua_State *L)
{
    init_or_raise(L);
    int n = Pa_GetDeviceCount();
    if (n < 0)
        return luaL_error(L, "PortAudio cannot list devices: %s", Pa_GetErrorText(n));
    PaDeviceIndex din = Pa_GetDefaultInputDevice(), dout = Pa_GetDefaultOutputDevice();
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        const PaHostApiInfo *h = d ? Pa_GetHostApiInfo(d->hostApi) : NULL;
        if (!d)
            continue;
        lua_createtable(L, 0, 14);
        SETINT("index", i);
        SETSTR("name", d->name);
        SETINT("hostapi", d->hostApi);
        SETSTR("hostapi_name", h ? h->name : "?");
        SETINT("max_input_channels", d->maxInputChannels);
        SETINT("max_output_channels", d->maxOutputChannels);
        SETNUM("default_low_input_latency", d->defaultLowInputLatency);
        SETNUM("default_low_output_latency", d->defaultLowOutputLatency);
        SETNUM("default_high_input_latency", d->defaultHighInputLatency);
        SETNUM("default_high_output_latency", d->defaultHighOutputLatency);
        SETNUM("default_samplerate", d->defaultSampleRate);
        lua_pushboolean(L, i == din); lua_setfield(L, -2, "default_input");
        lua_pushboolean(L, i == dout); lua_setfield(L, -2, "default_output");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* core.hostapis() -> list of host API tables with every field PortAudio gives. */
static int core_hostapis(lua_State *L)
{
    init_or_raise(L);
    int n = Pa_GetHostApiCount();
    if (n < 0)
        return luaL_error(L, "PortAudio cannot list host APIs: %s", Pa_GetErrorText(n));
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        const PaHostApiInfo *h = Pa_GetHostApiInfo(i);
        if (!h)
            continue;
        lua_createtable(L, 0, 6);
        SETINT("index", i);
        SETSTR("name", h->name);
        SETINT("type", h->type);
        SETINT("device_count", h->deviceCount);
        SETINT("default_input_device", h->defaultInputDevice);
        SETINT("default_output_device", h->defaultOutputDevice);
        lua_pushboolean(L, i == Pa_GetDefaultHostApi()); lua_setfield(L, -2, "default");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* core.default_devices() -> input index, output index (-1 when none). */
static int core_default_devices(lua_State *L)
{
    init_or_raise(L);
    lua_pushinteger(L, Pa_GetDefaultInputDevice());
    lua_pushinteger(L, Pa_GetDefaultOutputDevice());
    return 2;
}

/* core.versions() -> table of the versions of everything pastream runs on. */
static int core_versions(lua_State *L)
{
    char sf[128];
    sf_command(NULL, SFC_GET_LIB_VERSION, sf, sizeof sf);
    lua_createtable(L, 0, 5);
    SETSTR("pastream", PS_VERSION);
    SETSTR("portaudio", Pa_GetVersionText());
    SETSTR("sndfile", sf);
    SETSTR("lua", LUA_RELEASE);
    SETSTR("libuv", uv_version_string());
    return 1;
}

/* core.terminate(): stop and close every stream, then PortAudio. */
static int core_terminate(lua_State *L)
{
    (void)L;
    ps_close_all_streams();
    ps_pa_terminate();
    return 0;
}

/* core.chain_signals(): the second-signal exit (src/sigchain.c), which
 * lua/pastream/task.lua calls under plain lua5.4.  pastream-lua links the
 * same file into the host (src/host.c), so it works before this module is
 * loaded. */
static int core_chain_signals(lua_State *L)
{
    (void)L;
    ps_chain_signals();
    return 0;
}

/* core.spare_alsa() -> true when ALSA was given a configuration with no
 * plugin PCM before PortAudio started (src/device.h, ps_pa_spare_alsa). */
static int core_spare_alsa(lua_State *L)
{
    lua_pushboolean(L, ps_pa_spare_alsa());
    return 1;
}

static const luaL_Reg funcs[] = {
    { "spare_alsa", core_spare_alsa },
    { "chain_signals", core_chain_signals },
    { "devices", core_devices },
    { "hostapis", core_hostapis },
    { "default_devices", core_default_devices },
    { "versions", core_versions },
    { "terminate", core_terminate },
    { "wake_fd", ps_wake_fd },
    { "clear_wake", ps_clear_wake },
    { NULL, NULL }
};

/* Keep this library mapped until the process ends.  Lua dlcloses the C
 * modules it loaded when its state closes, but the engine of an abandoned
 * stream (ps_pa_abandon) may still be called back by a late PortAudio
 * thread, which would then run unmapped code.  RTLD_NOLOAD finds the copy
 * already loaded, RTLD_NODELETE makes its dlclose a no-op.  (Linked into a
 * program, as in the fuzz targets, the core is never unloaded anyway.) */
static void pin_library(void)
{
    Dl_info info;
    if (dladdr((void *)pin_library, &info) && info.dli_fname)
        dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

LUAMOD_API int luaopen_pastream_core(lua_State *L)
{
    pin_library();
    /* Close every stream and PortAudio when the Lua state closes (the
     * host's and plain lua5.4's lua_close).  Not atexit(): the streams are
     * userdata of that state, so they are closed while it exists.  Lua
     * calls finalizers in the reverse order of their objects' creation:
     * the streams, made after this sentinel, are closed (their files
     * finalized) first, then the sentinel closes any left and terminates
     * PortAudio.  It is made after the loader's own table, so it also runs
     * before the (pinned, so harmless) unload. */
    lua_newuserdatauv(L, 1, 0);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, core_terminate);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, "pastream.sentinel");

    luaL_newlib(L, funcs);
    ps_wholefile_functions(L);
    ps_stream_functions(L);
    ps_soundfile_functions(L);
    luaopen_pastream_buffer(L);
    lua_setfield(L, -2, "Buffer");
    luaopen_pastream_stream(L);
    lua_setfield(L, -2, "Stream");
    luaL_getmetatable(L, PS_STREAM);
    lua_getfield(L, -1, "methods");
    lua_setfield(L, -3, "stream_methods");
    lua_pop(L, 1);
    luaL_getmetatable(L, PS_BUFFER);
    lua_getfield(L, -1, "methods");
    lua_setfield(L, -3, "buffer_methods");
    lua_pop(L, 1);
    ps_dsp_functions(L);   /* after the Buffer type: it adds Buffer methods */
    ps_picture_functions(L);
    lua_pushliteral(L, PS_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}
