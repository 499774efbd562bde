#include "engine.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define RLX memory_order_relaxed

static void set_identity(int *map, int n)
{
    for (int k = 0; k < PS_MAXCH; k++)
        map[k] = k < n ? k + 1 : 0;
}

void ps_engine_init(ps_engine *e)
{
    memset(e, 0, sizeof *e);
    e->in_format = e->out_format = PS_FLOAT32;
    e->in_ss = e->out_ss = 4;
    e->frames = -1;
    set_identity(e->rxmap, PS_MAXCH);
    set_identity(e->txmap, PS_MAXCH);
    e->rx_identity = e->tx_identity = true;
    e->rx_plan = e->tx_plan = PS_COPY_IDENTITY;
    ps_engine_arm(e);
}

static bool is_identity(const int *map, int n, int src_ch)
{
    if (n != src_ch)
        return false;
    for (int k = 0; k < n; k++)
        if (map[k] != k + 1)
            return false;
    return true;
}

int ps_engine_set_input(ps_engine *e, int channels, ps_format f)
{
    if (channels < 0 || channels > PS_MAXCH || f >= PS_NFORMATS)
        return -1;
    e->in_channels = channels;
    e->in_format = f;
    e->in_ss = ps_format_size(f);
    return ps_engine_set_rxmap(e, channels, NULL);
}

int ps_engine_set_output(ps_engine *e, int channels, ps_format f)
{
    if (channels < 0 || channels > PS_MAXCH || f >= PS_NFORMATS)
        return -1;
    e->out_channels = channels;
    e->out_format = f;
    e->out_ss = ps_format_size(f);
    return ps_engine_set_txmap(e, channels, NULL);
}

int ps_engine_set_rxmap(ps_engine *e, int rx_channels, const int *map)
{
    if (rx_channels < 0 || rx_channels > PS_MAXCH)
        return -1;
    if (map) {
        for (int k = 0; k < rx_channels; k++)
            if (map[k] < 0 || map[k] > e->in_channels)
                return -1;
        memcpy(e->rxmap, map, sizeof(int) * (size_t)rx_channels);
    } else
        set_identity(e->rxmap, rx_channels);
    e->rx_channels = rx_channels;
    e->rx_identity = is_identity(e->rxmap, rx_channels, e->in_channels);
    e->rx_plan = ps_copy_plan(rx_channels, e->in_channels, e->rxmap, e->in_ss,
                              ps_sample_silence(e->in_format));
    return 0;
}

int ps_engine_set_txmap(ps_engine *e, int tx_channels, const int *map)
{
    if (tx_channels < 0 || tx_channels > PS_MAXCH)
        return -1;
    if (map) {
        for (int k = 0; k < e->out_channels; k++)
            if (map[k] < 0 || map[k] > tx_channels)
                return -1;
        memcpy(e->txmap, map, sizeof(int) * (size_t)e->out_channels);
    } else
        set_identity(e->txmap, tx_channels < e->out_channels ? tx_channels : e->out_channels);
    e->tx_channels = tx_channels;
    e->tx_identity = is_identity(e->txmap, e->out_channels, tx_channels);
    e->tx_plan = ps_copy_plan(e->out_channels, tx_channels, e->txmap, e->out_ss,
                              ps_sample_silence(e->out_format));
    return 0;
}

void ps_engine_arm(ps_engine *e)
{
    e->phase = PS_PHASE_SOURCE;
    e->txbuf_pos = 0;
    e->rxbuf_pos = 0;
    e->pad_left = e->pad;
    e->offset_left = e->offset > 0 ? e->offset : 0;
    e->gap.pos = e->gap.count = 0;
    /* tx_eof is the producer's: it may already have written everything
     * while prebuffering, so it is reset with the ring, not here. */
    atomic_store(&e->frame_count, 0);
    atomic_store(&e->tx_frames, 0);
    atomic_store(&e->rx_frames, 0);
    atomic_store(&e->tx_lost, 0);
    atomic_store(&e->rx_lost, 0);
    for (int i = 0; i < PS_NXRUN; i++)
        atomic_store(&e->xruns[i], 0);
    atomic_store(&e->status, PS_RUNNING);
    atomic_store(&e->status_frame, 0);
    atomic_store(&e->ending, 0);
    for (int i = 0; i < PS_MAXCH; i++) {
        atomic_store(&e->in_peak[i], 0);
        atomic_store(&e->out_peak[i], 0);
    }
    atomic_store(&e->finished, false);
}

