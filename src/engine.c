#include "engine.h"

#include <string.h>

#define RLX memory_order_relaxed

/* Everything the callback shares is atomic, and the callback takes no
 * lock: a type whose atomics are lock-based (a hidden mutex) would break
 * that, so the build refuses such a platform. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_LONG_LOCK_FREE == 2,
               "64-bit atomics must be lock-free (the engine's counters)");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_BOOL_LOCK_FREE == 2,
               "int and bool atomics must be lock-free (status, flags)");

/* Counters only the callback writes (the others only read them, and
 * ps_engine_arm resets them while no callback runs): a relaxed load and
 * store, not an atomic add.  On x86 an add is a locked instruction, a full
 * barrier that waits until the block's copied bytes have left the store
 * buffer (its cost: tests/bench/NOTES.md). */
static inline void bump64(_Atomic int64_t *c, int64_t k)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RLX) + k, RLX);
}

static inline void bump32(_Atomic uint32_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RLX) + 1, RLX);
}

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
    e->rx_identity = ps_copy_is_identity(e->rxmap, rx_channels, e->in_channels);
    e->rx_plan = ps_copy_plan(rx_channels, e->in_channels, e->rxmap, e->in_ss,
                              ps_sample_silence(e->in_format));
    e->rx_fn = ps_copy_kernel(e->rx_plan, (size_t)rx_channels * e->in_ss);
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
    e->tx_identity = ps_copy_is_identity(e->txmap, e->out_channels, tx_channels);
    e->tx_plan = ps_copy_plan(e->out_channels, tx_channels, e->txmap, e->out_ss,
                              ps_sample_silence(e->out_format));
    e->tx_fn = ps_copy_kernel(e->tx_plan, (size_t)e->out_channels * e->out_ss);
    return 0;
}

