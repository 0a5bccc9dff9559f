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

/* ------------------------------------------------------------------ trsv */
/* The adjoint needs A (bbar = op(A)^{-H} xbar) and, only when A is active, the solution x
 * (Abar = -bbar x^H). */
typedef struct {
    dle_tape_head head;
    char uplo, trans, diag;
    int n, lda, incx, A_active;
    T *A, *x; /* taped copies: A's triangle (ld n), x contiguous */
} trsv_tape;

static void trsv_primal(void *x) {
    FN(trsv)(dle_rec.flag[0], dle_rec.flag[1], dle_rec.flag[2], dle_rec.n, dle_rec.A, dle_rec.lda, x, dle_rec.ldb);
}

static void trsv_fwd(void *x, void *dx) {
    const unsigned active = DL_ACTIVE_B | (dle_rec.dA ? DL_ACTIVE_A : 0u);
    FN(trsv_fwd)(active, dle_rec.flag[0], dle_rec.flag[1], dle_rec.flag[2], dle_rec.n, dle_rec.A, dle_rec.lda,
                 dle_rec.dA, dle_rec.lda, x, dle_rec.ldb, dx, dle_rec.ldb);
}

static void *trsv_aug(void *x, void *dx) {
    (void)dx;
    trsv_tape *t = (trsv_tape *)new_tape(sizeof *t, DLE_OP_TRSV);
    t->uplo = dle_rec.flag[0]; t->trans = dle_rec.flag[1]; t->diag = dle_rec.flag[2];
    t->n = dle_rec.n; t->lda = dle_rec.lda; t->incx = dle_rec.ldb; t->A_active = dle_rec.A_active;
    t->A = tape_matrix(&t->uplo, t->n, t->n, dle_rec.A, dle_rec.lda);
    FN(trsv)(t->uplo, t->trans, t->diag, t->n, dle_rec.A, dle_rec.lda, x, t->incx);
    if (t->A_active) t->x = tape_vector(t->n, x, t->incx);
    return t;
}

static void trsv_rev(void *x, void *dx, void *tape) {
    (void)x;
    trsv_tape *t = (trsv_tape *)tape;
    void *dA = dle_take_bound_matrix(); /* taken (cleared) whatever the tape says */
    if (!t->A_active) dA = NULL;
    FN(trsv_rev)(DL_ACTIVE_B | matrix_activity(dA != NULL), t->uplo, t->trans, t->diag, t->n, t->A,
                 dl_max(1, t->n), dA, t->lda, t->x, 1, dx, t->incx);
    free(t->A); free(t->x); free(t);
}

/* ------------------------------------------------------------------ trsm */
/* The adjoint needs A always; X when A is active or for alphabar = <X, Xbar>/conj(alpha); the
 * original B only when alpha is active and alpha == 0 (then X = 0 carries no information). */
typedef struct {
    dle_tape_head head;
    char side, uplo, transa, diag;
    int m, n, lda, ldb, A_active, alpha_active;
    T alpha;
    T *A, *X, *B0; /* taped copies, leading dimensions k and m */
} trsm_tape;

static void trsm_primal(void *B) {
    FN(trsm)(dle_rec.flag[0], dle_rec.flag[1], dle_rec.flag[2], dle_rec.flag[3], dle_rec.m, dle_rec.n,
             dle_rec.alpha, dle_rec.A, dle_rec.lda, B, dle_rec.ldb);
}

static void trsm_fwd(void *B, void *dB) {
    const unsigned active = DL_ACTIVE_B | (dle_rec.dA ? DL_ACTIVE_A : 0u) | (dle_rec.dalpha ? DL_ACTIVE_ALPHA : 0u);
    FN(trsm_fwd)(active, dle_rec.flag[0], dle_rec.flag[1], dle_rec.flag[2], dle_rec.flag[3], dle_rec.m,
                 dle_rec.n, dle_rec.alpha, dle_rec.dalpha, dle_rec.A, dle_rec.lda, dle_rec.dA, dle_rec.lda, B,
                 dle_rec.ldb, dB, dle_rec.ldb);
}

