/* pastream.Stream: a PortAudio stream running the engine, seen from Lua;
 * this file holds its life: open, the run specification (configure), start
 * (check_run, arm_run), stop, the watchdog, close.  The sources and sinks
 * of a run are lstream_io.c, the properties lstream_props.c (lstream.h).
 *
 * The engine lives in C memory outside the Lua heap: PortAudio's thread
 * holds a pointer to it, so it is freed only after the stream is closed.
 * Flat buffers and rings a stream plays or records hold a reference to
 * their memory for the same reason.  This file is the low layer; the public
 * constructors, defaults, device queries and the waiting methods (wait,
 * play, record, chunks) are in lua/pastream/init.lua. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lstream.h"

static ps_lstream *open_streams;

/* Engines of abandoned streams (their whole stream_core: rings, wake-ups,
 * gap queue), with the sample memory they point to.
 * PortAudio still holds a pointer to each engine, a late callback reads
 * its `abandoned` flag, and a callback that stalled in the middle of a
 * block (the reason it was abandoned) may still finish copying into the
 * rings or Buffers of its run.  So none of it is ever freed: it is kept
 * for the life of the process (a few kilobytes plus the run's buffers, once
 * per dead device), in a list so that leak checkers see it as reachable. */
typedef struct grave { ps_engine *e; ps_mem *mem[5]; struct grave *next; } grave;
static grave *graveyard;

/* One wake-up for every stream of the process: Lua watches a single fd with
 * a single poll handle, and each woken task checks its own condition. */
static ps_wake wake = { .fd = -1 };

ps_wake *ps_stream_wake(void) { return &wake; }

static void open_wake(lua_State *L)
{
    int r = wake.fd >= 0 ? 0 : ps_wake_open(&wake);
    if (r < 0)
        luaL_error(L, "cannot create the engine's wake-up: %s", strerror(-r));
}

ps_lstream *ps_checkstream(lua_State *L, int idx)
{
    ps_lstream *s = luaL_checkudata(L, idx, PS_STREAM);
    if (!s->e)
        luaL_error(L, "attempt to use a closed stream");
    return s;
}


