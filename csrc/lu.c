/* lu.c -- LU with partial pivoting (getrf), the solve with its factors (getrs) and the driver
 * (gesv): primal wrappers, tangent (fwd) and adjoint (rev) kernels.
 *
 * Notation: A (m x n) = P L U, k = min(m, n); L is m x k unit lower trapezoidal, U is k x n
 * upper trapezoidal, both packed in one m x n array "LU" exactly as LAPACK's dgetrf leaves
 * them; P is the product of the row interchanges ipiv (1-based), applied with dlaswp:
 * dlaswp(incx = +1) computes P^T M, dlaswp(incx = -1) computes P M. The pivots are held
 * fixed (as the primal chose them): they carry no derivative.
 *
 * References: M. B. Giles, "An extended collection of matrix derivative results for forward
 * and reverse mode algorithmic differentiation" (2008), sec. 2.3.1/3.3; F. de Hoog,
 * R. Anderssen, M. Lukas, "Differentiation of matrix functionals using triangular
 * factorization", Math. Comp. 80 (2011); S. F. Walter, L. Lehmann, "Algorithmic
 * differentiation of linear algebra functions with application in optimum experimental
 * design" (2018), and S. Toledo, "Locality of reference in LU decomposition with partial
 * pivoting", SIAM J. Matrix Anal. Appl. 18 (1997) for the column-recursive LU.
 */
#include <math.h>
#include <stdint.h>
#include "internal.h"

/* Width of the panels the recursions below hand to a plain loop. The loop costs
 * ~2 m n PANEL flops in total; recursing further costs BLAS calls on tiny operands. */
#ifndef LU_PANEL
#define LU_PANEL 8
#endif

static const double ONE = 1.0, MINUS_ONE = -1.0, ZERO = 0.0;
static const int INC1 = 1, DEC1 = -1;

#define AT(M, ld, i, j) ((M)[(size_t)(i) + (size_t)(j) * (size_t)(ld)])

/* 1-based position of the first pivot the LU derivative divides by that is exactly zero,
 * else 0. Column j of L (rows j+1..m-1) is scaled by 1/U(j,j), so only j < min(k, m-1)
 * matter: a zero last pivot of a square (or wide) matrix leaves the derivative defined. */
static int lu_derivative_breakdown(int m, int n, const double *LU, int lda) {
    int k = dl_min(m, n), last = dl_min(k, m - 1);
    for (int j = 0; j < last; ++j)
        if (AT(LU, lda, j, j) == 0.0) return j + 1;
    return 0;
}

/* 1-based position of the first exactly zero U(i,i) of an n x n factorisation, else 0. */
static int first_zero_diagonal(int n, const double *LU, int lda) {
    for (int i = 0; i < n; ++i)
        if (AT(LU, lda, i, i) == 0.0) return i + 1;
    return 0;
}

/* 1 if every pivot lies in 1..rows (what dlaswp needs to stay inside the array). */
static int pivots_in_range(int count, const int *ipiv, int rows) {
    for (int i = 0; i < count; ++i)
        if (ipiv[i] < 1 || ipiv[i] > rows) return 0;
    return 1;
}

static void swap_rows_forward(int ncols, double *M, int ldm, int k, const int *ipiv) {
    if (ncols > 0 && k > 0) dlaswp_(&ncols, M, &ldm, &INC1, &k, ipiv, &INC1);
}
static void swap_rows_backward(int ncols, double *M, int ldm, int k, const int *ipiv) {
    if (ncols > 0 && k > 0) dlaswp_(&ncols, M, &ldm, &INC1, &k, ipiv, &DEC1);
}

