/* enzyme_glue.c -- the C side of difflapack_enzyme.h: the setup calls, the kernels with Enzyme
 * rules (set/bind calls for the read-only inputs, the compute call on the in/out array) and
 * their dispatch to the per-precision routine handlers of enzyme_rules.c.
 *
 * Why this shape (measured in enzyme-ad 0.0.16, see docs/enzyme-limitations/README.md):
 *  - a forward rule is only usable when no argument of the call is an inactive pointer, and
 *    the reverse rule receives a shadow after EVERY argument in combined mode but after the
 *    ACTIVE ones only in split mode (jax.grad). A kernel whose ONLY argument is one array has
 *    the same rule signature in every mode: (x, dx) and (x, dx, tape).
 *  - so a call is split into: an inactive "setup" call (flags, sizes, pivots, by value;
 *    validates like BLAS/LAPACK), one-argument "set" calls for the read-only inputs (the
 *    matrix, trsm's alpha) whose forward rules fire only when that input is active and record
 *    its tangent, the compute call on the in/out array, and one-argument "bind" calls after
 *    it. The setup/set calls fill a thread-local record that the compute call (or its rule)
 *    consumes immediately.
 *  - a read-only input's shadow is taken from the bind call's REVERSE rule, which Enzyme runs
 *    right before the compute call's reverse rule, never from the augmented pass: in split
 *    mode (jax.grad over a cpp_call) the shadow of a cpp_call input does not exist yet during
 *    the augmented forward pass (the set call's augmented rule then receives NULL) and is handed
 *    to the reverse call only. A pointer kept from the augmented pass would silently drop the
 *    cotangent (measured: zero gradients).
 *  - Enzyme tapes nothing for custom rules and the caller may overwrite the inputs and the
 *    outputs before the reverse pass: the augmented passes copy exactly what the adjoints need.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "enzyme_glue.h"
#define DIFFLAPACK_ENZYME_GLUE_ONLY
#include "difflapack_enzyme.h"

__thread dle_record dle_rec;
__thread int *dle_pivot_buf;
static __thread size_t pivot_cap;

int *dle_pivot_room(size_t count) {
    if (count < 1) count = 1;
    if (count > pivot_cap) {
        int *p = (int *)realloc(dle_pivot_buf, sizeof(int) * count);
        if (!p) return NULL;
        dle_pivot_buf = p;
        pivot_cap = count;
    }
    return dle_pivot_buf;
}

/* ------------------------------------------------------------------ the offered factorization */
static __thread dle_factor_tape *offered_factor;

void dle_release_factor(dle_factor_tape *t) {
    if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    free(t->LU); free(t->ipiv); free(t->X); free(t->Xbar); free(t);
}

void dle_offer_factor(dle_factor_tape *t) {
    __atomic_add_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
    dle_release_factor(offered_factor);
    offered_factor = t;
}

dle_factor_tape *dle_take_offered_factor(void) {
    dle_factor_tape *t = offered_factor;
    offered_factor = NULL;
    return t;
}

void dle_withdraw_factor(dle_factor_tape *t) {
    if (offered_factor == t) dle_release_factor(dle_take_offered_factor());
}

/* A new record for the next interposed call. Any call but ?getri ends the window in which a
 * factorization may be linked to a following ?getri. */
static void reset_record(int prec, int op) {
    if (op != DLE_OP_GETRI) dle_release_factor(dle_take_offered_factor());
    memset(&dle_rec, 0, sizeof dle_rec);
    dle_rec.prec = prec;
    dle_rec.op = op;
}

/* Report like BLAS/LAPACK: xerbla with the primal routine's name ("ZTRSV ") and position. */
static int illegal(int prec, const char *routine, int position) {
    char name[8];
    int len = snprintf(name, sizeof name, "%c%-5s", (char)(prec - 'a' + 'A'), routine);
    int p = position;
    xerbla_(name, &p, len);
    return -position;
}

