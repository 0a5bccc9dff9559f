/* inverse.c -- the inverse of a matrix from its LU factors (getri) and of the matrix itself
 * (getrf + getri: inv): primal, tangent (fwd) and adjoint (rev) kernels, written once over the
 * element type T (compiled for s, d, c, z; see precision.h).
 *
 * Notation as in lu.c / lu_rule.c: A = P L U packed in one n x n array "LU", ipiv 1-based; X = A^{-1} =
 * U^{-1} L^{-1} P^T. Column interchanges M P (forward) / M P^T (backward) are loops of ?swap
 * over column pairs, as ?getri applies them; no permutation matrix is formed. The derivatives
 * of getri are taken with respect to the PACKED factors (dL strictly below the diagonal, dU on
 * and above; L's unit diagonal is not an input), the pivots held fixed. Everything here is
 * holomorphic: tangents are the real formulas in complex arithmetic, adjoints their conjugate
 * transposes (cotangents zbar = dL/dRe z + i dL/dIm z).
 *
 * References: M. B. Giles, "An extended collection of matrix derivative results for forward
 * and reverse mode algorithmic differentiation" (2008), sec. 2.2.3 / 3.2.3 (the inverse:
 * dX = -X dA X, Abar = -X^H Xbar X^H), pulled back through the LU as in F. de Hoog,
 * R. Anderssen, M. Lukas, Math. Comp. 80 (2011) and S. F. Walter, L. Lehmann (2018); the
 * recursive triangular inversion and products follow F. Gustavson, "Recursion leads to
 * automatic variable blocking for dense linear-algebra algorithms", IBM J. Res. Dev. 41 (1997).
 * The step-by-step derivations are in docs/design/derivatives_next.md, sec. 1.
 */
#include <string.h>
#include "precision.h"
#include "internal.h"

static const T ONE = 1, MINUS_ONE = -1, ZERO = 0;
static const int INC1 = 1;

#define AT(M, ld, i, j) ((M)[(size_t)(i) + (size_t)(j) * (size_t)(ld)])

/* Blocks up to this order are handled by LAPACK's unblocked code (trtri) or plain loops. */
#ifndef INV_BASE
#define INV_BASE 32
#endif
/* Base order of the structured triangular solves (copied into a stack workspace). */
#define TRI_BASE 32

/* ============================================================ the inverse from the factors
 * Recursive, in place, all but O(n BASE^2) flops in trmm/gemm on blocks of order n/2, n/4, ...
 * (OpenBLAS runs those faster than ?getri's trtri + blocked solve): with [U11 U12; 0 U22],
 *   U^{-1} = [U11^{-1}, -U11^{-1} U12 U22^{-1}; 0, U22^{-1}]            (n^3/3 flops)
 * and likewise for the unit lower L (its strict triangle, the diagonal is U's); then the
 * product U^{-1} L^{-1} in place, block by block as LAPACK's lauum forms U U^H   (2/3 n^3):
 *   [A B; 0 D] [E 0; F G] = [A E + B F, B G; D F, D G].
 * Total 4/3 n^3, what ?getri costs; then the columns are swapped: X = U^{-1} L^{-1} P^T. */

static void trmm_block(char side, char uplo, char diag, int m, int n, T alpha, const T *A, int lda,
                       T *B, int ldb) {
    if (m > 0 && n > 0) BLAS(trmm)(&side, &uplo, "N", &diag, &m, &n, &alpha, A, &lda, B, &ldb);
}

/* U := U^{-1} on the upper triangle of the n x n block (the strict lower part is not touched). */
static void upper_inverse(int n, T *A, int lda) {
    if (n <= INV_BASE) {
        int info = 0;
        if (n > 0) BLAS(trtri)("U", "N", &n, A, &lda, &info);
        return;
    }
    const int k = n / 2, n2 = n - k;
    T *A12 = A + (size_t)k * lda, *A22 = A12 + k;
    upper_inverse(k, A, lda);
    upper_inverse(n2, A22, lda);
    trmm_block('L', 'U', 'N', k, n2, MINUS_ONE, A, lda, A12, lda);
    trmm_block('R', 'U', 'N', k, n2, ONE, A22, lda, A12, lda);
}

