/* enzyme_rules.c -- the per-routine handlers behind the compute kernel of difflapack_enzyme.h:
 * primal, forward rule (fused primal + tangent), augmented forward pass (primal + tape) and
 * reverse rule (adjoint) of each interposed routine, written once over the element type T
 * (compiled for s, d, c, z; see precision.h) on top of the core kernels.
 *
 * The record (dle_rec) holds what the setup and set calls of the current call recorded. The
 * caller may overwrite inputs and outputs before the reverse pass and Enzyme tapes nothing for
 * custom rules, so each augmented pass copies exactly what its adjoint needs into its tape; the
 * reverse rules read only the tape and the shadows they are handed (a read-only input's shadow
 * through dle_take_bound_*, which is only valid in the reverse pass: see difflapack_enzyme.h).
 *
 * Primal results are bitwise the library's in every mode: the primal, the augmented pass and
 * the primal solve inside each fused forward kernel (the *_fwd_solving variants) all call the
 * BLAS/LAPACK routine the caller called (?gesv_ and ?posv_ in one call each, ?trtrs_, ?getri_
 * with the caller's lwork), with the caller's flags. Where a rule must know before the primal
 * whether LAPACK will find an exactly zero diagonal entry (?trtrs, ?getri leave their buffer
 * unchanged then), it asks the library's own test (library_zero_diagonal). op(A) = conj(A)
 * (trans 'R', complex data, an OpenBLAS extension that CBLAS row-major ConjTrans maps to) has
 * no kernel of its own: as conj(A) X = B is A conj(X) = conj(B), the rules run the 'N' kernels
 * on conjugated data (the cotangent of conj(z) is the conjugate of z's, the convention
 * zbar = dL/dRe z + i dL/dIm z), while the primal solve stays the library's 'R' routine (its bits
 * differ from the conjugated 'N' solve: measured for n >= 65 in single precision).
 *
 * No library solve reads past a caller's one-column complex right-hand side (OpenBLAS 0.3.21's
 * ?trsv 'U' 'N' / 'R' does, and so do ?trtrs_ and, with several threads, ?getrs_ and ?gesv_ on
 * one column: see IFN(trsv) in internal.h): such calls run on a padded copy (column_guard).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "precision.h"
#include "internal.h"
#include "enzyme_glue.h"

#define HANDLERS DL_CAT3(dle_, DL_P, _handlers)

static const T ONE_T = 1;

static T *tape_matrix(const char *uplo, int m, int n, const T *A, int lda) {
    const int ldc = dl_max(1, m);
    T *C = (T *)dle_tape_alloc(sizeof(T) * (size_t)ldc * (size_t)dl_max(n, 1));
    if (m > 0 && n > 0) BLAS(lacpy)(uplo, &m, &n, A, &lda, C, &ldc);
    return C;
}

/* A contiguous copy of the strided vector x (BLAS order for a negative increment). */
static T *tape_vector(int n, const T *x, int incx) {
    const int one = 1;
    T *c = (T *)dle_tape_alloc(sizeof(T) * (size_t)dl_max(n, 1));
    if (n > 0) BLAS(copy)(&n, x, &incx, c, &one);
    return c;
}

static void *new_tape(size_t bytes, int op) {
    dle_tape_head *h = (dle_tape_head *)calloc(1, bytes);
    if (!h) abort(); /* never run on without the tape: the gradient would be silently wrong */
    h->op = op;
    h->prec = DL_P_CHAR;
    return h;
}

static unsigned matrix_activity(int active) { return active ? DL_ACTIVE_A : 0u; }

/* op(A) = conj(A): the rules run on conjugated data (see the top of this file). */
static int conj_op(char trans) { return DL_IS_COMPLEX && trans == 'R'; }

/* The n x nrhs right-hand side a library solve works on: the caller's B, or for one complex
 * column longer than DL_TRSV_SAFE_N a padded copy (leading dimension n), which the library may
 * read one element past; column_done copies the result back. */
typedef struct {
    T *user, *pad;
    int n;
} column_guard;

static T *guard_column(column_guard *g, int n, int nrhs, T *B, int *ldb) {
    g->user = B;
    g->pad = NULL;
    g->n = n;
    if (!DL_IS_COMPLEX || nrhs != 1 || n <= DL_TRSV_SAFE_N) return B;
    g->pad = (T *)dle_checked_alloc(sizeof(T) * ((size_t)n + DL_TRSV_PAD));
    memcpy(g->pad, B, sizeof(T) * (size_t)n);
    for (int i = n; i < n + DL_TRSV_PAD; ++i) g->pad[i] = 0;
    *ldb = n;
    return g->pad;
}

static void column_done(column_guard *g) {
    if (!g->pad) return;
    memcpy(g->user, g->pad, sizeof(T) * (size_t)g->n);
    free(g->pad);
}

/* The library's own test for an exactly zero diagonal entry of the n x n triangle, as OpenBLAS's
 * ?trtrs_ and ?trtri_ (which ?getri_ runs) make it before touching anything: the minimum of
 * |A(i,i)| (complex: |re| + |im|) by its ?amin kernel; if that is 0, the 1-based position of the
 * minimum by ?iamin (a NaN before the first zero is reported instead of it). 0: no zero. */
static int library_zero_diagonal(int n, const T *A, int lda) {
    if (n <= 0) return 0;
    if (lda == INT_MAX) return IFN(first_zero_diagonal)(n, A, lda); /* a stride the library overflows */
    const int inc = lda + 1;
#if defined(DL_PREC_S)
    return samin_(&n, A, &inc) == 0 ? isamin_(&n, A, &inc) : 0;
#elif defined(DL_PREC_D)
    return damin_(&n, A, &inc) == 0 ? idamin_(&n, A, &inc) : 0;
#elif defined(DL_PREC_C)
    return scamin_(&n, A, &inc) == 0 ? icamin_(&n, A, &inc) : 0;
#else
    return dzamin_(&n, A, &inc) == 0 ? izamin_(&n, A, &inc) : 0;
#endif
}

/* ------------------------------------------------------------------ trsv */
/* The adjoint needs A (bbar = op(A)^{-H} xbar) and, only when A is active, the solution x
 * (Abar = -bbar x^H). */
