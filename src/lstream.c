/* pastream.Stream: a PortAudio stream running the engine, seen from Lua.
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

#include "device.h"
#include "disk.h"
#include "engine.h"
#include "lpastream.h"
#include "sfformat.h"

typedef struct ring_side {
    ps_ring ring;
    ps_mem *mem;                  /* NULL: no ring */
    int channels;
} ring_side;

/* A file played or recorded through a disk thread. */
typedef struct file_side {
    SNDFILE *sf;
    ps_disk *disk;
    ps_wake wake;                 /* the disk thread's own wake-up */
    int is_pipe;
    SF_INFO info;
    ps_ring gaps;                 /* writer: where the engine dropped frames */
    ps_gap gapmem[64];
} file_side;

typedef struct ps_lstream {
    ps_engine *e;
    PaStream *pa;
    ps_open_params params;
    ps_mem *txbuf, *rxbuf;        /* flat sources/sinks, referenced while set */
    ring_side tx, rx;
    int64_t volume_clips;         /* samples the reader's gain clipped (last file) */
    int txmap[PS_MAXCH], rxmap[PS_MAXCH];
    int has_txmap, rx_channels;   /* rx_channels: 0 = all device inputs */
    file_side rd, wr;             /* playback file (reader), recording file (writer) */
    int started;
    /* The watchdog (stream_watchdog): the frame count last seen, when it
     * last moved, the limit in seconds (0: off), and whether the stream
     * was given up on, after how many seconds without a callback. */
    int64_t watch_count;
    double watch_time, watch_limit;
    int dead;
    double dead_after;
    struct ps_lstream *prev, *next;
} ps_lstream;

static ps_lstream *open_streams;

/* Engines of abandoned streams.  PortAudio still holds a pointer to each
 * and a late callback would read its `abandoned` flag, so they are never
 * freed; kept in a list so that leak checkers see them as reachable. */
typedef struct grave { ps_engine *e; struct grave *next; } grave;
static grave *graveyard;

/* One wake-up for every stream of the process: Lua watches a single fd with
 * a single poll handle, and each woken task checks its own condition. */
static ps_wake wake = { .fd = -1 };

static void open_wake(lua_State *L)
{
    int r = wake.fd >= 0 ? 0 : ps_wake_open(&wake);
    if (r < 0)
        luaL_error(L, "cannot create the engine's wake-up: %s", strerror(-r));
}

static ps_lstream *checkstream(lua_State *L, int idx)
{
    ps_lstream *s = luaL_checkudata(L, idx, PS_STREAM);
    if (!s->e)
        luaL_error(L, "attempt to use a closed stream");
    return s;
}

static int has_in(const ps_lstream *s) { return s->params.device[0] >= 0; }
static int has_out(const ps_lstream *s) { return s->params.device[1] >= 0; }

static const char *kind_name(const ps_lstream *s)
{
    return has_in(s) && has_out(s) ? "DuplexStream" : has_in(s) ? "InputStream" : "OutputStream";
}

static void list_remove(ps_lstream *s)
{
    if (s->prev) s->prev->next = s->next;
    else if (open_streams == s) open_streams = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

/* Stop PortAudio and free everything; safe to call twice. */
/* Stop a disk thread and close its file; a writer first writes what is
 * still in the ring.  Returns 0, or -1 if the thread had failed. */
static int finish_file(ps_lstream *s, file_side *f, int drain, int slot)
{
    int r = 0;
    if (f->disk && s->e && s->e->gapq == &f->gaps) {
        ps_engine_flush_gap(s->e);      /* the stream has stopped: safe here */
        s->e->gapq = NULL;
    }
    if (f->disk) {
        r = ps_disk_finish(f->disk, drain);
        if (f == &s->rd)
            s->volume_clips = ps_disk_clipped(f->disk);
        ps_disk_free(f->disk);
        f->disk = NULL;
    }
    if (f->sf) {
        if (ps_sf_close(f->sf) != 0)
            r = -1;
        f->sf = NULL;
    }
    if (s->e && s->e->wake[slot] == &f->wake)
        s->e->wake[slot] = NULL;
    ps_wake_close(&f->wake);
    return r;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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
    double since = n0 == s->watch_count && s->watch_time > 0 ? s->watch_time : now_seconds();
    struct timespec ms = { 0, 1000000 };
    while (now_seconds() - since < s->watch_limit) {
        if (atomic_load(&s->e->frame_count) != n0 || !running(s))
            return 0;
        nanosleep(&ms, NULL);
    }
    abandon(s, now_seconds() - since);
    return 1;
}

static void stream_release(ps_lstream *s)
{
    if (s->pa) {
        if (!check_alive(s)) {
            if (!Pa_IsStreamStopped(s->pa))
                Pa_AbortStream(s->pa);
            Pa_CloseStream(s->pa);
        }
        s->pa = NULL;
    }
    /* The stream is stopped: the recording's last frames are in the ring. */
    finish_file(s, &s->rd, 0, 1);
    finish_file(s, &s->wr, 1, 2);
    if (s->e) {
        ps_engine_end(s->e, PS_STOPPED);
        grave *g = s->dead ? malloc(sizeof *g) : NULL;
        if (g) {
            g->e = s->e;
            g->next = graveyard;
            graveyard = g;
        } else if (!s->dead)
            free(s->e);
        s->e = NULL;
        list_remove(s);
    }
    ps_mem_unref(s->txbuf);
    ps_mem_unref(s->rxbuf);
    ps_mem_unref(s->tx.mem);
    ps_mem_unref(s->rx.mem);
    s->txbuf = s->rxbuf = s->tx.mem = s->rx.mem = NULL;
}

void ps_close_all_streams(void)
{
    while (open_streams)
        stream_release(open_streams);
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
    s->rd.wake.fd = s->wr.wake.fd = -1;
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

    s->e = malloc(sizeof *s->e);
    if (!s->e)
        return luaL_error(L, "not enough memory for a stream");
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
        stream_release(s);
        return 2;
    }
    return 1;
}

