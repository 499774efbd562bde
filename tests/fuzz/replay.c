/* A main for the fuzz targets without libFuzzer: runs each file named on
 * the command line through LLVMFuzzerTestOneInput once, so that make check
 * replays the seed corpora and the regression inputs with the plain
 * compiler.  A finding aborts, as under libFuzzer.  Prints one line per
 * input; exits non-zero when a file cannot be read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (n == cap)
            buf = realloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *size = n;
    return buf;
}

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        size_t size;
        unsigned char *data = slurp(argv[i], &size);
        if (!data) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        printf("replayed %s (%zu bytes)\n", argv[i], size);
    }
    return rc;
}
