#include "device.h"
#include "jackwatch.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pa_jack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pa_state;           /* 0 not yet, 1 initialised, -1 failed */
static PaError pa_error;
static int pa_abandoned;       /* streams given up on: PortAudio may hang in them */
static char jack_name[64];     /* PortAudio keeps the pointer */
static char init_why[160];     /* what was wrong before PortAudio was asked */

/* The JACK client name.  JACK2 names a client's notification socket after
 * the client alone (/dev/shm/jack_NAME_UID_0), not after its server, and
 * unlinks the path before it binds it: two processes of one user that open
 * clients of the same name on two servers at once take each other's
 * socket, and one of the opens fails after the server waited 2 s for an
 * answer (PortAudio then finds no JACK server at all).  PortAudio's default
 * name is "PortAudio" in every process, so ours carries the process id,
 * unless PASTREAM_JACK_NAME sets one (for connection scripts: then it is
 * the user's to keep unique across servers). */
static int set_jack_name(void)
{
    const char *fixed = getenv("PASTREAM_JACK_NAME");
    if (fixed && *fixed) {
        if (strlen(fixed) >= sizeof jack_name || strchr(fixed, ':')) {
            snprintf(init_why, sizeof init_why, "PASTREAM_JACK_NAME='%.40s%s': %s", fixed,
                     strlen(fixed) > 40 ? "..." : "",
                     strchr(fixed, ':') ? "a JACK client name has no ':'"
                                        : "a JACK client name has at most 63 characters");
            return -1;
        }
        snprintf(jack_name, sizeof jack_name, "%s", fixed);
    } else {
        snprintf(jack_name, sizeof jack_name, "pastream-%ld", (long)getpid());
    }
    PaJack_SetClientName(jack_name);
    return 0;
}

static char spare_path[64];     /* the configuration written for ALSA */

static void remove_spare(void)
{
    if (spare_path[0])
        unlink(spare_path);
}

int ps_pa_spare_alsa(void)
{
    if (pa_state || spare_path[0])
        return 0;
    /* The system's alsa.conf, without its first @hooks block: the one that
     * loads /etc/alsa/conf.d, /usr/share/alsa/alsa.conf.d and the users'
     * asoundrc, where plugin PCMs are declared.  (An empty file would not
     * do: PortAudio 19.6 then fails an assertion listing ALSA's devices.) */
    if (getenv("ALSA_CONFIG_PATH"))
        return 0;                                   /* the user's own choice */
    const char *top = getenv("ALSA_CONFIG_DIR");    /* where alsa-lib looks too */
    char conf[512];
    if (top && *top)
        snprintf(conf, sizeof conf, "%s/alsa.conf", top);
    else
        snprintf(conf, sizeof conf, "%s", PS_ALSA_CONF);
    FILE *f = fopen(conf, "r");
    if (!f)
        return 0;
    char *text = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *t = realloc(text, cap = cap ? 2 * cap : 65536);
            if (!t) {
                free(text);
                fclose(f);
                return 0;
            }
            text = t;
        }
        size_t n = fread(text + len, 1, 4096, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    text[len] = 0;
    char *hooks = strncmp(text, "@hooks [", 8) == 0 ? text : strstr(text, "\n@hooks [");
    char *end = hooks ? strstr(hooks, "\n]\n") : NULL;
    if (!end) {
        free(text);
        return 0;
    }
    if (hooks != text)
        hooks++;                                    /* after its newline */
    end += 3;                                       /* after "\n]\n" */
    const char *dir = getenv("TMPDIR");
    snprintf(spare_path, sizeof spare_path, "%s/pastream-alsa-XXXXXX",
             dir && *dir && strlen(dir) < 40 ? dir : "/tmp");
    int fd = mkstemp(spare_path);
    int ok = fd >= 0;
    if (ok) {
        FILE *out = fdopen(fd, "w");
        ok = out && fwrite(text, 1, (size_t)(hooks - text), out) == (size_t)(hooks - text) &&
             fputs(end, out) >= 0;
        if (out)
            ok = (fclose(out) == 0) && ok;
        else
            close(fd);
    }
    free(text);
    if (!ok || setenv("ALSA_CONFIG_PATH", spare_path, 1) != 0) {
        if (fd >= 0)
            unlink(spare_path);
        spare_path[0] = 0;
        return 0;
    }
    atexit(remove_spare);
    return 1;
}