static int stream_close(lua_State *L)
{
    ps_lstream *s = luaL_checkudata(L, 1, PS_STREAM);
    stream_release(s);
    return 0;
}

static void check_idle(lua_State *L, ps_lstream *s, const char *what)
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

/* s:configure{frames, pad, offset, loop, fatal_xruns, fill_gaps}; omitted
 * fields get their defaults (-1, 0, 0, false, false, false). */
static int stream_configure(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    check_idle(L, s, "configure");
    ps_engine *e = s->e;
    e->frames = optint64(L, 2, "frames", -1);
    e->pad = optint64(L, 2, "pad", 0);
    e->offset = optint64(L, 2, "offset", 0);
    luaL_argcheck(L, e->offset >= 0, 2, "offset must be >= 0");
    e->loop = optbool(L, 2, "loop", 0);
    e->fatal_xruns = optbool(L, 2, "fatal_xruns", 0);
    e->flags = (optbool(L, 2, "fill_gaps", 0) ? PS_FILL_GAPS : 0) |
               (optbool(L, 2, "meter", 0) ? PS_METER : 0) |
               (optbool(L, 2, "quiet", 0) ? PS_QUIET : 0);
    return 0;
}

static void check_format(lua_State *L, ps_lstream *s, ps_buffer *b, int dir)
{
    if (b->format != s->params.format[dir])
        luaL_error(L, "the buffer is %s but the stream's %s is %s", ps_format_name(b->format),
                   dir ? "output" : "input", ps_format_name(s->params.format[dir]));
}

/* s:set_txbuffer(buf | nil): play a Buffer directly from the callback. */
static int stream_set_txbuffer(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    check_idle(L, s, "change the playback source");
    if (!has_out(s))
        return luaL_error(L, "an %s has no output to play on", kind_name(s));
    ps_mem_unref(s->txbuf);
    s->txbuf = NULL;
    if (!lua_isnoneornil(L, 2)) {
        ps_buffer *b = ps_checkbuffer(L, 2);
        check_format(L, s, b, 1);
        s->txbuf = ps_mem_ref(b->mem);
        s->e->txbuf_frames = b->frames;
        s->e->tx_channels = b->channels;
    }
    return 0;
}

/* s:set_rxbuffer(buf | nil): record straight into a Buffer. */
static int stream_set_rxbuffer(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    check_idle(L, s, "change the recording sink");
    if (!has_in(s))
        return luaL_error(L, "an %s has no input to record from", kind_name(s));
    ps_mem_unref(s->rxbuf);
    s->rxbuf = NULL;
    if (!lua_isnoneornil(L, 2)) {
        ps_buffer *b = ps_checkbuffer(L, 2);
        int want = s->rx_channels ? s->rx_channels : s->params.channels[0];
        check_format(L, s, b, 0);
        if (b->channels != want)
            return luaL_error(L, "the buffer has %d channels but the stream records %d",
                              b->channels, want);
        s->rxbuf = ps_mem_ref(b->mem);
        s->e->rxbuf_frames = b->frames;
    }
    return 0;
}

/* Read a channel map (a list of 1-based channels, 0 = silence) into map.
 * Returns its length. */
static int readmap(lua_State *L, int idx, int *map, int max_entry, const char *what)
{
    int n = (int)luaL_len(L, idx);
    if (n < 1 || n > PS_MAXCH)
        luaL_error(L, "%s must list 1..%d channels, got %d", what, PS_MAXCH, n);
    for (int k = 0; k < n; k++) {
        lua_geti(L, idx, k + 1);
        int isint;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        lua_pop(L, 1);
        if (!isint || v < 0 || v > max_entry)
            luaL_error(L, "%s[%d] must be a channel 0..%d (0 = silence)", what, k + 1, max_entry);
        map[k] = (int)v;
    }
    return n;
}

