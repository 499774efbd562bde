/* Disk threads: one C thread per file moves frames between a ring buffer
 * and libsndfile, so that file playback and recording never depend on Lua
 * or its garbage collector.  They are the second of the program's three
 * worlds, between the realtime callback (which never does I/O) and the Lua
 * thread; only ring buffers and atomics cross between them.
 *
 * A writer (recording) is the ring's consumer: the realtime callback writes
 * received frames into the ring, the writer drains them into the file.  A
 * reader (playback) is the ring's producer: it keeps the ring full from the
 * file, and the callback takes frames out.  Either thread sleeps on a
 * ps_wake that the engine signals once an eighth of the smaller ring has
 * moved and when a run ends (ps_wake_wait with a 100 ms timeout); nothing
 * spins.  The wake must have no other waiter: a
 * waiter clears it, so two would steal each other's wake-ups.
 *
 * The ring carries frames in the stream's sample format.  Sample values are
 * converted to and from the file as libsndfile does for matching widths
 * (integer formats shift, ints <-> float scale by 2^(bits-1)), with these
 * guarantees and choices:
 *   - a ring and a file of the same kind are bit-exact both ways: float32 and
 *     FLOAT, int32 and PCM_32, int24 and PCM_24, int16 and PCM_16, int8 and
 *     PCM_S8, uint8 and PCM_U8 (also through FLAC and other lossless codecs);
 *   - float32 to an integer PCM file scales by 2^(bits-1), rounds and clips,
 *     the exact inverse of libsndfile's reading (libsndfile itself would
 *     scale by 2^(bits-1) - 1 and wrap around), so k/32768 becomes k;
 *   - integer rings and FLOAT/DOUBLE files scale by 2^(bits-1) both ways,
 *     rounding and clipping towards the ring (libsndfile by default would
 *     neither scale nor normalize them);
 *   - a wider file into a narrower integer ring keeps the top bits
 *     (truncates), as libsndfile does.
 * The functions set the SNDFILE's conversion flags they rely on
 * (SFC_SET_NORM_FLOAT, SFC_SET_SCALE_INT_FLOAT_WRITE, SFC_SET_CLIPPING).
 *
 * Neither kind opens or closes the SNDFILE: the caller opens it, creates the
 * disk, and calls sf_close after ps_disk_finish.  While the thread runs, the
 * SNDFILE and the ring belong to it.
 *
 * Header updates are skipped where they would do harm or nothing: on a pipe,
 * and for OGG, MPEG and FLAC, whose codec libraries own the stream (with
 * libsndfile 1.2 an update corrupts an OGG Vorbis file).  Those files are
 * only complete after sf_close.
 *
 * Sample-rate conversion (reader only): with opts->out_rate set and
 * different from the file's samplerate, the reader reads float frames
 * (sf_readf_float, normalized), converts them with libsamplerate
 * (src_process, ratio = out_rate / file rate, one SRC_STATE made at
 * creation) and writes the converted frames to the ring, float32 directly,
 * integer formats scaled by 2^(bits-1), rounded and clipped (as a FLOAT
 * file into an integer ring; an overshoot past full scale clips).  At the
 * end of the file the converter gets end_of_input and is drained, so no
 * tail is lost: L file frames become floor(L * ratio) or floor(L * ratio)
 * + 1 frames, never more than one away from L * ratio.  Measured with
 * libsamplerate 0.2.2 (independent of the block sizes): its sinc converters
 * give floor(L * ratio) for a mono file and floor(L * ratio) + 1 for two
 * channels or more, zero-order hold and linear floor(L * ratio) + 1 (L *
 * ratio in double precision, so a whole number can land on either side):
 * 44100 stereo frames at 44.1 kHz become 48001 at 48 kHz (mono: 48000),
 * 12345 become 13437 (13436.7).  The sinc converters are in time with the
 * source (no delay: 1 kHz from 44.1 to 48 kHz is within 1e-7 of the ideal
 * sine); zero-order hold and linear lag by about one input frame.  A
 * looping reader seeks to 0 and keeps feeding the same converter, without
 * end_of_input and without a reset, so the seam is as smooth as the source
 * is.  The first output frames ring a little when the source starts
 * abruptly at frame 0, as with any sinc converter.  opts->frames counts
 * output frames (at out_rate), exactly.  Equal rates (or out_rate 0) read
 * the file as they would without it, bit-exact.  Pipes work (a pipe is
 * never seeked, unless to loop, which is refused as ever).
 *
 * Pipes (sf_open_fd on a pipe): libsndfile reads WAV, AIFF, W64, AU, RAW and
 * OGG from a pipe (not FLAC or CAF), and writes only AU, RAW and FLAC to one.
 * A reader cannot loop a pipe.
 *
 * The thread runs with every signal blocked but the fault ones (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT), so asynchronous signals go to
 * other threads, and a write past RLIMIT_FSIZE or to a closed pipe fails
 * with EFBIG/EPIPE (reported) instead of raising SIGXFSZ/SIGPIPE. */