const char *ps_status_name(ps_status st)
{
    switch (st) {
    case PS_RUNNING:      return "running";
    case PS_COMPLETE:     return "complete";
    case PS_BUFFER_EMPTY: return "BufferEmpty";
    case PS_BUFFER_FULL:  return "BufferFull";
    case PS_XRUN:         return "XRun";
    case PS_STOPPED:      return "stopped";
    case PS_DEVICE_ERROR: return "DeviceError";
    }
    return "unknown";
}

/* ---- copying ---------------------------------------------------------- */

/* The generic mapped copy, specialised by sample size so the inner loop is
 * a plain strided load/store.  Channel outer, frames inner: the map entry
 * is looked up once per channel and block, not once per sample. */
#define COPY_MAPPED(T)                                                      \
    do {                                                                    \
        T *d = (T *)(void *)dst;                                            \
        const T *s = (const T *)(const void *)src;                          \
        for (int k = 0; k < dst_ch; k++) {                                  \
            if (map[k]) {                                                   \
                const T *sk = s + (map[k] - 1);                             \
                for (size_t i = 0; i < nframes; i++)                        \
                    d[i * (size_t)dst_ch + (size_t)k] = sk[i * (size_t)src_ch]; \
            } else {                                                        \
                for (size_t i = 0; i < nframes; i++)                        \
                    d[i * (size_t)dst_ch + (size_t)k] = (T)0;               \
            }                                                               \
        }                                                                   \
    } while (0)

void ps_copy_mapped(unsigned char *dst, int dst_ch, const unsigned char *src,
                    int src_ch, const int *map, size_t ss, unsigned char silence,
                    size_t nframes)
{
    if (!src) {
        memset(dst, silence, nframes * (size_t)dst_ch * ss);
        return;
    }
    if (silence == 0 && ((uintptr_t)dst | (uintptr_t)src) % ss == 0) {
        switch (ss) {
        case 4: COPY_MAPPED(uint32_t); return;
        case 2: COPY_MAPPED(uint16_t); return;
        case 1: COPY_MAPPED(uint8_t); return;
        default: break;
        }
    }
    size_t dfb = (size_t)dst_ch * ss, sfb = (size_t)src_ch * ss;
    for (int k = 0; k < dst_ch; k++) {
        unsigned char *d = dst + (size_t)k * ss;
        if (map[k]) {
            const unsigned char *s = src + (size_t)(map[k] - 1) * ss;
            for (size_t i = 0; i < nframes; i++, d += dfb, s += sfb)
                memcpy(d, s, ss);
        } else {
            for (size_t i = 0; i < nframes; i++, d += dfb)
                memset(d, silence, ss);
        }
    }
}

ps_copy_kind ps_copy_plan(int dst_ch, int src_ch, const int *map, size_t ss,
                          unsigned char silence)
{
    if (is_identity(map, dst_ch, src_ch))
        return PS_COPY_IDENTITY;
    /* Stereo to stereo with 32-bit samples (float32, int32): the layouts
     * that mapping options produce most, each a fixed shuffle per frame. */
    if (dst_ch == 2 && src_ch == 2 && ss == 4) {
        int a = map[0], b = map[1];
        if (a == 2 && b == 1) return PS_COPY_SWAP2;
        if (a == 1 && b == 1) return PS_COPY_LEFT2;
        if (a == 2 && b == 2) return PS_COPY_RIGHT2;
        if (silence == 0 && a == 0 && b == 2) return PS_COPY_MUTE_LEFT2;
        if (silence == 0 && a == 1 && b == 0) return PS_COPY_MUTE_RIGHT2;
    }
    return PS_COPY_GENERIC;
}

/* 32-bit sample access through memcpy: any alignment, and one plain move
 * once compiled. */
static inline uint32_t ld32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void st32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}


