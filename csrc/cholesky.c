/* cholesky.c -- Cholesky factorisation (potrf), the solve with its factor (potrs) and the
 * driver (posv): primal wrappers, tangent (fwd) and adjoint (rev) kernels, written once over
 * the element type T (compiled for s, d, c, z; see precision.h).
 *
 * Notation: uplo 'L': A = L L^H, uplo 'U': A = U^H U; the factor lives in the stored (uplo)
 * triangle of the buffer, with a real positive diagonal. ?potrf reads only the stored triangle
 * S and factors Herm(S) (the other triangle taken as S^H, the diagonal as Re S_ii: the
 * imaginary part of the diagonal is not read) and leaves the other triangle of the buffer as it
 * was. So derivatives are taken with respect to the STORED triangle:
 *  - potrf's tangent uses dA = Herm(dS) (Im(dS_ii) and the other triangle of dS are ignored)
 *    and has a real diagonal; its cotangent of S is the stored-triangle projection of the full
 *    Hermitian cotangent G, stril(G + G^H) + diag(Re G_ii) (real diagonal);
 *  - the other triangle of the buffer is an identity pass-through: the kernels never touch the
 *    other triangle of a tangent or cotangent buffer (Enzyme's in-place convention);
 *  - ?potrs reads the factor as a general triangle (its complex diagonal as stored), so potrs'
 *    derivatives w.r.t. the factor are NOT projected onto a real diagonal.
 * Not positive definite (potrf's info = j > 0): LAPACK leaves chol of the leading (j-1) block
 * exactly, the non-positive pivot in C(j,j) and partial work in the rest of the triangle. The
 * leading block keeps its exact derivative; the rest of the stored triangle gets NaN -- unless
 * the incoming tangent / cotangent there is exactly zero, which contributes exactly zero.
 *
 * References: I. Murray, "Differentiation of the Cholesky decomposition", arXiv:1602.07527
 * (2016): the blocked (level-3) forward and reverse rules, of which the recursions below are
 * the divide-and-conquer form (F. Gustavson, "Recursion leads to automatic variable blocking
 * for dense linear-algebra algorithms", IBM J. Res. Dev. 41 (1997)); M. B. Giles, "An extended
 * collection of matrix derivative results for forward and reverse mode algorithmic
 * differentiation" (2008), sec. 2.3.1 / 3.3, for the solves. Derivations and flop counts:
 * docs/design/derivatives_next.md, section 3; NumPy prototypes: tests/_reference_rules.py.
 */
#include "precision.h"
#include "internal.h"

/* Order of the diagonal blocks the recursions hand to a plain loop: the loops cost ~ n BASE^2
 * flops in total; recursing further costs BLAS calls on tiny operands. */
#ifndef CHOL_BASE
#define CHOL_BASE 32
#endif

static const T ONE = 1, MINUS_ONE = -1, ZERO = 0;
static const R REAL_ONE = 1;
/* the BLAS letter of the conjugate transpose ('T' for real data) */
static const char ADJ = DL_IS_COMPLEX ? 'C' : 'T';

#define AT(M, ld, i, j) ((M)[(size_t)(i) + (size_t)(j) * (size_t)(ld)])

/* ============================================================ structure helpers */
/* potrf's info read back from its output: the 1-based position of the first diagonal entry
 * that is not positive (NaN included; LAPACK leaves the failed pivot, <= 0, in C(j,j) and a
 * positive diagonal before it), else 0. */
static int first_nonpositive_pivot(int n, const T *C, int ldc) {
    for (int i = 0; i < n; ++i)
        if (!(REAL(AT(C, ldc, i, i)) > 0)) return i + 1;
    return 0;
}

/* 1-based position of the first exactly zero diagonal entry of the factor (potrs divides by
 * it), else 0. */
static int first_zero_diagonal(int n, const T *C, int ldc) {
    for (int i = 0; i < n; ++i)
        if (AT(C, ldc, i, i) == 0) return i + 1;
    return 0;
}

/* Rows lo..hi of column j of the stored triangle. */
static void triangle_rows(char uplo, int n, int j, int *lo, int *hi) {
    *lo = uplo == 'U' ? 0 : j;
    *hi = uplo == 'U' ? j : n - 1;
}

