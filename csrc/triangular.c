/* triangular.c -- trsv and trsm: primal, tangent (fwd) and adjoint (rev) kernels, written once
 * over the element type T (compiled for s, d, c, z; see precision.h).
 *
 * Notation: op(A) is A, A^T or A^H (transa 'N', 'T', 'C'; 'C' == 'T' for real data); tri(A) is
 * the referenced triangle of A (its strict triangle when diag == 'U', since the unit diagonal
 * is constant). Derivative results follow Giles (2008), "An extended collection of matrix
 * derivative results for forward and reverse mode algorithmic differentiation", sec. 2.2 / 3.2
 * (C = A^{-1} B: dC = A^{-1}(dB - dA C), Bbar = A^{-H} Cbar, Abar = -Bbar C^H in the complex
 * convention zbar = dL/dRe z + i dL/dIm z), restricted to the triangle as in de Hoog, Anderssen
 * & Lukas (2011). The cotangent of the matrix M = op(A) maps back to A through op: Abar = Mbar
 * (N), Mbar^T (T), Mbar^H (C).
 */
#include <string.h>
#include "precision.h"
#include "internal.h"

static const T ZERO = 0, MINUS_ONE = -1;
static const int INC1 = 1;

/* 1-based index of the first exactly zero diagonal entry of the k x k triangle, 0 if none
 * (LAPACK ?trtrs' info). A unit diagonal is never read. */
static int first_zero_diagonal(char diag, int k, const T *A, int lda) {
    return diag == 'U' ? 0 : IFN(first_zero_diagonal)(k, A, lda);
}

/* Flags of trsv/trsm after parsing ('C' becomes 'T' for real data); 0 on success or BLAS's
 * -i. The side flag is only parsed for trsm (side_pos > 0); positions are those of the primal
 * routine. */
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
    if (!DL_IS_COMPLEX && *trans == 'C') *trans = 'T';
    *diag = dl_flag(*diag, "NU");
    if (!*diag) return -(pos + 2);
    return 0;
}

/* Argument checks of ?trsv (xerbla numbering: uplo 1, trans 2, diag 3, n 4, A 5, lda 6, x 7,
 * incx 8; a NULL array that would be read is reported at its own position). need_x: whether x
 * is read (an adjoint reads the solution x only for A's cotangent). */
static int check_trsv(char *uplo, char *trans, char *diag, int n, const T *A, int lda,
                      const T *x, int need_x, int incx) {
    char side = 'L';
    int info = parse_flags(&side, uplo, trans, diag, 0);
    if (info) return info;
    if (n < 0) return -4;
    if (n > 0 && !A) return -5;
    if (lda < dl_max(1, n)) return -6;
    if (need_x && n > 0 && !x) return -7;
    if (incx == 0) return -8;
    return 0;
}

/* Argument checks of ?trsm (side 1, uplo 2, transa 3, diag 4, m 5, n 6, alpha 7, A 8, lda 9,
 * B 10, ldb 11). need_B: whether B is read (an adjoint reads the solution X only for the
 * cotangents of A and alpha). */
static int check_trsm(char *side, char *uplo, char *transa, char *diag, int m, int n,
                      const T *alpha, const T *A, int lda, const T *B, int need_B, int ldb) {
    int info = parse_flags(side, uplo, transa, diag, 1);
    if (info) return info;
    if (m < 0) return -5;
    if (n < 0) return -6;
    if (!alpha) return -7;
    const int k = *side == 'L' ? m : n, empty = m == 0 || n == 0;
    if (k > 0 && !A) return -8;
    if (lda < dl_max(1, k)) return -9;
    if (need_B && !empty && !B) return -10;
    if (ldb < dl_max(1, m)) return -11;
    return 0;
}

/* |inc| as a step (inc == INT_MIN is a legal BLAS increment for a 1-element vector; negating
 * it as an int would overflow). */
static size_t inc_step(int inc) { return (size_t)(inc < 0 ? -(long long)inc : (long long)inc); }

