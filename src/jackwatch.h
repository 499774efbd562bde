/* Whether the JACK server that PortAudio's JACK host API talks to is still
 * there.
 *
 * PortAudio 19.6's JACK host API cannot survive its server going away
 * (src/hostapi/jack/pa_jack.c): stopping a stream waits for the JACK
 * process callback that will never come again (RealStop's WaitCondition,
 * ten minutes), closing one aborts the process (CleanUpStream:
 * ASSERT_CALL(jack_port_unregister(...), 0)), and so does Pa_Terminate
 * (Terminate: ASSERT_CALL(jack_deactivate(...), 0)).  PortAudio knows
 * (JackOnShutdown sets its jackIsDown) but does not say.  So this file
 * keeps a second JACK client of its own, with no ports, opened on the same
 * server when the first JACK stream is opened: its shutdown callback, and
 * a question to the server about PortAudio's client, tell the Lua side
 * when PortAudio must no longer be called for a JACK stream.
 *
 * libjack is not linked: it is found in the process (dlopen RTLD_NOLOAD),
 * where PortAudio loaded it; without it (a PortAudio without JACK) the
 * server is never said to be gone.  Lua thread only.
 *
 * The watch opens with the first JACK stream, so that a program that only
 * lists devices (pastream -l) pays for no second client.  The price: one
 * that initialised PortAudio, opened no JACK stream, and outlived its
 * server still aborts in Pa_Terminate at exit. */
#ifndef PS_JACKWATCH_H
#define PS_JACKWATCH_H

/* Open the watching client, once per process (later calls are free).
 * Call before opening a stream on a JACK device.  A client that cannot be
 * opened (no libjack in the process, the server refuses) watches nothing. */
void ps_jack_watch(void);

/* 1 when the server went away after ps_jack_watch, or PortAudio's client
 * was thrown out of it; 0 while both are there, or when nothing watches.
 * probe 0 reads a flag only (cheap); probe 1 also asks the server (one
 * round trip on its socket), which sees a death the shutdown callback has
 * not reported yet. */
int ps_jack_gone(int probe);

/* The server's period (jack_get_buffer_size) in frames, or 0 when nothing
 * watches (or the server is gone). */
long ps_jack_period(void);

/* Close the watching client (at exit; not when the server is gone). */
void ps_jack_unwatch(void);

#endif
