/* blas_ext.c -- BLAS-3 building blocks the derivative kernels share (type-generic: compiled
 * once per precision, see precision.h). */
#include <stdlib.h>
#include <string.h>
#include "precision.h"
#include "internal.h"

static const T ONE = 1, ZERO = 0, MINUS_ONE = -1;
static const int INC1 = 1;

/* Element (i, j) of op(M) lives at M + i + j*ld (N) or M + j + i*ld (T, C): these give the
 * start of a row block of op(A) and of a column block of op(B). */
static const T *op_rows(const T *A, int lda, char trans, int r0) {
    return trans == 'N' ? A + r0 : A + (size_t)r0 * lda;
}
static const T *op_cols(const T *B, int ldb, char trans, int c0) {
    return trans == 'N' ? B + (size_t)c0 * ldb : B + c0;
}

#define DL_TRI_BASE 48

/* k == 1: C[tri] += alpha a b^T is a rank-1 update, memory-bound; one axpy per column of the
 * triangle touches each entry once (a gemm call per block would go through OpenBLAS's
 * small-matrix path, measured ~25% slower at n = 1000). `a` must be contiguous; b(j) is read
 * at b[j * incb], conjugated when conj_b. */
static void ger_tri(char uplo, int strict, int n, T alpha, const T *a, const T *b, int incb,
                    int conj_b, T *C, int ldc) {
    for (int j = 0; j < n; ++j) {
        const T bj = b[(size_t)j * incb];
        const T s = alpha * (conj_b ? CONJ(bj) : bj);
        if (s == 0) continue;
        const int lo = uplo == 'U' ? 0 : j + (strict ? 1 : 0);
        const int len = uplo == 'U' ? j + (strict ? 0 : 1) : n - lo;
        if (len > 0) BLAS(axpy)(&len, &s, a + lo, &INC1, C + lo + (size_t)j * ldc, &INC1);
    }
}

/* The k == 1 case: op(A) is an n-vector (column of A for N, row for T/C), op(B) a 1 x n row. */
static void gemm_tri_rank1(char uplo, int strict, char transa, char transb, int n, T alpha,
                           const T *A, int lda, const T *B, int ldb, T *C, int ldc) {
    const int inca = transa == 'N' ? 1 : lda, incb = transb == 'N' ? ldb : 1;
    if (inca == 1 && transa != 'C') {
        ger_tri(uplo, strict, n, alpha, A, B, incb, transb == 'C', C, ldc);
        return;
    }
    T *a = dl_alloc((size_t)n); /* contiguous (conjugated for C) copy of the vector */
    if (!a) { /* no room for n elements: one gemm per column of the triangle instead */
        for (int j = 0; j < n; ++j) {
            const int lo = uplo == 'U' ? 0 : j + (strict ? 1 : 0);
            const int len = uplo == 'U' ? j + (strict ? 0 : 1) : n - lo;
            if (len > 0)
                BLAS(gemm)(&transa, &transb, &len, &INC1, &INC1, &alpha, op_rows(A, lda, transa, lo), &lda,
                           op_cols(B, ldb, transb, j), &ldb, &ONE, C + lo + (size_t)j * ldc, &ldc);
        }
        return;
    }
    for (int i = 0; i < n; ++i) a[i] = transa == 'C' ? CONJ(A[(size_t)i * inca]) : A[(size_t)i * inca];
    ger_tri(uplo, strict, n, alpha, a, B, incb, transb == 'C', C, ldc);
    dl_free(a);
}

/* Recursion: a triangle of size n is two triangles of size n/2 plus one full (n/2)^2 gemm
 * block, so all but O(n * BASE * k) of the work runs in large square gemm calls. */