const char *ps_pa_error_text(PaError err)
{
    return init_why[0] ? init_why : Pa_GetErrorText(err);
}

PaError ps_pa_init(void)
{
    if (pa_state)
        return pa_state > 0 ? paNoError : pa_error;
    if (set_jack_name() < 0) {
        pa_state = -1;
        return pa_error = paInvalidFlag;
    }
    /* PortAudio probes every host API on start-up and the ALSA and JACK
     * libraries print their attempts on stderr; that is noise for users
     * of a working device, so it is hidden unless asked for. */
    int saved = -1;
    if (!getenv("PASTREAM_DEBUG")) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        fflush(stderr);
        saved = dup(2);
        if (null >= 0 && saved >= 0)
            dup2(null, 2);
        if (null >= 0)
            close(null);
    }
    pa_error = Pa_Initialize();
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
    }
    pa_state = pa_error == paNoError ? 1 : -1;
    return pa_error;
}

void ps_pa_abandon(void)
{
    pa_abandoned++;
}

void ps_pa_terminate(void)
{
    /* Pa_Terminate closes every stream PortAudio still holds, an abandoned
     * one included, and waits for its dead host thread for ever; after the
     * JACK server went away it aborts the process (src/jackwatch.h).  The
     * process is exiting, so leaving PortAudio as it is loses nothing. */
    if (pa_state > 0 && !pa_abandoned && !ps_jack_gone(1))
        Pa_Terminate();
    ps_jack_unwatch();
    pa_state = 0;
}

static int on_jack(int device)
{
    const PaDeviceInfo *info = device >= 0 ? Pa_GetDeviceInfo(device) : NULL;
    const PaHostApiInfo *api = info ? Pa_GetHostApiInfo(info->hostApi) : NULL;
    return api && api->type == paJACK;
}

int ps_device_gone(const ps_open_params *p)
{
    return (on_jack(p->device[0]) || on_jack(p->device[1])) && ps_jack_gone(1);
}

const char *ps_device_name(int device, char *buf, size_t len)
{
    const PaDeviceInfo *info = device >= 0 ? Pa_GetDeviceInfo(device) : NULL;
    if (info)
        snprintf(buf, len, "'%s'", info->name);
    else
        snprintf(buf, len, "device %d", device);
    return buf;
}

static int fill_params(PaStreamParameters *sp, const ps_open_params *p, int dir)
{
    if (p->device[dir] < 0)
        return 0;
    const PaDeviceInfo *info = Pa_GetDeviceInfo(p->device[dir]);
    sp->device = p->device[dir];
    sp->channelCount = p->channels[dir];
    sp->sampleFormat = ps_format_pa(p->format[dir]);
    if (p->latency[dir] >= 0)
        sp->suggestedLatency = p->latency[dir];
    else if (!info)
        sp->suggestedLatency = 0;
    else if (p->latency[dir] <= -2)
        sp->suggestedLatency = dir ? info->defaultLowOutputLatency : info->defaultLowInputLatency;
    else
        sp->suggestedLatency = dir ? info->defaultHighOutputLatency : info->defaultHighInputLatency;
    sp->hostApiSpecificStreamInfo = NULL;
    return 1;
}