int IFN(triangle_zero_outside)(char uplo, int n, int k, const T *A, int lda) {
    for (int j = 0; j < n; ++j) {
        int lo, hi;
        triangle_rows(uplo, n, j, &lo, &hi);
        for (int i = j < k ? dl_max(lo, k) : lo; i <= hi; ++i)
            if (AT(A, lda, i, j) != 0) return 0;
    }
    return 1;
}

/* NaN on the stored triangle outside the leading k x k block (the derivative is undefined). */
static void triangle_fill_nan_outside(char uplo, int n, int k, T *A, int lda) {
    for (int j = 0; j < n; ++j) {
        int lo, hi;
        triangle_rows(uplo, n, j, &lo, &hi);
        for (int i = j < k ? dl_max(lo, k) : lo; i <= hi; ++i) AT(A, lda, i, j) = NAN_T;
    }
}

/* M := M - W for m x n blocks (W packed with leading dimension m). */
static void subtract_block(int m, int n, const T *W, T *M, int ldm) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) AT(M, ldm, i, j) -= W[(size_t)i + (size_t)j * m];
}

/* The two triangular solves of A X = B with A = L L^H (op 'N' then ^H) or U^H U (^H then
 * 'N'): the first op of potrs, and the second. */
static char first_op(char uplo) { return uplo == 'L' ? 'N' : ADJ; }
static char second_op(char uplo) { return uplo == 'L' ? ADJ : 'N'; }

/* B := A^{-1} B for the derivatives (level 2 for one right-hand side, see IFN(tri_solve)). */
static void chol_solve(char uplo, int n, int nrhs, const T *C, int ldc, T *B, int ldb) {
    IFN(tri_solve)(uplo, first_op(uplo), 'N', n, nrhs, C, ldc, B, ldb);
    IFN(tri_solve)(uplo, second_op(uplo), 'N', n, nrhs, C, ldc, B, ldb);
}

/* ============================================================ potrf tangent
 * uplo 'L', split at k = n/2: L11 = chol(A11), L21 = A21 L11^{-H}, L22 = chol(A22 - L21 L21^H).
 * Differentiating (Murray 2016, blocked forward rule; only the factor is ever used, never the
 * Schur complement itself), in place on D = the stored triangle of dA:
 *   dL11 = tangent(A11);  dL21 = (dA21 - L21 dL11^H) L11^{-H};
 *   dL22 = tangent of chol at the Schur complement along dA22 - dL21 L21^H - L21 dL21^H.
 * uplo 'U' (A = U^H U) is the conjugate transpose: dU12 = U11^{-H} (dA12 - dU11^H U12), the
 * Schur complement's tangent dA22 - dU12^H U12 - U12^H dU12. Per level trmm + trsm + her2k =
 * n^3/2 flops, 2/3 n^3 in total (potrf: n^3/3); the only divisions are by the positive
 * diagonal of the factor, in the base case (the same recursion one column at a time):
 *   D_jj = Re(D_jj) / (2 L_jj)          (drops Im(dA_jj): potrf does not read it)
 *   d = (d - l D_jj) / L_jj             (d, l: the column below j ('L') / row right of j ('U'))
 *   trailing triangle -= d l^H + l d^H  ('U': d^H l + l^H d)                                 */
static void chol_tangent_base(char uplo, int n, const T *C, int ldc, T *D, int ldd) {
    for (int j = 0; j < n; ++j) {
        const R cjj = REAL(AT(C, ldc, j, j));
        const T djj = REAL(AT(D, ldd, j, j)) / (2 * cjj);
        AT(D, ldd, j, j) = djj;
        if (uplo == 'L') {
            T *d = &AT(D, ldd, 0, j);
            const T *l = &AT(C, ldc, 0, j);
            for (int i = j + 1; i < n; ++i) d[i] = (d[i] - l[i] * djj) / cjj;
            for (int c = j + 1; c < n; ++c) {
                const T dc = CONJ(d[c]), lc = CONJ(l[c]);
                for (int i = c; i < n; ++i) AT(D, ldd, i, c) -= d[i] * lc + l[i] * dc;
            }
        } else {
            for (int c = j + 1; c < n; ++c)
                AT(D, ldd, j, c) = (AT(D, ldd, j, c) - AT(C, ldc, j, c) * djj) / cjj;
            for (int c = j + 1; c < n; ++c) {
                const T dc = AT(D, ldd, j, c), uc = AT(C, ldc, j, c);
                for (int r = j + 1; r <= c; ++r)
                    AT(D, ldd, r, c) -= CONJ(AT(D, ldd, j, r)) * uc + CONJ(AT(C, ldc, j, r)) * dc;
            }
        }
    }
}

