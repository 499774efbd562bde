/* Sound file formats by name (the names python-soundfile and sox users
 * know: "wav", "flac"; "pcm_16", "float"; "little"), and opening files for
 * the disk threads, "-" being stdin or stdout. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "sfformat.h"

typedef struct named { const char *name; int code; } named;

static const named majors[] = {
    { "wav", SF_FORMAT_WAV },     { "aiff", SF_FORMAT_AIFF },   { "au", SF_FORMAT_AU },
    { "raw", SF_FORMAT_RAW },     { "paf", SF_FORMAT_PAF },     { "svx", SF_FORMAT_SVX },
    { "nist", SF_FORMAT_NIST },   { "voc", SF_FORMAT_VOC },     { "ircam", SF_FORMAT_IRCAM },
    { "w64", SF_FORMAT_W64 },     { "mat4", SF_FORMAT_MAT4 },   { "mat5", SF_FORMAT_MAT5 },
    { "pvf", SF_FORMAT_PVF },     { "xi", SF_FORMAT_XI },       { "htk", SF_FORMAT_HTK },
    { "sds", SF_FORMAT_SDS },     { "avr", SF_FORMAT_AVR },     { "wavex", SF_FORMAT_WAVEX },
    { "sd2", SF_FORMAT_SD2 },     { "flac", SF_FORMAT_FLAC },   { "caf", SF_FORMAT_CAF },
    { "wve", SF_FORMAT_WVE },     { "ogg", SF_FORMAT_OGG },     { "mpc2k", SF_FORMAT_MPC2K },
    { "rf64", SF_FORMAT_RF64 },
    /* SF_FORMAT_MPEG and SF_FORMAT_OPUS are enum constants (libsndfile
     * 1.1.0 and 1.0.29 on), not macros: an #ifdef never saw them, and
     * .mp3 and .opus were silently written as something else.  Whether
     * this libsndfile can write them is sf_format_check's to say. */
    { "mpeg", SF_FORMAT_MPEG },
    { NULL, 0 }
};

static const named subtypes[] = {
    { "pcm_s8", SF_FORMAT_PCM_S8 },   { "pcm_16", SF_FORMAT_PCM_16 },
    { "pcm_24", SF_FORMAT_PCM_24 },   { "pcm_32", SF_FORMAT_PCM_32 },
    { "pcm_u8", SF_FORMAT_PCM_U8 },   { "float", SF_FORMAT_FLOAT },
    { "double", SF_FORMAT_DOUBLE },   { "ulaw", SF_FORMAT_ULAW },
    { "alaw", SF_FORMAT_ALAW },       { "ima_adpcm", SF_FORMAT_IMA_ADPCM },
    { "ms_adpcm", SF_FORMAT_MS_ADPCM }, { "gsm610", SF_FORMAT_GSM610 },
    { "vox_adpcm", SF_FORMAT_VOX_ADPCM }, { "g721_32", SF_FORMAT_G721_32 },
    { "g723_24", SF_FORMAT_G723_24 }, { "g723_40", SF_FORMAT_G723_40 },
    { "dwvw_12", SF_FORMAT_DWVW_12 }, { "dwvw_16", SF_FORMAT_DWVW_16 },
    { "dwvw_24", SF_FORMAT_DWVW_24 }, { "dwvw_n", SF_FORMAT_DWVW_N },
    { "dpcm_8", SF_FORMAT_DPCM_8 },   { "dpcm_16", SF_FORMAT_DPCM_16 },
    { "vorbis", SF_FORMAT_VORBIS },
    { "opus", SF_FORMAT_OPUS },
    { "alac_16", SF_FORMAT_ALAC_16 }, { "alac_20", SF_FORMAT_ALAC_20 },
    { "alac_24", SF_FORMAT_ALAC_24 }, { "alac_32", SF_FORMAT_ALAC_32 },
    { "mpeg_layer_i", SF_FORMAT_MPEG_LAYER_I }, { "mpeg_layer_ii", SF_FORMAT_MPEG_LAYER_II },
    { "mpeg_layer_iii", SF_FORMAT_MPEG_LAYER_III },
    { NULL, 0 }
};

static const named endians[] = {
    { "file", SF_ENDIAN_FILE }, { "little", SF_ENDIAN_LITTLE },
    { "big", SF_ENDIAN_BIG },   { "cpu", SF_ENDIAN_CPU }, { NULL, 0 }
};

