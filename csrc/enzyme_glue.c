/* enzyme_glue.c -- the C side of difflapack_enzyme.h: the kernels the interposed
 * dtrsv_/dtrsm_/dgetrf_/dgetrs_/dgesv_ (and _64_) shims call, and the Enzyme rules of those
 * kernels (forward = fused primal+tangent; augmented forward + reverse = tape + adjoint).
 *
 * Why this shape (measured in enzyme-ad 0.0.16, see docs/enzyme-limitations/README.md):
 *  - a forward rule is only usable when no argument of the call is an inactive pointer, and
 *    the reverse rule receives a shadow after EVERY argument in combined mode but after the
 *    ACTIVE ones only in split mode (jax.grad). A kernel whose ONLY argument is the in/out
 *    array has the same rule signature in every mode: (x, dx) and (x, dx, tape).
 *  - so a call is split into: an inactive "setup" call (flags, sizes, pivots, by value;
 *    validates like BLAS/LAPACK), one-argument "set" calls for the read-only double inputs
 *    (the matrix, trsm's alpha) whose rules fire only when that input is active and record its
 *    shadow, and the compute call on the in/out array. The setup/set calls fill a
 *    thread-local record that the compute call (or its rule) consumes immediately.
 *  - Enzyme tapes nothing for custom rules and the caller may overwrite the inputs and the
 *    outputs before the reverse pass: the augmented pass copies exactly what the adjoint
 *    needs (see each *_aug) into its tape. Shadow POINTERS are stable and are kept as such.
 *  - dgesv's two kernels share one tape: the augmented factorization leaves it in the record
 *    for the augmented solve that follows (Enzyme runs them in program order), and the
 *    reverse of the factorization, which Enzyme runs right after the solve's, does the
 *    adjoint of both (see dle_gesv_factor_rev).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#define DL_PREC_D /* transitional: the glue is float64-only until its rewrite */
#include "precision.h"
#include "internal.h"
#define DIFFLAPACK_ENZYME_GLUE_ONLY
#include "difflapack_enzyme.h"

/* BLAS/LAPACK's error handler (OpenBLAS's prints the message and returns). */
void xerbla_(const char *srname, const int *info, int len);

/* ------------------------------------------------------------------ the call record */
typedef struct {
    char flag[4];            /* BLAS letters, upper case, in the primal routine's order */
    int m, n;                /* trsv: n; trsm: m, n; getrf: m, n; getrs: n, nrhs (in m, n) */
    int lda, ldb;            /* ldb is incx for trsv */
    const double *A, *dA;    /* the read-only matrix and its shadow (NULL: inactive) */
    const double *alpha;     /* trsm */
    double *dalpha;          /* its shadow (NULL: inactive) */
    const int *ipiv;         /* getrs: the pivots (LP64 view) */
    int info;                /* getrf: LAPACK's info of the last factorization */
    struct dle_gesv_tape *gesv_link; /* augmented gesv: the factorization's tape, pending for
                                        its solve (cleared by every setup call but the solve's) */
} dle_record;

static __thread dle_record rec;
static __thread int *pivot_buf;   /* getrf output / converted ILP64 getrs input */
static __thread size_t pivot_cap;

static int *pivot_room(size_t count) {
    if (count > pivot_cap) {
        int *p = (int *)realloc(pivot_buf, sizeof(int) * count);
        if (!p) return NULL;
        pivot_buf = p;
        pivot_cap = count;
    }
    return pivot_buf ? pivot_buf : (pivot_buf = (int *)malloc(sizeof(int)), pivot_cap = 1, pivot_buf);
}

static void reset_record(void) { memset(&rec, 0, sizeof rec); }

/* Report like BLAS/LAPACK: xerbla with the primal routine's name and argument position. */
static int illegal(const char *routine, int position) {
    int p = position;
    xerbla_(routine, &p, (int)strlen(routine));
    return -position;
}

/* A 64-bit integer argument that does not fit the LP64 kernels is reported as illegal. */
static int fits(long long v) { return v >= INT_MIN && v <= INT_MAX; }

/* Bytes copied into reverse-mode tapes so far (all threads): lets tests check that only what
 * the adjoint needs is taped. */
static unsigned long long taped_bytes;
unsigned long long dle_taped_bytes(void) { return __atomic_load_n(&taped_bytes, __ATOMIC_RELAXED); }
static void count_taped(size_t bytes) { __atomic_add_fetch(&taped_bytes, (unsigned long long)bytes, __ATOMIC_RELAXED); }

