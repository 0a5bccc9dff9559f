/* gauss_jordan.c -- the inverse of a square matrix by Gauss-Jordan elimination with partial
 * pivoting, in place, recursive (written once over the element type T; see precision.h).
 *
 * Why a second inversion (inverse.c inverts from ?getrf's factors): the reverse pass of
 * log|det| needs c A^{-H} and nothing else from the factorization. ?getrf (2/3 n^3 flops) runs at
 * ~2/3 of ?gemm's speed and the inversion from the factors (4/3 n^3) on blocks of order n/2;
 * Gauss-Jordan does the same 2 n^3 flops in one pass of gemm calls, in less time than the two
 * (bench/RESULTS.md: slogdet reverse).
 *
 * Step k (k = 0..n-1) on the current matrix M: choose the pivot row p >= k with the largest
 * |M(p,k)| (?getrf's choice: i?amax, |re| + |im| for complex data), swap rows k and p, then with
 * d = M(k,k):
 *     row k := row k / d, M(k,k) := 1/d;  for i != k: c = M(i,k), M(i,k) := -c/d,
 *                                         row i := row i - c (row k)   (other columns)
 * (column k becomes the k-th column of the inverse being built while the other rows are
 * eliminated). After n steps M = (P A)^{-1} = A^{-1} P^T, and interchanging columns k and
 * ipiv[k] for k = n-1 down to 0 gives A^{-1} (as ?getri does). The pivots are ?getrf's (column
 * k below the diagonal at step k holds the numbers of the LU's column k; only their rounding
 * differs), so the elimination is as insensitive to the scaling of A's columns as ?getrf (a
 * version pivoting by columns, which would swap contiguous columns instead of strided rows,
 * lost up to 150x the accuracy on column-scaled matrices), and the pivot values d are U's
 * diagonal: det A = sign(P) prod d. Accuracy is that of the LU-based inversion: Gauss-Jordan
 * elimination with partial pivoting is forward stable (N. J. Higham, "Accuracy and Stability of
 * Numerical Algorithms", 2nd ed. 2002, sec. 14.4; J. Dekker, W. Hoffmann, Numer. Math. 54
 * (1989)); tests/test_gauss_jordan.py compares the two.
 *
 * Blocking (recursive, as F. Gustavson's recursive LU, IBM J. Res. Dev. 41 (1997)): the steps of
 * a block K = [k0, k0 + w) of pivots act on any other column b of M as one block operation.
 * With the rows R = K and O = the others, after the block the columns K hold
 *     P_R = (M_RR)^{-1},  P_O = -M_OR (M_RR)^{-1}     (M: the matrix before the block's steps,
 *                                                     its rows interchanged)
 * and a column b outside K becomes  b_O + P_O b_R  (rows O),  P_R b_R  (rows R): one gemm
 * over all n rows (b_R copied out and zeroed first). The recursion halves the pivot columns: the first half's steps
 * are applied to the second half's columns, the second half eliminated, its steps applied back
 * to the first half's columns. In the smallest blocks (GJ_BASE columns) the rows from k0 on are
 * updated step by step with a rank-1 update (the pivot search needs them), the rows above k0
 * once at the end by one gemm.
 */
#include "precision.h"
#include "internal.h"

static const T ONE = 1, MINUS_ONE = -1, ZERO = 0;
static const int INC1 = 1;

#define AT(M, ld, i, j) ((M)[(size_t)(i) + (size_t)(j) * (size_t)(ld)])

/* Pivot columns handled by rank-1 updates (measured at n = 1000: 16 and 24 best, 32 and more
 * slower). */
#ifndef GJ_BASE
#define GJ_BASE 24
#endif
/* Columns per gemm of a block update: bounds the workspace by n/2 x GJ_CHUNK instead of n^2/4
 * (a block has at most ceil(n/2) pivots; n = 1000: as fast as unchunked). */
#ifndef GJ_CHUNK
#define GJ_CHUNK 256
#endif

struct gj {
    int n, lda;
    T *A;
    int *ipiv;
    T *pivot; /* the pivot values d_k */
    T *work;  /* max(ceil(n/2) GJ_CHUNK, n GJ_BASE) + n elements */
};

/* The row interchanges of pivots [k0, k0 + w) applied to the columns [c0, c0 + cw). */
static void swap_block_rows(const struct gj *g, int k0, int w, int c0, int cw) {
    const int k1 = k0 + 1, k2 = k0 + w;
    if (cw > 0) BLAS(laswp)(&cw, &AT(g->A, g->lda, 0, c0), &g->lda, &k1, &k2, g->ipiv, &INC1);
}

/* The steps of the pivot block [k0, k0 + w) (done: its columns hold P_R, P_O) applied to the
 * columns [c0, c0 + cw), whose rows are already interchanged: with b_R copied out and zeroed,
 * one gemm over all n rows gives b_O + P_O b_R and P_R b_R together (a full-height gemm runs
 * faster than the three calls the row blocks would need). */