/* W: workspace for the largest off-diagonal block, chol_workspace(n) elements. */
static void chol_tangent(char uplo, int n, const T *C, int ldc, T *D, int ldd, T *W) {
    if (n <= CHOL_BASE) {
        chol_tangent_base(uplo, n, C, ldc, D, ldd);
        return;
    }
    const int k = n / 2, m = n - k;
    const T *C22 = C + k + (size_t)k * ldc;
    T *D22 = D + k + (size_t)k * ldd;
    chol_tangent(uplo, k, C, ldc, D, ldd, W);
    if (uplo == 'L') {
        const T *C21 = C + k;
        T *D21 = D + k;
        BLAS(lacpy)("A", &m, &k, C21, &ldc, W, &m);
        BLAS(trmm)("R", "L", &ADJ, "N", &m, &k, &ONE, D, &ldd, W, &m); /* L21 dL11^H */
        subtract_block(m, k, W, D21, ldd);
        IFN(trsm_blocked)('R', 'L', ADJ, 'N', m, k, 1, C, ldc, D21, ldd); /* dL21 */
        HER2K("L", "N", &m, &k, &MINUS_ONE, D21, &ldd, C21, &ldc, &REAL_ONE, D22, &ldd);
    } else {
        const T *C12 = C + (size_t)k * ldc;
        T *D12 = D + (size_t)k * ldd;
        BLAS(lacpy)("A", &k, &m, C12, &ldc, W, &k);
        BLAS(trmm)("L", "U", &ADJ, "N", &k, &m, &ONE, D, &ldd, W, &k); /* dU11^H U12 */
        subtract_block(k, m, W, D12, ldd);
        IFN(trsm_blocked)('L', 'U', ADJ, 'N', k, m, 1, C, ldc, D12, ldd); /* dU12 */
        HER2K("U", &ADJ, &m, &k, &MINUS_ONE, D12, &ldd, C12, &ldc, &REAL_ONE, D22, &ldd);
    }
    chol_tangent(uplo, m, C22, ldc, D22, ldd, W);
}

static size_t chol_workspace(int n) { return (size_t)(n - n / 2) * (size_t)(n / 2); }

/* ============================================================ potrf adjoint
 * The exact adjoint (for Re<.,.>) of chol_tangent, its steps transposed in reverse order, in
 * place on D = the stored triangle of Lbar (Ubar), which becomes that of Abar (real
 * diagonal). 'L' (Murray 2016, blocked reverse rule):
 *   adjoint(L22, D22);  D21 -= herm2(D22) L21;  D21 := D21 L11^{-1};
 *   D11 -= tril(D21^H L21);  adjoint(L11, D11),
 * herm2(S) = stril(S) + stril(S)^H + 2 diag(Re S): the transpose of "S -= d l^H + l d^H"
 * counts a stored off-diagonal entry once in each triangle and the diagonal twice (hemm gives
 * the Hermitian part, the diagonal term is added once more). 'U': D12 -= U12 herm2(D22);
 * D12 := U11^{-1} D12; D11 -= triu(U12 D12^H). hemm 2k^3 + trsm k^3 + gemm_tri k^3 per level:
 * 2/3 n^3 in total, no workspace. Base case, columns ('L') / rows ('U') from the last:
 *   d -= herm2(trailing) l;  d /= L_jj;  D_jj = Re(D_jj - <l, d>) / (2 L_jj).               */
