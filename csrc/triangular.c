/* triangular.c -- trsv and trsm: primal, tangent (fwd) and adjoint (rev) kernels.
 *
 * Notation: op(A) is A or A^T (transa 'C' == 'T' for real data); tri(A) is the referenced
 * triangle of A (its strict triangle when diag == 'U', since the unit diagonal is constant).
 * Derivative results follow Giles (2008), "An extended collection of matrix derivative
 * results for forward and reverse mode algorithmic differentiation", sec. 2.2 / 3.2
 * (C = A^{-1} B: dC = A^{-1}(dB - dA C), Bbar = A^{-T} Cbar, Abar = -Bbar C^T), restricted to
 * the triangle as in de Hoog, Anderssen & Lukas (2011).
 */
#include <string.h>
#include "internal.h"

/* 1-based index of the first exactly zero diagonal entry of the k x k triangle, 0 if none
 * (LAPACK dtrtrs' info). A unit diagonal is never read. */
static int first_zero_diagonal(char diag, int k, const double *A, int lda) {
    if (diag == 'U') return 0;
    for (int i = 0; i < k; ++i)
        if (A[i + (size_t)i * lda] == 0.0) return i + 1;
    return 0;
}

/* Flags of trsv/trsm after parsing ('C' becomes 'T'); 0 on success or BLAS's -i. The side
 * flag is only parsed for trsm (side_pos > 0); positions are those of the primal routine. */
static int parse_flags(char *side, char *uplo, char *trans, char *diag, int side_pos) {
    int pos = 1;
    if (side_pos) {
        *side = dl_flag(*side, "LR");
        if (!*side) return -pos;
        ++pos;
    }
    *uplo = dl_flag(*uplo, "UL");
    if (!*uplo) return -pos;
    *trans = dl_flag(*trans, "NTC");
    if (!*trans) return -(pos + 1);
    if (*trans == 'C') *trans = 'T';
    *diag = dl_flag(*diag, "NU");
    if (!*diag) return -(pos + 2);
    return 0;
}

/* Argument checks of dtrsv (xerbla numbering: uplo 1, trans 2, diag 3, n 4, lda 6, incx 8). */
static int check_trsv(char *uplo, char *trans, char *diag, int n, int lda, int incx) {
    char side = 'L';
    int info = parse_flags(&side, uplo, trans, diag, 0);
    if (info) return info;
    if (n < 0) return -4;
    if (lda < dl_max(1, n)) return -6;
    if (incx == 0) return -8;
    return 0;
}

/* Argument checks of dtrsm (side 1, uplo 2, transa 3, diag 4, m 5, n 6, lda 9, ldb 11). */
static int check_trsm(char *side, char *uplo, char *transa, char *diag, int m, int n, int lda,
                      int ldb) {
    int info = parse_flags(side, uplo, transa, diag, 1);
    if (info) return info;
    if (m < 0) return -5;
    if (n < 0) return -6;
    if (lda < dl_max(1, *side == 'L' ? m : n)) return -9;
    if (ldb < dl_max(1, m)) return -11;
    return 0;
}

/* ------------------------------------------------------------------------------- trsv */

int dl_dtrsv(char uplo, char trans, char diag, int n, const double *A, int lda,
             double *x, int incx) {
    int info = check_trsv(&uplo, &trans, &diag, n, lda, incx);
    if (info) return info;
    if (n == 0) return 0;
    dtrsv_(&uplo, &trans, &diag, &n, A, &lda, x, &incx);
    return first_zero_diagonal(diag, n, A, lda);
}

/* Tangent of x = op(A)^{-1} b:  op(A) x = b  =>  op(dA) x + op(A) dx = db, so
 *     dx = op(A)^{-1} (db - op(tri(dA)) x)                       (Giles 2008, sec. 2.2.3)
 * computed as one trmv of dA on a contiguous copy of x and one trsv. Only tri(dA) is read. */
