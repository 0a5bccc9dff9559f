/* lu_rule.c -- the derivative of the LU factorization with partial pivoting: IFN(lu_rule), the
 * tangent (dA -> packed dLU) and adjoint (packed LUbar -> Abar) maps the getrf, gesv, getri,
 * inv, det and slogdet kernels share, blocked (column recursion) for nonsingular pivots and
 * with strong zeros where a zero pivot has rows below it; written once over the element type T
 * (compiled for s, d, c, z; see precision.h).
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

/* Width of the panels the recursions below hand to a plain loop. The loop costs
 * ~2 m n PANEL flops in total; recursing further costs BLAS calls on tiny operands. */
#ifndef LU_PANEL
#define LU_PANEL 8
#endif

static const T ONE = 1, MINUS_ONE = -1, ZERO = 0;

#define AT(M, ld, i, j) ((M)[(size_t)(i) + (size_t)(j) * (size_t)(ld)])

/* 1-based position of the first zero pivot the LU derivative divides by (column j of L,
 * rows j+1..m-1, is scaled by 1/U(j,j): only j < min(k, m-1) matter), else 0. */
static int lu_derivative_breakdown(int m, int n, const T *LU, int lda) {
    const int last = dl_min(dl_min(m, n), m - 1);
    for (int j = 0; j < last; ++j)
        if (AT(LU, lda, j, j) == 0) return j + 1;
    return 0;
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
 * The only divisions are by the pivots U(j,j), in the panel (dl_pivot_divide: a zero pivot
 * gives NaN exactly where a nonzero numerator needs it; with such a pivot the rules run the
 * strong-zero variants below instead, so that the NaN does not spread through exact zeros).
 */

/* m x nb panel (m >= nb) by the same recursion split one column at a time:
 * column j: dL(j+1:, j) = (T(j+1:, j) - L(j+1:, j) dU(j,j)) / U(j,j); then the trailing
 * columns lose dL(:, j) U(j, :) + L(:, j) dU(j, :). */
static void lu_tangent_panel(int m, int nb, const T *LU, int lda, T *Tg, int ldt) {
    for (int j = 0; j < nb; ++j) {
        const T *l = &AT(LU, lda, 0, j);
        T *t = &AT(Tg, ldt, 0, j);
        const T ujj = AT(LU, lda, j, j), tjj = t[j];
        for (int i = j + 1; i < m; ++i) t[i] = dl_pivot_divide(t[i] - l[i] * tjj, ujj);
        for (int c = j + 1; c < nb; ++c) {
            T *tc = &AT(Tg, ldt, 0, c);
            const T ujc = AT(LU, lda, j, c), tjc = tc[j];
            for (int i = j + 1; i < m; ++i) tc[i] -= t[i] * ujc + l[i] * tjc;
        }
    }
}

/* T12 := T12 - stril(T11) U12. The product is formed exactly (trmm_tri on the strict
 * triangle), not as unit(T11) U12 - U12, which cancels and would lose the relative accuracy of
 * a small tangent (derivatives must scale linearly with it). W: workspace for k1 x n2. */
static void subtract_stril_times(int k1, int n2, const T *T11, int ldt, const T *U12, int lda,
                                 T *T12, T *W) {
    IFN(trmm_tri)('L', 'L', 'N', 1, k1, n2, 1, T11, ldt, U12, lda, W, k1);
    for (int j = 0; j < n2; ++j) {
        T *t = T12 + (size_t)j * ldt;
        const T *w = W + (size_t)j * k1;
        for (int i = 0; i < k1; ++i) t[i] -= w[i];
    }
}

static void lu_tangent_tall(int m, int n, const T *LU, int lda, T *Tg, int ldt, T *W) {
    if (n <= LU_PANEL) {
        lu_tangent_panel(m, n, LU, lda, Tg, ldt);
        return;
    }
    const int k1 = n / 2, n2 = n - k1, m2 = m - k1;
    const T *U12 = LU + (size_t)k1 * lda, *L21 = LU + k1, *LU22 = U12 + k1;
    T *T12 = Tg + (size_t)k1 * ldt, *T21 = Tg + k1, *T22 = T12 + k1;
    lu_tangent_tall(m, k1, LU, lda, Tg, ldt, W);
    subtract_stril_times(k1, n2, Tg, ldt, U12, lda, T12, W);
    BLAS(trsm)("L", "L", "N", "U", &k1, &n2, &ONE, LU, &lda, T12, &ldt);
    BLAS(gemm)("N", "N", &m2, &n2, &k1, &MINUS_ONE, T21, &ldt, U12, &lda, &ONE, T22, &ldt);
    BLAS(gemm)("N", "N", &m2, &n2, &k1, &MINUS_ONE, L21, &lda, T12, &ldt, &ONE, T22, &ldt);
    lu_tangent_tall(m2, n2, LU22, lda, T22, ldt, W);
}

/* Workspace (elements) of lu_tangent for an m x n factorisation. */
static size_t lu_tangent_workspace(int m, int n) {
    int k = dl_min(m, n);
    size_t square = (size_t)(k / 2) * (size_t)(k - k / 2);
    size_t wide = m < n ? (size_t)m * (size_t)(n - m) : 0;
    return square > wide ? square : wide;
}

/* T: on entry P^T dA, on exit the packed tangent (dL strict lower, dU upper). */
static void lu_tangent(int m, int n, const T *LU, int lda, T *Tg, int ldt, T *W) {
    if (m >= n) {
        lu_tangent_tall(m, n, LU, lda, Tg, ldt, W);
        return;
    }
    const int nr = n - m;
    T *TR = Tg + (size_t)m * ldt;
    const T *UR = LU + (size_t)m * lda;
    lu_tangent_tall(m, m, LU, lda, Tg, ldt, W);
    subtract_stril_times(m, nr, Tg, ldt, UR, lda, TR, W);
    BLAS(trsm)("L", "L", "N", "U", &m, &nr, &ONE, LU, &lda, TR, &ldt);
}

/* ===================================================================== getrf adjoint ===
 * The exact adjoint (conjugate transpose) of lu_tangent, its steps in reverse order, on Tbar
 * = the packed cotangent (Lbar strict lower, Ubar upper). Transposing the block step (m >= n):
 *   Schur complement:  recursion on Tbar22, then Tbar21 -= Tbar22 U12^H,
 *                      Tbar12 -= L21^H Tbar22;
 *   dU12 step:         G = L11^{-H} Tbar12, Tbar12 := G, Tbar11 -= stril(G U12^H);
 *   left block column: recursion on Tbar(:, 1:k1).
 * At the end Tbar = P^T Abar, so Abar = P Tbar. This equals the closed form
 * Abar = P L^{-H} [stril(L^H Lbar) + triu(Ubar U^H)] U^{-H} of Giles (2008) / Walter &
 * Lehmann (2018) for square A, without its two full triangular solves.
 */
static void lu_adjoint_panel(int m, int nb, const T *LU, int lda, T *Tb, int ldt) {
    for (int j = nb - 1; j >= 0; --j) {
        const T *l = &AT(LU, lda, 0, j);
        T *t = &AT(Tb, ldt, 0, j);
        for (int c = j + 1; c < nb; ++c) {
            T *tc = &AT(Tb, ldt, 0, c);
            const T ujc = CONJ(AT(LU, lda, j, c));
            T s = 0;
            for (int i = j + 1; i < m; ++i) {
                t[i] -= tc[i] * ujc;
                s += CONJ(l[i]) * tc[i];
            }
            tc[j] -= s;
        }
        const T ujj = CONJ(AT(LU, lda, j, j));
        T s = 0;
        for (int i = j + 1; i < m; ++i) {
            t[i] = dl_pivot_divide(t[i], ujj);
            s += CONJ(l[i]) * t[i];
        }
        t[j] -= s;
    }
}

static void lu_adjoint_tall(int m, int n, const T *LU, int lda, T *Tb, int ldt) {
    if (n <= LU_PANEL) {
        lu_adjoint_panel(m, n, LU, lda, Tb, ldt);
        return;
    }
    const int k1 = n / 2, n2 = n - k1, m2 = m - k1;
    const T *U12 = LU + (size_t)k1 * lda, *L21 = LU + k1, *LU22 = U12 + k1;
    T *T12 = Tb + (size_t)k1 * ldt, *T21 = Tb + k1, *T22 = T12 + k1;
    lu_adjoint_tall(m2, n2, LU22, lda, T22, ldt);
    BLAS(gemm)("N", "C", &m2, &k1, &n2, &MINUS_ONE, T22, &ldt, U12, &lda, &ONE, T21, &ldt);
    BLAS(gemm)("C", "N", &k1, &n2, &m2, &MINUS_ONE, L21, &lda, T22, &ldt, &ONE, T12, &ldt);
    BLAS(trsm)("L", "L", "C", "U", &k1, &n2, &ONE, LU, &lda, T12, &ldt);
    IFN(gemm_tri)('L', 1, 'N', 'C', k1, n2, -1, T12, ldt, U12, lda, Tb, ldt);
    lu_adjoint_tall(m, k1, LU, lda, Tb, ldt);
}

/* Tbar: on entry the packed cotangent, on exit P^T Abar. */
static void lu_adjoint(int m, int n, const T *LU, int lda, T *Tb, int ldt) {
    if (m < n) {
        const int nr = n - m;
        T *TR = Tb + (size_t)m * ldt;
        const T *UR = LU + (size_t)m * lda;
        BLAS(trsm)("L", "L", "C", "U", &m, &nr, &ONE, LU, &lda, TR, &ldt);
        IFN(gemm_tri)('L', 1, 'N', 'C', m, nr, -1, TR, ldt, UR, lda, Tb, ldt);
        n = m;
    }
    lu_adjoint_tall(m, n, LU, lda, Tb, ldt);
}

/* ============================================================ zero pivots: strong zeros ===
 * With a zero pivot U(j,j) that has rows below it (LAPACK info > 0), the quotients by it are
 * undefined: dl_pivot_divide gives NaN for a nonzero numerator (0 for a zero one). Plain IEEE
 * arithmetic would then spread that NaN through every product it meets, also through the
 * exactly zero coefficients (L(i,j) = 0, U(j,c) = 0, ...) that a zero pivot brings with it:
 * NaN * 0 = NaN. That would poison derivatives which do not depend on the undefined quotient
 * at all (a zero middle column of A made all of Abar NaN). Here an undefined value is an
 * unknown number, and an exactly zero coefficient times it contributes exactly zero (a strong
 * zero): a result is NaN if and only if a chain of nonzero coefficients leads to it from an
 * undefined quotient. Both rules then stay each other's exact transpose (the same coefficients
 * on the same edges), with the same zero-pivot rule at both ends.
 *
 * Computed as two coupled runs of the same recursion (blocked, BLAS-3 like the nonsingular
 * path): the values, with every undefined quotient replaced by 0 (so no NaN is ever formed, and
 * a value that does not depend on one is exact), and beside them a taint matrix Tt of 0/1
 * entries (1: depends on an undefined quotient), propagated by the same operations over the
 * 0/1 pattern Pat = (LU != 0) of the coefficients, as boolean products (BLAS on 0/1 data, then
 * clamped to 0/1, so no count ever grows). A quotient by a zero pivot is undefined when its
 * numerator is nonzero or tainted. At the end a tainted entry becomes NaN. The taint runs only
 * on blocks that can hold some; a sub-problem without a needed zero pivot and without taint
 * runs the plain recursion. Tt and Pat have leading dimension ldx.
 */

/* X := (X != 0) on an m x n block (NaN counts as nonzero). */
static void taint_clamp(int m, int n, T *X, int ldx) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            T *x = &AT(X, ldx, i, j);
            *x = *x != 0 ? ONE : ZERO;
        }
}