/* A 64-bit integer argument that does not fit the LP64 kernels is reported as illegal. */
static int fits(long long v) { return v >= INT_MIN && v <= INT_MAX; }

/* ------------------------------------------------------------------ tapes */
static unsigned long long taped_bytes;
unsigned long long dle_taped_bytes(void) { return __atomic_load_n(&taped_bytes, __ATOMIC_RELAXED); }
void dle_count_taped(size_t bytes) { __atomic_add_fetch(&taped_bytes, (unsigned long long)bytes, __ATOMIC_RELAXED); }

void *dle_tape_alloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        /* never run on without the tape: the gradient would be silently wrong */
        fprintf(stderr, "difflapack: out of memory for a reverse-mode tape of %zu bytes\n", bytes);
        abort();
    }
    dle_count_taped(bytes);
    return p;
}

int *dle_copy_pivots(const int *ipiv, int k) {
    int *p = (int *)dle_tape_alloc(sizeof(int) * (size_t)(k > 0 ? k : 1));
    if (k > 0) memcpy(p, ipiv, sizeof(int) * (size_t)k);
    return p;
}

/* ------------------------------------------------------------------ set and bind calls */
void dle_set_matrix(const void *A) { dle_rec.A = A; dle_rec.dA = NULL; dle_rec.A_active = 0; }
/* The rules take non-const pointers (one signature for all rules); they never write A. */
void dle_set_matrix_fwd(void *A, void *dA) { dle_rec.A = A; dle_rec.dA = dA; }
/* Combined reverse passes an inactive argument with shadow == primal; split reverse passes NULL
 * for a shadow that does not exist yet (an input of the cpp_call): that one is active. */
void *dle_set_matrix_aug(void *A, void *dA) {
    dle_rec.A = A;
    dle_rec.A_active = dA != A;
    return NULL;
}
void dle_set_matrix_rev(void *A, void *dA, void *tape) { (void)A; (void)dA; (void)tape; }

void dle_set_scalar(const void *alpha) { dle_rec.alpha = alpha; dle_rec.dalpha = NULL; dle_rec.alpha_active = 0; }
void dle_set_scalar_fwd(void *alpha, void *dalpha) { dle_rec.alpha = alpha; dle_rec.dalpha = dalpha; }
void *dle_set_scalar_aug(void *alpha, void *dalpha) {
    dle_rec.alpha = alpha;
    dle_rec.alpha_active = dalpha != alpha;
    return NULL;
}
void dle_set_scalar_rev(void *alpha, void *dalpha, void *tape) { (void)alpha; (void)dalpha; (void)tape; }

static __thread void *bound_matrix, *bound_scalar;

void *dle_take_bound_matrix(void) { void *p = bound_matrix; bound_matrix = NULL; return p; }
void *dle_take_bound_scalar(void) { void *p = bound_scalar; bound_scalar = NULL; return p; }

void dle_bind_matrix(const void *A) { (void)A; }
void dle_bind_matrix_fwd(void *A, void *dA) { (void)A; (void)dA; }
void *dle_bind_matrix_aug(void *A, void *dA) { (void)A; (void)dA; return NULL; }
void dle_bind_matrix_rev(void *A, void *dA, void *tape) {
    (void)tape;
    bound_matrix = dA == A ? NULL : dA;
}

void dle_bind_scalar(const void *alpha) { (void)alpha; }
void dle_bind_scalar_fwd(void *alpha, void *dalpha) { (void)alpha; (void)dalpha; }
void *dle_bind_scalar_aug(void *alpha, void *dalpha) { (void)alpha; (void)dalpha; return NULL; }
void dle_bind_scalar_rev(void *alpha, void *dalpha, void *tape) {
    (void)tape;
    bound_scalar = dalpha == alpha ? NULL : dalpha;
}