/* s:set_txmap(list | nil): entry k names the source channel that plays on
 * device output k (0 = silence).  The list has one entry per output channel. */
static int stream_set_txmap(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    check_idle(L, s, "change txmapping");
    if (!has_out(s))
        return luaL_error(L, "an %s has no output to map", kind_name(s));
    s->has_txmap = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        int n = readmap(L, 2, s->txmap, PS_MAXCH, "txmapping");
        if (n != s->params.channels[1])
            return luaL_error(L, "txmapping has %d entries but the device plays %d channels",
                              n, s->params.channels[1]);
        s->has_txmap = 1;
    }
    return 0;
}

/* s:set_rxmap(list | nil): entry k names the device input recorded as
 * channel k (0 = silence); the list's length is the recorded channel count. */
static int stream_set_rxmap(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    check_idle(L, s, "change rxmapping");
    if (!has_in(s))
        return luaL_error(L, "an %s has no input to map", kind_name(s));
    s->rx_channels = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        s->rx_channels = readmap(L, 2, s->rxmap, s->params.channels[0], "rxmapping");
    }
    return 0;
}

static int ispow2(lua_Integer n) { return n > 0 && (n & (n - 1)) == 0; }

static void open_ring(lua_State *L, ring_side *r, lua_Integer frames, int channels, ps_format f)
{
    if (!ispow2(frames))
        luaL_error(L, "buffersize must be a power of two, got %I", frames);
    size_t es = (size_t)channels * ps_format_size(f);
    size_t bytes = ps_ring_bytes(es, (size_t)frames);
    ps_mem_unref(r->mem);
    r->mem = bytes ? ps_mem_new(bytes) : NULL;   /* calloc touches every page */
    if (!r->mem)
        luaL_error(L, "not enough memory for a ring of %I frames", frames);
    ps_ring_init(&r->ring, r->mem->data, es, (size_t)frames);
    r->channels = channels;
}

/* s:open_txring(frames, channels): the playback source becomes a ring that
 * Lua or a disk thread fills (s:write).  frames is a power of two. */
static int stream_open_txring(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    check_idle(L, s, "change the playback source");
    if (!has_out(s))
        return luaL_error(L, "an %s has no output to play on", kind_name(s));
    lua_Integer ch = luaL_optinteger(L, 3, s->params.channels[1]);
    luaL_argcheck(L, ch >= 1 && ch <= PS_MAXCH, 3, "channels out of range");
    finish_file(s, &s->rd, 0, 1);       /* its reader must not outlive the ring */
    open_ring(L, &s->tx, luaL_checkinteger(L, 2), (int)ch, s->params.format[1]);
    return 0;
}

/* s:open_rxring(frames): the recording goes to a ring that Lua or a disk
 * thread drains (s:read). */
static int stream_open_rxring(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    check_idle(L, s, "change the recording sink");
    if (!has_in(s))
        return luaL_error(L, "an %s has no input to record from", kind_name(s));
    int ch = s->rx_channels ? s->rx_channels : s->params.channels[0];
    finish_file(s, &s->wr, 1, 2);       /* its writer must not outlive the ring */
    open_ring(L, &s->rx, luaL_checkinteger(L, 2), ch, s->params.format[0]);
    return 0;
}

/* s:close_rings([which]): remove the transmit ("tx"), receive ("rx") or
 * both rings, so that a later run does not use what an earlier one left. */
static int stream_close_rings(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    const char *which = luaL_optstring(L, 2, "both");
    check_idle(L, s, "remove the rings");
    if (strcmp(which, "rx") != 0) {
        finish_file(s, &s->rd, 0, 1);
        ps_mem_unref(s->tx.mem);
        s->tx.mem = NULL;
    }
    if (strcmp(which, "tx") != 0) {
        finish_file(s, &s->wr, 1, 2);
        ps_mem_unref(s->rx.mem);
        s->rx.mem = NULL;
    }
    return 0;
}

/* Buffer range argument: frames first..first+count-1 of buf (1-based). */
static void buffer_range(lua_State *L, ps_buffer *b, int idx, size_t *first, size_t *count)
{
    lua_Integer f = luaL_optinteger(L, idx, 1);
    lua_Integer n = luaL_optinteger(L, idx + 1, b->frames - f + 1);
    if (f < 1 || n < 0 || f - 1 + n > b->frames)
        luaL_error(L, "frames %I..%I out of range 1..%I", f, f + n - 1, (lua_Integer)b->frames);
    *first = (size_t)f - 1;
    *count = (size_t)n;
}

/* Copy frames between a Buffer and the transmit ring (dir 1, s:write) or
 * the receive ring (dir 0, s:read).  Returns how many frames moved. */