static int taint_none(int m, int n, const T *X, int ldx) {
    return m <= 0 || n <= 0 || IFN(all_zero)(m, n, X, ldx);
}

/* C |= op(A) op(B) over 0/1 data (C is m x n, the inner dimension k). */
static void taint_gemm(const char *ta, const char *tb, int m, int n, int k, const T *A, int lda,
                       const T *B, int ldb, T *C, int ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    BLAS(gemm)(ta, tb, &m, &n, &k, &ONE, A, &lda, B, &ldb, &ONE, C, &ldc);
    taint_clamp(m, n, C, ldc);
}

/* The boolean form of X := L^{-1} X (trans 'N') or L^{-H} X (trans 'C') for the unit lower
 * k x k triangle whose strict pattern is P: the taint of the solution, nrhs columns. */
static void taint_solve_lower(char trans, int k, int nrhs, const T *P, int ldp, T *X, int ldx) {
    if (k <= 1 || nrhs <= 0 || taint_none(k, nrhs, X, ldx)) return;
    if (k <= 2 * LU_PANEL) {
        for (int c = 0; c < nrhs; ++c) {
            T *x = &AT(X, ldx, 0, c);
            if (trans == 'N') {
                for (int j = 0; j < k; ++j)
                    if (x[j] != 0)
                        for (int i = j + 1; i < k; ++i)
                            if (AT(P, ldp, i, j) != 0) x[i] = ONE;
            } else {
                for (int j = k - 1; j >= 0; --j)
                    for (int i = j + 1; i < k && x[j] == 0; ++i)
                        if (x[i] != 0 && AT(P, ldp, i, j) != 0) x[j] = ONE;
            }
        }
        return;
    }
    const int k1 = k / 2, k2 = k - k1;
    const T *P21 = P + k1, *P22 = P + k1 + (size_t)k1 * ldp;
    if (trans == 'N') {
        taint_solve_lower('N', k1, nrhs, P, ldp, X, ldx);
        if (!taint_none(k1, nrhs, X, ldx)) taint_gemm("N", "N", k2, nrhs, k1, P21, ldp, X, ldx, X + k1, ldx);
        taint_solve_lower('N', k2, nrhs, P22, ldp, X + k1, ldx);
    } else {
        taint_solve_lower('C', k2, nrhs, P22, ldp, X + k1, ldx);
        if (!taint_none(k2, nrhs, X + k1, ldx)) taint_gemm("C", "N", k1, nrhs, k2, P21, ldp, X + k1, ldx, X, ldx);
        taint_solve_lower('C', k1, nrhs, P, ldp, X, ldx);
    }
}