typedef struct {
    dle_tape_head head;
    char uplo, trans, diag; /* trans 'N' for a conj(A) call: the rules' view */
    int n, lda, incx, A_active, conj;
    T *A, *x; /* taped copies: A's triangle (ld n), x contiguous (conjugated with conj) */
} trsv_tape;

/* The library's ?trsv_, never past the end of the caller's vector (IFN(trsv)). */
static void library_trsv(char uplo, char trans, char diag, int n, const T *A, int lda, T *x, int incx) {
    if (n > 0) IFN(trsv)(uplo, trans, diag, n, A, lda, x, incx);
}

/* The primal solve of the conjugated 'N' system: the library's 'R' solve, conjugated. */
static void conjugated_trsv(char uplo, char trans, char diag, int n, const T *A, int lda, T *y, int incy) {
    (void)trans;
    IFN(conj_vector)(n, y, incy);
    library_trsv(uplo, 'R', diag, n, A, lda, y, incy);
    IFN(conj_vector)(n, y, incy);
}

static void trsv_primal(void *x) {
    library_trsv(dle_rec.flag[0], dle_rec.flag[1], dle_rec.flag[2], dle_rec.n, dle_rec.A, dle_rec.lda, x, dle_rec.ldb);
}

static void trsv_fwd(void *x, void *dx) {
    const dle_record *r = &dle_rec;
    const unsigned active = DL_ACTIVE_B | (r->dA ? DL_ACTIVE_A : 0u);
    const int conj = conj_op(r->flag[1]);
    if (conj) { IFN(conj_vector)(r->n, x, r->ldb); IFN(conj_vector)(r->n, dx, r->ldb); }
    IFN(trsv_fwd_solving)(conj ? conjugated_trsv : library_trsv, active, r->flag[0], conj ? 'N' : r->flag[1],
                          r->flag[2], r->n, r->A, r->lda, r->dA, r->lda, x, r->ldb, dx, r->ldb);
    if (conj) { IFN(conj_vector)(r->n, x, r->ldb); IFN(conj_vector)(r->n, dx, r->ldb); }
}

static void *trsv_aug(void *x, void *dx) {
    (void)dx;
    trsv_tape *t = (trsv_tape *)new_tape(sizeof *t, DLE_OP_TRSV);
    t->conj = conj_op(dle_rec.flag[1]);
    t->uplo = dle_rec.flag[0]; t->trans = t->conj ? 'N' : dle_rec.flag[1]; t->diag = dle_rec.flag[2];
    t->n = dle_rec.n; t->lda = dle_rec.lda; t->incx = dle_rec.ldb; t->A_active = dle_rec.A_active;
    t->A = tape_matrix(&t->uplo, t->n, t->n, dle_rec.A, dle_rec.lda);
    trsv_primal(x);
    if (t->A_active) {
        t->x = tape_vector(t->n, x, t->incx);
        if (t->conj) IFN(conj_vector)(t->n, t->x, 1);
    }
    return t;
}

static void trsv_rev(void *x, void *dx, void *tape) {
    (void)x;
    trsv_tape *t = (trsv_tape *)tape;
    void *dA = dle_take_bound_matrix(); /* taken (cleared) whatever the tape says */
    if (!t->A_active) dA = NULL;
    if (t->conj) IFN(conj_vector)(t->n, dx, t->incx);
    FN(trsv_rev)(DL_ACTIVE_B | matrix_activity(dA != NULL), t->uplo, t->trans, t->diag, t->n, t->A,
                 dl_max(1, t->n), dA, t->lda, t->x, 1, dx, t->incx);
    if (t->conj) IFN(conj_vector)(t->n, dx, t->incx);
    free(t->A); free(t->x); free(t);
}

/* ------------------------------------------------------------------ trsm, trtrs */
/* The adjoint needs A always; X when A is active or for alphabar = <X, Xbar>/conj(alpha); the
 * original B only when alpha is active and alpha == 0 (then X = 0 carries no information).
 * ?trtrs runs through the same handlers (side L, alpha 1, the primal ?trtrs_); when LAPACK
 * finds a zero diagonal entry it leaves B alone, and the tape says `identity`. */
typedef struct {
    dle_tape_head head;
    char side, uplo, transa, diag; /* transa 'N' for a conj(A) call: the rules' view */
    int m, n, lda, ldb, A_active, alpha_active, conj, identity;
    T alpha;       /* conjugated with conj */
    T *A, *X, *B0; /* taped copies, leading dimensions k and m (X, B0 conjugated with conj) */
} trsm_tape;

static void library_trsm(char side, char uplo, char transa, char diag, int m, int n, T alpha, const T *A,
                         int lda, T *B, int ldb) {
    BLAS(trsm)(&side, &uplo, &transa, &diag, &m, &n, &alpha, A, &lda, B, &ldb);
}

/* ?trtrs_ as a trsm solve (side L, alpha 1: ignored), on a guarded column; its info in the
 * record. */
static void library_trtrs(char side, char uplo, char transa, char diag, int m, int n, T alpha, const T *A,
                          int lda, T *B, int ldb) {
    (void)side; (void)alpha;
    int info = 0;
    column_guard g;
    T *b = guard_column(&g, m, n, B, &ldb);
    BLAS(trtrs)(&uplo, &transa, &diag, &m, &n, A, &lda, b, &ldb, &info);
    column_done(&g);
    dle_rec.info = info;
}

/* The library routine of the recorded call, as a trsm solve. */
static IFN(trsm_solver) record_solver(void) { return dle_rec.op == DLE_OP_TRTRS ? library_trtrs : library_trsm; }

/* The primal solve of the conjugated 'N' system (alpha is conj of the caller's): the library's
 * 'R' solve, conjugated. */
static void conjugated_trsm(char side, char uplo, char transa, char diag, int m, int n, T alpha, const T *A,
                            int lda, T *B, int ldb) {
    (void)transa;
    IFN(conj_matrix)(m, n, B, ldb);
    record_solver()(side, uplo, 'R', diag, m, n, CONJ(alpha), A, lda, B, ldb);
    IFN(conj_matrix)(m, n, B, ldb);
}

