/* enzyme_rules_triangular.c -- the Enzyme layer's handlers of ?trsv_, ?trsm_ and ?trtrs_:
 * primal, forward rule (fused primal + tangent), augmented forward pass (primal + tape) and
 * reverse rule (adjoint), over the element type T (compiled for s, d, c, z). What they share
 * and the conventions they follow: enzyme_rules.h. */
#include "enzyme_rules.h"

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
    dl_free(t->A); dl_free(t->x); dl_free(t);
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
        dl_free(t);
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
    dl_free(t->A); dl_free(t->X); dl_free(t->B0); dl_free(t);
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

const dle_handler DLE_RULE(trsv) = {trsv_primal, trsv_fwd, trsv_aug, trsv_rev};
const dle_handler DLE_RULE(trsm) = {trsm_primal, trsm_fwd, trsm_aug, trsm_rev};
const dle_handler DLE_RULE(trtrs) = {trtrs_primal, trtrs_fwd, trtrs_aug, trsm_rev};
