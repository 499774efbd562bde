/* runstat: run a command and report its CPU time, wall time and private
 * (non-shared) resident memory.
 *
 *   runstat [-i MS] [-o FILE] -- COMMAND [ARGS...]
 *
 * The command's CPU time (user + system, all its threads and waited-for
 * children) comes from wait4's rusage, so it is exact and includes start-up
 * and finalization.  Every MS milliseconds (default 50) it samples
 * /proc/PID/smaps_rollup: private resident memory = Private_Clean +
 * Private_Dirty.  Reported: the last sample taken at least one second before
 * the command exited ("near the end", past start-up and before teardown; or
 * the first sample when it ran less than that) and the largest sample.
 * Each sample also adds up the CPU time of every thread of the command
 * (/proc/PID/task/TID/schedstat, in ns), which gives its steady CPU rate:
 * CPU seconds per wall second between the first sample at least 1.5 s
 * after the start and the last one at least 1 s before the exit (start-up
 * and finalization left out; 0 when the command ran less than 3 s).
 * The command's stdin is /dev/null; its stdout and stderr are kept.
 *
 * Prints one line (to FILE with -o, else to stderr so it does not mix with
 * the command's output):
 *   cpu=<s> user=<s> sys=<s> wall=<s> priv_kb=<near end> priv_max_kb=<max>
 *   maxrss_kb=<ru_maxrss> status=<exit status or 128+signal>
 * and exits with the command's status. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Private_Clean + Private_Dirty in kB, or -1. */
static long private_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long sum = 0, v;
    int seen = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Private_Clean: %ld kB", &v) == 1 ||
            sscanf(line, "Private_Dirty: %ld kB", &v) == 1) {
            sum += v;
            seen++;
        }
    }
    fclose(f);
    return seen == 2 ? sum : -1;
}

/* CPU time of every live thread of pid, in seconds, or -1. */
static double threads_cpu(pid_t pid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    double sum = 0;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p2[160];
        snprintf(p2, sizeof p2, "/proc/%d/task/%.20s/schedstat", (int)pid, e->d_name);
        FILE *f = fopen(p2, "r");
        if (!f)
            continue;
        unsigned long long ns;
        if (fscanf(f, "%llu", &ns) == 1) {
            sum += (double)ns * 1e-9;
            n++;
        }
        fclose(f);
    }
    closedir(d);
    return n ? sum : -1;
}

#define MAXS 100000

int main(int argc, char **argv)
{
    int interval_ms = 50, i = 1;
    const char *outpath = NULL;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
            interval_ms = atoi(argv[++i]);
        else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            outpath = argv[++i];
        else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: runstat [-i MS] [-o FILE] -- COMMAND [ARGS...]\n");
        return 2;
    }
    if (interval_ms < 1)
        interval_ms = 1;

    static double st[MAXS], sc[MAXS];
    static long sv[MAXS];
    int ns = 0;
    /* SIGCHLD blocked and waited for with a timeout: the sampling sleep ends
     * the moment the command exits, so the wall time is exact. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        sigprocmask(SIG_UNBLOCK, &chld, NULL);
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 0);
            close(fd);
        }
        execvp(argv[i], argv + i);
        perror(argv[i]);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid)
            break;
        if (r < 0) {
            perror("wait4");
            return 2;
        }
        long kb = private_kb(pid);
        double cpu = threads_cpu(pid);
        if (kb >= 0 && cpu >= 0 && ns < MAXS) {
            st[ns] = now();
            sc[ns] = cpu;
            sv[ns++] = kb;
        }
        struct timespec d = { interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L };
        sigtimedwait(&chld, NULL, &d);
    }
    double t1 = now();
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    long near = -1, max = -1;
    for (int k = 0; k < ns; k++) {
        if (sv[k] > max)
            max = sv[k];
        if (st[k] <= t1 - 1.0 || near < 0)
            near = sv[k];
    }
    int a = -1, b = -1;
    for (int k = 0; k < ns; k++) {
        if (a < 0 && st[k] >= t0 + 1.5)
            a = k;
        if (st[k] <= t1 - 1.0)
            b = k;
    }
    double steady = (a >= 0 && b > a && st[b] - st[a] >= 0.5)
                    ? (sc[b] - sc[a]) / (st[b] - st[a]) : 0;
    double user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
    double sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *out = stderr;
    if (outpath && !(out = fopen(outpath, "w"))) {
        perror(outpath);
        out = stderr;
    }
    fprintf(out, "cpu=%.4f user=%.4f sys=%.4f wall=%.4f priv_kb=%ld priv_max_kb=%ld maxrss_kb=%ld steady_cpu=%.6f status=%d\n",
            user + sys, user, sys, t1 - t0, near, max, ru.ru_maxrss, steady, code);
    if (out != stderr)
        fclose(out);
    return code;
}
