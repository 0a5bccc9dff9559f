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
/* k == 1: C[tri] += alpha a b^T is a rank-1 update, memory-bound; one daxpy per column of
 * the triangle touches each entry once (a gemm call per block would go through OpenBLAS's
 * small-matrix path, measured ~25% slower at n = 1000). */
static void ger_tri(char uplo, int strict, int n, double alpha, const double *a, int inca,
                    const double *b, int incb, double *C, int ldc) {
    for (int j = 0; j < n; ++j) {
        const double s = alpha * b[(size_t)j * incb];
        if (s == 0.0) continue;
        const int lo = uplo == 'U' ? 0 : j + (strict ? 1 : 0);
        const int len = uplo == 'U' ? j + (strict ? 0 : 1) : n - lo;
        if (len > 0) daxpy_(&len, &s, a + (size_t)lo * inca, &inca, C + lo + (size_t)j * ldc, (const int[]){1});
    }
}

void dl_gemm_tri(char uplo, int strict, char transa, char transb, int n, int k, double alpha,
                 const double *A, int lda, const double *B, int ldb, double *C, int ldc) {
    if (n <= 0) return;
    if (k <= 0 || alpha == 0.0) return;
    if (k == 1) { /* op(A) is an n-vector, op(B) a 1 x n row */
        ger_tri(uplo, strict, n, alpha, A, transa == 'N' ? 1 : lda, B, transb == 'N' ? ldb : 1, C, ldc);
        return;
    }
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

/* C := alpha op(A) C (side L) or alpha C op(A) (side R), A a non-unit triangle. A single
 * vector (n == 1 on the left, m == 1 on the right) goes to trmv: level-3 trmm on one column is
 * several times slower in OpenBLAS. C op(A) for a row c is (op(A)^T c^T)^T. */
static void trmm_or_trmv(char side, char uplo, char transa, int m, int n, double alpha,
                         const double *A, int lda, double *C, int ldc) {
    if (m <= 0 || n <= 0) return;
    const int vec_len = side == 'L' ? m : n, vec_inc = side == 'L' ? 1 : ldc;
    if ((side == 'L' ? n : m) == 1) {
        const char tr = side == 'L' ? transa : dl_flip_trans(transa);
        dtrmv_(&uplo, &tr, "N", &vec_len, A, &lda, C, &vec_inc);
        if (alpha != 1.0) dscal_(&vec_len, &alpha, C, &vec_inc);
        return;
    }
    dtrmm_(&side, &uplo, &transa, "N", &m, &n, &alpha, A, &lda, C, &ldc);
}

/* The strict uplo triangle S of a k x k matrix A is the NON-strict uplo triangle of the
 * (k-1) x (k-1) block A' = A(0:k-2, 1:k-1) (upper) or A(1:k-1, 0:k-2) (lower), shifted by one
 * row and one column. So op(S) B is one non-unit trmm with A' on B shifted by one row (side L)
 * or column (side R), plus a zero row/column: exact, unlike unit-trmm-minus-B, which cancels
 * and loses relative accuracy when S is small compared with 1. */
void dl_trmm_tri(char side, char uplo, char transa, int strict, int m, int n, double alpha,
                 const double *A, int lda, const double *B, int ldb, double *C, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (transa == 'C') transa = 'T';
    if (!strict) {
        if (C != B) dlacpy_("A", &m, &n, B, &ldb, C, &ldc);
        trmm_or_trmv(side, uplo, transa, m, n, alpha, A, lda, C, ldc);
        return;
    }
    const int k = side == 'L' ? m : n;
    if (k <= 1) { /* the strict triangle of a 1 x 1 matrix is empty */
        const double zero = 0.0;
        dlaset_("A", &m, &n, &zero, &zero, C, &ldc);
        return;
    }
    /* which row (L) / column (R) receives the product and which one is zero */
    const int same = (uplo == 'U') == (transa == 'N');
    const int dst = side == 'L' ? (same ? 0 : 1) : (same ? 1 : 0), src = 1 - dst;
    const double *Ashift = uplo == 'U' ? A + lda : A + 1;
    if (side == 'L') {
        for (int j = 0; j < n; ++j) {
            double *c = C + (size_t)j * ldc;
            memmove(c + dst, B + (size_t)j * ldb + src, sizeof(double) * (size_t)(m - 1));
            c[dst ? 0 : m - 1] = 0.0;
        }
        trmm_or_trmv(side, uplo, transa, m - 1, n, alpha, Ashift, lda, C + dst, ldc);
    } else {
        /* column j+dst of C from column j+src of B; the order keeps an in-place shift safe */
        for (int t = 0; t < n - 1; ++t) {
            int j = dst ? n - 2 - t : t;
            memmove(C + (size_t)(j + dst) * ldc, B + (size_t)(j + src) * ldb, sizeof(double) * (size_t)m);
        }
        double *z = C + (size_t)(dst ? 0 : n - 1) * ldc;
        for (int i = 0; i < m; ++i) z[i] = 0.0;
        trmm_or_trmv(side, uplo, transa, m, n - 1, alpha, Ashift, lda, C + (size_t)dst * ldc, ldc);
    }
}

/* Start of the block of op(A) at rows r0.., columns c0.. (op = N or T). */
static const double *op_block(const double *A, int lda, char trans, int r0, int c0) {
    return trans == 'N' ? A + r0 + (size_t)c0 * lda : A + c0 + (size_t)r0 * lda;
}

#define DL_TRSM_BASE 96

/* Recursion on the triangle: halve it, solve one half, update the other half of B with ONE
 * gemm (its beta carries alpha), solve the other half. All but O(k * BASE * rhs) flops run in
 * gemm, which OpenBLAS executes faster than its own trsm (at k = 1000, single thread, ~30 ms
 * for dtrsm against ~20 ms for the same flops in dgemm). Same result as dtrsm up to rounding. */
void dl_trsm_blocked(char side, char uplo, char transa, char diag, int m, int n, double alpha,
                     const double *A, int lda, double *B, int ldb) {
    if (m <= 0 || n <= 0) return;
    if (transa == 'C') transa = 'T';
    const int k = side == 'L' ? m : n;
    if (k <= DL_TRSM_BASE) {
        dtrsm_(&side, &uplo, &transa, &diag, &m, &n, &alpha, A, &lda, B, &ldb);
        return;
    }
    const double minus_one = -1.0;
    const int k1 = k / 2, k2 = k - k1;
    const int op_lower = (uplo == 'L') == (transa == 'N');
    const double *A11 = A, *A22 = A + k1 + (size_t)k1 * lda;
    const char notrans = 'N';
    if (side == 'L') {
        double *B1 = B, *B2 = B + k1;
        if (op_lower) { /* X1 = op(A11)^-1 alpha B1; B2 := alpha B2 - op(A)21 X1 */
            dl_trsm_blocked(side, uplo, transa, diag, k1, n, alpha, A11, lda, B1, ldb);
            dgemm_(&transa, &notrans, &k2, &n, &k1, &minus_one, op_block(A, lda, transa, k1, 0), &lda,
                   B1, &ldb, &alpha, B2, &ldb);
            dl_trsm_blocked(side, uplo, transa, diag, k2, n, 1.0, A22, lda, B2, ldb);
        } else {
            dl_trsm_blocked(side, uplo, transa, diag, k2, n, alpha, A22, lda, B2, ldb);
            dgemm_(&transa, &notrans, &k1, &n, &k2, &minus_one, op_block(A, lda, transa, 0, k1), &lda,
                   B2, &ldb, &alpha, B1, &ldb);
            dl_trsm_blocked(side, uplo, transa, diag, k1, n, 1.0, A11, lda, B1, ldb);
        }
    } else {
        double *B1 = B, *B2 = B + (size_t)k1 * ldb;
        if (!op_lower) { /* X1 = alpha B1 op(A11)^-1; B2 := alpha B2 - X1 op(A)12 */
            dl_trsm_blocked(side, uplo, transa, diag, m, k1, alpha, A11, lda, B1, ldb);
            dgemm_(&notrans, &transa, &m, &k2, &k1, &minus_one, B1, &ldb, op_block(A, lda, transa, 0, k1),
                   &lda, &alpha, B2, &ldb);
            dl_trsm_blocked(side, uplo, transa, diag, m, k2, 1.0, A22, lda, B2, ldb);
        } else {
            dl_trsm_blocked(side, uplo, transa, diag, m, k2, alpha, A22, lda, B2, ldb);
            dgemm_(&notrans, &transa, &m, &k1, &k2, &minus_one, B2, &ldb, op_block(A, lda, transa, k1, 0),
                   &lda, &alpha, B1, &ldb);
            dl_trsm_blocked(side, uplo, transa, diag, m, k1, 1.0, A11, lda, B1, ldb);
        }
    }
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