/* ------------------------------------------------------------------ the compute call */
static const dle_handler *handler(int prec, int op) {
    const dle_handler *table = prec == 's' ? dle_s_handlers : prec == 'd' ? dle_d_handlers
                             : prec == 'c' ? dle_c_handlers : dle_z_handlers;
    return &table[op];
}

void dle_compute(void *x) { handler(dle_rec.prec, dle_rec.op)->primal(x); }
void dle_compute_fwd(void *x, void *dx) { handler(dle_rec.prec, dle_rec.op)->fwd(x, dx); }
void *dle_compute_aug(void *x, void *dx) { return handler(dle_rec.prec, dle_rec.op)->aug(x, dx); }
void dle_compute_rev(void *x, void *dx, void *tape) {
    if (tape) {
        const dle_tape_head *h = (const dle_tape_head *)tape;
        handler(h->prec, h->op)->rev(x, dx, tape);
    }
    /* a bound shadow is only ever meant for the compute call right after it */
    bound_matrix = bound_scalar = NULL;
}

/* ------------------------------------------------------------------ setup calls */
int dle_setup_trsv(int prec, char uplo, char trans, char diag, long long n, long long lda, long long incx) {
    reset_record(prec, DLE_OP_TRSV);
    char u = dl_flag(uplo, "UL"), t = dl_flag(trans, "NTC"), d = dl_flag(diag, "UN");
    if (!u) return illegal(prec, "TRSV", 1);
    if (!t) return illegal(prec, "TRSV", 2);
    if (!d) return illegal(prec, "TRSV", 3);
    if (n < 0 || !fits(n)) return illegal(prec, "TRSV", 4);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal(prec, "TRSV", 6);
    if (incx == 0 || !fits(incx)) return illegal(prec, "TRSV", 8);
    dle_rec.flag[0] = u; dle_rec.flag[1] = t; dle_rec.flag[2] = d;
    dle_rec.n = (int)n; dle_rec.lda = (int)lda; dle_rec.ldb = (int)incx;
    return 0;
}

int dle_setup_trsm(int prec, char side, char uplo, char transa, char diag, long long m, long long n,
                   long long lda, long long ldb) {
    reset_record(prec, DLE_OP_TRSM);
    char s = dl_flag(side, "LR"), u = dl_flag(uplo, "UL"), t = dl_flag(transa, "NTC"), d = dl_flag(diag, "UN");
    if (!s) return illegal(prec, "TRSM", 1);
    if (!u) return illegal(prec, "TRSM", 2);
    if (!t) return illegal(prec, "TRSM", 3);
    if (!d) return illegal(prec, "TRSM", 4);
    if (m < 0 || !fits(m)) return illegal(prec, "TRSM", 5);
    if (n < 0 || !fits(n)) return illegal(prec, "TRSM", 6);
    long long k = s == 'L' ? m : n;
    if (lda < (k > 1 ? k : 1) || !fits(lda)) return illegal(prec, "TRSM", 9);
    if (ldb < (m > 1 ? m : 1) || !fits(ldb)) return illegal(prec, "TRSM", 11);
    dle_rec.flag[0] = s; dle_rec.flag[1] = u; dle_rec.flag[2] = t; dle_rec.flag[3] = d;
    dle_rec.m = (int)m; dle_rec.n = (int)n; dle_rec.lda = (int)lda; dle_rec.ldb = (int)ldb;
    return 0;
}

static int setup_factorization(int prec, const char *routine, long long m, long long n, long long lda) {
    if (m < 0 || !fits(m)) return illegal(prec, routine, 1);
    if (n < 0 || !fits(n)) return illegal(prec, routine, 2);
    if (lda < (m > 1 ? m : 1) || !fits(lda)) return illegal(prec, routine, 4);
    dle_rec.m = (int)m; dle_rec.n = (int)n; dle_rec.lda = (int)lda;
    if (!dle_pivot_room((size_t)dl_min(dle_rec.m, dle_rec.n))) return DL_ERR_ALLOC;
    return 0;
}