#ifndef PS_DISK_H
#define PS_DISK_H

#include <sndfile.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ringbuf.h"
#include "sample.h"
#include "wake.h"

typedef struct ps_disk ps_disk;

/* ps_disk_opts.src_quality: libsamplerate's converter types, shifted by one
 * so that 0 is the default (libsamplerate's own SRC_SINC_BEST_QUALITY is 0):
 * libsamplerate type = src_quality - 1. */
enum {
    PS_SRC_DEFAULT = 0,          /* = PS_SRC_MEDIUM */
    PS_SRC_BEST = 1,             /* SRC_SINC_BEST_QUALITY: slowest */
    PS_SRC_MEDIUM = 2,           /* SRC_SINC_MEDIUM_QUALITY */
    PS_SRC_FASTEST = 3,          /* SRC_SINC_FASTEST */
    PS_SRC_ZERO_ORDER_HOLD = 4,  /* SRC_ZERO_ORDER_HOLD: poor */
    PS_SRC_LINEAR = 5            /* SRC_LINEAR: poor */
};

typedef struct ps_disk_opts {
    ps_format format;        /* sample format of ring frames */
    int channels;            /* channels per ring frame; 0: the file's.  Must
                                match the file, and the ring's elem_size must
                                be channels * ps_format_size(format) */
    int64_t frames;          /* reader: frames to deliver at most (< 0: the
                                whole file, or forever with loop), counted
                                at out_rate when converting; writer: ignored */
    int loop;                /* reader: at the end, seek to frame 0 and go on
                                seamlessly */
    double header_interval;  /* writer: seconds between header updates (0: 1.0;
                                < 0: none until the end) */
    size_t block_frames;     /* frames per libsndfile call (0: 16384) */
    double out_rate;         /* reader: deliver frames at this rate, converting
                                from the file's (0: the file's rate as is, no
                                conversion; equal rates: none either).
                                out_rate / file rate must be within
                                [1/256, 256]; writer: ignored */
    int src_quality;         /* reader: PS_SRC_* converter (0: PS_SRC_MEDIUM) */
    ps_ring *gaps;           /* writer, optional: ps_gap announcements from the
                                engine (PS_FILL_GAPS); the writer puts that much
                                silence in the file where frames were dropped */
    int dither;              /* writer: TPDF dither (+-1 LSB, triangular) on
                                float32 samples written to a lossless integer
                                file (0: none, the default; then float32 to
                                integer is the exact inverse of reading) */
    double gain;             /* reader: scale every sample by this (0 or 1:
                                as is); past full scale it is clipped, and
                                counted (ps_disk_clipped) */
    ps_wake *notify;         /* optional: signalled once when the thread ends
                                by itself (reader at its end, or an error),
                                so an event loop can watch its fd */
} ps_disk_opts;

/* Defaults: float32, the file's channels, frames = -1, no loop, header every
 * second, 16384-frame blocks, no rate conversion, no notify.  Returns
 * nothing. */
