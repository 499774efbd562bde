/* The realtime engine: the PortAudio callback and the stream state around it.
 *
 * This file never includes a Lua header.  The callback never allocates,
 * locks, logs, does I/O or calls Lua: it copies between PortAudio's buffers
 * and the transmit/receive sources (a ring buffer or a flat buffer), applies
 * the channel maps while copying, counts, and decides when the stream ends.
 * Everything the other threads may read while it runs is atomic.
 *
 * Stream semantics (the contract kept with the Python pastream):
 *   frames  frames of playback taken from the source; < 0: until the source
 *           ends.  Without playback: frames of the run (< 0: forever).
 *   pad     zero frames played after them: the run is frames + pad long.
 *           pad < 0 with frames >= 0 pads out to exactly frames (a source
 *           that ends early is followed by silence); with frames < 0 too it
 *           pads forever, and a ring that runs dry plays silence until data
 *           comes again (keep-alive).
 *   offset  input frames dropped from the start of the recording; they count
 *           towards the run (the stream's clock, as in playrec): a bounded
 *           run records frames + pad - offset.
 *   loop    a flat playback buffer restarts at its end, seamlessly; a ring
 *           source loops by its producer writing it again.
 * A source that ends before frames (pad >= 0) is BufferEmpty.  When a ring
 * source has ended: at its producer's end-of-stream (tx_eof), and, as in
 * pastream, when it runs dry, unless PS_UNTIL_EOF says its producer
 * announces its end: then running dry before it is an underrun, BufferEmpty
 * (or silence counted in tx_lost, with PS_FILL_GAPS).  A full receive ring
 * is BufferFull (or frames counted in rx_lost, PS_FILL_GAPS). */
#ifndef PS_ENGINE_H
#define PS_ENGINE_H

#include <portaudio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "copy.h"
#include "ringbuf.h"
#include "sample.h"
#include "wake.h"

#define PS_MAXCH 64          /* channels per direction */
#define PS_PEAK_TAKEN 0xFFFFFFFFu  /* a peak slot read and not metered since (a NaN) */
#define PS_MAXWAKE 4         /* wake-ups signalled after each callback */

typedef enum ps_status {
    PS_RUNNING = 0,          /* not ended (also: not started yet) */
    PS_COMPLETE,             /* frames reached or playback ended */
    PS_BUFFER_EMPTY,         /* transmit underrun */
    PS_BUFFER_FULL,          /* receive overrun */
    PS_XRUN,                 /* an xrun with fatal_xruns set */
    PS_STOPPED,              /* stopped or aborted by the user */
    PS_DEVICE_ERROR          /* the host API stopped the stream */
} ps_status;

enum { PS_XRUN_INPUT_UNDERFLOW, PS_XRUN_INPUT_OVERFLOW,
       PS_XRUN_OUTPUT_UNDERFLOW, PS_XRUN_OUTPUT_OVERFLOW, PS_NXRUN };

enum { PS_FILL_GAPS = 1,      /* flags: count lost frames instead of aborting */
       PS_METER = 2,          /*        keep per-channel peak levels */
       PS_QUIET = 4,          /*        wake wake[0] (Lua) only when the run ends:
                                        nothing there moves frames */
       PS_TX_CLOCKED = 8,     /*        the transmit ring's frame i plays at stream
                                        frame i: a dry ring plays silence (counted
                                        in tx_lost) and the frames that come too
                                        late for it are dropped, so a fixed
                                        through latency stays fixed (s:process) */
       PS_UNTIL_EOF = 16 };   /*        the tx ring's producer sets tx_eof at its
                                        end (a Lua source, a file's disk thread):
                                        a dry ring before that is an underrun */

enum { PS_PHASE_SOURCE, PS_PHASE_PAD, PS_PHASE_DONE };

/* A stretch of received frames the callback had to drop (PS_FILL_GAPS):
 * `count` frames belong before receive-ring frame `pos` (0-based, counted
 * from the start of the run).  A recording writes silence there, so the
 * file keeps its timing. */
typedef struct ps_gap { int64_t pos, count; } ps_gap;

