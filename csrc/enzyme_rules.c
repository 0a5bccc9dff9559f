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
 * BLAS/LAPACK routine itself with the caller's flags. op(A) = conj(A) (trans 'R', complex data,
 * an OpenBLAS extension that CBLAS row-major ConjTrans maps to) has no kernel of its own: as
 * conj(A) X = B is A conj(X) = conj(B), the rules run the 'N' kernels on conjugated data (the
 * cotangent of conj(z) is the conjugate of z's, the convention zbar = dL/dRe z + i dL/dIm z),
 * while the primal solve stays the library's 'R' routine (its bits differ from the conjugated
 * 'N' solve: measured for n >= 65 in single precision).
 */
#include <stdlib.h>
#include <string.h>
#include "precision.h"
#include "internal.h"
#include "enzyme_glue.h"

#define HANDLERS DL_CAT3(dle_, DL_P, _handlers)

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

/* ------------------------------------------------------------------ trsv */
/* The adjoint needs A (bbar = op(A)^{-H} xbar) and, only when A is active, the solution x
 * (Abar = -bbar x^H). */
typedef struct {
    dle_tape_head head;
    char uplo, trans, diag; /* trans 'N' for a conj(A) call: the rules' view */
    int n, lda, incx, A_active, conj;
    T *A, *x; /* taped copies: A's triangle (ld n), x contiguous (conjugated with conj) */
} trsv_tape;

static void library_trsv(char uplo, char trans, char diag, int n, const T *A, int lda, T *x, int incx) {
    if (n > 0) BLAS(trsv)(&uplo, &trans, &diag, &n, A, &lda, x, &incx);
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

/* ------------------------------------------------------------------ trsm */
/* The adjoint needs A always; X when A is active or for alphabar = <X, Xbar>/conj(alpha); the
 * original B only when alpha is active and alpha == 0 (then X = 0 carries no information). */
typedef struct {
    dle_tape_head head;
    char side, uplo, transa, diag; /* transa 'N' for a conj(A) call: the rules' view */
    int m, n, lda, ldb, A_active, alpha_active, conj;
    T alpha;       /* conjugated with conj */
    T *A, *X, *B0; /* taped copies, leading dimensions k and m (X, B0 conjugated with conj) */
} trsm_tape;

static void library_trsm(char side, char uplo, char transa, char diag, int m, int n, T alpha, const T *A,
                         int lda, T *B, int ldb) {
    BLAS(trsm)(&side, &uplo, &transa, &diag, &m, &n, &alpha, A, &lda, B, &ldb);
}

/* The primal solve of the conjugated 'N' system (alpha is conj of the caller's): the library's
 * 'R' solve, conjugated. */
static void conjugated_trsm(char side, char uplo, char transa, char diag, int m, int n, T alpha, const T *A,
                            int lda, T *B, int ldb) {
    (void)transa;
    IFN(conj_matrix)(m, n, B, ldb);
    library_trsm(side, uplo, 'R', diag, m, n, CONJ(alpha), A, lda, B, ldb);
    IFN(conj_matrix)(m, n, B, ldb);
}

static void trsm_primal(void *B) {
    const dle_record *r = &dle_rec;
    library_trsm(r->flag[0], r->flag[1], r->flag[2], r->flag[3], r->m, r->n, *(const T *)r->alpha, r->A, r->lda,
                 B, r->ldb);
}

static void trsm_fwd(void *B, void *dB) {
    const dle_record *r = &dle_rec;
    const unsigned active = DL_ACTIVE_B | (r->dA ? DL_ACTIVE_A : 0u) | (r->dalpha ? DL_ACTIVE_ALPHA : 0u);
    if (!conj_op(r->flag[2])) {
        IFN(trsm_fwd_solving)(library_trsm, active, r->flag[0], r->flag[1], r->flag[2], r->flag[3], r->m, r->n,
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

/* ------------------------------------------------------------------ getrf */
/* The adjoint needs the factors and the pivots. */
typedef struct {
    dle_tape_head head;
    int m, n, lda;
    T *LU;
    int *ipiv;
} getrf_tape;

static void getrf_primal(void *A) {
    dle_rec.info = FN(getrf)(dle_rec.m, dle_rec.n, A, dle_rec.lda, dle_pivot_buf);
}

static void getrf_fwd(void *A, void *dA) {
    dle_rec.info = FN(getrf_fwd)(DL_ACTIVE_A, dle_rec.m, dle_rec.n, A, dle_rec.lda, dle_pivot_buf, dA, dle_rec.lda);
}

static void *getrf_aug(void *A, void *dA) {
    (void)dA;
    getrf_tape *t = (getrf_tape *)new_tape(sizeof *t, DLE_OP_GETRF);
    t->m = dle_rec.m; t->n = dle_rec.n; t->lda = dle_rec.lda;
    getrf_primal(A);
    t->LU = tape_matrix("A", t->m, t->n, A, t->lda);
    t->ipiv = dle_copy_pivots(dle_pivot_buf, dl_min(t->m, t->n));
    return t;
}

static void getrf_rev(void *A, void *dA, void *tape) {
    (void)A;
    getrf_tape *t = (getrf_tape *)tape;
    FN(getrf_rev)(DL_ACTIVE_A, t->m, t->n, t->LU, dl_max(1, t->m), t->ipiv, dA, t->lda);
    free(t->LU); free(t->ipiv); free(t);
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

static void library_getrs(char trans, int n, int nrhs, const T *LU, int lda, const int *ipiv, T *B, int ldb) {
    int info = 0;
    if (n > 0 && nrhs > 0) BLAS(getrs)(&trans, &n, &nrhs, LU, &lda, ipiv, B, &ldb, &info);
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
    int info = 0;
    if (r->n > 0) dle_pivot_buf[0] = 0;
    BLAS(gesv)(&r->n, &r->side_cols, A, &r->lda, dle_pivot_buf, r->side, &r->side_ld, &info);
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

const dle_handler HANDLERS[DLE_OP_COUNT] = {
    [DLE_OP_TRSV] = {trsv_primal, trsv_fwd, trsv_aug, trsv_rev},
    [DLE_OP_TRSM] = {trsm_primal, trsm_fwd, trsm_aug, trsm_rev},
    [DLE_OP_GETRF] = {getrf_primal, getrf_fwd, getrf_aug, getrf_rev},
    [DLE_OP_GETRS] = {getrs_primal, getrs_fwd, getrs_aug, getrs_rev},
    [DLE_OP_GESV_FACTOR] = {gesv_factor_primal, gesv_factor_fwd, gesv_factor_aug, gesv_factor_rev},
    [DLE_OP_GESV_SOLVE] = {gesv_solve_primal, gesv_solve_fwd, gesv_solve_aug, gesv_solve_rev},
};
