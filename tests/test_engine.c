/* Unit tests for src/engine.c: the realtime callback, driven directly.
 *
 * No PortAudio device: every case calls ps_engine_callback() with synthetic
 * interleaved buffers, a sequence of block sizes, and (optionally) xrun flags,
 * and compares what comes out against a reference model written from the
 * contract in engine.h ("Stream semantics"), not from engine.c.
 *
 * Every sample is a unique counting value (source frame s, channel c of a
 * C-channel source carries s*C+c+1; device input frame g, channel c carries
 * -(g*C+c+1), or a per-format equivalent that is never silence), so a frame
 * that is dropped, repeated, shifted, mis-mapped or taken from the wrong
 * direction is visible in the byte compare.
 *
 * Per case and per run (each case is run twice, re-armed with
 * ps_engine_arm): the return code and frame_count after every call, every
 * output byte (including silence after the end within the last block), the
 * recorded stream byte for byte, the final status/status_frame/counters, that
 * the input buffer and the flat playback buffer are never written, that
 * nothing is written outside the output block, the flat receive buffer or
 * its guard, and that callbacks after the end return paComplete with
 * silence and change nothing.
 *
 * Then: ps_copy_mapped on its own (sample sizes 1..4, unaligned pointers),
 * the planned copies (each kernel, in each instruction set, against
 * ps_copy_mapped; and through the callback with rings that wrap at every
 * offset), map/config validation, ps_engine_end, and the coalesced wake-up. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "engine.h"
#include "check.h"

#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the table ----------------------------------------------------------- */

enum { S_NONE, S_FLAT, S_RING_EOF, S_RING_DRY };  /* playback source kinds:
    none, flat buffer, ring whose producer sets eof after its last frame,
    ring whose producer never sets eof (it runs dry: an underrun) */
enum { K_NONE, K_FLAT, K_RING };                  /* receive sink kinds */

#define XALL (paInputUnderflow | paInputOverflow | paOutputUnderflow | paOutputOverflow)
#define FILL PS_FILL_GAPS
#define UNTIL PS_UNTIL_EOF      /* the ring's producer announces its end */

typedef struct tcase {
    const char *rule;
    int in, out;               /* device channels (0 = direction unused) */
    ps_format fin, fout;       /* device sample formats (default float32) */
    int src;                   /* S_* */
    int64_t len;               /* source frames */
    int txch;                  /* channels of a source frame (0: = out) */
    int cap, feed;             /* ring source: capacity (0: 4096); frames the
                                  producer writes before each call (0: all that fit) */
    int64_t frames, pad, offset;
    bool loop;
    const char *txmap, *rxmap; /* "2 1"; NULL = identity */
    int sink;                  /* K_* */
    int slen, drain;           /* flat: frames; ring: capacity.  drain: frames the
                                  consumer reads after each call (0: all, -1: none) */
    int flags;                 /* PS_FILL_GAPS */
    bool fatal, in_null, xevery;
    int xcall;                 /* call index that gets xflags (unless xevery) */
    unsigned long xflags;
    const char *blocks;        /* nframes of the successive calls, cycled (NULL: "256") */
    int calls;                 /* call budget (0: 3000); cases that run forever stop here */
    /* expected (hand-computed; the model must agree, the engine must match) */
    int st;                    /* final status (PS_RUNNING: still running at the budget) */
    int64_t at;                /* status_frame (= frame_count); frame_count when running */
    int64_t tx, rec, txlost, rxlost;   /* tx_frames, rx_frames, tx_lost, rx_lost */
} tcase;

#define EXP(st_, at_, tx_, rec_, txl_, rxl_) \
    .st = st_, .at = at_, .tx = tx_, .rec = rec_, .txlost = txl_, .rxlost = rxl_
#define RUNNING PS_RUNNING
#define COMPLETE PS_COMPLETE
#define EMPTY PS_BUFFER_EMPTY
#define FULL PS_BUFFER_FULL
#define XRUN PS_XRUN

