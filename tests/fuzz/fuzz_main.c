/* fuzz_main.c -- random stream, guarded buffers and the two drivers of the C kernel fuzzer.
 *
 *   fuzz_kernels [-n CASES] [-s SEED] [-k NAME] [-c CASE] [-t SECONDS]
 *   fuzz_kernels -l   lists the kernels (name and parameter names, one line each) and exits
 *     runs CASES random cases of every kernel dl_<p><routine> (only dl_NAME of every precision,
 *     or the one kernel NAME, with -k; only case number CASE with -c, to replay a failure), round-robin over the
 *     kernels until SECONDS have passed. Exit status 0 and a summary line when every case held.
 *   With -DDL_LIBFUZZER (clang -fsanitize=fuzzer) the same cases are driven by libFuzzer's
 *   bytes instead (LLVMFuzzerTestOneInput). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "fuzz.h"

#ifdef DL_FUZZ_SANITIZERS
#include <sanitizer/common_interface_defs.h>
#endif

/* ------------------------------------------------------------------ random stream */
static uint64_t rng_state = 1;
static const uint8_t *bytes_data;
static size_t bytes_left;

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void fz_seed(uint64_t seed) {
    rng_state = seed;
    bytes_data = NULL;
    bytes_left = 0;
}

void fz_use_bytes(const uint8_t *data, size_t size) {
    bytes_data = data;
    bytes_left = size;
    rng_state = 0x5eed0000u + size; /* deterministic continuation once the bytes run out */
}

uint32_t fz_u32(void) {
    if (bytes_left) {
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            v = (v << 8) | (bytes_left ? *bytes_data : 0);
            if (bytes_left) { ++bytes_data; --bytes_left; }
        }
        return v;
    }
    return (uint32_t)(splitmix64(&rng_state) >> 32);
}

int fz_below(int n) { return n <= 1 ? 0 : (int)(fz_u32() % (uint32_t)n); }
int fz_pct(int percent) { return fz_below(100) < percent; }

/* ------------------------------------------------------------------ reporting */
char fz_case[4096];

static void print_case(void) {
    static const char head[] = "\n==== difflapack fuzz: failing case ====\n";
    if (write(2, head, sizeof head - 1) < 0) return;
    if (write(2, fz_case, strlen(fz_case)) < 0) return;
    if (write(2, "\n", 1) < 0) return;
}

void fz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\nFUZZ FAILURE: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    fflush(stderr);
    print_case();
    _exit(3);
}

#ifndef DL_FUZZ_SANITIZERS
static void on_fault(int sig) {
    static const char msg[] = "\nFUZZ FAILURE: fatal signal (memory touched that the kernel must not touch?)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(4);
    (void)sig;
    print_case();
    _exit(4);
}
#endif

static void install_reporting(void) {
#ifdef DL_FUZZ_SANITIZERS
    /* ASan reports the fault (with its stack) and then calls back */
    __sanitizer_set_death_callback(print_case);
#else
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
#endif
}

/* ------------------------------------------------------------------ buffers */
#define GUARD_BYTE 0xA5
#define SLACK 64

static size_t page(void) {
    static size_t p;
    if (!p) p = (size_t)sysconf(_SC_PAGESIZE);
    return p;
}

void *fz_guarded(fz_buf *b, size_t bytes) {
    const size_t pg = page();
    const size_t inner = (bytes + SLACK + pg - 1) / pg * pg;
    memset(b, 0, sizeof *b);
    b->map_len = inner + 2 * pg;
    b->map = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b->map == MAP_FAILED) fz_fail("mmap of %zu bytes failed", b->map_len);
    if (mprotect(b->map, pg, PROT_NONE) || mprotect(b->map + pg + inner, pg, PROT_NONE))
        fz_fail("mprotect failed");
    memset(b->map + pg, GUARD_BYTE, inner);
    /* the data touches the upper or the lower PROT_NONE page; the rest of inner holds guards.
     * `bytes` is a multiple of the element size, so either placement keeps the alignment. */
    b->data = fz_pct(50) ? b->map + pg + inner - bytes : b->map + pg;
    b->bytes = bytes;
    return b->data;
}

void fz_snapshot(fz_buf *b) {
    free(b->snapshot);
    b->snapshot = malloc(b->bytes ? b->bytes : 1);
    if (!b->snapshot) fz_fail("malloc failed");
    memcpy(b->snapshot, b->data, b->bytes);
}