void IFN(gemm_tri)(char uplo, int strict, char transa, char transb, int n, int k, T alpha,
                   const T *A, int lda, const T *B, int ldb, T *C, int ldc) {
    if (n <= 0 || k <= 0 || alpha == 0) return;
    if (k == 1) {
        gemm_tri_rank1(uplo, strict, transa, transb, n, alpha, A, lda, B, ldb, C, ldc);
        return;
    }
    if (n <= DL_TRI_BASE) {
        T W[DL_TRI_BASE * DL_TRI_BASE];
        BLAS(gemm)(&transa, &transb, &n, &n, &k, &alpha, A, &lda, B, &ldb, &ZERO, W, &n);
        for (int j = 0; j < n; ++j) {
            int lo = uplo == 'U' ? 0 : j + (strict ? 1 : 0);
            int hi = uplo == 'U' ? j - (strict ? 1 : 0) : n - 1;
            T *c = C + (size_t)j * ldc;
            const T *w = W + (size_t)j * n;
            for (int i = lo; i <= hi; ++i) c[i] += w[i];
        }
        return;
    }
    int n1 = n / 2, n2 = n - n1;
    IFN(gemm_tri)(uplo, strict, transa, transb, n1, k, alpha, A, lda, B, ldb, C, ldc);
    if (uplo == 'U') /* C[0:n1, n1:n] */
        BLAS(gemm)(&transa, &transb, &n1, &n2, &k, &alpha, A, &lda, op_cols(B, ldb, transb, n1), &ldb,
                   &ONE, C + (size_t)n1 * ldc, &ldc);
    else /* C[n1:n, 0:n1] */
        BLAS(gemm)(&transa, &transb, &n2, &n1, &k, &alpha, op_rows(A, lda, transa, n1), &lda, B, &ldb,
                   &ONE, C + n1, &ldc);
    IFN(gemm_tri)(uplo, strict, transa, transb, n2, k, alpha, op_rows(A, lda, transa, n1), lda,
                  op_cols(B, ldb, transb, n1), ldb, C + n1 + (size_t)n1 * ldc, ldc);
}

/* C := alpha op(A) C (side L) or alpha C op(A) (side R), A a non-unit triangle. A single
 * vector (n == 1 on the left, m == 1 on the right) goes to trmv: level-3 trmm on one column is
 * several times slower in OpenBLAS. c op(A) for a row c is (op(A)^T c^T)^T, which trmv can
 * form except for op = C with complex data (op(A)^T = conj(A)): that case stays in trmm. */
static void trmm_or_trmv(char side, char uplo, char transa, int m, int n, T alpha, const T *A,
                         int lda, T *C, int ldc) {
    if (m <= 0 || n <= 0) return;
    const int vec_len = side == 'L' ? m : n, vec_inc = side == 'L' ? 1 : ldc;
    const int is_vector = (side == 'L' ? n : m) == 1;
    if (is_vector && (side == 'L' || !(DL_IS_COMPLEX && transa == 'C'))) {
        const char tr = side == 'L' ? transa : (transa == 'N' ? 'T' : 'N');
        BLAS(trmv)(&uplo, &tr, "N", &vec_len, A, &lda, C, &vec_inc);
        if (alpha != 1) BLAS(scal)(&vec_len, &alpha, C, &vec_inc);
        return;
    }
    BLAS(trmm)(&side, &uplo, &transa, "N", &m, &n, &alpha, A, &lda, C, &ldc);
}

/* The strict uplo triangle S of a k x k matrix A is the NON-strict uplo triangle of the
 * (k-1) x (k-1) block A' = A(0:k-2, 1:k-1) (upper) or A(1:k-1, 0:k-2) (lower), shifted by one
 * row and one column. So op(S) B is one non-unit trmm with A' on B shifted by one row (side L)
 * or column (side R), plus a zero row/column: exact, unlike unit-trmm-minus-B, which cancels
 * and loses relative accuracy when S is small compared with 1. */