static void apply_block(const struct gj *g, int k0, int w, int c0, int cw) {
    const int n = g->n, lda = g->lda;
    T *A = g->A, *W = g->work;
    for (int c = c0; c < c0 + cw; c += GJ_CHUNK) { /* by column chunks: workspace w x GJ_CHUNK */
        const int m = dl_min(GJ_CHUNK, c0 + cw - c);
        BLAS(lacpy)("A", &w, &m, &AT(A, lda, k0, c), &lda, W, &w); /* b_R */
        BLAS(laset)("A", &w, &m, &ZERO, &ZERO, &AT(A, lda, k0, c), &lda);
        BLAS(gemm)("N", "N", &n, &m, &w, &ONE, &AT(A, lda, 0, k0), &lda, W, &w, &ONE, &AT(A, lda, 0, c), &lda);
    }
}

/* Steps k0 .. k0+w-1 on the columns [k0, k0 + w) alone. Returns 0 or k+1 for a zero pivot. */
static int eliminate_base(const struct gj *g, int k0, int w) {
    const int n = g->n, lda = g->lda;
    T *A = g->A, *above = g->work, *c = g->work + (size_t)n * GJ_BASE;
    T *panel = &AT(A, lda, 0, k0);
    if (k0 > 0) BLAS(lacpy)("A", &k0, &w, panel, &lda, above, &k0); /* M_OR, the rows above k0 */
    for (int k = k0; k < k0 + w; ++k) {
        const int len = n - k, p = k + IAMAX(&len, &AT(A, lda, k, k), &INC1) - 1;
        g->ipiv[k] = p + 1;
        if (p != k) BLAS(swap)(&w, &AT(A, lda, k, k0), &lda, &AT(A, lda, p, k0), &lda);
        const T d = AT(A, lda, k, k);
        g->pivot[k] = d;
        if (d == 0) return k + 1;
        for (int j = k0; j < k0 + w; ++j) AT(A, lda, k, j) /= d;
        for (int i = k0; i < n; ++i) c[i] = AT(A, lda, i, k); /* the multipliers, rows >= k0 */
        for (int i = k0; i < n; ++i) AT(A, lda, i, k) = 0;
        AT(A, lda, k, k) = 1 / d;
        /* rows i != k: row i -= c_i (row k); with row k's own column-k entry 1/d, this also
         * leaves M(i,k) = -c_i / d */
        const int mid = k - k0, below = n - k - 1;
        if (mid > 0) GERU(&mid, &w, &MINUS_ONE, c + k0, &INC1, &AT(A, lda, k, k0), &lda, &AT(A, lda, k0, k0), &lda);
        if (below > 0)
            GERU(&below, &w, &MINUS_ONE, c + k + 1, &INC1, &AT(A, lda, k, k0), &lda, &AT(A, lda, k + 1, k0), &lda);
    }
    if (k0 > 0) /* the rows above k0: P_O = -M_OR P_R */
        BLAS(gemm)("N", "N", &k0, &w, &w, &MINUS_ONE, above, &k0, &AT(A, lda, k0, k0), &lda, &ZERO, panel, &lda);
    return 0;
}

static int eliminate(const struct gj *g, int k0, int w) {
    if (w <= GJ_BASE) return eliminate_base(g, k0, w);
    const int w1 = w / 2, w2 = w - w1;
    int info = eliminate(g, k0, w1);
    if (info) return info;
    swap_block_rows(g, k0, w1, k0 + w1, w2);
    apply_block(g, k0, w1, k0 + w1, w2);
    if ((info = eliminate(g, k0 + w1, w2))) return info;
    swap_block_rows(g, k0 + w1, w2, k0, w1);
    apply_block(g, k0 + w1, w2, k0, w1);
    return 0;
}

int IFN(gauss_jordan_inverse)(int n, T *A, int lda, int *ipiv, T *pivot) {
    if (n <= 0) return 0;
    const size_t chunk = (size_t)(n - n / 2) * (size_t)GJ_CHUNK, base = (size_t)n * GJ_BASE;
    T *work = dl_alloc((chunk > base ? chunk : base) + (size_t)n);
    if (!work) return DL_ERR_ALLOC;
    const struct gj g = {n, lda, A, ipiv, pivot, work};
    const int info = eliminate(&g, 0, n);
    dl_free(work);
    if (info) return info;
    for (int k = n - 1; k >= 0; --k) { /* A^{-1} = (P A)^{-1} P: columns k <-> ipiv[k] */
        const int p = ipiv[k] - 1;
        if (p != k) BLAS(swap)(&n, &AT(A, lda, 0, k), &INC1, &AT(A, lda, 0, p), &INC1);
    }
    return 0;
}