int dle_setup_getrf(int prec, long long m, long long n, long long lda) {
    reset_record(prec, DLE_OP_GETRF);
    return setup_factorization(prec, "GETRF", m, n, lda);
}

/* The caller's n pivots as the LP64 kernels take them: 64-bit ones converted into the pivot
 * room (a pivot out of range stays so); NULL if out of memory. */
static const int *pivots_lp64(const void *ipiv, int ipiv64, int n) {
    if (!ipiv64) return (const int *)ipiv;
    const long long *p = (const long long *)ipiv;
    int *q = dle_pivot_room((size_t)n);
    if (q)
        for (int i = 0; i < n; ++i) q[i] = fits(p[i]) ? (int)p[i] : 0;
    return q;
}

int dle_setup_getrs(int prec, char trans, long long n, long long nrhs, long long lda, const void *ipiv,
                    int ipiv64, long long ldb) {
    reset_record(prec, DLE_OP_GETRS);
    char t = dl_flag(trans, "NTC");
    if (!t) return illegal(prec, "GETRS", 1);
    if (n < 0 || !fits(n)) return illegal(prec, "GETRS", 2);
    if (nrhs < 0 || !fits(nrhs)) return illegal(prec, "GETRS", 3);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal(prec, "GETRS", 5);
    if (ldb < (n > 1 ? n : 1) || !fits(ldb)) return illegal(prec, "GETRS", 8);
    dle_rec.flag[0] = t;
    dle_rec.m = (int)n; dle_rec.n = (int)nrhs; dle_rec.lda = (int)lda; dle_rec.ldb = (int)ldb;
    dle_rec.ipiv = pivots_lp64(ipiv, ipiv64, dle_rec.m);
    if (!dle_rec.ipiv) return DL_ERR_ALLOC;
    if (!dl_pivots_in_range(dle_rec.m, dle_rec.ipiv, dle_rec.m)) return illegal(prec, "GETRS", 6);
    return 0;
}

/* ?gesv = ?getrf + ?getrs('N') (as in LAPACK itself), with its own two compute calls so that the
 * reverse pass is that of A X = B, not of the two steps (see enzyme_rules.c). */
int dle_setup_gesv(int prec, long long n, long long nrhs, long long lda, long long ldb) {
    reset_record(prec, DLE_OP_GESV_FACTOR);
    if (n < 0 || !fits(n)) return illegal(prec, "GESV", 1);
    if (nrhs < 0 || !fits(nrhs)) return illegal(prec, "GESV", 2);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal(prec, "GESV", 4);
    if (ldb < (n > 1 ? n : 1) || !fits(ldb)) return illegal(prec, "GESV", 7);
    int rc = setup_factorization(prec, "GESV", n, n, lda);
    dle_rec.nrhs_pending = (int)nrhs; dle_rec.ldb_pending = (int)ldb;
    return rc;
}

/* The solve of ?gesv: ?getrs('N') over the pivots just computed (the LP64 view), keeping the
 * factorization's pending link. Arguments were checked by dle_setup_gesv. */
int dle_setup_gesv_solve(void) {
    const dle_record factor = dle_rec;
    reset_record(factor.prec, DLE_OP_GESV_SOLVE);
    dle_rec.gesv_link = factor.gesv_link;
    dle_rec.flag[0] = 'N';
    dle_rec.m = factor.n; dle_rec.n = factor.nrhs_pending;
    dle_rec.lda = factor.lda; dle_rec.ldb = factor.ldb_pending;
    dle_rec.ipiv = dle_pivot_buf;
    return 0;
}

/* ?potrf's checks (uplo 1, n 2, lda 4). */
int dle_setup_potrf(int prec, char uplo, long long n, long long lda) {
    reset_record(prec, DLE_OP_POTRF);
    char u = dl_flag(uplo, "UL");
    if (!u) return illegal(prec, "POTRF", 1);
    if (n < 0 || !fits(n)) return illegal(prec, "POTRF", 2);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal(prec, "POTRF", 4);
    dle_rec.flag[0] = u;
    dle_rec.n = (int)n; dle_rec.lda = (int)lda;
    return 0;
}