/* Tt12 |= stril(Tt11) P12 (the taint of subtract_stril_times); W: k1 x n2 workspace. */
static void taint_stril_times(int k1, int n2, const T *Tt11, const T *P12, T *Tt12, int ldx, T *W) {
    if (k1 <= 1 || n2 <= 0 || taint_none(k1, k1, Tt11, ldx)) return;
    IFN(trmm_tri)('L', 'L', 'N', 1, k1, n2, 1, Tt11, ldx, P12, ldx, W, k1);
    for (int j = 0; j < n2; ++j)
        for (int i = 0; i < k1; ++i) AT(Tt12, ldx, i, j) += W[i + (size_t)j * k1];
    taint_clamp(k1, n2, Tt12, ldx);
}

/* Tt11 |= stril(Tt12 P12^H) (the taint of the adjoint's gemm_tri). */
static void taint_stril_gemm(int k1, int n2, const T *Tt12, const T *P12, T *Tt11, int ldx) {
    if (k1 <= 1 || taint_none(k1, n2, Tt12, ldx)) return;
    IFN(gemm_tri)('L', 1, 'N', 'C', k1, n2, 1, Tt12, ldx, P12, ldx, Tt11, ldx);
    taint_clamp(k1, k1, Tt11, ldx);
}

/* A quotient x / u by the pivot u into *t, *tt: u == 0 leaves the value 0 and taints it when
 * x is nonzero (undefined) or already tainted. */
