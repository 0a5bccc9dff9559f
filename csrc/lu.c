/* lu.c -- LU with partial pivoting (getrf), the solve with its factors (getrs) and the driver
 * (gesv): primal wrappers, tangent (fwd) and adjoint (rev) kernels, written once over the
 * element type T (compiled for s, d, c, z; see precision.h). The factorization's own derivative
 * map, which these and inverse.c / det.c share, is IFN(lu_rule) in lu_rule.c.
 *
 * Notation: A (m x n) = P L U, k = min(m, n); L is m x k unit lower trapezoidal, U is k x n
 * upper trapezoidal, both packed in one m x n array "LU" exactly as LAPACK's ?getrf leaves
 * them; P is the product of the row interchanges ipiv (1-based), applied with ?laswp:
 * laswp(incx = +1) computes P^T M, laswp(incx = -1) computes P M. The pivots are held fixed
 * (as the primal chose them): they carry no derivative. With pivots fixed the LU is a
 * holomorphic function of A, so for complex data the tangent recursion is the real one in
 * complex arithmetic and the adjoint is its conjugate transpose (zbar = dL/dRe z + i dL/dIm z).
 *
 * References: M. B. Giles, "An extended collection of matrix derivative results for forward
 * and reverse mode algorithmic differentiation" (2008), sec. 2.3.1/3.3; F. de Hoog,
 * R. Anderssen, M. Lukas, "Differentiation of matrix functionals using triangular
 * factorization", Math. Comp. 80 (2011); S. F. Walter, L. Lehmann, "Algorithmic
 * differentiation of linear algebra functions with application in optimum experimental
 * design" (2018), and S. Toledo, "Locality of reference in LU decomposition with partial
 * pivoting", SIAM J. Matrix Anal. Appl. 18 (1997) for the column-recursive LU.
 */
#include <stdint.h>
#include "precision.h"
#include "internal.h"

static const T ONE = 1, MINUS_ONE = -1, ZERO = 0;
static const int INC1 = 1;

#define AT(M, ld, i, j) ((M)[(size_t)(i) + (size_t)(j) * (size_t)(ld)])

/* ---------------------------------------------------------------- getrf */
/* ?getrf's checks (m 1, n 2, A 3, lda 4; ipiv 5 NULL). */
static int getrf_check(int m, int n, const T *A, int lda, const int *ipiv) {
    if (m < 0) return -1;
    if (n < 0) return -2;
    const int empty = m == 0 || n == 0;
    if (!empty && !A) return -3;
    if (lda < dl_max(1, m)) return -4;
    if (!empty && !ipiv) return -5;
    return 0;
}

static int getrf_call(int m, int n, T *A, int lda, int *ipiv) {
    int info = 0;
    if (m > 0 && n > 0) BLAS(getrf)(&m, &n, A, &lda, ipiv, &info);
    return info;
}

int FN(getrf)(int m, int n, T *A, int lda, int *ipiv) {
    int rc = getrf_check(m, n, A, lda, ipiv);
    return rc ? rc : getrf_call(m, n, A, lda, ipiv);
}

/* dLU = packed [stril(dL) + triu(dU)] with P^T dA = dL U + L dU, by the recursion above.
 * Returns LAPACK's info. */
int FN(getrf_fwd)(unsigned active, int m, int n, T *A, int lda, int *ipiv, T *dA, int ldda) {
    int rc = getrf_check(m, n, A, lda, ipiv);
    if (rc) return rc;
    const int act_A = (active & DL_ACTIVE_A) != 0;
    if (act_A && m > 0 && n > 0 && !dA) return -107;
    if (act_A && ldda < dl_max(1, m)) return -108;
    const int info = getrf_call(m, n, A, lda, ipiv);
    if (!act_A) return info;
    rc = IFN(lu_rule)(0, m, n, A, lda, ipiv, dA, ldda);
    return rc == DL_ERR_ALLOC ? rc : info;
}

/* Abar = P Tbar, Tbar = the adjoint recursion applied to the packed LUbar (see above).
 * Returns 0, or the 1-based position of the first zero pivot the derivative divides by. */