static void chol_adjoint_base(char uplo, int n, const T *C, int ldc, T *D, int ldd) {
    for (int j = n - 1; j >= 0; --j) {
        const R cjj = REAL(AT(C, ldc, j, j));
        T s = 0;
        if (uplo == 'L') {
            T *d = &AT(D, ldd, 0, j);
            const T *l = &AT(C, ldc, 0, j);
            for (int c = j + 1; c < n; ++c) {
                const T *sc = &AT(D, ldd, 0, c);
                T acc = 2 * REAL(sc[c]) * l[c];
                for (int i = c + 1; i < n; ++i) {
                    d[i] -= sc[i] * l[c];
                    acc += CONJ(sc[i]) * l[i];
                }
                d[c] -= acc;
            }
            for (int i = j + 1; i < n; ++i) {
                d[i] /= cjj;
                s += CONJ(l[i]) * d[i];
            }
        } else {
            for (int c = j + 1; c < n; ++c) {
                const T *sc = &AT(D, ldd, 0, c);
                const T uc = AT(C, ldc, j, c);
                T acc = 2 * REAL(sc[c]) * uc;
                for (int r = j + 1; r < c; ++r) {
                    acc += AT(C, ldc, j, r) * sc[r];
                    AT(D, ldd, j, r) -= uc * CONJ(sc[r]);
                }
                AT(D, ldd, j, c) -= acc;
            }
            for (int c = j + 1; c < n; ++c) {
                AT(D, ldd, j, c) /= cjj;
                s += CONJ(AT(C, ldc, j, c)) * AT(D, ldd, j, c);
            }
        }
        AT(D, ldd, j, j) = REAL(AT(D, ldd, j, j) - s) / (2 * cjj);
    }
}

static void chol_adjoint(char uplo, int n, const T *C, int ldc, T *D, int ldd) {
    if (n <= CHOL_BASE) {
        chol_adjoint_base(uplo, n, C, ldc, D, ldd);
        return;
    }
    const int k = n / 2, m = n - k;
    const T *C22 = C + k + (size_t)k * ldc;
    T *D22 = D + k + (size_t)k * ldd;
    chol_adjoint(uplo, m, C22, ldc, D22, ldd);
    if (uplo == 'L') {
        const T *C21 = C + k;
        T *D21 = D + k;
        HEMM("L", "L", &m, &k, &MINUS_ONE, D22, &ldd, C21, &ldc, &ONE, D21, &ldd);
        for (int j = 0; j < k; ++j)
            for (int i = 0; i < m; ++i) AT(D21, ldd, i, j) -= REAL(AT(D22, ldd, i, i)) * AT(C21, ldc, i, j);
        IFN(trsm_blocked)('R', 'L', 'N', 'N', m, k, 1, C, ldc, D21, ldd);
        IFN(gemm_tri)('L', 0, ADJ, 'N', k, m, -1, D21, ldd, C21, ldc, D, ldd);
    } else {
        const T *C12 = C + (size_t)k * ldc;
        T *D12 = D + (size_t)k * ldd;
        HEMM("R", "U", &k, &m, &MINUS_ONE, D22, &ldd, C12, &ldc, &ONE, D12, &ldd);
        for (int j = 0; j < m; ++j) {
            const R djj = REAL(AT(D22, ldd, j, j));
            for (int i = 0; i < k; ++i) AT(D12, ldd, i, j) -= djj * AT(C12, ldc, i, j);
        }
        IFN(trsm_blocked)('L', 'U', 'N', 'N', k, m, 1, C, ldc, D12, ldd);
        IFN(gemm_tri)('U', 0, 'N', ADJ, k, m, -1, C12, ldc, D12, ldd, D, ldd);
    }
    chol_adjoint(uplo, k, C, ldc, D, ldd);
}

/* Tangent of potrf's output (info as potrf returned it) in D, W from chol_workspace(n). Not
 * positive definite: the leading block's tangent, NaN on the rest of the stored triangle
 * unless dA's stored triangle is zero. */
static void potrf_tangent(char uplo, int n, int info, const T *C, int ldc, T *D, int ldd, T *W) {
    const int lead = info > 0 ? info - 1 : n;
    const int defined = info == 0 || IFN(triangle_zero_outside)(uplo, n, 0, D, ldd);
    chol_tangent(uplo, lead, C, ldc, D, ldd, W);
    if (!defined) triangle_fill_nan_outside(uplo, n, lead, D, ldd);
}

/* Adjoint of potrf's output C in D; returns potrf's info. Not positive definite: the leading
 * block's adjoint when Cbar vanishes outside it (then Abar is exactly 0 there), else NaN on
 * the whole stored triangle (the partial work depends on the leading block as well). */
static int potrf_adjoint(char uplo, int n, const T *C, int ldc, T *D, int ldd) {
    const int info = first_nonpositive_pivot(n, C, ldc);
    const int lead = info ? info - 1 : n;
    if (info && !IFN(triangle_zero_outside)(uplo, n, lead, D, ldd)) {
        triangle_fill_nan_outside(uplo, n, 0, D, ldd);
        return info;
    }
    chol_adjoint(uplo, lead, C, ldc, D, ldd);
    return info;
}