static const tcase cases[] = {
    /* ---- frames / pad with a flat playback buffer (output only, stereo float32) */
    { "frames<0: the whole source, then complete", .out=2, .src=S_FLAT, .len=1000, .frames=-1, EXP(COMPLETE, 1000, 1000, 0, 0, 0) },
    { "frames<0: source ends on a block boundary", .out=2, .src=S_FLAT, .len=512, .frames=-1, EXP(COMPLETE, 512, 512, 0, 0, 0) },
    { "frames=0: complete at once, all silence", .out=2, .src=S_FLAT, .len=100, .frames=0, EXP(COMPLETE, 0, 0, 0, 0, 0) },
    { "frames < source: cut at frames", .out=2, .src=S_FLAT, .len=1000, .frames=300, EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "source ends exactly at frames (odd blocks)", .out=2, .src=S_FLAT, .len=300, .frames=300, .blocks="7 1 256", EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "source ends before frames, pad 0: BufferEmpty", .out=2, .src=S_FLAT, .len=300, .frames=1000, EXP(EMPTY, 300, 300, 0, 0, 0) },
    { "source ends before frames, pad 100: BufferEmpty there, no pad", .out=2, .src=S_FLAT, .len=300, .pad=100, .frames=1000, .blocks="1000", EXP(EMPTY, 300, 300, 0, 0, 0) },
    { "frames then pad: 300 of a 1000-frame source, pad 700", .out=2, .src=S_FLAT, .len=1000, .pad=700, .frames=300, .blocks="256 7", EXP(COMPLETE, 1000, 300, 0, 0, 0) },
    { "frames = the source, then pad 1000: run 1300", .out=2, .src=S_FLAT, .len=300, .pad=1000, .frames=300, EXP(COMPLETE, 1300, 300, 0, 0, 0) },
    { "frames=0, pad 100: only the pad", .out=2, .src=S_FLAT, .len=300, .pad=100, .frames=0, .blocks="7 256", EXP(COMPLETE, 100, 0, 0, 0, 0) },
    { "pad>0, frames<0: source then pad (odd blocks)", .out=2, .src=S_FLAT, .len=300, .pad=77, .frames=-1, .blocks="7 1 256 1000", EXP(COMPLETE, 377, 300, 0, 0, 0) },
    { "pad<0, frames>=0: pad out to exactly frames", .out=2, .src=S_FLAT, .len=300, .pad=-1, .frames=1001, .blocks="256 7", EXP(COMPLETE, 1001, 300, 0, 0, 0) },
    { "pad<0, frames < source: cut at frames", .out=2, .src=S_FLAT, .len=300, .pad=-1, .frames=100, EXP(COMPLETE, 100, 100, 0, 0, 0) },
    { "pad<0, frames<0: pads forever", .out=2, .src=S_FLAT, .len=300, .pad=-1, .frames=-1, .calls=50, EXP(RUNNING, 12800, 300, 0, 0, 0) },
    { "empty source, pad 10, frames<0", .out=2, .src=S_FLAT, .len=0, .pad=10, .frames=-1, EXP(COMPLETE, 10, 0, 0, 0, 0) },
    { "empty source, pad 0, frames<0: complete at 0", .out=2, .src=S_FLAT, .len=0, .frames=-1, EXP(COMPLETE, 0, 0, 0, 0, 0) },
    { "empty source, frames>0: BufferEmpty at 0", .out=2, .src=S_FLAT, .len=0, .frames=100, EXP(EMPTY, 0, 0, 0, 0, 0) },
    { "pad ends on a block boundary", .out=2, .src=S_FLAT, .len=200, .pad=56, .frames=-1, EXP(COMPLETE, 256, 200, 0, 0, 0) },
    { "block size 1", .out=2, .src=S_FLAT, .len=5, .frames=-1, .blocks="1", EXP(COMPLETE, 5, 5, 0, 0, 0) },
    { "one block longer than the whole stream", .out=2, .src=S_FLAT, .len=10, .pad=5, .frames=-1, .blocks="1000", EXP(COMPLETE, 15, 10, 0, 0, 0) },
    /* ---- loop */
    { "loop: length 100 does not divide 256, frames 1000", .out=2, .src=S_FLAT, .len=100, .loop=1, .frames=1000, EXP(COMPLETE, 1000, 1000, 0, 0, 0) },
    { "loop: length 7, blocks 1 7 256 1000, forever", .out=2, .src=S_FLAT, .len=7, .loop=1, .frames=-1, .blocks="1 7 256 1000", .calls=40, EXP(RUNNING, 12640, 12640, 0, 0, 0) },
    { "loop: single-frame source", .out=2, .src=S_FLAT, .len=1, .loop=1, .frames=500, .blocks="256 7", EXP(COMPLETE, 500, 500, 0, 0, 0) },
    { "loop: empty source ends (then its pad)", .out=2, .src=S_FLAT, .len=0, .loop=1, .pad=5, .frames=-1, EXP(COMPLETE, 5, 0, 0, 0, 0) },
    { "loop: source longer than a block", .out=2, .src=S_FLAT, .len=1000, .loop=1, .frames=2500, .blocks="1000 256 7", EXP(COMPLETE, 2500, 2500, 0, 0, 0) },
    { "loop: frames of the looped source, then the pad", .out=2, .src=S_FLAT, .len=256, .loop=1, .pad=50, .frames=600, EXP(COMPLETE, 650, 600, 0, 0, 0) },
    { "loop: source length = block size", .out=2, .src=S_FLAT, .len=256, .loop=1, .frames=1024, EXP(COMPLETE, 1024, 1024, 0, 0, 0) },
    /* ---- no playback source */
    { "no source, frames<0: silence forever", .out=2, .src=S_NONE, .frames=-1, .calls=20, EXP(RUNNING, 5120, 0, 0, 0, 0) },
    { "no source, frames>0: silence, complete at frames", .out=2, .src=S_NONE, .frames=1000, EXP(COMPLETE, 1000, 0, 0, 0, 0) },
    /* ---- ring source */
    { "ring+eof, prebuffered, frames<0", .out=2, .src=S_RING_EOF, .len=1000, .frames=-1, EXP(COMPLETE, 1000, 1000, 0, 0, 0) },
    { "ring fed 300 per call, eof after the last frame", .out=2, .src=S_RING_EOF, .len=2000, .cap=1024, .feed=300, .frames=-1, EXP(COMPLETE, 2000, 2000, 0, 0, 0) },
    { "ring eof + pad 100", .out=2, .src=S_RING_EOF, .len=500, .pad=100, .frames=-1, EXP(COMPLETE, 600, 500, 0, 0, 0) },
    { "ring eof + pad<0, frames 2000: pad to frames", .out=2, .src=S_RING_EOF, .len=500, .pad=-1, .frames=2000, EXP(COMPLETE, 2000, 500, 0, 0, 0) },
    { "ring eof, frames < source: cut", .out=2, .src=S_RING_EOF, .len=1000, .frames=700, EXP(COMPLETE, 700, 700, 0, 0, 0) },
    { "ring eof, ends before frames: BufferEmpty", .out=2, .src=S_RING_EOF, .len=500, .frames=1000, EXP(EMPTY, 500, 500, 0, 0, 0) },
    { "ring eof + pad<0 + frames<0: pad forever", .out=2, .src=S_RING_EOF, .len=500, .pad=-1, .frames=-1, .calls=20, EXP(RUNNING, 5120, 500, 0, 0, 0) },
    { "ring dry before its announced eof: BufferEmpty at the exact frame", .out=2, .src=S_RING_DRY, .len=300, .frames=-1, .flags=UNTIL, EXP(EMPTY, 300, 300, 0, 0, 0) },
    { "ring dry, blocks 7 1 1000", .out=2, .src=S_RING_DRY, .len=1234, .frames=-1, .blocks="7 1 1000", .flags=UNTIL, EXP(EMPTY, 1234, 1234, 0, 0, 0) },
    { "ring dry on a block boundary", .out=2, .src=S_RING_DRY, .len=512, .frames=-1, .flags=UNTIL, EXP(EMPTY, 512, 512, 0, 0, 0) },
    { "ring dry with pad>0: still an underrun (eof announced)", .out=2, .src=S_RING_DRY, .len=300, .pad=100, .frames=-1, .flags=UNTIL, EXP(EMPTY, 300, 300, 0, 0, 0) },
    { "ring dry with pad<0, frames 1000: still an underrun (eof announced)", .out=2, .src=S_RING_DRY, .len=300, .pad=-1, .frames=1000, .flags=UNTIL, EXP(EMPTY, 300, 300, 0, 0, 0) },
    { "ring runs dry before the producer's later eof", .out=2, .src=S_RING_EOF, .len=10000, .cap=1024, .feed=200, .frames=-1, .flags=UNTIL, EXP(EMPTY, 200, 200, 0, 0, 0) },
    /* ---- a ring the script writes (no eof announced): dry is its end, as in pastream */
    { "script's ring dry, frames<0, pad 0: complete there", .out=2, .src=S_RING_DRY, .len=300, .frames=-1, EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "script's ring dry, pad 100 (autoframes): the pad, then the end", .out=2, .src=S_RING_DRY, .len=300, .pad=100, .frames=-1, .blocks="7 1 256", EXP(COMPLETE, 400, 300, 0, 0, 0) },
    { "autoframes: frames written later are never read", .out=2, .src=S_RING_EOF, .len=10000, .cap=1024, .feed=200, .pad=100, .frames=-1, EXP(COMPLETE, 300, 200, 0, 0, 0) },
    { "script's ring dry, pad<0, frames 1000: silence to frames", .out=2, .src=S_RING_DRY, .len=300, .pad=-1, .frames=1000, EXP(COMPLETE, 1000, 300, 0, 0, 0) },
    { "script's ring dry before frames, pad>=0: BufferEmpty", .out=2, .src=S_RING_DRY, .len=300, .pad=50, .frames=1000, EXP(EMPTY, 300, 300, 0, 0, 0) },
    { "script's ring, frames 256, pad 512, duplex, offset 64", .in=2, .out=2, .src=S_RING_DRY, .len=256, .pad=512, .offset=64, .sink=K_RING, .slen=1024, .frames=256, .blocks="100 7", EXP(COMPLETE, 768, 256, 704, 0, 0) },
    { "keep-alive (frames<0, pad<0): a dry ring plays silence, tx_lost", .out=2, .src=S_RING_DRY, .len=300, .pad=-1, .frames=-1, .calls=10, EXP(RUNNING, 2560, 300, 0, 2260, 0) },
    { "ring dry + FILL_GAPS: silence, tx_lost, on to frames", .out=2, .src=S_RING_DRY, .len=300, .frames=1000, .flags=FILL, EXP(COMPLETE, 1000, 300, 0, 700, 0) },
    { "FILL_GAPS, slow producer (100/call), eof at the end", .out=2, .src=S_RING_EOF, .len=1000, .feed=100, .frames=-1, .flags=FILL, EXP(COMPLETE, 2404, 1000, 0, 1404, 0) },
    { "FILL_GAPS, empty ring, no eof: forever", .out=2, .src=S_RING_DRY, .len=0, .frames=-1, .flags=FILL, .calls=10, EXP(RUNNING, 2560, 0, 0, 2560, 0) },
    { "ring wraps (capacity 256, blocks 100 37 200 1)", .out=2, .src=S_RING_EOF, .len=3000, .cap=256, .frames=-1, .blocks="100 37 200 1", EXP(COMPLETE, 3000, 3000, 0, 0, 0) },
    { "ring + txmap swap", .out=2, .src=S_RING_EOF, .len=500, .cap=128, .txmap="2 1", .frames=-1, .blocks="100 7", EXP(COMPLETE, 500, 500, 0, 0, 0) },
    { "ring source ignores loop (its producer loops)", .out=2, .src=S_RING_EOF, .len=300, .loop=1, .frames=-1, EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "block larger than the tx ring: underrun after its capacity", .out=2, .src=S_RING_EOF, .len=3000, .cap=256, .frames=-1, .blocks="1000", .flags=UNTIL, EXP(EMPTY, 256, 256, 0, 0, 0) },
    { "FILL_GAPS: ring eof ending before frames is still BufferEmpty", .out=2, .src=S_RING_EOF, .len=300, .frames=1000, .flags=FILL, EXP(EMPTY, 300, 300, 0, 0, 0) },
    { "FILL_GAPS: flat source ending before frames is still BufferEmpty", .out=2, .src=S_FLAT, .len=300, .frames=1000, .flags=FILL, EXP(EMPTY, 300, 300, 0, 0, 0) },
    /* ---- transmit maps and formats */
    { "txmap swap 2->2", .out=2, .src=S_FLAT, .len=300, .txmap="2 1", .frames=-1, .blocks="7 256", EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "txmap duplicate: mono source on both outputs", .out=2, .txch=1, .src=S_FLAT, .len=300, .txmap="1 1", .frames=-1, EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "txmap 0 silences an output", .out=2, .src=S_FLAT, .len=300, .txmap="0 2", .frames=-1, EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "mono source, NULL map: first output only", .out=2, .txch=1, .src=S_FLAT, .len=300, .frames=-1, EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "downmix: 4-ch source, outputs get 4 and 2", .out=2, .txch=4, .src=S_FLAT, .len=300, .txmap="4 2", .frames=-1, .blocks="7 1", EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "upmix: stereo source on a 4-ch device (2 0 0 1)", .out=4, .txch=2, .src=S_FLAT, .len=300, .txmap="2 0 0 1", .frames=-1, EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "4-ch source, NULL map: outputs get channels 1 and 2", .out=2, .txch=4, .src=S_FLAT, .len=300, .frames=-1, .blocks="7 1 256", EXP(COMPLETE, 300, 300, 0, 0, 0) },
    { "int16 txmap swap, blocks 7 1", .out=2, .fout=PS_INT16, .src=S_FLAT, .len=301, .txmap="2 1", .frames=-1, .blocks="7 1", EXP(COMPLETE, 301, 301, 0, 0, 0) },
    { "int24 mono duplicated, looped length 13", .out=2, .fout=PS_INT24, .txch=1, .src=S_FLAT, .len=13, .loop=1, .txmap="1 1", .frames=1000, .blocks="7 256", EXP(COMPLETE, 1000, 1000, 0, 0, 0) },
    { "int24 stereo identity (3-byte frames)", .out=2, .fout=PS_INT24, .src=S_FLAT, .len=777, .frames=-1, .blocks="7 1 256", EXP(COMPLETE, 777, 777, 0, 0, 0) },
    { "uint8: map 0 and pad play 0x80", .out=2, .fout=PS_UINT8, .txch=1, .src=S_FLAT, .len=100, .pad=20, .txmap="0 1", .frames=-1, EXP(COMPLETE, 120, 100, 0, 0, 0) },
    { "uint8 ring dry: silence after the end is 0x80", .out=1, .fout=PS_UINT8, .src=S_RING_DRY, .len=99, .frames=-1, .blocks="64", .flags=UNTIL, EXP(EMPTY, 99, 99, 0, 0, 0) },
    { "int8 identity, pad<0 to frames", .out=2, .fout=PS_INT8, .src=S_FLAT, .len=50, .pad=-1, .frames=333, .blocks="100", EXP(COMPLETE, 333, 50, 0, 0, 0) },
    { "mono float32 identity (one word a frame), ring wraps", .out=1, .src=S_RING_EOF, .len=3000, .cap=256, .frames=-1, .blocks="7 1 100 255", EXP(COMPLETE, 3000, 3000, 0, 0, 0) },
    { "3-ch float32 identity (three words a frame), ring wraps", .out=3, .src=S_RING_EOF, .len=1000, .cap=128, .frames=-1, .blocks="7 100 33", EXP(COMPLETE, 1000, 1000, 0, 0, 0) },
    { "int16 stereo identity (one word a frame), blocks 7 1 256", .out=2, .fout=PS_INT16, .src=S_FLAT, .len=301, .frames=-1, .blocks="7 1 256", EXP(COMPLETE, 301, 301, 0, 0, 0) },
    { "int32 3-ch source on 2 outputs, ring", .out=2, .fout=PS_INT32, .txch=3, .src=S_RING_EOF, .len=400, .txmap="3 2", .frames=-1, .blocks="1000", EXP(COMPLETE, 400, 400, 0, 0, 0) },
    /* ---- receive side (input only) */
    { "input only into a flat rxbuf, frames 1000", .in=2, .sink=K_FLAT, .slen=1000, .frames=1000, EXP(COMPLETE, 1000, 0, 1000, 0, 0) },
    { "offset smaller than a block", .in=2, .sink=K_FLAT, .slen=900, .offset=100, .frames=1000, EXP(COMPLETE, 1000, 0, 900, 0, 0) },
    { "offset larger than a block", .in=2, .sink=K_FLAT, .slen=1400, .offset=600, .frames=2000, .blocks="256 7", EXP(COMPLETE, 2000, 0, 1400, 0, 0) },
    { "offset larger than frames: nothing recorded", .in=2, .sink=K_FLAT, .slen=10, .offset=1500, .frames=1000, EXP(COMPLETE, 1000, 0, 0, 0, 0) },
    { "offset equal to frames", .in=2, .sink=K_RING, .slen=1024, .offset=1000, .frames=1000, EXP(COMPLETE, 1000, 0, 0, 0, 0) },
    { "input only, frames<0, drained ring: forever", .in=2, .sink=K_RING, .slen=1024, .frames=-1, .calls=30, EXP(RUNNING, 7680, 0, 7680, 0, 0) },
    { "rx ring full: BufferFull, frames up to capacity kept", .in=2, .sink=K_RING, .slen=512, .drain=100, .frames=-1, EXP(FULL, 768, 0, 712, 0, 0) },
    { "rx ring full + FILL_GAPS: rx_lost, on to frames", .in=2, .sink=K_RING, .slen=512, .drain=100, .frames=2000, .flags=FILL, EXP(COMPLETE, 2000, 0, 1212, 0, 788) },
    { "rx ring never drained: full exactly, then BufferFull", .in=1, .sink=K_RING, .slen=512, .drain=-1, .frames=-1, EXP(FULL, 768, 0, 512, 0, 0) },
    { "flat rxbuf shorter than the stream: BufferFull", .in=2, .sink=K_FLAT, .slen=600, .frames=-1, EXP(FULL, 768, 0, 600, 0, 0) },
    { "flat rxbuf too short + FILL_GAPS: rx_lost", .in=2, .sink=K_FLAT, .slen=600, .frames=1000, .flags=FILL, EXP(COMPLETE, 1000, 0, 600, 0, 400) },
    { "rxmap: 4-ch input recorded as 2 channels (3 1)", .in=4, .rxmap="3 1", .sink=K_FLAT, .slen=500, .frames=500, .blocks="7 1 256", EXP(COMPLETE, 500, 0, 500, 0, 0) },
    { "rxmap with 0 and a duplicate (2 2 0)", .in=2, .rxmap="2 2 0", .sink=K_RING, .slen=4096, .frames=700, EXP(COMPLETE, 700, 0, 700, 0, 0) },
    { "rxmap int16 picks input 2", .in=2, .fin=PS_INT16, .rxmap="2", .sink=K_FLAT, .slen=400, .frames=400, .blocks="7", EXP(COMPLETE, 400, 0, 400, 0, 0) },
    { "rxmap int24 (3 1) with offset 5", .in=4, .fin=PS_INT24, .rxmap="3 1", .offset=5, .sink=K_RING, .slen=1024, .frames=300, .blocks="7 1 256", EXP(COMPLETE, 300, 0, 295, 0, 0) },
    { "rxmap uint8 (0 1): map 0 records 0x80", .in=2, .fin=PS_UINT8, .rxmap="0 1", .sink=K_FLAT, .slen=300, .frames=300, EXP(COMPLETE, 300, 0, 300, 0, 0) },
    { "rx ring wraps, blocks 7 1 100 255", .in=1, .sink=K_RING, .slen=256, .frames=3000, .blocks="7 1 100 255", EXP(COMPLETE, 3000, 0, 3000, 0, 0) },
    { "input only, no sink: input discarded, runs to frames", .in=2, .sink=K_NONE, .frames=500, EXP(COMPLETE, 500, 0, 0, 0, 0) },
    { "int16 identity into a small ring, offset 3, blocks 1", .in=2, .fin=PS_INT16, .offset=3, .sink=K_RING, .slen=64, .frames=50, .blocks="1", EXP(COMPLETE, 50, 0, 47, 0, 0) },
    { "frames=0, input only: nothing recorded", .in=2, .sink=K_FLAT, .slen=10, .frames=0, EXP(COMPLETE, 0, 0, 0, 0, 0) },
    { "flat rxbuf filled exactly (offset 10, frames 510)", .in=2, .sink=K_FLAT, .slen=500, .offset=10, .frames=510, .blocks="7 1 256", EXP(COMPLETE, 510, 0, 500, 0, 0) },
    { "input NULL, offset, ring wraps: silence recorded", .in=2, .in_null=1, .offset=9, .sink=K_RING, .slen=128, .frames=1000, .blocks="100 7", EXP(COMPLETE, 1000, 0, 991, 0, 0) },
    /* ---- duplex */
    { "duplex playrec flat->flat, offset 100", .in=2, .out=2, .src=S_FLAT, .len=1000, .offset=100, .sink=K_FLAT, .slen=900, .frames=1000, EXP(COMPLETE, 1000, 1000, 900, 0, 0) },
    { "duplex: playback ends before frames, recording stops there", .in=2, .out=2, .src=S_FLAT, .len=300, .sink=K_FLAT, .slen=1000, .frames=1000, EXP(EMPTY, 300, 300, 300, 0, 0) },
    { "duplex frames<0: stream = source + pad", .in=2, .out=2, .src=S_FLAT, .len=300, .pad=50, .sink=K_FLAT, .slen=1000, .frames=-1, .blocks="7 1 256", EXP(COMPLETE, 350, 300, 350, 0, 0) },
    { "duplex: tx ring dry stops the recording at the same frame", .in=2, .out=2, .src=S_RING_DRY, .len=300, .sink=K_RING, .slen=4096, .frames=-1, .flags=UNTIL, EXP(EMPTY, 300, 300, 300, 0, 0) },
    { "duplex with input NULL: records silence", .in=2, .out=2, .src=S_FLAT, .len=500, .in_null=1, .sink=K_FLAT, .slen=500, .frames=-1, EXP(COMPLETE, 500, 500, 500, 0, 0) },
    { "duplex input NULL, rxmap 2 1, uint8: records 0x80", .in=2, .out=2, .fin=PS_UINT8, .fout=PS_UINT8, .src=S_FLAT, .len=200, .rxmap="2 1", .in_null=1, .sink=K_RING, .slen=1024, .frames=-1, .blocks="7 100", EXP(COMPLETE, 200, 200, 200, 0, 0) },
    { "duplex: rx full and tx dry in one block: BufferFull", .in=2, .out=2, .src=S_RING_DRY, .len=300, .sink=K_FLAT, .slen=280, .frames=-1, .flags=UNTIL, EXP(FULL, 300, 300, 280, 0, 0) },
    { "duplex int16 in / int24 out, maps both ways, pad, offset", .in=4, .out=2, .fin=PS_INT16, .fout=PS_INT24, .txch=3, .src=S_FLAT, .len=250, .pad=30, .offset=17, .txmap="3 1", .rxmap="4 2 1", .sink=K_FLAT, .slen=263, .frames=-1, .blocks="7 1 256 1000", EXP(COMPLETE, 280, 250, 263, 0, 0) },
    { "duplex loop + offset > block + frames", .in=2, .out=2, .src=S_FLAT, .len=100, .loop=1, .offset=300, .sink=K_RING, .slen=2048, .frames=1000, .blocks="256 7", EXP(COMPLETE, 1000, 1000, 700, 0, 0) },
    { "duplex, no playback source: silent output, records", .in=2, .out=2, .src=S_NONE, .sink=K_FLAT, .slen=500, .frames=500, EXP(COMPLETE, 500, 0, 500, 0, 0) },
    { "duplex mono in, stereo out, FILL_GAPS both ways", .in=1, .out=2, .src=S_RING_DRY, .len=100, .sink=K_FLAT, .slen=200, .flags=FILL, .frames=600, EXP(COMPLETE, 600, 100, 200, 500, 400) },
    /* ---- xruns */
    { "all four xrun kinds in one call, not fatal: counted, continue", .in=2, .out=2, .src=S_FLAT, .len=2000, .sink=K_FLAT, .slen=1000, .frames=1000, .xcall=1, .xflags=XALL, EXP(COMPLETE, 1000, 1000, 1000, 0, 0) },
    { "xruns on every call, not fatal", .out=2, .src=S_FLAT, .len=1000, .frames=-1, .xevery=1, .xflags=paInputOverflow | paOutputUnderflow, EXP(COMPLETE, 1000, 1000, 0, 0, 0) },
    { "input underflow only, not fatal", .in=2, .sink=K_RING, .slen=4096, .frames=100, .blocks="7", .xcall=5, .xflags=paInputUnderflow, EXP(COMPLETE, 100, 0, 100, 0, 0) },
    { "output overflow only, not fatal", .out=2, .src=S_FLAT, .len=100, .frames=-1, .blocks="7", .xcall=3, .xflags=paOutputOverflow, EXP(COMPLETE, 100, 100, 0, 0, 0) },
    { "fatal: paPrimingOutput is not an xrun", .out=2, .src=S_FLAT, .len=1000, .frames=-1, .fatal=1, .xevery=1, .xflags=paPrimingOutput, EXP(COMPLETE, 1000, 1000, 0, 0, 0) },
    { "fatal: input underflow on call 2: XRun at 512, silenced", .in=2, .out=2, .src=S_FLAT, .len=2000, .sink=K_FLAT, .slen=2000, .frames=-1, .fatal=1, .xcall=2, .xflags=paInputUnderflow, EXP(XRUN, 512, 512, 512, 0, 0) },
    { "fatal: output overflow on the first call: XRun at 0", .out=2, .src=S_FLAT, .len=1000, .frames=-1, .fatal=1, .xcall=0, .xflags=paOutputOverflow, EXP(XRUN, 0, 0, 0, 0, 0) },
    { "fatal set, no xrun: runs normally", .out=2, .src=S_FLAT, .len=1000, .frames=-1, .fatal=1, EXP(COMPLETE, 1000, 1000, 0, 0, 0) },
    { "fatal: input overflow, input only", .in=2, .sink=K_RING, .slen=4096, .frames=-1, .blocks="7", .fatal=1, .xcall=3, .xflags=paInputOverflow, EXP(XRUN, 21, 0, 21, 0, 0) },
    { "fatal: output underflow on the call that would complete", .out=2, .src=S_FLAT, .len=300, .frames=300, .fatal=1, .xcall=1, .xflags=paOutputUnderflow, EXP(XRUN, 256, 256, 0, 0, 0) },
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- sample values ------------------------------------------------------- */

enum { DIR_SRC, DIR_IN };

static unsigned char silence_of(ps_format f) { return f == PS_UINT8 ? 0x80 : 0; }

/* Write the sample with counting value u (>= 1) of direction dir: never
 * silence, distinct between directions, unique (mod the format's range). */
static void encode(ps_format f, int dir, int64_t u, unsigned char *p)
{
    int sign = dir == DIR_SRC ? 1 : -1;
    switch (f) {
    case PS_FLOAT32: { float v = (float)(sign * u); memcpy(p, &v, 4); break; }
    case PS_INT32:   { int32_t v = (int32_t)(sign * u); memcpy(p, &v, 4); break; }
    case PS_INT24:   { int32_t v = sign * (int32_t)(u % 8000000 + 1);
                       p[0] = (unsigned char)(v & 0xff); p[1] = (unsigned char)((v >> 8) & 0xff);
                       p[2] = (unsigned char)((v >> 16) & 0xff); break; }
    case PS_INT16:   { int16_t v = (int16_t)(sign * (int)(u % 32000 + 1)); memcpy(p, &v, 2); break; }
    case PS_INT8:    { int8_t v = (int8_t)(sign * (int)(u % 127 + 1)); memcpy(p, &v, 1); break; }
    case PS_UINT8:   p[0] = (unsigned char)(dir == DIR_SRC ? 1 + u % 127 : 129 + u % 127); break;
    default: break;
    }
}

static int parse_list(const char *s, int *v, int max)
{
    int n = 0;
    while (s && *s && n < max) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s)
            break;
        v[n++] = (int)x;
        s = end;
    }
    return n;
}

