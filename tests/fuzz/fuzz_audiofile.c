/* Fuzz target: a corrupted sound file through the playback path.  The input
 * is written to a scratch file and opened as a stream's file playback opens
 * it (ps_sf_open in src/sfformat.c, then the checks of lstream.c's
 * attach_reader), then a disk reader thread (src/disk.c) reads it into a
 * ring buffer while this thread drains the ring, as the realtime callback
 * would, until the reader ends or fails.
 *
 * The last byte of the input (usually ignored by the file's parser) picks
 * the ring's sample format, a small block size, looping and a resampling
 * rate, so that every path of the reader sees broken files.
 *
 * With FUZZ_PIPE=1 in the environment, inputs whose last byte has bit 7 set
 * come down a pipe as standard input instead (the playback path's "-",
 * which libsndfile reads without seeking).  It is off by default because
 * libsndfile 1.2.0 (Debian 12) itself fails there within a minute or two:
 * a broken W64 header loops forever in sf_open_fd, and a broken MPEG
 * stream makes it read past a heap buffer (both only from a pipe; the same
 * bytes from a file are refused).  Those inputs are kept in
 * tests/fuzz/upstream/audiofile/ for a report upstream.  A
 * refusal (libsndfile's error, a failed reader) is an expected answer; a
 * crash, a sanitizer report, a hang, or frames delivered that the reader
 * did not count (or more than asked for) are findings. */
#include <fcntl.h>
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

/* Make standard input a pipe holding the input (it fits in the pipe's
 * buffer: libFuzzer's -max_len is below 64 KB), closed at its end.
 * Returns 0, or -1 if it is too long for that. */
static int stdin_pipe(const uint8_t *p, size_t n)
{
    int fd[2];
    if (pipe(fd) < 0) {
        perror("fuzz_audiofile: pipe");
        abort();
    }
    int cap = fcntl(fd[1], F_GETPIPE_SZ);
    if (cap < 0 || n > (size_t)cap || write(fd[1], p, n) != (ssize_t)n) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    close(fd[1]);
    if (fd[0] != STDIN_FILENO) {               /* 0 once the last pipe was closed */
        dup2(fd[0], STDIN_FILENO);
        close(fd[0]);
    }
    return 0;
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
    unsigned pick = data[size - 1];
    static int pipes = -1;
    if (pipes < 0)
        pipes = getenv("FUZZ_PIPE") && strcmp(getenv("FUZZ_PIPE"), "1") == 0;
    int piped = pipes && (pick & 128) && stdin_pipe(data, size) == 0;
    if (!piped)
        write_scratch(data, size);

    SF_INFO info;
    memset(&info, 0, sizeof info);
    int is_pipe;
    SNDFILE *sf = ps_sf_open(piped ? "-" : path, SFM_READ, &info, &is_pipe);
    if (piped && !is_pipe)
        FINDING("standard input is a pipe, but ps_sf_open says it is not");
    if (!sf) {                                 /* refused: libsndfile's message */
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "fuzz_audiofile: refused%s: %s\n", piped ? " from a pipe" : "",
                    sf_strerror(NULL));
        goto done;
    }
    /* What attach_reader refuses before a reader is made (it takes any
     * sample rate: a rate unlike the stream's is converted). */
    if (info.channels > PS_MAXCH) {
        sf_close(sf);
        goto done;
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
            fprintf(stderr, "fuzz_audiofile: %d ch, %d Hz: %lld frames as %s%s%s%s\n",
                    info.channels, info.samplerate, (long long)taken, ps_format_name(o.format),
                    o.loop ? ", looping" : "", o.out_rate > 0 ? ", resampled" : "",
                    piped ? ", from a pipe" : "");
        ps_disk_free(d);
    } else if (!*err) {
        FINDING("the reader was refused without a message");
    }
    ps_wake_close(&wake);
    sf_close(sf);
    free(mem);
    free(scratch);
done:
    if (piped)
        close(STDIN_FILENO);                   /* sf_open_fd left it open */
    return 0;
}
