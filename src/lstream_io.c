/* The sources and sinks of a Stream's next run, seen from Lua: flat
 * Buffers (set_txbuffer, set_rxbuffer), channel maps, rings that Lua fills
 * or drains (open_txring, write, read...), and files played or recorded
 * through disk threads (attach_reader, attach_writer, finish_files).  Each
 * call writes the run specification (lstream.h) while the stream is idle;
 * start checks it as a whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstream.h"

static void check_format(lua_State *L, ps_lstream *s, ps_buffer *b, int dir)
{
    if (b->format != s->params.format[dir])
        luaL_error(L, "the buffer is %s but the stream's %s is %s", ps_format_name(b->format),
                   dir ? "output" : "input", ps_format_name(s->params.format[dir]));
}

/* s:set_txbuffer(buf | nil): play a Buffer directly from the callback. */
static int stream_set_txbuffer(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "change the playback source");
    if (!has_out(s))
        return luaL_error(L, "an %s has no output to play on", kind_name(s));
    ps_mem_unref(s->run.txbuf);
    s->run.txbuf = NULL;
    if (!lua_isnoneornil(L, 2)) {
        ps_buffer *b = ps_checkbuffer(L, 2);
        check_format(L, s, b, 1);
        s->run.txbuf = ps_mem_ref(b->mem);
        s->run.txbuf_frames = b->frames;
        s->run.txbuf_channels = b->channels;
    }
    return 0;
}

/* s:set_rxbuffer(buf | nil): record straight into a Buffer. */
static int stream_set_rxbuffer(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "change the recording sink");
    if (!has_in(s))
        return luaL_error(L, "an %s has no input to record from", kind_name(s));
    ps_mem_unref(s->run.rxbuf);
    s->run.rxbuf = NULL;
    if (!lua_isnoneornil(L, 2)) {
        ps_buffer *b = ps_checkbuffer(L, 2);
        int want = s->run.rx_channels ? s->run.rx_channels : s->params.channels[0];
        check_format(L, s, b, 0);
        if (b->channels != want)
            return luaL_error(L, "the buffer has %d channels but the stream records %d",
                              b->channels, want);
        s->run.rxbuf = ps_mem_ref(b->mem);
        s->run.rxbuf_frames = b->frames;
        s->run.rxbuf_channels = b->channels;
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
int ps_stream_set_txmap(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "change txmapping");
    if (!has_out(s))
        return luaL_error(L, "an %s has no output to map", kind_name(s));
    s->run.has_txmap = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        int n = readmap(L, 2, s->run.txmap, PS_MAXCH, "txmapping");
        if (n != s->params.channels[1])
            return luaL_error(L, "txmapping has %d entries but the device plays %d channels",
                              n, s->params.channels[1]);
        s->run.has_txmap = 1;
    }
    return 0;
}

/* s:set_rxmap(list | nil): entry k names the device input recorded as
 * channel k (0 = silence); the list's length is the recorded channel count. */
int ps_stream_set_rxmap(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "change rxmapping");
    if (!has_in(s))
        return luaL_error(L, "an %s has no input to map", kind_name(s));
    s->run.rx_channels = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        s->run.rx_channels = readmap(L, 2, s->run.rxmap, s->params.channels[0], "rxmapping");
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
    r->mem = bytes ? ps_mem_new(bytes) : NULL;   /* pages made present by arm_run */
    if (!r->mem)
        luaL_error(L, "not enough memory for a ring of %I frames", frames);
    ps_ring_init(r->ring, r->mem->data, es, (size_t)frames);
    r->channels = channels;
}

/* s:open_txring(frames, channels [, until_eof]): the playback source becomes
 * a ring that Lua or a disk thread fills (s:write).  frames is a power of
 * two.  until_eof: its producer calls set_eof at its end, so running dry
 * before that is an underrun (BufferEmpty); without it a dry ring is the
 * end of the source, as pastream's ring is. */
static int stream_open_txring(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "change the playback source");
    if (!has_out(s))
        return luaL_error(L, "an %s has no output to play on", kind_name(s));
    lua_Integer ch = luaL_optinteger(L, 3, s->params.channels[1]);
    luaL_argcheck(L, ch >= 1 && ch <= PS_MAXCH, 3, "channels out of range");
    ps_stream_finish_file(s, &s->run.rd, 0);       /* its reader must not outlive the ring */
    open_ring(L, &s->run.tx, luaL_checkinteger(L, 2), (int)ch, s->params.format[1]);
    s->run.tx_until_eof = lua_toboolean(L, 4);
    return 0;
}