/* ============================================================ potrf */
/* ?potrf's checks (uplo 1, n 2, A 3, lda 4). */
static int potrf_check(char *uplo, int n, const T *A, int lda) {
    *uplo = dl_flag(*uplo, "UL");
    if (!*uplo) return -1;
    if (n < 0) return -2;
    if (n > 0 && !A) return -3;
    if (lda < dl_max(1, n)) return -4;
    return 0;
}

static int potrf_call(char uplo, int n, T *A, int lda) {
    int info = 0;
    if (n > 0) BLAS(potrf)(&uplo, &n, A, &lda, &info);
    return info;
}

int FN(potrf)(char uplo, int n, T *A, int lda) {
    int rc = potrf_check(&uplo, n, A, lda);
    return rc ? rc : potrf_call(uplo, n, A, lda);
}

/* dC = the stored triangle of L Phi(L^{-1} Herm(dS) L^{-H}), Phi = strict lower + half the
 * (real) diagonal (Murray 2016; 'U': its conjugate transpose), by the recursion above: from
 * A = L L^H, dA = dL L^H + L dL^H, and L^{-1} dL is lower triangular. Returns potrf's info. */
int FN(potrf_fwd)(unsigned active, char uplo, int n, T *A, int lda, T *dA, int ldda) {
    int rc = potrf_check(&uplo, n, A, lda);
    if (rc) return rc;
    const int act_A = (active & DL_ACTIVE_A) != 0;
    if (act_A && n > 0 && !dA) return -106;
    if (act_A && ldda < dl_max(1, n)) return -107;
    T *W = NULL;
    if (act_A && !(W = dl_alloc(chol_workspace(n)))) return DL_ERR_ALLOC;
    const int info = potrf_call(uplo, n, A, lda);
    if (act_A) potrf_tangent(uplo, n, info, A, lda, dA, ldda, W);
    dl_free(W);
    return info;
}

/* Sbar = stril(G + G^H) + diag(Re G_ii), G = L^{-H} [stril(L^H Lbar) + diag(L^H Lbar)/2] L^{-1}
 * (Murray 2016), by the recursion above: Re<Lbar, dL> = Re<G, dA> for the tangent of
 * potrf_fwd, and the stored triangle S enters A through Herm(S). Returns the info of the
 * factorisation C came from (see potrf_adjoint). */
int FN(potrf_rev)(unsigned active, char uplo, int n, const T *C, int lda, T *dC, int lddc) {
    int rc = potrf_check(&uplo, n, C, lda);
    if (rc) return rc;
    const int act_A = (active & DL_ACTIVE_A) != 0;
    if (act_A && n > 0 && !dC) return -106;
    if (act_A && lddc < dl_max(1, n)) return -107;
    if (!act_A || n == 0) return 0;
    return potrf_adjoint(uplo, n, C, lda, dC, lddc);
}

/* ============================================================ potrs, posv */
/* ?potrs' and ?posv's checks (uplo 1, n 2, nrhs 3, A 4, lda 5, B 6, ldb 7). need_B: whether B
 * is read (an adjoint reads the solution X only for the matrix's cotangent). */
static int check_args(char *uplo, int n, int nrhs, const T *A, int lda, const T *B, int need_B, int ldb) {
    *uplo = dl_flag(*uplo, "UL");
    if (!*uplo) return -1;
    if (n < 0) return -2;
    if (nrhs < 0) return -3;
    if (n > 0 && !A) return -4;
    if (lda < dl_max(1, n)) return -5;
    if (need_B && n > 0 && nrhs > 0 && !B) return -6;
    if (ldb < dl_max(1, n)) return -7;
    return 0;
}

/* LAPACK's ?potrs, step by step (two ?trsm): the forward kernel keeps the intermediate. */
static void potrs_call(char uplo, int n, int nrhs, const T *C, int ldc, T *B, int ldb) {
    const char op1 = first_op(uplo), op2 = second_op(uplo);
    BLAS(trsm)("L", &uplo, &op1, "N", &n, &nrhs, &ONE, C, &ldc, B, &ldb);
    BLAS(trsm)("L", &uplo, &op2, "N", &n, &nrhs, &ONE, C, &ldc, B, &ldb);
}