#ifdef __SSE2__
/* Two stereo 32-bit frames per step: one 16-byte load, a lane shuffle (and
 * a mask for a muted channel), one store.  Returns the frames done (even). */
static size_t stereo_sse2(ps_copy_kind kind, unsigned char *d,
                          const unsigned char *s, size_t nframes)
{
    size_t i = 0, pairs = nframes & ~(size_t)1;
    __m128i v;
    switch (kind) {
    case PS_COPY_SWAP2:
        for (; i < pairs; i += 2) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(s + i * 8));
            _mm_storeu_si128((__m128i *)(void *)(d + i * 8),
                             _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
        }
        break;
    case PS_COPY_LEFT2:
        for (; i < pairs; i += 2) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(s + i * 8));
            _mm_storeu_si128((__m128i *)(void *)(d + i * 8),
                             _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 0, 0)));
        }
        break;
    case PS_COPY_RIGHT2:
        for (; i < pairs; i += 2) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(s + i * 8));
            _mm_storeu_si128((__m128i *)(void *)(d + i * 8),
                             _mm_shuffle_epi32(v, _MM_SHUFFLE(3, 3, 1, 1)));
        }
        break;
    case PS_COPY_MUTE_LEFT2:
    case PS_COPY_MUTE_RIGHT2: {
        /* Lane 0 of each frame is its first channel in memory. */
        __m128i keep = kind == PS_COPY_MUTE_LEFT2 ? _mm_set_epi32(-1, 0, -1, 0)
                                                  : _mm_set_epi32(0, -1, 0, -1);
        for (; i < pairs; i += 2) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(s + i * 8));
            _mm_storeu_si128((__m128i *)(void *)(d + i * 8), _mm_and_si128(v, keep));
        }
        break;
    }
    default:
        break;
    }
    return i;
}
#endif

void ps_copy_planned(ps_copy_kind kind, unsigned char *dst, int dst_ch,
                     const unsigned char *src, int src_ch, const int *map,
                     size_t ss, unsigned char silence, size_t nframes)
{
    if (!src || kind == PS_COPY_GENERIC) {
        ps_copy_mapped(dst, dst_ch, src, src_ch, map, ss, silence, nframes);
        return;
    }
    if (kind == PS_COPY_IDENTITY) {
        memcpy(dst, src, nframes * (size_t)dst_ch * ss);
        return;
    }
    size_t i = 0;
#ifdef __SSE2__
    i = stereo_sse2(kind, dst, src, nframes);
#endif
    /* The rest (all of it without SSE2), a frame at a time. */
    const unsigned char *s = src + i * 8;
    unsigned char *d = dst + i * 8;
    for (; i < nframes; i++, d += 8, s += 8) {
        uint32_t l = ld32(s), r = ld32(s + 4);
        switch (kind) {
        case PS_COPY_SWAP2:       st32(d, r); st32(d + 4, l); break;
        case PS_COPY_LEFT2:       st32(d, l); st32(d + 4, l); break;
        case PS_COPY_RIGHT2:      st32(d, r); st32(d + 4, r); break;
        case PS_COPY_MUTE_LEFT2:  st32(d, 0); st32(d + 4, r); break;
        case PS_COPY_MUTE_RIGHT2: st32(d, l); st32(d + 4, 0); break;
        default: break;
        }
    }
}

/* Copy n source frames (tx layout) to the device output at frame `at`. */
static void tx_copy(ps_engine *e, unsigned char *out, size_t at,
                    const unsigned char *src, size_t n)
{
    size_t ofs = at * (size_t)e->out_channels * e->out_ss;
    if (e->tx_identity)
        memcpy(out + ofs, src, n * (size_t)e->out_channels * e->out_ss);
    else
        ps_copy_planned(e->tx_plan, out + ofs, e->out_channels, src, e->tx_channels,
                        e->txmap, e->out_ss, ps_sample_silence(e->out_format), n);
}

static void tx_silence(ps_engine *e, unsigned char *out, size_t at, size_t n)
{
    size_t fb = (size_t)e->out_channels * e->out_ss;
    memset(out + at * fb, ps_sample_silence(e->out_format), n * fb);
}