static inline void sz_divide(T x, T u, T *t, T *tt) {
    if (u != 0) {
        *t = x / u;
    } else {
        if (x != 0) *tt = ONE;
        *t = 0;
    }
}

static void lu_tangent_panel_sz(int m, int nb, const T *LU, int lda, T *Tg, int ldt, T *Tt, int ldx) {
    for (int j = 0; j < nb; ++j) {
        const T *l = &AT(LU, lda, 0, j);
        T *t = &AT(Tg, ldt, 0, j), *tt = &AT(Tt, ldx, 0, j);
        const T ujj = AT(LU, lda, j, j), tjj = t[j];
        const int ttjj = tt[j] != 0;
        for (int i = j + 1; i < m; ++i) {
            if (ttjj && l[i] != 0) tt[i] = ONE;
            sz_divide(t[i] - l[i] * tjj, ujj, &t[i], &tt[i]);
        }
        for (int c = j + 1; c < nb; ++c) {
            T *tc = &AT(Tg, ldt, 0, c), *ttc = &AT(Tt, ldx, 0, c);
            const T ujc = AT(LU, lda, j, c), tjc = tc[j];
            const int ttjc = ttc[j] != 0;
            for (int i = j + 1; i < m; ++i) {
                tc[i] -= t[i] * ujc + l[i] * tjc;
                if ((tt[i] != 0 && ujc != 0) || (ttjc && l[i] != 0)) ttc[i] = ONE;
            }
        }
    }
}