void IFN(trmm_tri)(char side, char uplo, char transa, int strict, int m, int n, T alpha,
                   const T *A, int lda, const T *B, int ldb, T *C, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (!DL_IS_COMPLEX && transa == 'C') transa = 'T';
    if (!strict) {
        if (C != B) BLAS(lacpy)("A", &m, &n, B, &ldb, C, &ldc);
        trmm_or_trmv(side, uplo, transa, m, n, alpha, A, lda, C, ldc);
        return;
    }
    const int k = side == 'L' ? m : n;
    if (k <= 1) { /* the strict triangle of a 1 x 1 matrix is empty */
        BLAS(laset)("A", &m, &n, &ZERO, &ZERO, C, &ldc);
        return;
    }
    /* which row (L) / column (R) receives the product and which one is zero */
    const int same = (uplo == 'U') == (transa == 'N');
    const int dst = side == 'L' ? (same ? 0 : 1) : (same ? 1 : 0), src = 1 - dst;
    const T *Ashift = uplo == 'U' ? A + lda : A + 1;
    if (side == 'L') {
        for (int j = 0; j < n; ++j) {
            T *c = C + (size_t)j * ldc;
            memmove(c + dst, B + (size_t)j * ldb + src, sizeof(T) * (size_t)(m - 1));
            c[dst ? 0 : m - 1] = 0;
        }
        trmm_or_trmv(side, uplo, transa, m - 1, n, alpha, Ashift, lda, C + dst, ldc);
    } else {
        /* column j+dst of C from column j+src of B; the order keeps an in-place shift safe */
        for (int t = 0; t < n - 1; ++t) {
            int j = dst ? n - 2 - t : t;
            memmove(C + (size_t)(j + dst) * ldc, B + (size_t)(j + src) * ldb, sizeof(T) * (size_t)m);
        }
        T *z = C + (size_t)(dst ? 0 : n - 1) * ldc;
        for (int i = 0; i < m; ++i) z[i] = 0;
        trmm_or_trmv(side, uplo, transa, m, n - 1, alpha, Ashift, lda, C + (size_t)dst * ldc, ldc);
    }
}

void IFN(tri_solve)(char uplo, char trans, char diag, int n, int nrhs, const T *A, int lda, T *B,
                    int ldb) {
    if (n <= 0 || nrhs <= 0) return;
    if (nrhs == 1)
        IFN(trsv)(uplo, trans, diag, n, A, lda, B, 1);
    else
        BLAS(trsm)("L", &uplo, &trans, &diag, &n, &nrhs, &ONE, A, &lda, B, &ldb);
}

/* Start of the block of op(A) at rows r0.., columns c0.. (op = N, or T / C). */
static const T *op_block(const T *A, int lda, char trans, int r0, int c0) {
    return trans == 'N' ? A + r0 + (size_t)c0 * lda : A + c0 + (size_t)r0 * lda;
}

#define DL_TRSM_BASE 96

/* Recursion on the triangle: halve it, solve one half, update the other half of B with ONE
 * gemm (its beta carries alpha), solve the other half. All but O(k * BASE * rhs) flops run in
 * gemm, which OpenBLAS executes faster than its own trsm (at k = 1000, single thread, ~30 ms
 * for dtrsm against ~20 ms for the same flops in dgemm). Same result as ?trsm up to rounding. */
void IFN(trsm_blocked)(char side, char uplo, char transa, char diag, int m, int n, T alpha,
                       const T *A, int lda, T *B, int ldb) {
    if (m <= 0 || n <= 0) return;
    if (!DL_IS_COMPLEX && transa == 'C') transa = 'T';
    const int k = side == 'L' ? m : n;
    if (k <= DL_TRSM_BASE) {
        BLAS(trsm)(&side, &uplo, &transa, &diag, &m, &n, &alpha, A, &lda, B, &ldb);
        return;
    }
    const int k1 = k / 2, k2 = k - k1;
    const int op_lower = (uplo == 'L') == (transa == 'N');
    const T *A11 = A, *A22 = A + k1 + (size_t)k1 * lda;
    const char notrans = 'N';
    if (side == 'L') {
        T *B1 = B, *B2 = B + k1;
        if (op_lower) { /* X1 = op(A11)^-1 alpha B1; B2 := alpha B2 - op(A)21 X1 */
            IFN(trsm_blocked)(side, uplo, transa, diag, k1, n, alpha, A11, lda, B1, ldb);
            BLAS(gemm)(&transa, &notrans, &k2, &n, &k1, &MINUS_ONE, op_block(A, lda, transa, k1, 0), &lda,
                       B1, &ldb, &alpha, B2, &ldb);
            IFN(trsm_blocked)(side, uplo, transa, diag, k2, n, 1, A22, lda, B2, ldb);
        } else {
            IFN(trsm_blocked)(side, uplo, transa, diag, k2, n, alpha, A22, lda, B2, ldb);
            BLAS(gemm)(&transa, &notrans, &k1, &n, &k2, &MINUS_ONE, op_block(A, lda, transa, 0, k1), &lda,
                       B2, &ldb, &alpha, B1, &ldb);
            IFN(trsm_blocked)(side, uplo, transa, diag, k1, n, 1, A11, lda, B1, ldb);
        }
    } else {
        T *B1 = B, *B2 = B + (size_t)k1 * ldb;
        if (!op_lower) { /* X1 = alpha B1 op(A11)^-1; B2 := alpha B2 - X1 op(A)12 */
            IFN(trsm_blocked)(side, uplo, transa, diag, m, k1, alpha, A11, lda, B1, ldb);
            BLAS(gemm)(&notrans, &transa, &m, &k2, &k1, &MINUS_ONE, B1, &ldb, op_block(A, lda, transa, 0, k1),
                       &lda, &alpha, B2, &ldb);
            IFN(trsm_blocked)(side, uplo, transa, diag, m, k2, 1, A22, lda, B2, ldb);
        } else {
            IFN(trsm_blocked)(side, uplo, transa, diag, m, k2, alpha, A22, lda, B2, ldb);
            BLAS(gemm)(&notrans, &transa, &m, &k1, &k2, &MINUS_ONE, B2, &ldb, op_block(A, lda, transa, k1, 0),
                       &lda, &alpha, B1, &ldb);
            IFN(trsm_blocked)(side, uplo, transa, diag, m, k1, 1, A11, lda, B1, ldb);
        }
    }
}

