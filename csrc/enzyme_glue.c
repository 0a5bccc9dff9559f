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

/* A new record for the next interposed call. */
static void reset_record(int prec, int op) {
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
    if (ipiv64) { /* the kernels take LP64 pivots: convert (a pivot out of range stays so) */
        const long long *p = (const long long *)ipiv;
        int *q = dle_pivot_room((size_t)dle_rec.m);
        if (!q) return DL_ERR_ALLOC;
        for (int i = 0; i < dle_rec.m; ++i) q[i] = fits(p[i]) ? (int)p[i] : 0;
        dle_rec.ipiv = q;
    } else {
        dle_rec.ipiv = (const int *)ipiv;
    }
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
