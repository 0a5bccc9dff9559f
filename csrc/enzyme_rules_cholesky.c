/* enzyme_rules_cholesky.c -- the Enzyme layer's handlers of ?potrf_, ?potrs_ and ?posv_:
 * primal, forward rule (fused primal + tangent), augmented forward pass (primal + tape) and
 * reverse rule (adjoint), over the element type T (compiled for s, d, c, z). What they share
 * and the conventions they follow: enzyme_rules.h. */
#include "enzyme_rules.h"

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
    dl_free(t->C); dl_free(t);
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
    dl_free(t->C); dl_free(t->X); dl_free(t);
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
    dl_free(link->LU); dl_free(link->X); dl_free(link->Bbar); dl_free(link);
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
    dl_free(t);
}

const dle_handler DLE_RULE(potrf) = {potrf_primal, potrf_fwd, potrf_aug, potrf_rev};
const dle_handler DLE_RULE(potrs) = {potrs_primal, potrs_fwd, potrs_aug, potrs_rev};
const dle_handler DLE_RULE(posv_factor) = {posv_factor_primal, posv_factor_fwd, posv_factor_aug, posv_factor_rev};
const dle_handler DLE_RULE(posv_solve) = {posv_solve_primal, posv_solve_fwd, posv_solve_aug, posv_solve_rev};
