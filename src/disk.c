/* Disk threads; see disk.h for the contract.
 *
 * Each thread loops: take what the ring offers (a writer) or room in it (a
 * reader), at most block frames as one or two contiguous regions, move them
 * with libsndfile, advance the ring; when there is nothing to do, sleep on
 * the wake the engine signals once an eighth of the smaller ring has moved
 * (and at the end of a run), or for at most 100 ms.  ps_wake_wait clears
 * the wake only after poll returns, and the loop re-checks the ring after
 * every wake-up, so a signal that lands between the check and the sleep
 * only makes the sleep return at once: none is lost.
 *
 * float32, int32 and int16 frames go straight between the ring's regions
 * and sf_{read,write}f_{float,int,short}.  Other formats, and the pairs
 * whose libsndfile scaling is not what we want (see disk.h), go through a
 * scratch buffer of block_frames 32-bit samples, allocated at creation.
 *
 * A reader that converts the rate (d->src set) reads a block of floats into
 * src_in, and hands what is left of it to src_process at each call, which
 * writes straight into a float32 ring's region, or into src_out (block
 * frames) and from there through float_to_ring into an integer ring.  Both
 * buffers and the SRC_STATE are allocated at creation. */
#include "disk.h"
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <samplerate.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 100              /* longest sleep: a lost wake costs this much */
#define DEFAULT_BLOCK 16384
#define DEFAULT_HEADER_INTERVAL 1.0

enum { STOP_NONE, STOP_DRAIN, STOP_DROP };

/* How samples cross between the ring and libsndfile. */
enum io_path {
    IO_FLOAT,           /* float32 ring <-> sf_*f_float, zero-copy */
    IO_INT,             /* int32 ring <-> sf_*f_int, zero-copy */
    IO_SHORT,           /* int16 ring <-> sf_*f_short, zero-copy */
    IO_VIA_INT,         /* any ring -> int32 scratch -> sf_*f_int */
    IO_VIA_FLOAT        /* reader: sf_readf_float -> float scratch -> int ring */
};

struct ps_disk {
    SNDFILE *sf;
    ps_ring *ring;
    ps_wake *wake, *notify;
    atomic_bool *eof;
    bool writer;
    bool seekable;
    bool header_updates;     /* writer: SFC_UPDATE_HEADER_NOW is safe */
    bool loop;
    ps_format format;
    int channels;
    enum io_path path;
    int file_bits;           /* IO_VIA_INT from float32: the file's width */
    int64_t limit;           /* reader: frames to deliver, < 0 none */
    double header_interval;
    size_t block;
    void *scratch;           /* block * channels 32-bit samples, or NULL */
    ps_ring *gaps;           /* writer: where the engine dropped frames */
    int64_t consumed;        /* writer: frames taken from the ring so far */
    unsigned char *silence;  /* writer with gaps: a block of silent ring frames */

    /* Reader with rate conversion; only the thread touches these. */
    SRC_STATE *src;          /* NULL: no conversion */
    double src_ratio;        /* out_rate / file rate */
    float *src_in;           /* block * channels floats read from the file */
    float *src_out;          /* block * channels converted floats, or NULL
                                (float32 ring: converted in place) */
    size_t src_in_pos;       /* first frame of src_in not consumed yet */
    size_t src_in_len;       /* frames of src_in not consumed yet */
    bool src_in_end;         /* the file ended: src_in holds its last frames */
    float gain;              /* reader: the volume (1: none) */
    _Atomic int64_t clipped; /* reader: samples the volume clipped */

    pthread_t thread;
    bool joined;
    atomic_int stop;         /* STOP_* */
    _Atomic int64_t frames;
    atomic_bool failed;      /* errmsg is written before this is set */
    char errmsg[256];

    /* Reader -> ps_disk_prefill: set once, under the lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready;

    /* IO_VIA_INT from float32: TPDF dither, and its xorshift state (only
     * the thread touches it). */
    bool dither;
    uint64_t rng;
};

/* ---- sample conversions ---- */

/* Round x * 2^(bits-1) + noise (in LSBs) to the nearest integer of that
 * width, clipping; NaN gives 0.  Returns the integer. */
static int32_t float_to_bits_noise(float x, int bits, double noise)
{
    double full = ldexp(1.0, bits - 1);
    double v = (double)x * full + noise;
    if (v >= full - 1)
        return (int32_t)(full - 1);
    if (v <= -full)
        return (int32_t)-full;
    if (v != v)
        return 0;
    return (int32_t)lrint(v);
}