static void lu_tangent_tall_sz(int m, int n, const T *LU, int lda, const T *Pat, T *Tg, int ldt, T *Tt,
                               int ldx, T *W) {
    if (!lu_derivative_breakdown(m, n, LU, lda) && taint_none(m, n, Tt, ldx)) {
        lu_tangent_tall(m, n, LU, lda, Tg, ldt, W);
        return;
    }
    if (n <= LU_PANEL) {
        lu_tangent_panel_sz(m, n, LU, lda, Tg, ldt, Tt, ldx);
        return;
    }
    const int k1 = n / 2, n2 = n - k1, m2 = m - k1;
    const size_t o12 = (size_t)k1 * ldx, o21 = k1, o22 = o12 + k1;
    const T *U12 = LU + (size_t)k1 * lda, *L21 = LU + k1, *LU22 = U12 + k1;
    T *T12 = Tg + (size_t)k1 * ldt, *T21 = Tg + k1, *T22 = T12 + k1;
    lu_tangent_tall_sz(m, k1, LU, lda, Pat, Tg, ldt, Tt, ldx, W);
    subtract_stril_times(k1, n2, Tg, ldt, U12, lda, T12, W);
    taint_stril_times(k1, n2, Tt, Pat + o12, Tt + o12, ldx, W);
    BLAS(trsm)("L", "L", "N", "U", &k1, &n2, &ONE, LU, &lda, T12, &ldt);
    taint_solve_lower('N', k1, n2, Pat, ldx, Tt + o12, ldx);
    BLAS(gemm)("N", "N", &m2, &n2, &k1, &MINUS_ONE, T21, &ldt, U12, &lda, &ONE, T22, &ldt);
    BLAS(gemm)("N", "N", &m2, &n2, &k1, &MINUS_ONE, L21, &lda, T12, &ldt, &ONE, T22, &ldt);
    if (!taint_none(m2, k1, Tt + o21, ldx))
        taint_gemm("N", "N", m2, n2, k1, Tt + o21, ldx, Pat + o12, ldx, Tt + o22, ldx);
    if (!taint_none(k1, n2, Tt + o12, ldx))
        taint_gemm("N", "N", m2, n2, k1, Pat + o21, ldx, Tt + o12, ldx, Tt + o22, ldx);
    lu_tangent_tall_sz(m2, n2, LU22, lda, Pat + o22, T22, ldt, Tt + o22, ldx, W);
}