/* ===================================================================== getrf tangent ===
 * With the pivots fixed, P^T A = L U has the tangent T := P^T dA = dL U + L dU. Partition
 * columns as [1 | 2] with k1 columns on the left (m >= n):
 *   [T11 T12]   [dL11 0][U11 U12]   [L11  0 ][dU11 dU12]
 *   [T21 T22] = [dL21 .][ 0  U22] + [L21 L22][ 0   dU22]
 * so the left block column is the tangent of the m x k1 LU (recursion), then
 *   dU12 = L11^{-1} (T12 - dL11 U12),
 *   T22 - dL21 U12 - L21 dU12 = dL22 U22 + L22 dU22   (the tangent of the Schur complement's
 * LU: recursion). Each step overwrites T in place with the packed (dL strict lower, dU
 * upper), mostly in two large gemms: ~ n^3 flops for a square matrix (Toledo's recursion,
 * differentiated). A wide matrix (m < n) is its m x m left block plus
 *   dU_R = L^{-1} (T_R - dL U_R).
 */

/* m x nb panel (m >= nb) by the same recursion split one column at a time:
 * column j: dL(j+1:, j) = (T(j+1:, j) - L(j+1:, j) dU(j,j)) / U(j,j); then the trailing
 * columns lose dL(:, j) U(j, :) + L(:, j) dU(j, :). */
static void lu_tangent_panel(int m, int nb, const double *LU, int lda, double *T, int ldt) {
    for (int j = 0; j < nb; ++j) {
        const double *l = &AT(LU, lda, 0, j);
        double *t = &AT(T, ldt, 0, j);
        const double ujj = AT(LU, lda, j, j), tjj = t[j];
        for (int i = j + 1; i < m; ++i) t[i] = (t[i] - l[i] * tjj) / ujj;
        for (int c = j + 1; c < nb; ++c) {
            double *tc = &AT(T, ldt, 0, c);
            const double ujc = AT(LU, lda, j, c), tjc = tc[j];
            for (int i = j + 1; i < m; ++i) tc[i] -= t[i] * ujc + l[i] * tjc;
        }
    }
}

/* T12 := T12 - stril(T11) U12. The product is formed exactly (dl_trmm_tri on the strict
 * triangle), not as unit(T11) U12 - U12, which cancels and would lose the relative accuracy of
 * a small tangent (derivatives must scale linearly with it). W: workspace for k1 x n2. */
static void subtract_stril_times(int k1, int n2, const double *T11, int ldt, const double *U12,
                                 int lda, double *T12, double *W) {
    dl_trmm_tri('L', 'L', 'N', 1, k1, n2, 1.0, T11, ldt, U12, lda, W, k1);
    for (int j = 0; j < n2; ++j) {
        double *t = T12 + (size_t)j * ldt;
        const double *w = W + (size_t)j * k1;
        for (int i = 0; i < k1; ++i) t[i] -= w[i];
    }
}

static void lu_tangent_tall(int m, int n, const double *LU, int lda, double *T, int ldt,
                            double *W) {
    if (n <= LU_PANEL) {
        lu_tangent_panel(m, n, LU, lda, T, ldt);
        return;
    }
    const int k1 = n / 2, n2 = n - k1, m2 = m - k1;
    const double *U12 = LU + (size_t)k1 * lda, *L21 = LU + k1, *LU22 = U12 + k1;
    double *T12 = T + (size_t)k1 * ldt, *T21 = T + k1, *T22 = T12 + k1;
    lu_tangent_tall(m, k1, LU, lda, T, ldt, W);
    subtract_stril_times(k1, n2, T, ldt, U12, lda, T12, W);
    dtrsm_("L", "L", "N", "U", &k1, &n2, &ONE, LU, &lda, T12, &ldt);
    dgemm_("N", "N", &m2, &n2, &k1, &MINUS_ONE, T21, &ldt, U12, &lda, &ONE, T22, &ldt);
    dgemm_("N", "N", &m2, &n2, &k1, &MINUS_ONE, L21, &lda, T12, &ldt, &ONE, T22, &ldt);
    lu_tangent_tall(m2, n2, LU22, lda, T22, ldt, W);
}

