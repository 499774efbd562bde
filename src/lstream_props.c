/* The properties of a Stream a script reads (s.active, s.frame_count,
 * s.latency...), one function each in a table sorted by name, and the
 * per-stream fields the Lua layer and scripts hang on a stream (kept in
 * its uservalue). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstream.h"

/* ---- properties ------------------------------------------------------- */

static void pushpair(lua_State *L, ps_lstream *s, double in, double out, int isint)
{
    if (has_in(s) && has_out(s)) {
        lua_createtable(L, 2, 0);
        if (isint) { lua_pushinteger(L, (lua_Integer)in); lua_rawseti(L, -2, 1);
                     lua_pushinteger(L, (lua_Integer)out); lua_rawseti(L, -2, 2); }
        else       { lua_pushnumber(L, in); lua_rawseti(L, -2, 1);
                     lua_pushnumber(L, out); lua_rawseti(L, -2, 2); }
    } else if (isint)
        lua_pushinteger(L, (lua_Integer)(has_in(s) ? in : out));
    else
        lua_pushnumber(L, has_in(s) ? in : out);
}

/* One function per property: pushes its value and returns 1, or returns 0
 * for nil.  An abandoned stream (s->dead) is finished and stopped, and
 * PortAudio, which would still call it active, is not asked. */
typedef int (*getter)(lua_State *L, ps_lstream *s);

static int push_bool(lua_State *L, int v) { lua_pushboolean(L, v); return 1; }
static int push_int(lua_State *L, int64_t v) { lua_pushinteger(L, (lua_Integer)v); return 1; }
static int push_num(lua_State *L, double v) { lua_pushnumber(L, v); return 1; }
static int status(const ps_lstream *s) { return atomic_load(&s->e->status); }

static int p_active(lua_State *L, ps_lstream *s)
{
    return push_bool(L, !s->dead && Pa_IsStreamActive(s->pa) == 1);
}
static int p_stopped(lua_State *L, ps_lstream *s)
{
    return push_bool(L, s->dead || Pa_IsStreamStopped(s->pa) == 1);
}
static int p_finished(lua_State *L, ps_lstream *s)
{
    return push_bool(L, s->started && (s->dead || Pa_IsStreamActive(s->pa) != 1));
}
/* ended: the engine will move no more frames.  Set before the wake-up that
 * announces it, unlike PortAudio's active flag, which the JACK host API may
 * clear only after calling the finished callback. */