int FN(potrs)(char uplo, int n, int nrhs, const T *C, int ldc, T *B, int ldb) {
    int rc = check_args(&uplo, n, nrhs, C, ldc, B, 1, ldb);
    if (rc) return rc;
    if (n == 0 || nrhs == 0) return 0;
    potrs_call(uplo, n, nrhs, C, ldc, B, ldb);
    return first_zero_diagonal(n, C, ldc);
}

/* Tangent of X = A^{-1} B with A = L L^H from the factor read as a general triangle (complex
 * diagonal as stored; Giles 2008: dX = A^{-1} (dB - dA X) with dA = dL L^H + L dL^H):
 *   'L': Y = L^{-1} B = L^H X,  dX = L^{-H} [L^{-1} (dB - dL Y) - dL^H X]
 *   'U': Y = U^{-H} B = U X,    dX = U^{-1} [U^{-H} (dB - dU^H Y) - dU X]
 * two trmm and two solves on top of the primal's two (Y is kept from the first). */
int FN(potrs_fwd)(unsigned active, char uplo, int n, int nrhs, const T *C, int ldc, const T *dC, int lddc,
                  T *B, int ldb, T *dB, int lddb) {
    int rc = check_args(&uplo, n, nrhs, C, ldc, B, 1, ldb);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, any = (active & (DL_ACTIVE_A | DL_ACTIVE_B)) != 0;
    const int empty = n == 0 || nrhs == 0;
    if (a_on && n > 0 && !dC) return -107;
    if (a_on && lddc < dl_max(1, n)) return -108;
    if (any && !empty && !dB) return -111;
    if (any && lddb < dl_max(1, n)) return -112;
    if (empty) return 0;
    const int singular = first_zero_diagonal(n, C, ldc);
    if (!a_on) {
        potrs_call(uplo, n, nrhs, C, ldc, B, ldb);
        if (any) chol_solve(uplo, n, nrhs, C, ldc, dB, lddb);
        return singular;
    }
    T *W = dl_alloc((size_t)n * nrhs);
    if (!W) return DL_ERR_ALLOC;
    const char op1 = first_op(uplo), op2 = second_op(uplo);
    if (!(active & DL_ACTIVE_B)) BLAS(laset)("A", &n, &nrhs, &ZERO, &ZERO, dB, &lddb);
    BLAS(trsm)("L", &uplo, &op1, "N", &n, &nrhs, &ONE, C, &ldc, B, &ldb); /* Y */
    IFN(trmm_tri)('L', uplo, op1, 0, n, nrhs, 1, dC, lddc, B, ldb, W, n);
    subtract_block(n, nrhs, W, dB, lddb);
    IFN(tri_solve)(uplo, op1, 'N', n, nrhs, C, ldc, dB, lddb);
    BLAS(trsm)("L", &uplo, &op2, "N", &n, &nrhs, &ONE, C, &ldc, B, &ldb); /* X */
    IFN(trmm_tri)('L', uplo, op2, 0, n, nrhs, 1, dC, lddc, B, ldb, W, n);
    subtract_block(n, nrhs, W, dB, lddb);
    IFN(tri_solve)(uplo, op2, 'N', n, nrhs, C, ldc, dB, lddb);
    dl_free(W);
    return singular;
}

/* Adjoint of X = A^{-1} B, A = L L^H (Giles 2008: Bbar = A^{-1} Xbar, Abar = -Bbar X^H),
 * pulled back through dA = dL L^H + L dL^H (Lbar = (Abar + Abar^H) L on the triangle, with
 * X^H L = Y^H and Bbar^H L = Z^H):
 *   'L': Z = L^{-1} Xbar, Bbar = L^{-H} Z,  Lbar += -tril(Bbar Y^H + X Z^H),  Y = L^H X
 *   'U': Z = U^{-H} Xbar, Bbar = U^{-1} Z,  Ubar += -triu(Z X^H + Y Bbar^H),  Y = U X
 * two solves, one trmm and two triangle-only products; the diagonal cotangent is complex
 * (potrs reads the factor's diagonal as stored). An all-zero Xbar contributes exactly zero,
 * also with a zero diagonal entry. */