/* Workspace (doubles) of lu_tangent / lu_adjoint for an m x n factorisation. */
static size_t lu_rule_workspace(int m, int n) {
    int k = dl_min(m, n);
    size_t square = (size_t)(k / 2) * (size_t)(k - k / 2);
    size_t wide = m < n ? (size_t)m * (size_t)(n - m) : 0;
    return square > wide ? square : wide;
}

/* T: on entry P^T dA, on exit the packed tangent (dL strict lower, dU upper). */
static void lu_tangent(int m, int n, const double *LU, int lda, double *T, int ldt, double *W) {
    if (m >= n) {
        lu_tangent_tall(m, n, LU, lda, T, ldt, W);
        return;
    }
    const int nr = n - m;
    double *TR = T + (size_t)m * ldt;
    const double *UR = LU + (size_t)m * lda;
    lu_tangent_tall(m, m, LU, lda, T, ldt, W);
    subtract_stril_times(m, nr, T, ldt, UR, lda, TR, W);
    dtrsm_("L", "L", "N", "U", &m, &nr, &ONE, LU, &lda, TR, &ldt);
}

/* ===================================================================== getrf adjoint ===
 * The exact transpose of lu_tangent, its steps in reverse order, on Tbar = the packed
 * cotangent (Lbar strict lower, Ubar upper). Transposing the block step (m >= n):
 *   Schur complement:  recursion on Tbar22, then Tbar21 -= Tbar22 U12^T,
 *                      Tbar12 -= L21^T Tbar22;
 *   dU12 step:         G = L11^{-T} Tbar12, Tbar12 := G, Tbar11 -= stril(G U12^T);
 *   left block column: recursion on Tbar(:, 1:k1).
 * At the end Tbar = P^T Abar, so Abar = P Tbar. This equals the closed form
 * Abar = P L^{-T} [stril(L^T Lbar) + triu(Ubar U^T)] U^{-T} of Giles (2008) / Walter &
 * Lehmann (2018) for square A, without its two full triangular solves.
 */
static void lu_adjoint_panel(int m, int nb, const double *LU, int lda, double *Tb, int ldt) {
    for (int j = nb - 1; j >= 0; --j) {
        const double *l = &AT(LU, lda, 0, j);
        double *t = &AT(Tb, ldt, 0, j);
        for (int c = j + 1; c < nb; ++c) {
            double *tc = &AT(Tb, ldt, 0, c);
            const double ujc = AT(LU, lda, j, c);
            double s = 0.0;
            for (int i = j + 1; i < m; ++i) {
                t[i] -= tc[i] * ujc;
                s += l[i] * tc[i];
            }
            tc[j] -= s;
        }
        const double ujj = AT(LU, lda, j, j);
        double s = 0.0;
        for (int i = j + 1; i < m; ++i) {
            t[i] /= ujj;
            s += l[i] * t[i];
        }
        t[j] -= s;
    }
}

static void lu_adjoint_tall(int m, int n, const double *LU, int lda, double *Tb, int ldt) {
    if (n <= LU_PANEL) {
        lu_adjoint_panel(m, n, LU, lda, Tb, ldt);
        return;
    }
    const int k1 = n / 2, n2 = n - k1, m2 = m - k1;
    const double *U12 = LU + (size_t)k1 * lda, *L21 = LU + k1, *LU22 = U12 + k1;
    double *T12 = Tb + (size_t)k1 * ldt, *T21 = Tb + k1, *T22 = T12 + k1;
    lu_adjoint_tall(m2, n2, LU22, lda, T22, ldt);
    dgemm_("N", "T", &m2, &k1, &n2, &MINUS_ONE, T22, &ldt, U12, &lda, &ONE, T21, &ldt);
    dgemm_("T", "N", &k1, &n2, &m2, &MINUS_ONE, L21, &lda, T22, &ldt, &ONE, T12, &ldt);
    dtrsm_("L", "L", "T", "U", &k1, &n2, &ONE, LU, &lda, T12, &ldt);
    dl_gemm_tri('L', 1, 'N', 'T', k1, n2, -1.0, T12, ldt, U12, lda, Tb, ldt);
    lu_adjoint_tall(m, k1, LU, lda, Tb, ldt);
}