/* L := L^{-1} on the strict lower triangle (unit diagonal implied; the diagonal and the upper
 * part are not touched). */
static void unit_lower_inverse(int n, T *A, int lda) {
    if (n <= INV_BASE) {
        int info = 0;
        if (n > 0) BLAS(trtri)("L", "U", &n, A, &lda, &info);
        return;
    }
    const int k = n / 2, n2 = n - k;
    T *A21 = A + k, *A22 = A + k + (size_t)k * lda;
    unit_lower_inverse(k, A, lda);
    unit_lower_inverse(n2, A22, lda);
    trmm_block('L', 'L', 'U', n2, k, MINUS_ONE, A22, lda, A21, lda);
    trmm_block('R', 'L', 'U', n2, k, ONE, A, lda, A21, lda);
}

/* A := Ui Li where Ui is the upper triangle of A and Li the unit lower one (strict part). */
static void upper_times_unit_lower(int n, T *A, int lda) {
    if (n <= INV_BASE) {
        T W[INV_BASE * INV_BASE];
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < n; ++i) {
                /* sum over k >= max(i, j) of Ui(i,k) Li(k,j), Li(j,j) = 1 */
                T s = j >= i ? AT(A, lda, i, j) : (T)0;
                for (int k = (i > j ? i : j + 1); k < n; ++k) s += AT(A, lda, i, k) * AT(A, lda, k, j);
                W[i + j * n] = s;
            }
        for (int j = 0; j < n; ++j) memcpy(&AT(A, lda, 0, j), W + (size_t)j * n, sizeof(T) * (size_t)n);
        return;
    }
    const int k = n / 2, n2 = n - k;
    T *A12 = A + (size_t)k * lda, *A21 = A + k, *A22 = A12 + k;
    upper_times_unit_lower(k, A, lda);                                      /* A E   */
    BLAS(gemm)("N", "N", &k, &k, &n2, &ONE, A12, &lda, A21, &lda, &ONE, A, &lda); /* + B F */
    trmm_block('R', 'L', 'U', k, n2, ONE, A22, lda, A12, lda);              /* B G   */
    trmm_block('L', 'U', 'N', n2, k, ONE, A22, lda, A21, lda);              /* D F   */
    upper_times_unit_lower(n2, A22, lda);                                   /* D G   */
}

/* M := M P (forward: interchanges j = 0..npiv-1) or M P^T (backward), applied to columns. */
static void swap_columns(int n, int npiv, T *M, int ldm, const int *ipiv, int forward) {
    for (int t = 0; t < npiv; ++t) {
        const int j = forward ? t : npiv - 1 - t, p = ipiv[j] - 1;
        if (p != j) BLAS(swap)(&n, M + (size_t)j * ldm, &INC1, M + (size_t)p * ldm, &INC1);
    }
}

/* ?getri's interchanges: only j = n-2 down to 0 (LAPACK's loop J = N-1, ..., 1); IPIV(N) is
 * never read (a square ?getrf always sets it to N), so a caller's ipiv[n-1] changes nothing. */
static int getri_pivot_count(int n) { return n > 0 ? n - 1 : 0; }

void IFN(lu_inverse_pivots)(int n, T *A, int lda, const int *ipiv, int npiv) {
    upper_inverse(n, A, lda);
    unit_lower_inverse(n, A, lda);
    upper_times_unit_lower(n, A, lda);
    swap_columns(n, npiv, A, lda, ipiv, 0);
}

void IFN(lu_inverse)(int n, T *A, int lda, const int *ipiv) {
    IFN(lu_inverse_pivots)(n, A, lda, ipiv, getri_pivot_count(n));
}