static int p_ended(lua_State *L, ps_lstream *s)
{
    return push_bool(L, !s->started || status(s) != PS_RUNNING || atomic_load(&s->e->finished));
}
static int p_aborted(lua_State *L, ps_lstream *s)
{
    return push_bool(L, status(s) >= PS_BUFFER_EMPTY && status(s) != PS_STOPPED);
}
static int p_status(lua_State *L, ps_lstream *s)
{
    lua_pushstring(L, ps_status_name(status(s)));
    return 1;
}
static int p_frame_count(lua_State *L, ps_lstream *s) { return push_int(L, atomic_load(&s->e->frame_count)); }
static int p_tx_frames(lua_State *L, ps_lstream *s) { return push_int(L, atomic_load(&s->e->tx_frames)); }
static int p_settle(lua_State *L, ps_lstream *s) { return push_int(L, s->e->settle); }
static int p_rx_frames(lua_State *L, ps_lstream *s) { return push_int(L, atomic_load(&s->e->rx_frames)); }
static int p_tx_lost(lua_State *L, ps_lstream *s) { return push_int(L, atomic_load(&s->e->tx_lost)); }
static int p_rx_lost(lua_State *L, ps_lstream *s) { return push_int(L, atomic_load(&s->e->rx_lost)); }
static int p_tap_lost(lua_State *L, ps_lstream *s) { return push_int(L, atomic_load(&s->e->tap_lost)); }
static int p_volume_clips(lua_State *L, ps_lstream *s)
{
    return push_int(L, s->run.rd.disk ? ps_disk_clipped(s->run.rd.disk) : s->volume_clips);
}
/* samples at full scale per device channel this run (meter = true) */
static int clips(lua_State *L, ps_lstream *s, int dir)
{
    int n = s->params.channels[dir];
    if (!(dir ? has_out(s) : has_in(s)))
        return 0;
    lua_createtable(L, n, 0);
    for (int c = 0; c < n; c++) {
        lua_pushinteger(L, (lua_Integer)ps_engine_clips(s->e, dir, c));
        lua_rawseti(L, -2, c + 1);
    }
    return 1;
}
static int p_rx_clips(lua_State *L, ps_lstream *s) { return clips(L, s, 0); }
static int p_tx_clips(lua_State *L, ps_lstream *s) { return clips(L, s, 1); }
static int xrun(lua_State *L, ps_lstream *s, int kind) { return push_int(L, atomic_load(&s->e->xruns[kind])); }
static int p_input_underflows(lua_State *L, ps_lstream *s) { return xrun(L, s, PS_XRUN_INPUT_UNDERFLOW); }
static int p_input_overflows(lua_State *L, ps_lstream *s) { return xrun(L, s, PS_XRUN_INPUT_OVERFLOW); }
static int p_output_underflows(lua_State *L, ps_lstream *s) { return xrun(L, s, PS_XRUN_OUTPUT_UNDERFLOW); }
static int p_output_overflows(lua_State *L, ps_lstream *s) { return xrun(L, s, PS_XRUN_OUTPUT_OVERFLOW); }
static int p_xruns(lua_State *L, ps_lstream *s)
{
    int64_t n = 0;
    for (int i = 0; i < PS_NXRUN; i++)
        n += atomic_load(&s->e->xruns[i]);
    return push_int(L, n);
}
static int p_cpu_load(lua_State *L, ps_lstream *s) { return push_num(L, s->dead ? 0 : Pa_GetStreamCpuLoad(s->pa)); }
static int p_time(lua_State *L, ps_lstream *s) { return push_num(L, s->dead ? 0 : Pa_GetStreamTime(s->pa)); }
static int p_samplerate(lua_State *L, ps_lstream *s)
{
    const PaStreamInfo *info = Pa_GetStreamInfo(s->pa);
    return push_num(L, info ? info->sampleRate : s->params.samplerate);
}
static int p_blocksize(lua_State *L, ps_lstream *s) { return push_int(L, (int64_t)s->params.blocksize); }
static int p_channels(lua_State *L, ps_lstream *s)
{
    pushpair(L, s, s->params.channels[0], s->params.channels[1], 1);
    return 1;
}
static int p_device(lua_State *L, ps_lstream *s)
{
    pushpair(L, s, s->params.device[0], s->params.device[1], 1);
    return 1;
}
static int p_latency(lua_State *L, ps_lstream *s)
{
    const PaStreamInfo *info = Pa_GetStreamInfo(s->pa);
    pushpair(L, s, info ? info->inputLatency : 0, info ? info->outputLatency : 0, 0);
    return 1;
}
static int p_format(lua_State *L, ps_lstream *s)
{
    if (has_in(s) && has_out(s)) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, ps_format_name(s->params.format[0])); lua_rawseti(L, -2, 1);
        lua_pushstring(L, ps_format_name(s->params.format[1])); lua_rawseti(L, -2, 2);
    } else
        lua_pushstring(L, ps_format_name(s->params.format[has_in(s) ? 0 : 1]));
    return 1;
}
/* peak |sample| per device channel since the last read (meter = true) */
static int peaks(lua_State *L, ps_lstream *s, int dir)
{
    int n = s->params.channels[dir];
    if (!(dir ? has_out(s) : has_in(s)))
        return 0;
    lua_createtable(L, n, 0);
    for (int c = 0; c < n; c++) {
        lua_pushnumber(L, ps_engine_take_peak(s->e, dir, c));
        lua_rawseti(L, -2, c + 1);
    }
    return 1;
}
static int p_rx_peak(lua_State *L, ps_lstream *s) { return peaks(L, s, 0); }
static int p_tx_peak(lua_State *L, ps_lstream *s) { return peaks(L, s, 1); }
/* the maps of the next run; nil: the identity */
static int mapping(lua_State *L, const int *map, int n)
{
    if (!n)
        return 0;
    lua_createtable(L, n, 0);
    for (int c = 0; c < n; c++) {
        lua_pushinteger(L, map[c]);
        lua_rawseti(L, -2, c + 1);
    }
    return 1;
}
static int p_txmapping(lua_State *L, ps_lstream *s)
{
    return mapping(L, s->run.txmap, s->run.has_txmap ? s->params.channels[1] : 0);
}
static int p_rxmapping(lua_State *L, ps_lstream *s) { return mapping(L, s->run.rxmap, s->run.rx_channels); }
static int p_rx_channels(lua_State *L, ps_lstream *s)
{
    return push_int(L, s->run.rx_channels ? s->run.rx_channels : s->params.channels[0]);
}
static int p_kind(lua_State *L, ps_lstream *s)
{
    lua_pushstring(L, kind_name(s));
    return 1;
}
static int p_frames(lua_State *L, ps_lstream *s) { return push_int(L, s->run.frames); }
static int p_pad(lua_State *L, ps_lstream *s) { return push_int(L, s->run.pad); }
static int p_offset(lua_State *L, ps_lstream *s) { return push_int(L, s->run.offset); }
static int p_loop(lua_State *L, ps_lstream *s) { return push_bool(L, s->run.loop); }