static double *copy_matrix(const char *uplo, int m, int n, const double *A, int lda) {
    int ldc = dl_max(1, m);
    count_taped(sizeof(double) * (size_t)dl_max(m, 0) * (size_t)dl_max(n, 0));
    double *C = dl_alloc((size_t)ldc * (size_t)dl_max(n, 0));
    if (C && m > 0 && n > 0) dlacpy_(uplo, &m, &n, A, &lda, C, &ldc);
    return C;
}

static int *copy_pivots(const int *ipiv, int k) {
    int *p = (int *)malloc(sizeof(int) * (size_t)(k > 0 ? k : 1));
    count_taped(sizeof(int) * (size_t)dl_max(k, 0));
    if (p && k > 0) memcpy(p, ipiv, sizeof(int) * (size_t)k);
    return p;
}

/* ------------------------------------------------------------------ set calls */
void dle_set_matrix(const double *A) { rec.A = A; rec.dA = NULL; }
/* The rules take non-const pointers (one signature for all rules); they never write A. */
void dle_set_matrix_fwd(double *A, double *dA) { rec.A = A; rec.dA = dA; }
/* In combined reverse mode an inactive argument arrives with shadow == primal. */
void *dle_set_matrix_aug(double *A, double *dA) {
    rec.A = A;
    rec.dA = dA == A ? NULL : dA;
    return NULL;
}
void dle_set_matrix_rev(double *A, double *dA, void *tape) { (void)A; (void)dA; (void)tape; }

void dle_set_alpha(const double *alpha) { rec.alpha = alpha; rec.dalpha = NULL; }
void dle_set_alpha_fwd(double *alpha, double *dalpha) { rec.alpha = alpha; rec.dalpha = dalpha; }
void *dle_set_alpha_aug(double *alpha, double *dalpha) {
    rec.alpha = alpha;
    rec.dalpha = dalpha == alpha ? NULL : dalpha;
    return NULL;
}
void dle_set_alpha_rev(double *alpha, double *dalpha, void *tape) { (void)alpha; (void)dalpha; (void)tape; }

/* ------------------------------------------------------------------ trsv */
int dle_setup_trsv(char uplo, char trans, char diag, long long n, long long lda, long long incx) {
    reset_record();
    char u = dl_flag(uplo, "UL"), t = dl_flag(trans, "NTC"), d = dl_flag(diag, "UN");
    if (!u) return illegal("DTRSV ", 1);
    if (!t) return illegal("DTRSV ", 2);
    if (!d) return illegal("DTRSV ", 3);
    if (n < 0 || !fits(n)) return illegal("DTRSV ", 4);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal("DTRSV ", 6);
    if (incx == 0 || !fits(incx)) return illegal("DTRSV ", 8);
    rec.flag[0] = u; rec.flag[1] = t == 'C' ? 'T' : t; rec.flag[2] = d;
    rec.n = (int)n; rec.lda = (int)lda; rec.ldb = (int)incx;
    return 0;
}

void dle_trsv(double *x) {
    dl_dtrsv(rec.flag[0], rec.flag[1], rec.flag[2], rec.n, rec.A, rec.lda, x, rec.ldb);
}

void dle_trsv_fwd(double *x, double *dx) {
    unsigned active = DL_ACTIVE_B | (rec.dA ? DL_ACTIVE_A : 0u);
    dl_dtrsv_fwd(active, rec.flag[0], rec.flag[1], rec.flag[2], rec.n, rec.A, rec.lda,
                 rec.dA, rec.lda, x, rec.ldb, dx, rec.ldb);
}

/* The adjoint needs A (for bbar = op(A)^{-T} xbar) and, only when A is active, the
 * solution x (for Abar = -bbar x^T). */
typedef struct {
    char uplo, trans, diag;
    int n, lda, incx;
    double *dA;              /* shadow of the user's A (layout lda), NULL if inactive */
    double *A, *x;           /* taped copies: A's triangle (ld n), x contiguous */
} dle_trsv_tape;

