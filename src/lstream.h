/* The Stream binding's own header: what lstream.c (a stream's life: open,
 * the run specification, start, stop, close), lstream_io.c (the sources and
 * sinks of a run: Buffers, maps, rings, files) and lstream_props.c (the
 * properties a script reads) share.  Not for other files.
 *
 * Invariants:
 * - s->e is NULL once the stream is closed (ps_checkstream raises then);
 *   the engine is malloc'd, never in the Lua heap, because PortAudio's
 *   thread holds a pointer to it.
 * - Only arm_run (lstream.c), at start, writes the engine's settings, from
 *   s->run checked as a whole; everything else writes s->run, and only
 *   while the stream is not active (ps_stream_check_idle).
 * - A ring has one producer and one consumer: a ring a disk thread serves
 *   is not read or written from Lua.
 * - A running stream is anchored in the registry (s->anchor) until its run
 *   is seen to end, it is stopped, or closed. */
#ifndef PS_LSTREAM_H
#define PS_LSTREAM_H

#include "device.h"
#include "disk.h"
#include "engine.h"
#include "lpastream.h"
#include "sfformat.h"

/* Everything the callback touches besides the sample memory, in one C
 * allocation outside the Lua heap: the engine (first, so s->e is the
 * block and free(s->e) frees it), the rings' control blocks, the disk
 * threads' wake-ups and the recording's gap queue.  An abandoned stream's
 * block is kept for the life of the process (lstream.c's graveyard): a
 * callback that stalled mid-block may still touch any of it. */
typedef struct stream_core {
    ps_engine e;
    ps_ring tx_ring, rx_ring;
    ps_ring tap_ring;             /* a copy of the received frames for Lua (open_rxtap) */
    ps_wake rd_wake, wr_wake;
    ps_ring gaps;
    ps_gap gapmem[64];
} stream_core;

typedef struct ring_side {
    ps_ring *ring;                /* in the stream_core; NULL once closed */
    ps_mem *mem;                  /* NULL: no ring */
    int channels;
} ring_side;

/* A file played or recorded through a disk thread. */
typedef struct file_side {
    SNDFILE *sf;
    ps_disk *disk;
    ps_wake *wake;                /* the disk thread's own wake-up (stream_core) */
    int is_pipe;
    SF_INFO info;
    ps_ring *gaps;                /* writer: where the engine dropped frames (stream_core) */
} file_side;

/* The next run's specification.  The set_*, open_*ring, attach_* and
 * configure calls write only here; start checks it once, as a whole
 * (check_run), and copies it into the engine (arm_run).  Nothing else
 * writes the engine's settings, so a setting the engine has was checked
 * together with every other one.  Rings and files are resources as well as
 * settings: they live here, and the engine points into them while it runs,
 * so none is replaced or closed while the stream is active (check_idle). */
typedef struct run_spec {
    ps_mem *txbuf, *rxbuf;        /* flat source/sink Buffers, referenced while set */
    int64_t txbuf_frames, rxbuf_frames;
    int txbuf_channels, rxbuf_channels;
    ring_side tx, rx;             /* rings (Lua or a disk thread at the other end) */
    ring_side tap;                /* Lua's copy of what the receive side gets, while a
                                     disk thread drains rx (a chunk loop that records) */
    file_side rd, wr;             /* playback file (reader), recording file (writer) */
    int txmap[PS_MAXCH], rxmap[PS_MAXCH];
    int has_txmap, rx_channels;   /* has_txmap 2: the mono-file map; rx_channels 0: all inputs */
    int64_t frames, pad, offset;
    bool loop, fatal_xruns;
    bool tx_until_eof;            /* tx's producer calls set_eof at its end: running
                                     dry before it is an underrun (open_txring) */
    int flags;                    /* PS_FILL_GAPS, PS_METER, PS_QUIET (one run only) */
} run_spec;

typedef struct ps_lstream {
    ps_engine *e;
    PaStream *pa;
    ps_open_params params;
    run_spec run;
    int started;
    int64_t volume_clips;         /* samples the reader's gain clipped (last file) */
    int anchor;                   /* registry reference while running (LUA_NOREF: none) */
    /* The watchdog (stream_watchdog): the frame count last seen, when it
     * last moved, the limit in seconds (0: off), and whether the stream
     * was given up on, after how many seconds without a callback (-1: its
     * host went away, host_gone in lstream.c). */
    int64_t watch_count;
    double watch_time, watch_limit;
    int dead;
    double dead_after;
    struct ps_lstream *prev, *next;
} ps_lstream;

static inline int has_in(const ps_lstream *s) { return s->params.device[0] >= 0; }
static inline int has_out(const ps_lstream *s) { return s->params.device[1] >= 0; }
static inline const char *kind_name(const ps_lstream *s)
{
    return has_in(s) && has_out(s) ? "DuplexStream" : has_in(s) ? "InputStream" : "OutputStream";
}

/* lstream.c */
ps_lstream *ps_checkstream(lua_State *L, int idx);   /* raises on a closed stream */
void ps_stream_check_idle(lua_State *L, ps_lstream *s, const char *what); /* raises while active */
int ps_stream_finish_file(ps_lstream *s, file_side *f, int drain);
ps_wake *ps_stream_wake(void);        /* the wake-up Lua watches for every stream */

/* lstream_io.c: set_txbuffer, set_rxbuffer, maps, rings, read/write,
 * attach_reader/writer, finish_files...: into the methods table on top. */
void ps_stream_io_methods(lua_State *L);
int ps_stream_set_txmap(lua_State *L);
int ps_stream_set_rxmap(lua_State *L);

/* lstream_props.c: __index, __newindex, __tostring into the metatable on top. */
void ps_stream_property_metamethods(lua_State *L);

#endif