static int32_t float_to_bits(float x, int bits) { return float_to_bits_noise(x, bits, 0); }

/* One uniform value in [0, 1) from an xorshift64* generator whose state
 * belongs to one thread.  Returns the value. */
static double uniform(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    *state = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

/* TPDF dither noise in LSBs: the difference of two uniform values,
 * triangular over (-1, 1).  (No local array: under ASan a stack array in
 * the writer's loop put its frame on the fake stack, and the memory test
 * saw that grow.)  Returns the noise. */
static double tpdf(uint64_t *state)
{
    double a = uniform(state);
    return a - uniform(state);
}

/* Ring samples -> left-justified int32 for sf_writef_int: the top bits
 * carry the sample, so libsndfile's shifts make every width exact.
 * Returns nothing. */
static void ring_to_int(struct ps_disk *d, const unsigned char *src,
                        int32_t *dst, size_t n)
{
    switch (d->format) {
    case PS_FLOAT32: {
        int shift = 32 - d->file_bits;
        uint64_t *rng = &d->rng;
        for (size_t i = 0; i < n; i++) {
            float x;
            memcpy(&x, src + 4 * i, 4);
            int32_t v = d->dither ? float_to_bits_noise(x, d->file_bits, tpdf(rng))
                                  : float_to_bits(x, d->file_bits);
            dst[i] = (int32_t)((uint32_t)v << shift);
        }
        break;
    }
    case PS_INT24:
        for (size_t i = 0; i < n; i++)
            dst[i] = (int32_t)((uint32_t)ps_int24_get(src + 3 * i) << 8);
        break;
    case PS_INT8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (int32_t)((uint32_t)(int8_t)src[i] << 24);
        break;
    case PS_UINT8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (int32_t)((uint32_t)(src[i] - 128) << 24);
        break;
    default:                 /* int32 and int16 never take this path */
        break;
    }
}

/* Left-justified int32 from sf_readf_int -> ring samples (int24, int8,
 * uint8: the top bits, as libsndfile truncates too).  Returns nothing. */
static void int_to_ring(ps_format f, const int32_t *src, unsigned char *dst,
                        size_t n)
{
    switch (f) {
    case PS_INT24:
        for (size_t i = 0; i < n; i++)
            ps_int24_set(dst + 3 * i, src[i] >> 8);
        break;
    case PS_INT8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (unsigned char)(int8_t)(src[i] >> 24);
        break;
    case PS_UINT8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (unsigned char)((src[i] >> 24) + 128);
        break;
    default:
        break;
    }
}

/* Floats from a FLOAT/DOUBLE file -> integer ring samples, scaled by
 * 2^(bits-1), rounded and clipped.  Returns nothing. */
static void float_to_ring(ps_format f, const float *src, unsigned char *dst,
                          size_t n)
{
    switch (f) {
    case PS_INT32:
        for (size_t i = 0; i < n; i++) {
            int32_t v = float_to_bits(src[i], 32);
            memcpy(dst + 4 * i, &v, 4);
        }
        break;
    case PS_INT24:
        for (size_t i = 0; i < n; i++)
            ps_int24_set(dst + 3 * i, float_to_bits(src[i], 24));
        break;
    case PS_INT16:
        for (size_t i = 0; i < n; i++) {
            int16_t v = (int16_t)float_to_bits(src[i], 16);
            memcpy(dst + 2 * i, &v, 2);
        }
        break;
    case PS_INT8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (unsigned char)(int8_t)float_to_bits(src[i], 8);
        break;
    case PS_UINT8:
        for (size_t i = 0; i < n; i++)
            dst[i] = (unsigned char)(float_to_bits(src[i], 8) + 128);
        break;
    default:
        break;
    }
}

/* Width of a lossless integer subtype (PCM, also FLAC's; ALAC; the delta
 * codecs DPCM and DWVW), whose sf_writef_int keeps the top `bits` bits and
 * whose float reading divides by 2^(bits-1): writing through here is the
 * exact inverse of reading (tests/lua/test_c15_formats.lua checks every
 * one).  0 for anything else: float files, and the lossy and companding
 * codecs (ulaw, alaw, the ADPCMs, GSM, Vorbis, Opus, MPEG), which keep
 * libsndfile's own float conversion, with no inverse to keep.
 * Returns the width. */
static int pcm_bits(int format)
{
    switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8: case SF_FORMAT_PCM_U8: case SF_FORMAT_DPCM_8: return 8;
    case SF_FORMAT_DWVW_12: return 12;
    case SF_FORMAT_PCM_16: case SF_FORMAT_ALAC_16: case SF_FORMAT_DPCM_16:
    case SF_FORMAT_DWVW_16: return 16;
    case SF_FORMAT_ALAC_20: return 20;
    case SF_FORMAT_PCM_24: case SF_FORMAT_ALAC_24: case SF_FORMAT_DWVW_24: return 24;
    case SF_FORMAT_PCM_32: case SF_FORMAT_ALAC_32: return 32;
    default: return 0;
    }
}

