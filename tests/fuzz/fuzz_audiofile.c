/* Fuzz target: a corrupted sound file through the playback path.  The input
 * is written to a scratch file and opened as a stream's file playback opens
 * it (ps_sf_open in src/sfformat.c, then the checks of lstream.c's
 * attach_reader), then a disk reader thread (src/disk.c) reads it into a
 * ring buffer while this thread drains the ring, as the realtime callback
 * would, until the reader ends or fails.
 *
 * The last byte of the input (usually ignored by the file's parser) picks
 * the ring's sample format, a small block size, looping, and a resampling
 * rate, so that every conversion path of the reader sees broken files.  A
 * refusal (libsndfile's error, a failed reader) is an expected answer; a
 * crash, a sanitizer report, a hang, or frames delivered that the reader
 * did not count (or more than asked for) are findings. */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "engine.h"
#include "sfformat.h"

/* libvorbis leaks what vorbis_info_init allocated when a crafted Ogg file
 * fails to open (xiph/vorbis issue 125, not fixed in Debian 12's 1.3.7):
 * not ours to fix.  Nothing else is suppressed: a SNDFILE left open is a
 * leak reported from libsndfile's frames. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libvorbis.so\n"; }

#define FINDING(...) (fprintf(stderr, "fuzz_audiofile: " __VA_ARGS__), fputc('\n', stderr), abort())
#define RING_FRAMES 1024

static char path[4096];

static void remove_scratch(void) { unlink(path); }

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/fuzz_audiofile_XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("fuzz_audiofile: mkstemp");
        abort();
    }
    close(fd);
    atexit(remove_scratch);
}

static void write_scratch(const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror("fuzz_audiofile: the scratch file");
        abort();
    }
}

/* Drain the ring as the callback would, until the reader has published its
 * last frame (eof) or failed.  Returns the frames taken. */
static int64_t drain(ps_disk *d, ps_ring *ring, ps_wake *wake, atomic_bool *eof,
                     unsigned char *scratch)
{
    int64_t taken = 0;
    for (;;) {
        int end = atomic_load_explicit(eof, memory_order_acquire);
        size_t n = ps_ring_read(ring, scratch, RING_FRAMES);
        taken += (int64_t)n;
        if (n) {
            ps_wake_signal(wake);
            continue;
        }
        if (end || ps_disk_failed(d))
            return taken;
        ps_wake_signal(wake);
        sched_yield();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!*path)
        setup();
    if (size < 1)
        return 0;
    write_scratch(data, size);
    unsigned pick = data[size - 1];

    SF_INFO info;
    memset(&info, 0, sizeof info);
    int is_pipe;
    SNDFILE *sf = ps_sf_open(path, SFM_READ, &info, &is_pipe);
    if (!sf)
        return 0;                              /* refused: libsndfile's message */
    /* What attach_reader refuses before a reader is made (it takes any
     * sample rate: a rate unlike the stream's is converted). */
    if (info.channels > PS_MAXCH) {
        sf_close(sf);
        return 0;
    }
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    o.format = (ps_format)(pick % PS_NFORMATS);
    o.channels = info.channels;
    o.block_frames = (pick & 8) ? 100 : 0;     /* 100: not a divisor of the ring */
    o.loop = (pick & 16) != 0;
    /* A looping file has no end, and a broken header can make a codec decode
     * millions of frames from a few bytes: past 65536 frames nothing new
     * happens, only slower. */
    o.frames = o.loop ? 3000 : 65536;
    if (pick & 32)
        o.out_rate = (pick & 64) ? 48000 : info.samplerate * 1.5;

    size_t fb = (size_t)info.channels * ps_format_size(o.format);
    void *mem = malloc(RING_FRAMES * fb);
    unsigned char *scratch = malloc(RING_FRAMES * fb);
    ps_ring ring;
    ps_wake wake;
    atomic_bool eof;
    char err[256] = "";
    if (!mem || !scratch || ps_ring_init(&ring, mem, fb, RING_FRAMES) != 0 || ps_wake_open(&wake) < 0)
        FINDING("cannot set up a ring of %zu-byte frames", fb);
    ps_disk *d = ps_disk_reader(sf, &ring, &wake, &eof, &o, err, sizeof err);
    if (d) {
        int64_t taken = drain(d, &ring, &wake, &eof, scratch);
        ps_disk_finish(d, 0);
        int64_t counted = ps_disk_frames(d);
        if (taken != counted)
            FINDING("the ring gave %lld frames, the reader counted %lld",
                    (long long)taken, (long long)counted);
        if (o.frames >= 0 && taken > o.frames)
            FINDING("%lld frames delivered, more than the %lld asked for",
                    (long long)taken, (long long)o.frames);
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "fuzz_audiofile: %d ch, %d Hz: %lld frames as %s%s%s\n",
                    info.channels, info.samplerate, (long long)taken, ps_format_name(o.format),
                    o.loop ? ", looping" : "", o.out_rate > 0 ? ", resampled" : "");
        ps_disk_free(d);
    } else if (!*err) {
        FINDING("the reader was refused without a message");
    }
    ps_wake_close(&wake);
    sf_close(sf);
    free(mem);
    free(scratch);
    return 0;
}