int FN(getrf_rev)(unsigned active, int m, int n, const T *LU, int lda, const int *ipiv, T *dLU,
                  int lddlu) {
    int rc = getrf_check(m, n, LU, lda, ipiv);
    if (rc) return rc;
    const int act_A = (active & DL_ACTIVE_A) != 0;
    if (act_A && m > 0 && n > 0 && !dLU) return -107;
    if (act_A && lddlu < dl_max(1, m)) return -108;
    /* the only check that reads memory comes last: no array is touched on any other error */
    if (!dl_pivots_in_range(dl_min(m, n), ipiv, m)) return -5;
    if (!act_A) return 0;
    return IFN(lu_rule)(1, m, n, LU, lda, ipiv, dLU, lddlu);
}

/* ---------------------------------------------------------------- getrs */
/* ?getrs's checks (trans 1, n 2, nrhs 3, A 4, lda 5, ipiv 6, B 7, ldb 8). need_B: whether B
 * is read (an adjoint reads the solution X only for the factors' cotangent). No array is read
 * here: the pivots' range (getrs_pivots) is checked after every other argument, so that an
 * illegal size or leading dimension is rejected before any memory is touched. */
static int getrs_check(char trans, int n, int nrhs, const T *LU, int lda, const int *ipiv,
                       const T *B, int need_B, int ldb) {
    if (!dl_flag(trans, "NTC")) return -1;
    if (n < 0) return -2;
    if (nrhs < 0) return -3;
    if (n > 0 && !LU) return -4;
    if (lda < dl_max(1, n)) return -5;
    if (n > 0 && !ipiv) return -6;
    if (need_B && n > 0 && nrhs > 0 && !B) return -7;
    if (ldb < dl_max(1, n)) return -8;
    return 0;
}

/* -6 if an ipiv entry lies outside 1..n (?laswp would leave the array); the last check. */
static int getrs_pivots(int n, const int *ipiv) { return dl_pivots_in_range(n, ipiv, n) ? 0 : -6; }

/* The op letter: 'C' stays 'C' for complex data only. */
static char parse_trans(char trans) {
    char t = dl_flag(trans, "NTC");
    return !DL_IS_COMPLEX && t == 'C' ? 'T' : t;
}

/* ?getrs. One right-hand side with trans N is ?getrs's own sequence (?laswp, ?trsv L, ?trsv U:
 * the same kernels OpenBLAS runs) with the ?trsv that never reads past the end of B (see
 * IFN(trsv) in internal.h). */
static void getrs_call(char trans, int n, int nrhs, const T *LU, int lda, const int *ipiv, T *B,
                       int ldb) {
    int info = 0;
    if (DL_IS_COMPLEX && nrhs == 1 && trans == 'N') {
        IFN(swap_rows_forward)(1, B, ldb, n, ipiv);
        IFN(trsv)('L', 'N', 'U', n, LU, lda, B, 1);
        IFN(trsv)('U', 'N', 'N', n, LU, lda, B, 1);
        return;
    }
    BLAS(getrs)(&trans, &n, &nrhs, LU, &lda, ipiv, B, &ldb, &info);
}

int FN(getrs)(char trans, int n, int nrhs, const T *LU, int lda, const int *ipiv, T *B, int ldb) {
    int rc = getrs_check(trans, n, nrhs, LU, lda, ipiv, B, 1, ldb);
    if (!rc) rc = getrs_pivots(n, ipiv);
    if (rc) return rc;
    if (n == 0 || nrhs == 0) return 0;
    getrs_call(parse_trans(trans), n, nrhs, LU, lda, ipiv, B, ldb);
    return IFN(first_zero_diagonal)(n, LU, lda);
}

/* B := op(Tr) B for the n x nrhs blocks of the solves; one right-hand side goes to trmv (see
 * IFN(tri_solve)). */
static void tri_mult(char uplo, char trans, char diag, int n, int nrhs, const T *Tr, int ldt,
                     T *B, int ldb) {
    if (nrhs == 1)
        BLAS(trmv)(&uplo, &trans, &diag, &n, Tr, &ldt, B, &INC1);
    else
        BLAS(trmm)("L", &uplo, &trans, &diag, &n, &nrhs, &ONE, Tr, &ldt, B, &ldb);
}

/* W := X (n x nrhs) into a packed workspace, optionally conjugated. */
static void copy_block(int n, int nrhs, const T *X, int ldx, T *W, int conj) {
    if (conj)
        IFN(copy_conj)(n, nrhs, X, ldx, W);
    else
        BLAS(lacpy)("A", &n, &nrhs, X, &ldx, W, &n);
}