/* Returns whether libsndfile keeps the file's samples as floats, whose
 * int reads and writes it would not scale by itself. */
static bool is_float_file(int format)
{
    int sub = format & SF_FORMAT_SUBMASK;
    return sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
}

/* Returns whether SFC_UPDATE_HEADER_NOW may rewrite this file's header:
 * not on a pipe (the header would go down it again), and not where a codec
 * library owns the stream: libsndfile 1.2 then re-emits the stream headers
 * into the middle of an OGG (Vorbis: the file no longer opens; Opus, MPEG:
 * wrong lengths), and for FLAC it does nothing. */
static bool header_updatable(const SF_INFO *info)
{
    int major = info->format & SF_FORMAT_TYPEMASK;
    return info->seekable && major != SF_FORMAT_OGG &&
           major != SF_FORMAT_MPEG && major != SF_FORMAT_FLAC;
}

/* ---- thread helpers ---- */

/* Let ps_disk_prefill return.  Returns nothing. */
static void set_ready(struct ps_disk *d)
{
    pthread_mutex_lock(&d->lock);
    if (!d->ready) {
        d->ready = true;
        pthread_cond_broadcast(&d->cond);
    }
    pthread_mutex_unlock(&d->lock);
}

/* Record the thread's error; the message is complete before failed is set.
 * Returns -1, for the callers' convenience. */
static int record_error(struct ps_disk *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->errmsg, sizeof d->errmsg, fmt, ap);
    va_end(ap);
    atomic_store_explicit(&d->failed, true, memory_order_release);
    return -1;
}

/* Count n more frames moved.  Returns nothing. */
static void add_frames(struct ps_disk *d, int64_t n)
{
    /* Only this thread writes the counter: load + store, no RMW needed. */
    int64_t f = atomic_load_explicit(&d->frames, memory_order_relaxed);
    atomic_store_explicit(&d->frames, f + n, memory_order_release);
}

/* ---- writer ---- */

/* Write n frames of one contiguous ring region.  Returns 0, or -1 after
 * recording a short write. */
static int write_region(struct ps_disk *d, const void *p, size_t n)
{
    sf_count_t want = (sf_count_t)n, got;
    switch (d->path) {
    case IO_FLOAT: got = sf_writef_float(d->sf, p, want); break;
    case IO_INT:   got = sf_writef_int(d->sf, p, want); break;
    case IO_SHORT: got = sf_writef_short(d->sf, p, want); break;
    default:
        ring_to_int(d, p, d->scratch, n * (size_t)d->channels);
        got = sf_writef_int(d->sf, d->scratch, want);
        break;
    }
    if (got > 0)
        add_frames(d, got);
    if (got != want)
        return record_error(d, "write error after %lld frames: %s",
                    (long long)atomic_load(&d->frames), sf_strerror(d->sf));
    return 0;
}

/* Write `count` frames of silence (a gap the engine announced). */
static int write_silence(struct ps_disk *d, int64_t count)
{
    while (count > 0) {
        size_t n = count < (int64_t)d->block ? (size_t)count : d->block;
        if (write_region(d, d->silence, n) < 0)
            return -1;
        count -= (int64_t)n;
    }
    return 0;
}

/* Before taking up to `avail` frames from the ring: write the silence of
 * every gap announced at or before the current position, and return how
 * many frames may be taken before the next gap (or -1 on a write error).
 * The ring's count was read first: a gap announced before those frames
 * were published is visible now. */
static int64_t place_gaps(struct ps_disk *d, int64_t avail)
{
    void *p1, *p2;
    size_t n1, n2;
    while (ps_ring_read_regions(d->gaps, 1, &p1, &n1, &p2, &n2) == 1) {
        ps_gap g;
        memcpy(&g, p1, sizeof g);
        if (g.pos > d->consumed)
            return g.pos - d->consumed < avail ? g.pos - d->consumed : avail;
        if (write_silence(d, g.count) < 0)
            return -1;
        ps_ring_read_advance(d->gaps, 1);
    }
    return avail;
}