static void trsm_primal(void *B) {
    const dle_record *r = &dle_rec;
    record_solver()(r->flag[0], r->flag[1], r->flag[2], r->flag[3], r->m, r->n, *(const T *)r->alpha, r->A,
                    r->lda, B, r->ldb);
}

static void trsm_fwd(void *B, void *dB) {
    const dle_record *r = &dle_rec;
    const unsigned active = DL_ACTIVE_B | (r->dA ? DL_ACTIVE_A : 0u) | (r->dalpha ? DL_ACTIVE_ALPHA : 0u);
    if (!conj_op(r->flag[2])) {
        IFN(trsm_fwd_solving)(record_solver(), active, r->flag[0], r->flag[1], r->flag[2], r->flag[3], r->m, r->n,
                              r->alpha, r->dalpha, r->A, r->lda, r->dA, r->lda, B, r->ldb, dB, r->ldb);
        return;
    }
    const T alpha = CONJ(*(const T *)r->alpha), dalpha = r->dalpha ? CONJ(*(const T *)r->dalpha) : 0;
    IFN(conj_matrix)(r->m, r->n, B, r->ldb);
    IFN(conj_matrix)(r->m, r->n, dB, r->ldb);
    IFN(trsm_fwd_solving)(conjugated_trsm, active, r->flag[0], r->flag[1], 'N', r->flag[3], r->m, r->n, &alpha,
                          &dalpha, r->A, r->lda, r->dA, r->lda, B, r->ldb, dB, r->ldb);
    IFN(conj_matrix)(r->m, r->n, B, r->ldb);
    IFN(conj_matrix)(r->m, r->n, dB, r->ldb);
}

static T *tape_rule_view(int conj, int m, int n, const T *M, int ld) {
    T *C = tape_matrix("A", m, n, M, ld);
    if (conj) IFN(conj_matrix)(m, n, C, dl_max(1, m));
    return C;
}

static void *trsm_aug(void *B, void *dB) {
    (void)dB;
    trsm_tape *t = (trsm_tape *)new_tape(sizeof *t, DLE_OP_TRSM);
    const int m = dle_rec.m, n = dle_rec.n, k = dle_rec.flag[0] == 'L' ? m : n;
    const T alpha = *(const T *)dle_rec.alpha;
    t->conj = conj_op(dle_rec.flag[2]);
    t->side = dle_rec.flag[0]; t->uplo = dle_rec.flag[1]; t->transa = t->conj ? 'N' : dle_rec.flag[2];
    t->diag = dle_rec.flag[3];
    t->m = m; t->n = n; t->lda = dle_rec.lda; t->ldb = dle_rec.ldb;
    t->alpha = t->conj ? CONJ(alpha) : alpha;
    t->A_active = dle_rec.A_active; t->alpha_active = dle_rec.alpha_active;
    t->A = tape_matrix(&t->uplo, k, k, dle_rec.A, dle_rec.lda);
    if (t->alpha_active && alpha == 0) t->B0 = tape_rule_view(t->conj, m, n, B, dle_rec.ldb);
    trsm_primal(B);
    if (t->A_active || (t->alpha_active && alpha != 0)) t->X = tape_rule_view(t->conj, m, n, B, dle_rec.ldb);
    return t;
}

static void trsm_rev(void *B, void *dB, void *tape) {
    (void)B;
    trsm_tape *t = (trsm_tape *)tape;
    void *dA = dle_take_bound_matrix(); /* taken (cleared) whatever the tape says */
    if (!t->A_active) dA = NULL;
    T *dalpha = (T *)dle_take_bound_scalar();
    if (!t->alpha_active) dalpha = NULL;
    if (t->identity) { /* ?trtrs left B unchanged: Bbar = Xbar, nothing for A */
        free(t);
        return;
    }
    T dalpha_rule = 0; /* the cotangent of the rules' alpha: conj(alpha) for a conj(A) call */
    const int k = t->side == 'L' ? t->m : t->n;
    const unsigned active = DL_ACTIVE_B | matrix_activity(dA != NULL) | (dalpha ? DL_ACTIVE_ALPHA : 0u);
    if (t->conj) IFN(conj_matrix)(t->m, t->n, dB, t->ldb);
    FN(trsm_rev)(active, t->side, t->uplo, t->transa, t->diag, t->m, t->n, &t->alpha, t->A, dl_max(1, k), dA,
                 t->lda, t->X, dl_max(1, t->m), t->B0, dl_max(1, t->m), dB, t->ldb, t->conj ? &dalpha_rule : dalpha);
    if (t->conj) {
        IFN(conj_matrix)(t->m, t->n, dB, t->ldb);
        if (dalpha) *dalpha += CONJ(dalpha_rule);
    }
    free(t->A); free(t->X); free(t->B0); free(t);
}

/* ?trtrs: the record as trsm's (side L, alpha 1, m = n, n = nrhs); a zero diagonal entry (the
 * library's test) leaves B unchanged, and its derivative is the identity. */
static void trtrs_record(void) {
    dle_record *r = &dle_rec;
    r->flag[3] = r->flag[2]; r->flag[2] = r->flag[1]; r->flag[1] = r->flag[0]; r->flag[0] = 'L';
    r->alpha = &ONE_T;
}

static void trtrs_undo_record(void) {
    dle_record *r = &dle_rec;
    r->flag[0] = r->flag[1]; r->flag[1] = r->flag[2]; r->flag[2] = r->flag[3]; r->flag[3] = 0;
}

static int trtrs_singular(void) {
    return dle_rec.flag[2] == 'N' && dle_rec.m > 0 ? library_zero_diagonal(dle_rec.m, dle_rec.A, dle_rec.lda) : 0;
}

static void trtrs_primal(void *B) {
    trtrs_record();
    trsm_primal(B); /* ?trtrs_ itself: it finds a zero diagonal entry and sets info */
    trtrs_undo_record();
}

static void trtrs_fwd(void *B, void *dB) {
    const int singular = trtrs_singular();
    trtrs_record();
    if (singular) /* B and its tangent unchanged; the library reports info */
        trsm_primal(B);
    else
        trsm_fwd(B, dB);
    trtrs_undo_record();
}