/* M := M - V (n x nrhs, V packed with ld n). */
static void subtract_block(int n, int nrhs, const T *V, T *M, int ldm) {
    for (int j = 0; j < nrhs; ++j)
        BLAS(axpy)(&n, &MINUS_ONE, V + (size_t)j * n, &INC1, M + (size_t)j * ldm, &INC1);
}

/* Tangent of X = op(A)^{-1} B with A = P L U, dA = P (dL U + L dU) (Giles 2008, sec. 2.3.1:
 * dX = op(A)^{-1} (dB - op(dA) X)), expanded so that only triangular solves with L and U
 * and products with the packed tangent appear (op = T or C in the second form):
 *   trans N: dX = U^{-1} [ L^{-1} (P^T dB - stril(dL) (U X)) - triu(dU) X ]
 *   trans T: dX = P op(L)^{-1} [ op(U)^{-1} (dB - op(triu(dU)) op(L) X') - op(stril(dL)) X' ],
 *            X' = P^T X
 * (stril(dL) Z by trmm_tri on the strict triangle: exact, no unit(dL) Z - Z cancellation). */
int FN(getrs_fwd)(unsigned active, char trans, int n, int nrhs, const T *LU, int lda,
                  const T *dLU, int lddlu, const int *ipiv, T *B, int ldb, T *dB, int lddb) {
    return IFN(getrs_fwd_solving)(getrs_call, active, trans, n, nrhs, LU, lda, dLU, lddlu, ipiv, B, ldb, dB, lddb);
}

int IFN(getrs_fwd_solving)(IFN(getrs_solver) solve, unsigned active, char trans, int n, int nrhs,
                           const T *LU, int lda, const T *dLU, int lddlu, const int *ipiv, T *B,
                           int ldb, T *dB, int lddb) {
    int rc = getrs_check(trans, n, nrhs, LU, lda, ipiv, B, 1, ldb);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, any = (active & (DL_ACTIVE_A | DL_ACTIVE_B)) != 0;
    const int empty = n == 0 || nrhs == 0;
    if (a_on && n > 0 && !dLU) return -107;
    if (a_on && lddlu < dl_max(1, n)) return -108;
    if (any && !empty && !dB) return -112;
    if (any && lddb < dl_max(1, n)) return -113;
    if ((rc = getrs_pivots(n, ipiv))) return rc;
    if (empty) return 0;
    trans = parse_trans(trans);
    solve(trans, n, nrhs, LU, lda, ipiv, B, ldb);
    const int singular = IFN(first_zero_diagonal)(n, LU, lda);
    if (!any) return singular;
    if (!(active & DL_ACTIVE_B)) BLAS(laset)("A", &n, &nrhs, &ZERO, &ZERO, dB, &lddb);
    if (!a_on) {
        getrs_call(trans, n, nrhs, LU, lda, ipiv, dB, lddb);
        return singular;
    }
    T *W = dl_alloc((size_t)n * nrhs);
    if (!W) return DL_ERR_ALLOC;
    const T *X = B;
    if (trans == 'N') {
        IFN(swap_rows_forward)(nrhs, dB, lddb, n, ipiv);
        copy_block(n, nrhs, X, ldb, W, 0);
        tri_mult('U', 'N', 'N', n, nrhs, LU, lda, W, n); /* W = U X */
        IFN(trmm_tri)('L', 'L', 'N', 1, n, nrhs, 1, dLU, lddlu, W, n, W, n);
        subtract_block(n, nrhs, W, dB, lddb); /* dB -= stril(dL) U X */
        IFN(tri_solve)('L', 'N', 'U', n, nrhs, LU, lda, dB, lddb);
        copy_block(n, nrhs, X, ldb, W, 0);
        tri_mult('U', 'N', 'N', n, nrhs, dLU, lddlu, W, n);
        subtract_block(n, nrhs, W, dB, lddb); /* dB -= triu(dU) X */
        IFN(tri_solve)('U', 'N', 'N', n, nrhs, LU, lda, dB, lddb);
    } else {
        copy_block(n, nrhs, X, ldb, W, 0);
        IFN(swap_rows_forward)(nrhs, W, n, n, ipiv); /* X' */
        tri_mult('L', trans, 'U', n, nrhs, LU, lda, W, n);
        tri_mult('U', trans, 'N', n, nrhs, dLU, lddlu, W, n);
        subtract_block(n, nrhs, W, dB, lddb); /* dB -= op(triu(dU)) op(L) X' */
        IFN(tri_solve)('U', trans, 'N', n, nrhs, LU, lda, dB, lddb);
        copy_block(n, nrhs, X, ldb, W, 0);
        IFN(swap_rows_forward)(nrhs, W, n, n, ipiv);
        IFN(trmm_tri)('L', 'L', trans, 1, n, nrhs, 1, dLU, lddlu, W, n, W, n);
        subtract_block(n, nrhs, W, dB, lddb); /* dB -= op(stril(dL)) X' */
        IFN(tri_solve)('L', trans, 'U', n, nrhs, LU, lda, dB, lddb);
        IFN(swap_rows_backward)(nrhs, dB, lddb, n, ipiv);
    }
    dl_free(W);
    return singular;
}