static void list_remove(ps_lstream *s)
{
    if (s->prev) s->prev->next = s->next;
    else if (open_streams == s) open_streams = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

/* Stop a disk thread and close its file; a writer first writes what is
 * still in the ring.  Only while the stream is not active (callers check
 * it, or have stopped PortAudio): the engine may still point at the file's
 * wake-up and gap queue, and reads them only in a run, which arm_run sets
 * up anew.  Returns 0, or -1 if the thread had failed. */
int ps_stream_finish_file(ps_lstream *s, file_side *f, int drain)
{
    int r = 0;
    if (f->disk && s->e && s->e->gapq == f->gaps)
        ps_engine_flush_gap(s->e);      /* the stream has stopped: safe here */
    if (f->disk) {
        r = ps_disk_finish(f->disk, drain);
        if (f == &s->run.rd)
            s->volume_clips = ps_disk_clipped(f->disk);
        ps_disk_free(f->disk);
        f->disk = NULL;
    }
    if (f->sf) {
        if (ps_sf_close(f->sf) != 0)
            r = -1;
        f->sf = NULL;
    }
    if (f->wake)
        ps_wake_close(f->wake);
    return r;
}

/* Started, and the engine still expects callbacks. */
static int running(const ps_lstream *s)
{
    return s->e && s->started && !s->dead && atomic_load(&s->e->status) == PS_RUNNING &&
           !atomic_load(&s->e->finished);
}

/* Give the stream up: it ends as a DeviceError, and PortAudio is never
 * called for it again (stopping or closing it would wait for ever). */
static void abandon(ps_lstream *s, double quiet)
{
    s->dead = 1;
    s->dead_after = quiet;
    ps_pa_abandon();
    ps_engine_abandon(s->e);
}

/* Before PortAudio is asked to stop a running stream: if its callback has
 * stopped coming (the JACK server was killed, say), Pa_StopStream and
 * Pa_AbortStream never return.  Wait for the frame count to move, up to
 * the watchdog's limit counted from its last move, and give the stream up
 * if it does not.  A live stream moves within one period.  Returns 1 when
 * the stream is (now) abandoned. */
static int check_alive(ps_lstream *s)
{
    if (s->dead)
        return 1;
    if (!running(s) || s->watch_limit <= 0)
        return 0;
    int64_t n0 = atomic_load(&s->e->frame_count);
    double since = n0 == s->watch_count && s->watch_time > 0 ? s->watch_time : ps_now();
    struct timespec ms = { 0, 1000000 };
    while (ps_now() - since < s->watch_limit) {
        if (atomic_load(&s->e->frame_count) != n0 || !running(s))
            return 0;
        nanosleep(&ms, NULL);
    }
    abandon(s, ps_now() - since);
    return 1;
}

/* Whether the stream's host went away (the JACK server died): then
 * PortAudio must not be asked to stop it (that waits ten minutes for a
 * callback) or to close it (that aborts the process), whether it ran or
 * not (ps_device_gone).  It is given up on as a stalled stream is: the
 * PortAudio stream is leaked, with its engine in the graveyard, and a run
 * still going ends as a DeviceError.  Returns 1 when it is (now) given up. */
static int host_gone(ps_lstream *s)
{
    if (s->dead)
        return 1;
    if (!ps_device_gone(&s->params))
        return 0;
    abandon(s, -1);
    return 1;
}

/* The registry reference that keeps a running stream from the collector
 * (as luv anchors an active handle): taken when a run starts, let go when
 * it is seen to end (_watchdog), is stopped, or the stream is closed. */
static void anchor(lua_State *L, ps_lstream *s, int idx)
{
    if (s->anchor == LUA_NOREF) {
        lua_pushvalue(L, idx);
        s->anchor = luaL_ref(L, LUA_REGISTRYINDEX);
    }
}

static void unanchor(lua_State *L, ps_lstream *s)
{
    if (L && s->anchor != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, s->anchor);
    s->anchor = LUA_NOREF;
}

/* Stop PortAudio and free everything; safe to call twice.  L may be NULL
 * (the process is ending: the registry goes with it). */
static void stream_release(lua_State *L, ps_lstream *s)
{
    unanchor(L, s);
    if (s->pa) {
        if (!check_alive(s) && !host_gone(s)) {
            if (!Pa_IsStreamStopped(s->pa))
                Pa_AbortStream(s->pa);
            Pa_CloseStream(s->pa);
        }
        s->pa = NULL;
    }
    /* The stream is stopped: the recording's last frames are in the ring. */
    ps_stream_finish_file(s, &s->run.rd, 0);
    ps_stream_finish_file(s, &s->run.wr, 1);
    if (s->e) {
        ps_engine_end(s->e, PS_STOPPED);
        grave *g = s->dead ? malloc(sizeof *g) : NULL;
        if (g) {
            g->e = s->e;
            g->mem[0] = s->run.txbuf, g->mem[1] = s->run.rxbuf;
            g->mem[2] = s->run.tx.mem, g->mem[3] = s->run.rx.mem, g->mem[4] = s->run.tap.mem;
            g->next = graveyard;
            graveyard = g;
        } else if (!s->dead)
            free(s->e);
        if (s->dead)            /* kept (with g, or lost on purpose without) */
            s->run.txbuf = s->run.rxbuf = s->run.tx.mem = s->run.rx.mem = s->run.tap.mem = NULL;
        s->e = NULL;           /* the stream_core went with it */
        s->run.tx.ring = s->run.rx.ring = s->run.tap.ring = NULL;
        s->run.rd.wake = s->run.wr.wake = NULL;
        s->run.wr.gaps = NULL;
        list_remove(s);
    }
    ps_mem_unref(s->run.txbuf);
    ps_mem_unref(s->run.rxbuf);
    ps_mem_unref(s->run.tx.mem);
    ps_mem_unref(s->run.rx.mem);
    ps_mem_unref(s->run.tap.mem);
    s->run.txbuf = s->run.rxbuf = s->run.tx.mem = s->run.rx.mem = s->run.tap.mem = NULL;
}

void ps_close_all_streams(void)
{
    while (open_streams)
        stream_release(NULL, open_streams);
}

/* Read field `name` of the options table: a number, or a pair {in, out}. */
static void getpair(lua_State *L, int t, const char *name, double out[2], double def)
{
    out[0] = out[1] = def;
    lua_getfield(L, t, name);
    if (lua_istable(L, -1)) {
        for (int i = 0; i < 2; i++) {
            lua_geti(L, -1, i + 1);
            if (!lua_isnil(L, -1)) {
                if (!lua_isnumber(L, -1))
                    luaL_error(L, "option '%s'[%d] must be a number", name, i + 1);
                out[i] = lua_tonumber(L, -1);
            }
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        if (!lua_isnumber(L, -1))
            luaL_error(L, "option '%s' must be a number or an {input, output} pair", name);
        out[0] = out[1] = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
}

static ps_format getformat(lua_State *L, int t, int dir)
{
    ps_format f = PS_FLOAT32;
    lua_getfield(L, t, "format");
    if (lua_istable(L, -1))
        lua_geti(L, -1, dir + 1);
    else
        lua_pushvalue(L, -1);
    if (!lua_isnil(L, -1)) {
        const char *name = lua_tostring(L, -1);
        int i = name ? ps_format_parse(name) : -1;
        if (i < 0)
            luaL_error(L, "unknown sample format '%s' (float32, int32, int24, int16, int8, uint8)",
                       name ? name : luaL_typename(L, -1));
        f = (ps_format)i;
    }
    lua_pop(L, 2);
    return f;
}

/* core.Stream{device = {in, out}, channels = {in, out}, format = {in, out},
 *             samplerate = , blocksize = , latency = {in, out}, dither = }
 * device -1 (or nil) leaves a direction out; the Lua layer resolves names
 * and defaults before calling this. */
static int stream_new(lua_State *L)
{
    double dev[2], ch[2], lat[2], rate[2], bs[2];
    char err[512];
    luaL_checktype(L, 1, LUA_TTABLE);
    getpair(L, 1, "device", dev, -1);
    getpair(L, 1, "channels", ch, 2);
    getpair(L, 1, "latency", lat, -1);
    getpair(L, 1, "samplerate", rate, 48000);
    getpair(L, 1, "blocksize", bs, 0);

    ps_lstream *s = lua_newuserdatauv(L, sizeof *s, 1);
    memset(s, 0, sizeof *s);
    s->run.frames = -1;
    s->anchor = LUA_NOREF;
    luaL_setmetatable(L, PS_STREAM);

    open_wake(L);
    ps_open_params *p = &s->params;
    for (int d = 0; d < 2; d++) {
        p->device[d] = (int)dev[d];
        p->channels[d] = p->device[d] >= 0 ? (int)ch[d] : 0;
        p->format[d] = getformat(L, 1, d);
        p->latency[d] = lat[d];
        if (p->device[d] >= 0 && (p->channels[d] < 1 || p->channels[d] > PS_MAXCH))
            return luaL_error(L, "%s channels must be 1..%d, got %d",
                              d ? "output" : "input", PS_MAXCH, p->channels[d]);
    }
    p->samplerate = rate[0];
    if (!(p->samplerate > 0))
        return luaL_error(L, "samplerate must be > 0, got %f", p->samplerate);
    if (bs[0] < 0)
        return luaL_error(L, "blocksize must be >= 0, got %f", bs[0]);
    p->blocksize = (unsigned long)bs[0];
    lua_getfield(L, 1, "dither");
    p->dither = lua_toboolean(L, -1);
    lua_pop(L, 1);

    stream_core *core = malloc(sizeof *core);
    if (!core)
        return luaL_error(L, "not enough memory for a stream");
    memset(core, 0, sizeof *core);
    core->rd_wake.fd = core->wr_wake.fd = -1;
    s->e = &core->e;
    s->run.tx.ring = &core->tx_ring;
    s->run.rx.ring = &core->rx_ring;
    s->run.tap.ring = &core->tap_ring;
    s->run.rd.wake = &core->rd_wake;
    s->run.wr.wake = &core->wr_wake;
    s->run.wr.gaps = &core->gaps;
    ps_ring_init(&core->gaps, core->gapmem, sizeof(ps_gap), 64);
    ps_engine_init(s->e);
    ps_engine_set_input(s->e, p->channels[0], p->format[0]);
    ps_engine_set_output(s->e, p->channels[1], p->format[1]);
    s->next = open_streams;
    if (open_streams)
        open_streams->prev = s;
    open_streams = s;
    s->e->wake[0] = &wake;
    s->pa = ps_device_open(s->e, p, err, sizeof err);
    if (!s->pa) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        stream_release(L, s);
        return 2;
    }
    return 1;
}

static int stream_close(lua_State *L)
{
    ps_lstream *s = luaL_checkudata(L, 1, PS_STREAM);
    stream_release(L, s);
    return 0;
}

void ps_stream_check_idle(lua_State *L, ps_lstream *s, const char *what)
{
    if (s->pa && !s->dead && Pa_IsStreamActive(s->pa) == 1)
        luaL_error(L, "cannot %s while the stream is active", what);
}

static int64_t optint64(lua_State *L, int t, const char *k, int64_t def)
{
    int64_t v = def;
    lua_getfield(L, t, k);
    if (!lua_isnil(L, -1)) {
        if (!lua_isinteger(L, -1))
            luaL_error(L, "option '%s' must be an integer, got %s", k,
                       lua_isnumber(L, -1) ? lua_tostring(L, -1) : luaL_typename(L, -1));
        v = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static int optbool(lua_State *L, int t, const char *k, int def)
{
    lua_getfield(L, t, k);
    int v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* s:configure{frames, pad, offset, loop, fatal_xruns, fill_gaps, meter, quiet,
 * clocked}; omitted
 * fields get their defaults (-1, 0, 0, false, false, false). */
static int stream_configure(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    ps_stream_check_idle(L, s, "configure");
    run_spec *r = &s->run;
    int64_t offset = optint64(L, 2, "offset", 0);
    luaL_argcheck(L, offset >= 0, 2, "offset must be >= 0");
    r->frames = optint64(L, 2, "frames", -1);
    r->pad = optint64(L, 2, "pad", 0);
    r->offset = offset;
    r->loop = optbool(L, 2, "loop", 0);
    r->fatal_xruns = optbool(L, 2, "fatal_xruns", 0);
    r->flags = (optbool(L, 2, "fill_gaps", 0) ? PS_FILL_GAPS : 0) |
               (optbool(L, 2, "meter", 0) ? PS_METER : 0) |
               (optbool(L, 2, "quiet", 0) ? PS_QUIET : 0) |
               (optbool(L, 2, "clocked", 0) ? PS_TX_CLOCKED : 0);
    return 0;
}

/* s:_set_quiet(bool): wake Lua only when the next run ends (nothing on
 * the Lua side moves frames in it), or after every block.  It lasts one
 * run: start clears it, so a later run with a Lua source or sink that
 * did not ask for it is woken after every block. */
static int stream_set_quiet(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "change quiet");
    if (lua_toboolean(L, 2))
        s->run.flags |= PS_QUIET;
    else
        s->run.flags &= ~PS_QUIET;
    return 0;
}

/* Check the next run's specification as a whole, where the run is armed:
 * each channel count against the others it must agree with, whichever
 * order the calls that set them came in.  Raises naming the conflict. */
static void check_run(lua_State *L, const ps_lstream *s)
{
    const run_spec *r = &s->run;
    if (has_out(s)) {
        int txch = r->txbuf ? r->txbuf_channels : r->tx.mem ? r->tx.channels : s->params.channels[1];
        if (txch > PS_MAXCH)
            luaL_error(L, "the playback Buffer has %d channels; a stream plays at most %d",
                       txch, PS_MAXCH);
        if (r->has_txmap)
            for (int k = 0; k < s->params.channels[1]; k++)
                if (r->txmap[k] > txch)
                    luaL_error(L, "txmapping names a channel the playback source (%d channel%s) "
                               "does not have: txmapping[%d] is %d (the source is %s)",
                               txch, txch == 1 ? "" : "s", k + 1, r->txmap[k],
                               r->txbuf ? "a Buffer" : r->tx.mem ? "a ring" : "the device's");
    }
    if (has_in(s)) {
        int rxch = r->rx_channels ? r->rx_channels : s->params.channels[0];
        if (r->rxbuf && r->rxbuf_channels != rxch)
            luaL_error(L, "the recording Buffer has %d channel%s but the stream records %d%s",
                       r->rxbuf_channels, r->rxbuf_channels == 1 ? "" : "s", rxch,
                       r->rx_channels ? " (rxmapping)" : "");
        if (!r->rxbuf && r->rx.mem && r->rx.channels != rxch)
            luaL_error(L, "the receive ring has %d channels but the stream records %d%s",
                       r->rx.channels, rxch, r->rx_channels ? " (rxmapping)" : "");
    }
}

/* Copy the checked specification into the engine and arm it: the one
 * place that writes the engine's settings after it was made.  The memory
 * the callback will touch is made present first (ps_mem_populate), so the
 * callback takes no page fault.  The quiet flag is spent by this run. */
static void arm_run(ps_lstream *s)
{
    ps_engine *e = s->e;
    run_spec *r = &s->run;
    int txch = r->txbuf ? r->txbuf_channels : r->tx.mem ? r->tx.channels : s->params.channels[1];
    int rxch = r->rx_channels ? r->rx_channels : s->params.channels[0];
    e->txbuf = r->txbuf ? r->txbuf->data : NULL;
    e->txbuf_frames = r->txbuf ? r->txbuf_frames : 0;
    e->txring = !r->txbuf && r->tx.mem ? r->tx.ring : NULL;
    if (has_out(s))
        ps_engine_set_txmap(e, txch, r->has_txmap ? r->txmap : NULL);
    if (has_in(s))
        ps_engine_set_rxmap(e, rxch, r->rx_channels ? r->rxmap : NULL);
    e->rxbuf = r->rxbuf ? r->rxbuf->data : NULL;
    e->rxbuf_frames = r->rxbuf ? r->rxbuf_frames : 0;
    e->rxring = !r->rxbuf && r->rx.mem ? r->rx.ring : NULL;
    e->gapq = e->rxring && r->wr.disk ? r->wr.gaps : NULL;
    e->rxtap = e->rxring && r->tap.mem ? r->tap.ring : NULL;
    e->wake[1] = e->txring && r->rd.disk ? r->rd.wake : NULL;
    e->wake[2] = e->rxring && r->wr.disk ? r->wr.wake : NULL;
    e->frames = r->frames;
    e->pad = r->pad;
    e->offset = r->offset;
    e->loop = r->loop;
    e->fatal_xruns = r->fatal_xruns;
    e->flags = r->flags;
    if (e->txring && (r->rd.disk || r->tx_until_eof))
        e->flags |= PS_UNTIL_EOF;       /* its producer says where it ends (set_eof) */
    r->flags &= ~PS_QUIET;
    if (e->rxring && !r->wr.disk)
        ps_ring_reset(e->rxring);       /* nothing left over from an earlier run */
    if (e->rxtap)
        ps_ring_reset(e->rxtap);        /* a new run's copy starts empty */
    ps_mem_populate(e->txbuf ? r->txbuf : NULL);
    ps_mem_populate(e->rxbuf ? r->rxbuf : NULL);
    ps_mem_populate(e->txring ? r->tx.mem : NULL);
    ps_mem_populate(e->rxring ? r->rx.mem : NULL);
    ps_mem_populate(e->rxtap ? r->tap.mem : NULL);
    ps_engine_arm(e);
}

static void pa_check(lua_State *L, ps_lstream *s, PaError r, const char *what)
{
    if (r != paNoError) {
        char name[160];
        int d = has_out(s) ? s->params.device[1] : s->params.device[0];
        const PaHostErrorInfo *h = r == paUnanticipatedHostError ? Pa_GetLastHostErrorInfo() : NULL;
        luaL_error(L, "cannot %s the stream on %s: %s%s%s%s", what,
                   ps_device_name(d, name, sizeof name), Pa_GetErrorText(r),
                   h && h->errorText && h->errorText[0] ? " (" : "",
                   h && h->errorText ? h->errorText : "",
                   h && h->errorText && h->errorText[0] ? ")" : "");
    }
}

/* s:start(): arm the engine and start PortAudio.  Lua fills a transmit
 * ring before calling this when it wants prebuffering. */
static int stream_start(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    if (s->dead)
        return luaL_error(L, "the stream's device stopped working (%s); open a new stream",
                          "DeviceError");
    if (running(s))
        return luaL_error(L, "the stream is already running");
    check_run(L, s);
    if (!Pa_IsStreamStopped(s->pa)) {
        if (host_gone(s))
            return luaL_error(L, "the stream's device stopped working (%s); open a new stream",
                              "DeviceError");
        Pa_StopStream(s->pa);           /* ended by itself: reset it */
    }
    arm_run(s);
    s->watch_count = 0;
    s->watch_time = ps_now();
    PaError err = Pa_StartStream(s->pa);
    if (err != paNoError) {
        /* Not running: the engine's run is over before it began, and the
         * next start or close finds a stopped stream.  A host error (the
         * JACK server is gone) leaves PortAudio's stream in a state where
         * closing it aborts the process (pa_jack.c asserts): the stream is
         * given up on, as a dead device is, and PortAudio left alone. */
        if (err == paUnanticipatedHostError)
            abandon(s, 0);
        else
            ps_engine_end(s->e, PS_STOPPED);
        pa_check(L, s, err, "start");
    }
    s->started = 1;
    anchor(L, s, 1);
    return 0;
}

/* s:stop(): let the buffers drain, then stop.  s:abort() drops them. */
static int stop_or_abort(lua_State *L, int abort)
{
    ps_lstream *s = ps_checkstream(L, 1);
    unanchor(L, s);
    if (!check_alive(s) && !Pa_IsStreamStopped(s->pa) && !host_gone(s)) {
        ps_engine_end(s->e, PS_STOPPED);
        pa_check(L, s, abort ? Pa_AbortStream(s->pa) : Pa_StopStream(s->pa),
                 abort ? "abort" : "stop");
    }
    return 0;
}
static int stream_stop(lua_State *L) { return stop_or_abort(L, 0); }
static int stream_abort(lua_State *L) { return stop_or_abort(L, 1); }

/* s:_watchdog([limit]) -> "running" | "ended" | "abandoned".  A timer in
 * lua/pastream/init.lua calls this while the stream runs; limit (seconds,
 * 0 = off) is kept for later calls and for check_alive.  PortAudio's JACK
 * host API does not report a server that went away: the callback simply
 * stops coming.  A running stream whose frame count has not moved for
 * `limit` seconds is abandoned: it ends as a DeviceError, its files are
 * finished as usual, and PortAudio is left alone. */
static int stream_watchdog(lua_State *L)
{
    ps_lstream *s = luaL_checkudata(L, 1, PS_STREAM);
    if (lua_type(L, 2) == LUA_TNUMBER)
        s->watch_limit = lua_tonumber(L, 2);
    if (s->dead) {
        unanchor(L, s);
        lua_pushliteral(L, "abandoned");
        return 1;
    }
    if (!running(s)) {
        unanchor(L, s);                 /* the run is over: the collector may have it */
        lua_pushliteral(L, "ended");
        return 1;
    }
    int64_t n = atomic_load(&s->e->frame_count);
    double now = ps_now();
    if (n != s->watch_count) {
        s->watch_count = n;
        s->watch_time = now;
    } else if (s->watch_limit > 0 && now - s->watch_time >= s->watch_limit) {
        abandon(s, now - s->watch_time);
        unanchor(L, s);
        lua_pushliteral(L, "abandoned");
        return 1;
    }
    lua_pushliteral(L, "running");
    return 1;
}

/* core.wake_fd() -> the fd that becomes readable when any stream has news. */
int ps_wake_fd(lua_State *L)
{
    open_wake(L);
    lua_pushinteger(L, wake.fd);
    return 1;
}

/* core.clear_wake(): reset the wake-up before checking what happened. */
int ps_clear_wake(lua_State *L)
{
    (void)L;
    if (wake.fd >= 0)
        ps_wake_clear(&wake);
    return 0;
}

/* s:error() -> nil while fine, else a message saying what ended the stream
 * and after how many frames. */
static int stream_error(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_engine *e = s->e;
    int st = atomic_load(&e->status);
    long long at = (long long)atomic_load(&e->status_frame);
    switch (st) {
    case PS_BUFFER_EMPTY:
        if (e->phase == PS_PHASE_DONE)
            lua_pushfstring(L, "BufferEmpty: playback ended after %I of %I frames "
                            "(pad = -1 pads out to frames)", (lua_Integer)at, (lua_Integer)e->frames);
        else
            lua_pushfstring(L, "BufferEmpty: the playback source ran dry after %I frames "
                            "(its producer fell behind)", (lua_Integer)at);
        break;
    case PS_BUFFER_FULL:
        lua_pushfstring(L, "BufferFull: the receive buffer overflowed after %I frames "
                        "(%I recorded; the reader fell behind)", (lua_Integer)at,
                        (lua_Integer)atomic_load(&e->rx_frames));
        break;
    case PS_XRUN: {
        static const char *names[PS_NXRUN] = { "input underflow", "input overflow",
                                               "output underflow", "output overflow" };
        const char *what = "xrun";
        for (int i = 0; i < PS_NXRUN; i++)
            if (atomic_load(&e->xruns[i]))
                what = names[i];
        lua_pushfstring(L, "XRun: %s after %I frames (fatal_xruns is set)", what, (lua_Integer)at);
        break;
    }
    case PS_DEVICE_ERROR:
        if (s->dead && s->dead_after < 0)
            lua_pushfstring(L, "DeviceError: the audio server went away after %I frames",
                            (lua_Integer)at);
        else if (s->dead) {
            char secs[32];
            snprintf(secs, sizeof secs, "%.1f", s->dead_after);
            lua_pushfstring(L, "DeviceError: the audio device stopped calling back "
                            "(no audio for %s s; was the audio server stopped?) after %I frames",
                            secs, (lua_Integer)at);
        } else
            lua_pushfstring(L, "DeviceError: the audio device stopped the stream after %I frames",
                            (lua_Integer)at);
        break;
    default:
        lua_pushnil(L);
    }
    return 1;
}

/* core.stream_count() -> how many streams are open (made and not yet
 * closed), so that tests can tell that a failed call left none behind. */
static int core_stream_count(lua_State *L)
{
    lua_Integer n = 0;
    for (ps_lstream *s = open_streams; s; s = s->next)
        n++;
    lua_pushinteger(L, n);
    return 1;
}

void ps_stream_functions(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "stream_count", core_stream_count },
        { NULL, NULL }
    };
    luaL_setfuncs(L, funcs, 0);
}

static const luaL_Reg methods[] = {
    { "configure", stream_configure },         { "_set_quiet", stream_set_quiet },
    { "start", stream_start },                 { "stop", stream_stop },
    { "abort", stream_abort },                 { "close", stream_close },
    { "error", stream_error },                 { "_watchdog", stream_watchdog },
    { NULL, NULL }
};

static const luaL_Reg metamethods[] = {
    { "__gc", stream_close }, { "__close", stream_close },
    { NULL, NULL }
};

int luaopen_pastream_stream(lua_State *L)
{
    luaL_newmetatable(L, PS_STREAM);
    luaL_setfuncs(L, metamethods, 0);
    ps_stream_property_metamethods(L);
    luaL_newlib(L, methods);
    ps_stream_io_methods(L);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    lua_pushcfunction(L, stream_new);
    return 1;
}
