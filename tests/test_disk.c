/* Tests for src/disk.c: recording and playback threads against libsndfile.
 *
 *     test_disk
 *
 * A simulated realtime side (a thread that moves fixed blocks into or out of
 * the ring as fast as the ring allows and signals the wake after each one)
 * stands in for the engine; no audio device is involved.  Files go to a
 * fresh directory under /tmp, removed at the end.
 *
 * $PS_DISK_SCALE (default 1) divides the frame counts, for the sanitizer
 * builds, which are 5-20x slower. */
#include "disk.h"
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static int64_t scale = 1;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

static const char *path_of(const char *name)
{
    static char buf[4][384];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* ---- signals: frame i of a generator, in any ring format ---- */

typedef struct gen {
    ps_format f;
    int ch;
    int grid;        /* float32 only: 0 any value, else multiples of 2^-(grid-1) */
    uint64_t seed;
} gen;

static uint32_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)(x ^ (x >> 31));
}

static size_t frame_bytes(const gen *g)
{
    return (size_t)g->ch * ps_format_size(g->f);
}

/* The sample as a left-justified int32 (what sf_readf_int returns). */
static int32_t gen_int(const gen *g, int64_t i, int c)
{
    uint32_t h = mix(((uint64_t)i << 6) + (uint64_t)c + g->seed * 0x1000003ull);
    switch (g->f) {
    case PS_FLOAT32: {
        int grid = g->grid ? g->grid : 32;
        return (int32_t)(h >> (32 - grid) << (32 - grid));
    }
    case PS_INT32: return (int32_t)h;
    case PS_INT24: return (int32_t)(h & 0xffffff00u);
    case PS_INT16: return (int32_t)(h & 0xffff0000u);
    default:       return (int32_t)(h & 0xff000000u);
    }
}

static void gen_sample(const gen *g, int64_t i, int c, unsigned char *p)
{
    int32_t v = gen_int(g, i, c);
    switch (g->f) {
    case PS_FLOAT32: {
        float x = (float)ldexp((double)v, -31);
        memcpy(p, &x, 4);
        break;
    }
    case PS_INT32: memcpy(p, &v, 4); break;
    case PS_INT24: {
        uint32_t u = (uint32_t)v >> 8;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        p[0] = u & 0xff; p[1] = (u >> 8) & 0xff; p[2] = (u >> 16) & 0xff;
#else
        p[2] = u & 0xff; p[1] = (u >> 8) & 0xff; p[0] = (u >> 16) & 0xff;
#endif
        break;
    }
    case PS_INT16: { int16_t s = (int16_t)(v >> 16); memcpy(p, &s, 2); break; }
    case PS_INT8:  *p = (unsigned char)(v >> 24); break;
    case PS_UINT8: *p = (unsigned char)((v >> 24) + 128); break;
    default: break;
    }
}

/* Frames first..first+n-1, where frame i is the generator's i % period
 * (period 0: no wrap). */
static void gen_frames(const gen *g, int64_t first, int64_t period, size_t n,
                       unsigned char *dst)
{
    size_t ss = ps_format_size(g->f);
    for (size_t k = 0; k < n; k++) {
        int64_t i = first + (int64_t)k;
        if (period > 0)
            i %= period;
        for (int c = 0; c < g->ch; c++)
            gen_sample(g, i, c, dst + (k * (size_t)g->ch + (size_t)c) * ss);
    }
}