/* ?potrs' and ?posv's checks (uplo 1, n 2, nrhs 3, lda 5, ldb 7); the record as ?potrs reads it
 * (n, nrhs in m, n). */
static int setup_cholesky_solve(int prec, int op, const char *routine, char uplo, long long n, long long nrhs,
                                long long lda, long long ldb) {
    reset_record(prec, op);
    char u = dl_flag(uplo, "UL");
    if (!u) return illegal(prec, routine, 1);
    if (n < 0 || !fits(n)) return illegal(prec, routine, 2);
    if (nrhs < 0 || !fits(nrhs)) return illegal(prec, routine, 3);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal(prec, routine, 5);
    if (ldb < (n > 1 ? n : 1) || !fits(ldb)) return illegal(prec, routine, 7);
    dle_rec.flag[0] = u;
    dle_rec.m = (int)n; dle_rec.n = (int)nrhs; dle_rec.lda = (int)lda; dle_rec.ldb = (int)ldb;
    return 0;
}

int dle_setup_trtrs(int prec, char uplo, char trans, char diag, long long n, long long nrhs, long long lda,
                    long long ldb) {
    reset_record(prec, DLE_OP_TRTRS);
    char u = dl_flag(uplo, "UL"), t = dl_flag(trans, "NTC"), d = dl_flag(diag, "UN");
    if (!u) return illegal(prec, "TRTRS", 1);
    if (!t) return illegal(prec, "TRTRS", 2);
    if (!d) return illegal(prec, "TRTRS", 3);
    if (n < 0 || !fits(n)) return illegal(prec, "TRTRS", 4);
    if (nrhs < 0 || !fits(nrhs)) return illegal(prec, "TRTRS", 5);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal(prec, "TRTRS", 7);
    if (ldb < (n > 1 ? n : 1) || !fits(ldb)) return illegal(prec, "TRTRS", 9);
    dle_rec.flag[0] = u; dle_rec.flag[1] = t; dle_rec.flag[2] = d;
    dle_rec.m = (int)n; dle_rec.n = (int)nrhs; dle_rec.lda = (int)lda; dle_rec.ldb = (int)ldb;
    return 0;
}

/* What the library's ?getri answers to a workspace query for order n (n * its block size). */
static double getri_workspace(int prec, int n) {
    int lquery = -1, info = 0, ipiv = 1;
    double w[2] = {0, 0}, a[2] = {0, 0};
    float wf[2] = {0, 0}, af[2] = {0, 0};
    switch (prec) {
    case 's': sgetri_(&n, af, &n, &ipiv, wf, &lquery, &info); return wf[0];
    case 'c': cgetri_(&n, (float _Complex *)af, &n, &ipiv, (float _Complex *)wf, &lquery, &info); return wf[0];
    case 'z': zgetri_(&n, (double _Complex *)a, &n, &ipiv, (double _Complex *)w, &lquery, &info); return w[0];
    default: dgetri_(&n, a, &n, &ipiv, w, &lquery, &info); return w[0];
    }
}

/* ?getri's checks and workspace query (LAPACK writes the optimal lwork into work[0] on entry,
 * before its checks; the work array carries no derivative and our kernel needs none). Returns
 * -position, 0 to compute, or 1 when there is nothing to compute (query, n = 0). */