/* ============================================================ structured triangular solves
 * The four maps of the getri rules on an n x n buffer D, each touching only its own triangle
 * (so E and F, and Lbar and Ubar, share one buffer), each n^3/3 flops (T(n) = 2 T(n/2) + n^3/4):
 *   TRI_E:    stril(D) := stril(D) L^{-1}            TRI_F:    triu(D) := U^{-1} triu(D)
 *   TRI_LBAR: stril(D) := stril(stril(D) L^{-H})     TRI_UBAR: triu(D) := triu(U^{-H} triu(D))
 * (LBAR / UBAR are the adjoints of E / F: the same recursion, steps reversed.) The products
 * with strict triangles are exact (trmm_tri). W: workspace for floor(n/2) * ceil(n/2) elements
 * (E and F only). */
enum tri_kind { TRI_E, TRI_F, TRI_LBAR, TRI_UBAR };

static int kind_is_lower(int kind) { return kind == TRI_E || kind == TRI_LBAR; }

/* Base case: the triangle copied into a zeroed workspace, one trsm there, copied back. */
static void tri_rhs_base(int kind, int n, const T *LU, int lda, T *D, int ldd) {
    T W[TRI_BASE * TRI_BASE];
    const int lower = kind_is_lower(kind);
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i)
            W[i + j * n] = (lower ? i > j : i <= j) ? AT(D, ldd, i, j) : (T)0;
    switch (kind) {
    case TRI_E: IFN(trsm_blocked)('R', 'L', 'N', 'U', n, n, 1, LU, lda, W, n); break;
    case TRI_F: IFN(trsm_blocked)('L', 'U', 'N', 'N', n, n, 1, LU, lda, W, n); break;
    case TRI_LBAR: IFN(trsm_blocked)('R', 'L', 'C', 'U', n, n, 1, LU, lda, W, n); break;
    default: IFN(trsm_blocked)('L', 'U', 'C', 'N', n, n, 1, LU, lda, W, n); break;
    }
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i)
            if (lower ? i > j : i <= j) AT(D, ldd, i, j) = W[i + j * n];
}

static void subtract_packed(int m, int n, const T *W, T *D, int ldd) {
    for (int j = 0; j < n; ++j)
        BLAS(axpy)(&m, &MINUS_ONE, W + (size_t)j * m, &INC1, D + (size_t)j * ldd, &INC1);
}

static void tri_rhs_solve(int kind, int n, const T *LU, int lda, T *D, int ldd, T *W) {
    if (n <= TRI_BASE) {
        if (n > 0) tri_rhs_base(kind, n, LU, lda, D, ldd);
        return;
    }
    const int k = n / 2, n2 = n - k;
    const T *U12 = LU + (size_t)k * lda, *L21 = LU + k, *LU22 = U12 + k;
    T *D12 = D + (size_t)k * ldd, *D21 = D + k, *D22 = D12 + k;
    switch (kind) {
    case TRI_E: /* E22 L22 = R22; E21 = (R21 - E22 L21) L11^{-1}; E11 L11 = R11 */
        tri_rhs_solve(kind, n2, LU22, lda, D22, ldd, W);
        IFN(trmm_tri)('L', 'L', 'N', 1, n2, k, 1, D22, ldd, L21, lda, W, n2);
        subtract_packed(n2, k, W, D21, ldd);
        IFN(trsm_blocked)('R', 'L', 'N', 'U', n2, k, 1, LU, lda, D21, ldd);
        tri_rhs_solve(kind, k, LU, lda, D, ldd, W);
        break;
    case TRI_F: /* U22 F22 = R22; F12 = U11^{-1} (R12 - U12 F22); U11 F11 = R11 */
        tri_rhs_solve(kind, n2, LU22, lda, D22, ldd, W);
        IFN(trmm_tri)('R', 'U', 'N', 0, k, n2, 1, D22, ldd, U12, lda, W, k);
        subtract_packed(k, n2, W, D12, ldd);
        IFN(trsm_blocked)('L', 'U', 'N', 'N', k, n2, 1, LU, lda, D12, ldd);
        tri_rhs_solve(kind, k, LU, lda, D, ldd, W);
        break;
    case TRI_LBAR: /* the transpose of E, steps reversed */
        tri_rhs_solve(kind, k, LU, lda, D, ldd, W);
        IFN(trsm_blocked)('R', 'L', 'C', 'U', n2, k, 1, LU, lda, D21, ldd);
        IFN(gemm_tri)('L', 1, 'N', 'C', n2, k, -1, D21, ldd, L21, lda, D22, ldd);
        tri_rhs_solve(kind, n2, LU22, lda, D22, ldd, W);
        break;
    default: /* TRI_UBAR: the transpose of F, steps reversed */
        tri_rhs_solve(kind, k, LU, lda, D, ldd, W);
        IFN(trsm_blocked)('L', 'U', 'C', 'N', k, n2, 1, LU, lda, D12, ldd);
        IFN(gemm_tri)('U', 0, 'C', 'N', n2, k, -1, U12, lda, D12, ldd, D22, ldd);
        tri_rhs_solve(kind, n2, LU22, lda, D22, ldd, W);
        break;
    }
}