typedef struct ps_engine {
    /* --- configuration: written only while no callback runs (lstream.c's
     * arm_run, from the run specification checked as a whole), then
     * read-only for the run */
    int in_channels, out_channels;      /* device channels; 0 = direction unused */
    ps_format in_format, out_format;
    size_t in_ss, out_ss;               /* bytes per sample */
    int rx_channels, tx_channels;       /* channels of a received/transmitted frame */
    int rxmap[PS_MAXCH];                /* rx channel k <- device input rxmap[k] (1-based, 0 = silence) */
    int txmap[PS_MAXCH];                /* device output k <- tx channel txmap[k] (1-based, 0 = silence) */
    bool rx_identity, tx_identity;      /* maps that are a plain copy */
    ps_copy_kind rx_plan, tx_plan;      /* how the callback copies through them */
    ps_copy_fn rx_fn, tx_fn;            /* the plan's kernel (ps_copy_kernel), or NULL */
    int64_t frames, pad, offset;
    int64_t settle;                     /* frames of cycles to sit out at the start, outside
                                           the run: silence out, input dropped (cycles a
                                           JACK server does not carry yet after the
                                           start: ps_device_settle) */
    bool loop, fatal_xruns;
    int flags;

    ps_ring *txring;                    /* transmit source: a ring ... */
    const unsigned char *txbuf;         /* ... or a flat buffer of txbuf_frames */
    int64_t txbuf_frames;
    atomic_bool tx_eof;                 /* the ring's producer wrote its last frame */

    ps_ring *rxring;                    /* receive sink: a ring ... */
    unsigned char *rxbuf;               /* ... or a flat buffer of rxbuf_frames */
    int64_t rxbuf_frames;
    ps_ring *gapq;                      /* optional: ps_gap announcements for the rx ring's reader */
    ps_ring *rxtap;                     /* optional: a copy of what the sink gets, for Lua
                                           (a chunk loop beside a recording's disk thread);
                                           a full tap only counts tap_lost */

    ps_wake *wake[PS_MAXWAKE];          /* [0] Lua: after every callback (unless
                                           PS_QUIET); [1] [2] the disk threads: once
                                           an eighth of the smaller ring has moved
                                           (ps_engine_callback); all at the end */

    /* --- callback-owned state */
    int phase;
    int64_t total;                      /* frames of the run (frames + pad), < 0: no end */
    int64_t src_left;                   /* frames left in the source phase (< 0: no limit) */
    int64_t txbuf_pos, pad_left, offset_left, rxbuf_pos;
    int64_t settle_left;                /* of settle, still to sit out */
    ps_gap gap;                         /* a gap not yet announced (count 0: none) */
    int64_t disk_pending;               /* frames moved since the disk threads' last wake */
    int64_t tx_debt;                    /* PS_TX_CLOCKED: silence played for ring frames
                                           not there yet, to drop when they come */

    /* --- shared: written by the callback, read by anyone */
    _Atomic int64_t frame_count;        /* frames the stream has run */
    _Atomic int64_t tx_frames;          /* frames taken from the source */
    _Atomic int64_t rx_frames;          /* frames delivered to the sink */
    _Atomic int64_t tx_lost, rx_lost;   /* gaps filled / frames dropped (PS_FILL_GAPS) */
    _Atomic int64_t tap_lost;           /* frames the rx tap had no room for */
    _Atomic uint32_t xruns[PS_NXRUN];
    _Atomic int status;                 /* ps_status */
    _Atomic int64_t status_frame;       /* frame_count when the status was set */
    atomic_int ending;                  /* 1 once a status has been claimed */
    atomic_bool finished;               /* PortAudio reported the stream inactive */
    atomic_bool abandoned;              /* given up on (ps_engine_abandon): a late
                                           callback only returns paAbort */
    /* Peak |sample| per device channel since the reader last took it
     * (PS_METER): float bits, which order like the floats for values >= 0;
     * PS_PEAK_TAKEN once taken and until the next block is metered.
     * *_held: the last value taken, owned by the one thread that takes
     * peaks (the Lua thread), returned again while no block has come, so
     * a meter read more often than the period holds its value. */
    _Atomic uint32_t in_peak[PS_MAXCH], out_peak[PS_MAXCH];
    float in_held[PS_MAXCH], out_held[PS_MAXCH];
    /* Samples at or past full scale per device channel this run (PS_METER):
     * |x| >= 32767/32768, the narrowest integer format's full scale. */
    _Atomic int64_t in_clips[PS_MAXCH], out_clips[PS_MAXCH];
} ps_engine;

/* Reset to defaults: no direction, float32, frames = -1, pad = 0, no
 * source/sink, identity maps.  Does not touch rings the caller owns. */
void ps_engine_init(ps_engine *e);

/* Set the device side of a direction; returns 0 or -1 (bad count). */
int ps_engine_set_input(ps_engine *e, int channels, ps_format f);
int ps_engine_set_output(ps_engine *e, int channels, ps_format f);

/* Channel maps.  map may be NULL for identity; n = channels of the
 * received frame (rx) or of the transmitted frame (tx).  rxmap entries name
 * device inputs; txmap is indexed by device output and names tx channels, so
 * for tx pass n = tx channels and the map of length out_channels.
 * Returns 0, or -1 if an entry is out of range. */
int ps_engine_set_rxmap(ps_engine *e, int rx_channels, const int *map);
int ps_engine_set_txmap(ps_engine *e, int tx_channels, const int *map);

/* Prepare the callback state for a new run (positions, counters, status).
 * Call before every start, after configuration.  tx_eof is left alone: the
 * producer resets it with its ring, before prebuffering. */
void ps_engine_arm(ps_engine *e);

/* The PortAudio stream callback (user_data is the ps_engine). */
int ps_engine_callback(const void *input, void *output, unsigned long nframes,
                       const PaStreamCallbackTimeInfo *time_info,
                       PaStreamCallbackFlags flags, void *user_data);

/* PortAudio's stream-finished callback. */
void ps_engine_finished(void *user_data);

/* Mark the end of the stream from outside the callback (user stop, device
 * error); keeps an earlier status. */
void ps_engine_end(ps_engine *e, ps_status st);

/* The device stopped calling back (a watchdog saw no progress): end the
 * stream as a DeviceError and wake Lua.  The host API may still hold the
 * stream, so a callback that comes late touches nothing but the flag and
 * returns paAbort; the engine memory must then stay allocated for good. */
void ps_engine_abandon(ps_engine *e);

const char *ps_status_name(ps_status st);   /* "BufferEmpty", ... */

/* Announce a gap still pending when the stream was stopped from outside.
 * Only while the callback is not running (after Pa_StopStream). */
void ps_engine_flush_gap(ps_engine *e);

/* Take the peak of device channel ch (0-based) of the input (dir 0) or
 * output (dir 1) since the last take, and reset it; when no block has
 * been metered since the last take, the last value again (a meter read
 * more often than the period does not drop to silence).  One thread takes. */
float ps_engine_take_peak(ps_engine *e, int dir, int ch);
/* Samples of channel ch that clipped this run (dir 0 input, 1 output). */
int64_t ps_engine_clips(ps_engine *e, int dir, int ch);

#endif