/* Adjoint of X = op(A)^{-1} B (Giles 2008, sec. 3.3: Bbar = op(A)^{-H} Xbar, and with
 * M = op(A), Mbar = -Bbar X^H, Abar = Mbar, Mbar^T or Mbar^H), pulled back through A = P L U
 * (dA = P (dL U + L dU)  =>  Lbar = stril(P^T Abar U^H), Ubar = triu(L^H P^T Abar)):
 *   trans N: Y1 = U^{-H} Xbar, Y2 = L^{-H} Y1, Bbar = P Y2,
 *            Lbar += -stril(Y2 (U X)^H),  Ubar += -triu(Y1 X^H);
 *   trans C: Y1 = L^{-1} P^T Xbar, Bbar = U^{-1} Y1, X' = P^T X,
 *            Lbar += -stril(X' Y1^H),     Ubar += -triu((L^H X') Bbar^H);
 *   trans T: for real data the C case; for complex data A^{-T} = conj(conj(A)^{-H}), so the C
 *            case runs on conj(Xbar) with conj(X') in place of X', and Bbar is conjugated at
 *            the end.
 * Triangle-only products (gemm_tri) touch nothing outside the triangle they update. An
 * all-zero Xbar with a zero pivot contributes exactly zero. */
int FN(getrs_rev)(unsigned active, char trans, int n, int nrhs, const T *LU, int lda, T *dLU,
                  int lddlu, const int *ipiv, const T *X, int ldx, T *dB, int lddb) {
    int rc = getrs_check(trans, n, nrhs, LU, lda, ipiv, X, (active & DL_ACTIVE_A) != 0, ldx);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, any = (active & (DL_ACTIVE_A | DL_ACTIVE_B)) != 0;
    const int empty = n == 0 || nrhs == 0;
    if (a_on && n > 0 && !dLU) return -107;
    if (a_on && lddlu < dl_max(1, n)) return -108;
    if (any && !empty && !dB) return -112;
    if (any && lddb < dl_max(1, n)) return -113;
    if ((rc = getrs_pivots(n, ipiv))) return rc;
    if (empty || !any) return 0;
    trans = parse_trans(trans);
    const int singular = IFN(first_zero_diagonal)(n, LU, lda);
    if (singular && IFN(all_zero)(n, nrhs, dB, lddb)) return singular;
    if (!a_on) {
        if (dl_adjoint_needs_conj(trans)) {
            IFN(conj_matrix)(n, nrhs, dB, lddb);
            getrs_call('N', n, nrhs, LU, lda, ipiv, dB, lddb);
            IFN(conj_matrix)(n, nrhs, dB, lddb);
        } else {
            getrs_call(dl_adjoint_op(trans), n, nrhs, LU, lda, ipiv, dB, lddb);
        }
        return singular;
    }
    T *W = dl_alloc((size_t)n * nrhs);
    if (!W) return DL_ERR_ALLOC;
    if (trans == 'N') {
        const char adj = dl_adjoint_op('N');
        IFN(tri_solve)('U', adj, 'N', n, nrhs, LU, lda, dB, lddb); /* Y1 */
        IFN(gemm_tri)('U', 0, 'N', 'C', n, nrhs, -1, dB, lddb, X, ldx, dLU, lddlu);
        IFN(tri_solve)('L', adj, 'U', n, nrhs, LU, lda, dB, lddb); /* Y2 */
        copy_block(n, nrhs, X, ldx, W, 0);
        tri_mult('U', 'N', 'N', n, nrhs, LU, lda, W, n); /* U X */
        IFN(gemm_tri)('L', 1, 'N', 'C', n, nrhs, -1, dB, lddb, W, n, dLU, lddlu);
        IFN(swap_rows_backward)(nrhs, dB, lddb, n, ipiv);
    } else {
        const int conj_data = dl_adjoint_needs_conj(trans);
        copy_block(n, nrhs, X, ldx, W, 0);
        IFN(swap_rows_forward)(nrhs, W, n, n, ipiv); /* X' */
        if (conj_data) {
            IFN(conj_matrix)(n, nrhs, W, n);
            IFN(conj_matrix)(n, nrhs, dB, lddb);
        }
        IFN(swap_rows_forward)(nrhs, dB, lddb, n, ipiv);
        IFN(tri_solve)('L', 'N', 'U', n, nrhs, LU, lda, dB, lddb); /* Y1 */
        IFN(gemm_tri)('L', 1, 'N', 'C', n, nrhs, -1, W, n, dB, lddb, dLU, lddlu);
        IFN(tri_solve)('U', 'N', 'N', n, nrhs, LU, lda, dB, lddb); /* Bbar (conjugated for T) */
        tri_mult('L', 'C', 'U', n, nrhs, LU, lda, W, n); /* L^H X' */
        IFN(gemm_tri)('U', 0, 'N', 'C', n, nrhs, -1, W, n, dB, lddb, dLU, lddlu);
        if (conj_data) IFN(conj_matrix)(n, nrhs, dB, lddb);
    }
    dl_free(W);
    return singular;
}