/* Say which setting a device refused: check each direction alone first. */
static void explain(const ps_open_params *p, PaStreamParameters *sp[2], PaError err,
                    char *msg, size_t len)
{
    static const char *dirname[2] = { "input", "output" };
    char name[160];
    for (int dir = 0; dir < 2; dir++) {
        if (!sp[dir])
            continue;
        const PaDeviceInfo *info = Pa_GetDeviceInfo(sp[dir]->device);
        int max = info ? (dir ? info->maxOutputChannels : info->maxInputChannels) : 0;
        ps_device_name(p->device[dir], name, sizeof name);
        if (!info) {
            snprintf(msg, len, "no %s device %d", dirname[dir], p->device[dir]);
            return;
        }
        if (sp[dir]->channelCount > max) {
            snprintf(msg, len, "%s device %s has %d %s channel%s, %d asked for",
                     dirname[dir], name, max, dirname[dir], max == 1 ? "" : "s",
                     sp[dir]->channelCount);
            return;
        }
        PaError e1 = Pa_IsFormatSupported(dir ? NULL : sp[0], dir ? sp[1] : NULL, p->samplerate);
        if (e1 != paFormatIsSupported) {
            snprintf(msg, len, "%s device %s refuses %d channel%s of %s at %g Hz: %s",
                     dirname[dir], name, sp[dir]->channelCount,
                     sp[dir]->channelCount == 1 ? "" : "s",
                     ps_format_name(p->format[dir]), p->samplerate, Pa_GetErrorText(e1));
            return;
        }
    }
    snprintf(msg, len, "cannot open %s stream at %g Hz, blocksize %lu: %s",
             sp[0] && sp[1] ? "duplex" : sp[0] ? "input" : "output",
             p->samplerate, p->blocksize, Pa_GetErrorText(err));
}

/* 1 when the JACK library PortAudio loaded is PipeWire's (pipewire-jack:
 * its version string says "using PipeWire"). */
static int jack_is_pipewire(void)
{
    static int known = -1;
    if (known < 0) {
        known = 0;
        void *lib = dlopen("libjack.so.0", RTLD_LAZY | RTLD_NOLOAD);
        const char *(*version)(void) = NULL;
        if (lib)
            *(void **)&version = dlsym(lib, "jack_get_version_string");
        const char *v = version ? version() : NULL;
        known = v && strstr(v, "PipeWire") != NULL;
        if (lib)
            dlclose(lib);
    }
    return known;
}

int64_t ps_device_settle(const ps_open_params *p, double samplerate)
{
    if (!(on_jack(p->device[0]) || on_jack(p->device[1])))
        return 0;
    long period = jack_is_pipewire() ? 0 : ps_jack_period();
    return period > 0 ? period : (int64_t)(samplerate * PS_PIPEWIRE_SETTLE + 0.999);
}

PaStream *ps_device_open(ps_engine *e, const ps_open_params *p, char *err, size_t errlen)
{
    PaStreamParameters in, out;
    PaStreamParameters *sp[2] = { NULL, NULL };
    PaStream *stream = NULL;
    PaError r = ps_pa_init();
    if (r != paNoError) {
        snprintf(err, errlen, "PortAudio failed to start: %s", ps_pa_error_text(r));
        return NULL;
    }
    if (fill_params(&in, p, 0))
        sp[0] = &in;
    if (fill_params(&out, p, 1))
        sp[1] = &out;
    if (!sp[0] && !sp[1]) {
        snprintf(err, errlen, "a stream needs an input or an output device");
        return NULL;
    }
    if (on_jack(p->device[0]) || on_jack(p->device[1]))
        ps_jack_watch();            /* before the stream: see ps_device_gone */
    PaStreamFlags flags = p->dither ? paNoFlag : paDitherOff;
    r = Pa_OpenStream(&stream, sp[0], sp[1], p->samplerate, p->blocksize, flags,
                      ps_engine_callback, e);
    if (r != paNoError) {
        if (ps_device_gone(p))      /* PortAudio's error would say "Insufficient memory" */
            snprintf(err, errlen, "cannot open a stream on %s: the JACK server went away, and "
                     "PortAudio cannot reach a JACK server again in this process",
                     ps_device_name(p->device[sp[0] ? 0 : 1], (char[160]){0}, 160));
        else
            explain(p, sp, r, err, errlen);
        return NULL;
    }
    const PaStreamInfo *info = Pa_GetStreamInfo(stream);
    e->settle = ps_device_settle(p, info ? info->sampleRate : p->samplerate);
    r = Pa_SetStreamFinishedCallback(stream, ps_engine_finished);
    if (r != paNoError) {
        snprintf(err, errlen, "PortAudio: %s", Pa_GetErrorText(r));
        Pa_CloseStream(stream);
        return NULL;
    }
    return stream;
}