void *dle_trsv_aug(double *x, double *dx) {
    (void)dx;
    dle_trsv_tape *t = (dle_trsv_tape *)calloc(1, sizeof *t);
    int n = rec.n, one = 1;
    t->uplo = rec.flag[0]; t->trans = rec.flag[1]; t->diag = rec.flag[2];
    t->n = n; t->lda = rec.lda; t->incx = rec.ldb; t->dA = (double *)rec.dA;
    t->A = copy_matrix(&t->uplo, n, n, rec.A, rec.lda);
    dl_dtrsv(t->uplo, t->trans, t->diag, n, rec.A, rec.lda, x, rec.ldb);
    if (t->dA) {
        t->x = dl_alloc((size_t)n);
        count_taped(sizeof(double) * (size_t)n);
        if (n > 0) dcopy_(&n, x, &t->incx, t->x, &one);
    }
    return t;
}

void dle_trsv_rev(double *x, double *dx, void *tape) {
    (void)x;
    dle_trsv_tape *t = (dle_trsv_tape *)tape;
    unsigned active = DL_ACTIVE_B | (t->dA ? DL_ACTIVE_A : 0u);
    dl_dtrsv_rev(active, t->uplo, t->trans, t->diag, t->n, t->A, dl_max(1, t->n), t->dA, t->lda,
                 t->x, 1, dx, t->incx);
    free(t->A); free(t->x); free(t);
}

/* ------------------------------------------------------------------ trsm */
int dle_setup_trsm(char side, char uplo, char transa, char diag, long long m, long long n,
                   long long lda, long long ldb) {
    reset_record();
    char s = dl_flag(side, "LR"), u = dl_flag(uplo, "UL"), t = dl_flag(transa, "NTC"), d = dl_flag(diag, "UN");
    if (!s) return illegal("DTRSM ", 1);
    if (!u) return illegal("DTRSM ", 2);
    if (!t) return illegal("DTRSM ", 3);
    if (!d) return illegal("DTRSM ", 4);
    if (m < 0 || !fits(m)) return illegal("DTRSM ", 5);
    if (n < 0 || !fits(n)) return illegal("DTRSM ", 6);
    long long k = s == 'L' ? m : n;
    if (lda < (k > 1 ? k : 1) || !fits(lda)) return illegal("DTRSM ", 9);
    if (ldb < (m > 1 ? m : 1) || !fits(ldb)) return illegal("DTRSM ", 11);
    rec.flag[0] = s; rec.flag[1] = u; rec.flag[2] = t == 'C' ? 'T' : t; rec.flag[3] = d;
    rec.m = (int)m; rec.n = (int)n; rec.lda = (int)lda; rec.ldb = (int)ldb;
    return 0;
}

void dle_trsm(double *B) {
    dl_dtrsm(rec.flag[0], rec.flag[1], rec.flag[2], rec.flag[3], rec.m, rec.n, rec.alpha,
             rec.A, rec.lda, B, rec.ldb);
}

void dle_trsm_fwd(double *B, double *dB) {
    unsigned active = DL_ACTIVE_B | (rec.dA ? DL_ACTIVE_A : 0u) | (rec.dalpha ? DL_ACTIVE_ALPHA : 0u);
    dl_dtrsm_fwd(active, rec.flag[0], rec.flag[1], rec.flag[2], rec.flag[3], rec.m, rec.n,
                 rec.alpha, rec.dalpha, rec.A, rec.lda, rec.dA, rec.lda,
                 B, rec.ldb, dB, rec.ldb);
}

/* The adjoint needs A always; X when A is active or for alphabar = <Xbar, X>/alpha; the
 * original B only when alpha is active and alpha == 0 (then X = 0 carries no information). */
typedef struct {
    char side, uplo, transa, diag;
    int m, n, lda, ldb;
    double alpha;
    double *dA, *dalpha;     /* shadows (NULL: inactive) */
    double *A, *X, *B0;      /* taped copies, leading dimensions k and m */
} dle_trsm_tape;

void *dle_trsm_aug(double *B, double *dB) {
    (void)dB;
    dle_trsm_tape *t = (dle_trsm_tape *)calloc(1, sizeof *t);
    int m = rec.m, n = rec.n, k = rec.flag[0] == 'L' ? m : n;
    t->side = rec.flag[0]; t->uplo = rec.flag[1]; t->transa = rec.flag[2]; t->diag = rec.flag[3];
    t->m = m; t->n = n; t->lda = rec.lda; t->ldb = rec.ldb;
    t->alpha = *rec.alpha; t->dA = (double *)rec.dA; t->dalpha = rec.dalpha;
    t->A = copy_matrix(&t->uplo, k, k, rec.A, rec.lda);
    if (t->dalpha && t->alpha == 0.0) t->B0 = copy_matrix("A", m, n, B, rec.ldb);
    dl_dtrsm(t->side, t->uplo, t->transa, t->diag, m, n, &t->alpha, rec.A, rec.lda, B, rec.ldb);
    if (t->dA || (t->dalpha && t->alpha != 0.0)) t->X = copy_matrix("A", m, n, B, rec.ldb);
    return t;
}