/* s:open_rxring(frames): the recording goes to a ring that Lua or a disk
 * thread drains (s:read). */
static int stream_open_rxring(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "change the recording sink");
    if (!has_in(s))
        return luaL_error(L, "an %s has no input to record from", kind_name(s));
    int ch = s->run.rx_channels ? s->run.rx_channels : s->params.channels[0];
    ps_stream_finish_file(s, &s->run.wr, 1);       /* its writer must not outlive the ring */
    open_ring(L, &s->run.rx, luaL_checkinteger(L, 2), ch, s->params.format[0]);
    return 0;
}

/* s:open_rxtap(frames | nil): Lua reads (s:read) a copy of what the
 * receive side gets, from a ring of its own, while a disk thread drains the
 * receive ring into a file: a chunk loop that keeps a recording.  The
 * recording never waits for Lua; frames the tap has no room for are
 * counted in tap_lost.  nil removes the tap. */
static int stream_open_rxtap(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "change the receive tap");
    if (!has_in(s))
        return luaL_error(L, "an %s has no input to record from", kind_name(s));
    if (lua_isnoneornil(L, 2)) {
        ps_mem_unref(s->run.tap.mem);
        s->run.tap.mem = NULL;
        return 0;
    }
    int ch = s->run.rx_channels ? s->run.rx_channels : s->params.channels[0];
    open_ring(L, &s->run.tap, luaL_checkinteger(L, 2), ch, s->params.format[0]);
    return 0;
}

/* s:close_rings([which]): remove the transmit ("tx"), receive ("rx") or
 * both rings, so that a later run does not use what an earlier one left. */
static int stream_close_rings(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    const char *which = luaL_optstring(L, 2, "both");
    ps_stream_check_idle(L, s, "remove the rings");
    if (strcmp(which, "rx") != 0) {
        ps_stream_finish_file(s, &s->run.rd, 0);
        ps_mem_unref(s->run.tx.mem);
        s->run.tx.mem = NULL;
        s->run.tx_until_eof = false;
    }
    if (strcmp(which, "tx") != 0) {
        ps_stream_finish_file(s, &s->run.wr, 1);
        ps_mem_unref(s->run.rx.mem);
        ps_mem_unref(s->run.tap.mem);
        s->run.rx.mem = s->run.tap.mem = NULL;
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
    ps_lstream *s = ps_checkstream(L, 1);
    ps_buffer *b = ps_checkbuffer(L, 2);
    /* Lua reads the tap, when there is one: the receive ring is then the
     * recording disk thread's */
    int tap = !dir && s->run.tap.mem;
    ring_side *r = dir ? &s->run.tx : tap ? &s->run.tap : &s->run.rx;
    const char *name = dir ? "transmit" : "receive";
    size_t first, count;
    if (!r->mem)
        return luaL_error(L, "the stream has no %s ring (open_%sring)", name, dir ? "tx" : "rx");
    /* A ring has one producer and one consumer: a disk thread's ring is
     * not Lua's to read or write as well. */
    if (!tap && (dir ? s->run.rd.disk != NULL : s->run.wr.disk != NULL))
        return luaL_error(L, "cannot %s the %s ring: the %s file's disk thread %s it",
                          dir ? "write" : "read", name, dir ? "playback" : "recording",
                          dir ? "fills" : "drains");
    if (b->channels != r->channels || b->format != s->params.format[dir])
        return luaL_error(L, "buffer is %d channels of %s, the %s ring %d of %s",
                          b->channels, ps_format_name(b->format), name, r->channels,
                          ps_format_name(s->params.format[dir]));
    buffer_range(L, b, 3, &first, &count);
    unsigned char *p = b->mem->data + first * ps_buffer_framebytes(b);
    lua_pushinteger(L, (lua_Integer)(dir ? ps_ring_write(r->ring, p, count)
                                         : ps_ring_read(r->ring, p, count)));
    return 1;
}

/* s:write(buf [, first [, count]]) -> frames written to the transmit ring. */
static int stream_write(lua_State *L) { return ring_io(L, 1); }
/* s:read(buf [, first [, count]]) -> frames read from the receive ring. */
static int stream_read(lua_State *L) { return ring_io(L, 0); }

static int stream_write_available(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    lua_pushinteger(L, s->run.tx.mem ? (lua_Integer)ps_ring_write_available(s->run.tx.ring) : 0);
    return 1;
}

static int stream_read_available(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ring_side *r = s->run.tap.mem ? &s->run.tap : &s->run.rx;
    lua_pushinteger(L, r->mem ? (lua_Integer)ps_ring_read_available(r->ring) : 0);
    return 1;
}

/* s:reset_txring(): empty the transmit ring and clear end-of-stream, before
 * a producer fills it for a new run. */
static int stream_reset_txring(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "reset the transmit ring");
    if (s->run.rd.disk)
        return luaL_error(L, "cannot reset the transmit ring: the playback file's disk thread "
                          "fills it (set another source first)");
    if (s->run.tx.mem)
        ps_ring_reset(s->run.tx.ring);
    atomic_store(&s->e->tx_eof, false);
    return 0;
}