int dl_dtrsv_fwd(unsigned active, char uplo, char trans, char diag, int n,
                 const double *A, int lda, const double *dA, int ldda,
                 double *x, int incx, double *dx, int incdx) {
    int info = check_trsv(&uplo, &trans, &diag, n, lda, incx);
    if (info) return info;
    const int act_A = (active & DL_ACTIVE_A) != 0, act_b = (active & DL_ACTIVE_B) != 0;
    if (act_A && ldda < dl_max(1, n)) return -109;
    if (dx && incdx == 0) return -113;
    if ((act_A || act_b) && !dx) return -112;
    if (n == 0) return 0;

    double *w = NULL;
    if (act_A) {
        w = dl_alloc((size_t)n);
        if (!w) return DL_ERR_ALLOC;
    }
    const int one = 1;
    dtrsv_(&uplo, &trans, &diag, &n, A, &lda, x, &incx);
    if (!act_A && !act_b) { /* nothing varies: the tangent is zero */
        if (dx) {
            const double zero = 0.0;
            for (int i = 0; i < n; ++i) dx[(size_t)i * (incdx > 0 ? incdx : -incdx)] = zero;
        }
        return first_zero_diagonal(diag, n, A, lda);
    }
    if (act_A) { /* dx := db - op(dA) x, or -op(dA) x when b is constant */
        dcopy_(&n, x, &incx, w, &one);
        dl_trmm_tri('L', uplo, trans, diag == 'U', n, 1, act_b ? 1.0 : -1.0, dA, ldda, w, n, w, n);
        if (act_b) {
            const double minus_one = -1.0;
            daxpy_(&n, &minus_one, w, &one, dx, &incdx);
        } else {
            dcopy_(&n, w, &one, dx, &incdx);
        }
    }
    dtrsv_(&uplo, &trans, &diag, &n, A, &lda, dx, &incdx);
    dl_free(w);
    return first_zero_diagonal(diag, n, A, lda);
}

/* Adjoint of x = op(A)^{-1} b.  From <xbar, dx> = <op(A)^{-T} xbar, db - op(dA) x>:
 *     bbar = op(A)^{-T} xbar,   op(A)bar = -bbar x^T, i.e. Abar = -bbar x^T (N), -x bbar^T (T),
 * projected onto tri(A) (Giles 2008, sec. 3.2.3). One trsv and one rank-1 update restricted to
 * the triangle (dl_gemm_tri with k = 1). Uses the solution x, never b. */
int dl_dtrsv_rev(unsigned active, char uplo, char trans, char diag, int n,
                 const double *A, int lda, double *dA, int ldda,
                 const double *x, int incx, double *dx, int incdx) {
    int info = check_trsv(&uplo, &trans, &diag, n, lda, incx);
    if (info) return info;
    const int act_A = (active & DL_ACTIVE_A) != 0, act_b = (active & DL_ACTIVE_B) != 0;
    if (act_A && ldda < dl_max(1, n)) return -109;
    if (!act_A && !act_b) return 0;
    if (!dx) return -112;
    if (incdx == 0) return -113;
    if (n == 0) return 0;

    const char trans_adj = dl_flip_trans(trans);
    dtrsv_(&uplo, &trans_adj, &diag, &n, A, &lda, dx, &incdx);
    if (act_A) {
        const int one = 1;
        /* contiguous copies only for strided vectors (BLAS order for negative increments) */
        double *work = NULL;
        const double *xc = x, *bbar = dx;
        int need = (incx != 1) + (incdx != 1);
        if (need) {
            work = dl_alloc((size_t)need * n);
            if (!work) return DL_ERR_ALLOC;
            double *next = work;
            if (incx != 1) { dcopy_(&n, x, &incx, next, &one); xc = next; next += n; }
            if (incdx != 1) { dcopy_(&n, dx, &incdx, next, &one); bbar = next; }
        }
        const double *left = trans == 'N' ? bbar : xc, *right = trans == 'N' ? xc : bbar;
        dl_gemm_tri(uplo, diag == 'U', 'N', 'N', n, 1, -1.0, left, n, right, 1, dA, ldda);
        dl_free(work);
    }
    return first_zero_diagonal(diag, n, A, lda);
}

/* ------------------------------------------------------------------------------- trsm */