void dle_trsm_rev(double *B, double *dB, void *tape) {
    (void)B;
    dle_trsm_tape *t = (dle_trsm_tape *)tape;
    int k = t->side == 'L' ? t->m : t->n;
    unsigned active = DL_ACTIVE_B | (t->dA ? DL_ACTIVE_A : 0u) | (t->dalpha ? DL_ACTIVE_ALPHA : 0u);
    dl_dtrsm_rev(active, t->side, t->uplo, t->transa, t->diag, t->m, t->n, &t->alpha,
                 t->A, dl_max(1, k), t->dA, t->lda, t->X, dl_max(1, t->m), t->B0, dl_max(1, t->m),
                 dB, t->ldb, t->dalpha);
    free(t->A); free(t->X); free(t->B0); free(t);
}

/* ------------------------------------------------------------------ getrf */
int dle_setup_getrf(long long m, long long n, long long lda) {
    reset_record();
    if (m < 0 || !fits(m)) return illegal("DGETRF", 1);
    if (n < 0 || !fits(n)) return illegal("DGETRF", 2);
    if (lda < (m > 1 ? m : 1) || !fits(lda)) return illegal("DGETRF", 4);
    rec.m = (int)m; rec.n = (int)n; rec.lda = (int)lda;
    if (!pivot_room((size_t)dl_min(rec.m, rec.n))) return DL_ERR_ALLOC;
    return 0;
}

void dle_getrf(double *A) { rec.info = dl_dgetrf(rec.m, rec.n, A, rec.lda, pivot_buf); }

void dle_getrf_fwd(double *A, double *dA) {
    rec.info = dl_dgetrf_fwd(DL_ACTIVE_A, rec.m, rec.n, A, rec.lda, pivot_buf, dA, rec.lda);
}

/* The adjoint needs the factors and the pivots. */
typedef struct {
    int m, n, lda;
    double *LU;
    int *ipiv;
} dle_getrf_tape;

void *dle_getrf_aug(double *A, double *dA) {
    (void)dA;
    dle_getrf_tape *t = (dle_getrf_tape *)calloc(1, sizeof *t);
    t->m = rec.m; t->n = rec.n; t->lda = rec.lda;
    rec.info = dl_dgetrf(rec.m, rec.n, A, rec.lda, pivot_buf);
    t->LU = copy_matrix("A", rec.m, rec.n, A, rec.lda);
    t->ipiv = copy_pivots(pivot_buf, dl_min(rec.m, rec.n));
    return t;
}

void dle_getrf_rev(double *A, double *dA, void *tape) {
    (void)A;
    dle_getrf_tape *t = (dle_getrf_tape *)tape;
    dl_dgetrf_rev(DL_ACTIVE_A, t->m, t->n, t->LU, dl_max(1, t->m), t->ipiv, dA, t->lda);
    free(t->LU); free(t->ipiv); free(t);
}

/* Copy the pivots of the last factorization to the caller (int or 64-bit) and return info. */
int dle_fetch_getrf(void *ipiv, int ipiv64) {
    int k = dl_min(rec.m, rec.n);
    if (ipiv64) {
        long long *p = (long long *)ipiv;
        for (int i = 0; i < k; ++i) p[i] = pivot_buf[i];
    } else if (k > 0) {
        memcpy(ipiv, pivot_buf, sizeof(int) * (size_t)k);
    }
    return rec.info;
}