static void *trtrs_aug(void *B, void *dB) {
    const int singular = trtrs_singular();
    trtrs_record();
    trsm_tape *t;
    if (singular) {
        trsm_primal(B);
        t = (trsm_tape *)new_tape(sizeof *t, DLE_OP_TRSM);
        t->identity = 1;
    } else {
        t = (trsm_tape *)trsm_aug(B, dB);
    }
    trtrs_undo_record();
    return t;
}

/* ------------------------------------------------------------------ getrf */
/* The adjoint needs the factors and the pivots. The tape (dle_factor_tape, enzyme_glue.h) is
 * offered to a following ?getri on the same buffer, see getri below. */
static void getrf_primal(void *A) {
    dle_rec.info = FN(getrf)(dle_rec.m, dle_rec.n, A, dle_rec.lda, dle_pivot_buf);
}

static void getrf_fwd(void *A, void *dA) {
    dle_rec.info = FN(getrf_fwd)(DL_ACTIVE_A, dle_rec.m, dle_rec.n, A, dle_rec.lda, dle_pivot_buf, dA, dle_rec.lda);
}

static void *getrf_aug(void *A, void *dA) {
    (void)dA;
    dle_factor_tape *t = (dle_factor_tape *)new_tape(sizeof *t, DLE_OP_GETRF);
    t->refs = 1;
    t->m = dle_rec.m; t->n = dle_rec.n; t->lda = dle_rec.lda; t->A = A;
    getrf_primal(A);
    t->LU = tape_matrix("A", t->m, t->n, A, t->lda);
    t->ipiv = dle_copy_pivots(dle_pivot_buf, dl_min(t->m, t->n));
    /* a row-major call factors a temporary of the row-major wrapper: nothing to link to */
    if (t->m == t->n && !dle_rec.rm.on) dle_offer_factor(t);
    return t;
}

/* Unlinked: the getrf adjoint of the shadow. Linked to a ?getri: the shadow holds what the
 * program added to the factors' cotangent after ?getri's reverse cleared it (usually nothing:
 * then the getrf adjoint is skipped), and Xbar waits in the tape: Abar = getrf adjoint of the
 * shadow - X^H Xbar X^H (Giles 2008, sec. 3.2.3). */
static void getrf_rev(void *A, void *dA, void *tape) {
    (void)A;
    dle_factor_tape *t = (dle_factor_tape *)tape;
    dle_withdraw_factor(t);
    const int n = t->n, ld = dl_max(1, t->m);
    if (!t->Xbar) {
        FN(getrf_rev)(DL_ACTIVE_A, t->m, t->n, t->LU, ld, t->ipiv, dA, t->lda);
    } else {
        const int other = !IFN(all_zero)(n, n, dA, t->lda);
        if (other) FN(getrf_rev)(DL_ACTIVE_A, n, n, t->LU, ld, t->ipiv, dA, t->lda);
        T *G = (T *)t->Xbar;
        FN(inv_rev)(DL_ACTIVE_A, n, t->X, n, G, n); /* G := -X^H Xbar X^H */
        for (int j = 0; j < n; ++j) {
            T *d = (T *)dA + (size_t)j * t->lda;
            const T *g = G + (size_t)j * n;
            for (int i = 0; i < n; ++i) d[i] = other ? d[i] + g[i] : g[i];
        }
    }
    __atomic_store_n(&t->reversed, 1, __ATOMIC_RELEASE);
    dle_release_factor(t);
}

/* ------------------------------------------------------------------ getrs */
/* The adjoint needs the factors and pivots; the solution X only when the factors are active. */
typedef struct {
    dle_tape_head head;
    char trans; /* 'N' for a conj(A) call: the rules' view */
    int n, nrhs, lda, ldb, A_active, conj;
    T *LU, *X;  /* X conjugated with conj */
    int *ipiv;
} getrs_tape;

/* The library's ?getrs_, on a guarded column. */
static void library_getrs(char trans, int n, int nrhs, const T *LU, int lda, const int *ipiv, T *B, int ldb) {
    int info = 0;
    if (n == 0 || nrhs == 0) return;
    column_guard g;
    T *b = guard_column(&g, n, nrhs, B, &ldb);
    BLAS(getrs)(&trans, &n, &nrhs, LU, &lda, ipiv, b, &ldb, &info);
    column_done(&g);
}

/* The primal solve of the conjugated 'N' system: the library's 'R' solve, conjugated. */
static void conjugated_getrs(char trans, int n, int nrhs, const T *LU, int lda, const int *ipiv, T *B, int ldb) {
    (void)trans;
    IFN(conj_matrix)(n, nrhs, B, ldb);
    library_getrs('R', n, nrhs, LU, lda, ipiv, B, ldb);
    IFN(conj_matrix)(n, nrhs, B, ldb);
}

static void getrs_primal(void *B) {
    library_getrs(dle_rec.flag[0], dle_rec.m, dle_rec.n, dle_rec.A, dle_rec.lda, dle_rec.ipiv, B, dle_rec.ldb);
}

static void getrs_fwd(void *B, void *dB) {
    const dle_record *r = &dle_rec;
    const unsigned active = DL_ACTIVE_B | (r->dA ? DL_ACTIVE_A : 0u);
    const int conj = conj_op(r->flag[0]);
    if (conj) { IFN(conj_matrix)(r->m, r->n, B, r->ldb); IFN(conj_matrix)(r->m, r->n, dB, r->ldb); }
    IFN(getrs_fwd_solving)(conj ? conjugated_getrs : library_getrs, active, conj ? 'N' : r->flag[0], r->m, r->n,
                           r->A, r->lda, r->dA, r->lda, r->ipiv, B, r->ldb, dB, r->ldb);
    if (conj) { IFN(conj_matrix)(r->m, r->n, B, r->ldb); IFN(conj_matrix)(r->m, r->n, dB, r->ldb); }
}

