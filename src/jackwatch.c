/* The JACK server watch: see jackwatch.h for why PortAudio needs one. */
#include "jackwatch.h"

#include <dlfcn.h>
#include <portaudio.h>
#include <pa_jack.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The few libjack functions used, declared here (their documented
 * signatures in <jack/jack.h>) so that no JACK headers are needed. */
typedef struct jack_client jack_client;
enum { JACK_NO_START_SERVER = 0x01 };
static struct {
    jack_client *(*client_open)(const char *name, int options, int *status, ...);
    int (*client_close)(jack_client *);
    void (*on_shutdown)(jack_client *, void (*)(void *), void *);
    char *(*uuid_for_name)(jack_client *, const char *name);
    char *(*client_name)(jack_client *);
    void (*free_)(void *);
    uint32_t (*buffer_size)(jack_client *);
} J;

static int state;               /* 0 not tried, 1 watching, -1 nothing to watch */
static jack_client *client;
static atomic_int down;         /* set by the shutdown callback (a JACK thread) */
static const char *(*probe_name)(void);  /* the client asked after; NULL: none */

static void on_shutdown(void *arg)
{
    (void)arg;
    atomic_store(&down, 1);
}

/* Whether the server still knows the client called name (a round trip). */
static int known(const char *name)
{
    char *uuid = J.uuid_for_name(client, name);
    if (!uuid)
        return 0;
    if (J.free_)
        J.free_(uuid);
    else
        free(uuid);
    return 1;
}

static const char *pa_client_name(void)
{
    const char *name = NULL;
    return PaJack_GetClientName(&name) == paNoError ? name : NULL;
}

static const char *own_name(void) { return J.client_name(client); }

void ps_jack_watch(void)
{
    if (state)
        return;
    state = -1;
    void *lib = dlopen("libjack.so.0", RTLD_LAZY | RTLD_NOLOAD);
    if (!lib)
        return;
    *(void **)&J.client_open = dlsym(lib, "jack_client_open");
    *(void **)&J.client_close = dlsym(lib, "jack_client_close");
    *(void **)&J.on_shutdown = dlsym(lib, "jack_on_shutdown");
    *(void **)&J.uuid_for_name = dlsym(lib, "jack_get_uuid_for_client_name");
    *(void **)&J.client_name = dlsym(lib, "jack_get_client_name");
    *(void **)&J.free_ = dlsym(lib, "jack_free");
    *(void **)&J.buffer_size = dlsym(lib, "jack_get_buffer_size");
    if (!J.client_open || !J.client_close || !J.on_shutdown || !J.uuid_for_name || !J.client_name)
        return;
    /* The same server PortAudio's client opened: the default one
     * ($JACK_DEFAULT_SERVER), never starting one. */
    int status = 0;
    char own[40];               /* by pid, as PortAudio's (src/device.c) */
    snprintf(own, sizeof own, "pastream-watch-%ld", (long)getpid());
    client = J.client_open(own, JACK_NO_START_SERVER, &status);
    if (!client)
        return;
    J.on_shutdown(client, on_shutdown, NULL);
    /* Ask after PortAudio's client (which the server may also have thrown
     * out), else after ours, whichever the server answers for now; a JACK
     * library that answers for neither (PipeWire's, say) is watched by
     * the shutdown callback alone. */
    const char *name = pa_client_name();
    probe_name = name && known(name) ? pa_client_name : known(own_name()) ? own_name : NULL;
    state = 1;
}

int ps_jack_gone(int probe)
{
    if (state <= 0)
        return 0;
    if (atomic_load(&down))
        return 1;
    if (!probe || !probe_name)
        return 0;
    const char *name = probe_name();
    return !name || !known(name) || atomic_load(&down);
}

long ps_jack_period(void)
{
    if (state <= 0 || !J.buffer_size || atomic_load(&down))
        return 0;
    return (long)J.buffer_size(client);
}

void ps_jack_unwatch(void)
{
    if (state > 0 && !ps_jack_gone(0))
        J.client_close(client);
    client = NULL;
    state = 0;
}