/* ------------------------------------------------------------------ getrs */
int dle_setup_getrs(char trans, long long n, long long nrhs, long long lda, const void *ipiv,
                    int ipiv64, long long ldb) {
    reset_record();
    char t = dl_flag(trans, "NTC");
    if (!t) return illegal("DGETRS", 1);
    if (n < 0 || !fits(n)) return illegal("DGETRS", 2);
    if (nrhs < 0 || !fits(nrhs)) return illegal("DGETRS", 3);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal("DGETRS", 5);
    if (ldb < (n > 1 ? n : 1) || !fits(ldb)) return illegal("DGETRS", 8);
    rec.flag[0] = t == 'C' ? 'T' : t;
    rec.m = (int)n; rec.n = (int)nrhs; rec.lda = (int)lda; rec.ldb = (int)ldb;
    if (ipiv64) {
        const long long *p = (const long long *)ipiv;
        int *q = pivot_room((size_t)rec.m);
        if (!q) return DL_ERR_ALLOC;
        for (int i = 0; i < rec.m; ++i) q[i] = (int)p[i];
        rec.ipiv = q;
    } else {
        rec.ipiv = (const int *)ipiv;
    }
    return 0;
}

void dle_getrs(double *B) {
    dl_dgetrs(rec.flag[0], rec.m, rec.n, rec.A, rec.lda, rec.ipiv, B, rec.ldb);
}

void dle_getrs_fwd(double *B, double *dB) {
    unsigned active = DL_ACTIVE_B | (rec.dA ? DL_ACTIVE_A : 0u);
    dl_dgetrs_fwd(active, rec.flag[0], rec.m, rec.n, rec.A, rec.lda, rec.dA, rec.lda, rec.ipiv,
                  B, rec.ldb, dB, rec.ldb);
}

/* The adjoint needs the factors and pivots; the solution X only when the factors are active. */
typedef struct {
    char trans;
    int n, nrhs, lda, ldb;
    double *dLU;             /* shadow of the user's factors, NULL if inactive */
    double *LU, *X;
    int *ipiv;
} dle_getrs_tape;

void *dle_getrs_aug(double *B, double *dB) {
    (void)dB;
    dle_getrs_tape *t = (dle_getrs_tape *)calloc(1, sizeof *t);
    t->trans = rec.flag[0]; t->n = rec.m; t->nrhs = rec.n; t->lda = rec.lda; t->ldb = rec.ldb;
    t->dLU = (double *)rec.dA;
    t->LU = copy_matrix("A", t->n, t->n, rec.A, rec.lda);
    t->ipiv = copy_pivots(rec.ipiv, t->n);
    dl_dgetrs(t->trans, t->n, t->nrhs, rec.A, rec.lda, rec.ipiv, B, rec.ldb);
    if (t->dLU) t->X = copy_matrix("A", t->n, t->nrhs, B, rec.ldb);
    return t;
}

void dle_getrs_rev(double *B, double *dB, void *tape) {
    (void)B;
    dle_getrs_tape *t = (dle_getrs_tape *)tape;
    unsigned active = DL_ACTIVE_B | (t->dLU ? DL_ACTIVE_A : 0u);
    int ld = dl_max(1, t->n);
    dl_dgetrs_rev(active, t->trans, t->n, t->nrhs, t->LU, ld, t->dLU, t->lda, t->ipiv, t->X, ld,
                  dB, t->ldb);
    free(t->LU); free(t->X); free(t->ipiv); free(t);
}

/* ------------------------------------------------------------------ gesv */
/* dgesv = dgetrf + dgetrs('N') (as in LAPACK itself), but with its own two kernels so that the
 * reverse pass is that of A X = B, not of the two steps (see dle_gesv_factor_rev). */
int dle_check_gesv(long long n, long long nrhs, long long lda, long long ldb) {
    if (n < 0 || !fits(n)) return illegal("DGESV ", 1);
    if (nrhs < 0 || !fits(nrhs)) return illegal("DGESV ", 2);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal("DGESV ", 4);
    if (ldb < (n > 1 ? n : 1) || !fits(ldb)) return illegal("DGESV ", 7);
    return 0;
}

/* The factorization's tape, shared with its solve: LU and the pivots are taped once (by the
 * factorization, when A is active); the solve adds its shadow and X to it. */
typedef struct dle_gesv_tape {
    int n, nrhs, lda, ldb;
    double *dA;              /* A's shadow (NULL: A inactive) */
    double *dB;              /* B's shadow, set by the linked solve (NULL: no active solve) */
    double *LU, *X;          /* taped copies, leading dimension n */
    int *ipiv;
} dle_gesv_tape;

void dle_gesv_factor(double *A) { dle_getrf(A); }

