/* PortAudio glue: one initialisation per process, device listing, and
 * opening streams that run the engine's callback.  Errors come back as
 * messages that name the device and the setting that failed. */
#ifndef PS_DEVICE_H
#define PS_DEVICE_H

#include <portaudio.h>
#include <stddef.h>

#include "engine.h"

/* Initialise PortAudio once (later calls are free).  Returns paNoError or
 * the error; PortAudio's and JACK's start-up chatter on stderr is hidden
 * unless PASTREAM_DEBUG is set. */
PaError ps_pa_init(void);
/* ps_pa_init's error as text: PortAudio's, or what was wrong before it was
 * asked (a bad PASTREAM_JACK_NAME). */
const char *ps_pa_error_text(PaError err);
/* Before PortAudio starts, when the device asked for is on another host
 * API than ALSA: give ALSA (ALSA_CONFIG_PATH) the system's alsa.conf
 * without the hook that loads conf.d and the users' asoundrc, so that
 * Pa_Initialize probes no plugin PCM and loads no plugin library (with
 * libasound2-plugins installed: libavcodec, libpulse, ...; twice the
 * start-up, +3 MB private dirty and +12 MB clean memory, 1.6x the CPU of
 * a recording: tests/bench/alsa.md).  1 if done; 0 when PortAudio has
 * started already, or this was done, or ALSA_CONFIG_PATH is set (the
 * user's choice, kept), or the file cannot be read or written.  The
 * system's alsa.conf is $ALSA_CONFIG_DIR/alsa.conf, as for alsa-lib.  ALSA's device list is then the configuration's built-in
 * devices only.  The file is removed at exit. */
#ifndef PS_ALSA_CONF
#define PS_ALSA_CONF "/usr/share/alsa/alsa.conf"
#endif
int ps_pa_spare_alsa(void);
/* Terminate PortAudio if it was initialised (at process exit). */
void ps_pa_terminate(void);

/* A stream was given up on (its host thread stopped calling back): from
 * now on ps_pa_terminate leaves PortAudio alone rather than hang in it. */
void ps_pa_abandon(void);

typedef struct ps_open_params {
    int device[2];            /* [0] input, [1] output; -1 = direction unused */
    int channels[2];
    ps_format format[2];
    double samplerate;
    unsigned long blocksize;  /* 0 = let the host decide (lowest latency) */
    double latency[2];        /* seconds; < 0: the device's default high latency,
                                 -2: its default low latency */
    int dither;               /* 0: paDitherOff (the default) */
} ps_open_params;

/* Open a stream that runs ps_engine_callback on e.  On error returns NULL
 * and writes a message to err. */
PaStream *ps_device_open(ps_engine *e, const ps_open_params *p, char *err, size_t errlen);

/* 1 when a stream opened with p must no longer be stopped or closed
 * through PortAudio, because its host went away: PortAudio's JACK host
 * API waits ten minutes in Pa_StopStream and aborts the process in
 * Pa_CloseStream once its JACK server is gone (src/jackwatch.h).  Asks the
 * server (a round trip) for streams on JACK; always 0 for other hosts. */
int ps_device_gone(const ps_open_params *p);

/* The frames a stream opened with p sits out at each start (the engine's
 * settle, whole callbacks until that many frames have passed): on JACK2
 * one period of the server's (ps_jack_period; 0.1 s if it cannot be
 * asked), PS_PIPEWIRE_SETTLE seconds on PipeWire's JACK library, on other
 * hosts 0.
 * JACK2 1.9.21, a server in synchronous mode (jackd -S) with the net
 * backend (a netjack2 slave): the first period PortAudio's JACK host API
 * plays after each start never reaches the network (measured 5 of 5 runs
 * at 384 kHz, period 8192: round trip 6 periods, and the first frame back
 * the first of the second period played).  PortAudio connects its ports,
 * then starts the stream in the next cycle, and that cycle's output is
 * not in what the driver sends.  Sitting out the first period loses
 * nothing (the first frame played comes back first); in JACK2's default
 * asynchronous mode the driver sends the cycle before, and nothing was
 * lost there either way.  The price: a period of start latency.
 * pipewire-jack (0.3.65) returns from jack_connect before the link is
 * live ("link ... added complete:0", then "our link ... completed" 3 to
 * 12 ms later, each link on its own), and PortAudio starts the stream as
 * soon as its jack_connect calls return: a cycle that runs in between
 * plays into a port not yet linked and reads silence from one, and no
 * JACK client can tell when the links are live.  The cycles sat out play
 * silence and drop their input, outside the run, so the first frame a
 * user plays is heard and the round trip stays the same. */
#define PS_PIPEWIRE_SETTLE 0.1
int64_t ps_device_settle(const ps_open_params *p, double samplerate);

/* "name" of a device, or "device N" if there is none. */
const char *ps_device_name(int device, char *buf, size_t len);

#endif
