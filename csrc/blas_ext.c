/* blas_ext.c -- BLAS-3 building blocks the derivative kernels share. */
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "internal.h"

char dl_flag(char c, const char *allowed) {
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    for (const char *p = allowed; *p; ++p)
        if (*p == c) return c;
    return 0;
}

double *dl_alloc(size_t count) { return (double *)malloc(sizeof(double) * (count ? count : 1)); }
void dl_free(void *p) { free(p); }

/* Element (i, j) of op(M) lives at M + i + j*ld (N) or M + j + i*ld (T): these give the
 * start of a row block of op(A) and of a column block of op(B). */
static const double *op_rows(const double *A, int lda, char trans, int r0) {
    return trans == 'N' ? A + r0 : A + (size_t)r0 * lda;
}
static const double *op_cols(const double *B, int ldb, char trans, int c0) {
    return trans == 'N' ? B + (size_t)c0 * ldb : B + c0;
}

#define DL_TRI_BASE 48

/* Recursion: a triangle of size n is two triangles of size n/2 plus one full (n/2)^2 gemm
 * block, so all but O(n * BASE * k) of the work runs in large square gemm calls. */
void dl_gemm_tri(char uplo, int strict, char transa, char transb, int n, int k, double alpha,
                 const double *A, int lda, const double *B, int ldb, double *C, int ldc) {
    if (n <= 0) return;
    if (k <= 0 || alpha == 0.0) return;
    const double one = 1.0, zero = 0.0;
    if (n <= DL_TRI_BASE) {
        double W[DL_TRI_BASE * DL_TRI_BASE];
        dgemm_(&transa, &transb, &n, &n, &k, &alpha, A, &lda, B, &ldb, &zero, W, &n);
        for (int j = 0; j < n; ++j) {
            int lo = uplo == 'U' ? 0 : j + (strict ? 1 : 0);
            int hi = uplo == 'U' ? j - (strict ? 1 : 0) : n - 1;
            double *c = C + (size_t)j * ldc;
            const double *w = W + (size_t)j * n;
            for (int i = lo; i <= hi; ++i) c[i] += w[i];
        }
        return;
    }
    int n1 = n / 2, n2 = n - n1;
    dl_gemm_tri(uplo, strict, transa, transb, n1, k, alpha, A, lda, B, ldb, C, ldc);
    if (uplo == 'U') /* C[0:n1, n1:n] */
        dgemm_(&transa, &transb, &n1, &n2, &k, &alpha, A, &lda, op_cols(B, ldb, transb, n1), &ldb,
               &one, C + (size_t)n1 * ldc, &ldc);
    else /* C[n1:n, 0:n1] */
        dgemm_(&transa, &transb, &n2, &n1, &k, &alpha, op_rows(A, lda, transa, n1), &lda, B, &ldb,
               &one, C + n1, &ldc);
    dl_gemm_tri(uplo, strict, transa, transb, n2, k, alpha, op_rows(A, lda, transa, n1), lda,
                op_cols(B, ldb, transb, n1), ldb, C + n1 + (size_t)n1 * ldc, ldc);
}

void dl_trmm_strict(char side, char uplo, char transa, int m, int n, double alpha,
                    const double *A, int lda, double *B, int ldb, double *W, int ldw) {
    if (m <= 0 || n <= 0) return;
    /* strict(A) = unit(A) - I, so tri(A) B = unit(A) B - B */
    const double neg = -alpha;
    const int inc = 1;
    dlacpy_("A", &m, &n, B, &ldb, W, &ldw);
    dtrmm_(&side, &uplo, &transa, "U", &m, &n, &alpha, A, &lda, B, &ldb);
    for (int j = 0; j < n; ++j)
        daxpy_(&m, &neg, W + (size_t)j * ldw, &inc, B + (size_t)j * ldb, &inc);
}

void dl_fill_nan(int m, int n, double *A, int lda) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) A[i + (size_t)j * lda] = NAN;
}

void dl_project_tri(char uplo, int strict, int n, double *A, int lda) {
    for (int j = 0; j < n; ++j) {
        double *a = A + (size_t)j * lda;
        if (uplo == 'U') {
            for (int i = strict ? j : j + 1; i < n; ++i) a[i] = 0.0;
        } else {
            int hi = strict ? j + 1 : j;
            for (int i = 0; i < hi && i < n; ++i) a[i] = 0.0;
        }
    }
}

int dl_all_zero(int m, int n, const double *A, int lda) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i)
            if (A[i + (size_t)j * lda] != 0.0) return 0;
    return 1;
}

void dl_set_num_threads(int nthreads) {
    extern void openblas_set_num_threads(int);
    openblas_set_num_threads(nthreads);
}

const char *dl_version(void) { return DIFFLAPACK_VERSION; }