static void lu_tangent_sz(int m, int n, const T *LU, int lda, const T *Pat, T *Tg, int ldt, T *Tt, int ldx,
                          T *W) {
    const int k = dl_min(m, n);
    lu_tangent_tall_sz(m, k, LU, lda, Pat, Tg, ldt, Tt, ldx, W);
    if (m >= n) return;
    const int nr = n - m;
    const size_t oR = (size_t)m * ldx;
    T *TR = Tg + (size_t)m * ldt;
    const T *UR = LU + (size_t)m * lda;
    subtract_stril_times(m, nr, Tg, ldt, UR, lda, TR, W);
    taint_stril_times(m, nr, Tt, Pat + oR, Tt + oR, ldx, W);
    BLAS(trsm)("L", "L", "N", "U", &m, &nr, &ONE, LU, &lda, TR, &ldt);
    taint_solve_lower('N', m, nr, Pat, ldx, Tt + oR, ldx);
}

static void lu_adjoint_panel_sz(int m, int nb, const T *LU, int lda, T *Tb, int ldt, T *Tt, int ldx) {
    for (int j = nb - 1; j >= 0; --j) {
        const T *l = &AT(LU, lda, 0, j);
        T *t = &AT(Tb, ldt, 0, j), *tt = &AT(Tt, ldx, 0, j);
        for (int c = j + 1; c < nb; ++c) {
            T *tc = &AT(Tb, ldt, 0, c), *ttc = &AT(Tt, ldx, 0, c);
            const T ujc = CONJ(AT(LU, lda, j, c));
            T s = 0;
            int hit = 0;
            for (int i = j + 1; i < m; ++i) {
                t[i] -= tc[i] * ujc;
                s += CONJ(l[i]) * tc[i];
                if (ttc[i] != 0) {
                    if (ujc != 0) tt[i] = ONE;
                    if (l[i] != 0) hit = 1;
                }
            }
            tc[j] -= s;
            if (hit) ttc[j] = ONE;
        }
        const T ujj = CONJ(AT(LU, lda, j, j));
        T s = 0;
        int hit = 0;
        for (int i = j + 1; i < m; ++i) {
            sz_divide(t[i], ujj, &t[i], &tt[i]);
            s += CONJ(l[i]) * t[i];
            if (tt[i] != 0 && l[i] != 0) hit = 1;
        }
        t[j] -= s;
        if (hit) tt[j] = ONE;
    }
}

static void lu_adjoint_tall_sz(int m, int n, const T *LU, int lda, const T *Pat, T *Tb, int ldt, T *Tt,
                               int ldx) {
    if (!lu_derivative_breakdown(m, n, LU, lda) && taint_none(m, n, Tt, ldx)) {
        lu_adjoint_tall(m, n, LU, lda, Tb, ldt);
        return;
    }
    if (n <= LU_PANEL) {
        lu_adjoint_panel_sz(m, n, LU, lda, Tb, ldt, Tt, ldx);
        return;
    }
    const int k1 = n / 2, n2 = n - k1, m2 = m - k1;
    const size_t o12 = (size_t)k1 * ldx, o21 = k1, o22 = o12 + k1;
    const T *U12 = LU + (size_t)k1 * lda, *L21 = LU + k1, *LU22 = U12 + k1;
    T *T12 = Tb + (size_t)k1 * ldt, *T21 = Tb + k1, *T22 = T12 + k1;
    lu_adjoint_tall_sz(m2, n2, LU22, lda, Pat + o22, T22, ldt, Tt + o22, ldx);
    BLAS(gemm)("N", "C", &m2, &k1, &n2, &MINUS_ONE, T22, &ldt, U12, &lda, &ONE, T21, &ldt);
    BLAS(gemm)("C", "N", &k1, &n2, &m2, &MINUS_ONE, L21, &lda, T22, &ldt, &ONE, T12, &ldt);
    if (!taint_none(m2, n2, Tt + o22, ldx)) {
        taint_gemm("N", "C", m2, k1, n2, Tt + o22, ldx, Pat + o12, ldx, Tt + o21, ldx);
        taint_gemm("C", "N", k1, n2, m2, Pat + o21, ldx, Tt + o22, ldx, Tt + o12, ldx);
    }
    BLAS(trsm)("L", "L", "C", "U", &k1, &n2, &ONE, LU, &lda, T12, &ldt);
    taint_solve_lower('C', k1, n2, Pat, ldx, Tt + o12, ldx);
    IFN(gemm_tri)('L', 1, 'N', 'C', k1, n2, -1, T12, ldt, U12, lda, Tb, ldt);
    taint_stril_gemm(k1, n2, Tt + o12, Pat + o12, Tt, ldx);
    lu_adjoint_tall_sz(m, k1, LU, lda, Pat, Tb, ldt, Tt, ldx);
}