static int vector_is_zero(int n, const T *v, int inc) {
    const size_t step = inc_step(inc);
    for (int i = 0; i < n; ++i)
        if (v[(size_t)i * step] != 0) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------- trsv */

int FN(trsv)(char uplo, char trans, char diag, int n, const T *A, int lda, T *x, int incx) {
    int info = check_trsv(&uplo, &trans, &diag, n, A, lda, x, 1, incx);
    if (info) return info;
    if (n == 0) return 0;
    IFN(trsv)(uplo, trans, diag, n, A, lda, x, incx);
    return first_zero_diagonal(diag, n, A, lda);
}

/* Tangent of x = op(A)^{-1} b:  op(A) x = b  =>  op(dA) x + op(A) dx = db, so
 *     dx = op(A)^{-1} (db - op(tri(dA)) x)                       (Giles 2008, sec. 2.2.3)
 * computed as one trmv of dA on a contiguous copy of x and one trsv. Only tri(dA) is read. */
int FN(trsv_fwd)(unsigned active, char uplo, char trans, char diag, int n, const T *A, int lda,
                 const T *dA, int ldda, T *x, int incx, T *dx, int incdx) {
    return IFN(trsv_fwd_solving)(IFN(trsv), active, uplo, trans, diag, n, A, lda, dA, ldda, x, incx, dx, incdx);
}

int IFN(trsv_fwd_solving)(IFN(trsv_solver) solve, unsigned active, char uplo, char trans, char diag,
                          int n, const T *A, int lda, const T *dA, int ldda, T *x, int incx, T *dx,
                          int incdx) {
    int info = check_trsv(&uplo, &trans, &diag, n, A, lda, x, 1, incx);
    if (info) return info;
    const int act_A = (active & DL_ACTIVE_A) != 0, act_b = (active & DL_ACTIVE_B) != 0;
    if (act_A && n > 0 && !dA) return -108;
    if (act_A && ldda < dl_max(1, n)) return -109;
    if ((act_A || act_b) && !dx) return -112;
    if (dx && incdx == 0) return -113;
    if (n == 0) return 0;

    T *w = NULL;
    if (act_A) {
        w = dl_alloc((size_t)n);
        if (!w) return DL_ERR_ALLOC;
    }
    solve(uplo, trans, diag, n, A, lda, x, incx);
    const int sing = first_zero_diagonal(diag, n, A, lda);
    if (!act_A && !act_b) { /* nothing varies: the tangent is zero */
        if (dx) {
            const size_t step = inc_step(incdx);
            for (int i = 0; i < n; ++i) dx[(size_t)i * step] = 0;
        }
        return sing;
    }
    if (act_A) { /* dx := db - op(dA) x, or -op(dA) x when b is constant */
        BLAS(copy)(&n, x, &incx, w, &INC1);
        IFN(trmm_tri)('L', uplo, trans, diag == 'U', n, 1, act_b ? 1 : -1, dA, ldda, w, n, w, n);
        if (act_b)
            BLAS(axpy)(&n, &MINUS_ONE, w, &INC1, dx, &incdx);
        else
            BLAS(copy)(&n, w, &INC1, dx, &incdx);
    }
    IFN(trsv)(uplo, trans, diag, n, A, lda, dx, incdx);
    dl_free(w);
    return sing;
}

/* Adjoint of x = op(A)^{-1} b. From Re<xbar, dx> = Re<op(A)^{-H} xbar, db - op(dA) x>:
 *     bbar = op(A)^{-H} xbar,   op(A)bar = -bbar x^H,
 * i.e. Abar = -bbar x^H (N), -conj(x) bbar^T (T), -x bbar^H (C), projected onto tri(A) (Giles
 * 2008, sec. 3.2.3). One trsv and one rank-1 update restricted to the triangle (gemm_tri with
 * k = 1). Uses the solution x, never b. An all-zero xbar returns at once: it contributes
 * exactly zero, also through a zero diagonal entry (where the solve would make 0/0 = NaN). */
int FN(trsv_rev)(unsigned active, char uplo, char trans, char diag, int n, const T *A, int lda,
                 T *dA, int ldda, const T *x, int incx, T *dx, int incdx) {
    int info = check_trsv(&uplo, &trans, &diag, n, A, lda, x, (active & DL_ACTIVE_A) != 0, incx);
    if (info) return info;
    const int act_A = (active & DL_ACTIVE_A) != 0, act_b = (active & DL_ACTIVE_B) != 0;
    if (act_A && n > 0 && !dA) return -108;
    if (act_A && ldda < dl_max(1, n)) return -109;
    const int any = act_A || act_b;
    if (any && !dx) return -112;
    if (any && incdx == 0) return -113;
    const int sing = first_zero_diagonal(diag, n, A, lda); /* also with nothing active */
    if (!any || n == 0 || vector_is_zero(n, dx, incdx)) return sing;

    /* contiguous copies for the rank-1 update: x (conjugated for op = T on complex data, see
     * below) and bbar, only where the caller's vectors are strided */
    const int conj_x = DL_IS_COMPLEX && trans == 'T';
    T *work = NULL;
    const T *xc = x;
    if (act_A && (incx != 1 || incdx != 1 || conj_x)) {
        work = dl_alloc(2 * (size_t)n);
        if (!work) return DL_ERR_ALLOC;
    }
    if (dl_adjoint_needs_conj(trans)) { /* op(A)^{-H} = conj(A)^{-1}: solve with A on conj(xbar) */
        IFN(conj_vector)(n, dx, incdx);
        IFN(trsv)(uplo, 'N', diag, n, A, lda, dx, incdx);
        IFN(conj_vector)(n, dx, incdx);
    } else {
        const char adj = dl_adjoint_op(trans);
        IFN(trsv)(uplo, adj, diag, n, A, lda, dx, incdx);
    }
    if (act_A) {
        const T *bbar = dx;
        if (work) {
            T *xw = work, *bw = work + n;
            BLAS(copy)(&n, x, &incx, xw, &INC1);
            if (conj_x) IFN(conj_vector)(n, xw, 1);
            xc = xw;
            if (incdx != 1) { BLAS(copy)(&n, dx, &incdx, bw, &INC1); bbar = bw; }
        }
        /* left (n x 1) times right^op (1 x n): N: bbar x^H; T: conj(x) bbar^T; C: x bbar^H */
        const T *left = trans == 'N' ? bbar : xc, *right = trans == 'N' ? xc : bbar;
        const char op_right = trans == 'T' ? 'T' : 'C';
        IFN(gemm_tri)(uplo, diag == 'U', 'N', op_right, n, 1, -1, left, n, right, n, dA, ldda);
    }
    dl_free(work);
    return sing;
}

/* ------------------------------------------------------------------------------- trsm */

int FN(trsm)(char side, char uplo, char transa, char diag, int m, int n, const T *alpha,
             const T *A, int lda, T *B, int ldb) {
    int info = check_trsm(&side, &uplo, &transa, &diag, m, n, alpha, A, lda, B, 1, ldb);
    if (info) return info;
    const int k = side == 'L' ? m : n;
    /* the gemm-rich recursive solve (~15% faster than OpenBLAS's dtrsm at n = 1000); the
     * fused primal of trsm_fwd uses it too, so X is bitwise the same in every mode */
    if (m > 0 && n > 0) IFN(trsm_blocked)(side, uplo, transa, diag, m, n, *alpha, A, lda, B, ldb);
    return first_zero_diagonal(diag, k, A, lda);
}

/* Tangent of X = alpha op(A)^{-1} B (side L):  op(dA) X + op(A) dX = dalpha B + alpha dB, so
 *     dX = op(A)^{-1} (alpha dB + dalpha B - op(tri(dA)) X)      (Giles 2008, sec. 2.2.3)
 * and, side R (X op(A) = alpha B), dX = (alpha dB + dalpha B - X op(tri(dA))) op(A)^{-1}.
 * BLAS-3 only: the dalpha term is formed from B before the primal solve overwrites it (so
 * alpha == 0 needs no special case), op(dA) X is one trmm (exact strict variant for a unit
 * diagonal), the solve is one trsm; alpha is folded into that pass or the trsm's alpha. */
int FN(trsm_fwd)(unsigned active, char side, char uplo, char transa, char diag, int m, int n,
                 const T *alpha, const T *dalpha, const T *A, int lda, const T *dA, int ldda,
                 T *B, int ldb, T *dB, int lddb) {
    return IFN(trsm_fwd_solving)(IFN(trsm_blocked), active, side, uplo, transa, diag, m, n, alpha, dalpha, A, lda,
                                 dA, ldda, B, ldb, dB, lddb);
}

int IFN(trsm_fwd_solving)(IFN(trsm_solver) solve, unsigned active, char side, char uplo, char transa,
                          char diag, int m, int n, const T *alpha, const T *dalpha, const T *A,
                          int lda, const T *dA, int ldda, T *B, int ldb, T *dB, int lddb) {
    int info = check_trsm(&side, &uplo, &transa, &diag, m, n, alpha, A, lda, B, 1, ldb);
    if (info) return info;
    const int k = side == 'L' ? m : n;
    const int act_A = (active & DL_ACTIVE_A) != 0, act_B = (active & DL_ACTIVE_B) != 0,
              act_alpha = (active & DL_ACTIVE_ALPHA) != 0;
    const int any = act_A || act_B || act_alpha, empty = m == 0 || n == 0;
    if (act_alpha && !dalpha) return -109;
    if (act_A && k > 0 && !dA) return -112;
    if (act_A && ldda < dl_max(1, k)) return -113;
    if (any && !empty && !dB) return -116;
    if (dB && lddb < dl_max(1, m)) return -117;
    const int sing = first_zero_diagonal(diag, k, A, lda);
    if (empty) return sing;
    const T al = *alpha;
    if (!any) {
        solve(side, uplo, transa, diag, m, n, al, A, lda, B, ldb);
        if (dB) BLAS(laset)("A", &m, &n, &ZERO, &ZERO, dB, &lddb);
        return sing;
    }

    T *W = NULL; /* -op(dA) X when dB already holds other terms */
    if (act_A && (act_B || act_alpha)) {
        W = dl_alloc((size_t)m * n);
        if (!W) return DL_ERR_ALLOC;
    }
    /* scale still to apply to dB's content: folded into a later pass or the final trsm */
    T pending = 1;
    if (act_alpha) {
        const T da = *dalpha;
        for (int j = 0; j < n; ++j) {
            T *d = dB + (size_t)j * lddb;
            const T *b = B + (size_t)j * ldb;
            if (act_B)
                for (int i = 0; i < m; ++i) d[i] = al * d[i] + da * b[i];
            else
                for (int i = 0; i < m; ++i) d[i] = da * b[i];
        }
    } else if (act_B) {
        pending = al;
    }
    solve(side, uplo, transa, diag, m, n, al, A, lda, B, ldb);
    if (act_A) {
        const int strict = diag == 'U';
        if (W) {
            IFN(trmm_tri)(side, uplo, transa, strict, m, n, -1, dA, ldda, B, ldb, W, m);
            for (int j = 0; j < n; ++j) {
                T *d = dB + (size_t)j * lddb;
                const T *w = W + (size_t)j * m;
                if (pending == 1)
                    for (int i = 0; i < m; ++i) d[i] += w[i];
                else
                    for (int i = 0; i < m; ++i) d[i] = pending * d[i] + w[i];
            }
            pending = 1;
        } else {
            IFN(trmm_tri)(side, uplo, transa, strict, m, n, -1, dA, ldda, B, ldb, dB, lddb);
        }
    }
    IFN(trsm_blocked)(side, uplo, transa, diag, m, n, pending, A, lda, dB, lddb);
    dl_free(W);
    return sing;
}

/* Adjoint of X = alpha op(A)^{-1} B (side L). With G = op(A)^{-H} Xbar,
 * Re<Xbar, dX> = Re<G, alpha dB + dalpha B - op(dA) X>, hence       (Giles 2008, sec. 3.2.3)
 *     Bbar = conj(alpha) G,  alphabar = <B, G> = sum conj(B) .* G,  op(A)bar = -G X^H,
 * and side R (X op(A) = alpha B, G = Xbar op(A)^{-H}): op(A)bar = -X^H G. Abar = op(A)bar
 * (N), its transpose (T) or its conjugate transpose (C), projected onto tri(A) and formed by
 * gemm_tri (half a gemm) from G and X. G is computed with alpha = 1 and scaled into Bbar last,
 * so no product alpha^2 is ever formed (alpha near the over- or underflow threshold stays
 * exact). alphabar = <B0, G>, or <X, Xbar> / conj(alpha) when B0 is NULL (taken before Xbar is
 * overwritten). An all-zero Xbar with a zero diagonal entry contributes exactly zero. */
int FN(trsm_rev)(unsigned active, char side, char uplo, char transa, char diag, int m, int n,
                 const T *alpha, const T *A, int lda, T *dA, int ldda, const T *X, int ldx,
                 const T *B0, int ldb0, T *dB, int lddb, T *dalpha) {
    const int need_X = (active & DL_ACTIVE_A) || ((active & DL_ACTIVE_ALPHA) && !B0);
    int info = check_trsm(&side, &uplo, &transa, &diag, m, n, alpha, A, lda, X, need_X, ldx);
    if (info) return info;
    const int k = side == 'L' ? m : n;
    const int act_A = (active & DL_ACTIVE_A) != 0, act_B = (active & DL_ACTIVE_B) != 0,
              act_alpha = (active & DL_ACTIVE_ALPHA) != 0, empty = m == 0 || n == 0;
    const T al = *alpha;
    if (act_A && k > 0 && !dA) return -111;
    if (act_A && ldda < dl_max(1, k)) return -112;
    if (act_alpha && !B0 && al == 0) return -115;
    if (act_alpha && B0 && ldb0 < dl_max(1, m)) return -116;
    if (act_alpha && !dalpha) return -119;
    const int any = act_A || act_B || act_alpha;
    if (any && !dB && !empty) return -117;
    if (any && lddb < dl_max(1, m)) return -118;
    /* every argument is checked before A's diagonal is read */
    const int sing = first_zero_diagonal(diag, k, A, lda);
    if (!any) return sing;
    if (empty || (sing && IFN(all_zero)(m, n, dB, lddb))) return sing;

    T *W = NULL; /* conj(X) for the op = T projection of complex data */
    const int conj_x = DL_IS_COMPLEX && transa == 'T' && act_A && al != 0;
    if (conj_x) {
        W = dl_alloc((size_t)m * n);
        if (!W) return DL_ERR_ALLOC;
        IFN(copy_conj)(m, n, X, ldx, W);
    }
    if (act_alpha && !B0) *dalpha += IFN(inner)(m, n, X, ldx, dB, lddb) / CONJ(al);
    /* G = op(A)^{-H} Xbar (side L) / Xbar op(A)^{-H} (side R), in place in dB */
    if (dl_adjoint_needs_conj(transa)) {
        IFN(conj_matrix)(m, n, dB, lddb);
        IFN(trsm_blocked)(side, uplo, 'N', diag, m, n, 1, A, lda, dB, lddb);
        IFN(conj_matrix)(m, n, dB, lddb);
    } else {
        IFN(trsm_blocked)(side, uplo, dl_adjoint_op(transa), diag, m, n, 1, A, lda, dB, lddb);
    }
    if (act_alpha && B0) *dalpha += IFN(inner)(m, n, B0, ldb0, dB, lddb);
    if (act_A && al != 0) { /* alpha == 0 gives X == 0: nothing to add */
        const int strict = diag == 'U';
        const T *Xo = conj_x ? W : X; /* X, or conj(X) for op = T */
        const int ldxo = conj_x ? m : ldx;
        if (side == 'L') { /* N: -G X^H; T: -conj(X) G^T; C: -X G^H (all m x m, k = n) */
            if (transa == 'N')
                IFN(gemm_tri)(uplo, strict, 'N', 'C', m, n, -1, dB, lddb, X, ldx, dA, ldda);
            else
                IFN(gemm_tri)(uplo, strict, 'N', transa, m, n, -1, Xo, ldxo, dB, lddb, dA, ldda);
        } else { /* N: -X^H G; T: -G^T conj(X); C: -G^H X (all n x n, k = m) */
            if (transa == 'N')
                IFN(gemm_tri)(uplo, strict, 'C', 'N', n, m, -1, X, ldx, dB, lddb, dA, ldda);
            else
                IFN(gemm_tri)(uplo, strict, transa, 'N', n, m, -1, dB, lddb, Xo, ldxo, dA, ldda);
        }
    }
    /* Bbar = conj(alpha) G */
    const T scale = CONJ(al);
    for (int j = 0; j < n; ++j) {
        T *d = dB + (size_t)j * lddb;
        if (scale == 0)
            for (int i = 0; i < m; ++i) d[i] = 0;
        else if (scale != 1)
            BLAS(scal)(&m, &scale, d, &INC1);
    }
    dl_free(W);
    return sing;
}

/* ------------------------------------------------------------------------------- trtrs */
/* ?trtrs = ?trsm (side L, alpha 1) with LAPACK's singularity test: an exactly zero A(i,i)
 * (diag 'N') is found BEFORE B is touched, B is left unchanged and info = i (reference LAPACK
 * and OpenBLAS alike). The rules are the trsm kernels'; with info > 0 the buffer is unchanged,
 * so its derivative is the identity: dX = dB, Bbar = Xbar, nothing for A. */

/* ?trtrs's checks (uplo 1, trans 2, diag 3, n 4, nrhs 5, A 6, lda 7, B 8, ldb 9). need_B:
 * whether B is read (an adjoint reads the solution X only for A's cotangent). */
static int check_trtrs(char *uplo, char *trans, char *diag, int n, int nrhs, const T *A, int lda,
                       const T *B, int need_B, int ldb) {
    char side = 'L';
    int info = parse_flags(&side, uplo, trans, diag, 0);
    if (info) return info;
    if (n < 0) return -4;
    if (nrhs < 0) return -5;
    if (n > 0 && !A) return -6;
    if (lda < dl_max(1, n)) return -7;
    if (need_B && n > 0 && nrhs > 0 && !B) return -8;
    if (ldb < dl_max(1, n)) return -9;
    return 0;
}

int FN(trtrs)(char uplo, char trans, char diag, int n, int nrhs, const T *A, int lda, T *B, int ldb) {
    int info = check_trtrs(&uplo, &trans, &diag, n, nrhs, A, lda, B, 1, ldb);
    if (info || n == 0) return info;
    const int sing = first_zero_diagonal(diag, n, A, lda);
    if (sing) return sing;
    if (nrhs > 0) IFN(trsm_blocked)('L', uplo, trans, diag, n, nrhs, 1, A, lda, B, ldb);
    return 0;
}

/* dX = op(A)^{-1} (dB - op(tri(dA)) X) (Giles 2008, sec. 2.2.3): dl_?trsm_fwd with alpha 1. */
int FN(trtrs_fwd)(unsigned active, char uplo, char trans, char diag, int n, int nrhs, const T *A, int lda,
                  const T *dA, int ldda, T *B, int ldb, T *dB, int lddb) {
    int info = check_trtrs(&uplo, &trans, &diag, n, nrhs, A, lda, B, 1, ldb);
    if (info) return info;
    active &= DL_ACTIVE_A | DL_ACTIVE_B;
    const int act_A = (active & DL_ACTIVE_A) != 0, act_B = (active & DL_ACTIVE_B) != 0;
    const int empty = n == 0 || nrhs == 0;
    if (act_A && n > 0 && !dA) return -109;
    if (act_A && ldda < dl_max(1, n)) return -110;
    if (active && !empty && !dB) return -113;
    if (dB && lddb < dl_max(1, n)) return -114;
    if (n == 0) return 0;
    const int sing = first_zero_diagonal(diag, n, A, lda);
    if (sing) { /* B unchanged: dB keeps B's tangent, or is zero */
        if (dB && !act_B && nrhs > 0) BLAS(laset)("A", &n, &nrhs, &ZERO, &ZERO, dB, &lddb);
        return sing;
    }
    const T one = 1;
    return FN(trsm_fwd)(active, 'L', uplo, trans, diag, n, nrhs, &one, NULL, A, lda, dA, ldda, B, ldb, dB,
                        lddb);
}

/* Bbar = op(A)^{-H} Xbar, Abar += tri(-Bbar X^H) taken through op (Giles 2008, sec. 3.2.3):
 * dl_?trsm_rev with alpha 1 (which solves with conj(A) for op = T on complex data). */
int FN(trtrs_rev)(unsigned active, char uplo, char trans, char diag, int n, int nrhs, const T *A, int lda,
                  T *dA, int ldda, const T *X, int ldx, T *dB, int lddb) {
    active &= DL_ACTIVE_A | DL_ACTIVE_B;
    const int act_A = (active & DL_ACTIVE_A) != 0;
    int info = check_trtrs(&uplo, &trans, &diag, n, nrhs, A, lda, X, act_A, ldx);
    if (info) return info;
    if (act_A && n > 0 && !dA) return -109;
    if (act_A && ldda < dl_max(1, n)) return -110;
    if (active && n > 0 && nrhs > 0 && !dB) return -113;
    if (active && lddb < dl_max(1, n)) return -114;
    if (n == 0) return 0;
    const int sing = first_zero_diagonal(diag, n, A, lda); /* also with nothing active, as trsm_rev */
    if (!active || sing || nrhs == 0) return sing; /* sing: B was left unchanged, Xbar passes through */
    const T one = 1;
    return FN(trsm_rev)(active, 'L', uplo, trans, diag, n, nrhs, &one, A, lda, dA, ldda, X, ldx, NULL, 1, dB,
                        lddb, NULL);
}