/* ============================================================ getri */
/* ?getri's checks (n 1, A 2, lda 3, ipiv 4). No array is read here: an entry of ipiv[0..n-2]
 * outside 1..n (also reported at 4; ipiv[n-1] is not read, as by ?getri) is checked by
 * getri_pivots after every other argument, so that an illegal argument of a kernel is rejected
 * before any memory is touched. */
static int getri_check(int n, const T *A, int lda, const int *ipiv) {
    if (n < 0) return -1;
    if (n > 0 && !A) return -2;
    if (lda < dl_max(1, n)) return -3;
    if (n > 0 && !ipiv) return -4;
    return 0;
}

static int getri_pivots(int n, const int *ipiv) {
    return dl_pivots_in_range(getri_pivot_count(n), ipiv, n) ? 0 : -4;
}

int FN(getri)(int n, T *A, int lda, const int *ipiv) {
    int rc = getri_check(n, A, lda, ipiv);
    if (!rc) rc = getri_pivots(n, ipiv);
    if (rc || n == 0) return rc;
    const int singular = IFN(first_zero_diagonal)(n, A, lda);
    if (singular) return singular; /* LAPACK checks first and leaves A unchanged */
    IFN(lu_inverse)(n, A, lda, ipiv);
    return 0;
}

/* Tangent of X = U^{-1} L^{-1} P^T with respect to the packed factors. With Y := X P =
 * U^{-1} L^{-1} and dA = P (dL U + L dU), dX = -X dA X gives
 *     dY = -Y (dL U + L dU) Y = -(Y E + F Y),  E = stril(dL) L^{-1},  F = U^{-1} triu(dU),
 * (UY = L^{-1}, YL = U^{-1}) and dX = dY P^T. E (strictly lower) and F (upper) replace dLU in
 * its own buffer by the structured solves, BEFORE the inverse overwrites LU (no copy of LU);
 * then Y E (exact strict product) and F Y are two trmm. 8/3 n^3 flops, 2 n^2 workspace. */
int FN(getri_fwd)(unsigned active, int n, T *A, int lda, const int *ipiv, T *dA, int ldda) {
    return IFN(getri_fwd_solving)(IFN(lu_inverse), active, n, A, lda, ipiv, dA, ldda);
}