int FN(potrs_rev)(unsigned active, char uplo, int n, int nrhs, const T *C, int ldc, T *dC, int lddc,
                  const T *X, int ldx, T *dB, int lddb) {
    int rc = check_args(&uplo, n, nrhs, C, ldc, X, (active & DL_ACTIVE_A) != 0, ldx);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, any = (active & (DL_ACTIVE_A | DL_ACTIVE_B)) != 0;
    const int empty = n == 0 || nrhs == 0;
    if (a_on && n > 0 && !dC) return -107;
    if (a_on && lddc < dl_max(1, n)) return -108;
    if (any && !empty && !dB) return -111;
    if (any && lddb < dl_max(1, n)) return -112;
    if (empty || !any) return 0;
    const int singular = first_zero_diagonal(n, C, ldc);
    if (singular && IFN(all_zero)(n, nrhs, dB, lddb)) return singular;
    if (!a_on) {
        chol_solve(uplo, n, nrhs, C, ldc, dB, lddb);
        return singular;
    }
    T *W = dl_alloc((size_t)n * nrhs);
    if (!W) return DL_ERR_ALLOC;
    const int lower = uplo == 'L';
    IFN(tri_solve)(uplo, first_op(uplo), 'N', n, nrhs, C, ldc, dB, lddb); /* Z */
    if (lower)
        IFN(gemm_tri)('L', 0, 'N', ADJ, n, nrhs, -1, X, ldx, dB, lddb, dC, lddc);
    else
        IFN(gemm_tri)('U', 0, 'N', ADJ, n, nrhs, -1, dB, lddb, X, ldx, dC, lddc);
    IFN(tri_solve)(uplo, second_op(uplo), 'N', n, nrhs, C, ldc, dB, lddb); /* Bbar */
    IFN(trmm_tri)('L', uplo, second_op(uplo), 0, n, nrhs, 1, C, ldc, X, ldx, W, n); /* Y */
    if (lower)
        IFN(gemm_tri)('L', 0, 'N', ADJ, n, nrhs, -1, dB, lddb, W, n, dC, lddc);
    else
        IFN(gemm_tri)('U', 0, 'N', ADJ, n, nrhs, -1, W, n, dB, lddb, dC, lddc);
    dl_free(W);
    return singular;
}

/* ?potrf + ?potrs, as reference LAPACK's ?posv (nrhs = 0 still factors). Not positive
 * definite (info > 0): B is left unchanged, as LAPACK leaves it. */
static int posv_call(char uplo, int n, int nrhs, T *A, int lda, T *B, int ldb) {
    const int info = potrf_call(uplo, n, A, lda);
    if (info == 0 && n > 0 && nrhs > 0) potrs_call(uplo, n, nrhs, A, lda, B, ldb);
    return info;
}

int FN(posv)(char uplo, int n, int nrhs, T *A, int lda, T *B, int ldb) {
    int rc = check_args(&uplo, n, nrhs, A, lda, B, 1, ldb);
    return rc ? rc : posv_call(uplo, n, nrhs, A, lda, B, ldb);
}

/* dX = A^{-1} (dB - Herm(dS) X) (Giles 2008) with the primal's factor: one hemm and one solve
 * (dX does not need the factor's tangent); dC by the potrf tangent only if DL_WANT_DLU. Not
 * positive definite: LAPACK leaves B unchanged, so dB keeps its tangent (the identity; zero for
 * a constant B), and dC as potrf_fwd. */
int FN(posv_fwd)(unsigned active, char uplo, int n, int nrhs, T *A, int lda, T *dA, int ldda, T *B, int ldb,
                 T *dB, int lddb) {
    int rc = check_args(&uplo, n, nrhs, A, lda, B, 1, ldb);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, b_on = (active & DL_ACTIVE_B) != 0;
    const int want_dc = a_on && (active & DL_WANT_DLU), solve = n > 0 && nrhs > 0;
    if (a_on && n > 0 && !dA) return -107;
    if (a_on && ldda < dl_max(1, n)) return -108;
    if ((a_on || b_on) && solve && !dB) return -111;
    if ((a_on || b_on) && lddb < dl_max(1, n)) return -112;
    T *W = NULL;
    if (want_dc && !(W = dl_alloc(chol_workspace(n)))) return DL_ERR_ALLOC;
    const int info = posv_call(uplo, n, nrhs, A, lda, B, ldb);
    if ((a_on || b_on) && solve) {
        if (info > 0) { /* B is left unchanged: the identity (zero tangent for a constant B) */
            if (!b_on) BLAS(laset)("A", &n, &nrhs, &ZERO, &ZERO, dB, &lddb);
        } else {
            if (a_on)
                HEMM("L", &uplo, &n, &nrhs, &MINUS_ONE, dA, &ldda, B, &ldb, b_on ? &ONE : &ZERO, dB, &lddb);
            else if (!b_on)
                BLAS(laset)("A", &n, &nrhs, &ZERO, &ZERO, dB, &lddb);
            chol_solve(uplo, n, nrhs, A, lda, dB, lddb);
        }
    }
    if (want_dc) potrf_tangent(uplo, n, info, A, lda, dA, ldda, W);
    dl_free(W);
    return info;
}