static int lookup(const named *t, const char *name)
{
    for (; t->name; t++)
        if (strcasecmp(t->name, name) == 0)
            return t->code;
    return -1;
}

static const char *rlookup(const named *t, int code)
{
    for (; t->name; t++)
        if (t->code == code)
            return t->name;
    return "?";
}

static void list(const named *t, char *buf, size_t len)
{
    buf[0] = '\0';
    for (; t->name; t++) {
        if (buf[0])
            strncat(buf, ", ", len - strlen(buf) - 1);
        strncat(buf, t->name, len - strlen(buf) - 1);
    }
}

int ps_sf_major(const char *name) { return lookup(majors, name); }
int ps_sf_subtype(const char *name) { return lookup(subtypes, name); }
int ps_sf_endian(const char *name) { return lookup(endians, name); }
const char *ps_sf_major_name(int format) { return rlookup(majors, format & SF_FORMAT_TYPEMASK); }
const char *ps_sf_subtype_name(int format) { return rlookup(subtypes, format & SF_FORMAT_SUBMASK); }
const char *ps_sf_endian_name(int format) { return rlookup(endians, format & SF_FORMAT_ENDMASK); }
void ps_sf_list_majors(char *buf, size_t len) { list(majors, buf, len); }
void ps_sf_list_subtypes(char *buf, size_t len) { list(subtypes, buf, len); }

int ps_sf_major_from_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return 0;
    dot++;
    if (strcasecmp(dot, "aif") == 0 || strcasecmp(dot, "aifc") == 0) return SF_FORMAT_AIFF;
    if (strcasecmp(dot, "oga") == 0 || strcasecmp(dot, "opus") == 0) return SF_FORMAT_OGG;
    if (strcasecmp(dot, "snd") == 0) return SF_FORMAT_AU;
    if (strcasecmp(dot, "mp3") == 0) return lookup(majors, "mpeg") > 0 ? lookup(majors, "mpeg") : 0;
    int m = lookup(majors, dot);
    return m > 0 ? m : 0;
}

int ps_sf_subtype_from_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/') && strcasecmp(dot + 1, "opus") == 0)
        return SF_FORMAT_OPUS;        /* .opus is Ogg Opus, not Ogg Vorbis */
    return 0;
}

int ps_sf_subtype_for(int major, ps_format f)
{
    switch (major) {
    case SF_FORMAT_OGG:  return SF_FORMAT_VORBIS;
    case SF_FORMAT_MPEG: return SF_FORMAT_MPEG_LAYER_III;
    case SF_FORMAT_FLAC:
        return f == PS_INT16 ? SF_FORMAT_PCM_16 : f == PS_INT8 ? SF_FORMAT_PCM_S8 : SF_FORMAT_PCM_24;
    default: break;
    }
    switch (f) {
    case PS_FLOAT32: return SF_FORMAT_FLOAT;
    case PS_INT32:   return SF_FORMAT_PCM_32;
    case PS_INT24:   return SF_FORMAT_PCM_24;
    case PS_INT16:   return SF_FORMAT_PCM_16;
    case PS_INT8:    return SF_FORMAT_PCM_S8;
    case PS_UINT8:   return SF_FORMAT_PCM_U8;
    default:         return SF_FORMAT_FLOAT;
    }
}

/* WAV and AU to a pipe.  libsndfile writes a header at the start and seeks
 * back at the end to fill in the sizes, which a pipe cannot do.  This
 * virtual file goes forward only: it tells libsndfile every seek worked,
 * drops what would be rewritten, and mends the first header into what sox
 * reads from a pipe without a warning (`sox -`, `sox -t wav -`, `sox -t au -`):
 *  - WAV: the RIFF and data sizes say "unknown, read to the end" as sox
 *    writes it, 0x7FFFF000 (sox warns of a premature end for 0xFFFFFFFF);
 *    a float fmt chunk gets the 2-byte extension size (0) that sox asks for;
 *  - AU: the 24-byte header libsndfile writes is one that sox calls too
 *    small (and cannot detect on a pipe): it gets an 8-byte annotation
 *    field, as sox's own headers have, and the data offset says 32.
 * pos and written count in libsndfile's terms; the fd is `extra` bytes
 * further on. */