int IFN(getri_fwd_solving)(IFN(getri_solver) invert, unsigned active, int n, T *A, int lda, const int *ipiv,
                           T *dA, int ldda) {
    int rc = getri_check(n, A, lda, ipiv);
    if (rc) return rc;
    const int act = (active & DL_ACTIVE_A) != 0;
    if (act && n > 0 && !dA) return -106;
    if (act && ldda < dl_max(1, n)) return -107;
    if ((rc = getri_pivots(n, ipiv))) return rc;
    if (n == 0) return 0;
    const int singular = IFN(first_zero_diagonal)(n, A, lda);
    if (singular) return singular; /* A unchanged: its tangent too */
    if (!act) {
        invert(n, A, lda, ipiv);
        return 0;
    }
    const size_t nn = (size_t)n * n;
    T *W = dl_alloc(2 * nn);
    if (!W) return DL_ERR_ALLOC;
    tri_rhs_solve(TRI_E, n, A, lda, dA, ldda, W);
    tri_rhs_solve(TRI_F, n, A, lda, dA, ldda, W);
    invert(n, A, lda, ipiv);
    T *YE = W, *FY = W + nn;
    BLAS(lacpy)("A", &n, &n, A, &lda, YE, &n);
    swap_columns(n, getri_pivot_count(n), YE, n, ipiv, 1); /* Y */
    memcpy(FY, YE, sizeof(T) * nn);
    IFN(trmm_tri)('R', 'L', 'N', 1, n, n, 1, dA, ldda, YE, n, YE, n);
    IFN(trmm_tri)('L', 'U', 'N', 0, n, n, 1, dA, ldda, FY, n, FY, n);
    for (int j = 0; j < n; ++j) {
        T *d = dA + (size_t)j * ldda;
        const T *e = YE + (size_t)j * n, *f = FY + (size_t)j * n;
        for (int i = 0; i < n; ++i) d[i] = -(e[i] + f[i]);
    }
    swap_columns(n, getri_pivot_count(n), dA, ldda, ipiv, 0);
    dl_free(W);
    return 0;
}

/* Adjoint of the tangent above (its conjugate transpose): with G := Xbar P and Y = X P,
 *     Lbar = -stril( stril(Y^H G) L^{-H} ),   Ubar = -triu( U^{-H} triu(G Y^H) ),
 * where G Y^H = Xbar X^H needs no interchange. Two triangle-only products (gemm_tri) and the
 * two structured solves: 8/3 n^3 flops, 2 n^2 workspace. Equals (tested) the closed form
 * Lbar = stril(P^T Abar U^H), Ubar = triu(L^H P^T Abar), Abar = -X^H Xbar X^H. */
int FN(getri_rev)(unsigned active, int n, const T *LU, int lda, const int *ipiv, const T *X, int ldx,
                  T *dA, int ldda) {
    int rc = getri_check(n, LU, lda, ipiv);
    if (rc) return rc;
    const int act = (active & DL_ACTIVE_A) != 0;
    if (act && n > 0 && !X) return -106;
    if (ldx < dl_max(1, n)) return -107;
    if (act && n > 0 && !dA) return -108;
    if (act && ldda < dl_max(1, n)) return -109;
    if ((rc = getri_pivots(n, ipiv))) return rc;
    if (!act || n == 0) return 0;
    const int singular = IFN(first_zero_diagonal)(n, LU, lda);
    if (singular) return singular; /* ?getri left the buffer unchanged: Xbar passes through */
    const size_t nn = (size_t)n * n;
    T *V = dl_alloc(2 * nn);
    if (!V) return DL_ERR_ALLOC;
    T *Y = V + nn;
    BLAS(laset)("A", &n, &n, &ZERO, &ZERO, V, &n);
    IFN(gemm_tri)('U', 0, 'N', 'C', n, n, 1, dA, ldda, X, ldx, V, n);  /* triu(Xbar X^H) */
    BLAS(lacpy)("A", &n, &n, X, &ldx, Y, &n);
    swap_columns(n, getri_pivot_count(n), Y, n, ipiv, 1);
    swap_columns(n, getri_pivot_count(n), dA, ldda, ipiv, 1);                                 /* G */
    IFN(gemm_tri)('L', 1, 'C', 'N', n, n, 1, Y, n, dA, ldda, V, n);     /* stril(Y^H G) */
    tri_rhs_solve(TRI_LBAR, n, LU, lda, V, n, NULL);
    tri_rhs_solve(TRI_UBAR, n, LU, lda, V, n, NULL);
    for (int j = 0; j < n; ++j) {
        T *d = dA + (size_t)j * ldda;
        const T *v = V + (size_t)j * n;
        for (int i = 0; i < n; ++i) d[i] = -v[i];
    }
    dl_free(V);
    return 0;
}

