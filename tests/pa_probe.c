/* pa_probe: list PortAudio devices, or check that one exists.
 *
 *   pa_probe [-v]         list devices (index, name, host API, channels, rate)
 *   pa_probe [-v] NAME    exit 0 if a device named exactly NAME exists, else 1
 *
 * PortAudio and JACK print a lot on stderr while Pa_Initialize probes the
 * host APIs; that chatter is silenced unless -v is given.
 * Exit status: 0 found/listed, 1 not found, 2 usage or PortAudio error.
 *
 * Build: cc -std=c11 -Wall -Wextra pa_probe.c -o pa_probe \
 *            $(pkg-config --cflags --libs portaudio-2.0)
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pa_jack.h>
#include <portaudio.h>

/* Redirect fd 2 to /dev/null; returns the saved fd (or -1 if not done). */
static int quiet_stderr(void)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    if (saved < 0)
        return -1;
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull < 0) {
        close(saved);
        return -1;
    }
    if (dup2(devnull, STDERR_FILENO) < 0) {
        close(devnull);
        close(saved);
        return -1;
    }
    close(devnull);
    return saved;
}

static void restore_stderr(int saved)
{
    if (saved < 0)
        return;
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

static void usage(FILE *f)
{
    fputs("usage: pa_probe [-v] [--] [NAME]\n"
          "  no NAME: list PortAudio devices\n"
          "  NAME:    exit 0 if a device with exactly that name exists, 1 if not\n"
          "  -v:      do not silence PortAudio/JACK messages on stderr\n",
          f);
}

int main(int argc, char **argv)
{
    int verbose = 0;
    const char *name = NULL;

    int opts = 1; /* options may come anywhere; "--" ends them */
    for (int i = 1; i < argc; i++) {
        if (opts && strcmp(argv[i], "--") == 0) {
            opts = 0;
        } else if (opts && strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (opts && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
            usage(stdout);
            return 0;
        } else if (opts && argv[i][0] == '-' && argv[i][1] != '\0') {
            usage(stderr);
            return 2;
        } else if (!name) {
            name = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }

    /* A JACK client name of its own (src/device.c says why: two probes of
     * one name on two servers at once can make one fail to open). */
    char jack_name[40];
    snprintf(jack_name, sizeof jack_name, "pa_probe-%ld", (long)getpid());
    PaJack_SetClientName(jack_name);
    int saved = verbose ? -1 : quiet_stderr();
    PaError err = Pa_Initialize();
    restore_stderr(saved);
    if (err != paNoError) {
        fprintf(stderr, "pa_probe: Pa_Initialize: %s\n", Pa_GetErrorText(err));
        return 2;
    }

    int status = 0;
    int n = Pa_GetDeviceCount();
    if (n < 0) {
        fprintf(stderr, "pa_probe: Pa_GetDeviceCount: %s\n", Pa_GetErrorText(n));
        status = 2;
    } else if (name) {
        status = 1;
        for (int i = 0; i < n; i++) {
            const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
            if (d && d->name && strcmp(d->name, name) == 0) {
                status = 0;
                break;
            }
        }
    } else {
        printf("%-5s %-32s %-12s %4s %4s %10s\n", "index", "name", "hostapi", "in",
               "out", "rate");
        for (int i = 0; i < n; i++) {
            const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
            if (!d)
                continue;
            const PaHostApiInfo *h = Pa_GetHostApiInfo(d->hostApi);
            printf("%-5d %-32s %-12s %4d %4d %10.0f\n", i, d->name ? d->name : "?",
                   (h && h->name) ? h->name : "?", d->maxInputChannels,
                   d->maxOutputChannels, d->defaultSampleRate);
        }
    }

    saved = verbose ? -1 : quiet_stderr();
    Pa_Terminate();
    restore_stderr(saved);
    return status;
}