void ps_engine_arm(ps_engine *e)
{
    e->phase = PS_PHASE_SOURCE;
    e->txbuf_pos = 0;
    e->rxbuf_pos = 0;
    e->pad_left = e->pad;
    /* pastream's frames do not count pad: the run is frames + pad long */
    if (e->frames >= 0 && e->pad >= 0)
        e->total = e->pad > INT64_MAX - e->frames ? INT64_MAX : e->frames + e->pad;
    else
        e->total = e->frames;
    e->src_left = e->frames;
    e->offset_left = e->offset > 0 ? e->offset : 0;
    e->settle_left = e->settle > 0 ? e->settle : 0;
    e->gap.pos = e->gap.count = 0;
    e->disk_pending = 0;
    e->tx_debt = 0;
    /* tx_eof is the producer's: it may already have written everything
     * while prebuffering, so it is reset with the ring, not here. */
    atomic_store(&e->frame_count, 0);
    atomic_store(&e->tx_frames, 0);
    atomic_store(&e->rx_frames, 0);
    atomic_store(&e->tx_lost, 0);
    atomic_store(&e->rx_lost, 0);
    atomic_store(&e->tap_lost, 0);
    for (int i = 0; i < PS_NXRUN; i++)
        atomic_store(&e->xruns[i], 0);
    atomic_store(&e->status, PS_RUNNING);
    atomic_store(&e->status_frame, 0);
    atomic_store(&e->ending, 0);
    for (int i = 0; i < PS_MAXCH; i++) {
        atomic_store(&e->in_peak[i], PS_PEAK_TAKEN);
        atomic_store(&e->out_peak[i], PS_PEAK_TAKEN);
        e->in_held[i] = e->out_held[i] = 0;
        atomic_store(&e->in_clips[i], 0);
        atomic_store(&e->out_clips[i], 0);
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

/* Copy n source frames (tx layout) to the device output at frame `at`. */
static void tx_copy(ps_engine *e, unsigned char *out, size_t at,
                    const unsigned char *src, size_t n)
{
    size_t fb = (size_t)e->out_channels * e->out_ss;
    if (e->tx_fn)
        e->tx_fn(out + at * fb, src, n * (fb / 4));
    else if (e->tx_identity)
        memcpy(out + at * fb, src, n * fb);
    else
        ps_copy_planned(e->tx_plan, out + at * fb, e->out_channels, src, e->tx_channels,
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
    size_t fb = (size_t)e->rx_channels * e->in_ss;
    if (e->rx_fn && in)
        e->rx_fn(dst, in, n * (fb / 4));
    else if (e->rx_identity && in)
        memcpy(dst, in, n * fb);
    else
        ps_copy_planned(e->rx_plan, dst, e->rx_channels, in, e->in_channels,
                        e->rxmap, e->in_ss, ps_sample_silence(e->in_format), n);
}

/* ---- the two directions ------------------------------------------------ */

/* Fill up to n frames of output from the source, then padding.  Returns
 * the number of frames of playback produced (source + pad); fewer than n
 * means playback ended (phase DONE) or it cannot go on (*underrun: the
 * ring underran, or the source ended before frames: then phase DONE). */
static size_t tx_fill(ps_engine *e, unsigned char *out, size_t n, bool *underrun)
{
    size_t got = 0;
    *underrun = false;
    while (got < n && e->phase != PS_PHASE_DONE) {
        if (e->phase == PS_PHASE_SOURCE) {
            /* the source phase lasts frames frames (pastream's frames: pad
             * comes after them), or until the source ends when frames < 0 */
            if (e->src_left == 0) {
                e->phase = PS_PHASE_PAD;
                continue;
            }
            size_t want = n - got, k;
            if (e->src_left > 0 && (int64_t)want > e->src_left)
                want = (size_t)e->src_left;
            bool ended = false;
            if (e->txbuf) {
                int64_t avail = e->txbuf_frames - e->txbuf_pos;
                if (avail <= 0) {
                    if (e->loop && e->txbuf_frames > 0) {
                        e->txbuf_pos = 0;
                        continue;
                    }
                    ended = true;
                    k = 0;
                } else {
                    k = (size_t)avail < want ? (size_t)avail : want;
                    size_t fb = (size_t)e->tx_channels * e->out_ss;
                    tx_copy(e, out, got, e->txbuf + (size_t)e->txbuf_pos * fb, k);
                    e->txbuf_pos += (int64_t)k;
                    bump64(&e->tx_frames, (int64_t)k);
                }
            } else if (e->txring) {
                void *p1, *p2;
                size_t n1, n2;
                if (e->tx_debt > 0) {
                    /* PS_TX_CLOCKED: frames whose time has passed (silence
                     * played in their place) are dropped as they come */
                    size_t d = ps_ring_read_regions(e->txring, (size_t)e->tx_debt, &p1, &n1, &p2, &n2);
                    ps_ring_read_advance(e->txring, d);
                    e->tx_debt -= (int64_t)d;
                }
                k = e->tx_debt > 0 ? 0 : ps_ring_read_regions(e->txring, want, &p1, &n1, &p2, &n2);
                if (k == 0) {
                    /* eof is published after the last write, so once it is
                     * seen, an empty ring really is the end. */
                    if (atomic_load_explicit(&e->tx_eof, memory_order_acquire)) {
                        if (ps_ring_read_available(e->txring) == 0)
                            ended = true;
                        else
                            continue;
                    } else if ((e->flags & (PS_FILL_GAPS | PS_TX_CLOCKED)) || (e->frames < 0 && e->pad < 0)) {
                        /* keep-alive, as in pastream: with frames < 0 and
                         * pad < 0 a dry ring plays silence until data comes;
                         * PS_TX_CLOCKED owes the ring the frames it skips */
                        tx_silence(e, out, got, want);
                        bump64(&e->tx_lost, (int64_t)want);
                        if (e->flags & PS_TX_CLOCKED)
                            e->tx_debt += (int64_t)want;
                        k = want;
                    } else if (!(e->flags & PS_UNTIL_EOF)) {
                        /* a ring the script writes itself has ended when it
                         * runs dry, as pastream's ring does ("autoframes") */
                        ended = true;
                    } else {
                        *underrun = true;   /* its producer fell behind */
                        break;
                    }
                } else {
                    tx_copy(e, out, got, p1, n1);
                    if (n2)
                        tx_copy(e, out, got + n1, p2, n2);
                    ps_ring_read_advance(e->txring, k);
                    bump64(&e->tx_frames, (int64_t)k);
                }
            } else {
                /* No playback source: the output plays silence. */
                tx_silence(e, out, got, want);
                k = want;
            }
            if (ended) {
                if (e->frames >= 0 && e->pad >= 0) {
                    /* the source ended before frames */
                    e->phase = PS_PHASE_DONE;
                    *underrun = true;
                    break;
                }
                e->phase = PS_PHASE_PAD;
                continue;
            }
            got += k;
            if (e->src_left > 0)
                e->src_left -= (int64_t)k;
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
    bump64(&e->rx_frames, (int64_t)put);
    if (e->rxtap && put) {
        /* the same frames for Lua's reader; its falling behind never
         * stops the sink (a recording's disk thread) */
        void *p1, *p2;
        size_t n1, n2;
        size_t t = ps_ring_write_regions(e->rxtap, put, &p1, &n1, &p2, &n2);
        rx_copy(e, p1, in, n1);
        if (n2)
            rx_copy(e, p2, in ? in + n1 * fb_in : NULL, n2);
        ps_ring_write_advance(e->rxtap, t);
        if (t < put)
            bump64(&e->tap_lost, (int64_t)(put - t));
    }
    if (put < n) {
        if (e->flags & PS_FILL_GAPS) {
            int64_t lost = (int64_t)(n - put);
            int64_t at = atomic_load_explicit(&e->rx_frames, RLX);
            bump64(&e->rx_lost, lost);
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

/* Frames between two wake-ups of the disk threads: an eighth of the
 * smaller ring, or every block when there is no ring. */
static int64_t disk_batch(const ps_engine *e)
{
    size_t cap = SIZE_MAX;
    if (e->txring && e->txring->capacity < cap)
        cap = e->txring->capacity;
    if (e->rxring && e->rxring->capacity < cap)
        cap = e->rxring->capacity;
    return cap == SIZE_MAX ? 1 : (int64_t)(cap / 8);
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

#define CLIP_LEVEL (32767.0f / 32768.0f)

static void meter(_Atomic uint32_t *peaks, _Atomic int64_t *clips, const unsigned char *buf,
                  int channels, ps_format f, size_t nframes)
{
    size_t ss = ps_format_size(f);
    for (int c = 0; c < channels; c++) {
        float m = 0;
        int64_t clipped = 0;
        const unsigned char *p = buf + (size_t)c * ss;
        size_t stride = (size_t)channels * ss;
        if (f == PS_FLOAT32) {
            for (size_t i = 0; i < nframes; i++, p += stride) {
                float v;
                memcpy(&v, p, 4);
                v = v < 0 ? -v : v;
                if (v > m) m = v;
                clipped += v >= CLIP_LEVEL;
            }
        } else {
            for (size_t i = 0; i < nframes; i++, p += stride) {
                float v = (float)ps_sample_get(f, p);
                v = v < 0 ? -v : v;
                if (v > m) m = v;
                clipped += v >= CLIP_LEVEL;
            }
        }
        if (clipped)          /* one writer: a plain add, lock-free */
            atomic_fetch_add_explicit(&clips[c], clipped, RLX);
        uint32_t bits;
        memcpy(&bits, &m, 4);
        /* One writer.  A take racing with this leaves this block's peak
         * for the next take, or the take gets it: none is lost or doubled
         * beyond one block. */
        uint32_t cur = atomic_load_explicit(&peaks[c], RLX);
        if (cur == PS_PEAK_TAKEN || bits > cur)
            atomic_store_explicit(&peaks[c], bits, RLX);
    }
}

void ps_engine_flush_gap(ps_engine *e)
{
    if (e->gap.count)
        flush_gap(e);
}

int64_t ps_engine_clips(ps_engine *e, int dir, int ch)
{
    return atomic_load_explicit(dir ? &e->out_clips[ch] : &e->in_clips[ch], RLX);
}

float ps_engine_take_peak(ps_engine *e, int dir, int ch)
{
    uint32_t bits = atomic_exchange(dir ? &e->out_peak[ch] : &e->in_peak[ch], PS_PEAK_TAKEN);
    float *held = dir ? &e->out_held[ch] : &e->in_held[ch];
    if (bits != PS_PEAK_TAKEN)      /* else no block since the last take: hold */
        memcpy(held, &bits, 4);
    return *held;
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
    if (flags & (paInputUnderflow | paInputOverflow | paOutputUnderflow | paOutputOverflow))
        for (int i = 0; i < PS_NXRUN; i++)
            if (flags & kinds[i]) {
                bump32(&e->xruns[i]);
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

    /* Whole cycles before the run, until settle frames have passed: the
     * first cycles after a start that a JACK server does not carry yet
     * (PipeWire's links go live late, a synchronous netjack2 slave drops
     * the first period: ps_device_settle), so nothing is played into them
     * nor taken from them.  Both directions sit out the same cycles: the
     * round trip stays what it is. */
    if (e->settle_left > 0) {
        e->settle_left -= (int64_t)nframes;
        if (out)
            tx_silence(e, out, 0, nframes);
        return paContinue;
    }

    if (e->total >= 0 && (int64_t)n > e->total - done)
        n = (size_t)(e->total - done);

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
            meter(e->in_peak, e->in_clips, in, e->in_channels, e->in_format, n);
        if (out)
            meter(e->out_peak, e->out_clips, out, e->out_channels, e->out_format, n);
    }

    if (underrun)
        return end_run(e, PS_BUFFER_EMPTY, done, paAbort);
    if (e->phase == PS_PHASE_DONE && e->total >= 0 && done < e->total)
        return end_run(e, PS_BUFFER_EMPTY, done, paAbort);
    if (e->phase == PS_PHASE_DONE || (e->total >= 0 && done >= e->total))
        return end_run(e, PS_COMPLETE, done, paComplete);
    /* wake[0] is the Lua side: it needs every block only when it moves
     * frames itself (a source, a sink, chunks). */
    if (!(e->flags & PS_QUIET))
        ps_wake_signal(e->wake[0]);
    /* The others are disk threads.  They move whatever is there when woken
     * and sleep at most a tenth of a second, so they are woken once an
     * eighth of the smaller ring has moved, not after every block: at
     * short periods a recording's disk thread would spend more on waking
     * than on writing (tests/bench/NOTES.md).  Seven eighths of the ring
     * stay as the margin. */
    e->disk_pending += (int64_t)nframes;
    if (e->disk_pending >= disk_batch(e)) {
        e->disk_pending = 0;
        for (int i = 1; i < PS_MAXWAKE; i++)
            if (e->wake[i])
                ps_wake_signal(e->wake[i]);
    }
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