/* ============================================================ inv = getrf + getri */
static int inv_check(int n, const T *A, int lda, const int *ipiv) {
    if (n < 0) return -1;
    if (n > 0 && !A) return -2;
    if (lda < dl_max(1, n)) return -3;
    if (n > 0 && !ipiv) return -4;
    return 0;
}

static int factor(int n, T *A, int lda, int *ipiv) {
    int info = 0;
    BLAS(getrf)(&n, &n, A, &lda, ipiv, &info);
    return info;
}

int FN(inv)(int n, T *A, int lda, int *ipiv) {
    int rc = inv_check(n, A, lda, ipiv);
    if (rc || n == 0) return rc;
    const int info = factor(n, A, lda, ipiv);
    if (info == 0) IFN(lu_inverse)(n, A, lda, ipiv);
    return info;
}

/* dX = -X dA X (Giles 2008, sec. 2.2.3): two gemm after the primal (4 n^3 flops, n^2
 * workspace). Singular A: the buffer keeps the LU (?getri computes nothing), so dA becomes
 * the packed getrf tangent, exactly as ?getrf's rule gives it. */
int FN(inv_fwd)(unsigned active, int n, T *A, int lda, int *ipiv, T *dA, int ldda) {
    int rc = inv_check(n, A, lda, ipiv);
    if (rc) return rc;
    const int act = (active & DL_ACTIVE_A) != 0;
    if (act && n > 0 && !dA) return -106;
    if (act && ldda < dl_max(1, n)) return -107;
    if (n == 0) return 0;
    if (!act) return FN(inv)(n, A, lda, ipiv);
    T *W = dl_alloc((size_t)n * n);
    if (!W) return DL_ERR_ALLOC;
    const int info = factor(n, A, lda, ipiv);
    if (info) {
        dl_free(W);
        rc = IFN(lu_rule)(0, n, n, A, lda, ipiv, dA, ldda);
        return rc == DL_ERR_ALLOC ? rc : info;
    }
    IFN(lu_inverse)(n, A, lda, ipiv);
    BLAS(gemm)("N", "N", &n, &n, &n, &ONE, dA, &ldda, A, &lda, &ZERO, W, &n);
    BLAS(gemm)("N", "N", &n, &n, &n, &MINUS_ONE, A, &lda, W, &n, &ZERO, dA, &ldda);
    dl_free(W);
    return 0;
}

/* Abar = -X^H Xbar X^H (Giles 2008, sec. 3.2.3): two gemm, n^2 workspace. */
int FN(inv_rev)(unsigned active, int n, const T *X, int ldx, T *dA, int ldda) {
    if (n < 0) return -102;
    if (n > 0 && !X) return -103;
    if (ldx < dl_max(1, n)) return -104;
    const int act = (active & DL_ACTIVE_A) != 0;
    if (act && n > 0 && !dA) return -105;
    if (act && ldda < dl_max(1, n)) return -106;
    if (!act || n == 0) return 0;
    T *W = dl_alloc((size_t)n * n);
    if (!W) return DL_ERR_ALLOC;
    BLAS(gemm)("N", "C", &n, &n, &n, &ONE, dA, &ldda, X, &ldx, &ZERO, W, &n);
    BLAS(gemm)("C", "N", &n, &n, &n, &MINUS_ONE, X, &ldx, W, &n, &ZERO, dA, &ldda);
    dl_free(W);
    return 0;
}