static int ring_io(lua_State *L, int dir)
{
    ps_lstream *s = checkstream(L, 1);
    ps_buffer *b = ps_checkbuffer(L, 2);
    ring_side *r = dir ? &s->tx : &s->rx;
    const char *name = dir ? "transmit" : "receive";
    size_t first, count;
    if (!r->mem)
        return luaL_error(L, "the stream has no %s ring (open_%sring)", name, dir ? "tx" : "rx");
    if (b->channels != r->channels || b->format != s->params.format[dir])
        return luaL_error(L, "buffer is %d channels of %s, the %s ring %d of %s",
                          b->channels, ps_format_name(b->format), name, r->channels,
                          ps_format_name(s->params.format[dir]));
    buffer_range(L, b, 3, &first, &count);
    unsigned char *p = b->mem->data + first * ps_buffer_framebytes(b);
    lua_pushinteger(L, (lua_Integer)(dir ? ps_ring_write(&r->ring, p, count)
                                         : ps_ring_read(&r->ring, p, count)));
    return 1;
}

/* s:write(buf [, first [, count]]) -> frames written to the transmit ring. */
static int stream_write(lua_State *L) { return ring_io(L, 1); }
/* s:read(buf [, first [, count]]) -> frames read from the receive ring. */
static int stream_read(lua_State *L) { return ring_io(L, 0); }

static int stream_write_available(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    lua_pushinteger(L, s->tx.mem ? (lua_Integer)ps_ring_write_available(&s->tx.ring) : 0);
    return 1;
}

static int stream_read_available(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    lua_pushinteger(L, s->rx.mem ? (lua_Integer)ps_ring_read_available(&s->rx.ring) : 0);
    return 1;
}

/* s:_set_quiet(bool): wake Lua only when the run ends (nothing on the Lua
 * side moves frames in it), or after every block. */
static int stream_set_quiet(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    check_idle(L, s, "change quiet");
    if (lua_toboolean(L, 2))
        s->e->flags |= PS_QUIET;
    else
        s->e->flags &= ~PS_QUIET;
    return 0;
}

/* s:reset_txring(): empty the transmit ring and clear end-of-stream, before
 * a producer fills it for a new run. */
static int stream_reset_txring(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    check_idle(L, s, "reset the transmit ring");
    if (s->tx.mem)
        ps_ring_reset(&s->tx.ring);
    atomic_store(&s->e->tx_eof, false);
    return 0;
}

/* s:set_eof(): the transmit ring's producer has written its last frame. */
static int stream_set_eof(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    atomic_store_explicit(&s->e->tx_eof, true, memory_order_release);
    return 0;
}

/* Wire the configured sources, sinks and maps into the engine. */
static void wire(lua_State *L, ps_lstream *s)
{
    ps_engine *e = s->e;
    e->txbuf = s->txbuf ? s->txbuf->data : NULL;
    e->txring = !s->txbuf && s->tx.mem ? &s->tx.ring : NULL;
    if (e->txring)
        e->tx_channels = s->tx.channels;
    if (!e->txbuf && !e->txring)
        e->tx_channels = s->params.channels[1];
    if (has_out(s) && ps_engine_set_txmap(e, e->tx_channels, s->has_txmap ? s->txmap : NULL))
        luaL_error(L, "txmapping names a channel the playback source (%d channels) does not have",
                   e->tx_channels);
    if (has_in(s)) {
        ps_engine_set_rxmap(e, s->rx_channels ? s->rx_channels : s->params.channels[0],
                            s->rx_channels ? s->rxmap : NULL);
        int want = e->rx_channels;
        if (s->rx.mem && s->rx.channels != want)
            luaL_error(L, "the receive ring has %d channels but the stream records %d",
                       s->rx.channels, want);
    }
    e->rxbuf = s->rxbuf ? s->rxbuf->data : NULL;
    e->rxring = !s->rxbuf && s->rx.mem ? &s->rx.ring : NULL;
    e->gapq = e->rxring && s->wr.disk ? &s->wr.gaps : NULL;
    if (e->rxring && !s->wr.disk)
        ps_ring_reset(e->rxring);       /* nothing left over from an earlier run */
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
    ps_lstream *s = checkstream(L, 1);
    if (s->dead)
        return luaL_error(L, "the stream's device stopped working (%s); open a new stream",
                          "DeviceError");
    if (running(s))
        return luaL_error(L, "the stream is already running");
    if (!Pa_IsStreamStopped(s->pa))
        Pa_StopStream(s->pa);           /* ended by itself: reset it */
    wire(L, s);
    ps_engine_arm(s->e);
    s->started = 1;
    s->watch_count = 0;
    s->watch_time = now_seconds();
    pa_check(L, s, Pa_StartStream(s->pa), "start");
    return 0;
}