/* DL_TRSV_SAFE_N (internal.h): the size above which OpenBLAS's ?trsv calls ?gemv_n on a block
 * of x (its DTB_ENTRIES is 64 on x86-64; half of it to stay clear of other targets). */
void IFN(trsv)(char uplo, char trans, char diag, int n, const T *A, int lda, T *x, int incx) {
    if (DL_IS_COMPLEX && incx == 1 && uplo == 'U' && (trans == 'N' || trans == 'R') && n > DL_TRSV_SAFE_N) {
        T *w = dl_alloc((size_t)n + DL_TRSV_PAD);
        if (w) {
            memcpy(w, x, sizeof(T) * (size_t)n);
            for (int i = n; i < n + DL_TRSV_PAD; ++i) w[i] = 0;
            BLAS(trsv)(&uplo, &trans, &diag, &n, A, &lda, w, &INC1);
            memcpy(x, w, sizeof(T) * (size_t)n);
            dl_free(w);
        } else { /* no room for the copy: the level-3 solve, which stays inside x */
            BLAS(trsm)("L", &uplo, &trans, &diag, &n, &INC1, &ONE, A, &lda, x, &n);
        }
        return;
    }
    BLAS(trsv)(&uplo, &trans, &diag, &n, A, &lda, x, &incx);
}

void IFN(fill_nan)(int m, int n, T *A, int lda) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) A[i + (size_t)j * lda] = NAN_T;
}

void IFN(project_tri)(char uplo, int strict, int n, T *A, int lda) {
    for (int j = 0; j < n; ++j) {
        T *a = A + (size_t)j * lda;
        if (uplo == 'U') {
            for (int i = strict ? j : j + 1; i < n; ++i) a[i] = 0;
        } else {
            int hi = strict ? j + 1 : j;
            for (int i = 0; i < hi && i < n; ++i) a[i] = 0;
        }
    }
}

/* y[0 .. len) := x[0 .. len), and whether those are all finite: x * 0 is +-0 for a finite x and
 * NaN for inf or NaN, so a sum of such products is 0 exactly when every x is finite (without
 * -ffast-math nothing folds x * 0 away). In 16-byte vectors (GCC/clang vector extensions:
 * SSE2 on any x86-64), loaded once for the store and the sum, with four independent
 * accumulators: GCC keeps a plain loop of floating-point compares or sums scalar (trapping
 * math, no reassociation), which made the copy-in 5x slower than NumPy's copy and isfinite. */
typedef R dl_rvec __attribute__((vector_size(16)));
#define DL_LANES (sizeof(dl_rvec) / sizeof(R))