/* The wide part of the adjoint comes first, before any quotient: no taint yet. */
static void lu_adjoint_sz(int m, int n, const T *LU, int lda, const T *Pat, T *Tb, int ldt, T *Tt, int ldx) {
    if (m < n) {
        const int nr = n - m;
        T *TR = Tb + (size_t)m * ldt;
        const T *UR = LU + (size_t)m * lda;
        BLAS(trsm)("L", "L", "C", "U", &m, &nr, &ONE, LU, &lda, TR, &ldt);
        IFN(gemm_tri)('L', 1, 'N', 'C', m, nr, -1, TR, ldt, UR, lda, Tb, ldt);
        n = m;
    }
    lu_adjoint_tall_sz(m, n, LU, lda, Pat, Tb, ldt, Tt, ldx);
}

/* Either rule with strong zeros (see above) on D, for an LU with a needed zero pivot. */
static int lu_rule_sz(int adjoint, int m, int n, const T *LU, int lda, T *D, int ldd) {
    const size_t mn = (size_t)m * (size_t)n;
    T *Pat = dl_alloc(2 * mn + (adjoint ? 0 : lu_tangent_workspace(m, n)));
    if (!Pat) return DL_ERR_ALLOC;
    T *Tt = Pat + mn, *W = Tt + mn;
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            AT(Pat, m, i, j) = AT(LU, lda, i, j) != 0 ? ONE : ZERO;
            AT(Tt, m, i, j) = ZERO;
        }
    if (adjoint)
        lu_adjoint_sz(m, n, LU, lda, Pat, D, ldd, Tt, m);
    else
        lu_tangent_sz(m, n, LU, lda, Pat, D, ldd, Tt, m, W);
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i)
            if (AT(Tt, m, i, j) != 0) AT(D, ldd, i, j) = NAN_T;
    dl_free(Pat);
    return 0;
}

/* Both rules on the caller's buffer D (m x n, ldd): tangent: D = dA in, packed dLU out;
 * adjoint: D = packed LUbar in, Abar out. Returns the first zero pivot the derivative met
 * (its quotients follow dl_pivot_divide), 0, or DL_ERR_ALLOC. Shared with inverse.c / det.c. */
int IFN(lu_rule)(int adjoint, int m, int n, const T *LU, int lda, const int *ipiv, T *D, int ldd) {
    const int k = dl_min(m, n);
    if (k == 0) return 0;
    const int breakdown = lu_derivative_breakdown(m, n, LU, lda);
    if (breakdown) {
        if (!adjoint) IFN(swap_rows_forward)(n, D, ldd, k, ipiv);
        if (lu_rule_sz(adjoint, m, n, LU, lda, D, ldd) == DL_ERR_ALLOC) {
            if (!adjoint) IFN(swap_rows_backward)(n, D, ldd, k, ipiv); /* D unchanged */
            return DL_ERR_ALLOC;
        }
        if (adjoint) IFN(swap_rows_backward)(n, D, ldd, k, ipiv);
        return breakdown;
    }
    if (adjoint) {
        lu_adjoint(m, n, LU, lda, D, ldd);
        IFN(swap_rows_backward)(n, D, ldd, k, ipiv);
    } else {
        T *W = dl_alloc(lu_tangent_workspace(m, n));
        if (!W) return DL_ERR_ALLOC;
        IFN(swap_rows_forward)(n, D, ldd, k, ipiv);
        lu_tangent(m, n, LU, lda, D, ldd, W);
        dl_free(W);
    }
    return 0;
}