int dl_dtrsm(char side, char uplo, char transa, char diag, int m, int n, double alpha,
             const double *A, int lda, double *B, int ldb) {
    int info = check_trsm(&side, &uplo, &transa, &diag, m, n, lda, ldb);
    if (info) return info;
    const int k = side == 'L' ? m : n;
    /* the gemm-rich recursive solve (~15% faster than OpenBLAS's dtrsm at n = 1000); the
     * fused primal of dl_dtrsm_fwd uses it too, so X is bitwise the same in every mode */
    if (m > 0 && n > 0) dl_trsm_blocked(side, uplo, transa, diag, m, n, alpha, A, lda, B, ldb);
    return first_zero_diagonal(diag, k, A, lda);
}

/* Tangent of X = alpha op(A)^{-1} B (side L):  op(dA) X + op(A) dX = dalpha B + alpha dB, so
 *     dX = op(A)^{-1} (alpha dB + dalpha B - op(tri(dA)) X)      (Giles 2008, sec. 2.2.3)
 * and, side R (X op(A) = alpha B), dX = (alpha dB + dalpha B - X op(tri(dA))) op(A)^{-1}.
 * BLAS-3 only: the dalpha term is formed from B before the primal solve overwrites it (so
 * alpha == 0 needs no special case), op(dA) X is one trmm (exact strict variant for a unit
 * diagonal), the solve is one trsm; alpha is folded into that pass or the trsm's alpha. */
int dl_dtrsm_fwd(unsigned active, char side, char uplo, char transa, char diag, int m, int n,
                 double alpha, double dalpha, const double *A, int lda, const double *dA, int ldda,
                 double *B, int ldb, double *dB, int lddb) {
    int info = check_trsm(&side, &uplo, &transa, &diag, m, n, lda, ldb);
    if (info) return info;
    const int k = side == 'L' ? m : n;
    const int act_A = (active & DL_ACTIVE_A) != 0, act_B = (active & DL_ACTIVE_B) != 0,
              act_alpha = (active & DL_ACTIVE_ALPHA) != 0;
    const int any = act_A || act_B || act_alpha;
    if (act_A && ldda < dl_max(1, k)) return -113;
    if (any && !dB) return -116;
    if (dB && lddb < dl_max(1, m)) return -117;
    const int sing = first_zero_diagonal(diag, k, A, lda);
    if (m == 0 || n == 0) return sing;
    if (!any) {
        dl_trsm_blocked(side, uplo, transa, diag, m, n, alpha, A, lda, B, ldb);
        if (dB) {
            const double zero = 0.0;
            dlaset_("A", &m, &n, &zero, &zero, dB, &lddb);
        }
        return sing;
    }

    double *W = NULL; /* -op(dA) X when dB already holds other terms */
    if (act_A && (act_B || act_alpha)) {
        W = dl_alloc((size_t)m * n);
        if (!W) return DL_ERR_ALLOC;
    }
    /* scale still to apply to dB's content: folded into a later pass or the final trsm */
    double pending = 1.0;
    if (act_alpha) {
        for (int j = 0; j < n; ++j) {
            double *d = dB + (size_t)j * lddb;
            const double *b = B + (size_t)j * ldb;
            if (act_B)
                for (int i = 0; i < m; ++i) d[i] = alpha * d[i] + dalpha * b[i];
            else
                for (int i = 0; i < m; ++i) d[i] = dalpha * b[i];
        }
    } else if (act_B) {
        pending = alpha;
    }
    dl_trsm_blocked(side, uplo, transa, diag, m, n, alpha, A, lda, B, ldb);
    if (act_A) {
        const int strict = diag == 'U';
        if (W) {
            dl_trmm_tri(side, uplo, transa, strict, m, n, -1.0, dA, ldda, B, ldb, W, m);
            for (int j = 0; j < n; ++j) {
                double *d = dB + (size_t)j * lddb;
                const double *w = W + (size_t)j * m;
                if (pending == 1.0)
                    for (int i = 0; i < m; ++i) d[i] += w[i];
                else
                    for (int i = 0; i < m; ++i) d[i] = pending * d[i] + w[i];
            }
            pending = 1.0;
        } else {
            dl_trmm_tri(side, uplo, transa, strict, m, n, -1.0, dA, ldda, B, ldb, dB, lddb);
        }
    }
    dl_trsm_blocked(side, uplo, transa, diag, m, n, pending, A, lda, dB, lddb);
    dl_free(W);
    return sing;
}