/* s:stop(): let the buffers drain, then stop.  s:abort() drops them. */
static int stop_or_abort(lua_State *L, int abort)
{
    ps_lstream *s = checkstream(L, 1);
    if (!check_alive(s) && !Pa_IsStreamStopped(s->pa)) {
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
        lua_pushliteral(L, "abandoned");
        return 1;
    }
    if (!running(s)) {
        lua_pushliteral(L, "ended");
        return 1;
    }
    int64_t n = atomic_load(&s->e->frame_count);
    double now = now_seconds();
    if (n != s->watch_count) {
        s->watch_count = n;
        s->watch_time = now;
    } else if (s->watch_limit > 0 && now - s->watch_time >= s->watch_limit) {
        abandon(s, now - s->watch_time);
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
    ps_lstream *s = checkstream(L, 1);
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
        if (s->dead) {
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

/* ---- files ------------------------------------------------------------- */

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

static lua_Integer optfieldint(lua_State *L, int t, const char *k, lua_Integer def)
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
static int format_word(lua_State *L, int t, int major, int *subtype_given)
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

static int fail(lua_State *L, const char *fmt, ...)
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
static const char *read_info(lua_State *L, int t, const char *path, SF_INFO *info)
{
    int given;
    int w = format_word(L, t, ps_sf_major_from_path(path), &given);
    memset(info, 0, sizeof *info);
    if ((w & SF_FORMAT_TYPEMASK) != SF_FORMAT_RAW)
        return NULL;
    info->samplerate = (int)optfieldint(L, t, "samplerate", 0);
    info->channels = (int)optfieldint(L, t, "channels", 0);
    info->format = w;
    return !info->samplerate ? "samplerate" : !info->channels ? "channels"
         : !given ? "subtype (encoding)" : NULL;
}

/* s:attach_reader(path, ringframes, {type, subtype, endian, samplerate,
 * channels, loop, frames}) -> true | nil, message.  The file plays through
 * a disk thread into the transmit ring, which is filled before this returns.
 * RAW files need samplerate, channels and subtype. */
static int stream_attach_reader(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    const char *path = luaL_checkstring(L, 2);
    lua_Integer ringframes = luaL_checkinteger(L, 3);
    int o = 4;
    char err[512];
    check_idle(L, s, "change the playback source");
    if (!has_out(s))
        return luaL_error(L, "an %s has no output to play on", kind_name(s));
    finish_file(s, &s->rd, 0, 1);

    SF_INFO info;
    const char *missing = read_info(L, o, path, &info);
    if (missing)
        return fail(L, "%s: a RAW file needs samplerate, channels and subtype; %s is missing",
                    path, missing);
    SNDFILE *sf = ps_sf_open(path, SFM_READ, &info, &s->rd.is_pipe);
    if (!sf)
        return fail(L, "%s: %s", path, ps_sf_open_error(path));
    s->rd.sf = sf;
    s->rd.info = info;
    lua_getfield(L, o, "resample");
    int resample = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (info.samplerate != (int)s->params.samplerate && !resample) {
        finish_file(s, &s->rd, 0, 1);
        return fail(L, "%s is %d Hz but the stream runs at %d Hz (resample = false)",
                    path, info.samplerate, (int)s->params.samplerate);
    }
    if (info.channels > PS_MAXCH) {
        finish_file(s, &s->rd, 0, 1);
        return fail(L, "%s has %d channels; at most %d are supported", path, info.channels, PS_MAXCH);
    }
    if (info.channels > s->params.channels[1] && !s->has_txmap) {
        finish_file(s, &s->rd, 0, 1);
        return fail(L, "%s has %d channels but the device plays %d (choose them with txmapping)",
                    path, info.channels, s->params.channels[1]);
    }
    if (info.channels == 1 && s->params.channels[1] > 1 && !s->has_txmap) {
        /* a mono file plays on every output, as sox does */
        for (int k = 0; k < s->params.channels[1]; k++)
            s->txmap[k] = 1;
        s->has_txmap = 2;           /* ours, not the user's: reset with the source */
    }
    ps_mem_unref(s->txbuf);
    s->txbuf = NULL;
    open_ring(L, &s->tx, ringframes, info.channels, s->params.format[1]);

    ps_disk_opts opts;
    ps_disk_opts_init(&opts);
    opts.format = s->params.format[1];
    opts.channels = info.channels;
    opts.frames = optfieldint(L, o, "frames", -1);
    lua_getfield(L, o, "loop");
    opts.loop = lua_toboolean(L, -1);
    lua_pop(L, 1);
    opts.notify = &wake;
    lua_getfield(L, o, "gain");          /* the CLI's -v/--volume */
    opts.gain = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    s->volume_clips = 0;
    if (info.samplerate != (int)s->params.samplerate)
        opts.out_rate = s->params.samplerate;   /* libsamplerate, as sox play does */
    int r = ps_wake_open(&s->rd.wake);
    if (r < 0) {
        finish_file(s, &s->rd, 0, 1);
        return fail(L, "cannot create a wake-up: %s", strerror(-r));
    }
    s->rd.disk = ps_disk_reader(sf, &s->tx.ring, &s->rd.wake, &s->e->tx_eof, &opts, err, sizeof err);
    if (!s->rd.disk) {
        finish_file(s, &s->rd, 0, 1);
        return fail(L, "%s: %s", path, err);
    }
    s->e->wake[1] = &s->rd.wake;
    if (ps_disk_prefill(s->rd.disk, 10000) < 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, ps_disk_error(s->rd.disk));
        finish_file(s, &s->rd, 0, 1);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* s:attach_writer(path, ringframes, {type, subtype, endian}) -> true | nil,
 * message.  The recording goes to the file through a disk thread.  The type
 * comes from the option, else the extension, else WAV (AU for "-"); the
 * subtype follows the device's sample format where the type allows. */
static int stream_attach_writer(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    const char *path = luaL_checkstring(L, 2);
    lua_Integer ringframes = luaL_checkinteger(L, 3);
    int o = 4, given;
    char err[512];
    check_idle(L, s, "change the recording sink");
    if (!has_in(s))
        return luaL_error(L, "an %s has no input to record from", kind_name(s));
    finish_file(s, &s->wr, 1, 2);

    int def = ps_sf_major_from_path(path);
    if (!def)
        def = strcmp(path, "-") == 0 ? SF_FORMAT_AU : SF_FORMAT_WAV;
    int w = format_word(L, o, def, &given);
    int channels = s->rx_channels ? s->rx_channels : s->params.channels[0];
    if (!given) {
        int st = (w & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG ? ps_sf_subtype_from_path(path) : 0;
        w |= st ? st : ps_sf_subtype_for(w & SF_FORMAT_TYPEMASK, s->params.format[0]);
    }
    SF_INFO info = { .samplerate = (int)s->params.samplerate, .channels = channels, .format = w };
    if (!sf_format_check(&info))
        return fail(L, "%s: a %s file cannot hold %s%s at %d Hz, %d channels%s", path,
                    ps_sf_major_name(w), ps_sf_subtype_name(w),
                    given ? "" : " (the device's sample format)", info.samplerate, channels,
                    given ? "" : "; give a subtype (encoding)");
    /* A WAV file cannot pass 4 GB: record RF64, which libsndfile turns back
     * into a plain WAV at close when the data stayed under that. */
    int rf64 = (w & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV && strcmp(path, "-") != 0;
    if (rf64)
        info.format = (w & ~SF_FORMAT_TYPEMASK) | SF_FORMAT_RF64;
    SNDFILE *sf = ps_sf_open(path, SFM_WRITE, &info, &s->wr.is_pipe);
    if (!sf)
        return fail(L, "%s: %s", path, ps_sf_open_error(path));
    if (rf64)
        sf_command(sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
    s->wr.sf = sf;
    s->wr.info = info;
    ps_mem_unref(s->rxbuf);
    s->rxbuf = NULL;
    open_ring(L, &s->rx, ringframes, channels, s->params.format[0]);

    ps_disk_opts opts;
    ps_disk_opts_init(&opts);
    opts.format = s->params.format[0];
    opts.channels = channels;
    opts.notify = &wake;
    ps_ring_init(&s->wr.gaps, s->wr.gapmem, sizeof(ps_gap), 64);
    opts.gaps = &s->wr.gaps;
    int r = ps_wake_open(&s->wr.wake);
    if (r < 0) {
        finish_file(s, &s->wr, 0, 2);
        return fail(L, "cannot create a wake-up: %s", strerror(-r));
    }
    s->wr.disk = ps_disk_writer(sf, &s->rx.ring, &s->wr.wake, &opts, err, sizeof err);
    if (!s->wr.disk) {
        finish_file(s, &s->wr, 0, 2);
        return fail(L, "%s: %s", path, err);
    }
    s->e->wake[2] = &s->wr.wake;
    lua_pushboolean(L, 1);
    return 1;
}

/* s:finish_files() -> true | nil, message: stop the disk threads (the
 * writer writes everything still in its ring) and close the files.  Call
 * after the stream has stopped. */
static int stream_finish_files(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    char msg[600] = "";
    if (s->rd.disk && ps_disk_failed(s->rd.disk))
        snprintf(msg, sizeof msg, "playback file: %s", ps_disk_error(s->rd.disk));
    if (s->wr.disk) {
        ps_disk_finish(s->wr.disk, 1);
        if (ps_disk_failed(s->wr.disk) && !msg[0])
            snprintf(msg, sizeof msg, "recording file: %s", ps_disk_error(s->wr.disk));
    }
    finish_file(s, &s->rd, 0, 1);
    if (finish_file(s, &s->wr, 1, 2) < 0 && !msg[0])
        snprintf(msg, sizeof msg, "recording file: error while closing");
    if (s->has_txmap == 2)
        s->has_txmap = 0;
    if (msg[0])
        return fail(L, "%s", msg);
    lua_pushboolean(L, 1);
    return 1;
}

/* s:file_error() -> nil, or the message of a disk thread that failed. */
static int stream_file_error(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    if (s->rd.disk && ps_disk_failed(s->rd.disk))
        lua_pushfstring(L, "playback file: %s", ps_disk_error(s->rd.disk));
    else if (s->wr.disk && ps_disk_failed(s->wr.disk))
        lua_pushfstring(L, "recording file: %s", ps_disk_error(s->wr.disk));
    else
        lua_pushnil(L);
    return 1;
}

/* s:file_frames() -> frames read from the playback file, frames written
 * to the recording file (0 without one). */
static int stream_file_frames(lua_State *L)
{
    ps_lstream *s = checkstream(L, 1);
    lua_pushinteger(L, s->rd.disk ? ps_disk_frames(s->rd.disk) : 0);
    lua_pushinteger(L, s->wr.disk ? ps_disk_frames(s->wr.disk) : 0);
    return 2;
}

/* core.file_info(path [, {type, subtype, endian, samplerate, channels}])
 * -> {samplerate, channels, frames, type, subtype, endian, seekable} | nil, message */
static int core_file_info(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int pipe;
    SF_INFO info;
    const char *missing = read_info(L, 2, path, &info);
    if (missing)
        return fail(L, "%s: a RAW file needs samplerate, channels and subtype; %s is missing",
                    path, missing);
    SNDFILE *sf = ps_sf_open(path, SFM_READ, &info, &pipe);
    if (!sf)
        return fail(L, "%s: %s", path, ps_sf_open_error(path));
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
 * write, for the types and subtypes pastream has names for. */
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
            if (st >= 0 && sf_format_check(&info)) {
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

void ps_file_functions(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "file_info", core_file_info }, { "formats", core_formats },
        { "stream_count", core_stream_count }, { "type_from_name", core_type_from_name },
        { NULL, NULL }
    };
    luaL_setfuncs(L, funcs, 0);
}

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

static int property(lua_State *L, ps_lstream *s, const char *k)
{
    ps_engine *e = s->e;
    const PaStreamInfo *info = Pa_GetStreamInfo(s->pa);
#define IS(name) (strcmp(k, name) == 0)
    /* An abandoned stream is finished and stopped, and PortAudio, which
     * would still call it active, is not asked. */
    if (IS("active"))            lua_pushboolean(L, !s->dead && Pa_IsStreamActive(s->pa) == 1);
    else if (IS("stopped"))      lua_pushboolean(L, s->dead || Pa_IsStreamStopped(s->pa) == 1);
    else if (IS("finished"))     lua_pushboolean(L, s->started && (s->dead || Pa_IsStreamActive(s->pa) != 1));
    /* ended: the engine will move no more frames.  Set before the wake-up
     * that announces it, unlike PortAudio's active flag, which the JACK
     * host API may clear only after calling the finished callback. */
    else if (IS("ended"))        lua_pushboolean(L, !s->started ||
                                                    atomic_load(&e->status) != PS_RUNNING ||
                                                    atomic_load(&e->finished));
    else if (IS("aborted"))      lua_pushboolean(L, atomic_load(&e->status) >= PS_BUFFER_EMPTY
                                                    && atomic_load(&e->status) != PS_STOPPED);
    else if (IS("status"))       lua_pushstring(L, ps_status_name(atomic_load(&e->status)));
    else if (IS("frame_count"))  lua_pushinteger(L, atomic_load(&e->frame_count));
    else if (IS("tx_frames"))    lua_pushinteger(L, atomic_load(&e->tx_frames));
    else if (IS("rx_frames"))    lua_pushinteger(L, atomic_load(&e->rx_frames));
    else if (IS("tx_lost"))      lua_pushinteger(L, atomic_load(&e->tx_lost));
    else if (IS("volume_clips")) lua_pushinteger(L, (lua_Integer)(s->rd.disk
                                     ? ps_disk_clipped(s->rd.disk) : s->volume_clips));
    else if (IS("rx_lost"))      lua_pushinteger(L, atomic_load(&e->rx_lost));
    else if (IS("input_underflows"))  lua_pushinteger(L, atomic_load(&e->xruns[PS_XRUN_INPUT_UNDERFLOW]));
    else if (IS("input_overflows"))   lua_pushinteger(L, atomic_load(&e->xruns[PS_XRUN_INPUT_OVERFLOW]));
    else if (IS("output_underflows")) lua_pushinteger(L, atomic_load(&e->xruns[PS_XRUN_OUTPUT_UNDERFLOW]));
    else if (IS("output_overflows"))  lua_pushinteger(L, atomic_load(&e->xruns[PS_XRUN_OUTPUT_OVERFLOW]));
    else if (IS("xruns")) {
        lua_Integer n = 0;
        for (int i = 0; i < PS_NXRUN; i++)
            n += atomic_load(&e->xruns[i]);
        lua_pushinteger(L, n);
    }
    else if (IS("cpu_load"))     lua_pushnumber(L, s->dead ? 0 : Pa_GetStreamCpuLoad(s->pa));
    else if (IS("time"))         lua_pushnumber(L, s->dead ? 0 : Pa_GetStreamTime(s->pa));
    else if (IS("samplerate"))   lua_pushnumber(L, info ? info->sampleRate : s->params.samplerate);
    else if (IS("blocksize"))    lua_pushinteger(L, (lua_Integer)s->params.blocksize);
    else if (IS("channels"))     pushpair(L, s, s->params.channels[0], s->params.channels[1], 1);
    else if (IS("device"))       pushpair(L, s, s->params.device[0], s->params.device[1], 1);
    else if (IS("latency"))      pushpair(L, s, info ? info->inputLatency : 0,
                                          info ? info->outputLatency : 0, 0);
    else if (IS("format")) {
        if (has_in(s) && has_out(s)) {
            lua_createtable(L, 2, 0);
            lua_pushstring(L, ps_format_name(s->params.format[0])); lua_rawseti(L, -2, 1);
            lua_pushstring(L, ps_format_name(s->params.format[1])); lua_rawseti(L, -2, 2);
        } else
            lua_pushstring(L, ps_format_name(s->params.format[has_in(s) ? 0 : 1]));
    }
    else if (IS("rx_peak") || IS("tx_peak")) {
        /* peak |sample| per device channel since the last read (meter = true) */
        int dir = k[0] == 't', n = s->params.channels[dir];
        if (!(dir ? has_out(s) : has_in(s)))
            return 0;
        lua_createtable(L, n, 0);
        for (int c = 0; c < n; c++) {
            lua_pushnumber(L, ps_engine_take_peak(e, dir, c));
            lua_rawseti(L, -2, c + 1);
        }
    }
    else if (IS("rx_clips") || IS("tx_clips")) {
        /* samples at full scale per device channel this run (meter = true) */
        int dir = k[0] == 't', n = s->params.channels[dir];
        if (!(dir ? has_out(s) : has_in(s)))
            return 0;
        lua_createtable(L, n, 0);
        for (int c = 0; c < n; c++) {
            lua_pushinteger(L, (lua_Integer)ps_engine_clips(e, dir, c));
            lua_rawseti(L, -2, c + 1);
        }
    }
    else if (IS("txmapping") || IS("rxmapping")) {
        int tx = k[0] == 't';
        int n = tx ? (s->has_txmap ? s->params.channels[1] : 0) : s->rx_channels;
        if (!n)
            return 0;              /* nil: the identity */
        lua_createtable(L, n, 0);
        for (int c = 0; c < n; c++) {
            lua_pushinteger(L, tx ? s->txmap[c] : s->rxmap[c]);
            lua_rawseti(L, -2, c + 1);
        }
    }
    else if (IS("rx_channels"))  lua_pushinteger(L, s->rx_channels ? s->rx_channels : s->params.channels[0]);
    else if (IS("kind"))         lua_pushstring(L, kind_name(s));
    else if (IS("frames"))       lua_pushinteger(L, e->frames);
    else if (IS("pad"))          lua_pushinteger(L, e->pad);
    else if (IS("offset"))       lua_pushinteger(L, e->offset);
    else if (IS("loop"))         lua_pushboolean(L, e->loop);
    else return 0;
#undef IS
    return 1;
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
        return k[0] == 't' ? stream_set_txmap(L) : stream_set_rxmap(L);
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

static const luaL_Reg methods[] = {
    { "configure", stream_configure },
    { "set_txbuffer", stream_set_txbuffer },   { "set_rxbuffer", stream_set_rxbuffer },
    { "set_txmap", stream_set_txmap },         { "set_rxmap", stream_set_rxmap },
    { "open_txring", stream_open_txring },     { "open_rxring", stream_open_rxring },
    { "close_rings", stream_close_rings },
    { "write", stream_write },                 { "read", stream_read },
    { "write_available", stream_write_available },
    { "read_available", stream_read_available },
    { "set_eof", stream_set_eof },             { "_set_quiet", stream_set_quiet },             { "reset_txring", stream_reset_txring },
    { "start", stream_start },                 { "stop", stream_stop },
    { "abort", stream_abort },                 { "close", stream_close },
    { "error", stream_error },
    { "attach_reader", stream_attach_reader }, { "attach_writer", stream_attach_writer },
    { "finish_files", stream_finish_files },   { "file_error", stream_file_error },
    { "file_frames", stream_file_frames },     { "_watchdog", stream_watchdog },
    { NULL, NULL }
};

static const luaL_Reg metamethods[] = {
    { "__index", stream_index },   { "__newindex", stream_newindex },
    { "__tostring", stream_repr }, { "__gc", stream_close },
    { "__close", stream_close },
    { NULL, NULL }
};

int luaopen_pastream_stream(lua_State *L)
{
    luaL_newmetatable(L, PS_STREAM);
    luaL_setfuncs(L, metamethods, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    lua_pushcfunction(L, stream_new);
    return 1;
}