/* ---- derived configuration ----------------------------------------------- */

typedef struct cfg {
    int txch, rxch;
    int txmap[PS_MAXCH], rxmap[PS_MAXCH];
    int blocks[16], nblocks, budget, cap;
    size_t in_ss, out_ss, in_fb, out_fb, tx_fb, rx_fb;
} cfg;

static void derive(const tcase *c, cfg *g)
{
    memset(g, 0, sizeof *g);
    g->txch = c->txch ? c->txch : c->out;
    if (c->txmap)
        parse_list(c->txmap, g->txmap, PS_MAXCH);
    else
        for (int k = 0; k < c->out; k++)
            g->txmap[k] = k < g->txch ? k + 1 : 0;   /* identity; extra outputs silent */
    if (c->rxmap)
        g->rxch = parse_list(c->rxmap, g->rxmap, PS_MAXCH);
    else {
        g->rxch = c->in;
        for (int k = 0; k < c->in; k++)
            g->rxmap[k] = k + 1;
    }
    g->nblocks = parse_list(c->blocks ? c->blocks : "256", g->blocks, 16);
    g->budget = c->calls ? c->calls : 3000;
    g->cap = c->cap ? c->cap : 4096;
    g->in_ss = ps_format_size(c->fin);
    g->out_ss = ps_format_size(c->fout);
    g->in_fb = (size_t)c->in * g->in_ss;
    g->out_fb = (size_t)c->out * g->out_ss;
    g->tx_fb = (size_t)g->txch * g->out_ss;
    g->rx_fb = (size_t)g->rxch * g->in_ss;
}

static unsigned long xflags_for(const tcase *c, int call)
{
    return (c->xevery || call == c->xcall) ? c->xflags : 0;
}

/* ---- the reference model ------------------------------------------------- *
 * Written from the contract, frame by frame:
 *  - stream frame t is device frame t of the run (every call before the end
 *    runs all its frames);
 *  - the run is frames + pad long when both are >= 0, frames long when
 *    only frames is, unbounded otherwise; it stops at that t (in the call
 *    that gets there);
 *  - each stream frame needs a playback frame: from the source (a flat buffer,
 *    restarting at its end with loop; a ring, in order) for at most frames
 *    stream frames, then, once the source has ended (flat: its end; ring:
 *    empty after eof, or empty at all when its producer announces no eof),
 *    pad silence frames (pad < 0: forever); a source that ends before
 *    frames with pad >= 0 is BufferEmpty there; a ring that is empty before
 *    its announced eof (UNTIL) is an underrun (BufferEmpty), or a silence
 *    frame counted in tx_lost with PS_FILL_GAPS or keep-alive (frames < 0
 *    and pad < 0); no playback frame left: the stream ends there (COMPLETE);
 *    no source at all: silence;
 *  - each stream frame t >= offset is recorded through the rx map (silence
 *    for input NULL); a full sink drops it: rx_lost with PS_FILL_GAPS, else
 *    BufferFull at the end of the call's played frames;
 *  - output frames after the end are silence; a fatal xrun silences the
 *    whole call and ends at the call's first frame;
 *  - the end is discovered when a frame past it is needed (a source that
 *    ends on a block boundary completes in the next call, with 0 frames). */