/* Forward: the getrf fused tangent; A's shadow holds dLU afterwards (the caller may read it)
 * and is the solve's dLU. */
void dle_gesv_factor_fwd(double *A, double *dA) { dle_getrf_fwd(A, dA); }

void *dle_gesv_factor_aug(double *A, double *dA) {
    dle_gesv_tape *t = (dle_gesv_tape *)calloc(1, sizeof *t);
    t->n = rec.n; t->lda = rec.lda;
    rec.info = dl_dgetrf(rec.m, rec.n, A, rec.lda, pivot_buf);
    if (dA != A) {   /* combined reverse passes an inactive argument with shadow == primal */
        t->dA = dA;
        t->LU = copy_matrix("A", t->n, t->n, A, rec.lda);
        t->ipiv = copy_pivots(pivot_buf, t->n);
        rec.gesv_link = t;
    }
    return t;
}

/* Reverse of A X = B with fixed pivots (Giles 2008, sec. 2.3.1): Bbar = A^{-T} Xbar and
 * Abar = -Bbar X^T, plus the getrf adjoint (Walter & Lehmann 2018) of the cotangent LUbar of
 * the factors left in A (dl_dgesv_rev skips it when LUbar == 0, the usual A\b). This replaces
 * getrs' adjoint (which pushes -Bbar X^T back through the factors as an LU cotangent) followed
 * by the full getrf adjoint of it: the same result, since the getrf adjoint is linear and maps
 * the getrs contribution to exactly -Bbar X^T, at the cost of one transposed solve.
 * Runs right after the solve's reverse, which left Xbar in dB. */
void dle_gesv_factor_rev(double *A, double *dA, void *tape) {
    (void)A;
    dle_gesv_tape *t = (dle_gesv_tape *)tape;
    int ld = dl_max(1, t->n);
    if (t->dA && t->dB)
        dl_dgesv_rev(DL_ACTIVE_A | DL_ACTIVE_B, t->n, t->nrhs, t->LU, ld, t->ipiv, dA, t->lda,
                     t->X, ld, t->dB, t->ldb);
    else if (t->dA)
        dl_dgetrf_rev(DL_ACTIVE_A, t->n, t->n, t->LU, ld, t->ipiv, dA, t->lda);
    if (rec.gesv_link == t) rec.gesv_link = NULL;   /* its solve never ran (info > 0) */
    free(t->LU); free(t->X); free(t->ipiv); free(t);
}

/* Set up the solve of dgesv like dgetrs('N') over the pivots just computed (the LP64 view),
 * keeping the factorization's pending link. Arguments were checked by dle_check_gesv. */
int dle_setup_gesv_solve(long long n, long long nrhs, long long lda, long long ldb) {
    struct dle_gesv_tape *link = rec.gesv_link;
    reset_record();
    rec.gesv_link = link;
    rec.flag[0] = 'N';
    rec.m = (int)n; rec.n = (int)nrhs; rec.lda = (int)lda; rec.ldb = (int)ldb;
    rec.ipiv = pivot_buf;
    return 0;
}

void dle_gesv_solve(double *B) { dle_getrs(B); }

/* Forward: getrs' fused tangent with dLU from the factorization's forward rule. */
void dle_gesv_solve_fwd(double *B, double *dB) { dle_getrs_fwd(B, dB); }

/* Linked to an active factorization: tape B's shadow and X in ITS tape, return NULL (the
 * factorization's reverse does the whole adjoint). A inactive: getrs' augmented pass (LU and
 * pivots taped here, no X). X inactive (dB == B): solve only, NULL. */
void *dle_gesv_solve_aug(double *B, double *dB) {
    dle_gesv_tape *t = rec.gesv_link;
    rec.gesv_link = NULL;
    if (!t && dB != B) return dle_getrs_aug(B, dB);
    dle_getrs(B);
    if (t && dB != B) {
        t->nrhs = rec.n; t->ldb = rec.ldb; t->dB = dB;
        t->X = copy_matrix("A", rec.m, rec.n, B, rec.ldb);
    }
    return NULL;
}

/* NULL tape: nothing to do here (Xbar stays in dB for the factorization's reverse, or X was
 * inactive); otherwise getrs' adjoint Bbar = A^{-T} Xbar. */
void dle_gesv_solve_rev(double *B, double *dB, void *tape) {
    if (tape) dle_getrs_rev(B, dB, tape);
}