/* A getrs tape of the recorded factors and pivots (X is added after the solve). */
static getrs_tape *new_getrs_tape(void) {
    getrs_tape *t = (getrs_tape *)new_tape(sizeof *t, DLE_OP_GETRS);
    t->conj = conj_op(dle_rec.flag[0]);
    t->trans = t->conj ? 'N' : dle_rec.flag[0];
    t->n = dle_rec.m; t->nrhs = dle_rec.n; t->lda = dle_rec.lda; t->ldb = dle_rec.ldb;
    t->A_active = dle_rec.A_active;
    t->LU = tape_matrix("A", t->n, t->n, dle_rec.A, dle_rec.lda);
    t->ipiv = dle_copy_pivots(dle_rec.ipiv, t->n);
    return t;
}

static void *getrs_aug(void *B, void *dB) {
    (void)dB;
    getrs_tape *t = new_getrs_tape();
    getrs_primal(B);
    if (t->A_active) t->X = tape_rule_view(t->conj, t->n, t->nrhs, B, t->ldb);
    return t;
}

static void getrs_rev(void *B, void *dB, void *tape) {
    (void)B;
    getrs_tape *t = (getrs_tape *)tape;
    void *dLU = dle_take_bound_matrix(); /* taken (cleared) whatever the tape says */
    if (!t->A_active) dLU = NULL;
    const int ld = dl_max(1, t->n);
    if (t->conj) IFN(conj_matrix)(t->n, t->nrhs, dB, t->ldb);
    FN(getrs_rev)(DL_ACTIVE_B | matrix_activity(dLU != NULL), t->trans, t->n, t->nrhs, t->LU, ld, dLU, t->lda,
                  t->ipiv, t->X, ld, dB, t->ldb);
    if (t->conj) IFN(conj_matrix)(t->n, t->nrhs, dB, t->ldb);
    free(t->LU); free(t->X); free(t->ipiv); free(t);
}

/* ------------------------------------------------------------------ gesv */
/* The factorization: ?gesv_ itself on A and the recorded B (A := LU, B := X unless A is
 * singular). OpenBLAS's ?gesv_ returns before factoring when nrhs = 0: the first pivot, cleared
 * before, then stays 0, and A, the caller's pivots and every derivative stay as they were. */
static void gesv_factor_primal(void *A) {
    dle_record *r = &dle_rec;
    int info = 0, ldb = r->side_ld;
    if (r->n > 0) dle_pivot_buf[0] = 0;
    column_guard g;
    T *b = guard_column(&g, r->n, r->side_cols, (T *)r->side, &ldb);
    BLAS(gesv)(&r->n, &r->side_cols, A, &r->lda, dle_pivot_buf, b, &ldb, &info);
    column_done(&g);
    r->info = info;
    r->factored = r->n > 0 && dle_pivot_buf[0] != 0;
}

/* Tangent: dX = A^{-1} (dB - dA X) (Giles 2008, sec. 2.3.1). The dA X term needs the ORIGINAL
 * dA, which becomes dLU (the getrf tangent) here: -dA X goes to the scratch buffer for the
 * solve's forward rule, which adds dB and solves. */
static void gesv_factor_fwd(void *A, void *dA) {
    dle_record *r = &dle_rec;
    gesv_factor_primal(A);
    if (!r->factored) return;
    const int n = r->n, nrhs = r->side_cols;
    if (r->info == 0 && nrhs > 0) {
        const T minus_one = -1, zero = 0;
        T *W = (T *)dle_scratch(sizeof(T) * (size_t)n * (size_t)nrhs);
        BLAS(gemm)("N", "N", &n, &nrhs, &n, &minus_one, dA, &r->lda, r->side, &r->side_ld, &zero, W, &n);
        r->tangent_ready = 1;
    }
    IFN(getrf_tangent)(n, n, A, r->lda, dle_pivot_buf, dA, r->lda);
}

static void *gesv_factor_aug(void *A, void *dA) {
    (void)dA;
    dle_gesv_link *link = (dle_gesv_link *)new_tape(sizeof *link, DLE_OP_GESV_FACTOR);
    link->n = dle_rec.n; link->lda = dle_rec.lda;
    gesv_factor_primal(A);
    link->factored = dle_rec.factored;
    if (link->factored) {
        link->LU = tape_matrix("A", link->n, link->n, A, link->lda);
        link->ipiv = dle_copy_pivots(dle_pivot_buf, link->n);
        dle_rec.gesv_link = link;
    }
    return link;
}

/* Abar = getrf adjoint of the factors' cotangent (Walter & Lehmann 2018; skipped when it is
 * zero, the usual A\b) - Bbar X^H (Giles 2008, sec. 3.3), with Bbar left by the solve's reverse
 * rule, which ran just before. Equal to getrs' adjoint chained into getrf's (the getrf adjoint
 * is linear and maps getrs' LU cotangent to exactly -Bbar X^H), at the cost of one transposed
 * solve instead of two adjoint recursions. */
static void gesv_factor_rev(void *A, void *dA, void *tape) {
    (void)A;
    dle_gesv_link *link = (dle_gesv_link *)tape;
    if (link->factored)
        IFN(gesv_matrix_adjoint)(link->n, link->Bbar ? link->nrhs : 0, link->LU, dl_max(1, link->n), link->ipiv, dA,
                                 link->lda, link->X, dl_max(1, link->n), link->Bbar, dl_max(1, link->n));
    if (dle_rec.gesv_link == link) dle_rec.gesv_link = NULL; /* its solve never ran (info > 0) */
    free(link->LU); free(link->X); free(link->Bbar); free(link->ipiv); free(link);
}

/* The solve: the factorization has already solved, so the primal has nothing left to do. */
static void gesv_solve_primal(void *B) { (void)B; }

static void gesv_solve_fwd(void *B, void *dB) {
    (void)B;
    const dle_record *r = &dle_rec;
    const int n = r->m, nrhs = r->n;
    if (n == 0 || nrhs == 0) return;
    if (r->tangent_ready) {
        const T *W = (const T *)dle_scratch(0);
        T *d = (T *)dB;
        for (int j = 0; j < nrhs; ++j)
            for (int i = 0; i < n; ++i) d[i + (size_t)j * r->ldb] += W[i + (size_t)j * n];
    }
    library_getrs('N', n, nrhs, r->A, r->lda, r->ipiv, dB, r->ldb);
}