typedef struct model {
    int ncalls;
    int *ret;
    int64_t *fc;                  /* frame_count after each call */
    unsigned char *out;           /* every call's output, concatenated */
    size_t out_frames;
    unsigned char *rec;           /* the recorded stream */
    int64_t nrec;
    int status;
    int64_t at, tx, txlost, rxlost;
    uint32_t xr[PS_NXRUN];
} model;

static void model_free(model *m)
{
    free(m->ret); free(m->fc); free(m->out); free(m->rec);
}

static void model_run(const tcase *c, const cfg *g, model *m)
{
    memset(m, 0, sizeof *m);
    m->ret = calloc((size_t)g->budget, sizeof *m->ret);
    m->fc = calloc((size_t)g->budget, sizeof *m->fc);
    size_t total = 0;
    for (int i = 0; i < g->budget; i++)
        total += (size_t)g->blocks[i % g->nblocks];
    m->out = malloc(total * g->out_fb + 1);
    m->rec = malloc(total * g->rx_fb + 1);

    int64_t t = 0, spos = 0, written = 0, fill = 0, rxfill = 0, pad_left = c->pad;
    /* the run: frames of the source phase, then pad (pastream's frames) */
    int64_t run_len = c->frames >= 0 && c->pad >= 0 ? c->frames + c->pad : c->frames;
    int64_t sphase = 0;                  /* stream frames of the source phase */
    bool eof = false, src_done = false, ended = false;
    unsigned char sil_out = silence_of(c->fout), sil_in = silence_of(c->fin);
    static const unsigned long kinds[PS_NXRUN] = {
        paInputUnderflow, paInputOverflow, paOutputUnderflow, paOutputOverflow };
    m->status = PS_RUNNING;

    for (int i = 0; i < g->budget && !ended; i++) {
        size_t n = (size_t)g->blocks[i % g->nblocks], j;
        unsigned char *o = m->out + m->out_frames * g->out_fb;
        int64_t D = t;                       /* device frame of this call's first frame */
        m->out_frames += n;
        m->ncalls = i + 1;
        if (c->src == S_RING_EOF || c->src == S_RING_DRY) {   /* the producer */
            int64_t w = g->cap - fill;
            if (c->feed && w > c->feed) w = c->feed;
            if (w > c->len - written) w = c->len - written;
            written += w;
            fill += w;
            if (c->src == S_RING_EOF && written == c->len)
                eof = true;
        }
        unsigned long xf = xflags_for(c, i);
        bool xrun = false;
        for (int k = 0; k < PS_NXRUN; k++)
            if (xf & kinds[k]) { m->xr[k]++; xrun = true; }
        if (xrun && c->fatal) {
            memset(o, sil_out, n * g->out_fb);
            m->status = PS_XRUN; m->at = t; m->ret[i] = paAbort; m->fc[i] = t;
            ended = true;
            break;
        }
        enum { R_NONE, R_END, R_UNDERRUN, R_SHORT } why = R_NONE;
        bool rxfull = false;
        for (j = 0; j < n; j++) {
            if (run_len >= 0 && t >= run_len)
                break;
            if (c->out) {
                /* the next playback frame: s >= 0 source frame, -1 silence */
                int64_t s = -1;
                if (c->src == S_NONE) {
                    s = -1;
                } else {
                    bool have = false;
                    if (!src_done && c->frames >= 0 && sphase >= c->frames)
                        src_done = true;         /* frames played: on to the pad */
                    else if (!src_done) {
                        if (c->src == S_FLAT) {
                            if (c->len > 0 && (c->loop || spos < c->len)) {
                                s = spos % c->len; spos++; m->tx++; have = true;
                            } else
                                src_done = true;
                        } else if (fill > 0) {
                            s = spos++; fill--; m->tx++; have = true;
                        } else if (eof) {
                            src_done = true;
                        } else if ((c->flags & PS_FILL_GAPS) || (c->frames < 0 && c->pad < 0)) {
                            s = -1; m->txlost++; have = true;   /* gap filled; keep-alive */
                        } else if (!(c->flags & PS_UNTIL_EOF)) {
                            src_done = true;     /* dry: the end, as in pastream */
                        } else {
                            why = R_UNDERRUN;
                            break;
                        }
                        if (have)
                            sphase++;
                        else if (c->frames >= 0 && c->pad >= 0) {
                            why = R_SHORT;       /* the source ended before frames */
                            break;
                        }
                    }
                    if (!have) {
                        if (c->pad < 0)
                            s = -1;
                        else if (pad_left > 0) {
                            pad_left--; s = -1;
                        } else {
                            why = R_END;
                            break;
                        }
                    }
                }
                unsigned char *f = o + j * g->out_fb;
                for (int k = 0; k < c->out; k++) {
                    int ch = g->txmap[k];
                    if (s < 0 || ch == 0)
                        memset(f + (size_t)k * g->out_ss, sil_out, g->out_ss);
                    else
                        encode(c->fout, DIR_SRC, s * g->txch + ch, f + (size_t)k * g->out_ss);
                }
            }
            if (c->in && t >= c->offset && c->sink != K_NONE) {
                int64_t room = c->sink == K_FLAT ? c->slen - m->nrec : c->slen - rxfill;
                if (!rxfull && room > 0) {
                    unsigned char *r = m->rec + (size_t)m->nrec * g->rx_fb;
                    for (int k = 0; k < g->rxch; k++) {
                        int ch = g->rxmap[k];
                        if (c->in_null || ch == 0)
                            memset(r + (size_t)k * g->in_ss, sil_in, g->in_ss);
                        else
                            encode(c->fin, DIR_IN, (D + (int64_t)j) * c->in + ch, r + (size_t)k * g->in_ss);
                    }
                    m->nrec++;
                    rxfill++;
                } else if (c->flags & PS_FILL_GAPS)
                    m->rxlost++;
                else
                    rxfull = true;
            }
            t++;
        }
        for (; j < n; j++)
            memset(o + j * g->out_fb, sil_out, g->out_fb);
        m->fc[i] = t;
        m->ret[i] = paContinue;
        if (rxfull) {
            m->status = PS_BUFFER_FULL; m->ret[i] = paAbort;
        } else if (why == R_UNDERRUN || why == R_SHORT) {
            m->status = PS_BUFFER_EMPTY; m->ret[i] = paAbort;
        } else if (why == R_END) {
            m->status = c->frames >= 0 ? PS_BUFFER_EMPTY : PS_COMPLETE;
            m->ret[i] = c->frames >= 0 ? paAbort : paComplete;
        } else if (run_len >= 0 && t >= run_len) {
            m->status = PS_COMPLETE; m->ret[i] = paComplete;
        }
        m->at = t;
        ended = m->ret[i] != paContinue;
        if (c->sink == K_RING) {                /* the consumer */
            int64_t d = c->drain == 0 ? rxfill : c->drain < 0 ? 0 : c->drain;
            rxfill -= d < rxfill ? d : rxfill;
        }
    }
}

/* ---- driving the engine -------------------------------------------------- */

#define GUARD 64
#define GUARD_BYTE 0xA5

typedef struct rig {
    ps_engine e;
    ps_ring txring, rxring;
    void *txmem, *rxmem;
    unsigned char *src, *src_copy;      /* the source's frames */
    unsigned char *rxbuf;               /* flat sink with guards around it */
    size_t rxbuf_bytes;
} rig;

/* Mismatch accounting: count, and keep the first one's description. */
typedef struct tally {
    long n;
    char first[200];
} tally;

static void note(tally *t, const char *fmt, ...)
{
    if (t->n++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->first, sizeof t->first, fmt, ap);
        va_end(ap);
    }
}

#define CHECK_TALLY(t, ...) do {                                            \
    CHECK((t).n == 0, __VA_ARGS__);                                        \
    if ((t).n) printf("#   %ld mismatches; first: %s\n", (t).n, (t).first); \
} while (0)

static bool all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static int setup(const tcase *c, const cfg *g, rig *r)
{
    memset(r, 0, sizeof *r);
    ps_engine *e = &r->e;
    ps_engine_init(e);
    int err = 0;
    if (c->in)
        err |= ps_engine_set_input(e, c->in, c->fin);
    if (c->out) {
        err |= ps_engine_set_output(e, c->out, c->fout);
        err |= ps_engine_set_txmap(e, g->txch, c->txmap ? g->txmap : NULL);
    }
    if (c->in && c->rxmap)
        err |= ps_engine_set_rxmap(e, g->rxch, g->rxmap);
    e->frames = c->frames;
    e->pad = c->pad;
    e->offset = c->offset;
    e->loop = c->loop;
    e->fatal_xruns = c->fatal;
    e->flags = c->flags;

    size_t sbytes = (size_t)c->len * g->tx_fb;
    r->src = malloc(sbytes + 1);
    r->src_copy = malloc(sbytes + 1);
    for (int64_t s = 0; s < c->len; s++)
        for (int ch = 0; ch < g->txch; ch++)
            encode(c->fout, DIR_SRC, s * g->txch + ch + 1,
                   r->src + (size_t)s * g->tx_fb + (size_t)ch * g->out_ss);
    memcpy(r->src_copy, r->src, sbytes);
    if (c->src == S_FLAT) {
        e->txbuf = r->src;
        e->txbuf_frames = c->len;
    } else if (c->src == S_RING_EOF || c->src == S_RING_DRY) {
        r->txmem = malloc(ps_ring_bytes(g->tx_fb, (size_t)g->cap));
        err |= ps_ring_init(&r->txring, r->txmem, g->tx_fb, (size_t)g->cap);
        e->txring = &r->txring;
    }
    if (c->sink == K_FLAT) {
        r->rxbuf_bytes = (size_t)c->slen * g->rx_fb;
        r->rxbuf = malloc(r->rxbuf_bytes + 2 * GUARD);
        e->rxbuf = r->rxbuf + GUARD;
        e->rxbuf_frames = c->slen;
    } else if (c->sink == K_RING) {
        r->rxmem = malloc(ps_ring_bytes(g->rx_fb, (size_t)c->slen));
        err |= ps_ring_init(&r->rxring, r->rxmem, g->rx_fb, (size_t)c->slen);
        e->rxring = &r->rxring;
    }
    return err;
}

static void teardown(rig *r)
{
    free(r->src); free(r->src_copy); free(r->txmem); free(r->rxmem); free(r->rxbuf);
}