/* ---------------------------------------------------------------- gesv */
/* ?gesv's checks (n 1, nrhs 2, A 3, lda 4, ipiv 5, B 6, ldb 7). need_B: whether B is read
 * (the adjoint reads the solution X only for A's cotangent). */
static int gesv_check(int n, int nrhs, const T *A, int lda, const int *ipiv, const T *B, int need_B,
                      int ldb) {
    if (n < 0) return -1;
    if (nrhs < 0) return -2;
    if (n > 0 && !A) return -3;
    if (lda < dl_max(1, n)) return -4;
    if (n > 0 && !ipiv) return -5;
    if (need_B && n > 0 && nrhs > 0 && !B) return -6;
    if (ldb < dl_max(1, n)) return -7;
    return 0;
}

/* ?getrf + ?getrs, as reference LAPACK's ?gesv: OpenBLAS's dgesv returns before factoring
 * when nrhs == 0, which would leave A and ipiv unset for the derivative kernels. Singular A
 * (info > 0): B is left unchanged, as LAPACK leaves it. */
static int gesv_call(int n, int nrhs, T *A, int lda, int *ipiv, T *B, int ldb) {
    const int info = getrf_call(n, n, A, lda, ipiv);
    if (info == 0 && n > 0 && nrhs > 0) getrs_call('N', n, nrhs, A, lda, ipiv, B, ldb);
    return info;
}

int FN(gesv)(int n, int nrhs, T *A, int lda, int *ipiv, T *B, int ldb) {
    int rc = gesv_check(n, nrhs, A, lda, ipiv, B, 1, ldb);
    if (rc) return rc;
    return gesv_call(n, nrhs, A, lda, ipiv, B, ldb);
}

/* dX = A^{-1} (dB - dA X) (Giles 2008, sec. 2.3.1) with the factors of the primal solve and
 * the ORIGINAL dA (one gemm + one getrs); dLU by the getrf tangent only if DL_WANT_DLU. A
 * singular A leaves B unchanged, so then dB keeps its tangent. */