/* Tbar: on entry the packed cotangent, on exit P^T Abar. */
static void lu_adjoint(int m, int n, const double *LU, int lda, double *Tb, int ldt) {
    if (m < n) {
        const int nr = n - m;
        double *TR = Tb + (size_t)m * ldt;
        const double *UR = LU + (size_t)m * lda;
        dtrsm_("L", "L", "T", "U", &m, &nr, &ONE, LU, &lda, TR, &ldt);
        dl_gemm_tri('L', 1, 'N', 'T', m, nr, -1.0, TR, ldt, UR, lda, Tb, ldt);
        n = m;
    }
    lu_adjoint_tall(m, n, LU, lda, Tb, ldt);
}

/* Both rules on the caller's buffer D (m x n, ldd): tangent: D = dA in, packed dLU out;
 * adjoint: D = packed LUbar in, Abar out. Returns 0, the breakdown position (D := NaN), or
 * DL_ERR_ALLOC. */
static int lu_rule(int adjoint, int m, int n, const double *LU, int lda, const int *ipiv,
                   double *D, int ldd) {
    const int k = dl_min(m, n);
    if (k == 0) return 0;
    int bad = lu_derivative_breakdown(m, n, LU, lda);
    if (bad) {
        dl_fill_nan(m, n, D, ldd);
        return bad;
    }
    if (adjoint) {
        lu_adjoint(m, n, LU, lda, D, ldd);
        swap_rows_backward(n, D, ldd, k, ipiv);
        return 0;
    }
    double *W = dl_alloc(lu_rule_workspace(m, n));
    if (!W) return DL_ERR_ALLOC;
    swap_rows_forward(n, D, ldd, k, ipiv);
    lu_tangent(m, n, LU, lda, D, ldd, W);
    dl_free(W);
    return 0;
}

/* ---------------------------------------------------------------- getrf */
int dl_dgetrf(int m, int n, double *A, int lda, int *ipiv) {
    if (m < 0) return -1;
    if (n < 0) return -2;
    if (lda < dl_max(1, m)) return -4;
    int info = 0;
    dgetrf_(&m, &n, A, &lda, ipiv, &info);
    return info;
}

/* dLU = packed [stril(dL) + triu(dU)] with P^T dA = dL U + L dU, by the recursion above.
 * Returns LAPACK's info. If a pivot the derivative divides by is zero (U(j,j) == 0 with
 * j < min(m, n) and j < m - 1), dA := NaN; a zero last pivot leaves dA finite. */
int dl_dgetrf_fwd(unsigned active, int m, int n, double *A, int lda, int *ipiv, double *dA,
                  int ldda) {
    if (m < 0) return -1;
    if (n < 0) return -2;
    if (lda < dl_max(1, m)) return -4;
    if ((active & DL_ACTIVE_A) && ldda < dl_max(1, m)) return -108;
    int info = 0;
    dgetrf_(&m, &n, A, &lda, ipiv, &info);
    if (!(active & DL_ACTIVE_A)) return info;
    int rc = lu_rule(0, m, n, A, lda, ipiv, dA, ldda);
    return rc == DL_ERR_ALLOC ? rc : info;
}

/* Abar = P Tbar, Tbar = the transposed recursion applied to the packed LUbar (see above).
 * Returns 0, or the 1-based position j of a zero pivot the derivative needs (dLU := NaN). */
int dl_dgetrf_rev(unsigned active, int m, int n, const double *LU, int lda, const int *ipiv,
                  double *dLU, int lddlu) {
    if (m < 0) return -1;
    if (n < 0) return -2;
    if (lda < dl_max(1, m)) return -4;
    if (!pivots_in_range(dl_min(m, n), ipiv, m)) return -5;
    if ((active & DL_ACTIVE_A) && lddlu < dl_max(1, m)) return -108;
    if (!(active & DL_ACTIVE_A)) return 0;
    return lu_rule(1, m, n, LU, lda, ipiv, dLU, lddlu);
}