/* One run of a case on an armed engine, checked against the model. */
static void drive(const tcase *c, const cfg *g, rig *r, const model *m, int idx, int run)
{
    ps_engine *e = &r->e;
    tally t_ret = {0}, t_fc = {0}, t_out = {0}, t_in = {0}, t_guard = {0}, t_post = {0};
    size_t maxblock = 0;
    for (int i = 0; i < g->nblocks; i++)
        if ((size_t)g->blocks[i] > maxblock)
            maxblock = (size_t)g->blocks[i];
    size_t obytes = maxblock * g->out_fb, ibytes = maxblock * g->in_fb;
    unsigned char *obuf = malloc(obytes + 2 * GUARD);
    unsigned char *ibuf = malloc(ibytes + 1), *icopy = malloc(ibytes + 1);
    size_t rec_cap = (size_t)m->nrec + 16, rec_n = 0;
    for (int i = 0; i < m->ncalls + 2; i++)
        rec_cap += (size_t)g->blocks[i % g->nblocks];
    unsigned char *rec = malloc(rec_cap * g->rx_fb + 1);
    int64_t written = 0, dev = 0;
    size_t out_at = 0;                    /* frames of model output compared so far */
    int calls = 0, ret = paContinue;

    if (r->rxbuf)
        memset(r->rxbuf, GUARD_BYTE, r->rxbuf_bytes + 2 * GUARD);

    for (int i = 0; i < m->ncalls; i++) {
        size_t n = (size_t)g->blocks[i % g->nblocks];
        /* the producer, before the call */
        if (e->txring) {
            size_t w = ps_ring_write_available(e->txring);
            if (c->feed && w > (size_t)c->feed) w = (size_t)c->feed;
            if (w > (size_t)(c->len - written)) w = (size_t)(c->len - written);
            written += (int64_t)ps_ring_write(e->txring, r->src + (size_t)written * g->tx_fb, w);
            if (c->src == S_RING_EOF && written == c->len)
                atomic_store_explicit(&e->tx_eof, true, memory_order_release);
        }
        /* device input: counting values; a saved copy to prove it is not written */
        for (size_t j = 0; j < n; j++)
            for (int ch = 0; ch < c->in; ch++)
                encode(c->fin, DIR_IN, (dev + (int64_t)j) * c->in + ch + 1,
                       ibuf + j * g->in_fb + (size_t)ch * g->in_ss);
        memcpy(icopy, ibuf, n * g->in_fb);
        memset(obuf, GUARD_BYTE, obytes + 2 * GUARD);
        const void *in = c->in && !c->in_null ? (const void *)ibuf : NULL;
        void *out = c->out ? obuf + GUARD : NULL;

        ret = ps_engine_callback(in, out, n, NULL, xflags_for(c, i), e);
        calls++;

        if (memcmp(ibuf, icopy, n * g->in_fb) != 0)
            note(&t_in, "call %d wrote into the input buffer", i);
        if (!all_bytes(obuf, GUARD, GUARD_BYTE) ||
            !all_bytes(obuf + GUARD + n * g->out_fb, obytes - n * g->out_fb + GUARD, GUARD_BYTE))
            note(&t_guard, "call %d wrote outside the output block", i);
        if (c->out) {
            const unsigned char *want = m->out + out_at * g->out_fb, *got = obuf + GUARD;
            for (size_t b = 0; b < n * g->out_fb; b++)
                if (got[b] != want[b]) {
                    size_t f = b / g->out_fb;
                    note(&t_out, "call %d (nframes %zu), stream frame %lld, channel %zu, byte %zu: got %02x want %02x",
                         i, n, (long long)(dev + (int64_t)f), (b % g->out_fb) / g->out_ss,
                         b % g->out_ss, got[b], want[b]);
                    break;
                }
        }
        out_at += n;
        if (ret != m->ret[i])
            note(&t_ret, "call %d returned %d, want %d", i, ret, m->ret[i]);
        int64_t fc = atomic_load(&e->frame_count);
        if (fc != m->fc[i])
            note(&t_fc, "after call %d frame_count %lld, want %lld", i, (long long)fc, (long long)m->fc[i]);
        /* the consumer, after the call */
        if (e->rxring) {
            size_t a = ps_ring_read_available(e->rxring);
            size_t d = c->drain == 0 ? a : c->drain < 0 ? 0 : (size_t)c->drain;
            if (d > a) d = a;
            if (rec_n + d > rec_cap) d = rec_cap - rec_n;
            rec_n += ps_ring_read(e->rxring, rec + rec_n * g->rx_fb, d);
        }
        dev += (int64_t)n;
        if (ret != paContinue)
            break;
    }
    CHECK_EQ(calls, m->ncalls, "[%d.%d] number of callbacks until the end", idx, run);
    CHECK_TALLY(t_ret, "[%d.%d] return code of every call", idx, run);
    CHECK_TALLY(t_fc, "[%d.%d] frame_count after every call", idx, run);
    if (c->out)
        CHECK_TALLY(t_out, "[%d.%d] every output sample (source, maps, pad, silence after the end)", idx, run);
    if (c->in)
        CHECK_TALLY(t_in, "[%d.%d] the input buffer is never written", idx, run);
    CHECK_TALLY(t_guard, "[%d.%d] nothing written outside the output block", idx, run);

    int st = atomic_load(&e->status);
    int64_t sf = atomic_load(&e->status_frame), fc = atomic_load(&e->frame_count);
    CHECK_EQ(st, c->st, "[%d.%d] final status %s", idx, run, ps_status_name((ps_status)c->st));
    if (c->st != PS_RUNNING)
        CHECK_EQ(sf, c->at, "[%d.%d] status_frame", idx, run);
    CHECK_EQ(fc, c->at, "[%d.%d] frame_count", idx, run);
    CHECK_EQ(atomic_load(&e->tx_frames), c->tx, "[%d.%d] tx_frames", idx, run);
    CHECK_EQ(atomic_load(&e->rx_frames), c->rec, "[%d.%d] rx_frames", idx, run);
    CHECK_EQ(atomic_load(&e->tx_lost), c->txlost, "[%d.%d] tx_lost", idx, run);
    CHECK_EQ(atomic_load(&e->rx_lost), c->rxlost, "[%d.%d] rx_lost", idx, run);
    CHECK(atomic_load(&e->xruns[0]) == m->xr[0] && atomic_load(&e->xruns[1]) == m->xr[1] &&
          atomic_load(&e->xruns[2]) == m->xr[2] && atomic_load(&e->xruns[3]) == m->xr[3],
          "[%d.%d] xrun counters per kind (%u %u %u %u)", idx, run,
          m->xr[0], m->xr[1], m->xr[2], m->xr[3]);

    /* Callbacks after the end: paComplete, silence, nothing consumed,
     * recorded or counted. */
    if (ret != paContinue) {
        size_t txa = e->txring ? ps_ring_read_available(e->txring) : 0;
        size_t rxa = e->rxring ? ps_ring_read_available(e->rxring) : 0;
        int64_t tx0 = atomic_load(&e->tx_frames), rx0 = atomic_load(&e->rx_frames);
        for (int i = 0; i < 2; i++) {
            size_t n = (size_t)g->blocks[(m->ncalls + i) % g->nblocks];
            memset(obuf, GUARD_BYTE, obytes + 2 * GUARD);
            for (size_t b = 0; b < n * g->in_fb; b++)
                ibuf[b] = (unsigned char)(b * 7 + 1);
            memcpy(icopy, ibuf, n * g->in_fb);
            int pr = ps_engine_callback(c->in ? ibuf : NULL, c->out ? obuf + GUARD : NULL, n, NULL, 0, e);
            if (pr != paComplete)
                note(&t_post, "returned %d", pr);
            if (c->out && !all_bytes(obuf + GUARD, n * g->out_fb, silence_of(c->fout)))
                note(&t_post, "output is not silence");
            if (!all_bytes(obuf, GUARD, GUARD_BYTE) ||
                !all_bytes(obuf + GUARD + n * g->out_fb, obytes - n * g->out_fb + GUARD, GUARD_BYTE))
                note(&t_post, "wrote outside the output block");
            if (memcmp(ibuf, icopy, n * g->in_fb) != 0)
                note(&t_post, "wrote into the input");
        }
        if (atomic_load(&e->status) != st || atomic_load(&e->status_frame) != sf ||
            atomic_load(&e->frame_count) != fc || atomic_load(&e->tx_frames) != tx0 ||
            atomic_load(&e->rx_frames) != rx0)
            note(&t_post, "status or counters changed");
        if ((e->txring && ps_ring_read_available(e->txring) != txa) ||
            (e->rxring && ps_ring_read_available(e->rxring) != rxa))
            note(&t_post, "a ring was consumed or filled");
        CHECK_TALLY(t_post, "[%d.%d] callbacks after the end: paComplete, silence, no effect", idx, run);
    }

    /* The recorded stream, byte for byte. */
    if (c->in && c->sink != K_NONE) {
        const unsigned char *got;
        size_t ngot;
        if (e->rxring) {
            rec_n += ps_ring_read(e->rxring, rec + rec_n * g->rx_fb, rec_cap - rec_n);
            got = rec;
            ngot = rec_n;
        } else {
            got = r->rxbuf + GUARD;
            ngot = (size_t)atomic_load(&e->rx_frames);
            if (ngot > (size_t)c->slen) ngot = (size_t)c->slen;
            CHECK(all_bytes(r->rxbuf, GUARD, GUARD_BYTE) &&
                  all_bytes(r->rxbuf + GUARD + r->rxbuf_bytes, GUARD, GUARD_BYTE) &&
                  all_bytes(got + ngot * g->rx_fb, r->rxbuf_bytes - ngot * g->rx_fb, GUARD_BYTE),
                  "[%d.%d] flat rxbuf: nothing written past the recorded frames", idx, run);
        }
        CHECK_EQ(ngot, m->nrec, "[%d.%d] recorded frames", idx, run);
        tally t_rec = {0};
        size_t nb = (ngot < (size_t)m->nrec ? ngot : (size_t)m->nrec) * g->rx_fb;
        for (size_t b = 0; b < nb; b++)
            if (got[b] != m->rec[b]) {
                note(&t_rec, "recorded frame %zu, channel %zu, byte %zu: got %02x want %02x",
                     b / g->rx_fb, (b % g->rx_fb) / g->in_ss, b % g->in_ss, got[b], m->rec[b]);
                break;
            }
        CHECK_TALLY(t_rec, "[%d.%d] every recorded sample (offset, rx map, silence for NULL input)", idx, run);
    }
    if (c->src == S_FLAT)
        CHECK(memcmp(r->src, r->src_copy, (size_t)c->len * g->tx_fb) == 0,
              "[%d.%d] the flat playback buffer is never written", idx, run);
    free(obuf); free(ibuf); free(icopy); free(rec);
}

static void run_case(int idx)
{
    const tcase *c = &cases[idx];
    cfg g;
    model m;
    rig r;
    printf("# case %d: %s\n", idx, c->rule);
    derive(c, &g);
    model_run(c, &g, &m);
    /* The model against the hand-computed expectations: a disagreement is a
     * mistake in the table or the model, not in the engine. */
    bool agree = m.status == c->st && m.at == c->at && m.tx == c->tx && m.nrec == c->rec &&
                 m.txlost == c->txlost && m.rxlost == c->rxlost;
    CHECK(agree, "[%d] model agrees with the table", idx);
    if (!agree)
        printf("#   model: status %d at %lld tx %lld rec %lld txlost %lld rxlost %lld\n", m.status,
               (long long)m.at, (long long)m.tx, (long long)m.nrec, (long long)m.txlost, (long long)m.rxlost);

    CHECK_EQ(setup(c, &g, &r), 0, "[%d] configuration accepted", idx);
    for (int run = 0; run < 2; run++) {
        if (run) {            /* a second run: the producer resets its ring and eof, then arm */
            if (r.e.txring) ps_ring_reset(r.e.txring);
            if (r.e.rxring) ps_ring_reset(r.e.rxring);
            atomic_store(&r.e.tx_eof, false);
        }
        ps_engine_arm(&r.e);
        drive(c, &g, &r, &m, idx, run);
    }
    teardown(&r);
    model_free(&m);
}

/* ---- ps_copy_mapped ------------------------------------------------------ */

