/* fuzz.h -- the precision-independent part of the C kernel fuzzer (tests/fuzz/README.md).
 *
 * fuzz_main.c holds the random stream, the guarded buffers and the drivers (a plain main for
 * CI, LLVMFuzzerTestOneInput for libFuzzer); fuzz_kernels.c, compiled once per precision like
 * the library's own sources, describes every kernel (its parameters and a model of the
 * documented argument rules) and runs one case. */
#ifndef DL_FUZZ_H
#define DL_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the random stream: a PRNG (CI) or the fuzzer's bytes (libFuzzer) */
void fz_seed(uint64_t seed);
void fz_use_bytes(const uint8_t *data, size_t size);
uint32_t fz_u32(void);
int fz_below(int n);           /* uniform in [0, n) */
int fz_pct(int percent);       /* 1 with the given probability */

/* ---- buffers
 * fz_guarded: `bytes` of caller data inside an mmap'd block between two PROT_NONE pages, either
 * ending exactly at the upper page (an overrun of even one element faults) or starting exactly
 * at the lower one (an underrun faults); the slack beside the data holds guard bytes checked
 * by fz_guards_intact. fz_noaccess: an address inside a large PROT_NONE region (any read or
 * write near it faults): what the kernels get for arrays they must not touch. fz_readonly: a
 * copy of a small object on a read-only page. */
typedef struct fz_buf_s {
    unsigned char *map;
    size_t map_len;
    unsigned char *data;
    size_t bytes;
    unsigned char *snapshot; /* the contents before the call */
} fz_buf;
void *fz_guarded(fz_buf *b, size_t bytes);
void fz_snapshot(fz_buf *b);
int fz_guards_intact(const fz_buf *b);
void fz_release(fz_buf *b);
void *fz_noaccess(void);
void *fz_readonly(const void *src, size_t bytes);

/* ---- reporting: the case being run is printed by every failure (assertion, fault, sanitizer) */
extern char fz_case[4096];
void fz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* ---- one precision's kernels (fuzz_kernels.c) */
typedef struct {
    char prefix;
    int nroutines;
    const char *(*routine_name)(int r);
    /* run one random case of routine r; returns 1 if the kernel was called, 0 if skipped (a
     * legal case too large to allocate); counts go to *illegal / *legal / *pivots */
    int (*run_case)(int r, long *illegal, long *legal, long *pivots);
    /* 0 if the fuzzer describes exactly the kernels of the header's DL_KERNELS table (names and
     * parameter names, in order), else 1 with a message; with `list`, one line per kernel
     * there: its name and parameter names */
    int (*check_table)(FILE *list);
} fz_precision;
extern const fz_precision fz_precision_s, fz_precision_d, fz_precision_c, fz_precision_z;

#endif