/* y may be NULL: the test alone (the API's check of an input it does not copy). */
static int copy_run(const R *x, R *y, size_t len) {
    dl_rvec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    size_t i = 0;
    for (; i + 4 * DL_LANES <= len; i += 4 * DL_LANES) {
        dl_rvec v0, v1, v2, v3;
        memcpy(&v0, x + i, sizeof v0);
        memcpy(&v1, x + i + DL_LANES, sizeof v1);
        memcpy(&v2, x + i + 2 * DL_LANES, sizeof v2);
        memcpy(&v3, x + i + 3 * DL_LANES, sizeof v3);
        if (y) {
            memcpy(y + i, &v0, sizeof v0);
            memcpy(y + i + DL_LANES, &v1, sizeof v1);
            memcpy(y + i + 2 * DL_LANES, &v2, sizeof v2);
            memcpy(y + i + 3 * DL_LANES, &v3, sizeof v3);
        }
        a0 += v0 * (R)0;
        a1 += v1 * (R)0;
        a2 += v2 * (R)0;
        a3 += v3 * (R)0;
    }
    a0 += a1 + a2 + a3;
    R sum = 0;
    for (; i < len; ++i) {
        if (y) y[i] = x[i];
        sum += x[i] * (R)0;
    }
    for (size_t k = 0; k < DL_LANES; ++k) sum += a0[k];
    return sum == 0;
}

/* One pass per column: the copied segment copied and checked at once (a unit diagonal is
 * copied apart, unchecked), the rest of the column zeroed. C == NULL: the test alone. */
int FN(copy_checked)(char uplo, char diag, int m, int n, const T *A, int lda, T *C, int ldc) {
    if (m < 0) return -3;
    if (n < 0) return -4;
    if (lda < dl_max(1, m)) return -6;
    if (C && ldc < dl_max(1, m)) return -8;
    const int upper = uplo == 'U' || uplo == 'u', lower = uplo == 'L' || uplo == 'l';
    const int unit = (upper || lower) && (diag == 'U' || diag == 'u');
    const size_t parts = DL_IS_COMPLEX ? 2 : 1; /* a complex entry is copied as its two parts */
    int finite = 1;
    for (int j = 0; j < n; ++j) {
        const T *a = A + (size_t)j * lda;
        T *c = C ? C + (size_t)j * ldc : NULL;
        /* the copied rows [lo, hi); the read part [rlo, rhi) leaves out a unit diagonal */
        const int lo = lower ? dl_min(j, m) : 0, hi = upper ? dl_min(j + 1, m) : m;
        const int rlo = lower && unit ? dl_min(j + 1, m) : lo, rhi = upper && unit ? dl_min(j, m) : hi;
        if (rhi > rlo) finite &= copy_run((const R *)(a + rlo), c ? (R *)(c + rlo) : NULL, parts * (size_t)(rhi - rlo));
        if (!c) continue;
        if (lo > 0) memset(c, 0, sizeof(T) * (size_t)lo);
        if (rlo > lo) c[lo] = a[lo];          /* the unit diagonal, lower */
        if (hi > rhi && rhi >= rlo) c[rhi] = a[rhi]; /* the unit diagonal, upper */
        if (m > hi) memset(c + hi, 0, sizeof(T) * (size_t)(m - hi));
    }
    return !finite;
}

int IFN(first_zero_diagonal)(int n, const T *A, int lda) {
    for (int i = 0; i < n; ++i)
        if (A[i + (size_t)i * lda] == 0) return i + 1;
    return 0;
}

int IFN(all_zero)(int m, int n, const T *A, int lda) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i)
            if (A[i + (size_t)j * lda] != 0) return 0;
    return 1;
}

void IFN(conj_matrix)(int m, int n, T *A, int lda) {
#if DL_IS_COMPLEX
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) A[i + (size_t)j * lda] = CONJ(A[i + (size_t)j * lda]);
#else
    (void)m; (void)n; (void)A; (void)lda;
#endif
}

void IFN(copy_conj)(int m, int n, const T *A, int lda, T *W) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) W[i + (size_t)j * m] = CONJ(A[i + (size_t)j * lda]);
}

T IFN(inner)(int m, int n, const T *P, int ldp, const T *Q, int ldq) {
    T s = 0;
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) s += CONJ(P[i + (size_t)j * ldp]) * Q[i + (size_t)j * ldq];
    return s;
}
