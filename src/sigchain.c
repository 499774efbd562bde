#include "sigchain.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static struct sigaction chained[2];
static volatile sig_atomic_t signal_count;

static void on_signal(int sig, siginfo_t *info, void *ctx)
{
    int i = sig == SIGINT ? 0 : 1;
    if (++signal_count >= 2)
        _exit(128 + sig);
    if (chained[i].sa_flags & SA_SIGINFO)
        chained[i].sa_sigaction(sig, info, ctx);
    else if (chained[i].sa_handler != SIG_DFL && chained[i].sa_handler != SIG_IGN)
        chained[i].sa_handler(sig);
}

void ps_chain_signals(void)
{
    static const int sigs[2] = { SIGINT, SIGTERM };
    /* The loop has handled every signal so far: the next one is a first
     * one again, not the second that exits. */
    signal_count = 0;
    for (int i = 0; i < 2; i++) {
        struct sigaction cur, mine;
        sigaction(sigs[i], NULL, &cur);
        if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_signal)
            continue;       /* installed already: only the count is reset */
        chained[i] = cur;
        memset(&mine, 0, sizeof mine);
        mine.sa_sigaction = on_signal;
        mine.sa_flags = SA_SIGINFO | SA_RESTART;
        sigfillset(&mine.sa_mask);
        sigaction(sigs[i], &mine, NULL);
    }
}