/* Receive n device frames (in may be NULL: silence) into dst (rx layout). */
static void rx_copy(ps_engine *e, unsigned char *dst, const unsigned char *in, size_t n)
{
    if (e->rx_identity && in)
        memcpy(dst, in, n * (size_t)e->in_channels * e->in_ss);
    else
        ps_copy_planned(e->rx_plan, dst, e->rx_channels, in, e->in_channels,
                        e->rxmap, e->in_ss, ps_sample_silence(e->in_format), n);
}

/* ---- the two directions ------------------------------------------------ */

/* Fill up to n frames of output from the source, then padding.  Returns
 * the number of frames of playback produced (source + pad); fewer than n
 * means playback ended (phase DONE) or the ring underran (*underrun). */
static size_t tx_fill(ps_engine *e, unsigned char *out, size_t n, bool *underrun)
{
    size_t got = 0;
    *underrun = false;
    while (got < n && e->phase != PS_PHASE_DONE) {
        if (e->phase == PS_PHASE_SOURCE) {
            if (e->txbuf) {
                int64_t avail = e->txbuf_frames - e->txbuf_pos;
                if (avail <= 0) {
                    if (e->loop && e->txbuf_frames > 0)
                        e->txbuf_pos = 0;
                    else
                        e->phase = PS_PHASE_PAD;
                    continue;
                }
                size_t k = (size_t)avail < n - got ? (size_t)avail : n - got;
                size_t fb = (size_t)e->tx_channels * e->out_ss;
                tx_copy(e, out, got, e->txbuf + (size_t)e->txbuf_pos * fb, k);
                e->txbuf_pos += (int64_t)k;
                got += k;
                atomic_fetch_add_explicit(&e->tx_frames, (int64_t)k, RLX);
            } else if (e->txring) {
                void *p1, *p2;
                size_t n1, n2;
                size_t k = ps_ring_read_regions(e->txring, n - got, &p1, &n1, &p2, &n2);
                if (k == 0) {
                    /* eof is published after the last write, so once it is
                     * seen, an empty ring really is the end. */
                    if (atomic_load_explicit(&e->tx_eof, memory_order_acquire)) {
                        if (ps_ring_read_available(e->txring) == 0)
                            e->phase = PS_PHASE_PAD;
                        continue;
                    }
                    if (e->flags & PS_FILL_GAPS) {
                        tx_silence(e, out, got, n - got);
                        atomic_fetch_add_explicit(&e->tx_lost, (int64_t)(n - got), RLX);
                        got = n;
                        break;
                    }
                    *underrun = true;
                    break;
                }
                tx_copy(e, out, got, p1, n1);
                if (n2)
                    tx_copy(e, out, got + n1, p2, n2);
                ps_ring_read_advance(e->txring, k);
                got += k;
                atomic_fetch_add_explicit(&e->tx_frames, (int64_t)k, RLX);
            } else {
                /* No playback source: the output plays silence. */
                tx_silence(e, out, got, n - got);
                got = n;
            }
        } else {   /* PS_PHASE_PAD */
            if (e->pad_left < 0) {
                tx_silence(e, out, got, n - got);
                got = n;
            } else if (e->pad_left == 0) {
                e->phase = PS_PHASE_DONE;
            } else {
                size_t k = (size_t)e->pad_left < n - got ? (size_t)e->pad_left : n - got;
                tx_silence(e, out, got, k);
                e->pad_left -= (int64_t)k;
                got += k;
            }
        }
    }
    return got;
}

/* Announce the pending gap to the ring's reader.  If the gap queue is full
 * the silence cannot be placed: the frames stay counted in rx_lost only. */
static void flush_gap(ps_engine *e)
{
    if (e->gapq)
        ps_ring_write(e->gapq, &e->gap, 1);
    e->gap.count = 0;
}