static void *trsm_aug(void *B, void *dB) {
    (void)dB;
    trsm_tape *t = (trsm_tape *)new_tape(sizeof *t, DLE_OP_TRSM);
    const int m = dle_rec.m, n = dle_rec.n, k = dle_rec.flag[0] == 'L' ? m : n;
    t->side = dle_rec.flag[0]; t->uplo = dle_rec.flag[1]; t->transa = dle_rec.flag[2]; t->diag = dle_rec.flag[3];
    t->m = m; t->n = n; t->lda = dle_rec.lda; t->ldb = dle_rec.ldb;
    t->alpha = *(const T *)dle_rec.alpha;
    t->A_active = dle_rec.A_active; t->alpha_active = dle_rec.alpha_active;
    t->A = tape_matrix(&t->uplo, k, k, dle_rec.A, dle_rec.lda);
    if (t->alpha_active && t->alpha == 0) t->B0 = tape_matrix("A", m, n, B, dle_rec.ldb);
    FN(trsm)(t->side, t->uplo, t->transa, t->diag, m, n, &t->alpha, dle_rec.A, dle_rec.lda, B, dle_rec.ldb);
    if (t->A_active || (t->alpha_active && t->alpha != 0)) t->X = tape_matrix("A", m, n, B, dle_rec.ldb);
    return t;
}

static void trsm_rev(void *B, void *dB, void *tape) {
    (void)B;
    trsm_tape *t = (trsm_tape *)tape;
    void *dA = dle_take_bound_matrix(); /* taken (cleared) whatever the tape says */
    if (!t->A_active) dA = NULL;
    void *dalpha = dle_take_bound_scalar();
    if (!t->alpha_active) dalpha = NULL;
    const int k = t->side == 'L' ? t->m : t->n;
    const unsigned active = DL_ACTIVE_B | matrix_activity(dA != NULL) | (dalpha ? DL_ACTIVE_ALPHA : 0u);
    FN(trsm_rev)(active, t->side, t->uplo, t->transa, t->diag, t->m, t->n, &t->alpha, t->A, dl_max(1, k), dA,
                 t->lda, t->X, dl_max(1, t->m), t->B0, dl_max(1, t->m), dB, t->ldb, dalpha);
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
    char trans;
    int n, nrhs, lda, ldb, A_active;
    T *LU, *X;
    int *ipiv;
} getrs_tape;

static void getrs_primal(void *B) {
    FN(getrs)(dle_rec.flag[0], dle_rec.m, dle_rec.n, dle_rec.A, dle_rec.lda, dle_rec.ipiv, B, dle_rec.ldb);
}

static void getrs_fwd(void *B, void *dB) {
    const unsigned active = DL_ACTIVE_B | (dle_rec.dA ? DL_ACTIVE_A : 0u);
    FN(getrs_fwd)(active, dle_rec.flag[0], dle_rec.m, dle_rec.n, dle_rec.A, dle_rec.lda, dle_rec.dA, dle_rec.lda,
                  dle_rec.ipiv, B, dle_rec.ldb, dB, dle_rec.ldb);
}

static void *getrs_aug(void *B, void *dB) {
    (void)dB;
    getrs_tape *t = (getrs_tape *)new_tape(sizeof *t, DLE_OP_GETRS);
    t->trans = dle_rec.flag[0]; t->n = dle_rec.m; t->nrhs = dle_rec.n; t->lda = dle_rec.lda; t->ldb = dle_rec.ldb;
    t->A_active = dle_rec.A_active;
    t->LU = tape_matrix("A", t->n, t->n, dle_rec.A, dle_rec.lda);
    t->ipiv = dle_copy_pivots(dle_rec.ipiv, t->n);
    getrs_primal(B);
    if (t->A_active) t->X = tape_matrix("A", t->n, t->nrhs, B, t->ldb);
    return t;
}

static void getrs_rev(void *B, void *dB, void *tape) {
    (void)B;
    getrs_tape *t = (getrs_tape *)tape;
    void *dLU = dle_take_bound_matrix(); /* taken (cleared) whatever the tape says */
    if (!t->A_active) dLU = NULL;
    const int ld = dl_max(1, t->n);
    FN(getrs_rev)(DL_ACTIVE_B | matrix_activity(dLU != NULL), t->trans, t->n, t->nrhs, t->LU, ld, dLU, t->lda,
                  t->ipiv, t->X, ld, dB, t->ldb);
    free(t->LU); free(t->X); free(t->ipiv); free(t);
}