/* The solve linked to an active factorization tapes X into the link; with a constant A it is a
 * plain getrs whose primal already ran. */
typedef struct {
    dle_tape_head head;
    dle_gesv_link *link;
    int ldb;
} gesv_solve_tape;

static void *gesv_solve_aug(void *B, void *dB) {
    (void)dB;
    dle_gesv_link *link = dle_rec.gesv_link;
    dle_rec.gesv_link = NULL;
    if (!link) return new_getrs_tape(); /* its tape dispatches to getrs' reverse rule */
    link->nrhs = dle_rec.n;
    link->X = tape_matrix("A", link->n, link->nrhs, B, dle_rec.ldb);
    gesv_solve_tape *t = (gesv_solve_tape *)new_tape(sizeof *t, DLE_OP_GESV_SOLVE);
    t->link = link;
    t->ldb = dle_rec.ldb;
    return t;
}

/* Bbar = A^{-H} Xbar in B's shadow, and a copy for the factorization's reverse rule. */
static void gesv_solve_rev(void *B, void *dB, void *tape) {
    (void)B;
    gesv_solve_tape *t = (gesv_solve_tape *)tape;
    dle_gesv_link *link = t->link;
    (void)dle_take_bound_matrix(); /* the factorization's reverse rule accounts for A */
    int n = link->n, nrhs = link->nrhs, ld = dl_max(1, n);
    if (n > 0 && nrhs > 0) {
        FN(getrs_rev)(DL_ACTIVE_B, 'N', n, nrhs, link->LU, ld, NULL, ld, link->ipiv, NULL, ld, dB, t->ldb);
        link->Bbar = dle_checked_alloc(sizeof(T) * (size_t)n * (size_t)nrhs);
        BLAS(lacpy)("A", &n, &nrhs, dB, &t->ldb, link->Bbar, &ld);
    }
    free(t);
}

/* ------------------------------------------------------------------ potrf */
/* The adjoint needs the factor (its triangle); potrf's info is read back from it. */
typedef struct {
    dle_tape_head head;
    char uplo;
    int n, lda;
    T *C;
} potrf_tape;

static void potrf_primal(void *A) { dle_rec.info = FN(potrf)(dle_rec.flag[0], dle_rec.n, A, dle_rec.lda); }

static void potrf_fwd(void *A, void *dA) {
    dle_rec.info = FN(potrf_fwd)(DL_ACTIVE_A, dle_rec.flag[0], dle_rec.n, A, dle_rec.lda, dA, dle_rec.lda);
}

static void *potrf_aug(void *A, void *dA) {
    (void)dA;
    potrf_tape *t = (potrf_tape *)new_tape(sizeof *t, DLE_OP_POTRF);
    t->uplo = dle_rec.flag[0]; t->n = dle_rec.n; t->lda = dle_rec.lda;
    potrf_primal(A);
    t->C = tape_matrix(&t->uplo, t->n, t->n, A, t->lda);
    return t;
}

static void potrf_rev(void *A, void *dA, void *tape) {
    (void)A;
    potrf_tape *t = (potrf_tape *)tape;
    FN(potrf_rev)(DL_ACTIVE_A, t->uplo, t->n, t->C, dl_max(1, t->n), dA, t->lda);
    free(t->C); free(t);
}

/* ------------------------------------------------------------------ potrs */
/* The adjoint needs the factor's triangle; the solution X only when the factor is active. The
 * forward kernel's primal solve is the two ?trsm_ that the library's ?potrs_ (reference LAPACK)
 * runs, so its bits are ?potrs_'s. */
typedef struct {
    dle_tape_head head;
    char uplo;
    int n, nrhs, lda, ldb, A_active;
    T *C, *X;
} potrs_tape;

static void potrs_primal(void *B) {
    int info = 0;
    if (dle_rec.m > 0 && dle_rec.n > 0)
        BLAS(potrs)(&dle_rec.flag[0], &dle_rec.m, &dle_rec.n, dle_rec.A, &dle_rec.lda, B, &dle_rec.ldb, &info);
}

static void potrs_fwd(void *B, void *dB) {
    const unsigned active = DL_ACTIVE_B | (dle_rec.dA ? DL_ACTIVE_A : 0u);
    FN(potrs_fwd)(active, dle_rec.flag[0], dle_rec.m, dle_rec.n, dle_rec.A, dle_rec.lda, dle_rec.dA,
                  dle_rec.lda, B, dle_rec.ldb, dB, dle_rec.ldb);
}

/* A potrs tape of the recorded factor (X is added after the solve). */
static potrs_tape *new_potrs_tape(void) {
    potrs_tape *t = (potrs_tape *)new_tape(sizeof *t, DLE_OP_POTRS);
    t->uplo = dle_rec.flag[0]; t->n = dle_rec.m; t->nrhs = dle_rec.n; t->lda = dle_rec.lda;
    t->ldb = dle_rec.ldb; t->A_active = dle_rec.A_active;
    t->C = tape_matrix(&t->uplo, t->n, t->n, dle_rec.A, dle_rec.lda);
    return t;
}

static void *potrs_aug(void *B, void *dB) {
    (void)dB;
    potrs_tape *t = new_potrs_tape();
    potrs_primal(B);
    if (t->A_active) t->X = tape_matrix("A", t->n, t->nrhs, B, t->ldb);
    return t;
}

static void potrs_rev(void *B, void *dB, void *tape) {
    (void)B;
    potrs_tape *t = (potrs_tape *)tape;
    void *dC = dle_take_bound_matrix(); /* taken (cleared) whatever the tape says */
    if (!t->A_active) dC = NULL;
    const int ld = dl_max(1, t->n);
    FN(potrs_rev)(DL_ACTIVE_B | matrix_activity(dC != NULL), t->uplo, t->n, t->nrhs, t->C, ld, dC, t->lda,
                  t->X, ld, dB, t->ldb);
    free(t->C); free(t->X); free(t);
}