/* Write frames 0..n-1 of g to a file with plain libsndfile.  Returns 0. */
static int write_file(const char *path, int sfformat, const gen *g, int64_t n)
{
    SF_INFO info = { .samplerate = 48000, .channels = g->ch, .format = sfformat };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        printf("# %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    sf_command(sf, SFC_SET_SCALE_INT_FLOAT_WRITE, NULL, SF_TRUE);
    enum { B = 1000 };
    int32_t *buf = malloc(sizeof *buf * B * (size_t)g->ch);
    for (int64_t i = 0; i < n; i += B) {
        int64_t m = n - i < B ? n - i : B;
        for (int64_t k = 0; k < m; k++)
            for (int c = 0; c < g->ch; c++)
                buf[k * g->ch + c] = gen_int(g, i + k, c);
        sf_writef_int(sf, buf, m);
    }
    free(buf);
    sf_close(sf);
    return 0;
}

/* Read a whole file back with plain libsndfile and compare with frames
 * 0..n-1 of g: integer files as left-justified ints, float files as the
 * floats the ring samples stand for.  Returns the mismatching samples;
 * *frames gets the file's length. */
static int64_t read_back(const char *path, const gen *g, int64_t n, int64_t *frames)
{
    SF_INFO info = { 0 };
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    *frames = -1;
    if (!sf) {
        printf("# %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    *frames = info.frames;
    int sub = info.format & SF_FORMAT_SUBMASK;
    bool fl = sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
    enum { B = 4096 };
    int32_t *buf = malloc(4 * B * (size_t)g->ch);
    unsigned char one[4];
    int64_t bad = 0, i = 0;
    while (i < n) {
        sf_count_t want = n - i < B ? n - i : B, got;
        got = fl ? sf_readf_float(sf, (float *)buf, want) : sf_readf_int(sf, buf, want);
        if (got <= 0)
            break;
        for (sf_count_t k = 0; k < got; k++)
            for (int c = 0; c < g->ch; c++) {
                size_t at = (size_t)k * (size_t)g->ch + (size_t)c;
                if (fl) {
                    gen_sample(g, i + k, c, one);
                    float want_f = (float)ps_sample_get(g->f, one), have;
                    memcpy(&have, &buf[at], 4);
                    bad += memcmp(&have, &want_f, 4) != 0;
                } else {
                    bad += buf[at] != gen_int(g, i + k, c);
                }
            }
        i += got;
    }
    bad += (n - i) * g->ch;          /* missing samples count as wrong */
    free(buf);
    sf_close(sf);
    return bad;
}

/* ---- the simulated realtime side ---- */

typedef struct sim {
    ps_ring *ring;
    ps_wake *wake;
    gen g;
    size_t block;            /* frames per "callback" */
    int64_t first;           /* producer: index of its first frame */
    int64_t total;           /* producer: frames to produce; consumer: stop
                                after this many (< 0: at eof) */
    int64_t period;          /* consumer: expected frame i is gen(i % period) */
    int64_t expect;          /* consumer: frames before eof (< 0: unknown) */
    atomic_bool *eof;        /* consumer: the reader's end flag */
    ps_disk *disk;           /* producer: stop early if it failed */
    int64_t rss_at;          /* producer: sample VmRSS when done passes this */
    long rss_kb;
    /* results */
    int64_t done, bad, eof_bad, stalls;
    bool saw_eof;
} sim;

static long __attribute__((unused)) vmrss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* What a long recording must not grow.  The resident set, in the plain
 * build (make check).  Under a sanitizer (make asan, make tsan) the heap
 * the program has allocated, as the sanitizer's allocator counts it: the
 * resident set there also holds the sanitizer's own shadow and metadata,
 * which grow as the threads touch new memory and synchronise (tsan once
 * saw +1036 kB over 9 M frames), and are not the program's. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
size_t __sanitizer_get_current_allocated_bytes(void);
static long mem_kb(void) { return (long)(__sanitizer_get_current_allocated_bytes() / 1024); }
#define MEM_WHAT "heap"
#else
static long mem_kb(void) { return vmrss_kb(); }
#define MEM_WHAT "VmRSS"
#endif

static void *producer_main(void *arg)
{
    sim *s = arg;
    while (s->done < s->total) {
        size_t n = s->block;
        if ((int64_t)n > s->total - s->done)
            n = (size_t)(s->total - s->done);
        void *p1, *p2;
        size_t n1, n2;
        if (ps_ring_write_available(s->ring) < n) {
            /* The engine would abort with BufferFull; the test waits, as
             * a callback period would, so no frame is lost. */
            if (s->disk && ps_disk_failed(s->disk))
                break;
            s->stalls++;
            ps_wake_signal(s->wake);
            sleep_us(50);
            continue;
        }
        ps_ring_write_regions(s->ring, n, &p1, &n1, &p2, &n2);
        gen_frames(&s->g, s->first + s->done, 0, n1, p1);
        if (n2)
            gen_frames(&s->g, s->first + s->done + (int64_t)n1, 0, n2, p2);
        ps_ring_write_advance(s->ring, n);
        s->done += (int64_t)n;
        ps_wake_signal(s->wake);
        if (s->rss_at > 0 && s->done >= s->rss_at && s->rss_kb == 0)
            s->rss_kb = mem_kb();
    }
    return NULL;
}

static void *consumer_main(void *arg)
{
    sim *s = arg;
    size_t fb = frame_bytes(&s->g);
    unsigned char *got = malloc(s->block * fb), *want = malloc(s->block * fb);
    for (;;) {
        if (s->total >= 0 && s->done >= s->total)
            break;
        bool e = s->eof && atomic_load_explicit(s->eof, memory_order_acquire);
        size_t avail = ps_ring_read_available(s->ring);
        if (e && !s->saw_eof) {
            /* eof is set only after the last frame: all of them are here. */
            s->saw_eof = true;
            if (s->expect >= 0 && s->done + (int64_t)avail != s->expect)
                s->eof_bad++;
        }
        if (avail == 0) {
            if (e)
                break;
            sleep_us(50);
            continue;
        }
        size_t n = avail < s->block ? avail : s->block;
        if (s->total >= 0 && (int64_t)n > s->total - s->done)
            n = (size_t)(s->total - s->done);
        ps_ring_read(s->ring, got, n);
        gen_frames(&s->g, s->done, s->period, n, want);
        for (size_t k = 0; k < n; k++)
            s->bad += memcmp(got + k * fb, want + k * fb, fb) != 0;
        s->done += (int64_t)n;
        ps_wake_signal(s->wake);
    }
    free(got);
    free(want);
    return NULL;
}

/* A ring of `cap` frames for g, with its memory. */
typedef struct ring {
    ps_ring r;
    void *mem;
} ring;

static void ring_open(ring *rb, const gen *g, size_t cap)
{
    rb->mem = malloc(cap * frame_bytes(g));
    ps_ring_init(&rb->r, rb->mem, frame_bytes(g), cap);
}

static void ring_close(ring *rb)
{
    free(rb->mem);
}

/* ---- recording and playback for every format pair ---- */

typedef struct pair {
    const char *name, *file;
    ps_format f;
    int grid;
    int sfformat;
} pair;

/* Record n frames of g through a writer, check the file, then play it back
 * through a reader and check the ring's frames.  Returns nothing. */
static void record_and_play(const pair *p, int ch, int64_t n)
{
    gen g = { p->f, ch, p->grid, 7 };
    const char *path = path_of(p->file);
    double t0 = now_s();
    ps_wake wake;
    ring rb;
    char err[256] = "";
    ps_disk_opts o;

    ps_wake_open(&wake);
    ring_open(&rb, &g, 4096);
    SF_INFO info = { .samplerate = 48000, .channels = ch, .format = p->sfformat };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    CHECK(sf != NULL, "%s: open %s for writing", p->name, p->file);
    if (!sf)
        return;
    ps_disk_opts_init(&o);
    o.format = p->f;
    o.block_frames = 1000;           /* not a divisor of the ring or the callback */
    o.header_interval = 0.002;       /* header rewrites must not disturb the data */
    ps_disk *d = ps_disk_writer(sf, &rb.r, &wake, &o, err, sizeof err);
    CHECK(d != NULL, "%s: writer created (%s)", p->name, err);
    sim s = { .ring = &rb.r, .wake = &wake, .g = g, .block = 256, .total = n,
              .disk = d };
    pthread_t t;
    pthread_create(&t, NULL, producer_main, &s);
    pthread_join(t, NULL);
    CHECK_EQ(ps_disk_finish(d, 1), 0, "%s: writer finished cleanly", p->name);
    CHECK_EQ(ps_disk_frames(d), n, "%s: writer wrote every frame", p->name);
    ps_disk_free(d);
    sf_close(sf);

    int64_t frames;
    int64_t bad = read_back(path, &g, n, &frames);
    CHECK_EQ(frames, n, "%s: file length", p->name);
    CHECK_EQ(bad, 0, "%s: file content bit-exact (libsndfile read)", p->name);
    double t1 = now_s();

    /* Play it back. */
    atomic_bool eof;
    memset(&info, 0, sizeof info);
    sf = sf_open(path, SFM_READ, &info);
    ps_ring_reset(&rb.r);
    ps_disk_opts_init(&o);
    o.format = p->f;
    o.block_frames = 1500;
    d = ps_disk_reader(sf, &rb.r, &wake, &eof, &o, err, sizeof err);
    CHECK(d != NULL, "%s: reader created (%s)", p->name, err);
    sim c = { .ring = &rb.r, .wake = &wake, .g = g, .block = 256, .total = -1,
              .expect = n, .eof = &eof };
    pthread_create(&t, NULL, consumer_main, &c);
    pthread_join(t, NULL);
    CHECK_EQ(ps_disk_finish(d, 0), 0, "%s: reader finished cleanly", p->name);
    CHECK_EQ(c.done, n, "%s: played every frame", p->name);
    CHECK_EQ(c.bad, 0, "%s: played frames bit-exact", p->name);
    CHECK(c.saw_eof && c.eof_bad == 0, "%s: eof set right after the last frame",
          p->name);
    ps_disk_free(d);
    sf_close(sf);
    ring_close(&rb);
    ps_wake_close(&wake);
    printf("# %s: %lld frames x %d ch: record %.0f ms, play %.0f ms\n", p->name,
           (long long)n, ch, (t1 - t0) * 1e3, (now_s() - t1) * 1e3);
}

static void test_formats(void)
{
    static const pair pairs[] = {
        { "float32 -> WAV FLOAT", "f32.wav", PS_FLOAT32, 0, SF_FORMAT_WAV | SF_FORMAT_FLOAT },
        { "int16 -> WAV PCM_16", "i16.wav", PS_INT16, 0, SF_FORMAT_WAV | SF_FORMAT_PCM_16 },
        { "int24 -> WAV PCM_24", "i24.wav", PS_INT24, 0, SF_FORMAT_WAV | SF_FORMAT_PCM_24 },
        { "int32 -> WAV PCM_32", "i32.wav", PS_INT32, 0, SF_FORMAT_WAV | SF_FORMAT_PCM_32 },
        { "uint8 -> WAV PCM_U8", "u8.wav", PS_UINT8, 0, SF_FORMAT_WAV | SF_FORMAT_PCM_U8 },
        { "int8 -> AIFF PCM_S8", "s8.aiff", PS_INT8, 0, SF_FORMAT_AIFF | SF_FORMAT_PCM_S8 },
        { "int16 -> FLAC PCM_16", "i16.flac", PS_INT16, 0, SF_FORMAT_FLAC | SF_FORMAT_PCM_16 },
        { "int24 -> FLAC PCM_24", "i24.flac", PS_INT24, 0, SF_FORMAT_FLAC | SF_FORMAT_PCM_24 },
        /* Cross pairs: the scaling choices of disk.h. */
        { "float32 (k/32768) -> WAV PCM_16", "f16.wav", PS_FLOAT32, 16, SF_FORMAT_WAV | SF_FORMAT_PCM_16 },
        { "float32 (k/2^23) -> FLAC PCM_24", "f24.flac", PS_FLOAT32, 24, SF_FORMAT_FLAC | SF_FORMAT_PCM_24 },
        { "int16 -> WAV FLOAT", "i16f.wav", PS_INT16, 0, SF_FORMAT_WAV | SF_FORMAT_FLOAT },
        { "int24 -> WAV FLOAT", "i24f.wav", PS_INT24, 0, SF_FORMAT_WAV | SF_FORMAT_FLOAT },
        { "uint8 -> WAV DOUBLE", "u8d.wav", PS_UINT8, 0, SF_FORMAT_WAV | SF_FORMAT_DOUBLE },
        { "int16 -> WAV PCM_24", "i16w.wav", PS_INT16, 0, SF_FORMAT_WAV | SF_FORMAT_PCM_24 },
    };
    int64_t n = 200003 / scale;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        record_and_play(&pairs[i], i == 4 ? 1 : 2, n);
}

/* Lossy codecs: only the length can be checked. */
static void test_lossy(void)
{
    gen g = { PS_FLOAT32, 2, 0, 37 };
    int64_t n = 48000 / (scale > 4 ? 4 : scale), frames;
    const char *path = path_of("lossy.ogg");
    ps_wake wake;
    ring rb;
    char err[256] = "";
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    o.header_interval = 0.002;
    ps_wake_open(&wake);
    ring_open(&rb, &g, 4096);
    SF_INFO info = { .samplerate = 48000, .channels = 2,
                     .format = SF_FORMAT_OGG | SF_FORMAT_VORBIS };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        printf("# no OGG Vorbis in this libsndfile: %s\n", sf_strerror(NULL));
        ring_close(&rb);
        ps_wake_close(&wake);
        return;
    }
    ps_disk *d = ps_disk_writer(sf, &rb.r, &wake, &o, err, sizeof err);
    sim s = { .ring = &rb.r, .wake = &wake, .g = g, .block = 256, .total = n, .disk = d };
    pthread_t t;
    pthread_create(&t, NULL, producer_main, &s);
    pthread_join(t, NULL);
    CHECK_EQ(ps_disk_finish(d, 1), 0, "OGG Vorbis: writer finished");
    ps_disk_free(d);
    sf_close(sf);
    read_back(path, &g, 0, &frames);
    CHECK_EQ(frames, n, "OGG Vorbis: file length");
    ring_close(&rb);
    ps_wake_close(&wake);
}

/* float32 outside [-1, 1) into PCM clips instead of wrapping around. */
static void test_clipping(void)
{
    const char *path = path_of("clip.wav");
    float in[6] = { 1.5f, -1.5f, 1.0f, -1.0f, 32767.0f / 32768, NAN };
    ps_wake wake;
    ps_ring r;
    float mem[8];
    char err[256];
    ps_disk_opts o;

    ps_wake_open(&wake);
    ps_ring_init(&r, mem, 4, 8);
    ps_ring_write(&r, in, 6);
    SF_INFO info = { .samplerate = 48000, .channels = 1,
                     .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    ps_disk_opts_init(&o);
    ps_disk *d = ps_disk_writer(sf, &r, &wake, &o, err, sizeof err);
    CHECK_EQ(ps_disk_finish(d, 1), 0, "clipping: writer finished");
    ps_disk_free(d);
    sf_close(sf);
    memset(&info, 0, sizeof info);
    sf = sf_open(path, SFM_READ, &info);
    short s[6] = { 0 };
    CHECK_EQ(sf_readf_short(sf, s, 6), 6, "clipping: 6 frames");
    sf_close(sf);
    CHECK(s[0] == 32767 && s[1] == -32768 && s[2] == 32767 && s[3] == -32768 &&
          s[4] == 32767 && s[5] == 0,
          "clipping: 1.5 -1.5 1 -1 32767/32768 NaN -> %d %d %d %d %d %d",
          s[0], s[1], s[2], s[3], s[4], s[5]);

    /* Rounding, both ways: float32 -> PCM_16, and a FLOAT file -> int16. */
    float q[6] = { 0.6f / 32768, -0.6f / 32768, 0.4f / 32768, 100.5001f / 32768,
                   1.5f, -1.5f };
    ps_ring_reset(&r);
    ps_ring_write(&r, q, 6);
    info = (SF_INFO){ .samplerate = 48000, .channels = 1,
                      .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
    sf = sf_open(path, SFM_WRITE, &info);
    d = ps_disk_writer(sf, &r, &wake, &o, err, sizeof err);
    ps_disk_finish(d, 1);
    ps_disk_free(d);
    sf_close(sf);
    sf = sf_open(path, SFM_READ, &info);
    memset(s, 0, sizeof s);
    sf_readf_short(sf, s, 6);
    sf_close(sf);
    CHECK(s[0] == 1 && s[1] == -1 && s[2] == 0 && s[3] == 101,
          "rounding float32 -> PCM_16: %d %d %d %d", s[0], s[1], s[2], s[3]);

    const char *fpath = path_of("round.wav");
    SF_INFO fi = { .samplerate = 48000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    sf = sf_open(fpath, SFM_WRITE, &fi);
    sf_writef_float(sf, q, 6);
    sf_close(sf);
    sf = sf_open(fpath, SFM_READ, &fi);
    int16_t m16[8];
    ps_ring r16;
    ps_ring_init(&r16, m16, 2, 8);
    ps_disk_opts_init(&o);
    o.format = PS_INT16;
    d = ps_disk_reader(sf, &r16, &wake, NULL, &o, err, sizeof err);
    CHECK_EQ(ps_disk_prefill(d, 5000), 0, "rounding FLOAT -> int16: read");
    ps_disk_free(d);
    sf_close(sf);
    short t[6] = { 0 };
    CHECK_EQ(ps_ring_read(&r16, t, 6), 6, "rounding FLOAT -> int16: 6 frames");
    CHECK(t[0] == 1 && t[1] == -1 && t[2] == 0 && t[3] == 101 && t[4] == 32767 &&
          t[5] == -32768, "rounding FLOAT -> int16: %d %d %d %d %d %d",
          t[0], t[1], t[2], t[3], t[4], t[5]);
    ps_wake_close(&wake);
}

/* ---- playback: frames limit, loop seams, eof ---- */

/* Play a file of `len` frames with the given limit/loop; the consumer takes
 * `take` frames (< 0: until eof) and checks frame i == file frame i % len.
 * Returns nothing. */
static void play_case(const char *what, int64_t len, int64_t frames, int loop,
                      int64_t take, int64_t expect, size_t block, size_t cap)
{
    gen g = { PS_INT32, 1, 0, 3 };
    char name[64];
    snprintf(name, sizeof name, "count%lld.wav", (long long)len);
    const char *path = path_of(name);
    if (access(path, F_OK) != 0)
        write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_32, &g, len);

    ps_wake wake;
    ring rb;
    atomic_bool eof;
    char err[256] = "";
    ps_disk_opts o;
    SF_INFO info = { 0 };
    ps_wake_open(&wake);
    ring_open(&rb, &g, cap);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    ps_disk_opts_init(&o);
    o.format = PS_INT32;
    o.frames = frames;
    o.loop = loop;
    o.block_frames = block;
    ps_disk *d = ps_disk_reader(sf, &rb.r, &wake, &eof, &o, err, sizeof err);
    CHECK(d != NULL, "%s: reader created (%s)", what, err);
    sim c = { .ring = &rb.r, .wake = &wake, .g = g, .block = 333, .total = take,
              .period = len, .expect = expect, .eof = &eof };
    pthread_t t;
    pthread_create(&t, NULL, consumer_main, &c);
    pthread_join(t, NULL);
    CHECK_EQ(ps_disk_finish(d, 0), 0, "%s: finished cleanly", what);
    if (expect >= 0) {
        CHECK_EQ(c.done, expect, "%s: frames delivered", what);
        CHECK(c.saw_eof && c.eof_bad == 0, "%s: eof set exactly after the last frame", what);
        CHECK_EQ(ps_disk_frames(d), expect, "%s: ps_disk_frames", what);
    } else {
        CHECK_EQ(c.done, take, "%s: frames taken", what);
        CHECK(!c.saw_eof, "%s: no eof", what);
    }
    CHECK_EQ(c.bad, 0, "%s: every frame in order (seams exact)", what);
    ps_disk_free(d);
    sf_close(sf);
    ring_close(&rb);
    ps_wake_close(&wake);
}

static void test_playback(void)
{
    double t0 = now_s();
    int64_t L = 10007;               /* prime: no block or ring size divides it */
    play_case("whole file", L, -1, 0, -1, L, 4096, 8192);
    play_case("frames limit", L, L / 2 + 7, 0, -1, L / 2 + 7, 4096, 8192);
    play_case("frames limit = length", L, L, 0, -1, L, 4096, 8192);
    play_case("frames limit past the end", L, 3 * L, 0, -1, L, 4096, 8192);
    play_case("frames 0", L, 0, 0, -1, 0, 4096, 8192);
    play_case("loop with limit", L, 7 * L + 1234, 1, -1, 7 * L + 1234, 4096, 8192);
    play_case("loop with limit, small ring", L, 3 * L + 1, 1, -1, 3 * L + 1, 4096, 1024);
    play_case("loop forever", L, -1, 1, 5 * L + 17, -1, 4096, 8192);
    play_case("loop of a 100-frame file", 100, 100 * 333 + 99, 1, -1, 100 * 333 + 99, 4096, 8192);
    play_case("loop of a 1-frame file", 1, 5000, 1, -1, 5000, 1024, 2048);
    play_case("loop of an empty file", 0, -1, 1, -1, 0, 4096, 8192);
    printf("# playback cases: %.0f ms\n", (now_s() - t0) * 1e3);
}

/* ---- prefill ---- */

static void test_prefill(void)
{
    gen g = { PS_INT16, 2, 0, 11 };
    const char *big = path_of("pre_big.wav"), *small = path_of("pre_small.wav");
    write_file(big, SF_FORMAT_WAV | SF_FORMAT_PCM_16, &g, 50000);
    write_file(small, SF_FORMAT_WAV | SF_FORMAT_PCM_16, &g, 1000);
    ps_wake wake;
    ring rb;
    atomic_bool eof;
    char err[256];
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    o.format = PS_INT16;
    o.block_frames = 3000;
    ps_wake_open(&wake);
    ring_open(&rb, &g, 8192);

    SF_INFO info = { 0 };
    SNDFILE *sf = sf_open(big, SFM_READ, &info);
    ps_disk *d = ps_disk_reader(sf, &rb.r, &wake, &eof, &o, err, sizeof err);
    CHECK_EQ(ps_disk_prefill(d, 5000), 0, "prefill: ready");
    CHECK_EQ(ps_ring_read_available(&rb.r), 8192, "prefill: the ring is full");
    CHECK(!atomic_load(&eof), "prefill: no eof yet");
    CHECK_EQ(ps_disk_frames(d), 8192, "prefill: the reader stopped at a full ring");
    /* Idle with a full ring: the reader must sleep, not spin. */
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    sleep_us(300000);
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
                 (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                 (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) * 1e-6 +
                 (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) * 1e-6;
    CHECK(cpu < 0.03, "prefill: a reader at a full ring sleeps (%.1f ms CPU in 300 ms)",
          cpu * 1e3);
    CHECK_EQ(ps_disk_finish(d, 0), 0, "prefill: finished");
    ps_disk_free(d);
    sf_close(sf);

    ps_ring_reset(&rb.r);
    ps_wake note;
    ps_wake_open(&note);
    o.notify = &note;
    sf = sf_open(small, SFM_READ, &info);
    d = ps_disk_reader(sf, &rb.r, &wake, &eof, &o, err, sizeof err);
    CHECK_EQ(ps_disk_prefill(d, -1), 0, "prefill, short file: ready");
    CHECK_EQ(ps_ring_read_available(&rb.r), 1000, "prefill, short file: all of it");
    CHECK(atomic_load(&eof), "prefill, short file: eof set");
    CHECK_EQ(ps_wake_wait(&note, 2000), 1, "notify: signalled when the reader ended");
    ps_wake_close(&note);
    ps_disk_free(d);
    sf_close(sf);
    ring_close(&rb);
    ps_wake_close(&wake);
}

/* ---- header updates while recording ---- */

/* The size field of a WAV's "data" chunk, read from the raw bytes: libsndfile
 * itself repairs an unclosed WAV when it opens one, so only the bytes show
 * whether the header was rewritten.  Returns the size, or -1. */
static long wav_data_size(const char *path)
{
    unsigned char h[4096];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(h, 1, sizeof h, f) : 0;
    if (f)
        fclose(f);
    for (size_t at = 12; at + 8 <= n; ) {
        uint32_t size = (uint32_t)h[at + 4] | (uint32_t)h[at + 5] << 8 |
                        (uint32_t)h[at + 6] << 16 | (uint32_t)h[at + 7] << 24;
        if (memcmp(h + at, "data", 4) == 0)
            return (long)size;
        at += 8 + size + (size & 1);
    }
    return -1;
}

/* Record n1 frames, pause, and look at the file from outside while the
 * writer still runs: AIFF through libsndfile (which shows 0 frames without
 * an update), WAV through its raw header. */
static void header_case(const char *what, const char *name, int sfformat)
{
    gen g = { PS_INT16, 2, 0, 5 };
    const char *path = path_of(name);
    ps_wake wake;
    ring rb;
    char err[256];
    ps_disk_opts o;
    ps_wake_open(&wake);
    ring_open(&rb, &g, 4096);
    SF_INFO info = { .samplerate = 48000, .channels = 2, .format = sfformat };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    ps_disk_opts_init(&o);
    o.format = PS_INT16;
    o.header_interval = 0.05;
    ps_disk *d = ps_disk_writer(sf, &rb.r, &wake, &o, err, sizeof err);

    int64_t n1 = 30000;
    sim s = { .ring = &rb.r, .wake = &wake, .g = g, .block = 256, .total = n1 };
    pthread_t t;
    pthread_create(&t, NULL, producer_main, &s);
    pthread_join(t, NULL);
    while (ps_disk_frames(d) < n1)
        sleep_us(1000);
    sleep_us(250000);                /* several header intervals */

    SF_INFO ri = { 0 };
    SNDFILE *rf = sf_open(path, SFM_READ, &ri);
    CHECK(rf != NULL, "header %s: the file is readable while recording", what);
    CHECK(ri.frames >= n1, "header %s: it shows %lld frames, >= %lld written before",
          what, (long long)ri.frames, (long long)n1);
    if (rf)
        sf_close(rf);
    if ((sfformat & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV)
        CHECK(wav_data_size(path) >= n1 * 4, "header %s: data chunk of %ld bytes",
              what, wav_data_size(path));
    int64_t frames;
    CHECK_EQ(read_back(path, &g, n1, &frames), 0, "header %s: those frames are exact", what);

    sim s2 = { .ring = &rb.r, .wake = &wake, .g = g, .block = 256, .first = n1,
               .total = 20000 };
    pthread_create(&t, NULL, producer_main, &s2);
    pthread_join(t, NULL);
    CHECK_EQ(ps_disk_finish(d, 1), 0, "header %s: finished", what);
    ps_disk_free(d);
    sf_close(sf);
    CHECK_EQ(read_back(path, &g, n1 + 20000, &frames), 0, "header %s: whole file exact", what);
    CHECK_EQ(frames, n1 + 20000, "header %s: whole file length", what);
    ring_close(&rb);
    ps_wake_close(&wake);
}

static void test_header_update(void)
{
    header_case("AIFF", "header.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16);
    header_case("WAV", "header.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16);
}

/* ---- drain or drop at the end; idle writer; bad arguments ---- */

static void test_finish(void)
{
    gen g = { PS_FLOAT32, 2, 0, 9 };
    ps_wake wake;
    ring rb;
    char err[256];
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    ps_wake_open(&wake);
    ring_open(&rb, &g, 4096);
    int64_t frames;

    for (int drain = 1; drain >= 0; drain--) {
        const char *path = path_of(drain ? "drain.wav" : "drop.wav");
        ps_ring_reset(&rb.r);
        sim s = { .ring = &rb.r, .wake = NULL, .g = g, .block = 4096, .total = 4096 };
        producer_main(&s);           /* the stream ran and stopped */
        SF_INFO info = { .samplerate = 48000, .channels = 2,
                         .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
        SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
        ps_disk *d = ps_disk_writer(sf, &rb.r, &wake, &o, err, sizeof err);
        CHECK_EQ(ps_disk_finish(d, drain), 0, "finish(drain=%d) returns 0", drain);
        CHECK_EQ(ps_disk_finish(d, drain), 0, "finish twice is harmless");
        int64_t n = ps_disk_frames(d);
        if (drain)
            CHECK_EQ(n, 4096, "drain: every frame left in the ring is written");
        else
            CHECK(n <= 4096, "drop: %lld frames written", (long long)n);
        ps_disk_free(d);
        sf_close(sf);
        CHECK_EQ(read_back(path, &g, n, &frames), 0, "finish(drain=%d): file exact", drain);
        CHECK_EQ(frames, n, "finish(drain=%d): file length", drain);
    }

    /* An idle writer sleeps. */
    ps_ring_reset(&rb.r);
    SF_INFO info = { .samplerate = 48000, .channels = 2,
                     .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    SNDFILE *sf = sf_open(path_of("idle.wav"), SFM_WRITE, &info);
    ps_disk *d = ps_disk_writer(sf, &rb.r, &wake, &o, err, sizeof err);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    sleep_us(350000);                /* off the writer's 100 ms timeout grid */
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
                 (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                 (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) * 1e-6 +
                 (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) * 1e-6;
    CHECK(cpu < 0.03, "an idle writer sleeps (%.1f ms CPU in 350 ms)", cpu * 1e3);
    double t0 = now_s();
    ps_disk_finish(d, 1);
    double dt = now_s() - t0;
    CHECK(dt < 0.02, "finish wakes an idle writer at once (%.1f ms)", dt * 1e3);
    ps_disk_free(d);

    /* Bad arguments fail at creation, with a message. */
    o.channels = 3;
    d = ps_disk_writer(sf, &rb.r, &wake, &o, err, sizeof err);
    CHECK(d == NULL && strstr(err, "3 channels, but the file has 2"),
          "channel mismatch refused: %s", err);
    o.channels = 0;
    o.format = PS_INT16;
    d = ps_disk_writer(sf, &rb.r, &wake, &o, err, sizeof err);
    CHECK(d == NULL && strstr(err, "ring frames of 8 bytes"),
          "ring/format mismatch refused: %s", err);
    sf_close(sf);
    ps_disk_free(NULL);
    ring_close(&rb);
    ps_wake_close(&wake);
}

/* ---- a write error: the file size limit, in a child process ---- */

struct child_result {
    int finish_rc, failed;
    int64_t frames, produced;
    char msg[256];
};

static void test_write_error(void)
{
    gen g = { PS_INT16, 2, 0, 13 };
    const char *path = path_of("limit.wav");
    int fds[2];
    if (pipe(fds) != 0)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct child_result res = { 0 };
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 300001, 300001 };     /* not on a frame boundary */
        setrlimit(RLIMIT_FSIZE, &rl);
        ps_wake wake;
        ring rb;
        char err[256];
        ps_disk_opts o;
        ps_disk_opts_init(&o);
        o.format = PS_INT16;
        o.block_frames = 1000;
        ps_wake_open(&wake);
        ring_open(&rb, &g, 4096);
        SF_INFO info = { .samplerate = 48000, .channels = 2,
                         .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
        SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
        ps_disk *d = ps_disk_writer(sf, &rb.r, &wake, &o, err, sizeof err);
        sim s = { .ring = &rb.r, .wake = &wake, .g = g, .block = 256,
                  .total = 1000000, .disk = d };
        pthread_t t;
        pthread_create(&t, NULL, producer_main, &s);
        pthread_join(t, NULL);
        res.produced = s.done;
        res.finish_rc = ps_disk_finish(d, 1);
        res.failed = ps_disk_failed(d);
        res.frames = ps_disk_frames(d);
        snprintf(res.msg, sizeof res.msg, "%s", ps_disk_error(d) ? ps_disk_error(d) : "");
        ps_disk_free(d);
        sf_close(sf);
        if (write(fds[1], &res, sizeof res) != (ssize_t)sizeof res)
            _exit(2);
        _exit(0);
    }
    close(fds[1]);
    struct child_result res = { 0 };
    ssize_t got = read(fds[0], &res, sizeof res);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(got == (ssize_t)sizeof res && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "write error: the child ran");
    CHECK(res.failed && res.finish_rc == -1, "write error: reported as a failure");
    char want[64];
    snprintf(want, sizeof want, "write error after %lld frames: ", (long long)res.frames);
    CHECK(strncmp(res.msg, want, strlen(want)) == 0, "write error: message \"%s\"", res.msg);
    CHECK(res.frames > 70000 && res.frames < 75000,
          "write error: %lld frames written (limit 300001 bytes), %lld produced",
          (long long)res.frames, (long long)res.produced);
    int64_t frames;
    int64_t bad = read_back(path, &g, res.frames, &frames);
    CHECK(frames >= res.frames, "write error: the file is readable, %lld frames",
          (long long)frames);
    CHECK_EQ(bad, 0, "write error: every frame written before it is exact");
}

/* ---- a file truncated under a reader ---- */

static void test_truncated(void)
{
    gen g = { PS_INT16, 2, 0, 17 };
    const char *path = path_of("trunc.wav");
    int64_t L = 40000, K = 12345;
    write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, &g, L);
    struct stat st;
    stat(path, &st);
    off_t header = st.st_size - L * 4;

    SF_INFO info = { 0 };
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    CHECK(truncate(path, header + K * 4 + 3) == 0, "truncated: %lld frames and a half left",
          (long long)K);
    ps_wake wake;
    ring rb;
    atomic_bool eof;
    char err[256];
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    o.format = PS_INT16;
    o.block_frames = 5000;
    ps_wake_open(&wake);
    ring_open(&rb, &g, 4096);
    ps_disk *d = ps_disk_reader(sf, &rb.r, &wake, &eof, &o, err, sizeof err);
    sim c = { .ring = &rb.r, .wake = &wake, .g = g, .block = 256, .total = -1,
              .expect = K, .eof = &eof };
    pthread_t t;
    pthread_create(&t, NULL, consumer_main, &c);
    pthread_join(t, NULL);
    int rc = ps_disk_finish(d, 0);
    CHECK(rc == 0 && !ps_disk_failed(d), "truncated: a clean end (%s)",
          ps_disk_error(d) ? ps_disk_error(d) : "no error");
    CHECK_EQ(c.done, K, "truncated: the frames still there were played");
    CHECK(c.saw_eof && c.eof_bad == 0, "truncated: eof after the last one");
    CHECK_EQ(c.bad, 0, "truncated: exact");
    ps_disk_free(d);
    sf_close(sf);
    ring_close(&rb);
    ps_wake_close(&wake);
}

/* ---- pipes ---- */

struct pipe_writer {
    int fd;
    int sfformat;
    gen g;
    int64_t n;
    atomic_bool hold;          /* wait after the first 100 frames */
    int ok;
};

/* Write frames 0..n-1 of g to a pipe with plain libsndfile, then close it. */
static void *pipe_writer_main(void *arg)
{
    struct pipe_writer *w = arg;
    SF_INFO info = { .samplerate = 48000, .channels = w->g.ch, .format = w->sfformat };
    SNDFILE *sf = sf_open_fd(w->fd, SFM_WRITE, &info, 1);
    if (!sf) {
        close(w->fd);
        return NULL;
    }
    int32_t buf[2 * 1000];
    for (int64_t i = 0; i < w->n; ) {
        int64_t m = i == 0 ? 100 : (w->n - i < 1000 ? w->n - i : 1000);
        for (int64_t k = 0; k < m; k++)
            for (int c = 0; c < w->g.ch; c++)
                buf[k * w->g.ch + c] = gen_int(&w->g, i + k, c);
        sf_writef_int(sf, buf, m);
        sf_write_sync(sf);
        i += m;
        while (atomic_load(&w->hold))
            sleep_us(1000);
    }
    w->ok = 1;
    sf_close(sf);
    return NULL;
}

/* Play what a thread writes into a pipe in `sfformat`. */
static void pipe_case(const char *what, int sfformat, int64_t n, bool hold)
{
    gen g = { PS_INT16, 2, 0, 19 };
    int fds[2];
    if (pipe(fds) != 0)
        return;
    struct pipe_writer w = { .fd = fds[1], .sfformat = sfformat, .g = g, .n = n };
    atomic_init(&w.hold, hold);
    pthread_t wt, t;
    pthread_create(&wt, NULL, pipe_writer_main, &w);
    SF_INFO info = { 0 };
    if ((sfformat & SF_FORMAT_TYPEMASK) == SF_FORMAT_RAW)
        info = (SF_INFO){ .samplerate = 48000, .channels = 2, .format = sfformat };
    SNDFILE *sf = sf_open_fd(fds[0], SFM_READ, &info, 1);
    CHECK(sf != NULL, "pipe %s: opened for reading (%s)", what,
          sf ? "ok" : sf_strerror(NULL));
    if (!sf) {
        close(fds[0]);
        pthread_join(wt, NULL);
        return;
    }

    ps_wake wake;
    ring rb;
    atomic_bool eof;
    char err[256] = "";
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    o.format = PS_INT16;
    o.loop = 1;
    ps_wake_open(&wake);
    ring_open(&rb, &g, 8192);
    ps_disk *d = ps_disk_reader(sf, &rb.r, &wake, &eof, &o, err, sizeof err);
    CHECK(d == NULL && strcmp(err, "cannot loop a pipe") == 0,
          "pipe %s: loop refused: %s", what, err);
    o.loop = 0;
    d = ps_disk_reader(sf, &rb.r, &wake, &eof, &o, err, sizeof err);
    if (hold) {
        CHECK_EQ(ps_disk_prefill(d, 100), 1, "pipe %s: prefill times out on a stalled pipe", what);
        atomic_store(&w.hold, false);
    }
    sim c = { .ring = &rb.r, .wake = &wake, .g = g, .block = 256, .total = -1,
              .expect = n, .eof = &eof };
    pthread_create(&t, NULL, consumer_main, &c);
    pthread_join(t, NULL);
    pthread_join(wt, NULL);
    CHECK_EQ(ps_disk_finish(d, 0), 0, "pipe %s: finished cleanly", what);
    CHECK_EQ(c.done, n, "pipe %s: every frame", what);
    CHECK(c.bad == 0 && c.saw_eof && c.eof_bad == 0, "pipe %s: exact, eof after the last", what);
    ps_disk_free(d);
    sf_close(sf);
    ring_close(&rb);
    ps_wake_close(&wake);
}

/* A writer thread into a pipe and a reader thread out of it. */
static void test_pipe_chain(void)
{
    gen g = { PS_FLOAT32, 2, 0, 23 };
    int64_t n = 300007 / scale;
    int fds[2];
    if (pipe(fds) != 0)
        return;
    ps_wake wake_w, wake_r;
    ring rw, rr;
    atomic_bool eof;
    char err[256] = "";
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    o.header_interval = 0.01;        /* must be skipped on a pipe */
    ps_wake_open(&wake_w);
    ps_wake_open(&wake_r);
    ring_open(&rw, &g, 4096);
    ring_open(&rr, &g, 4096);

    SF_INFO wi = { .samplerate = 48000, .channels = 2, .format = SF_FORMAT_AU | SF_FORMAT_FLOAT };
    SNDFILE *wsf = sf_open_fd(fds[1], SFM_WRITE, &wi, 1);   /* writes the header */
    SF_INFO ri = { 0 };
    SNDFILE *rsf = sf_open_fd(fds[0], SFM_READ, &ri, 1);
    CHECK(wsf && rsf, "pipe chain: AU float both ends open");
    ps_disk *dw = ps_disk_writer(wsf, &rw.r, &wake_w, &o, err, sizeof err);
    ps_disk *dr = ps_disk_reader(rsf, &rr.r, &wake_r, &eof, &o, err, sizeof err);
    sim p = { .ring = &rw.r, .wake = &wake_w, .g = g, .block = 256, .total = n, .disk = dw };
    sim c = { .ring = &rr.r, .wake = &wake_r, .g = g, .block = 256, .total = -1,
              .expect = n, .eof = &eof };
    pthread_t tp, tc;
    pthread_create(&tp, NULL, producer_main, &p);
    pthread_create(&tc, NULL, consumer_main, &c);
    pthread_join(tp, NULL);
    CHECK_EQ(ps_disk_finish(dw, 1), 0, "pipe chain: writer finished");
    sf_close(wsf);                   /* the reader sees the end of the pipe */
    pthread_join(tc, NULL);
    CHECK_EQ(ps_disk_finish(dr, 0), 0, "pipe chain: reader finished");
    CHECK_EQ(c.done, n, "pipe chain: every frame through");
    CHECK(c.bad == 0 && c.saw_eof && c.eof_bad == 0, "pipe chain: exact, eof after the last");
    ps_disk_free(dw);
    ps_disk_free(dr);
    sf_close(rsf);
    ring_close(&rw);
    ring_close(&rr);
    ps_wake_close(&wake_w);
    ps_wake_close(&wake_r);
}

static void test_pipes(void)
{
    double t0 = now_s();
    int64_t n = 100003 / scale;
    pipe_case("AU PCM_16", SF_FORMAT_AU | SF_FORMAT_PCM_16, n, true);
    pipe_case("RAW PCM_16", SF_FORMAT_RAW | SF_FORMAT_PCM_16, n, false);
    test_pipe_chain();

    /* WAV cannot be written to a pipe, but can be read from one. */
    int fds[2];
    if (pipe(fds) == 0) {
        SF_INFO info = { .samplerate = 48000, .channels = 2,
                         .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
        SNDFILE *sf = sf_open_fd(fds[1], SFM_WRITE, &info, 0);
        CHECK(sf == NULL, "pipe: libsndfile refuses to write WAV to a pipe (%s)",
              sf_strerror(NULL));
        if (sf)
            sf_close(sf);
        close(fds[0]);
        close(fds[1]);
    }
    printf("# pipes: %.0f ms\n", (now_s() - t0) * 1e3);
}

/* WAV read from a pipe: cat a finished file into it. */
struct cat_arg { int fd; const char *path; };

static void *cat_main(void *arg)
{
    struct cat_arg *a = arg;
    int in = open(a->path, O_RDONLY);
    char buf[8192];
    ssize_t n;
    while (in >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(a->fd, buf, (size_t)n) != n)
            break;
    if (in >= 0)
        close(in);
    close(a->fd);
    return NULL;
}

static void test_wav_from_pipe(void)
{
    gen g = { PS_INT16, 2, 0, 29 };
    int64_t n = 70001 / scale;
    const char *path = path_of("piped.wav");
    write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, &g, n);
    int fds[2];
    if (pipe(fds) != 0)
        return;
    struct cat_arg a = { fds[1], path };
    pthread_t ct, t;
    pthread_create(&ct, NULL, cat_main, &a);
    SF_INFO info = { 0 };
    SNDFILE *sf = sf_open_fd(fds[0], SFM_READ, &info, 1);
    CHECK(sf != NULL, "pipe WAV: opened for reading");
    ps_wake wake;
    ring rb;
    atomic_bool eof;
    char err[256] = "";
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    o.format = PS_INT16;
    ps_wake_open(&wake);
    ring_open(&rb, &g, 4096);
    ps_disk *d = ps_disk_reader(sf, &rb.r, &wake, &eof, &o, err, sizeof err);
    sim c = { .ring = &rb.r, .wake = &wake, .g = g, .block = 256, .total = -1,
              .expect = n, .eof = &eof };
    pthread_create(&t, NULL, consumer_main, &c);
    pthread_join(t, NULL);
    pthread_join(ct, NULL);
    CHECK_EQ(ps_disk_finish(d, 0), 0, "pipe WAV: finished cleanly");
    CHECK(c.done == n && c.bad == 0 && c.saw_eof && c.eof_bad == 0,
          "pipe WAV: %lld of %lld frames, exact, eof after the last",
          (long long)c.done, (long long)n);
    ps_disk_free(d);
    sf_close(sf);
    ring_close(&rb);
    ps_wake_close(&wake);
}

/* ---- memory stays constant over a long recording ---- */

static void test_memory(void)
{
    gen g = { PS_INT16, 2, 0, 31 };
    int64_t n = 10000000 / scale, warm = n / 10;
    const char *path = path_of("long.wav");
    ps_wake wake;
    ring rb;
    char err[256];
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    o.format = PS_INT16;
    o.header_interval = 0.1;
    ps_wake_open(&wake);
    ring_open(&rb, &g, 16384);
    SF_INFO info = { .samplerate = 48000, .channels = 2,
                     .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    ps_disk *d = ps_disk_writer(sf, &rb.r, &wake, &o, err, sizeof err);
    double t0 = now_s();
    sim s = { .ring = &rb.r, .wake = &wake, .g = g, .block = 512, .total = n,
              .disk = d, .rss_at = warm };
    pthread_t t;
    pthread_create(&t, NULL, producer_main, &s);
    pthread_join(t, NULL);
    while (ps_disk_frames(d) < n && !ps_disk_failed(d))
        sleep_us(1000);
    long end_kb = mem_kb();
    CHECK_EQ(ps_disk_finish(d, 1), 0, "memory: writer finished");
    double dt = now_s() - t0;
    CHECK_EQ(ps_disk_frames(d), n, "memory: %lld frames recorded", (long long)n);
    CHECK(end_kb - s.rss_kb < 1024,
          "memory: " MEM_WHAT " %ld kB after %lld frames, %ld kB at the end (+%ld kB)",
          s.rss_kb, (long long)warm, end_kb, end_kb - s.rss_kb);
    printf("# memory: %lld frames in %.0f ms (%.1f Mframes/s), %lld producer stalls\n",
           (long long)n, dt * 1e3, n / dt / 1e6, (long long)s.stalls);
    ps_disk_free(d);
    sf_close(sf);
    unlink(path);                    /* 40 MB */
    ring_close(&rb);
    ps_wake_close(&wake);
}

/* ---- sample-rate conversion in the reader ---- */

#define SINE_F 1000.0            /* Hz */
#define SINE_A 0.5               /* channel 0; channel 1 is -SINE_A / 2 */

/* Write n frames of a 2-channel sine at `rate` (float WAV): channel 0 is
 * SINE_A sin(2 pi SINE_F i / rate), channel 1 is -1/2 of it.  Returns 0. */
static int write_sine(const char *path, int rate, int64_t n)
{
    SF_INFO info = { .samplerate = rate, .channels = 2,
                     .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        printf("# %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    enum { B = 1000 };
    float buf[2 * B];
    for (int64_t i = 0; i < n; i += B) {
        int64_t m = n - i < B ? n - i : B;
        for (int64_t k = 0; k < m; k++) {
            double x = SINE_A * sin(2 * M_PI * SINE_F * (double)(i + k) / rate);
            buf[2 * k] = (float)x;
            buf[2 * k + 1] = (float)(-0.5 * x);
        }
        sf_writef_float(sf, buf, m);
    }
    sf_close(sf);
    return 0;
}

/* A consumer that keeps every frame: until eof and an empty ring, or until
 * it has `take` frames (>= 0). */
typedef struct collector {
    ps_ring *ring;
    ps_wake *wake;
    atomic_bool *eof;
    int64_t take;
    unsigned char *buf;
    int64_t cap, done;
    bool saw_eof;
} collector;

static void *collector_main(void *arg)
{
    collector *c = arg;
    size_t fb = c->ring->elem_size;
    for (;;) {
        if (c->take >= 0 && c->done >= c->take)
            break;
        bool e = atomic_load_explicit(c->eof, memory_order_acquire);
        size_t avail = ps_ring_read_available(c->ring);
        if (avail == 0) {
            if (e) {
                c->saw_eof = true;
                break;
            }
            sleep_us(50);
            continue;
        }
        size_t n = avail < 333 ? avail : 333;
        if (c->take >= 0 && (int64_t)n > c->take - c->done)
            n = (size_t)(c->take - c->done);
        if (c->done + (int64_t)n > c->cap) {
            c->cap = 2 * (c->done + (int64_t)n);
            c->buf = realloc(c->buf, (size_t)c->cap * fb);
        }
        ps_ring_read(c->ring, c->buf + (size_t)c->done * fb, n);
        c->done += (int64_t)n;
        ps_wake_signal(c->wake);
    }
    return NULL;
}

typedef struct conv_run {
    /* in */
    ps_format f;
    double out_rate;
    int quality;
    int64_t frames;
    int loop;
    size_t block;
    int64_t take;
    int pipe;                        /* read the file through a pipe */
    /* out */
    unsigned char *buf;              /* done frames, ring format, 2 channels */
    int64_t done, disk_frames;
    bool saw_eof, ok;
    double ms;
} conv_run;

/* Play `path` through a reader with r's options into a 4096-frame ring and
 * collect what comes out.  Returns nothing; r->ok when it all went well. */
static void conv_play(const char *what, const char *path, conv_run *r)
{
    ps_wake wake;
    ps_ring ring;
    atomic_bool eof;
    char err[256] = "";
    size_t fb = 2 * ps_format_size(r->f);
    void *mem = malloc(4096 * fb);
    pthread_t t, ct;
    int fds[2] = { -1, -1 };
    struct cat_arg a;
    SF_INFO info = { 0 };
    SNDFILE *sf;
    double t0 = now_s();

    if (r->pipe) {
        if (pipe(fds) != 0)
            return;
        a = (struct cat_arg){ fds[1], path };
        pthread_create(&ct, NULL, cat_main, &a);
        sf = sf_open_fd(fds[0], SFM_READ, &info, 1);
    } else {
        sf = sf_open(path, SFM_READ, &info);
    }
    ps_wake_open(&wake);
    ps_ring_init(&ring, mem, fb, 4096);
    ps_disk_opts o;
    ps_disk_opts_init(&o);
    o.format = r->f;
    o.out_rate = r->out_rate;
    o.src_quality = r->quality;
    o.frames = r->frames;
    o.loop = r->loop;
    o.block_frames = r->block;
    ps_disk *d = sf ? ps_disk_reader(sf, &ring, &wake, &eof, &o, err, sizeof err) : NULL;
    CHECK(d != NULL, "%s: reader created (%s)", what, err);
    if (d) {
        collector c = { .ring = &ring, .wake = &wake, .eof = &eof, .take = r->take };
        pthread_create(&t, NULL, collector_main, &c);
        pthread_join(t, NULL);
        r->ok = ps_disk_finish(d, 0) == 0;
        r->disk_frames = ps_disk_frames(d);
        r->buf = c.buf;
        r->done = c.done;
        r->saw_eof = c.saw_eof;
        if (!r->ok)
            printf("# %s: %s\n", what, ps_disk_error(d));
        ps_disk_free(d);
    }
    if (sf)
        sf_close(sf);
    if (r->pipe)
        pthread_join(ct, NULL);
    ps_wake_close(&wake);
    free(mem);
    r->ms = (now_s() - t0) * 1e3;
}

/* Channel c of frame i of r's output, as a float in [-1, 1). */
static double conv_at(const conv_run *r, int64_t i, int c)
{
    return ps_sample_get(r->f, r->buf + ((size_t)i * 2 + (size_t)c) * ps_format_size(r->f));
}

/* Frequency of channel 0 over frames [a, b) of r, from its upward zero
 * crossings (linearly interpolated).  Returns Hz at `rate`. */
static double conv_freq(const conv_run *r, int64_t a, int64_t b, double rate)
{
    double first = -1, last = -1;
    int64_t k = 0;
    for (int64_t i = a; i + 1 < b; i++) {
        double x0 = conv_at(r, i, 0), x1 = conv_at(r, i + 1, 0);
        if (x0 < 0 && x1 >= 0) {
            double t = (double)i + x0 / (x0 - x1);
            if (k++ == 0)
                first = t;
            last = t;
        }
    }
    return k > 1 ? (double)(k - 1) * rate / (last - first) : 0;
}

/* Over frames [a, b) of channel 0: the peak, and the largest difference
 * from SINE_A sin(2 pi SINE_F i / rate) (the source, not delayed). */
static void conv_peak_err(const conv_run *r, int64_t a, int64_t b, double rate,
                          double *peak, double *err)
{
    *peak = 0;
    *err = 0;
    for (int64_t i = a; i < b; i++) {
        double x = conv_at(r, i, 0);
        double want = SINE_A * sin(2 * M_PI * SINE_F * (double)i / rate);
        if (fabs(x) > *peak)
            *peak = fabs(x);
        if (fabs(x - want) > *err)
            *err = fabs(x - want);
    }
}

/* How far channel 0 over [a, b) lags the source sine, in frames at `rate`,
 * from its phase (a least-squares fit); *amp gets its amplitude.  Returns
 * the lag. */
static double conv_lag(const conv_run *r, int64_t a, int64_t b, double rate,
                       double *amp)
{
    double w = 2 * M_PI * SINE_F / rate, sn = 0, cs = 0;
    for (int64_t i = a; i < b; i++) {
        double x = conv_at(r, i, 0);
        sn += x * sin(w * (double)i);
        cs += x * cos(w * (double)i);
    }
    *amp = 2 * hypot(sn, cs) / (double)(b - a);
    return atan2(-cs, sn) / w;
}

/* The largest |x[i+1] - x[i]| of channel 0 over [a, b). */
static double conv_max_step(const conv_run *r, int64_t a, int64_t b)
{
    double m = 0;
    for (int64_t i = a; i + 1 < b; i++) {
        double s = fabs(conv_at(r, i + 1, 0) - conv_at(r, i, 0));
        if (s > m)
            m = s;
    }
    return m;
}

/* Channel 1 should stay -1/2 of channel 0 (the converter is linear and
 * per channel).  Returns the largest deviation. */
static double conv_ch1_err(const conv_run *r)
{
    double m = 0;
    for (int64_t i = 0; i < r->done; i++) {
        double e = fabs(conv_at(r, i, 1) + 0.5 * conv_at(r, i, 0));
        if (e > m)
            m = e;
    }
    return m;
}

static void test_rate_conversion(void)
{
    double t0 = now_s();
    const int64_t L = 44100;         /* 1 s, 1000 whole periods of 1 kHz */
    char p441[384], p48[384], pg[384];
    snprintf(p441, sizeof p441, "%s", path_of("sine44100.wav"));
    write_sine(p441, 44100, L);
    const int64_t want_len = L * 48000 / 44100;       /* 48000 */
    /* Steepest step of a sampled 1 kHz sine at 48 kHz, 2 A sin(pi f / fs). */
    const double max_step = 2 * SINE_A * sin(M_PI * SINE_F / 48000);

    /* float32, 44.1 -> 48 kHz, the whole file. */
    conv_run f = { .f = PS_FLOAT32, .out_rate = 48000, .frames = -1, .block = 1000,
                   .take = -1 };
    conv_play("SRC 44.1k->48k float32", p441, &f);
    CHECK(f.ok && f.saw_eof, "SRC 44.1k->48k float32: clean end, eof");
    CHECK(llabs(f.done - want_len) <= 2,
          "SRC 44.1k->48k float32: %lld frames out of %lld, expected %lld +-2",
          (long long)f.done, (long long)L, (long long)want_len);
    CHECK_EQ(f.disk_frames, f.done, "SRC 44.1k->48k float32: ps_disk_frames counts output frames");
    int64_t a = f.done / 10, b = f.done - f.done / 10;
    double fr = conv_freq(&f, a, b, 48000), peak, perr;
    CHECK(fabs(fr - SINE_F) < 1.0, "SRC 44.1k->48k float32: %.4f Hz at 48 kHz (error %.2g Hz)",
          fr, fr - SINE_F);
    conv_peak_err(&f, a, b, 48000, &peak, &perr);
    CHECK(fabs(peak - SINE_A) < 0.01 * SINE_A,
          "SRC 44.1k->48k float32: peak %.5f of %.2f (%.3f%%)", peak, SINE_A,
          (peak - SINE_A) / SINE_A * 100);
    CHECK(perr < 1e-3, "SRC 44.1k->48k float32: in time with the source, largest "
          "difference from the ideal 48 kHz sine %.2g (%.0f dB)", perr,
          20 * log10(perr / SINE_A));
    double ch1 = conv_ch1_err(&f);
    CHECK(ch1 < 1e-6, "SRC 44.1k->48k float32: channels converted alike (%.2g)", ch1);
    printf("# SRC 44.1k->48k float32: %lld -> %lld frames in %.0f ms\n",
           (long long)L, (long long)f.done, f.ms);

    /* int16 ring: the same, scaled by 32768, rounded. */
    conv_run s = { .f = PS_INT16, .out_rate = 48000, .frames = -1, .block = 1000,
                   .take = -1 };
    conv_play("SRC 44.1k->48k int16", p441, &s);
    CHECK(s.ok && s.saw_eof && s.done == f.done,
          "SRC 44.1k->48k int16: clean end, eof, %lld frames", (long long)s.done);
    int64_t off = 0;
    double worst = 0;
    for (int64_t i = 0; i < s.done && i < f.done; i++)
        for (int c = 0; c < 2; c++) {
            int16_t v;
            memcpy(&v, s.buf + (size_t)(2 * i + c) * 2, 2);
            double e = fabs(v - conv_at(&f, i, c) * 32768);
            off += e > 0.5 + 1e-9;
            if (e > worst)
                worst = e;
        }
    CHECK_EQ(off, 0, "SRC 44.1k->48k int16: every sample is the float32 one "
             "x 32768, rounded (largest difference %.3f LSB)", worst);
    conv_peak_err(&s, a, b, 48000, &peak, &perr);
    CHECK(fabs(peak - SINE_A) < 0.01 * SINE_A && fabs(conv_freq(&s, a, b, 48000) - SINE_F) < 1.0,
          "SRC 44.1k->48k int16: peak %.5f, %.4f Hz", peak, conv_freq(&s, a, b, 48000));
    free(s.buf);

    /* The same file through a pipe: the same frames. */
    conv_run pp = { .f = PS_FLOAT32, .out_rate = 48000, .frames = -1, .block = 1000,
                    .take = -1, .pipe = 1 };
    conv_play("SRC 44.1k->48k from a pipe", p441, &pp);
    CHECK(pp.ok && pp.saw_eof && pp.done == f.done &&
          memcmp(pp.buf, f.buf, (size_t)f.done * 8) == 0,
          "SRC 44.1k->48k from a pipe: %lld frames, the same as from the file",
          (long long)pp.done);
    free(pp.buf);

    /* frames counts output frames, exactly; past the end: the whole output. */
    conv_run lim = { .f = PS_FLOAT32, .out_rate = 48000, .frames = 30001, .block = 1000,
                     .take = -1 };
    conv_play("SRC frames limit", p441, &lim);
    CHECK(lim.ok && lim.saw_eof && lim.done == 30001 && lim.disk_frames == 30001,
          "SRC frames limit: 30001 output frames, eof (%lld, ps_disk_frames %lld)",
          (long long)lim.done, (long long)lim.disk_frames);
    CHECK(lim.done <= f.done && memcmp(lim.buf, f.buf, (size_t)lim.done * 8) == 0,
          "SRC frames limit: the first frames of the whole output");
    free(lim.buf);
    lim = (conv_run){ .f = PS_FLOAT32, .out_rate = 48000, .frames = 2 * L, .block = 1000,
                      .take = -1 };
    conv_play("SRC frames limit past the end", p441, &lim);
    CHECK(lim.ok && lim.saw_eof && lim.done == f.done,
          "SRC frames limit past the end: the whole output, %lld frames", (long long)lim.done);
    free(lim.buf);

    /* Loop: the converter runs on through the seams, and with a file of
     * whole periods the output stays one continuous sine. */
    int64_t lf = 3 * want_len + 777;
    conv_run lp = { .f = PS_FLOAT32, .out_rate = 48000, .frames = lf, .loop = 1,
                    .block = 1000, .take = -1 };
    conv_play("SRC loop", p441, &lp);
    CHECK(lp.ok && lp.saw_eof && lp.done == lf && lp.disk_frames == lf,
          "SRC loop: exactly %lld output frames (frames limit), eof", (long long)lf);
    double seam_step = 0, seam_err = 0;
    for (int k = 1; k <= 3 && lp.done == lf; k++) {
        int64_t at = k * want_len;   /* where the seam comes out */
        double st = conv_max_step(&lp, at - 500, at + 500), pk, er;
        conv_peak_err(&lp, at - 500, at + 500, 48000, &pk, &er);
        if (st > seam_step)
            seam_step = st;
        if (er > seam_err)
            seam_err = er;
    }
    /* The first frames ring a little: the sine starts abruptly at frame 0. */
    double all_step = lp.done == lf ? conv_max_step(&lp, 100, lp.done) : 99;
    double start_step = lp.done == lf ? conv_max_step(&lp, 0, 100) : 99;
    CHECK(seam_step <= max_step * 1.01 + 1e-4 && all_step <= max_step * 1.01 + 1e-4,
          "SRC loop: no jump at the seams: largest step %.6f there, %.6f anywhere "
          "after frame 100 (%.6f before), a sine allows %.6f", seam_step, all_step,
          start_step, max_step);
    CHECK(seam_err < 1e-3, "SRC loop: at the seams still the ideal sine (largest "
          "difference %.2g)", seam_err);
    double lfr = lp.done == lf ? conv_freq(&lp, 1000, lf - 1000, 48000) : 0;
    CHECK(fabs(lfr - SINE_F) < 1.0, "SRC loop: %.4f Hz over 3 loops", lfr);
    free(lp.buf);

    /* A looping reader taken forever: it never ends. */
    conv_run fe = { .f = PS_INT16, .out_rate = 48000, .frames = -1, .loop = 1,
                    .block = 0, .take = 2 * want_len + 5 };
    conv_play("SRC loop forever", p441, &fe);
    CHECK(fe.ok && !fe.saw_eof && fe.done == fe.take, "SRC loop forever: %lld frames taken, "
          "no eof", (long long)fe.done);
    free(fe.buf);

    /* Other converters and a lower rate. */
    static const struct { const char *name; int q; double tol; } qs[] = {
        { "best", PS_SRC_BEST, 1e-3 },
        { "medium", PS_SRC_MEDIUM, 1e-3 },
        { "fastest", PS_SRC_FASTEST, 1e-2 },
        { "zero-order hold", PS_SRC_ZERO_ORDER_HOLD, -1 },
        { "linear", PS_SRC_LINEAR, -1 },
    };
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        char what[64];
        snprintf(what, sizeof what, "SRC 44.1k->48k %s", qs[k].name);
        conv_run q = { .f = PS_FLOAT32, .out_rate = 48000, .quality = qs[k].q,
                       .frames = -1, .block = 4000, .take = -1 };
        conv_play(what, p441, &q);
        double qf = 0, qp = 0, qe = 1, qa = 0, ql = 99;
        if (q.done > 2000) {
            qf = conv_freq(&q, 1000, q.done - 1000, 48000);
            conv_peak_err(&q, 1000, q.done - 1000, 48000, &qp, &qe);
            ql = conv_lag(&q, 1000, q.done - 1000, 48000, &qa);
        }
        /* The sinc converters are in time with the source; the poor ones
         * lag (measured: about one input frame), and only their frequency
         * and amplitude are checked. */
        bool in_time = qs[k].tol > 0;
        CHECK(q.ok && llabs(q.done - want_len) <= 2 && fabs(qf - SINE_F) < 1.0 &&
              fabs(qa - SINE_A) < 0.01 * SINE_A && (!in_time || qe < qs[k].tol),
              "%s: %lld frames, %.4f Hz, amplitude %.5f, lag %.3f frames, largest "
              "difference from the ideal sine %.2g (%.0f ms)", what, (long long)q.done,
              qf, qa, ql, qe, q.ms);
        free(q.buf);
    }
    snprintf(p48, sizeof p48, "%s", path_of("sine48000.wav"));
    write_sine(p48, 48000, 48000);
    conv_run dn = { .f = PS_FLOAT32, .out_rate = 44100, .frames = -1, .block = 1000,
                    .take = -1 };
    conv_play("SRC 48k->44.1k", p48, &dn);
    double dfr = dn.done > 2000 ? conv_freq(&dn, 1000, dn.done - 1000, 44100) : 0;
    CHECK(dn.ok && llabs(dn.done - L) <= 2 && fabs(dfr - SINE_F) < 1.0,
          "SRC 48k->44.1k: %lld frames (expected %lld +-2), %.4f Hz",
          (long long)dn.done, (long long)L, dfr);
    free(dn.buf);

    /* A large ratio into an int16 ring: 8 kHz -> 48 kHz. */
    char p8[384];
    snprintf(p8, sizeof p8, "%s", path_of("sine8000.wav"));
    write_sine(p8, 8000, 8000);
    conv_run up = { .f = PS_INT16, .out_rate = 48000, .frames = -1, .block = 700,
                    .take = -1 };
    conv_play("SRC 8k->48k int16", p8, &up);
    double ufr = 0, upk = 0, uer = 1;
    if (up.done > 2000) {
        ufr = conv_freq(&up, 1000, up.done - 1000, 48000);
        conv_peak_err(&up, 1000, up.done - 1000, 48000, &upk, &uer);
    }
    CHECK(up.ok && up.saw_eof && llabs(up.done - 48000) <= 2 && fabs(ufr - SINE_F) < 1.0 &&
          fabs(upk - SINE_A) < 0.01 * SINE_A,
          "SRC 8k->48k int16: %lld frames, %.4f Hz, peak %.5f, largest difference "
          "from the ideal sine %.2g", (long long)up.done, ufr, upk, uer);
    free(up.buf);

    /* Lengths: floor(input x ratio) or one more (see disk.h). */
    static const int64_t lens[] = { 1, 2, 100, 441, 12345, 44101 };
    int64_t len_bad = 0;
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        char name[64];
        snprintf(name, sizeof name, "len%lld.wav", (long long)lens[k]);
        write_sine(path_of(name), 44100, lens[k]);
        for (int up = 0; up < 2; up++) {
            conv_run r = { .f = PS_FLOAT32, .out_rate = up ? 48000 : 32000,
                           .frames = -1, .block = 1000, .take = -1 };
            conv_play("SRC length", path_of(name), &r);
            double x = (double)lens[k] * (r.out_rate / 44100);
            printf("# SRC length: %lld frames at 44100 Hz -> %lld at %.0f Hz "
                   "(x ratio = %.3f)\n", (long long)lens[k], (long long)r.done,
                   r.out_rate, x);
            len_bad += !r.ok || !r.saw_eof || r.done < (int64_t)floor(x) ||
                       r.done > (int64_t)floor(x) + 1;
            free(r.buf);
        }
    }
    CHECK_EQ(len_bad, 0, "SRC length: floor(input x ratio) or one more, short files too");

    /* An empty file, and an empty file looping: no frames, eof. */
    write_sine(path_of("empty44100.wav"), 44100, 0);
    for (int loop = 0; loop < 2; loop++) {
        conv_run e = { .f = PS_FLOAT32, .out_rate = 48000, .frames = -1, .loop = loop,
                       .block = 1000, .take = -1 };
        conv_play("SRC empty file", path_of("empty44100.wav"), &e);
        CHECK(e.ok && e.saw_eof && e.done == 0, "SRC empty file%s: 0 frames, eof",
              loop ? ", looping" : "");
        free(e.buf);
    }
    free(f.buf);

    /* Equal rates: no conversion, bit-exact, also with out_rate set. */
    gen g = { PS_FLOAT32, 2, 0, 37 };
    snprintf(pg, sizeof pg, "%s", path_of("exact48000.wav"));
    int64_t n = 30011;
    write_file(pg, SF_FORMAT_WAV | SF_FORMAT_FLOAT, &g, n);
    for (int k = 0; k < 2; k++) {
        gen gk = g;
        gk.f = k ? PS_INT16 : PS_FLOAT32;
        const char *pk = pg;
        if (k) {
            pk = path_of("exact48000_16.wav");
            gk.seed = 41;
            write_file(pk, SF_FORMAT_WAV | SF_FORMAT_PCM_16, &gk, n);
        }
        ps_wake wake;
        ring rb;
        atomic_bool eof;
        char err[256] = "";
        ps_disk_opts o;
        SF_INFO info = { 0 };
        ps_wake_open(&wake);
        ring_open(&rb, &gk, 4096);
        SNDFILE *sf = sf_open(pk, SFM_READ, &info);
        ps_disk_opts_init(&o);
        o.format = gk.f;
        o.out_rate = 48000;
        o.block_frames = 1000;
        ps_disk *d = ps_disk_reader(sf, &rb.r, &wake, &eof, &o, err, sizeof err);
        sim c = { .ring = &rb.r, .wake = &wake, .g = gk, .block = 256, .total = -1,
                  .expect = n, .eof = &eof };
        pthread_t t;
        pthread_create(&t, NULL, consumer_main, &c);
        pthread_join(t, NULL);
        CHECK(ps_disk_finish(d, 0) == 0 && c.done == n && c.bad == 0 && c.saw_eof &&
              c.eof_bad == 0, "SRC 48k->48k %s: no conversion, %lld frames bit-exact",
              ps_format_name(gk.f), (long long)c.done);
        ps_disk_free(d);
        sf_close(sf);
        ring_close(&rb);
        ps_wake_close(&wake);
    }

    /* Bad options fail at creation. */
    {
        static const struct { double rate; int q; const char *msg; } bad[] = {
            { -48000, 0, "bad output rate" },
            { NAN, 0, "bad output rate" },
            { INFINITY, 0, "bad output rate" },
            { 48000, 6, "unknown converter quality 6" },
            { 48000, -1, "unknown converter quality -1" },
            { 44100.0 * 300, 0, "cannot convert 44100 Hz" },
            { 44100.0 / 300, 0, "cannot convert 44100 Hz" },
        };
        ps_wake wake;
        float mem[2 * 16];
        ps_ring r;
        SF_INFO info = { 0 };
        ps_wake_open(&wake);
        ps_ring_init(&r, mem, 8, 16);
        SNDFILE *sf = sf_open(p441, SFM_READ, &info);
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            char err[256] = "";
            atomic_bool eof;
            ps_disk_opts o;
            ps_disk_opts_init(&o);
            o.out_rate = bad[k].rate;
            o.src_quality = bad[k].q;
            ps_disk *d = ps_disk_reader(sf, &r, &wake, &eof, &o, err, sizeof err);
            CHECK(d == NULL && strstr(err, bad[k].msg), "SRC refused: %s", err);
            ps_disk_free(d);
        }
        sf_close(sf);
        ps_wake_close(&wake);
    }
    printf("# rate conversion: %.0f ms\n", (now_s() - t0) * 1e3);
}

/* ---- main ---- */

static void remove_dir(void)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    while (dp && (e = readdir(dp)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(path_of(e->d_name));
    if (dp)
        closedir(dp);
    rmdir(dir);
}

int main(void)
{
    const char *sc = getenv("PS_DISK_SCALE");
    if (sc && atoll(sc) > 0)
        scale = atoll(sc);
    snprintf(dir, sizeof dir, "/tmp/ps_disk_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    double t0 = now_s();
    test_formats();
    test_clipping();
    test_lossy();
    test_playback();
    test_prefill();
    test_header_update();
    test_finish();
    test_write_error();
    test_truncated();
    test_pipes();
    test_wav_from_pipe();
    test_rate_conversion();
    test_memory();
    remove_dir();
    printf("# total %.1f s\n", now_s() - t0);
    return CHECK_DONE();
}