/* Deliver n input frames; returns false when the sink is full (BufferFull). */
static bool rx_store(ps_engine *e, const unsigned char *in, size_t n)
{
    size_t fb_in = (size_t)e->in_channels * e->in_ss;
    if (e->offset_left > 0) {
        size_t k = (size_t)e->offset_left < n ? (size_t)e->offset_left : n;
        e->offset_left -= (int64_t)k;
        n -= k;
        if (in)
            in += k * fb_in;
    }
    if (n == 0)
        return true;

    size_t fb = (size_t)e->rx_channels * e->in_ss;
    size_t put = 0;
    /* A pending gap is announced before any frame after it is published,
     * so a reader that sees those frames also sees the gap. */
    if (e->gap.count && e->rxring && ps_ring_write_available(e->rxring) > 0)
        flush_gap(e);
    if (e->rxbuf) {
        int64_t room = e->rxbuf_frames - e->rxbuf_pos;
        put = (size_t)room < n ? (size_t)room : n;
        rx_copy(e, e->rxbuf + (size_t)e->rxbuf_pos * fb, in, put);
        e->rxbuf_pos += (int64_t)put;
    } else if (e->rxring) {
        void *p1, *p2;
        size_t n1, n2;
        put = ps_ring_write_regions(e->rxring, n, &p1, &n1, &p2, &n2);
        rx_copy(e, p1, in, n1);
        if (n2)
            rx_copy(e, p2, in ? in + n1 * fb_in : NULL, n2);
        ps_ring_write_advance(e->rxring, put);
    } else {
        return true;       /* nobody records: input is discarded */
    }
    atomic_fetch_add_explicit(&e->rx_frames, (int64_t)put, RLX);
    if (put < n) {
        if (e->flags & PS_FILL_GAPS) {
            int64_t lost = (int64_t)(n - put);
            int64_t at = atomic_load_explicit(&e->rx_frames, RLX);
            atomic_fetch_add_explicit(&e->rx_lost, lost, RLX);
            if (e->gapq) {
                if (e->gap.count && e->gap.pos != at)
                    flush_gap(e);
                e->gap.pos = at;
                e->gap.count += lost;
            }
            return true;
        }
        return false;
    }
    return true;
}

static void wake_all(ps_engine *e)
{
    for (int i = 0; i < PS_MAXWAKE; i++)
        ps_wake_signal(e->wake[i]);
}

static int finish(ps_engine *e, ps_status st, int64_t at, int ret)
{
    /* One winner: it stores the frame first, then publishes the status, so
     * whoever sees the status also sees its frame. */
    int expected = 0;
    if (atomic_compare_exchange_strong(&e->ending, &expected, 1)) {
        atomic_store(&e->status_frame, at);
        atomic_store(&e->status, (int)st);
    }
    wake_all(e);
    return ret;
}

/* ---- meters ------------------------------------------------------------ */

static void meter(_Atomic uint32_t *peaks, const unsigned char *buf, int channels,
                  ps_format f, size_t nframes)
{
    size_t ss = ps_format_size(f);
    for (int c = 0; c < channels; c++) {
        float m = 0;
        const unsigned char *p = buf + (size_t)c * ss;
        size_t stride = (size_t)channels * ss;
        if (f == PS_FLOAT32) {
            for (size_t i = 0; i < nframes; i++, p += stride) {
                float v;
                memcpy(&v, p, 4);
                v = v < 0 ? -v : v;
                if (v > m) m = v;
            }
        } else {
            for (size_t i = 0; i < nframes; i++, p += stride) {
                float v = (float)ps_sample_get(f, p);
                v = v < 0 ? -v : v;
                if (v > m) m = v;
            }
        }
        uint32_t bits;
        memcpy(&bits, &m, 4);
        /* One writer; a take racing with this may lose one block's peak. */
        if (bits > atomic_load_explicit(&peaks[c], RLX))
            atomic_store_explicit(&peaks[c], bits, RLX);
    }
}

void ps_engine_flush_gap(ps_engine *e)
{
    if (e->gap.count)
        flush_gap(e);
}