/* ---------------------------------------------------------------- getrs */
static int getrs_check(char trans, int n, int nrhs, int lda, const int *ipiv, int ldb) {
    if (!dl_flag(trans, "NTC")) return -1;
    if (n < 0) return -2;
    if (nrhs < 0) return -3;
    if (lda < dl_max(1, n)) return -5;
    if (!pivots_in_range(n, ipiv, n)) return -6;
    if (ldb < dl_max(1, n)) return -8;
    return 0;
}

static void getrs_call(char trans, int n, int nrhs, const double *LU, int lda, const int *ipiv,
                       double *B, int ldb) {
    int info = 0;
    dgetrs_(&trans, &n, &nrhs, LU, &lda, ipiv, B, &ldb, &info);
}

int dl_dgetrs(char trans, int n, int nrhs, const double *LU, int lda, const int *ipiv, double *B,
              int ldb) {
    int rc = getrs_check(trans, n, nrhs, lda, ipiv, ldb);
    if (rc) return rc;
    trans = dl_flag(trans, "NTC");
    if (n == 0 || nrhs == 0) return 0;
    getrs_call(trans, n, nrhs, LU, lda, ipiv, B, ldb);
    return first_zero_diagonal(n, LU, lda);
}

/* B := op(T)^{-1} B and B := op(T) B for the n x nrhs blocks of the solves. One right-hand
 * side goes to the level-2 routine: OpenBLAS's trsm/trmm with one column cost ~2.5x its
 * trsv/trmv, which would dominate getrs's derivative (a level-2 operation itself). */
static void tri_solve(const char *uplo, const char *trans, const char *diag, int n, int nrhs,
                      const double *T, int ldt, double *B, int ldb) {
    if (nrhs == 1)
        dtrsv_(uplo, trans, diag, &n, T, &ldt, B, &INC1);
    else
        dtrsm_("L", uplo, trans, diag, &n, &nrhs, &ONE, T, &ldt, B, &ldb);
}
static void tri_mult(const char *uplo, const char *trans, const char *diag, int n, int nrhs,
                     const double *T, int ldt, double *B, int ldb) {
    if (nrhs == 1)
        dtrmv_(uplo, trans, diag, &n, T, &ldt, B, &INC1);
    else
        dtrmm_("L", uplo, trans, diag, &n, &nrhs, &ONE, T, &ldt, B, &ldb);
}

/* W := X (n x nrhs) into a packed workspace. */
static void copy_block(int n, int nrhs, const double *X, int ldx, double *W) {
    dlacpy_("A", &n, &nrhs, X, &ldx, W, &n);
}

/* M := M + sign * V (n x nrhs, V packed with ld n). */
static void add_block(int n, int nrhs, double sign, const double *V, double *M, int ldm) {
    for (int j = 0; j < nrhs; ++j) daxpy_(&n, &sign, V + (size_t)j * n, &INC1, M + (size_t)j * ldm, &INC1);
}

/* Tangent of X = op(A)^{-1} B with A = P L U, dA = P (dL U + L dU) (Giles 2008, sec. 2.3.1:
 * dX = op(A)^{-1} (dB - op(dA) X)), expanded so that only triangular solves with L and U
 * and products with the packed tangent appear:
 *   trans N: dX = U^{-1} [ L^{-1} (P^T dB - stril(dL) (U X)) - triu(dU) X ]
 *   trans T: dX = P L^{-T} [ U^{-T} (dB - triu(dU)^T L^T X') - stril(dL)^T X' ],  X' = P^T X
 * (stril(dL) Z by dl_trmm_tri on the strict triangle: exact, no unit(dL) Z - Z cancellation). */