/* ------------------------------------------------------------------ posv */
/* As gesv: the factorization's compute call runs ?posv_ itself on A and the recorded B (A := the
 * factor's triangle, B := X if A is positive definite; reference LAPACK's ?posv is ?potrf_ then
 * ?potrs_, and factors also for nrhs = 0), the solve's compute call carries the rules of
 * X = A^{-1} B. Not positive definite: LAPACK leaves B alone, so its derivative is the
 * identity (dB keeps its tangent, Bbar = Xbar), and A's is potrf's (the leading block's). */
static void posv_factor_primal(void *A) {
    dle_record *r = &dle_rec;
    int info = 0;
    BLAS(posv)(&r->flag[0], &r->n, &r->side_cols, A, &r->lda, r->side, &r->side_ld, &info);
    r->info = info;
}

/* Tangent: dX = A^{-1} (dB - Herm(dS) X) with the original tangent dS of the stored triangle:
 * -Herm(dS) X (one hemm) goes to the scratch buffer for the solve's forward rule, then dS
 * becomes the factor's tangent. */
static void posv_factor_fwd(void *A, void *dA) {
    dle_record *r = &dle_rec;
    posv_factor_primal(A);
    const int n = r->n, nrhs = r->side_cols;
    if (r->info == 0 && n > 0 && nrhs > 0) {
        const T minus_one = -1, zero = 0;
        T *W = (T *)dle_scratch(sizeof(T) * (size_t)n * (size_t)nrhs);
        HEMM("L", &r->flag[0], &n, &nrhs, &minus_one, dA, &r->lda, r->side, &r->side_ld, &zero, W, &n);
        r->tangent_ready = 1;
    }
    IFN(potrf_tangent_of)(r->flag[0], n, r->info, A, r->lda, dA, r->lda);
}

static void *posv_factor_aug(void *A, void *dA) {
    (void)dA;
    dle_gesv_link *link = (dle_gesv_link *)new_tape(sizeof *link, DLE_OP_POSV_FACTOR);
    link->uplo = dle_rec.flag[0]; link->n = dle_rec.n; link->lda = dle_rec.lda;
    posv_factor_primal(A);
    link->info = dle_rec.info;
    link->factored = 1;
    link->LU = tape_matrix(&link->uplo, link->n, link->n, A, link->lda);
    dle_rec.gesv_link = link;
    return link;
}

/* Sbar = the potrf adjoint of the factor's cotangent (Murray 2016; skipped when it is zero)
 * plus the stored part of -Bbar X^H (Giles 2008), with Bbar = A^{-1} Xbar left by the solve's
 * reverse rule: the same as potrs' adjoint chained into potrf's, at the cost of one solve and a
 * her2k. Not positive definite: the potrf adjoint alone (its rule for a partial factor). */
static void posv_factor_rev(void *A, void *dA, void *tape) {
    (void)A;
    dle_gesv_link *link = (dle_gesv_link *)tape;
    const int ld = dl_max(1, link->n);
    if (link->n > 0)
        IFN(posv_matrix_adjoint)(link->uplo, link->n, link->Bbar ? link->nrhs : 0, link->LU, ld, dA, link->lda,
                                 link->X, ld, link->Bbar, ld);
    if (dle_rec.gesv_link == link) dle_rec.gesv_link = NULL; /* its solve ran as a primal (B inactive) */
    free(link->LU); free(link->X); free(link->Bbar); free(link);
}

static void posv_solve_primal(void *B) { (void)B; }

static void posv_solve_fwd(void *B, void *dB) {
    (void)B;
    const dle_record *r = &dle_rec;
    const int n = r->m, nrhs = r->n;
    if (r->info != 0 || n == 0 || nrhs == 0) return; /* B unchanged: its tangent too */
    if (r->tangent_ready) {
        const T *W = (const T *)dle_scratch(0);
        T *d = (T *)dB;
        for (int j = 0; j < nrhs; ++j)
            for (int i = 0; i < n; ++i) d[i + (size_t)j * r->ldb] += W[i + (size_t)j * n];
    }
    FN(potrs)(r->flag[0], n, nrhs, r->A, r->lda, dB, r->ldb);
}

/* The solve linked to an active factorization tapes X into the link; with a constant A it is a
 * plain potrs whose primal already ran, or (not positive definite) the identity. */
typedef struct {
    dle_tape_head head;
    dle_gesv_link *link; /* NULL: the identity */
    int ldb;
} posv_solve_tape;

static void *posv_solve_aug(void *B, void *dB) {
    (void)dB;
    dle_gesv_link *link = dle_rec.gesv_link;
    dle_rec.gesv_link = NULL;
    if (!link && dle_rec.info == 0) return new_potrs_tape(); /* its tape dispatches to potrs' reverse */
    posv_solve_tape *t = (posv_solve_tape *)new_tape(sizeof *t, DLE_OP_POSV_SOLVE);
    t->ldb = dle_rec.ldb;
    if (!link || link->info != 0) return t; /* B unchanged */
    link->nrhs = dle_rec.n;
    link->X = tape_matrix("A", link->n, link->nrhs, B, dle_rec.ldb);
    t->link = link;
    return t;
}

/* Bbar = A^{-1} Xbar in B's shadow, and a copy for the factorization's reverse rule. */
static void posv_solve_rev(void *B, void *dB, void *tape) {
    (void)B;
    posv_solve_tape *t = (posv_solve_tape *)tape;
    dle_gesv_link *link = t->link;
    (void)dle_take_bound_matrix(); /* the factorization's reverse rule accounts for A */
    if (link && link->n > 0 && link->nrhs > 0) {
        int n = link->n, nrhs = link->nrhs, ld = dl_max(1, n);
        FN(potrs_rev)(DL_ACTIVE_B, link->uplo, n, nrhs, link->LU, ld, NULL, ld, NULL, ld, dB, t->ldb);
        link->Bbar = dle_checked_alloc(sizeof(T) * (size_t)n * (size_t)nrhs);
        BLAS(lacpy)("A", &n, &nrhs, dB, &t->ldb, link->Bbar, &ld);
    }
    free(t);
}