float ps_engine_take_peak(ps_engine *e, int dir, int ch)
{
    uint32_t bits = atomic_exchange(dir ? &e->out_peak[ch] : &e->in_peak[ch], 0);
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

/* ---- the callback ------------------------------------------------------ */

/* The callback's way to end a run: announce a gap at the very end, then
 * finish.  (Only the callback produces gaps: ps_engine_end, called from
 * other threads, must not.) */
static int end_run(ps_engine *e, ps_status st, int64_t at, int ret)
{
    if (e->gap.count)
        flush_gap(e);
    return finish(e, st, at, ret);
}

int ps_engine_callback(const void *input, void *output, unsigned long nframes,
                       const PaStreamCallbackTimeInfo *time_info,
                       PaStreamCallbackFlags flags, void *user_data)
{
    ps_engine *e = user_data;
    if (atomic_load_explicit(&e->abandoned, memory_order_acquire))
        return paAbort;
    const unsigned char *in = e->in_channels ? input : NULL;
    unsigned char *out = e->out_channels ? output : NULL;
    int64_t done = atomic_load_explicit(&e->frame_count, RLX);
    size_t n = nframes, played;
    bool underrun = false, xrun = false;
    (void)time_info;

    static const PaStreamCallbackFlags kinds[PS_NXRUN] = {
        paInputUnderflow, paInputOverflow, paOutputUnderflow, paOutputOverflow
    };
    for (int i = 0; i < PS_NXRUN; i++)
        if (flags & kinds[i]) {
            atomic_fetch_add_explicit(&e->xruns[i], 1, RLX);
            xrun = true;
        }

    if (atomic_load_explicit(&e->status, RLX) != PS_RUNNING) {
        if (out)
            tx_silence(e, out, 0, nframes);
        return paComplete;
    }
    if (xrun && e->fatal_xruns) {
        if (out)
            tx_silence(e, out, 0, nframes);
        return end_run(e, PS_XRUN, done, paAbort);
    }

    if (e->frames >= 0 && (int64_t)n > e->frames - done)
        n = (size_t)(e->frames - done);

    played = n;
    if (out) {
        played = tx_fill(e, out, n, &underrun);
        if (played < nframes)
            tx_silence(e, out, played, nframes - played);
    }
    /* Playback ended early: the stream's last frame is the last one played. */
    n = played;

    if (in || e->in_channels) {
        if (!rx_store(e, in, n)) {
            atomic_store_explicit(&e->frame_count, done + (int64_t)n, RLX);
            return end_run(e, PS_BUFFER_FULL, done + (int64_t)n, paAbort);
        }
    }
    done += (int64_t)n;
    atomic_store_explicit(&e->frame_count, done, memory_order_release);
    if (e->flags & PS_METER) {
        if (in)
            meter(e->in_peak, in, e->in_channels, e->in_format, n);
        if (out)
            meter(e->out_peak, out, e->out_channels, e->out_format, n);
    }

    if (underrun)
        return end_run(e, PS_BUFFER_EMPTY, done, paAbort);
    if (e->phase == PS_PHASE_DONE && e->frames >= 0 && done < e->frames)
        return end_run(e, PS_BUFFER_EMPTY, done, paAbort);
    if (e->phase == PS_PHASE_DONE || (e->frames >= 0 && done >= e->frames))
        return end_run(e, PS_COMPLETE, done, paComplete);
    /* wake[0] is the Lua side: it needs every block only when it moves
     * frames itself (a source, a sink, chunks); the others are disk threads. */
    for (int i = (e->flags & PS_QUIET) ? 1 : 0; i < PS_MAXWAKE; i++)
        ps_wake_signal(e->wake[i]);
    return paContinue;
}

void ps_engine_finished(void *user_data)
{
    ps_engine *e = user_data;
    /* Still running means neither the callback nor the user ended it: the
     * host API stopped the stream (the server went away, a device error). */
    finish(e, PS_DEVICE_ERROR, atomic_load(&e->frame_count), 0);
    atomic_store(&e->finished, true);
    wake_all(e);
}

void ps_engine_abandon(ps_engine *e)
{
    atomic_store_explicit(&e->abandoned, true, memory_order_release);
    finish(e, PS_DEVICE_ERROR, atomic_load(&e->frame_count), 0);
    atomic_store(&e->finished, true);
    wake_all(e);
}

void ps_engine_end(ps_engine *e, ps_status st)
{
    finish(e, st, atomic_load(&e->frame_count), 0);
}