typedef struct pipe_io {
    int fd;
    sf_count_t pos, written;
    /* The mended header waits here for the first samples, and both go in
     * one write: sox detects a type on a pipe from the bytes of its first
     * read, and cannot look again (`sox -` fails on a header alone). */
    unsigned char held[512 + 8];
    size_t nheld;
} pipe_io;

#define SOX_UNSPEC 0x7FFFF000u      /* sox's "length unknown" in WAV */
#define AU_PAD 8

static pipe_io stdout_io;
static SNDFILE *stdout_sf;          /* the file that writes through it */

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff;
}

/* Write all of b[0..n) to fd; the bytes written. */
static sf_count_t write_all(int fd, const unsigned char *b, sf_count_t n)
{
    sf_count_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, b + done, (size_t)(n - done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        done += w;
    }
    return done;
}


static sf_count_t pio_len(void *u) { return ((pipe_io *)u)->written; }
static sf_count_t pio_tell(void *u) { return ((pipe_io *)u)->pos; }
static sf_count_t pio_read(void *p, sf_count_t n, void *u) { (void)p; (void)n; (void)u; return 0; }

static void pio_flush(pipe_io *io)
{
    if (io->nheld)
        write_all(io->fd, io->held, (sf_count_t)io->nheld);
    io->nheld = 0;
}

static sf_count_t pio_seek(sf_count_t off, int whence, void *u)
{
    pipe_io *io = u;
    io->pos = whence == SEEK_SET ? off : whence == SEEK_CUR ? io->pos + off : io->written + off;
    return io->pos;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = v >> 24;
}

static sf_count_t pio_write(const void *p, sf_count_t n, void *u)
{
    pipe_io *io = u;
    const unsigned char *b = p;
    if (io->pos < io->written) {          /* a rewrite of what has gone: drop it */
        io->pos += n;
        return n;
    }
    unsigned char head[512 + AU_PAD];
    sf_count_t out = n;                   /* bytes that go to the fd */
    if (io->written == 0 && n >= 36 && n <= 512 && memcmp(b, "RIFF", 4) == 0) {
        sf_count_t at = 12;               /* where the fmt chunk's body ends */
        memcpy(head, b, (size_t)n);
        if (memcmp(b + 12, "fmt ", 4) == 0 && b[16] == 16 && !b[17] && !b[18] && !b[19]
            && (b[20] != 1 || b[21] != 0)) {
            /* a 16-byte fmt chunk of a non-PCM tag (float): sox wants its
             * cbSize, 2 zero bytes more, as sox's own float WAV has */
            at = 12 + 8 + 16;
            head[16] = 18;
            head[at] = head[at + 1] = 0;
            memcpy(head + at + 2, b + at, (size_t)(n - at));
            out = n + 2;
        }
        for (sf_count_t i = at; i + 8 <= out; i++)
            if (memcmp(head + i, "data", 4) == 0) {
                put_le32(head + i + 4, SOX_UNSPEC);
                put_le32(head + 4, SOX_UNSPEC + (uint32_t)i);
                break;
            }
        b = head;
    } else if (io->written == 0 && n >= 24 && n <= 512 && memcmp(b, ".snd", 4) == 0
               && get_be32(b + 4) == 24) {
        /* the header, then AU_PAD zero bytes of annotation, then the rest */
        memcpy(head, b, 24);
        put_be32(head + 4, 24 + AU_PAD);
        memset(head + 24, 0, AU_PAD);
        memcpy(head + 24 + AU_PAD, b + 24, (size_t)(n - 24));
        b = head;
        out = n + AU_PAD;
    }
    if (io->written == 0 && b == head && (size_t)out <= sizeof io->held) {
        memcpy(io->held, head, (size_t)out);      /* wait for the samples */
        io->nheld = (size_t)out;
        io->pos += n;
        io->written += n;
        return n;
    }
    sf_count_t done;
    if (io->nheld) {                              /* the header and the first samples */
        struct iovec v[2] = { { io->held, io->nheld }, { (void *)b, (size_t)out } };
        ssize_t w = writev(io->fd, v, 2);
        sf_count_t h = (sf_count_t)io->nheld;
        io->nheld = 0;
        if (w < h) {
            done = 0;
        } else {
            done = (sf_count_t)w - h;
            if (done < out)
                done += write_all(io->fd, b + done, out - done);
        }
    } else {
        done = write_all(io->fd, b, out);
    }
    if (out != n)                         /* a header that grew: all or nothing */
        done = done == out ? n : 0;
    io->pos += done;
    io->written += done;
    return done;
}