int dl_dgetrs_fwd(unsigned active, char trans, int n, int nrhs, const double *LU, int lda,
                  const double *dLU, int lddlu, const int *ipiv, double *B, int ldb, double *dB,
                  int lddb) {
    int rc = getrs_check(trans, n, nrhs, lda, ipiv, ldb);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, any = (active & (DL_ACTIVE_A | DL_ACTIVE_B)) != 0;
    if (a_on && lddlu < dl_max(1, n)) return -108;
    if (any && lddb < dl_max(1, n)) return -113;
    trans = dl_flag(trans, "NTC");
    if (n == 0 || nrhs == 0) return 0;
    getrs_call(trans, n, nrhs, LU, lda, ipiv, B, ldb);
    const int singular = first_zero_diagonal(n, LU, lda);
    if (!any) return singular;
    if (!(active & DL_ACTIVE_B)) dlaset_("A", &n, &nrhs, &ZERO, &ZERO, dB, &lddb);
    if (!a_on) {
        getrs_call(trans, n, nrhs, LU, lda, ipiv, dB, lddb);
        return singular;
    }
    double *W = dl_alloc((size_t)n * nrhs);
    if (!W) return DL_ERR_ALLOC;
    const double *X = B;
    if (trans == 'N') {
        swap_rows_forward(nrhs, dB, lddb, n, ipiv);
        copy_block(n, nrhs, X, ldb, W);
        tri_mult("U", "N", "N", n, nrhs, LU, lda, W, n); /* W = U X */
        dl_trmm_tri('L', 'L', 'N', 1, n, nrhs, 1.0, dLU, lddlu, W, n, W, n);
        add_block(n, nrhs, -1.0, W, dB, lddb); /* dB -= stril(dL) U X */
        tri_solve("L", "N", "U", n, nrhs, LU, lda, dB, lddb);
        copy_block(n, nrhs, X, ldb, W);
        tri_mult("U", "N", "N", n, nrhs, dLU, lddlu, W, n);
        add_block(n, nrhs, -1.0, W, dB, lddb); /* dB -= triu(dU) X */
        tri_solve("U", "N", "N", n, nrhs, LU, lda, dB, lddb);
    } else {
        copy_block(n, nrhs, X, ldb, W);
        swap_rows_forward(nrhs, W, n, n, ipiv); /* X' */
        tri_mult("L", "T", "U", n, nrhs, LU, lda, W, n);
        tri_mult("U", "T", "N", n, nrhs, dLU, lddlu, W, n);
        add_block(n, nrhs, -1.0, W, dB, lddb); /* dB -= triu(dU)^T L^T X' */
        tri_solve("U", "T", "N", n, nrhs, LU, lda, dB, lddb);
        copy_block(n, nrhs, X, ldb, W);
        swap_rows_forward(nrhs, W, n, n, ipiv);
        dl_trmm_tri('L', 'L', 'T', 1, n, nrhs, 1.0, dLU, lddlu, W, n, W, n);
        add_block(n, nrhs, -1.0, W, dB, lddb); /* dB -= stril(dL)^T X' */
        tri_solve("L", "T", "U", n, nrhs, LU, lda, dB, lddb);
        swap_rows_backward(nrhs, dB, lddb, n, ipiv);
    }
    dl_free(W);
    return singular;
}

/* Adjoint of X = op(A)^{-1} B (Giles 2008, sec. 3.3: Bbar = op(A)^{-T} Xbar,
 * Abar = -Bbar X^T (trans N) or -X Bbar^T (trans T)), pulled back through A = P L U
 * (dA = P (dL U + L dU)  =>  Lbar = stril(P^T Abar U^T), Ubar = triu(L^T P^T Abar)):
 *   trans N: Y1 = U^{-T} Xbar, Y2 = L^{-T} Y1, Bbar = P Y2,
 *            Lbar += -stril(Y2 (U X)^T),  Ubar += -triu(Y1 X^T);
 *   trans T: Y1 = L^{-1} P^T Xbar, Bbar = U^{-1} Y1, X' = P^T X,
 *            Lbar += -stril(X' Y1^T),     Ubar += -triu((L^T X') Bbar^T).
 * Triangle-only products (dl_gemm_tri) touch nothing outside the triangle they update. */
