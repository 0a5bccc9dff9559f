/* enzyme_rules_lu.c -- the Enzyme layer's handlers of ?getrf_, ?getrs_, ?gesv_ and ?getri_:
 * primal, forward rule (fused primal + tangent), augmented forward pass (primal + tape) and
 * reverse rule (adjoint), over the element type T (compiled for s, d, c, z). What they share
 * and the conventions they follow: enzyme_rules.h. */
#include "enzyme_rules.h"

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

/* The getrf adjoint of the shadow (a linked ?getri's reverse has left its adjoint there). */
static void getrf_rev(void *A, void *dA, void *tape) {
    (void)A;
    dle_factor_tape *t = (dle_factor_tape *)tape;
    dle_withdraw_factor(t);
    FN(getrf_rev)(DL_ACTIVE_A, t->m, t->n, t->LU, dl_max(1, t->m), t->ipiv, dA, t->lda);
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
    dl_free(t->LU); dl_free(t->X); dl_free(t->ipiv); dl_free(t);
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
    dl_free(link->LU); dl_free(link->X); dl_free(link->Bbar); dl_free(link->ipiv); dl_free(link);
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
    dl_free(t);
}

/* ------------------------------------------------------------------ getri */
/* The adjoint (with respect to the packed factors) needs LU, the pivots and X. Linked to the
 * factorization that produced the buffer (same buffer, bitwise the same LU and pivots, its
 * reverse still to come), LU and the pivots are read from that tape: only X is taped. The
 * adjoint is getri's own either way (not the inverse's -X^H Xbar X^H handed to the
 * factorization: see dle_factor_tape). A zero diagonal entry of U (the library's test) leaves
 * the buffer unchanged: the identity, nothing taped. The primal is ?getri_ with the caller's
 * work and lwork (its bits depend on lwork), or LAPACKE's own workspace. */
typedef struct {
    dle_tape_head head;
    int n, lda, singular;
    dle_factor_tape *link;   /* linked: the factorization's tape (this tape holds a reference) */
    T *LU, *X;               /* taped copies, ld n (LU: unlinked only) */
    int *ipiv;               /* unlinked only */
} getri_tape;

static void library_getri(int n, T *A, int lda, const int *ipiv) {
    int info = 0, lwork = dle_rec.lwork;
    T *work = (T *)dle_rec.work;
    if (!work) work = (T *)dle_checked_alloc(sizeof(T) * (size_t)dl_max(1, lwork));
    BLAS(getri)(&n, A, &lda, ipiv, work, &lwork, &info);
    if (!dle_rec.work) dl_free(work);
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

/* Whether the buffer A still holds, bitwise, the factors and pivots taped by the factorization f.
 * Only ipiv[0..n-2] are compared: ?getri never reads IPIV(N), so a changed last pivot leaves
 * ?getri's result the inverse of the factored matrix, and the link stands. */
static int holds_factors_of(const dle_factor_tape *f, const T *A) {
    const int n = dle_rec.n, lda = dle_rec.lda;
    if (!f || f->head.prec != DL_P_CHAR || f->A != A || f->m != n || f->n != n || f->lda != lda ||
        __atomic_load_n(&f->reversed, __ATOMIC_ACQUIRE))
        return 0;
    const T *LU = (const T *)f->LU;
    for (int j = 0; j < n; ++j)
        if (memcmp(A + (size_t)j * lda, LU + (size_t)j * n, sizeof(T) * (size_t)n)) return 0;
    return n < 2 || memcmp(f->ipiv, dle_rec.ipiv, sizeof(int) * (size_t)(n - 1)) == 0;
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
        t->X = tape_matrix("A", n, n, A, lda);
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
    /* linked: the factors and pivots from the factorization's tape (ld n: square) */
    const T *LU = t->link ? (const T *)t->link->LU : t->LU;
    const int *ipiv = t->link ? t->link->ipiv : t->ipiv;
    if (!t->singular) FN(getri_rev)(DL_ACTIVE_A, n, LU, ld, ipiv, t->X, ld, dA, t->lda);
    dle_release_factor(t->link);
    dl_free(t->LU); dl_free(t->X); dl_free(t->ipiv); dl_free(t);
}

const dle_handler DLE_RULE(getrf) = {getrf_primal, getrf_fwd, getrf_aug, getrf_rev};
const dle_handler DLE_RULE(getrs) = {getrs_primal, getrs_fwd, getrs_aug, getrs_rev};
const dle_handler DLE_RULE(gesv_factor) = {gesv_factor_primal, gesv_factor_fwd, gesv_factor_aug, gesv_factor_rev};
const dle_handler DLE_RULE(gesv_solve) = {gesv_solve_primal, gesv_solve_fwd, gesv_solve_aug, gesv_solve_rev};
const dle_handler DLE_RULE(getri) = {getri_primal, getri_fwd, getri_aug, getri_rev};
