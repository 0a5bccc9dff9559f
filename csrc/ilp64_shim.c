/* ilp64_shim.c -- libdifflapack_ilp64.so: the 64-bit-integer Fortran entry points ?trsv_64_,
 * ?trsm_64_, ?getrf_64_, ?getrs_64_, ?gesv_64_ for ? = s, d, c, z (the names Julia's
 * libblastrampoline calls), forwarding to Debian's ILP64 OpenBLAS (libopenblas64.so.0, which
 * exports them under the PLAIN names dtrsv_ ... with 64-bit integers).
 *
 * That library is opened with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) and its symbols looked up with
 * dlsym, so its plain names never clash with the LP64 dtrsv_ ... of the process: without
 * DEEPBIND its INTERNAL calls (dgetrf_ -> dlaswp_, ...) would bind to an LP64 OpenBLAS already
 * loaded globally (measured: 32-bit pivots written into the 64-bit ipiv). Used to run
 * undifferentiated code that calls the _64_ names (and as the "without difflapack" baseline);
 * under Enzyme, difflapack_enzyme.h interposes these names itself.
 *
 * The hidden Fortran string lengths are accepted (callers may pass them or not: the callee
 * only reads what it is given) and forwarded as 1, the length of every flag. Arrays and scalars
 * are forwarded untouched, so one definition per routine serves all four precisions.
 */
#define _GNU_SOURCE /* RTLD_DEEPBIND */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "difflapack_table.h"

typedef int64_t blasint64;

static void *ilp64_lib;
static pthread_once_t ilp64_once = PTHREAD_ONCE_INIT;

static void open_ilp64(void) {
    static const char *names[] = {"libopenblas64.so.0", "libopenblas64.so", "libopenblas64_.so.0"};
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !ilp64_lib; ++i)
        ilp64_lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
}

/* The ILP64 library's routine `name`, or NULL (after a message) if it cannot be loaded. */
static void *ilp64_symbol(const char *name) {
    pthread_once(&ilp64_once, open_ilp64);
    void *f = ilp64_lib ? dlsym(ilp64_lib, name) : NULL;
    if (!f)
        fprintf(stderr, "difflapack_ilp64: cannot find %s in an ILP64 OpenBLAS (libopenblas64.so.0): %s\n",
                name, ilp64_lib ? "symbol missing" : "library not found");
    return f;
}

#define RESOLVE(var, type, name)                                                                 \
    static type var;                                                                             \
    if (!var) var = (type)ilp64_symbol(name)

typedef const char *flag_t;
typedef const blasint64 *int_t;
typedef void (*trsv_fn)(flag_t, flag_t, flag_t, int_t, const void *, int_t, void *, int_t, size_t, size_t,
                        size_t);
typedef void (*trsm_fn)(flag_t, flag_t, flag_t, flag_t, int_t, int_t, const void *, const void *, int_t,
                        void *, int_t, size_t, size_t, size_t, size_t);
typedef void (*getrf_fn)(int_t, int_t, void *, int_t, blasint64 *, blasint64 *);
typedef void (*getrs_fn)(flag_t, int_t, int_t, const void *, int_t, int_t, void *, int_t, blasint64 *, size_t);
typedef void (*gesv_fn)(int_t, int_t, void *, int_t, blasint64 *, void *, int_t, blasint64 *);

/* LAPACK routines report a missing library through info (never used by LAPACK itself). */
#define NO_LIBRARY_INFO (-1000)

#define DEFINE_ILP64_ENTRIES(p)                                                                  \
    void p##trsv_64_(flag_t uplo, flag_t trans, flag_t diag, int_t n, const void *A, int_t lda,  \
                     void *x, int_t incx) {                                                      \
        RESOLVE(f, trsv_fn, #p "trsv_");                                                         \
        if (f) f(uplo, trans, diag, n, A, lda, x, incx, 1, 1, 1);                                \
    }                                                                                            \
    void p##trsm_64_(flag_t side, flag_t uplo, flag_t transa, flag_t diag, int_t m, int_t n,     \
                     const void *alpha, const void *A, int_t lda, void *B, int_t ldb) {          \
        RESOLVE(f, trsm_fn, #p "trsm_");                                                         \
        if (f) f(side, uplo, transa, diag, m, n, alpha, A, lda, B, ldb, 1, 1, 1, 1);             \
    }                                                                                            \
    void p##getrf_64_(int_t m, int_t n, void *A, int_t lda, blasint64 *ipiv, blasint64 *info) {  \
        RESOLVE(f, getrf_fn, #p "getrf_");                                                       \
        if (f) f(m, n, A, lda, ipiv, info);                                                      \
        else *info = NO_LIBRARY_INFO;                                                            \
    }                                                                                            \
    void p##getrs_64_(flag_t trans, int_t n, int_t nrhs, const void *A, int_t lda, int_t ipiv,   \
                      void *B, int_t ldb, blasint64 *info) {                                     \
        RESOLVE(f, getrs_fn, #p "getrs_");                                                       \
        if (f) f(trans, n, nrhs, A, lda, ipiv, B, ldb, info, 1);                                 \
        else *info = NO_LIBRARY_INFO;                                                            \
    }                                                                                            \
    void p##gesv_64_(int_t n, int_t nrhs, void *A, int_t lda, blasint64 *ipiv, void *B, int_t ldb, \
                     blasint64 *info) {                                                          \
        RESOLVE(f, gesv_fn, #p "gesv_");                                                         \
        if (f) f(n, nrhs, A, lda, ipiv, B, ldb, info);                                           \
        else *info = NO_LIBRARY_INFO;                                                            \
    }

#define DEFINE_PRECISION(p, T, R, is_complex) DEFINE_ILP64_ENTRIES(p)
DL_PRECISIONS(DEFINE_PRECISION)