/* s:set_eof(): the transmit ring's producer has written its last frame. */
static int stream_set_eof(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    if (s->run.rd.disk)
        return luaL_error(L, "cannot set_eof: the playback file's disk thread fills the "
                          "transmit ring and says where it ends");
    atomic_store_explicit(&s->e->tx_eof, true, memory_order_release);
    return 0;
}

/* ---- files ------------------------------------------------------------- */

/* s:attach_reader(path, ringframes, {type, subtype, endian, samplerate,
 * channels, loop, frames}) -> true | nil, message.  The file plays through
 * a disk thread into the transmit ring, which is filled before this returns.
 * RAW files need samplerate, channels and subtype. */
static int stream_attach_reader(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    const char *path = luaL_checkstring(L, 2);
    lua_Integer ringframes = luaL_checkinteger(L, 3);
    int o = 4;
    char err[512];
    if (lua_isnoneornil(L, o)) {         /* no options: an empty table */
        lua_settop(L, o - 1);
        lua_newtable(L);
    }
    luaL_checktype(L, o, LUA_TTABLE);
    ps_stream_check_idle(L, s, "change the playback source");
    if (!has_out(s))
        return luaL_error(L, "an %s has no output to play on", kind_name(s));
    ps_stream_finish_file(s, &s->run.rd, 0);

    SF_INFO info;
    const char *missing = ps_sf_read_info(L, o, path, &info);
    if (missing)
        return ps_fail(L, "%s: a RAW file needs samplerate, channels and subtype; %s is missing",
                    path, missing);
    SNDFILE *sf = ps_sf_open(path, SFM_READ, &info, &s->run.rd.is_pipe);
    if (!sf)
        return ps_fail(L, "%s: %s", path, ps_sf_open_error(path));
    s->run.rd.sf = sf;
    s->run.rd.info = info;
    lua_getfield(L, o, "resample");
    int resample = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (info.samplerate != (int)s->params.samplerate && !resample) {
        ps_stream_finish_file(s, &s->run.rd, 0);
        return ps_fail(L, "%s is %d Hz but the stream runs at %d Hz (resample = false)",
                    path, info.samplerate, (int)s->params.samplerate);
    }
    if (info.channels > PS_MAXCH) {
        ps_stream_finish_file(s, &s->run.rd, 0);
        return ps_fail(L, "%s has %d channels; at most %d are supported", path, info.channels, PS_MAXCH);
    }
    if (info.channels > s->params.channels[1] && !s->run.has_txmap) {
        ps_stream_finish_file(s, &s->run.rd, 0);
        return ps_fail(L, "%s has %d channels but the device plays %d (choose them with txmapping)",
                    path, info.channels, s->params.channels[1]);
    }
    if (info.channels == 1 && s->params.channels[1] > 1 && !s->run.has_txmap) {
        /* a mono file plays on every output, as sox does */
        for (int k = 0; k < s->params.channels[1]; k++)
            s->run.txmap[k] = 1;
        s->run.has_txmap = 2;           /* ours, not the user's: reset with the source */
    }
    ps_mem_unref(s->run.txbuf);
    s->run.txbuf = NULL;
    open_ring(L, &s->run.tx, ringframes, info.channels, s->params.format[1]);

    ps_disk_opts opts;
    ps_disk_opts_init(&opts);
    opts.format = s->params.format[1];
    opts.channels = info.channels;
    opts.frames = ps_optfieldint(L, o, "frames", -1);
    lua_getfield(L, o, "loop");
    opts.loop = lua_toboolean(L, -1);
    lua_pop(L, 1);
    opts.notify = ps_stream_wake();
    lua_getfield(L, o, "gain");          /* the CLI's -v/--volume */
    opts.gain = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    s->volume_clips = 0;
    if (info.samplerate != (int)s->params.samplerate)
        opts.out_rate = s->params.samplerate;   /* libsamplerate, as sox play does */
    int r = ps_wake_open(s->run.rd.wake);
    if (r < 0) {
        ps_stream_finish_file(s, &s->run.rd, 0);
        return ps_fail(L, "cannot create a wake-up: %s", strerror(-r));
    }
    s->run.rd.disk = ps_disk_reader(sf, s->run.tx.ring, s->run.rd.wake, &s->e->tx_eof, &opts, err, sizeof err);
    if (!s->run.rd.disk) {
        ps_stream_finish_file(s, &s->run.rd, 0);
        return ps_fail(L, "%s: %s", path, err);
    }
    if (ps_disk_prefill(s->run.rd.disk, 10000) < 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, ps_disk_error(s->run.rd.disk));
        ps_stream_finish_file(s, &s->run.rd, 0);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* s:attach_writer(path, ringframes, {type, subtype, endian, dither}) -> true | nil,
 * message.  The recording goes to the file through a disk thread.  The type
 * comes from the option, else the extension, else WAV (AU for "-"); the
 * subtype follows the device's sample format where the type allows. */
static int stream_attach_writer(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    const char *path = luaL_checkstring(L, 2);
    lua_Integer ringframes = luaL_checkinteger(L, 3);
    int o = 4, given;
    char err[512];
    if (lua_isnoneornil(L, o)) {         /* no options: an empty table */
        lua_settop(L, o - 1);
        lua_newtable(L);
    }
    luaL_checktype(L, o, LUA_TTABLE);
    ps_stream_check_idle(L, s, "change the recording sink");
    if (!has_in(s))
        return luaL_error(L, "an %s has no input to record from", kind_name(s));
    ps_stream_finish_file(s, &s->run.wr, 1);

    int def = ps_sf_major_from_path(path);
    if (!def)
        def = strcmp(path, "-") == 0 ? SF_FORMAT_AU : SF_FORMAT_WAV;
    int w = ps_sf_format_word(L, o, def, &given);
    int channels = s->run.rx_channels ? s->run.rx_channels : s->params.channels[0];
    if (!given) {
        int st = (w & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG ? ps_sf_subtype_from_path(path) : 0;
        w |= st ? st : ps_sf_subtype_for(w & SF_FORMAT_TYPEMASK, s->params.format[0]);
    }
    SF_INFO info = { .samplerate = (int)s->params.samplerate, .channels = channels, .format = w };
    if (!sf_format_check(&info))
        return ps_fail(L, "%s: a %s file cannot hold %s%s at %d Hz, %d channels%s", path,
                    ps_sf_major_name(w), ps_sf_subtype_name(w),
                    given ? "" : " (the device's sample format)", info.samplerate, channels,
                    given ? "" : "; give a subtype (encoding)");
    char perr[300];
    if (ps_sf_probe_write(&info, perr, sizeof perr) < 0)
        return ps_fail(L, "%s: libsndfile cannot write a %s file of %s: %s", path,
                    ps_sf_major_name(w), ps_sf_subtype_name(w), perr);
    /* A WAV file cannot pass 4 GB: record RF64, which libsndfile turns back
     * into a plain WAV at close when the data stayed under that. */
    int rf64 = (w & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV && strcmp(path, "-") != 0;
    if (rf64)
        info.format = (w & ~SF_FORMAT_TYPEMASK) | SF_FORMAT_RF64;
    SNDFILE *sf = ps_sf_open(path, SFM_WRITE, &info, &s->run.wr.is_pipe);
    if (!sf)
        return ps_fail(L, "%s: %s", path, ps_sf_open_error(path));
    if (rf64)
        sf_command(sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
    s->run.wr.sf = sf;
    s->run.wr.info = info;
    ps_mem_unref(s->run.rxbuf);
    s->run.rxbuf = NULL;
    open_ring(L, &s->run.rx, ringframes, channels, s->params.format[0]);

    ps_disk_opts opts;
    ps_disk_opts_init(&opts);
    opts.format = s->params.format[0];
    opts.channels = channels;
    opts.notify = ps_stream_wake();
    if (lua_type(L, o) == LUA_TTABLE) {
        lua_getfield(L, o, "dither");   /* TPDF dither into an integer file */
        opts.dither = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    ps_ring_reset(s->run.wr.gaps);
    opts.gaps = s->run.wr.gaps;
    int r = ps_wake_open(s->run.wr.wake);
    if (r < 0) {
        ps_stream_finish_file(s, &s->run.wr, 0);
        return ps_fail(L, "cannot create a wake-up: %s", strerror(-r));
    }
    s->run.wr.disk = ps_disk_writer(sf, s->run.rx.ring, s->run.wr.wake, &opts, err, sizeof err);
    if (!s->run.wr.disk) {
        ps_stream_finish_file(s, &s->run.wr, 0);
        return ps_fail(L, "%s: %s", path, err);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* s:finish_files() -> true | nil, message: stop the disk threads (the
 * writer writes everything still in its ring) and close the files.  Call
 * after the stream has stopped. */
static int stream_finish_files(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    ps_stream_check_idle(L, s, "finish the files");
    char msg[600] = "";
    if (s->run.rd.disk && ps_disk_failed(s->run.rd.disk))
        snprintf(msg, sizeof msg, "playback file: %s", ps_disk_error(s->run.rd.disk));
    if (s->run.wr.disk) {
        ps_disk_finish(s->run.wr.disk, 1);
        if (ps_disk_failed(s->run.wr.disk) && !msg[0])
            snprintf(msg, sizeof msg, "recording file: %s", ps_disk_error(s->run.wr.disk));
    }
    ps_stream_finish_file(s, &s->run.rd, 0);
    if (ps_stream_finish_file(s, &s->run.wr, 1) < 0 && !msg[0])
        snprintf(msg, sizeof msg, "recording file: error while closing");
    if (s->run.has_txmap == 2)
        s->run.has_txmap = 0;
    if (msg[0])
        return ps_fail(L, "%s", msg);
    lua_pushboolean(L, 1);
    return 1;
}

/* s:file_error() -> nil, or the message of a disk thread that failed. */
static int stream_file_error(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    if (s->run.rd.disk && ps_disk_failed(s->run.rd.disk))
        lua_pushfstring(L, "playback file: %s", ps_disk_error(s->run.rd.disk));
    else if (s->run.wr.disk && ps_disk_failed(s->run.wr.disk))
        lua_pushfstring(L, "recording file: %s", ps_disk_error(s->run.wr.disk));
    else
        lua_pushnil(L);
    return 1;
}

/* s:file_frames() -> frames read from the playback file, frames written
 * to the recording file (0 without one). */
static int stream_file_frames(lua_State *L)
{
    ps_lstream *s = ps_checkstream(L, 1);
    lua_pushinteger(L, s->run.rd.disk ? ps_disk_frames(s->run.rd.disk) : 0);
    lua_pushinteger(L, s->run.wr.disk ? ps_disk_frames(s->run.wr.disk) : 0);
    return 2;
}

static const luaL_Reg io_methods[] = {
    { "set_txbuffer", stream_set_txbuffer },   { "set_rxbuffer", stream_set_rxbuffer },
    { "set_txmap", ps_stream_set_txmap },      { "set_rxmap", ps_stream_set_rxmap },
    { "open_txring", stream_open_txring },     { "open_rxring", stream_open_rxring },
    { "close_rings", stream_close_rings },     { "open_rxtap", stream_open_rxtap },
    { "write", stream_write },                 { "read", stream_read },
    { "write_available", stream_write_available },
    { "read_available", stream_read_available },
    { "set_eof", stream_set_eof },             { "reset_txring", stream_reset_txring },
    { "attach_reader", stream_attach_reader }, { "attach_writer", stream_attach_writer },
    { "finish_files", stream_finish_files },   { "file_error", stream_file_error },
    { "file_frames", stream_file_frames },
    { NULL, NULL }
};

void ps_stream_io_methods(lua_State *L)
{
    luaL_setfuncs(L, io_methods, 0);
}