/* sum_ij P(i,j) Q(i,j) of two m x n matrices */
static double frobenius_dot(int m, int n, const double *P, int ldp, const double *Q, int ldq) {
    const int one = 1;
    double s = 0.0;
    for (int j = 0; j < n; ++j) s += ddot_(&m, P + (size_t)j * ldp, &one, Q + (size_t)j * ldq, &one);
    return s;
}

/* Adjoint of X = alpha op(A)^{-1} B (side L). With G = op(A)^{-T} Xbar,
 * <Xbar, dX> = <G, alpha dB + dalpha B - op(dA) X>, hence           (Giles 2008, sec. 3.2.3)
 *     Bbar = alpha G,  alphabar = <G, B>,  op(A)bar = -G X^T  (Abar = -G X^T or -X G^T),
 * and side R (G = Xbar op(A)^{-T}): op(A)bar = -X^T G (Abar = -X^T G or -G^T X).
 * Abar is projected onto tri(A) and formed by dl_gemm_tri (half a gemm) from Bbar and X with
 * the factor -1/alpha folded into its alpha; alphabar = <Bbar, B0>/alpha, or <Xbar, X>/alpha
 * when B0 is NULL (taken before Xbar is overwritten). alpha == 0: X = 0 so Abar gets nothing,
 * Bbar = 0, and alphabar = <G, B0> needs B0 (else -115). */
int dl_dtrsm_rev(unsigned active, char side, char uplo, char transa, char diag, int m, int n,
                 double alpha, const double *A, int lda, double *dA, int ldda,
                 const double *X, int ldx, const double *B0, int ldb0,
                 double *dB, int lddb, double *dalpha) {
    int info = check_trsm(&side, &uplo, &transa, &diag, m, n, lda, ldx);
    if (info) return info;
    const int k = side == 'L' ? m : n;
    const int act_A = (active & DL_ACTIVE_A) != 0, act_B = (active & DL_ACTIVE_B) != 0,
              act_alpha = (active & DL_ACTIVE_ALPHA) != 0;
    if (act_A && ldda < dl_max(1, k)) return -112;
    if (act_alpha && B0 && ldb0 < dl_max(1, m)) return -116;
    if (act_alpha && !dalpha) return -119;
    if (act_alpha && !B0 && alpha == 0.0) return -115;
    const int sing = first_zero_diagonal(diag, k, A, lda);
    if (!act_A && !act_B && !act_alpha) return sing;
    if (!dB) return -117;
    if (lddb < dl_max(1, m)) return -118;
    if (m == 0 || n == 0) return sing;

    const char trans_adj = dl_flip_trans(transa);
    if (alpha == 0.0) {
        const double one = 1.0, zero = 0.0;
        if (act_alpha) {
            dtrsm_(&side, &uplo, &trans_adj, &diag, &m, &n, &one, A, &lda, dB, &lddb);
            *dalpha += frobenius_dot(m, n, dB, lddb, B0, ldb0);
        }
        dlaset_("A", &m, &n, &zero, &zero, dB, &lddb);
        return sing;
    }
    if (act_alpha && !B0) *dalpha += frobenius_dot(m, n, dB, lddb, X, ldx) / alpha;
    dl_trsm_blocked(side, uplo, trans_adj, diag, m, n, alpha, A, lda, dB, lddb);
    if (act_alpha && B0) *dalpha += frobenius_dot(m, n, dB, lddb, B0, ldb0) / alpha;
    if (act_A) {
        const double scale = -1.0 / alpha;
        const int strict = diag == 'U';
        const int nt = transa == 'N';
        if (side == 'L')
            dl_gemm_tri(uplo, strict, 'N', 'T', m, n, scale, nt ? dB : X, nt ? lddb : ldx,
                        nt ? X : dB, nt ? ldx : lddb, dA, ldda);
        else
            dl_gemm_tri(uplo, strict, 'T', 'N', n, m, scale, nt ? X : dB, nt ? ldx : lddb,
                        nt ? dB : X, nt ? lddb : ldx, dA, ldda);
    }
    return sing;
}