/* Sorted by name (strcmp order) for bsearch. */
static const struct prop { const char *name; getter get; } props[] = {
    { "aborted", p_aborted },             { "active", p_active },
    { "blocksize", p_blocksize },         { "channels", p_channels },
    { "cpu_load", p_cpu_load },           { "device", p_device },
    { "ended", p_ended },                 { "finished", p_finished },
    { "format", p_format },               { "frame_count", p_frame_count },
    { "frames", p_frames },               { "input_overflows", p_input_overflows },
    { "input_underflows", p_input_underflows }, { "kind", p_kind },
    { "latency", p_latency },             { "loop", p_loop },
    { "offset", p_offset },               { "output_overflows", p_output_overflows },
    { "output_underflows", p_output_underflows }, { "pad", p_pad },
    { "rx_channels", p_rx_channels },     { "rx_clips", p_rx_clips },
    { "rx_frames", p_rx_frames },
    { "rx_lost", p_rx_lost },             { "rx_peak", p_rx_peak },
    { "rxmapping", p_rxmapping },         { "samplerate", p_samplerate },
    { "settle", p_settle },
    { "status", p_status },               { "stopped", p_stopped },
    { "tap_lost", p_tap_lost },           { "time", p_time },
    { "tx_clips", p_tx_clips },           { "tx_frames", p_tx_frames },
    { "tx_lost", p_tx_lost },             { "tx_peak", p_tx_peak },
    { "txmapping", p_txmapping },         { "volume_clips", p_volume_clips },
    { "xruns", p_xruns },
};

static int cmp_prop(const void *key, const void *p)
{
    return strcmp(key, ((const struct prop *)p)->name);
}

static int property(lua_State *L, ps_lstream *s, const char *k)
{
    const struct prop *p = bsearch(k, props, sizeof props / sizeof props[0], sizeof props[0],
                                   cmp_prop);
    return p ? p->get(L, s) : 0;
}

static int stream_index(lua_State *L)
{
    ps_lstream *s = luaL_checkudata(L, 1, PS_STREAM);
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "methods");
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) != LUA_TNIL)
        return 1;
    /* Per-stream Lua fields (set by the Lua layer) live in the uservalue. */
    if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, -2) != LUA_TNIL)
            return 1;
    }
    const char *k = lua_tostring(L, 2);
    if (k && strcmp(k, "closed") == 0) {
        lua_pushboolean(L, s->e == NULL);
        return 1;
    }
    if (!k || !s->e)
        return 0;
    return property(L, s, k);
}

/* Unknown keys are stored per stream, so the Lua layer and scripts can hang
 * their own state on a stream. */
static int stream_newindex(lua_State *L)
{
    luaL_checkudata(L, 1, PS_STREAM);
    const char *k = lua_tostring(L, 2);
    if (k && (strcmp(k, "txmapping") == 0 || strcmp(k, "rxmapping") == 0)) {
        lua_settop(L, 3);
        lua_remove(L, 2);
        return k[0] == 't' ? ps_stream_set_txmap(L) : ps_stream_set_rxmap(L);
    }
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, 1);
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_rawset(L, -3);
    return 0;
}

static int stream_repr(lua_State *L)
{
    ps_lstream *s = luaL_checkudata(L, 1, PS_STREAM);
    char in[160], out[160];
    if (!s->e) {
        lua_pushliteral(L, "Stream (closed)");
        return 1;
    }
    const ps_open_params *p = &s->params;
    ps_device_name(p->device[0], in, sizeof in);
    ps_device_name(p->device[1], out, sizeof out);
    if (has_in(s) && has_out(s))
        lua_pushfstring(L, "DuplexStream(device=(%s, %s), samplerate=%d, channels=(%d, %d), "
                        "format=(%s, %s), blocksize=%d, %s)", in, out, (int)p->samplerate,
                        p->channels[0], p->channels[1], ps_format_name(p->format[0]),
                        ps_format_name(p->format[1]), (int)p->blocksize,
                        !s->dead && Pa_IsStreamActive(s->pa) == 1 ? "active" : "inactive");
    else {
        int d = has_in(s) ? 0 : 1;
        lua_pushfstring(L, "%s(device=%s, samplerate=%d, channels=%d, format=%s, blocksize=%d, %s)",
                        kind_name(s), d ? out : in, (int)p->samplerate, p->channels[d],
                        ps_format_name(p->format[d]), (int)p->blocksize,
                        !s->dead && Pa_IsStreamActive(s->pa) == 1 ? "active" : "inactive");
    }
    return 1;
}

void ps_stream_property_metamethods(lua_State *L)
{
    static const luaL_Reg mm[] = {
        { "__index", stream_index }, { "__newindex", stream_newindex },
        { "__tostring", stream_repr }, { NULL, NULL }
    };
    luaL_setfuncs(L, mm, 0);
}
