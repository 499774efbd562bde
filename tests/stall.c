/* stall: make the machine stall now and then, as a busy virtual machine's
 * scheduler does, to show that a test's verdict does not depend on it.
 *
 *   build/stall MS PAUSE COUNT
 *
 * One SCHED_FIFO thread at the highest priority per CPU busy-waits MS
 * milliseconds, then sleeps PAUSE seconds, COUNT times.  Every lower
 * priority thread on that CPU (a JACK server's, an audio callback's) waits
 * meanwhile.  Needs the right to SCHED_FIFO (root); exits 3 without it, so
 * that a test can tell "could not stall" from a failure.  Each busy-wait is
 * bounded by its own clock, and MS is capped at 100.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 64

static double busy_ms, pause_s;
static int rounds;

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *hog(void *arg)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET((int)(intptr_t)arg, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    for (int i = 0; i < rounds; i++) {
        double until = seconds() + busy_ms / 1000.0;
        while (seconds() < until)
            ;
        struct timespec nap = { (time_t)pause_s, (long)((pause_s - (time_t)pause_s) * 1e9) };
        nanosleep(&nap, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: stall MS PAUSE COUNT\n");
        return 2;
    }
    busy_ms = atof(argv[1]);
    pause_s = atof(argv[2]);
    rounds = atoi(argv[3]);
    if (!(busy_ms > 0 && busy_ms <= 100) || !(pause_s >= 0.05) || rounds < 1) {
        fprintf(stderr, "stall: MS in (0, 100], PAUSE >= 0.05 s, COUNT >= 1\n");
        return 2;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) cpus = 1;
    if (cpus > MAX_CPUS) cpus = MAX_CPUS;

    pthread_attr_t attr;
    struct sched_param top = { .sched_priority = sched_get_priority_max(SCHED_FIFO) };
    pthread_attr_init(&attr);
    pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
    pthread_attr_setschedparam(&attr, &top);

    pthread_t t[MAX_CPUS];
    for (long i = 0; i < cpus; i++) {
        if (pthread_create(&t[i], &attr, hog, (void *)(intptr_t)i) != 0) {
            fprintf(stderr, "stall: no SCHED_FIFO thread (not root?)\n");
            return 3;
        }
    }
    for (long i = 0; i < cpus; i++) pthread_join(t[i], NULL);
    return 0;
}