int fz_guards_intact(const fz_buf *b) {
    const size_t pg = page();
    const unsigned char *lo = b->map + pg, *hi = b->map + b->map_len - pg;
    for (const unsigned char *p = lo; p < hi; ++p) {
        if (p == b->data) { p += b->bytes; if (p >= hi) break; }
        if (*p != GUARD_BYTE) return 0;
    }
    return 1;
}

void fz_release(fz_buf *b) {
    if (b->map) munmap(b->map, b->map_len);
    free(b->snapshot);
    memset(b, 0, sizeof *b);
}

void *fz_noaccess(void) {
    static unsigned char *region;
    const size_t len = (size_t)1 << 28; /* 256 MiB of address space, nothing behind it */
    if (!region) {
        region = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (region == MAP_FAILED) fz_fail("mmap of the no-access region failed");
    }
    return region + len / 2;
}

void *fz_readonly(const void *src, size_t bytes) {
    static unsigned char *ro;
    const size_t pg = page();
    if (bytes > pg) fz_fail("fz_readonly: object too large");
    if (!ro) {
        ro = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (ro == MAP_FAILED) fz_fail("mmap failed");
    } else if (mprotect(ro, pg, PROT_READ | PROT_WRITE)) {
        fz_fail("mprotect failed");
    }
    memcpy(ro, src, bytes);
    if (mprotect(ro, pg, PROT_READ)) fz_fail("mprotect failed");
    return ro;
}

/* ------------------------------------------------------------------ drivers */
static const fz_precision *const precisions[] = {&fz_precision_s, &fz_precision_d, &fz_precision_c,
                                                 &fz_precision_z};

#ifdef DL_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    long a = 0, b = 0, c = 0;
    if (!ready) { install_reporting(); ready = 1; }
    if (size < 2) return 0;
    fz_case[0] = 0;
    const fz_precision *pr = precisions[data[0] % 4];
    const int r = data[1] % pr->nroutines;
    fz_use_bytes(data + 2, size - 2);
    pr->run_case(r, &a, &b, &c);
    return 0;
}
#else
static uint64_t case_seed(uint64_t seed, int p, int r, long i) {
    uint64_t s = seed ^ ((uint64_t)p << 56) ^ ((uint64_t)r << 48) ^ (uint64_t)i;
    return splitmix64(&s);
}

int main(int argc, char **argv) {
    long cases = 300, only_case = -1;
    uint64_t seed = 20240601;
    const char *filter = NULL;
    double seconds = 1e9;
    int opt, list = 0;
    while ((opt = getopt(argc, argv, "n:s:k:c:t:l")) != -1) {
        switch (opt) {
        case 'n': cases = atol(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'k': filter = optarg; break;
        case 'c': only_case = atol(optarg); break;
        case 't': seconds = atof(optarg); break;
        case 'l': list = 1; break;
        default:
            fprintf(stderr, "usage: %s [-n CASES] [-s SEED] [-k NAME] [-c CASE] [-t SECONDS] | -l\n", argv[0]);
            return 2;
        }
    }
    for (int p = 0; p < 4; ++p)
        if (precisions[p]->check_table(list ? stdout : NULL)) return 2;
    if (list) return 0;
    install_reporting();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long illegal = 0, legal = 0, pivots = 0, skipped = 0, kernels = 0, done = 0;
    int timed_out = 0;
    for (long i = only_case >= 0 ? only_case : 0; i < (only_case >= 0 ? only_case + 1 : cases) && !timed_out; ++i) {
        for (int p = 0; p < 4; ++p) {
            const fz_precision *pr = precisions[p];
            for (int r = 0; r < pr->nroutines; ++r) {
                char name[64];
                snprintf(name, sizeof name, "dl_%c%s", pr->prefix, pr->routine_name(r));
                if (filter && strcmp(name, filter) && strcmp(name + 4, filter)) continue;
                if (i == (only_case >= 0 ? only_case : 0)) ++kernels;
                fz_seed(case_seed(seed, p, r, i));
                int n = snprintf(fz_case, sizeof fz_case, "replay: %s -s %llu -k %s -c %ld\n", argv[0],
                                 (unsigned long long)seed, name, i);
                (void)n;
                if (!pr->run_case(r, &illegal, &legal, &pivots)) ++skipped;
                ++done;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec) > seconds) timed_out = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double el = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    printf("fuzz_kernels: %ld kernels, %ld cases (%ld illegal argument sets, %ld legal calls, %ld bad-pivot "
           "calls, %ld skipped as too large) in %.1f s%s\n",
           kernels, done, illegal, legal, pivots, skipped, el, timed_out ? " (time budget reached)" : "");
    return kernels ? 0 : 1;
}
#endif