int dl_dgetrs_rev(unsigned active, char trans, int n, int nrhs, const double *LU, int lda,
                  double *dLU, int lddlu, const int *ipiv, const double *X, int ldx, double *dB,
                  int lddb) {
    int rc = getrs_check(trans, n, nrhs, lda, ipiv, ldx);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, any = (active & (DL_ACTIVE_A | DL_ACTIVE_B)) != 0;
    if (a_on && lddlu < dl_max(1, n)) return -108;
    if (any && lddb < dl_max(1, n)) return -113;
    trans = dl_flag(trans, "NTC");
    if (n == 0 || nrhs == 0 || !any) return 0;
    const int singular = first_zero_diagonal(n, LU, lda);
    if (!a_on) {
        getrs_call(dl_flip_trans(trans), n, nrhs, LU, lda, ipiv, dB, lddb);
        return singular;
    }
    double *W = dl_alloc((size_t)n * nrhs);
    if (!W) return DL_ERR_ALLOC;
    if (trans == 'N') {
        tri_solve("U", "T", "N", n, nrhs, LU, lda, dB, lddb); /* Y1 */
        dl_gemm_tri('U', 0, 'N', 'T', n, nrhs, -1.0, dB, lddb, X, ldx, dLU, lddlu);
        tri_solve("L", "T", "U", n, nrhs, LU, lda, dB, lddb); /* Y2 */
        copy_block(n, nrhs, X, ldx, W);
        tri_mult("U", "N", "N", n, nrhs, LU, lda, W, n); /* U X */
        dl_gemm_tri('L', 1, 'N', 'T', n, nrhs, -1.0, dB, lddb, W, n, dLU, lddlu);
        swap_rows_backward(nrhs, dB, lddb, n, ipiv);
    } else {
        copy_block(n, nrhs, X, ldx, W);
        swap_rows_forward(nrhs, W, n, n, ipiv); /* X' */
        swap_rows_forward(nrhs, dB, lddb, n, ipiv);
        tri_solve("L", "N", "U", n, nrhs, LU, lda, dB, lddb); /* Y1 */
        dl_gemm_tri('L', 1, 'N', 'T', n, nrhs, -1.0, W, n, dB, lddb, dLU, lddlu);
        tri_solve("U", "N", "N", n, nrhs, LU, lda, dB, lddb); /* Bbar */
        tri_mult("L", "T", "U", n, nrhs, LU, lda, W, n); /* L^T X' */
        dl_gemm_tri('U', 0, 'N', 'T', n, nrhs, -1.0, W, n, dB, lddb, dLU, lddlu);
    }
    dl_free(W);
    return singular;
}

/* ---------------------------------------------------------------- gesv */
static int gesv_check(int n, int nrhs, int lda, int ldb) {
    if (n < 0) return -1;
    if (nrhs < 0) return -2;
    if (lda < dl_max(1, n)) return -4;
    if (ldb < dl_max(1, n)) return -7;
    return 0;
}

/* dgetrf + dgetrs, as reference LAPACK's dgesv: OpenBLAS's dgesv returns before factoring
 * when nrhs == 0, which would leave A and ipiv unset for the derivative kernels. */
static int gesv_call(int n, int nrhs, double *A, int lda, int *ipiv, double *B, int ldb) {
    int info = 0;
    dgetrf_(&n, &n, A, &lda, ipiv, &info);
    if (info == 0 && n > 0 && nrhs > 0) getrs_call('N', n, nrhs, A, lda, ipiv, B, ldb);
    return info;
}

int dl_dgesv(int n, int nrhs, double *A, int lda, int *ipiv, double *B, int ldb) {
    int rc = gesv_check(n, nrhs, lda, ldb);
    if (rc) return rc;
    return gesv_call(n, nrhs, A, lda, ipiv, B, ldb);
}