static void test_copy_mapped(void)
{
    static const struct { int dst_ch, src_ch, map[4]; } maps[] = {
        { 2, 2, {1, 2} }, { 2, 2, {2, 1} }, { 4, 2, {2, 0, 1, 1} }, { 1, 3, {3} },
        { 3, 1, {0, 1, 0} }, { 1, 1, {1} }, { 2, 4, {4, 3} }, { 2, 2, {0, 0} },
    };
    static const size_t counts[] = { 0, 1, 2, 5, 17 };
    enum { G = 16, MAXB = 17 * 4 * 4 + 8 };
    unsigned char src[MAXB + 8], srccopy[MAXB + 8], dst[MAXB + 2 * G], want[MAXB + 2 * G];

    for (size_t ss = 1; ss <= 4; ss++) {
        for (int si = 0; si < 2; si++) {
            unsigned char sil = si ? 0x80 : 0;
            tally t = {0};
            long tried = 0;
            for (size_t mi = 0; mi < sizeof maps / sizeof maps[0]; mi++)
            for (size_t da = 0; da < 4; da++)
            for (size_t sa = 0; sa < 4; sa++)
            for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
                int dch = maps[mi].dst_ch, sch = maps[mi].src_ch;
                size_t nf = counts[ci];
                for (size_t b = 0; b < sizeof src; b++)
                    src[b] = (unsigned char)(1 + (b * 37) % 126);   /* never 0 or 0x80 */
                memcpy(srccopy, src, sizeof src);
                memset(dst, 0xEE, sizeof dst);
                memset(want, 0xEE, sizeof want);
                const unsigned char *s = src + sa;
                for (size_t f = 0; f < nf; f++)
                    for (int k = 0; k < dch; k++)
                        for (size_t b = 0; b < ss; b++)
                            want[G + da + (f * (size_t)dch + (size_t)k) * ss + b] = maps[mi].map[k]
                                ? s[(f * (size_t)sch + (size_t)(maps[mi].map[k] - 1)) * ss + b] : sil;
                ps_copy_mapped(dst + G + da, dch, s, sch, maps[mi].map, ss, sil, nf);
                tried++;
                if (memcmp(dst, want, sizeof dst) != 0)
                    note(&t, "map %zu, dst+%zu, src+%zu, %zu frames", mi, da, sa, nf);
                if (memcmp(src, srccopy, sizeof src) != 0)
                    note(&t, "map %zu wrote into src", mi);
                /* src NULL: silence */
                memset(dst, 0xEE, sizeof dst);
                memset(want, 0xEE, sizeof want);
                memset(want + G + da, sil, nf * (size_t)dch * ss);
                ps_copy_mapped(dst + G + da, dch, NULL, sch, maps[mi].map, ss, sil, nf);
                if (memcmp(dst, want, sizeof dst) != 0)
                    note(&t, "src NULL, map %zu, dst+%zu, %zu frames", mi, da, nf);
            }
            CHECK_TALLY(t, "ps_copy_mapped: sample size %zu, silence 0x%02x, %ld layouts "
                        "(maps with 0/duplicates, unaligned dst/src, src NULL)", ss, sil, tried);
        }
    }
}

/* ---- ps_copy_plan / ps_copy_planned: each fast path against the generic
 * copy, every byte, in every instruction set (ps_copy_set_isa forces the
 * lower ones), over lengths 0..40 and longer ones around the unrolled
 * steps, and every destination alignment within a cache line ---------- */

static const char *isa_name(int isa)
{
    static const char *names[PS_NISA] = { "C", "SSE2", "AVX2", "AVX-512" };
    return isa >= 0 && isa < PS_NISA ? names[isa] : "?";
}

static void test_copy_plans(void)
{
    static const struct { int dst_ch, src_ch, map[4]; size_t ss; unsigned char sil;
                          ps_copy_kind want; } plans[] = {
        { 2, 2, {1, 2}, 4, 0, PS_COPY_IDENTITY },
        { 2, 2, {2, 1}, 4, 0, PS_COPY_SWAP2 },
        { 2, 2, {1, 1}, 4, 0, PS_COPY_LEFT2 },
        { 2, 2, {2, 2}, 4, 0, PS_COPY_RIGHT2 },
        { 2, 2, {0, 2}, 4, 0, PS_COPY_MUTE_LEFT2 },
        { 2, 2, {1, 0}, 4, 0, PS_COPY_MUTE_RIGHT2 },
        { 1, 1, {1}, 4, 0, PS_COPY_IDENTITY },          /* one word a frame: odd word counts */
        { 3, 3, {1, 2, 3}, 4, 0, PS_COPY_IDENTITY },    /* three words a frame */
        { 2, 2, {1, 2}, 2, 0, PS_COPY_IDENTITY },       /* int16 stereo: one word a frame */
        { 4, 4, {1, 2, 3, 4}, 1, 0x80, PS_COPY_IDENTITY }, /* uint8: one word a frame */
        { 2, 2, {1, 2}, 3, 0, PS_COPY_IDENTITY },       /* int24: not whole words (memcpy) */
        { 2, 2, {0, 2}, 4, 0x80, PS_COPY_GENERIC },     /* silence not 0 */
        { 2, 2, {2, 1}, 2, 0, PS_COPY_GENERIC },        /* int16 */
        { 2, 2, {2, 1}, 3, 0, PS_COPY_GENERIC },        /* int24 */
        { 2, 1, {1, 1}, 4, 0, PS_COPY_GENERIC },        /* mono to stereo */
        { 1, 2, {2, 0}, 4, 0, PS_COPY_GENERIC },
        { 2, 2, {0, 0}, 4, 0, PS_COPY_GENERIC },
    };
    static const size_t longer[] = { 63, 64, 65, 127, 128, 129, 257, 1031 };
    enum { G = 64, MAXN = 1031, MAXB = MAXN * 3 * 4 + 64 };
    static unsigned char src[MAXB], srccopy[MAXB], dst[MAXB + 2 * G], want[MAXB + 2 * G];
    int best = ps_copy_isa_best(), dflt = best < PS_ISA_AVX2 ? best : PS_ISA_AVX2;

    for (size_t b = 0; b < sizeof src; b++)
        src[b] = (unsigned char)(1 + (b * 37) % 251);
    memcpy(srccopy, src, sizeof src);
    for (size_t pi = 0; pi < sizeof plans / sizeof plans[0]; pi++) {
        int dch = plans[pi].dst_ch, sch = plans[pi].src_ch;
        const int *map = plans[pi].map;
        size_t ss = plans[pi].ss;
        ps_copy_kind k = ps_copy_plan(dch, sch, map, ss, plans[pi].sil);
        CHECK_EQ(k, plans[pi].want, "ps_copy_plan: map %d %d, %d -> %d channels, "
                 "sample size %zu, silence 0x%02x", map[0], dch > 1 ? map[1] : -1,
                 sch, dch, ss, plans[pi].sil);
    }

    for (int isa = 0; isa < PS_NISA; isa++) {
        int got = ps_copy_set_isa(isa);
        if (got != isa) {
            CHECK(isa > best && got == best, "ps_copy_set_isa(%s): not in this build or CPU, %s instead "
                  "(skipped)", isa_name(isa), isa_name(got));
            continue;
        }
        for (size_t pi = 0; pi < sizeof plans / sizeof plans[0]; pi++) {
            int dch = plans[pi].dst_ch, sch = plans[pi].src_ch;
            const int *map = plans[pi].map;
            size_t ss = plans[pi].ss, fb = (size_t)dch * ss;
            unsigned char sil = plans[pi].sil;
            ps_copy_kind k = plans[pi].want;
            ps_copy_fn fn = ps_copy_kernel(k, fb);
            bool want_fn = k != PS_COPY_GENERIC && fb % 4 == 0 &&
                           (k != PS_COPY_IDENTITY || isa >= PS_ISA_AVX2);
            CHECK(!fn == !want_fn, "%s: plan %d with %zu-byte frames has %s", isa_name(isa),
                  (int)k, fb, want_fn ? "a kernel" : "no kernel");
            tally t = {0};
            long tried = 0;
            for (size_t ci = 0; ci <= 40 + sizeof longer / sizeof longer[0]; ci++)
            for (size_t da = 0; da < 64; da++)
            for (size_t sa = 0; sa < 8; sa++)
            for (int null_src = 0; null_src < 2; null_src++) {
                size_t nf = ci <= 40 ? ci : longer[ci - 41];
                /* all 64 destination offsets with short lengths; with long
                 * ones every word offset and the odd bytes 1..3 */
                if (nf > 40 && da % 4 && da > 3)
                    continue;
                if (sa > 1 && sa != 4 && sa != 7)
                    continue;
                if (null_src && (da > 7 || sa))
                    continue;
                const unsigned char *sp = null_src ? NULL : src + sa;
                size_t win = G + da + nf * fb + G;
                memset(want, 0xEE, win);
                memset(dst, 0xEE, win);
                ps_copy_mapped(want + G + da, dch, sp, sch, map, ss, sil, nf);
                ps_copy_planned(k, dst + G + da, dch, sp, sch, map, ss, sil, nf);
                tried++;
                if (memcmp(dst, want, win) != 0)
                    note(&t, "%zu frames, dst+%zu, src+%zu%s", nf, da, sa,
                         null_src ? " (src NULL)" : "");
            }
            if (memcmp(src, srccopy, sizeof src) != 0)
                note(&t, "the source was written");
            CHECK_TALLY(t, "%s: ps_copy_planned equals ps_copy_mapped, every byte, for plan %d "
                        "(map %d %d, %d -> %d channels, sample size %zu): %ld layouts",
                        isa_name(isa), (int)k, map[0], dch > 1 ? map[1] : -1, sch, dch, ss, tried);
        }
    }
    CHECK_EQ(ps_copy_set_isa(-1), dflt, "ps_copy_set_isa(-1): back to the default, %s "
             "(best here: %s)", isa_name(dflt), isa_name(best));
    CHECK_EQ(ps_copy_isa(), dflt, "ps_copy_isa() is the default again");
#if defined(__x86_64__)
    CHECK(dflt == PS_ISA_AVX2 || !__builtin_cpu_supports("avx2"),
          "a CPU with AVX2 gets the AVX2 kernels by default (best: %s)", isa_name(best));
#endif

    /* The engine keeps a plan per direction, set with the map, and the
     * kernel chosen then. */
    ps_engine e;
    ps_engine_init(&e);
    ps_engine_set_input(&e, 2, PS_FLOAT32);
    ps_engine_set_output(&e, 2, PS_FLOAT32);
    CHECK_EQ(e.rx_plan, PS_COPY_IDENTITY, "engine: rx plan identity by default");
    CHECK(e.rx_fn == ps_copy_kernel(PS_COPY_IDENTITY, 8), "engine: the identity kernel of the set");
    ps_engine_set_rxmap(&e, 2, (const int[]){ 2, 1 });
    CHECK_EQ(e.rx_plan, PS_COPY_SWAP2, "engine: rxmap 2 1 plans a swap");
    CHECK(e.rx_fn && e.rx_fn == ps_copy_kernel(PS_COPY_SWAP2, 8), "engine: with the swap kernel");
    ps_engine_set_txmap(&e, 2, (const int[]){ 1, 0 });
    CHECK_EQ(e.tx_plan, PS_COPY_MUTE_RIGHT2, "engine: txmap 1 0 plans a muted right");
    ps_copy_fn fast = e.tx_fn;
    ps_copy_set_isa(PS_ISA_C);
    CHECK(e.tx_fn == fast, "engine: a later cap leaves a kernel already chosen alone");
    ps_engine_set_txmap(&e, 2, (const int[]){ 1, 0 });
    CHECK(e.tx_fn && (e.tx_fn != fast) == (dflt != PS_ISA_C),
          "engine: a map set under the cap gets the C kernel");
    ps_engine_set_txmap(&e, 2, NULL);
    CHECK(e.tx_identity && e.tx_fn == NULL, "engine: identity under the C cap is memcpy");
    ps_copy_set_isa(-1);
    ps_engine_set_txmap(&e, 2, (const int[]){ 2, 2 });
    ps_engine_set_output(&e, 2, PS_UINT8);
    CHECK_EQ(e.tx_plan, PS_COPY_IDENTITY, "engine: a new output format resets the map and plan");
    ps_engine_set_input(&e, 3, PS_INT24);
    ps_engine_set_rxmap(&e, 2, (const int[]){ 3, 1 });
    CHECK(e.rx_plan == PS_COPY_GENERIC && e.rx_fn == NULL,
          "engine: int24 3 -> 2 channels is the generic copy, no kernel");
}