/* ------------------------------------------------------------------ gesv */
/* The factorization: getrf's primal and forward rule (A's shadow holds dLU afterwards, the
 * solve's dLU); its augmented pass tapes LU and the pivots in the link its solve completes. */
static void *gesv_factor_aug(void *A, void *dA) {
    (void)dA;
    dle_gesv_link *link = (dle_gesv_link *)new_tape(sizeof *link, DLE_OP_GESV_FACTOR);
    link->n = dle_rec.n; link->lda = dle_rec.lda;
    getrf_primal(A);
    link->LU = tape_matrix("A", link->n, link->n, A, link->lda);
    link->ipiv = dle_copy_pivots(dle_pivot_buf, link->n);
    dle_rec.gesv_link = link;
    return link;
}

/* Reverse of A X = B with fixed pivots (Giles 2008, sec. 2.3.1): Bbar = A^{-H} Xbar and
 * Abar = -Bbar X^H, plus the getrf adjoint (Walter & Lehmann 2018) of the cotangent LUbar of
 * the factors left in A (?gesv_rev skips it when LUbar == 0, the usual A\b). This replaces
 * getrs' adjoint (which pushes -Bbar X^H back through the factors as an LU cotangent) followed
 * by the full getrf adjoint of it: the same result, since the getrf adjoint is linear and maps
 * the getrs contribution to exactly -Bbar X^H, at the cost of one transposed solve. Runs right
 * after the solve's reverse, which left Xbar's shadow pointer in the link. */
static void gesv_factor_rev(void *A, void *dA, void *tape) {
    (void)A;
    dle_gesv_link *link = (dle_gesv_link *)tape;
    const int ld = dl_max(1, link->n);
    if (link->dB)
        FN(gesv_rev)(DL_ACTIVE_A | DL_ACTIVE_B, link->n, link->nrhs, link->LU, ld, link->ipiv, dA, link->lda,
                     link->X, ld, link->dB, link->ldb);
    else
        FN(getrf_rev)(DL_ACTIVE_A, link->n, link->n, link->LU, ld, link->ipiv, dA, link->lda);
    if (dle_rec.gesv_link == link) dle_rec.gesv_link = NULL; /* its solve never ran (info > 0) */
    free(link->LU); free(link->X); free(link->ipiv); free(link);
}

/* The solve linked to an active factorization: X goes into the link, and the reverse rule
 * only hands the shadow of B over to the factorization's reverse. */
typedef struct {
    dle_tape_head head;
    dle_gesv_link *link;
} gesv_solve_tape;

static void *gesv_solve_aug(void *B, void *dB) {
    dle_gesv_link *link = dle_rec.gesv_link;
    dle_rec.gesv_link = NULL;
    if (!link) return getrs_aug(B, dB); /* A inactive: a plain getrs (its tape dispatches there) */
    getrs_primal(B);
    link->nrhs = dle_rec.n; link->ldb = dle_rec.ldb;
    link->X = tape_matrix("A", link->n, link->nrhs, B, link->ldb);
    gesv_solve_tape *t = (gesv_solve_tape *)new_tape(sizeof *t, DLE_OP_GESV_SOLVE);
    t->link = link;
    return t;
}

static void gesv_solve_rev(void *B, void *dB, void *tape) {
    (void)B;
    gesv_solve_tape *t = (gesv_solve_tape *)tape;
    (void)dle_take_bound_matrix(); /* the factorization's reverse accounts for A */
    t->link->dB = dB;
    free(t);
}

const dle_handler HANDLERS[DLE_OP_COUNT] = {
    [DLE_OP_TRSV] = {trsv_primal, trsv_fwd, trsv_aug, trsv_rev},
    [DLE_OP_TRSM] = {trsm_primal, trsm_fwd, trsm_aug, trsm_rev},
    [DLE_OP_GETRF] = {getrf_primal, getrf_fwd, getrf_aug, getrf_rev},
    [DLE_OP_GETRS] = {getrs_primal, getrs_fwd, getrs_aug, getrs_rev},
    [DLE_OP_GESV_FACTOR] = {getrf_primal, getrf_fwd, gesv_factor_aug, gesv_factor_rev},
    [DLE_OP_GESV_SOLVE] = {getrs_primal, getrs_fwd, gesv_solve_aug, gesv_solve_rev},
};