int dle_setup_getri(int prec, long long n, long long lda, const void *ipiv, int ipiv64, void *work,
                    long long lwork) {
    reset_record(prec, DLE_OP_GETRI);
    if (work && n >= 0 && fits(n)) {
        const double optimal = getri_workspace(prec, n > 1 ? (int)n : 1);
        if (prec == 's' || prec == 'c') {
            ((float *)work)[0] = (float)optimal;
            if (prec == 'c') ((float *)work)[1] = 0;
        } else {
            ((double *)work)[0] = optimal;
            if (prec == 'z') ((double *)work)[1] = 0;
        }
    }
    if (n < 0 || !fits(n)) return illegal(prec, "GETRI", 1);
    if (lda < (n > 1 ? n : 1) || !fits(lda)) return illegal(prec, "GETRI", 3);
    if (lwork != -1 && lwork < (n > 1 ? n : 1)) return illegal(prec, "GETRI", 6);
    if (lwork == -1 || n == 0) return 1;
    dle_rec.n = (int)n; dle_rec.lda = (int)lda;
    dle_rec.ipiv = pivots_lp64(ipiv, ipiv64, dle_rec.n);
    if (!dle_rec.ipiv) return DL_ERR_ALLOC;
    if (!dl_pivots_in_range(dle_rec.n, dle_rec.ipiv, dle_rec.n)) return illegal(prec, "GETRI", 4);
    return 0;
}

int dle_setup_potrs(int prec, char uplo, long long n, long long nrhs, long long lda, long long ldb) {
    return setup_cholesky_solve(prec, DLE_OP_POTRS, "POTRS", uplo, n, nrhs, lda, ldb);
}

/* ?posv = ?potrf + ?potrs (as in LAPACK itself), linked like ?gesv. The factorization's record
 * is ?potrf's (n in n); the solve's nrhs and ldb wait in the *_pending fields. */
int dle_setup_posv(int prec, char uplo, long long n, long long nrhs, long long lda, long long ldb) {
    int rc = setup_cholesky_solve(prec, DLE_OP_POSV_FACTOR, "POSV", uplo, n, nrhs, lda, ldb);
    dle_rec.nrhs_pending = dle_rec.n; dle_rec.ldb_pending = dle_rec.ldb;
    dle_rec.n = dle_rec.m;
    return rc;
}

/* The solve of ?posv: ?potrs with the factor just computed, keeping the factorization's info
 * and pending link. Arguments were checked by dle_setup_posv. */
int dle_setup_posv_solve(void) {
    const dle_record factor = dle_rec;
    reset_record(factor.prec, DLE_OP_POSV_SOLVE);
    dle_rec.gesv_link = factor.gesv_link;
    dle_rec.info = factor.info;
    dle_rec.flag[0] = factor.flag[0];
    dle_rec.m = factor.n; dle_rec.n = factor.nrhs_pending;
    dle_rec.lda = factor.lda; dle_rec.ldb = factor.ldb_pending;
    return 0;
}

/* LAPACK's info of the last factorization (?potrf, ?posv). */
int dle_fetch_info(void) { return dle_rec.info; }

/* Copy the pivots of the last factorization to the caller (int or 64-bit) and return info. */
int dle_fetch_getrf(void *ipiv, int ipiv64) {
    int k = dl_min(dle_rec.m, dle_rec.n);
    if (ipiv64) {
        long long *p = (long long *)ipiv;
        for (int i = 0; i < k; ++i) p[i] = dle_pivot_buf[i];
    } else if (k > 0) {
        memcpy(ipiv, dle_pivot_buf, sizeof(int) * (size_t)k);
    }
    return dle_rec.info;
}

void dle_store_info(void *info, int info64, long long value) {
    if (info64)
        *(long long *)info = value;
    else
        *(int *)info = (int)value;
}

/* ------------------------------------------------------------------ type annotations */
/* Enzyme's type analysis reads these calls and removes them; builds without Enzyme call these
 * no-ops. */
void __enzyme_double(void *p, unsigned long bytes) { (void)p; (void)bytes; }
void __enzyme_float(void *p, unsigned long bytes) { (void)p; (void)bytes; }
void __enzyme_integer(void *p, unsigned long bytes) { (void)p; (void)bytes; }