/* dX = A^{-1} (dB - dA X) (Giles 2008, sec. 2.3.1) with the factors of the primal solve and
 * the ORIGINAL dA (one gemm + one getrs); dLU by the getrf tangent only if DL_WANT_DLU. */
int dl_dgesv_fwd(unsigned active, int n, int nrhs, double *A, int lda, double *dA, int ldda,
                 int *ipiv, double *B, int ldb, double *dB, int lddb) {
    int rc = gesv_check(n, nrhs, lda, ldb);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, b_on = (active & DL_ACTIVE_B) != 0;
    if (a_on && ldda < dl_max(1, n)) return -107;
    if ((a_on || b_on) && lddb < dl_max(1, n)) return -112;
    const int info = gesv_call(n, nrhs, A, lda, ipiv, B, ldb);
    if (n == 0 || !(a_on || b_on)) return info;
    if (nrhs > 0) {
        if (info > 0) {
            dl_fill_nan(n, nrhs, dB, lddb);
        } else {
            if (a_on)
                dgemm_("N", "N", &n, &nrhs, &n, &MINUS_ONE, dA, &ldda, B, &ldb, b_on ? &ONE : &ZERO,
                       dB, &lddb);
            else if (!b_on)
                dlaset_("A", &n, &nrhs, &ZERO, &ZERO, dB, &lddb);
            getrs_call('N', n, nrhs, A, lda, ipiv, dB, lddb);
        }
    }
    if (a_on && (active & DL_WANT_DLU)) {
        rc = lu_rule(0, n, n, A, lda, ipiv, dA, ldda);
        if (rc == DL_ERR_ALLOC) return rc;
    }
    return info;
}

/* Bbar = A^{-T} Xbar (one transposed getrs), Abar = -Bbar X^T (Giles 2008, sec. 3.3; one
 * gemm, or dger for one right-hand side) plus the getrf adjoint of LUbar when LUbar != 0.
 * With a zero U(i,i) the derivative is undefined: dB (and dA) := NaN, returns i. */
int dl_dgesv_rev(unsigned active, int n, int nrhs, const double *LU, int lda, const int *ipiv,
                 double *dA, int ldda, const double *X, int ldx, double *dB, int lddb) {
    int rc = gesv_check(n, nrhs, lda, ldx);
    if (rc) return rc;
    if (!pivots_in_range(n, ipiv, n)) return -5;
    const int a_on = (active & DL_ACTIVE_A) != 0, any = (active & (DL_ACTIVE_A | DL_ACTIVE_B)) != 0;
    if (a_on && ldda < dl_max(1, n)) return -108;
    if (any && lddb < dl_max(1, n)) return -112;
    if (n == 0 || !any) return 0;
    const int singular = first_zero_diagonal(n, LU, lda);
    if (singular) {
        dl_fill_nan(n, nrhs, dB, lddb);
        if (a_on) dl_fill_nan(n, n, dA, ldda);
        return singular;
    }
    if (nrhs > 0) getrs_call('T', n, nrhs, LU, lda, ipiv, dB, lddb);
    if (!a_on) return 0;
    const int lubar_zero = dl_all_zero(n, n, dA, ldda);
    if (!lubar_zero) {
        rc = lu_rule(1, n, n, LU, lda, ipiv, dA, ldda);
        if (rc) return rc;
    }
    if (nrhs == 1) { /* dA is zero or already holds the getrf part: accumulate */
        const int incb = 1, incx = 1;
        dger_(&n, &n, &MINUS_ONE, dB, &incb, X, &incx, dA, &ldda);
    } else if (nrhs > 1) {
        dgemm_("N", "T", &n, &n, &nrhs, &MINUS_ONE, dB, &lddb, X, &ldx, lubar_zero ? &ZERO : &ONE,
               dA, &ldda);
    }
    return 0;
}