int FN(gesv_fwd)(unsigned active, int n, int nrhs, T *A, int lda, T *dA, int ldda, int *ipiv,
                 T *B, int ldb, T *dB, int lddb) {
    int rc = gesv_check(n, nrhs, A, lda, ipiv, B, 1, ldb);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, b_on = (active & DL_ACTIVE_B) != 0;
    const int solve = n > 0 && nrhs > 0;
    if (a_on && n > 0 && !dA) return -106;
    if (a_on && ldda < dl_max(1, n)) return -107;
    if ((a_on || b_on) && solve && !dB) return -111;
    if ((a_on || b_on) && lddb < dl_max(1, n)) return -112;
    const int info = gesv_call(n, nrhs, A, lda, ipiv, B, ldb);
    if (n == 0 || !(a_on || b_on)) return info;
    if (solve) {
        if (info > 0) {
            if (!b_on) BLAS(laset)("A", &n, &nrhs, &ZERO, &ZERO, dB, &lddb);
        } else {
            if (a_on)
                BLAS(gemm)("N", "N", &n, &nrhs, &n, &MINUS_ONE, dA, &ldda, B, &ldb, b_on ? &ONE : &ZERO,
                           dB, &lddb);
            else if (!b_on)
                BLAS(laset)("A", &n, &nrhs, &ZERO, &ZERO, dB, &lddb);
            getrs_call('N', n, nrhs, A, lda, ipiv, dB, lddb);
        }
    }
    if (a_on && (active & DL_WANT_DLU)) {
        rc = IFN(lu_rule)(0, n, n, A, lda, ipiv, dA, ldda);
        if (rc == DL_ERR_ALLOC) return rc;
    }
    return info;
}

/* Bbar = A^{-H} Xbar (one getrs 'C'), Abar = -Bbar X^H (Giles 2008, sec. 3.3; one gemm, or
 * gerc for one right-hand side) plus the getrf adjoint of LUbar when LUbar != 0. With a zero
 * U(i,i) LAPACK left B unchanged: Bbar = Xbar and Abar is the getrf adjoint of LUbar alone. */
int FN(gesv_rev)(unsigned active, int n, int nrhs, const T *LU, int lda, const int *ipiv, T *dA,
                 int ldda, const T *X, int ldx, T *dB, int lddb) {
    int rc = gesv_check(n, nrhs, LU, lda, ipiv, X, (active & DL_ACTIVE_A) != 0, ldx);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, any = (active & (DL_ACTIVE_A | DL_ACTIVE_B)) != 0;
    if (a_on && n > 0 && !dA) return -107;
    if (a_on && ldda < dl_max(1, n)) return -108;
    if (any && n > 0 && nrhs > 0 && !dB) return -111;
    if (any && lddb < dl_max(1, n)) return -112;
    /* the only check that reads memory comes last: no array is touched on any other error */
    if (!dl_pivots_in_range(n, ipiv, n)) return -5;
    if (n == 0 || !any) return 0;
    const int singular = IFN(first_zero_diagonal)(n, LU, lda);
    const int solved = !singular && nrhs > 0;
    if (solved) getrs_call(dl_adjoint_op('N'), n, nrhs, LU, lda, ipiv, dB, lddb);
    if (a_on) {
        rc = IFN(gesv_matrix_adjoint)(n, solved ? nrhs : 0, LU, lda, ipiv, dA, ldda, X, ldx, dB, lddb);
        if (rc == DL_ERR_ALLOC) return rc;
    }
    return singular;
}

int IFN(getrf_tangent)(int m, int n, const T *LU, int lda, const int *ipiv, T *dA, int ldda) {
    return IFN(lu_rule)(0, m, n, LU, lda, ipiv, dA, ldda);
}

int IFN(gesv_matrix_adjoint)(int n, int nrhs, const T *LU, int lda, const int *ipiv, T *dA, int ldda,
                             const T *X, int ldx, const T *Bbar, int ldbb) {
    const int lubar_zero = IFN(all_zero)(n, n, dA, ldda);
    int rc = 0;
    if (!lubar_zero) {
        rc = IFN(lu_rule)(1, n, n, LU, lda, ipiv, dA, ldda);
        if (rc == DL_ERR_ALLOC) return rc;
    }
    if (nrhs == 0) return rc;
    if (nrhs == 1) { /* dA is zero or already holds the getrf part: accumulate */
        GERC(&n, &n, &MINUS_ONE, Bbar, &INC1, X, &INC1, dA, &ldda);
    } else {
        BLAS(gemm)("N", "C", &n, &n, &nrhs, &MINUS_ONE, Bbar, &ldbb, X, &ldx, lubar_zero ? &ZERO : &ONE,
                   dA, &ldda);
    }
    return rc;
}