/* ---- the callback's copies through rings that wrap: every map with a
 * kernel, in every instruction set, blocks of 1..40 frames starting at
 * every ring offset (so each block is split at every point), device
 * buffers at several alignments ------------------------------------------ */

static void test_ring_wrap(void)
{
    static const int maps[][2] = { {1, 2}, {2, 1}, {1, 1}, {2, 2}, {0, 2}, {1, 0} };
    enum { CAP = 64, MAXB = 40, G = 64 };
    static unsigned char txmem[CAP * 8], rxmem[CAP * 8], zeros[CAP * 8];
    static unsigned char inbuf[MAXB * 8 + 2 * G], outbuf[MAXB * 8 + 2 * G];
    static uint32_t srcf[MAXB * 2], recf[MAXB * 2], outw[MAXB * 2], inw[MAXB * 2];
    int dflt = ps_copy_isa_best() < PS_ISA_AVX2 ? ps_copy_isa_best() : PS_ISA_AVX2;

    for (int isa = 0; isa < PS_NISA; isa++) {
        if (ps_copy_set_isa(isa) != isa)
            continue;
        for (size_t mi = 0; mi < sizeof maps / sizeof maps[0]; mi++) {
            const int *map = maps[mi];
            ps_ring tx, rx;
            ps_engine e;
            ps_engine_init(&e);
            ps_ring_init(&tx, txmem, 8, CAP);
            ps_ring_init(&rx, rxmem, 8, CAP);
            ps_engine_set_input(&e, 2, PS_FLOAT32);
            ps_engine_set_output(&e, 2, PS_FLOAT32);
            ps_engine_set_rxmap(&e, 2, map);
            ps_engine_set_txmap(&e, 2, map);
            e.txring = &tx;
            e.rxring = &rx;
            ps_copy_kind want = ps_copy_plan(2, 2, map, 4, 0);
            CHECK(e.tx_plan == want && e.rx_plan == want && e.tx_fn == ps_copy_kernel(want, 8) &&
                  e.rx_fn == e.tx_fn, "%s, map %d %d: plan %d and its kernel, both directions",
                  isa_name(isa), map[0], map[1], (int)want);
            tally t = {0};
            long tried = 0;
            uint32_t serial = 1;
            for (size_t nb = 1; nb <= MAXB; nb++)
            for (size_t o = 0; o < CAP; o++) {
                /* both rings empty, with their indexes at o */
                ps_ring_reset(&tx);
                ps_ring_reset(&rx);
                ps_ring_write(&tx, zeros, o);
                ps_ring_read(&tx, NULL, o);
                ps_ring_write(&rx, zeros, o);
                ps_ring_read(&rx, NULL, o);
                ps_engine_arm(&e);
                for (size_t i = 0; i < nb * 2; i++) {
                    srcf[i] = 0x3F000000u + serial++;
                    inw[i] = 0xBF000000u + serial++;
                }
                ps_ring_write(&tx, srcf, nb);
                size_t ia = (o * 4) % G, oa = (o * 12 + nb * 4) % G;
                memset(inbuf, 0xDD, sizeof inbuf);
                memcpy(inbuf + G + ia, inw, nb * 8);
                memset(outbuf, 0xEE, sizeof outbuf);
                int rc = ps_engine_callback(inbuf + G + ia, outbuf + G + oa, nb, NULL, 0, &e);
                tried++;
                if (rc != paContinue) {
                    note(&t, "%zu frames at ring offset %zu: return code %d", nb, o, rc);
                    continue;
                }
                memcpy(outw, outbuf + G + oa, nb * 8);
                bool ok = all_bytes(outbuf, G + oa, 0xEE) &&
                          all_bytes(outbuf + G + oa + nb * 8, sizeof outbuf - G - oa - nb * 8, 0xEE);
                if (ps_ring_read(&rx, recf, nb) != nb || ps_ring_read_available(&rx) != 0)
                    ok = false;
                for (size_t f = 0; f < nb; f++)
                    for (int c = 0; c < 2; c++) {
                        uint32_t o_want = map[c] ? srcf[f * 2 + (size_t)map[c] - 1] : 0;
                        uint32_t r_want = map[c] ? inw[f * 2 + (size_t)map[c] - 1] : 0;
                        if (outw[f * 2 + (size_t)c] != o_want || recf[f * 2 + (size_t)c] != r_want)
                            ok = false;
                    }
                if (!ok)
                    note(&t, "%zu frames at ring offset %zu, in+%zu, out+%zu", nb, o, ia, oa);
            }
            CHECK_TALLY(t, "%s, map %d %d: output and recording exact through wrapping rings "
                        "(%ld blocks of 1..%d frames at every offset of %d)",
                        isa_name(isa), map[0], map[1], tried, (int)MAXB, (int)CAP);
        }
    }
    CHECK_EQ(ps_copy_set_isa(-1), dflt, "ring wrap: the default cap again");
}

/* ---- configuration ------------------------------------------------------- */

static void test_config(void)
{
    ps_engine e;
    ps_engine_init(&e);
    CHECK_EQ(e.frames, -1, "init: frames = -1");
    CHECK_EQ(e.pad, 0, "init: pad = 0");
    CHECK_EQ(atomic_load(&e.status), PS_RUNNING, "init: status running");
    CHECK_EQ(ps_engine_set_input(&e, -1, PS_FLOAT32), -1, "set_input: negative channels rejected");
    CHECK_EQ(ps_engine_set_input(&e, PS_MAXCH + 1, PS_FLOAT32), -1, "set_input: too many channels rejected");
    CHECK_EQ(ps_engine_set_output(&e, 2, PS_NFORMATS), -1, "set_output: bad format rejected");
    CHECK_EQ(ps_engine_set_input(&e, 4, PS_INT24), 0, "set_input 4 x int24");
    CHECK_EQ(e.in_ss, 3, "int24 is 3 bytes");
    CHECK_EQ(ps_engine_set_output(&e, 2, PS_INT16), 0, "set_output 2 x int16");
    CHECK_EQ(ps_engine_set_rxmap(&e, 2, (const int[]){ 5, 1 }), -1, "rxmap naming input 5 of 4 rejected");
    CHECK_EQ(ps_engine_set_rxmap(&e, 2, (const int[]){ -1, 1 }), -1, "rxmap with a negative entry rejected");
    CHECK_EQ(ps_engine_set_rxmap(&e, 2, (const int[]){ 4, 0 }), 0, "rxmap 4 0 accepted");
    CHECK(!e.rx_identity, "rxmap 4 0 is not identity");
    CHECK_EQ(ps_engine_set_rxmap(&e, 4, (const int[]){ 1, 2, 3, 4 }), 0, "rxmap 1 2 3 4 accepted");
    CHECK(e.rx_identity, "rxmap 1 2 3 4 on 4 inputs is identity");
    CHECK_EQ(ps_engine_set_txmap(&e, 1, (const int[]){ 1, 2 }), -1, "txmap naming source channel 2 of 1 rejected");
    CHECK_EQ(ps_engine_set_txmap(&e, 1, (const int[]){ 1, 1 }), 0, "txmap 1 1 accepted");
    CHECK(!e.tx_identity, "txmap 1 1 is not identity");
    CHECK_EQ(ps_engine_set_txmap(&e, 2, NULL), 0, "txmap NULL accepted");
    CHECK(e.tx_identity, "txmap NULL with as many channels as outputs is identity");
    CHECK_EQ(ps_engine_set_rxmap(&e, PS_MAXCH + 1, NULL), -1, "rx_channels > PS_MAXCH rejected");
    /* arm leaves tx_eof to the producer */
    atomic_store(&e.tx_eof, true);
    ps_engine_arm(&e);
    CHECK(atomic_load(&e.tx_eof), "ps_engine_arm leaves tx_eof alone");
    CHECK(strcmp(ps_status_name(PS_BUFFER_EMPTY), "BufferEmpty") == 0 &&
          strcmp(ps_status_name(PS_BUFFER_FULL), "BufferFull") == 0,
          "status names BufferEmpty / BufferFull");
}

/* ---- ps_engine_end ------------------------------------------------------- */

static void test_end(void)
{
    ps_engine e;
    float out[2 * 64];
    ps_engine_init(&e);
    ps_engine_set_output(&e, 2, PS_FLOAT32);
    ps_engine_arm(&e);
    CHECK_EQ(ps_engine_callback(NULL, out, 64, NULL, 0, &e), paContinue, "end: running (no source, forever)");
    ps_engine_end(&e, PS_STOPPED);
    CHECK_EQ(atomic_load(&e.status), PS_STOPPED, "ps_engine_end sets STOPPED");
    CHECK_EQ(atomic_load(&e.status_frame), 64, "ps_engine_end: status_frame = frame_count");
    for (int i = 0; i < 128; i++) out[i] = 1.0f;
    CHECK_EQ(ps_engine_callback(NULL, out, 64, NULL, 0, &e), paComplete, "callback after a stop: paComplete");
    CHECK(all_bytes((unsigned char *)out, sizeof out, 0), "callback after a stop: silence");
    ps_engine_end(&e, PS_DEVICE_ERROR);
    CHECK_EQ(atomic_load(&e.status), PS_STOPPED, "ps_engine_end keeps an earlier status");
    ps_engine_finished(&e);
    CHECK(atomic_load(&e.finished), "ps_engine_finished sets finished");
}

/* ---- the wake-up --------------------------------------------------------- */