void ps_disk_opts_init(ps_disk_opts *o);

/* Start a writer draining `ring` into `sf` (opened for writing) until
 * ps_disk_finish.  Every header_interval seconds in which frames were
 * written it rewrites the header (SFC_UPDATE_HEADER_NOW) in place, so a
 * killed process leaves a readable file holding everything up to the last
 * update (seekable files with a plain header: WAV, AIFF, CAF, W64, AU...).  On a write error it records the message (ps_disk_error), sets
 * ps_disk_failed and stops draining: the caller must then stop the stream
 * (a full ring would abort it with BufferFull anyway).  Memory is allocated
 * here only: constant whatever the length.
 * Returns the disk, or NULL with a message in err (errlen bytes, may be 0). */
ps_disk *ps_disk_writer(SNDFILE *sf, ps_ring *ring, ps_wake *wake,
                        const ps_disk_opts *o, char *err, size_t errlen);

/* Start a reader filling `ring` (empty; its consumer not running yet) from
 * `sf` (opened for reading, at the position to start from).  It stores
 * false into *eof now, and true (release) right after publishing its last
 * frame, when the file ends or opts->frames are delivered; a consumer that
 * sees *eof (acquire) and then an empty ring has had every frame.  eof may
 * be NULL.  A read error or a stop leaves *eof false.  A looping reader
 * whose file turns out empty ends at once.
 * Returns the disk, or NULL with a message in err: bad options (also an
 * out_rate that is negative, not finite or too far from the file's rate, or
 * an unknown src_quality), a ring or file that does not match, "cannot loop
 * a pipe" (a non-seekable file with loop set), or no thread. */
ps_disk *ps_disk_reader(SNDFILE *sf, ps_ring *ring, ps_wake *wake,
                        atomic_bool *eof, const ps_disk_opts *o,
                        char *err, size_t errlen);

/* Reader: wait up to timeout_ms (-1: forever) until the reader has filled
 * the ring (it found no room), its source ended, or it failed.  Use it
 * before starting the stream, to prebuffer.  Returns 0 when the ring is full
 * or the source ended, 1 on timeout, -1 if the reader failed
 * (ps_disk_error).  Writer: returns 0 at once. */
int ps_disk_prefill(ps_disk *d, int timeout_ms);

/* Stop the thread and join it; call it after the stream stopped.  Writer:
 * drain = 1 first writes every frame still in the ring, drain = 0 drops
 * them; either way it then updates the header (seekable files).  Reader:
 * drain is ignored.  Does not close the SNDFILE.  Safe to call twice.
 * Returns 0, or -1 if the thread stopped on an error. */
int ps_disk_finish(ps_disk *d, int drain);

/* NULL, or what went wrong, e.g. "write error after 123456 frames: System
 * error : No space left on device."  Valid until ps_disk_free. */
/* Samples the reader's gain pushed past full scale (clipped) so far. */
int64_t ps_disk_clipped(const ps_disk *d);
const char *ps_disk_error(const ps_disk *d);

/* Frames moved so far (written to the file / published into the ring);
 * any thread.  Returns the count. */
int64_t ps_disk_frames(const ps_disk *d);

/* Returns 1 if the thread stopped on an error, else 0; any thread. */
int ps_disk_failed(const ps_disk *d);

/* Finish (dropping, for a writer) if not done yet, then free.  NULL is a
 * no-op.  Returns nothing. */
void ps_disk_free(ps_disk *d);

/* Write frames of channels samples of format f from data to sf (opened for
 * writing) on the calling thread, converted as a writer converts (above;
 * libsndfile then writes the file's byte order), with TPDF dither when
 * dither is set; *rng (NULL or 0: a fixed seed) is the dither's state,
 * carried from one call to the next.  For ps.save and SoundFile:write.
 * Returns 0, or -1 with a message in err (errlen bytes). */
int ps_disk_write_all(SNDFILE *sf, ps_format f, int channels, const void *data,
                      int64_t frames, int dither, uint64_t *rng, char *err, size_t errlen);

#endif