static void *writer_main(void *arg)
{
    struct ps_disk *d = arg;
    bool dirty = false;              /* frames written since the last header */
    double next_header = ps_now() + d->header_interval;

    for (;;) {
        /* Load stop before looking at the ring: the producer stopped before
         * STOP_DRAIN was stored, so an empty ring after it is truly empty. */
        int stop = atomic_load_explicit(&d->stop, memory_order_acquire);
        if (stop == STOP_DROP)
            break;
        void *p1, *p2;
        size_t n1, n2, want = d->block;
        if (d->gaps) {
            int64_t avail = (int64_t)ps_ring_read_available(d->ring);
            int64_t allowed = place_gaps(d, avail < (int64_t)want ? avail : (int64_t)want);
            if (allowed < 0)
                break;
            want = (size_t)allowed;
        }
        size_t n = want ? ps_ring_read_regions(d->ring, want, &p1, &n1, &p2, &n2) : 0;
        if (n > 0) {
            if (write_region(d, p1, n1) < 0 ||
                (n2 > 0 && write_region(d, p2, n2) < 0))
                break;
            ps_ring_read_advance(d->ring, n);
            d->consumed += (int64_t)n;
            dirty = true;
        }
        double t = ps_now();
        if (dirty && d->header_interval > 0 && t >= next_header) {
            sf_command(d->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
            dirty = false;
            next_header = t + d->header_interval;
        }
        if (n > 0)
            continue;                /* drain everything before sleeping */
        if (stop == STOP_DRAIN)
            break;
        int ms = WAIT_MS;
        if (dirty && d->header_interval > 0) {
            double left = (next_header - t) * 1000.0 + 1.0;
            if (left < ms)
                ms = (int)left;
        }
        ps_wake_wait(d->wake, ms);
    }
    if (d->header_updates)
        sf_command(d->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
    if (atomic_load_explicit(&d->failed, memory_order_relaxed))
        ps_wake_signal(d->notify);
    return NULL;
}

/* ---- reader ---- */

/* Read up to n frames into p (part of one ring region).  Returns the frames
 * read (a short count at the end of the file), or -1 on an error, which
 * sf_strerror(d->sf) describes. */
static sf_count_t read_some(struct ps_disk *d, unsigned char *p, size_t n)
{
    sf_count_t want = (sf_count_t)n, got;
    switch (d->path) {
    case IO_FLOAT: got = sf_readf_float(d->sf, (float *)(void *)p, want); break;
    case IO_INT:   got = sf_readf_int(d->sf, (int *)(void *)p, want); break;
    case IO_SHORT: got = sf_readf_short(d->sf, (short *)(void *)p, want); break;
    case IO_VIA_INT:
        got = sf_readf_int(d->sf, d->scratch, want);
        if (got > 0)
            int_to_ring(d->format, d->scratch, p, (size_t)got * (size_t)d->channels);
        break;
    default:
        got = sf_readf_float(d->sf, d->scratch, want);
        if (got > 0)
            float_to_ring(d->format, d->scratch, p, (size_t)got * (size_t)d->channels);
        break;
    }
    /* A short count is the end of the file or an error; libsndfile clears
     * its error at each call, so sf_error tells them apart. */
    if (got < want && sf_error(d->sf) != SF_ERR_NO_ERROR)
        return -1;
    return got < 0 ? 0 : got;
}

/* Fill the n frames at p, looping at the end of the file when asked: a
 * short read is followed by a seek to 0 and a read into the rest of the
 * same region, so the seam neither drops nor repeats a frame.  `before`
 * frames of this block were filled already (for the error message).  Sets
 * *end when the source ended.  Returns the frames filled, or -1 after
 * recording an error. */
static sf_count_t fill_region(struct ps_disk *d, unsigned char *p, size_t n,
                              int64_t before, bool *end)
{
    size_t fs = d->ring->elem_size, done = 0;
    bool rewound = false;            /* no frame read since the last seek */
    while (done < n) {
        sf_count_t got = read_some(d, p + done * fs, n - done);
        if (got < 0)
            return record_error(d, "read error after %lld frames: %s",
                        (long long)(atomic_load(&d->frames) + before + (int64_t)done),
                        sf_strerror(d->sf));
        done += (size_t)got;
        if (got > 0)
            rewound = false;
        if (done == n)
            break;
        if (!d->loop || rewound) {   /* the end, or a file with no frames */
            *end = true;
            break;
        }
        if (sf_seek(d->sf, 0, SEEK_SET) < 0)
            return record_error(d, "read error after %lld frames: cannot seek to the "
                        "start to loop: %s",
                        (long long)(atomic_load(&d->frames) + before + (int64_t)done),
                        sf_strerror(d->sf));
        rewound = true;
    }
    return (sf_count_t)done;
}

/* The volume (ps_disk_opts.gain): scale n ring frames at p in place.  A
 * sample pushed past full scale is clipped to it and counted, so that the
 * device gets a defined value and the user learns of it. */
static void apply_gain(struct ps_disk *d, unsigned char *p, size_t n)
{
    size_t count = n * (size_t)d->channels;
    int64_t clipped = 0;
    if (d->format == PS_FLOAT32) {
        float *f = (float *)(void *)p;
        for (size_t i = 0; i < count; i++) {
            float v = f[i] * d->gain;
            if (v > 1.0f) { v = 1.0f; clipped++; }
            else if (v < -1.0f) { v = -1.0f; clipped++; }
            f[i] = v;
        }
    } else {
        size_t ss = ps_format_size(d->format);
        for (size_t i = 0; i < count; i++, p += ss) {
            double v = ps_sample_get(d->format, p) * d->gain;
            if (v >= 1.0 || v < -1.0)
                clipped++;
            ps_sample_set(d->format, p, v);      /* clips */
        }
    }
    if (clipped)
        atomic_fetch_add_explicit(&d->clipped, clipped, memory_order_relaxed);
}

/* Rate conversion: refill the empty src_in with up to a block of frames,
 * looping at the end of the file when asked (seek to 0, read on into the
 * same block; the converter never sees the seam).  Sets src_in_end when the
 * file ended (no loop, or a file with no frames).  `out` frames were
 * delivered before (for the error message).  Returns 0, or -1 after
 * recording an error. */
static int src_refill(struct ps_disk *d, int64_t out)
{
    size_t ch = (size_t)d->channels, done = 0;
    bool rewound = false;
    while (done < d->block) {
        sf_count_t want = (sf_count_t)(d->block - done);
        sf_count_t got = sf_readf_float(d->sf, d->src_in + done * ch, want);
        if (got < want && sf_error(d->sf) != SF_ERR_NO_ERROR)
            return record_error(d, "read error after %lld frames: %s", (long long)out,
                        sf_strerror(d->sf));
        if (got > 0) {
            done += (size_t)got;
            rewound = false;
        }
        if (done == d->block)
            break;
        if (!d->loop || rewound) {
            d->src_in_end = true;
            break;
        }
        if (sf_seek(d->sf, 0, SEEK_SET) < 0)
            return record_error(d, "read error after %lld frames: cannot seek to the "
                        "start to loop: %s", (long long)out, sf_strerror(d->sf));
        rewound = true;
    }
    d->src_in_pos = 0;
    d->src_in_len = done;
    return 0;
}

/* Rate conversion: fill the n frames at p (part of one ring region) with
 * converted frames.  After the file's last frame the converter gets
 * end_of_input until it has nothing more, then *end is set.  `before`
 * frames of this block were filled already.  Returns the frames filled, or
 * -1 after recording an error. */
static sf_count_t convert_region(struct ps_disk *d, unsigned char *p, size_t n,
                                 int64_t before, bool *end)
{
    size_t ch = (size_t)d->channels, fs = d->ring->elem_size, done = 0;
    while (done < n) {
        int64_t out = atomic_load_explicit(&d->frames, memory_order_relaxed) +
                      before + (int64_t)done;
        if (d->src_in_len == 0 && !d->src_in_end && src_refill(d, out) < 0)
            return -1;
        size_t room = n - done;
        float *dst = (float *)(void *)(p + done * fs);
        if (d->src_out) {
            dst = d->src_out;
            if (room > d->block)
                room = d->block;
        }
        SRC_DATA sd = {
            .data_in = d->src_in + d->src_in_pos * ch,
            .data_out = dst,
            .input_frames = (long)d->src_in_len,
            .output_frames = (long)room,
            .end_of_input = d->src_in_end,
            .src_ratio = d->src_ratio,
        };
        int e = src_process(d->src, &sd);
        if (e != 0)
            return record_error(d, "rate conversion error after %lld frames: %s",
                        (long long)out, src_strerror(e));
        size_t used = (size_t)sd.input_frames_used, gen = (size_t)sd.output_frames_gen;
        d->src_in_pos += used;
        d->src_in_len -= used;
        if (gen > 0 && d->src_out)
            float_to_ring(d->format, d->src_out, p + done * fs, gen * ch);
        done += gen;
        if (gen == 0 && d->src_in_end && d->src_in_len == 0) {
            *end = true;             /* drained: the tail is out */
            break;
        }
        if (gen == 0 && used == 0 && d->src_in_len > 0)
            return record_error(d, "rate conversion error after %lld frames: the "
                        "converter took no input", (long long)out);
    }
    return (sf_count_t)done;
}

static void *reader_main(void *arg)
{
    struct ps_disk *d = arg;
    int64_t left = d->limit;         /* < 0: no limit */
    bool end = left == 0;

    while (!end && atomic_load_explicit(&d->stop, memory_order_acquire) == STOP_NONE) {
        size_t want = d->block;
        if (left >= 0 && (uint64_t)left < want)
            want = (size_t)left;
        void *p1, *p2;
        size_t n1, n2;
        size_t n = ps_ring_write_regions(d->ring, want, &p1, &n1, &p2, &n2);
        if (n == 0) {                /* full: prefill is done; wait for room */
            set_ready(d);
            ps_wake_wait(d->wake, WAIT_MS);
            continue;
        }
        sf_count_t (*fill)(struct ps_disk *, unsigned char *, size_t, int64_t,
                           bool *) = d->src ? convert_region : fill_region;
        sf_count_t got = fill(d, p1, n1, 0, &end);
        sf_count_t got2 = 0;
        if (got >= 0 && !end && n2 > 0)
            got2 = fill(d, p2, n2, got, &end);
        if (got < 0 || got2 < 0)
            break;
        if (d->gain != 1.0f) {
            apply_gain(d, p1, (size_t)got);
            apply_gain(d, p2, (size_t)got2);
        }
        ps_ring_write_advance(d->ring, (size_t)(got + got2));
        add_frames(d, got + got2);
        if (left >= 0) {
            left -= got + got2;
            if (left == 0)
                end = true;
        }
    }
    /* Nothing is published after this: the consumer may trust eof + empty. */
    if (end && d->eof)
        atomic_store_explicit(d->eof, true, memory_order_release);
    set_ready(d);
    if (end || atomic_load_explicit(&d->failed, memory_order_relaxed))
        ps_wake_signal(d->notify);
    return NULL;
}

/* ---- creation and the rest of the API ---- */

void ps_disk_opts_init(ps_disk_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = PS_FLOAT32;
    o->frames = -1;
}

/* Free what create allocated besides d itself.  Returns nothing. */
static void free_buffers(struct ps_disk *d)
{
    if (d->src)
        src_delete(d->src);
    free(d->src_in);
    free(d->src_out);
    free(d->scratch);
    free(d->silence);
}

static ps_disk *create(bool writer, SNDFILE *sf, ps_ring *ring, ps_wake *wake,
                       atomic_bool *eof, const ps_disk_opts *o,
                       char *err, size_t errlen)
{
    SF_INFO info;
    struct ps_disk *d;
    const char *what = writer ? "writer" : "reader";

#define ERR(...) do { if (errlen) snprintf(err, errlen, __VA_ARGS__); } while (0)
    if (!sf || !ring || !wake || !o) {
        ERR("disk %s: no file, ring, wake or options", what);
        return NULL;
    }
    if ((unsigned)o->format >= PS_NFORMATS || o->channels < 0) {
        ERR("disk %s: bad format or channel count", what);
        return NULL;
    }
    memset(&info, 0, sizeof info);
    sf_command(sf, SFC_GET_CURRENT_SF_INFO, &info, sizeof info);
    int channels = o->channels ? o->channels : info.channels;
    if (channels != info.channels) {
        ERR("disk %s: %d channels, but the file has %d", what, channels,
            info.channels);
        return NULL;
    }
    if (ring->elem_size != (size_t)channels * ps_format_size(o->format)) {
        ERR("disk %s: ring frames of %zu bytes, but %d channels of %s are "
            "%zu bytes", what, ring->elem_size, channels,
            ps_format_name(o->format),
            (size_t)channels * ps_format_size(o->format));
        return NULL;
    }
    if (!writer && o->loop && !info.seekable) {
        ERR("cannot loop a pipe");
        return NULL;
    }
    double ratio = 1.0;
    bool convert = false;
    if (!writer) {
        if (!(o->out_rate >= 0 && isfinite(o->out_rate))) {
            ERR("disk reader: bad output rate %g", o->out_rate);
            return NULL;
        }
        if (o->src_quality < PS_SRC_DEFAULT || o->src_quality > PS_SRC_LINEAR) {
            ERR("disk reader: unknown converter quality %d", o->src_quality);
            return NULL;
        }
        convert = o->out_rate != 0 && o->out_rate != (double)info.samplerate;
        if (convert) {
            ratio = info.samplerate > 0 ? o->out_rate / info.samplerate : 0;
            if (!src_is_valid_ratio(ratio)) {
                ERR("disk reader: cannot convert %d Hz to %g Hz", info.samplerate,
                    o->out_rate);
                return NULL;
            }
        }
    }

    d = calloc(1, sizeof *d);
    if (!d) {
        ERR("disk %s: out of memory", what);
        return NULL;
    }
    d->sf = sf;
    d->ring = ring;
    d->wake = wake;
    d->notify = o->notify;
    d->eof = writer ? NULL : eof;
    d->writer = writer;
    d->seekable = info.seekable != 0;
    d->loop = !writer && o->loop;
    d->format = o->format;
    d->channels = channels;
    d->limit = writer ? -1 : o->frames;
    d->header_interval = o->header_interval == 0 ? DEFAULT_HEADER_INTERVAL
                                                 : o->header_interval;
    d->header_updates = writer && header_updatable(&info);
    if (!d->header_updates)
        d->header_interval = -1;
    d->block = o->block_frames ? o->block_frames : DEFAULT_BLOCK;
    d->gain = (writer || o->gain == 0) ? 1.0f : (float)o->gain;
    atomic_init(&d->clipped, 0);
    atomic_init(&d->stop, STOP_NONE);
    atomic_init(&d->frames, 0);
    atomic_init(&d->failed, false);

    /* Pick the path, and set the conversion flags it relies on. */
    bool float_file = is_float_file(info.format);
    switch (o->format) {
    case PS_FLOAT32:
        d->path = IO_FLOAT;
        if (writer && (d->file_bits = pcm_bits(info.format)) > 0)
            d->path = IO_VIA_INT;
        d->dither = writer && d->path == IO_VIA_INT && o->dither;
        d->rng = 0x9E3779B97F4A7C15ULL;
        break;
    case PS_INT32: d->path = IO_INT; break;
    case PS_INT16: d->path = IO_SHORT; break;
    default:       d->path = IO_VIA_INT; break;
    }
    if (!writer && o->format != PS_FLOAT32 && float_file)
        d->path = IO_VIA_FLOAT;
    sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    if (writer) {
        sf_command(sf, SFC_SET_SCALE_INT_FLOAT_WRITE, NULL, SF_TRUE);
        sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    }

    if (convert) {
        int type = o->src_quality == PS_SRC_DEFAULT ? SRC_SINC_MEDIUM_QUALITY
                                                    : o->src_quality - 1;
        int e = 0;
        d->src_ratio = ratio;
        d->src = src_new(type, channels, &e);
        if (!d->src) {
            ERR("disk reader: no rate converter: %s", src_strerror(e));
            free(d);
            return NULL;
        }
        d->src_in = calloc(d->block * (size_t)channels, sizeof(float));
        if (o->format != PS_FLOAT32)
            d->src_out = calloc(d->block * (size_t)channels, sizeof(float));
        if (!d->src_in || (o->format != PS_FLOAT32 && !d->src_out)) {
            ERR("disk %s: out of memory for a %zu-frame block", what, d->block);
            goto fail_alloc;
        }
    } else if (d->path == IO_VIA_INT || d->path == IO_VIA_FLOAT) {
        /* 4 bytes: an int32 or a float per sample. */
        d->scratch = calloc(d->block * (size_t)channels, 4);
        if (!d->scratch) {
            ERR("disk %s: out of memory for a %zu-frame block", what, d->block);
            goto fail_alloc;
        }
    }

    if (writer && o->gaps) {
        size_t bytes = d->block * (size_t)channels * ps_format_size(o->format);
        d->gaps = o->gaps;
        d->silence = malloc(bytes);
        if (!d->silence) {
            ERR("disk %s: out of memory for a %zu-frame block", what, d->block);
            goto fail_alloc;
        }
        memset(d->silence, ps_sample_silence(o->format), bytes);
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&d->lock, NULL);

    if (d->eof)
        atomic_store_explicit(d->eof, false, memory_order_release);

    /* Block signals in the thread (see disk.h); it inherits our mask.  Not
     * the ones a fault raises: blocked, they would be undefined behaviour,
     * and crash handlers (sanitizers, core dumps) must still see them. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGTRAP);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&d->thread, NULL, writer ? writer_main : reader_main, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        ERR("disk %s: cannot start a thread: %s", what, strerror(rc));
        pthread_cond_destroy(&d->cond);
        pthread_mutex_destroy(&d->lock);
        goto fail_alloc;
    }
#undef ERR
    return d;

fail_alloc:
    free_buffers(d);
    free(d);
    return NULL;
}

ps_disk *ps_disk_writer(SNDFILE *sf, ps_ring *ring, ps_wake *wake,
                        const ps_disk_opts *o, char *err, size_t errlen)
{
    return create(true, sf, ring, wake, NULL, o, err, errlen);
}

ps_disk *ps_disk_reader(SNDFILE *sf, ps_ring *ring, ps_wake *wake,
                        atomic_bool *eof, const ps_disk_opts *o,
                        char *err, size_t errlen)
{
    return create(false, sf, ring, wake, eof, o, err, errlen);
}

int ps_disk_prefill(ps_disk *d, int timeout_ms)
{
    if (d->writer)
        return 0;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms > 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    int timed_out = 0;
    pthread_mutex_lock(&d->lock);
    while (!d->ready && !timed_out) {
        if (timeout_ms < 0)
            pthread_cond_wait(&d->cond, &d->lock);
        else
            timed_out = pthread_cond_timedwait(&d->cond, &d->lock, &until) == ETIMEDOUT;
    }
    bool ready = d->ready;
    pthread_mutex_unlock(&d->lock);
    if (ps_disk_failed(d))
        return -1;
    return ready ? 0 : 1;
}

int ps_disk_finish(ps_disk *d, int drain)
{
    if (!d->joined) {
        atomic_store_explicit(&d->stop, drain ? STOP_DRAIN : STOP_DROP,
                              memory_order_release);
        ps_wake_signal(d->wake);
        pthread_join(d->thread, NULL);
        d->joined = true;
    }
    return ps_disk_failed(d) ? -1 : 0;
}

int64_t ps_disk_clipped(const ps_disk *d)
{
    return atomic_load_explicit(&((ps_disk *)d)->clipped, memory_order_relaxed);
}

const char *ps_disk_error(const ps_disk *d)
{
    return ps_disk_failed(d) ? d->errmsg : NULL;
}

int64_t ps_disk_frames(const ps_disk *d)
{
    return atomic_load_explicit(&d->frames, memory_order_acquire);
}

int ps_disk_failed(const ps_disk *d)
{
    return atomic_load_explicit(&d->failed, memory_order_acquire) ? 1 : 0;
}

void ps_disk_free(ps_disk *d)
{
    if (!d)
        return;
    ps_disk_finish(d, 0);
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    free_buffers(d);
    free(d);
}

/* Write the whole of data (frames of `channels` samples of format f,
 * interleaved, native endian) to sf, converted as a writer converts (see
 * disk.h), on the calling thread.  Returns 0, or -1 with a message in err. */
int ps_disk_write_all(SNDFILE *sf, ps_format f, int channels, const void *data,
                      int64_t frames, int dither, uint64_t *rng, char *err, size_t errlen)
{
    struct ps_disk d;
    SF_INFO info;
    memset(&d, 0, sizeof d);
    memset(&info, 0, sizeof info);
    sf_command(sf, SFC_GET_CURRENT_SF_INFO, &info, sizeof info);
    d.sf = sf;
    d.writer = true;
    d.format = f;
    d.channels = channels;
    d.block = DEFAULT_BLOCK;
    d.rng = rng && *rng ? *rng : 0x9E3779B97F4A7C15ULL;
    switch (f) {
    case PS_FLOAT32:
        d.path = (d.file_bits = pcm_bits(info.format)) > 0 ? IO_VIA_INT : IO_FLOAT;
        d.dither = d.path == IO_VIA_INT && dither;
        break;
    case PS_INT32: d.path = IO_INT; break;
    case PS_INT16: d.path = IO_SHORT; break;
    default:       d.path = IO_VIA_INT; break;
    }
    sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    sf_command(sf, SFC_SET_SCALE_INT_FLOAT_WRITE, NULL, SF_TRUE);
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    if (d.path == IO_VIA_INT && !(d.scratch = calloc(d.block * (size_t)channels, 4))) {
        snprintf(err, errlen, "out of memory for a %zu-frame block", d.block);
        return -1;
    }
    size_t fb = (size_t)channels * ps_format_size(f);
    int r = 0;
    for (int64_t at = 0; at < frames && r == 0; ) {
        size_t n = frames - at < (int64_t)d.block ? (size_t)(frames - at) : d.block;
        r = write_region(&d, (const unsigned char *)data + (size_t)at * fb, n);
        at += (int64_t)n;
    }
    if (r < 0)
        snprintf(err, errlen, "%s", d.errmsg);
    if (rng)
        *rng = d.rng;
    free(d.scratch);
    return r;
}