SNDFILE *ps_sf_open(const char *path, int mode, SF_INFO *info, int *is_pipe)
{
    *is_pipe = 0;
    if (strcmp(path, "-") == 0) {
        int fd = mode == SFM_READ ? STDIN_FILENO : STDOUT_FILENO;
        *is_pipe = lseek(fd, 0, SEEK_CUR) < 0;
        int major = info->format & SF_FORMAT_TYPEMASK;
        if (*is_pipe && mode == SFM_WRITE
            && (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_AU)) {
            static SF_VIRTUAL_IO vio = { pio_len, pio_seek, pio_read, pio_write, pio_tell };
            stdout_io = (pipe_io){ .fd = fd };
            return stdout_sf = sf_open_virtual(&vio, mode, info, &stdout_io);
        }
        return sf_open_fd(fd, mode, info, 0);
    }
    return sf_open(path, mode, info);
}

int ps_sf_close(SNDFILE *sf)
{
    /* Closing a file that was written writes its header (and a trailer in
     * some types) on this thread.  Past RLIMIT_FSIZE that raises SIGXFSZ,
     * and to a closed pipe SIGPIPE, which would end the process here even
     * when the disk thread, which blocks them (disk.h), met the limit first
     * and said so.  Blocked while closing, a write fails with EFBIG or EPIPE
     * instead, and the close reports it; a signal it raised is taken. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGXFSZ);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    int r = sf_close(sf);
    if (sf == stdout_sf) {
        pio_flush(&stdout_io);    /* a header still waiting: no samples came */
        stdout_sf = NULL;
    }
    const struct timespec now = { 0, 0 };
    while (sigtimedwait(&set, NULL, &now) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

/* Why opening `path` failed, in words a user can act on.  libsndfile says
 * "Format not recognised" for an empty file and for a directory alike. */
const char *ps_sf_open_error(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return "is a directory, not a sound file";
        if (S_ISREG(st.st_mode) && st.st_size == 0)
            return "the file is empty (0 bytes)";
    }
    return sf_strerror(NULL);
}

/* ---- a write probe ---- */

/* A virtual file that keeps nothing: every write and seek works. */
typedef struct probe_io { sf_count_t pos, len; } probe_io;

static sf_count_t probe_len(void *u) { return ((probe_io *)u)->len; }
static sf_count_t probe_tell(void *u) { return ((probe_io *)u)->pos; }
static sf_count_t probe_read(void *p, sf_count_t n, void *u) { (void)p; (void)n; (void)u; return 0; }

static sf_count_t probe_seek(sf_count_t off, int whence, void *u)
{
    probe_io *io = u;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? io->pos : io->len;
    io->pos = base + off < 0 ? 0 : base + off;
    return io->pos;
}

static sf_count_t probe_write(const void *p, sf_count_t n, void *u)
{
    probe_io *io = u;
    (void)p;
    io->pos += n;
    if (io->pos > io->len)
        io->len = io->pos;
    return n;
}

int ps_sf_probe_write(const SF_INFO *info, char *err, size_t errlen)
{
    /* SD2 keeps its header in a resource fork, a second file named after
     * the path ("._NAME"): with no path it would create "._" here.  It
     * writes whatever sf_format_check accepts. */
    if ((info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_SD2)
        return 0;
    SF_VIRTUAL_IO vio = { probe_len, probe_seek, probe_read, probe_write, probe_tell };
    probe_io io = { 0, 0 };
    SF_INFO copy = *info;
    SNDFILE *sf = sf_open_virtual(&vio, SFM_WRITE, &copy, &io);
    if (!sf) {
        snprintf(err, errlen, "%s", sf_strerror(NULL));
        return -1;
    }
    int *frame = calloc((size_t)(info->channels > 0 ? info->channels : 1), sizeof *frame);
    int r = 0;
    /* A codec may keep a lone frame back (VOX packs two samples a byte)
     * and write nothing yet: only an error counts. */
    if (!frame || (sf_writef_int(sf, frame, 1) != 1 && sf_error(sf) != SF_ERR_NO_ERROR)) {
        snprintf(err, errlen, "%s", frame ? sf_strerror(sf) : "out of memory");
        r = -1;
    }
    free(frame);
    sf_close(sf);
    return r;
}
