/* The floor under a chunk loop's wake-up: the CPU time a plain C thread
 * spends per wake-up when it sleeps in epoll_wait on an eventfd that
 * another thread writes once per period, the way the engine wakes the Lua
 * thread (src/wake.c) and libuv waits for it.  Whatever the Lua thread
 * spends per wake-up beyond this is ours (luv, the coroutine, the chunk
 * iterator); this much is the kernel's and the machine's: the system
 * calls, the context switch, and on a virtual machine the halted virtual
 * CPU's return with cold caches.
 *
 *   bench_wake [WAKES [PERIOD_US]]
 *
 * Output: wake <wakes> <period us> <us of the woken thread's CPU per wake-up>
 * (from /proc/thread-self/schedstat, as tests/bench/chunks.lua measures
 * the Lua thread). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int efd, wakes = 600;
static long period_us = 5333;          /* 256 frames at 48 kHz, 2048 at 384 kHz */

static double thread_cpu(void)
{
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    double ns = 0;
    if (f) {
        if (fscanf(f, "%lf", &ns) != 1)
            ns = 0;
        fclose(f);
    }
    return ns / 1e9;
}

static void *writer(void *arg)
{
    (void)arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int i = 0; i < wakes; i++) {
        next.tv_nsec += period_us * 1000;
        while (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        uint64_t one = 1;
        if (write(efd, &one, sizeof one) != sizeof one)
            perror("bench_wake: write");
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1) wakes = atoi(argv[1]);
    if (argc > 2) period_us = atol(argv[2]);
    if (wakes < 1 || period_us < 1) {
        fprintf(stderr, "usage: bench_wake [WAKES [PERIOD_US]]\n");
        return 2;
    }
    efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN };
    if (efd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) != 0) {
        perror("bench_wake");
        return 1;
    }
    pthread_t t;
    double c0 = thread_cpu();
    pthread_create(&t, NULL, writer, NULL);
    for (int n = 0; n < wakes;) {
        struct epoll_event out;
        if (epoll_wait(ep, &out, 1, 1000) == 1) {
            uint64_t v;
            if (read(efd, &v, sizeof v) == sizeof v)
                n += (int)v;
        }
    }
    double c1 = thread_cpu();
    pthread_join(t, NULL);
    printf("wake\t%d\t%ld\t%.3f\n", wakes, period_us, (c1 - c0) / wakes * 1e6);
    return 0;
}