/* ------------------------------------------------------------------ getri */
/* Unlinked, the adjoint (with respect to the packed factors) needs LU, the pivots and X. Linked
 * to the factorization that produced the buffer (same buffer, bitwise the same LU and pivots,
 * its reverse still to come), LU and the pivots are already on that tape: only X is taped, and
 * the reverse hands Xbar over (see dle_factor_tape). A zero diagonal entry of U (the library's
 * test) leaves the buffer unchanged: the identity, nothing taped. The primal is ?getri_ with the
 * caller's work and lwork (its bits depend on lwork), or LAPACKE's own workspace. */
typedef struct {
    dle_tape_head head;
    int n, lda, singular;
    dle_factor_tape *link;   /* linked: the factorization's tape (this tape holds a reference) */
    T *LU, *X;               /* unlinked: taped copies, ld n */
    int *ipiv;
} getri_tape;

static void library_getri(int n, T *A, int lda, const int *ipiv) {
    int info = 0, lwork = dle_rec.lwork;
    T *work = (T *)dle_rec.work;
    if (!work) work = (T *)dle_checked_alloc(sizeof(T) * (size_t)dl_max(1, lwork));
    BLAS(getri)(&n, A, &lda, ipiv, work, &lwork, &info);
    if (!dle_rec.work) free(work);
    dle_rec.info = info;
}

static void getri_primal(void *A) { library_getri(dle_rec.n, A, dle_rec.lda, dle_rec.ipiv); }

static void getri_fwd(void *A, void *dA) {
    const int n = dle_rec.n, lda = dle_rec.lda;
    if (library_zero_diagonal(n, A, lda)) { /* A unchanged, its tangent too; the library's info */
        getri_primal(A);
        return;
    }
    if (IFN(getri_fwd_solving)(library_getri, DL_ACTIVE_A, n, A, lda, dle_rec.ipiv, dA, lda) > 0) {
        /* a NaN on the diagonal hides a zero from the library's test: its result, NaN tangent */
        getri_primal(A);
        IFN(fill_nan)(n, n, dA, lda);
    }
}

/* Whether the buffer A still holds, bitwise, the factors and pivots taped by the factorization f. */
static int holds_factors_of(const dle_factor_tape *f, const T *A) {
    const int n = dle_rec.n, lda = dle_rec.lda;
    if (!f || f->head.prec != DL_P_CHAR || f->A != A || f->m != n || f->n != n || f->lda != lda ||
        __atomic_load_n(&f->reversed, __ATOMIC_ACQUIRE))
        return 0;
    const T *LU = (const T *)f->LU;
    for (int j = 0; j < n; ++j)
        if (memcmp(A + (size_t)j * lda, LU + (size_t)j * n, sizeof(T) * (size_t)n)) return 0;
    return memcmp(f->ipiv, dle_rec.ipiv, sizeof(int) * (size_t)n) == 0;
}

static void *getri_aug(void *A, void *dA) {
    (void)dA;
    getri_tape *t = (getri_tape *)new_tape(sizeof *t, DLE_OP_GETRI);
    const int n = dle_rec.n, lda = dle_rec.lda;
    t->n = n; t->lda = lda;
    dle_factor_tape *f = dle_take_offered_factor();
    t->singular = library_zero_diagonal(n, A, lda);
    if (!t->singular && !dle_rec.rm.on && holds_factors_of(f, A)) {
        getri_primal(A);
        f->X = tape_matrix("A", n, n, A, lda);
        t->link = f; /* the slot's reference moves to this tape */
        return t;
    }
    dle_release_factor(f);
    if (!t->singular) {
        t->LU = tape_matrix("A", n, n, A, lda);
        t->ipiv = dle_copy_pivots(dle_rec.ipiv, n);
    }
    getri_primal(A);
    if (!t->singular) t->X = tape_matrix("A", n, n, A, lda);
    return t;
}

static void getri_rev(void *A, void *dA, void *tape) {
    (void)A;
    getri_tape *t = (getri_tape *)tape;
    const int n = t->n, ld = dl_max(1, n);
    if (t->link) { /* Xbar to the factorization's reverse; the shadow restarts from zero */
        T *Xbar = (T *)dle_checked_alloc(sizeof(T) * (size_t)n * (size_t)n);
        const T zero = 0;
        BLAS(lacpy)("A", &n, &n, dA, &t->lda, Xbar, &ld);
        BLAS(laset)("A", &n, &n, &zero, &zero, dA, &t->lda);
        t->link->Xbar = Xbar;
        dle_release_factor(t->link);
    } else if (!t->singular) {
        FN(getri_rev)(DL_ACTIVE_A, n, t->LU, ld, t->ipiv, t->X, ld, dA, t->lda);
    }
    free(t->LU); free(t->X); free(t->ipiv); free(t);
}

const dle_handler HANDLERS[DLE_OP_COUNT] = {
    [DLE_OP_TRSV] = {trsv_primal, trsv_fwd, trsv_aug, trsv_rev},
    [DLE_OP_TRSM] = {trsm_primal, trsm_fwd, trsm_aug, trsm_rev},
    [DLE_OP_GETRF] = {getrf_primal, getrf_fwd, getrf_aug, getrf_rev},
    [DLE_OP_GETRS] = {getrs_primal, getrs_fwd, getrs_aug, getrs_rev},
    [DLE_OP_GESV_FACTOR] = {gesv_factor_primal, gesv_factor_fwd, gesv_factor_aug, gesv_factor_rev},
    [DLE_OP_GESV_SOLVE] = {gesv_solve_primal, gesv_solve_fwd, gesv_solve_aug, gesv_solve_rev},
    [DLE_OP_POTRF] = {potrf_primal, potrf_fwd, potrf_aug, potrf_rev},
    [DLE_OP_POTRS] = {potrs_primal, potrs_fwd, potrs_aug, potrs_rev},
    [DLE_OP_POSV_FACTOR] = {posv_factor_primal, posv_factor_fwd, posv_factor_aug, posv_factor_rev},
    [DLE_OP_POSV_SOLVE] = {posv_solve_primal, posv_solve_fwd, posv_solve_aug, posv_solve_rev},
    [DLE_OP_GETRI] = {getri_primal, getri_fwd, getri_aug, getri_rev},
    [DLE_OP_TRTRS] = {trtrs_primal, trtrs_fwd, trtrs_aug, trsm_rev},
};