static int readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_wake(void)
{
    ps_wake w0, w3;
    ps_engine e;
    float out[2 * 256], in[1 * 256];
    memset(in, 0, sizeof in);
    CHECK_EQ(ps_wake_open(&w0), 0, "wake: open");
    CHECK_EQ(ps_wake_open(&w3), 0, "wake: open a second");
    ps_engine_init(&e);
    ps_engine_set_output(&e, 2, PS_FLOAT32);
    e.wake[0] = &w0;
    e.wake[3] = &w3;
    ps_engine_arm(&e);
    CHECK(!readable(w0.fd), "wake: not readable before any callback");
    ps_engine_callback(NULL, out, 256, NULL, 0, &e);
    CHECK(readable(w0.fd) && readable(w3.fd), "wake: readable after a callback (every slot)");
    ps_wake_clear(&w0);
    ps_wake_clear(&w3);
    CHECK(!readable(w0.fd) && !readable(w3.fd), "wake: cleared");
    for (int i = 0; i < 25; i++)
        ps_engine_callback(NULL, out, 256, NULL, 0, &e);
    CHECK(readable(w0.fd), "wake: readable after 25 callbacks");
    uint64_t v = 0;
    CHECK(read(w0.fd, &v, sizeof v) == (ssize_t)sizeof v && v == 1,
          "wake: 25 callbacks coalesced into one signal (eventfd count %llu)", (unsigned long long)v);
    ps_wake_clear(&w0);
    ps_wake_clear(&w3);
    CHECK(!readable(w0.fd), "wake: not readable after clear, until the next callback");
    ps_engine_callback(NULL, out, 256, NULL, 0, &e);
    CHECK(readable(w0.fd), "wake: readable again after the next callback");

    /* With a ring, the disk threads' slots are woken once an eighth of the
     * smaller ring has moved (512 of 4096 frames: every other block of 256),
     * the Lua slot after every block. */
    {
        static float rxmem[4096];
        ps_ring rx;
        ps_engine d;
        ps_wake w2;
        CHECK_EQ(ps_wake_open(&w2), 0, "wake: open a disk slot");
        ps_ring_init(&rx, rxmem, sizeof(float), 4096);
        ps_engine_init(&d);
        ps_engine_set_input(&d, 1, PS_FLOAT32);
        d.rxring = &rx;
        d.wake[0] = &w0;
        d.wake[2] = &w2;
        ps_engine_arm(&d);
        ps_wake_clear(&w0);
        int lua_wakes = 0, disk_wakes = 0;
        for (int i = 0; i < 8; i++) {
            CHECK_EQ(ps_engine_callback(in, NULL, 256, NULL, 0, &d), paContinue, "wake: batch call %d", i);
            lua_wakes += readable(w0.fd);
            disk_wakes += readable(w2.fd);
            CHECK_EQ(readable(w2.fd), i % 2, "wake: disk slot after block %d of 256 (batch 512)", i + 1);
            ps_wake_clear(&w0);
            ps_wake_clear(&w2);
            ps_ring_read(&rx, NULL, 256);
        }
        CHECK_EQ(lua_wakes, 8, "wake: the Lua slot after every block");
        CHECK_EQ(disk_wakes, 4, "wake: the disk slot once per 512 frames");
        ps_engine_end(&d, PS_STOPPED);
        CHECK(readable(w2.fd), "wake: the end wakes the disk slot at once");
        ps_wake_close(&w2);
    }

    /* the callback that ends the stream wakes too */
    e.frames = 300;
    ps_engine_arm(&e);
    CHECK_EQ(ps_engine_callback(NULL, out, 256, NULL, 0, &e), paContinue, "wake: frames 300, first call");
    ps_wake_clear(&w0);
    CHECK_EQ(ps_engine_callback(NULL, out, 256, NULL, 0, &e), paComplete, "wake: frames 300, second call completes");
    CHECK(readable(w0.fd), "wake: signalled by the completing callback");

    /* a fatal xrun, input only */
    ps_engine_init(&e);
    ps_engine_set_input(&e, 1, PS_FLOAT32);
    e.fatal_xruns = true;
    e.wake[0] = &w0;
    ps_engine_arm(&e);
    ps_wake_clear(&w0);
    CHECK_EQ(ps_engine_callback(in, NULL, 256, NULL, paInputOverflow, &e), paAbort, "wake: fatal xrun aborts");
    CHECK(readable(w0.fd), "wake: signalled by the aborting callback");
    ps_wake_clear(&w0);
    ps_engine_finished(&e);
    CHECK(readable(w0.fd) && atomic_load(&e.finished), "wake: signalled by ps_engine_finished");
    ps_wake_clear(&w0);
    ps_engine_end(&e, PS_STOPPED);
    CHECK(readable(w0.fd), "wake: signalled by ps_engine_end");
    ps_wake_close(&w0);
    ps_wake_close(&w3);
}

/* PS_FILL_GAPS with a gap queue: where frames were dropped is announced
 * (pos = receive-ring frames before the gap, count = frames dropped), once
 * per stretch, before any later frame is published. */
static void test_gaps(void)
{
    ps_engine e;
    ps_ring rx, gq;
    static float rxmem[8];
    static ps_gap gqmem[4];
    float in[6] = { 1, 2, 3, 4, 5, 6 }, out[6], drain[8];
    ps_gap g;
    ps_engine_init(&e);
    ps_engine_set_input(&e, 1, PS_FLOAT32);
    ps_ring_init(&rx, rxmem, sizeof(float), 8);
    ps_ring_init(&gq, gqmem, sizeof(ps_gap), 4);
    e.rxring = &rx;
    e.gapq = &gq;
    e.flags = PS_FILL_GAPS;
    ps_engine_arm(&e);
    (void)out;
    /* 6 + 6 frames into an 8-frame ring: 4 dropped at ring frame 8 */
    CHECK_EQ(ps_engine_callback(in, NULL, 6, NULL, 0, &e), paContinue, "gaps: first block");
    CHECK_EQ(ps_engine_callback(in, NULL, 6, NULL, 0, &e), paContinue, "gaps: second block overflows");
    CHECK_EQ(atomic_load(&e.rx_lost), 4, "gaps: 4 frames counted lost");
    CHECK_EQ(ps_ring_read_available(&gq), 0, "gaps: not announced while the ring stays full");
    /* still full: the same stretch grows */
    ps_engine_callback(in, NULL, 6, NULL, 0, &e);
    CHECK_EQ(atomic_load(&e.rx_lost), 10, "gaps: 10 frames lost in one stretch");
    /* make room: the next callback announces the gap, then writes */
    CHECK_EQ(ps_ring_read(&rx, drain, 8), 8, "gaps: reader drains 8");
    ps_engine_callback(in, NULL, 6, NULL, 0, &e);
    CHECK_EQ(ps_ring_read(&gq, &g, 1), 1, "gaps: one announcement");
    CHECK_EQ(g.pos, 8, "gaps: the gap is before ring frame 8");
    CHECK_EQ(g.count, 10, "gaps: of 10 frames");
    CHECK_EQ(ps_ring_read_available(&rx), 6, "gaps: later frames follow the announcement");
    /* a gap pending at the end of the run is announced when it ends */
    e.frames = e.total = atomic_load(&e.frame_count) + 6;   /* (arm derives total) */
    ps_engine_callback(in, NULL, 6, NULL, 0, &e);           /* fills to 8, drops 4 */
    CHECK_EQ(ps_ring_read_available(&gq), 1, "gaps: a gap at the end of the run is announced");
    CHECK_EQ(ps_ring_read(&gq, &g, 1), 1, "gaps: read it");
    CHECK(g.pos == 16 && g.count == 4, "gaps: at ring frame 16, 4 frames (got %lld, %lld)",
          (long long)g.pos, (long long)g.count);
}

/* PS_TX_CLOCKED (s:process): ring frame i plays at stream frame i.  A dry
 * ring plays silence, counted in tx_lost, and the frames that come after
 * their time are dropped, so the frames after them play on time. */
static void test_clocked(void)
{
    ps_engine e;
    ps_ring tx;
    static float txmem[64];
    float out[8], src[32];
    for (int i = 0; i < 32; i++)
        src[i] = (float)(i + 1);           /* ring frame i carries i + 1 */
    ps_engine_init(&e);
    ps_engine_set_output(&e, 1, PS_FLOAT32);
    ps_ring_init(&tx, txmem, sizeof(float), 64);
    e.txring = &tx;
    e.flags = PS_TX_CLOCKED;
    e.frames = -1;
    ps_engine_arm(&e);
    ps_ring_write(&tx, src, 6);                                 /* frames 0..5 */
    CHECK_EQ(ps_engine_callback(NULL, out, 8, NULL, 0, &e), paContinue, "clocked: a dry ring goes on");
    CHECK(out[0] == 1 && out[5] == 6 && out[6] == 0 && out[7] == 0,
          "clocked: 6 frames, then silence (got %g %g %g %g)", out[0], out[5], out[6], out[7]);
    CHECK_EQ(atomic_load(&e.tx_lost), 2, "clocked: 2 frames of silence counted");
    ps_engine_callback(NULL, out, 8, NULL, 0, &e);              /* stream frames 8..15: dry */
    CHECK_EQ(atomic_load(&e.tx_lost), 10, "clocked: a whole dry block counted");
    ps_ring_write(&tx, src + 6, 7);                             /* frames 6..12: all late */
    ps_engine_callback(NULL, out, 8, NULL, 0, &e);              /* 16..23: dry after the drop */
    CHECK_EQ(ps_ring_read_available(&tx), 0, "clocked: the late frames are dropped");
    CHECK_EQ(atomic_load(&e.tx_lost), 18, "clocked: and the block that found none counted");
    ps_ring_write(&tx, src + 13, 19);                           /* frames 13..31 */
    ps_engine_callback(NULL, out, 8, NULL, 0, &e);              /* 24..31 */
    CHECK(out[0] == 25 && out[7] == 32, "clocked: frame 24 plays at stream frame 24 (got %g .. %g)",
          out[0], out[7]);
    CHECK_EQ(atomic_load(&e.tx_lost), 18, "clocked: nothing more lost");
    CHECK_EQ(atomic_load(&e.frame_count), 32, "clocked: 32 frames run");
}

/* settle: whole cycles sat out before the run (PipeWire's links, src/device.h):
 * silence out, input dropped, nothing counted; then the run as if it began
 * there, the same cycle on both sides. */
static void test_settle(void)
{
    ps_engine e;
    static float txbuf[16], rxbuf[16];
    float in[4], out[4];
    for (int i = 0; i < 16; i++)
        txbuf[i] = (float)(i + 1);
    ps_engine_init(&e);
    ps_engine_set_input(&e, 1, PS_FLOAT32);
    ps_engine_set_output(&e, 1, PS_FLOAT32);
    e.txbuf = (const unsigned char *)txbuf;
    e.txbuf_frames = 16;
    e.rxbuf = (unsigned char *)rxbuf;
    e.rxbuf_frames = 16;
    e.frames = 8;
    e.settle = 6;                       /* two cycles of 4: 8 frames >= 6 */
    for (int start = 0; start < 2; start++) {
        memset(rxbuf, 0, sizeof rxbuf);
        ps_engine_arm(&e);
        for (int cyc = 0; cyc < 2; cyc++) {
            for (int i = 0; i < 4; i++)
                in[i] = 100.0f + (float)(4 * cyc + i), out[i] = -1;
            CHECK_EQ(ps_engine_callback(in, out, 4, NULL, 0, &e), paContinue,
                     "settle (start %d): cycle %d goes on", start + 1, cyc + 1);
            CHECK(out[0] == 0 && out[3] == 0, "settle (start %d): cycle %d plays silence", start + 1, cyc + 1);
            CHECK_EQ(atomic_load(&e.frame_count) + atomic_load(&e.tx_frames) + atomic_load(&e.rx_frames), 0,
                     "settle (start %d): cycle %d counts nothing", start + 1, cyc + 1);
        }
        CHECK(rxbuf[0] == 0, "settle (start %d): the input of those cycles is dropped", start + 1);
        for (int i = 0; i < 4; i++)
            in[i] = 200.0f + (float)i;
        ps_engine_callback(in, out, 4, NULL, 0, &e);
        CHECK(out[0] == 1 && out[3] == 4, "settle (start %d): then the source from its first frame (%g .. %g)",
              start + 1, out[0], out[3]);
        CHECK(rxbuf[0] == 200 && rxbuf[3] == 203, "settle (start %d): and the input of that same cycle", start + 1);
        CHECK_EQ(ps_engine_callback(in, out, 4, NULL, 0, &e), paComplete, "settle (start %d): 8 frames, done",
                 start + 1);
        CHECK_EQ(atomic_load(&e.frame_count), 8, "settle (start %d): a run of 8 frames", start + 1);
    }
}

int main(void)
{
    test_copy_mapped();
    test_copy_plans();
    test_ring_wrap();
    test_config();
    test_end();
    test_wake();
    for (int i = 0; i < NCASES; i++)
        run_case(i);
    printf("# %d table cases\n", NCASES);
    test_gaps();
    test_clocked();
    test_settle();
    return CHECK_DONE();
}