/* The adjoint of A X = B for the Hermitian A = Herm(S) (Giles 2008): Bbar = A^{-1} Xbar (one
 * solve) and Sbar = the stored part of G = -Bbar X^H, stril(G + G^H) + diag(Re G_ii) = one
 * her2k (which doubles the diagonal) plus Re(Bbar X^H)_ii back on the diagonal; plus the
 * potrf adjoint of Cbar, run first, and only when Cbar's stored triangle is nonzero. This
 * costs like A X = B, not like potrs' adjoint chained into potrf's (the same result: the potrf
 * adjoint is linear and maps potrs' factor cotangent to exactly that stored part of G). Not
 * positive definite: LAPACK left B unchanged, so Bbar = Xbar (the identity) and Sbar is the
 * potrf adjoint of Cbar alone (potrf_rev's rule). Returns the info of C. */
int FN(posv_rev)(unsigned active, char uplo, int n, int nrhs, const T *C, int lda, T *dA, int ldda,
                 const T *X, int ldx, T *dB, int lddb) {
    int rc = check_args(&uplo, n, nrhs, C, lda, X, 0, ldx);
    if (rc) return rc;
    const int a_on = (active & DL_ACTIVE_A) != 0, any = (active & (DL_ACTIVE_A | DL_ACTIVE_B)) != 0;
    if (a_on && n > 0 && !dA) return -107;
    if (a_on && ldda < dl_max(1, n)) return -108;
    if (any && n > 0 && nrhs > 0 && !dB) return -111;
    if (any && lddb < dl_max(1, n)) return -112;
    if (n == 0 || !any) return 0;
    const int info = first_nonpositive_pivot(n, C, lda);
    if (info) /* B was left unchanged: Bbar = Xbar; Cbar goes through the potrf adjoint alone */
        return a_on ? potrf_adjoint(uplo, n, C, lda, dA, ldda) : info;
    if (a_on && nrhs > 0 && !X) return -6;
    if (nrhs > 0) chol_solve(uplo, n, nrhs, C, lda, dB, lddb);
    return a_on ? IFN(posv_matrix_adjoint)(uplo, n, nrhs, C, lda, dA, ldda, X, ldx, dB, lddb) : 0;
}

int IFN(potrf_tangent_of)(char uplo, int n, int info, const T *C, int ldc, T *dA, int ldda) {
    T *W = dl_alloc(chol_workspace(n));
    if (!W) return DL_ERR_ALLOC;
    potrf_tangent(uplo, n, info, C, ldc, dA, ldda, W);
    dl_free(W);
    return 0;
}

int IFN(posv_matrix_adjoint)(char uplo, int n, int nrhs, const T *C, int ldc, T *dA, int ldda, const T *X,
                             int ldx, const T *Bbar, int ldbb) {
    const int info = first_nonpositive_pivot(n, C, ldc);
    if (info) return potrf_adjoint(uplo, n, C, ldc, dA, ldda);
    if (!IFN(triangle_zero_outside)(uplo, n, 0, dA, ldda)) chol_adjoint(uplo, n, C, ldc, dA, ldda);
    if (nrhs == 0) return 0;
    HER2K(&uplo, "N", &n, &nrhs, &MINUS_ONE, Bbar, &ldbb, X, &ldx, &REAL_ONE, dA, &ldda);
    for (int i = 0; i < n; ++i) {
        T s = 0;
        for (int k = 0; k < nrhs; ++k) s += AT(Bbar, ldbb, i, k) * CONJ(AT(X, ldx, i, k));
        AT(dA, ldda, i, i) += REAL(s);
    }
    return 0;
}
