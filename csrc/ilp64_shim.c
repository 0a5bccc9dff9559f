/* ilp64_shim.c -- libdifflapack_ilp64.so: the 64-bit-integer Fortran entry points
 * dtrsv_64_, dtrsm_64_, dgetrf_64_, dgetrs_64_, dgesv_64_ (the names Julia's libblastrampoline
 * calls), forwarding to Debian's ILP64 OpenBLAS (libopenblas64.so.0, which exports them under
 * the PLAIN names dtrsv_ ... with 64-bit integers).
 *
 * That library is opened with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) and its symbols looked up with
 * dlsym, so its plain names never clash with the LP64 dtrsv_ ... of the process: without
 * DEEPBIND its INTERNAL calls (dgetrf_ -> dlaswp_, ...) would bind to an LP64 OpenBLAS already
 * loaded globally (measured: 32-bit pivots written into the 64-bit ipiv). Used to run undifferentiated
 * code that calls the _64_ names (and as the "without difflapack" baseline); under Enzyme,
 * difflapack_enzyme.h interposes these names itself.
 *
 * The hidden Fortran string lengths are accepted (callers may pass them or not: the callee
 * only reads what it is given) and forwarded as 1, the length of every flag.
 */
#define _GNU_SOURCE /* RTLD_DEEPBIND */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

typedef void (*trsv_fn)(const char *, const char *, const char *, const blasint64 *, const double *,
                        const blasint64 *, double *, const blasint64 *, size_t, size_t, size_t);
typedef void (*trsm_fn)(const char *, const char *, const char *, const char *, const blasint64 *,
                        const blasint64 *, const double *, const double *, const blasint64 *, double *,
                        const blasint64 *, size_t, size_t, size_t, size_t);
typedef void (*getrf_fn)(const blasint64 *, const blasint64 *, double *, const blasint64 *, blasint64 *,
                         blasint64 *);
typedef void (*getrs_fn)(const char *, const blasint64 *, const blasint64 *, const double *,
                         const blasint64 *, const blasint64 *, double *, const blasint64 *, blasint64 *,
                         size_t);
typedef void (*gesv_fn)(const blasint64 *, const blasint64 *, double *, const blasint64 *, blasint64 *,
                        double *, const blasint64 *, blasint64 *);

void dtrsv_64_(const char *uplo, const char *trans, const char *diag, const blasint64 *n,
               const double *A, const blasint64 *lda, double *x, const blasint64 *incx) {
    RESOLVE(f, trsv_fn, "dtrsv_");
    if (f) f(uplo, trans, diag, n, A, lda, x, incx, 1, 1, 1);
}

void dtrsm_64_(const char *side, const char *uplo, const char *transa, const char *diag,
               const blasint64 *m, const blasint64 *n, const double *alpha, const double *A,
               const blasint64 *lda, double *B, const blasint64 *ldb) {
    RESOLVE(f, trsm_fn, "dtrsm_");
    if (f) f(side, uplo, transa, diag, m, n, alpha, A, lda, B, ldb, 1, 1, 1, 1);
}

/* LAPACK routines report a missing library through info (never used by LAPACK itself). */
#define NO_LIBRARY_INFO (-1000)

void dgetrf_64_(const blasint64 *m, const blasint64 *n, double *A, const blasint64 *lda,
                blasint64 *ipiv, blasint64 *info) {
    RESOLVE(f, getrf_fn, "dgetrf_");
    if (f) f(m, n, A, lda, ipiv, info);
    else *info = NO_LIBRARY_INFO;
}

void dgetrs_64_(const char *trans, const blasint64 *n, const blasint64 *nrhs, const double *A,
                const blasint64 *lda, const blasint64 *ipiv, double *B, const blasint64 *ldb,
                blasint64 *info) {
    RESOLVE(f, getrs_fn, "dgetrs_");
    if (f) f(trans, n, nrhs, A, lda, ipiv, B, ldb, info, 1);
    else *info = NO_LIBRARY_INFO;
}

void dgesv_64_(const blasint64 *n, const blasint64 *nrhs, double *A, const blasint64 *lda,
               blasint64 *ipiv, double *B, const blasint64 *ldb, blasint64 *info) {
    RESOLVE(f, gesv_fn, "dgesv_");
    if (f) f(n, nrhs, A, lda, ipiv, B, ldb, info);
    else *info = NO_LIBRARY_INFO;
}
