/* enzyme_glue.c -- the C side of difflapack_enzyme.h: the setup calls, the kernels with Enzyme
 * rules (set/bind calls for the read-only inputs, the compute call on the in/out array) and
 * their dispatch to the per-precision routine handlers of enzyme_rules*.c (or, for a LAPACKE
 * row-major call, to the row-major wrapper of enzyme_layout.c).
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
 *
 * Exactness: the primal results are the library's own. Every handler computes them with the
 * BLAS/LAPACK routine the call names (?gesv_ for ?gesv, not ?getrf_ + ?getrs_, whose bits
 * differ with several OpenBLAS threads), with the caller's flags, and the library reports
 * argument errors itself (below), so its quirks (OpenBLAS's ?getrs_ leaves INFO unset on an
 * error, its ?gesv_ does not factor for nrhs = 0, its ?trtrs_ is case-sensitive) come out as
 * the library has them.
 *
 * ?getrf followed by ?getri on the same buffer (Julia's inv) share one taped copy of the
 * factors through a reference counted factorization tape (dle_factor_tape in enzyme_glue.h):
 * the augmented ?getrf offers it until the next interposed call other than ?getri.
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
static __thread void *scratch_buf;
static __thread size_t scratch_cap;
/* a LAPACKE row-major call announced by its prologue, taken over by the next setup call */
static __thread dle_row_major pending_row_major;

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

void *dle_scratch(size_t bytes) {
    if (bytes > scratch_cap) {
        dl_free(scratch_buf);
        scratch_buf = dle_checked_alloc(bytes);
        scratch_cap = bytes;
    }
    return scratch_buf;
}

/* ------------------------------------------------------------------ the offered factorization */
static __thread dle_factor_tape *offered_factor;

void dle_release_factor(dle_factor_tape *t) {
    if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    dl_free(t->LU); dl_free(t->ipiv); dl_free(t);
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
    dl_free(dle_rec.work_before); /* a getri snapshot nobody took (see dle_workspace_out) */
    memset(&dle_rec, 0, sizeof dle_rec);
    dle_rec.prec = prec;
    dle_rec.op = op;
    dle_rec.rm = pending_row_major;
    memset(&pending_row_major, 0, sizeof pending_row_major);
}

void dle_announce_row_major(int lda, int ldb) {
    pending_row_major.on = 1;
    pending_row_major.lda = lda;
    pending_row_major.ldb = ldb;
}

/* The logical block of a row-major call's matrix (leading dimension: the caller's), all of it
 * or the part LAPACKE copies (see dle_block). */
static dle_block block(int rows, int cols, int ld, char part) {
    dle_block b = {rows, cols, ld, part};
    return b;
}
static dle_block general_block(int rows, int cols, int ld) { return block(rows, cols, ld, 'G'); }

/* A trans letter as the library reads it: upper case, 'N', 'T', 'C' or OpenBLAS's 'R' (conj(A),
 * not transposed), which for real data is 'N' ('C' stays: the kernels read it as 'T'). 0 if
 * invalid. */
static char trans_flag(int prec, char trans) {
    const char t = dl_flag(trans, "NTCR");
    return t == 'R' && !dle_is_complex(prec) ? 'N' : t;
}

/* A 64-bit integer argument that does not fit the LP64 kernels is reported as illegal. */
static int fits(long long v) { return v >= INT_MIN && v <= INT_MAX; }

/* ------------------------------------------------------------------ argument errors
 * LP64 calls: the library reports its own argument errors. The routine is called with the same
 * flags and sizes and no arrays (it checks its arguments before it touches any): it prints its
 * own message and sets INFO, or, like OpenBLAS's ?getrs_, leaves it unset (DLE_INFO_UNWRITTEN:
 * the entry points then leave the caller's INFO as it was, and LAPACKE returns 0). The setup
 * calls check exactly the conditions the library checks, so it always finds the error; should
 * it ever accept the arguments, running on would return a result without derivatives: abort.
 * ILP64 calls (their values may not fit the library's integers) and difflapack's own checks
 * (pivots out of range, which the library would follow out of bounds): xerbla with the
 * routine's name and the position. */
static int xerbla_position(int prec, const char *routine, int position) {
    char name[8];
    int len = snprintf(name, sizeof name, "%c%-5s", (char)(prec - 'a' + 'A'), routine);
    int p = position;
    xerbla_(name, &p, len);
    return -position;
}

static int library_verdict(int info, const char *routine) {
    if (info >= 0 && info != DLE_INFO_UNWRITTEN) {
        fprintf(stderr, "difflapack: internal error: %s accepted arguments difflapack rejected\n", routine);
        abort();
    }
    return info;
}

/* Each reporter: the library's routine on the recorded scalars (int: LP64 values fit). */
static int report_trsv(int prec, char uplo, char trans, char diag, int n, int lda, int incx) {
#define CALL(p) p##trsv_(&uplo, &trans, &diag, &n, NULL, &lda, NULL, &incx)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return -1; /* no INFO: any nonzero value stops the call */
}

static int report_trsm(int prec, char side, char uplo, char transa, char diag, int m, int n, int lda, int ldb) {
    static const double zero[2];
#define CALL(p) p##trsm_(&side, &uplo, &transa, &diag, &m, &n, (const void *)zero, NULL, &lda, NULL, &ldb)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return -1;
}

static int report_getrf(int prec, int m, int n, int lda) {
    int info = DLE_INFO_UNWRITTEN;
#define CALL(p) p##getrf_(&m, &n, NULL, &lda, NULL, &info)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return library_verdict(info, "?getrf_");
}

static int report_getrs(int prec, char trans, int n, int nrhs, int lda, int ldb) {
    int info = DLE_INFO_UNWRITTEN;
#define CALL(p) p##getrs_(&trans, &n, &nrhs, NULL, &lda, NULL, NULL, &ldb, &info)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return library_verdict(info, "?getrs_");
}

static int report_gesv(int prec, int n, int nrhs, int lda, int ldb) {
    int info = DLE_INFO_UNWRITTEN;
#define CALL(p) p##gesv_(&n, &nrhs, NULL, &lda, NULL, NULL, &ldb, &info)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return library_verdict(info, "?gesv_");
}

static int report_potrf(int prec, char uplo, int n, int lda) {
    int info = DLE_INFO_UNWRITTEN;
#define CALL(p) p##potrf_(&uplo, &n, NULL, &lda, &info)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return library_verdict(info, "?potrf_");
}

static int report_potrs(int prec, char uplo, int n, int nrhs, int lda, int ldb) {
    int info = DLE_INFO_UNWRITTEN;
#define CALL(p) p##potrs_(&uplo, &n, &nrhs, NULL, &lda, NULL, &ldb, &info)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return library_verdict(info, "?potrs_");
}

static int report_posv(int prec, char uplo, int n, int nrhs, int lda, int ldb) {
    int info = DLE_INFO_UNWRITTEN;
#define CALL(p) p##posv_(&uplo, &n, &nrhs, NULL, &lda, NULL, &ldb, &info)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return library_verdict(info, "?posv_");
}

static int report_trtrs(int prec, char uplo, char trans, char diag, int n, int nrhs, int lda, int ldb) {
    int info = DLE_INFO_UNWRITTEN;
#define CALL(p) p##trtrs_(&uplo, &trans, &diag, &n, &nrhs, NULL, &lda, NULL, &ldb, &info)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return library_verdict(info, "?trtrs_");
}

/* ?getri_ on everything but the matrix and the pivots: an argument error (reported), the
 * workspace query or n = 0, which touch neither. ?getri writes its optimal lwork into work[0]
 * before it checks anything (a caller's NULL work gets a dummy instead). */
static int library_getri_scalars(int prec, int n, int lda, void *work, int lwork) {
    int info = DLE_INFO_UNWRITTEN;
    double dummy[2];
    void *w = work ? work : (void *)dummy;
#define CALL(p) p##getri_(&n, NULL, &lda, NULL, w, &lwork, &info)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return info;
}

/* ------------------------------------------------------------------ tapes */
static unsigned long long taped_bytes;
unsigned long long dle_taped_bytes(void) { return __atomic_load_n(&taped_bytes, __ATOMIC_RELAXED); }
void dle_count_taped(size_t bytes) { __atomic_add_fetch(&taped_bytes, (unsigned long long)bytes, __ATOMIC_RELAXED); }

void *dle_checked_alloc(size_t bytes) {
    void *p = dl_alloc_bytes(bytes);
    if (!p) {
        /* never run on without it: a derivative would be silently wrong */
        fprintf(stderr, "difflapack: out of memory for %zu bytes of reverse-mode data\n", bytes);
        abort();
    }
    return p;
}

void *dle_tape_alloc(size_t bytes) {
    void *p = dle_checked_alloc(bytes);
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
void dle_rebind_matrix(void *dA) { bound_matrix = dA; }

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

/* The bits of work[0..count) before the library writes there, in dle_rec.work_before until
 * dle_workspace_out (or the next call's setup) frees them. */
static size_t element_bytes(int prec) {
    return (prec == 's' || prec == 'c' ? sizeof(float) : sizeof(double)) * (dle_is_complex(prec) ? 2 : 1);
}

static void drop_snapshot(void) {
    dl_free(dle_rec.work_before);
    dle_rec.work_before = NULL;
    dle_rec.work_count = 0;
}

static void snapshot_work(int prec, const void *work, long long count) {
    drop_snapshot();
    if (!work || count < 1) return;
    const size_t bytes = (size_t)count * element_bytes(prec);
    dle_rec.work_before = (unsigned char *)dle_checked_alloc(bytes);
    memcpy(dle_rec.work_before, work, bytes);
    dle_rec.work_count = count;
}

/* ------------------------------------------------------------------ ?getri's work array
 * The library leaves work[0] = the optimal lwork (after a query and an argument error too) and
 * its own scratch in some of the rest (how much depends on n, lwork and its block size):
 * values with no derivative. An element whose bits the call changed (against the setup's
 * snapshot) gets its shadow zeroed -- forward: a zero tangent; reverse: the cotangent of its
 * value before the call is 0 (the library only wrote it) and whatever a later read of the new
 * value left there is dropped. An element the call left alone keeps its shadow (the identity).
 * A shadow equal to the array itself is Enzyme's way of saying the array is not active. */
typedef struct {
    size_t count, element;
    unsigned char written[]; /* count flags */
} work_tape;

static work_tape *written_elements(const void *work) {
    const size_t count = (size_t)dle_rec.work_count, element = element_bytes(dle_rec.prec);
    work_tape *t = (work_tape *)dle_checked_alloc(sizeof *t + count);
    t->count = count;
    t->element = element;
    for (size_t i = 0; i < count; ++i)
        t->written[i] = memcmp((const char *)work + i * element, dle_rec.work_before + i * element, element) != 0;
    drop_snapshot();
    return t;
}

static void zero_written(const work_tape *t, void *dwork) {
    for (size_t i = 0; i < t->count; ++i)
        if (t->written[i]) memset((char *)dwork + i * t->element, 0, t->element);
}

void dle_workspace_out(void *work) {
    (void)work;
    drop_snapshot();
}
void dle_workspace_out_fwd(void *work, void *dwork) {
    if (!dwork || dwork == work) {
        drop_snapshot();
        return;
    }
    work_tape *t = written_elements(work);
    zero_written(t, dwork);
    dl_free(t);
}
void *dle_workspace_out_aug(void *work, void *dwork) {
    (void)dwork;
    return written_elements(work);
}
void dle_workspace_out_rev(void *work, void *dwork, void *tape) {
    work_tape *t = (work_tape *)tape;
    if (dwork && dwork != work) zero_written(t, dwork);
    dl_free(t);
}

/* ------------------------------------------------------------------ the compute call */
const dle_handler *dle_handler_of(int prec, int op) {
    const dle_handler *const *table = prec == 's' ? dle_s_handlers : prec == 'd' ? dle_d_handlers
                                    : prec == 'c' ? dle_c_handlers : dle_z_handlers;
    return table[op];
}

static const dle_handler *row_major_handler(int prec) {
    return prec == 's' ? &dle_s_row_major : prec == 'd' ? &dle_d_row_major
         : prec == 'c' ? &dle_c_row_major : &dle_z_row_major;
}

static const dle_handler *current(void) {
    return dle_rec.rm.on ? row_major_handler(dle_rec.prec) : dle_handler_of(dle_rec.prec, dle_rec.op);
}

void dle_compute(void *x) { current()->primal(x); }
void dle_compute_fwd(void *x, void *dx) { current()->fwd(x, dx); }
void *dle_compute_aug(void *x, void *dx) { return current()->aug(x, dx); }
void dle_compute_rev(void *x, void *dx, void *tape) {
    if (tape) {
        const dle_tape_head *h = (const dle_tape_head *)tape;
        const dle_handler *rule = h->op == DLE_OP_ROW_MAJOR ? row_major_handler(h->prec) : dle_handler_of(h->prec, h->op);
        rule->rev(x, dx, tape);
    }
    /* a bound shadow is only ever meant for the compute call right after it */
    bound_matrix = bound_scalar = NULL;
}

/* ------------------------------------------------------------------ setup calls
 * Each checks its routine's arguments in the routine's own order, records them, and returns 0
 * when the call may proceed; otherwise the argument error is reported (see above) and the
 * value to return is the routine's INFO (or DLE_INFO_UNWRITTEN, or -position for trsv/trsm). */
int dle_setup_trsv(int prec, char uplo, char trans, char diag, long long n, long long lda, long long incx,
                   int ilp64) {
    reset_record(prec, DLE_OP_TRSV);
    const char u = dl_flag(uplo, "UL"), t = trans_flag(prec, trans), d = dl_flag(diag, "UN");
    const int pos = !u ? 1 : !t ? 2 : !d ? 3 : n < 0 || !fits(n) ? 4 : lda < (n > 1 ? n : 1) || !fits(lda) ? 6
                  : incx == 0 || !fits(incx) ? 8 : 0;
    if (pos) return ilp64 ? xerbla_position(prec, "TRSV", pos) : report_trsv(prec, uplo, trans, diag, (int)n, (int)lda, (int)incx);
    dle_rec.flag[0] = u; dle_rec.flag[1] = t; dle_rec.flag[2] = d;
    dle_rec.n = (int)n; dle_rec.lda = (int)lda; dle_rec.ldb = (int)incx;
    return 0;
}

int dle_setup_trsm(int prec, char side, char uplo, char transa, char diag, long long m, long long n,
                   long long lda, long long ldb, int ilp64) {
    reset_record(prec, DLE_OP_TRSM);
    const char s = dl_flag(side, "LR"), u = dl_flag(uplo, "UL"), t = trans_flag(prec, transa), d = dl_flag(diag, "UN");
    const long long k = s == 'L' ? m : n;
    const int pos = !s ? 1 : !u ? 2 : !t ? 3 : !d ? 4 : m < 0 || !fits(m) ? 5 : n < 0 || !fits(n) ? 6
                  : lda < (k > 1 ? k : 1) || !fits(lda) ? 9 : ldb < (m > 1 ? m : 1) || !fits(ldb) ? 11 : 0;
    if (pos)
        return ilp64 ? xerbla_position(prec, "TRSM", pos)
                     : report_trsm(prec, side, uplo, transa, diag, (int)m, (int)n, (int)lda, (int)ldb);
    dle_rec.flag[0] = s; dle_rec.flag[1] = u; dle_rec.flag[2] = t; dle_rec.flag[3] = d;
    dle_rec.m = (int)m; dle_rec.n = (int)n; dle_rec.lda = (int)lda; dle_rec.ldb = (int)ldb;
    return 0;
}

int dle_setup_getrf(int prec, long long m, long long n, long long lda, int ilp64) {
    reset_record(prec, DLE_OP_GETRF);
    const int pos = m < 0 || !fits(m) ? 1 : n < 0 || !fits(n) ? 2 : lda < (m > 1 ? m : 1) || !fits(lda) ? 4 : 0;
    if (pos) return ilp64 ? xerbla_position(prec, "GETRF", pos) : report_getrf(prec, (int)m, (int)n, (int)lda);
    dle_rec.m = (int)m; dle_rec.n = (int)n; dle_rec.lda = (int)lda;
    if (!dle_pivot_room((size_t)dl_min(dle_rec.m, dle_rec.n))) return DL_ERR_ALLOC;
    if (dle_rec.rm.on) dle_rec.rm.x = general_block(dle_rec.m, dle_rec.n, dle_rec.rm.lda);
    return 0;
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
    const char t = trans_flag(prec, trans);
    const int pos = !t ? 1 : n < 0 || !fits(n) ? 2 : nrhs < 0 || !fits(nrhs) ? 3
                  : lda < (n > 1 ? n : 1) || !fits(lda) ? 5 : ldb < (n > 1 ? n : 1) || !fits(ldb) ? 8 : 0;
    if (pos)
        return ipiv64 ? xerbla_position(prec, "GETRS", pos)
                      : report_getrs(prec, trans, (int)n, (int)nrhs, (int)lda, (int)ldb);
    dle_rec.flag[0] = t;
    dle_rec.m = (int)n; dle_rec.n = (int)nrhs; dle_rec.lda = (int)lda; dle_rec.ldb = (int)ldb;
    dle_rec.ipiv = pivots_lp64(ipiv, ipiv64, dle_rec.m);
    if (!dle_rec.ipiv) return DL_ERR_ALLOC;
    if (!dl_pivots_in_range(dle_rec.m, dle_rec.ipiv, dle_rec.m)) return xerbla_position(prec, "GETRS", 6);
    if (dle_rec.rm.on) {
        dle_rec.rm.A = general_block(dle_rec.m, dle_rec.m, dle_rec.rm.lda);
        dle_rec.rm.x = general_block(dle_rec.m, dle_rec.n, dle_rec.rm.ldb);
    }
    return 0;
}

/* ?gesv: one ?gesv_ call factors A and solves for B (B is recorded for it), then the solve's
 * compute call carries the rules of X = A^{-1} B (see enzyme_rules_lu.c). */
int dle_setup_gesv(int prec, long long n, long long nrhs, long long lda, void *B, long long ldb, int ilp64) {
    reset_record(prec, DLE_OP_GESV_FACTOR);
    const int pos = n < 0 || !fits(n) ? 1 : nrhs < 0 || !fits(nrhs) ? 2 : lda < (n > 1 ? n : 1) || !fits(lda) ? 4
                  : ldb < (n > 1 ? n : 1) || !fits(ldb) ? 7 : 0;
    if (pos) return ilp64 ? xerbla_position(prec, "GESV", pos) : report_gesv(prec, (int)n, (int)nrhs, (int)lda, (int)ldb);
    dle_rec.m = dle_rec.n = (int)n; dle_rec.lda = (int)lda;
    dle_rec.side = B; dle_rec.side_cols = (int)nrhs; dle_rec.side_ld = (int)ldb;
    if (!dle_pivot_room((size_t)n)) return DL_ERR_ALLOC;
    if (dle_rec.rm.on) {
        dle_rec.rm.x = general_block(dle_rec.n, dle_rec.n, dle_rec.rm.lda);
        dle_rec.rm.side = general_block(dle_rec.n, dle_rec.side_cols, dle_rec.rm.ldb);
    }
    return 0;
}

/* The solve record of a one-call driver (?gesv_, ?posv_), started from its factorization's
 * record (which it returns): the factor's order and leading dimension, the right-hand side's
 * columns and leading dimension, the pending link, and the row-major layout, whose right-hand
 * side block becomes the solve's x block and whose matrix block its A. */
static dle_record solve_record_after_factor(int op) {
    const dle_record factor = dle_rec;
    reset_record(factor.prec, op);
    dle_rec.gesv_link = factor.gesv_link;
    dle_rec.tangent_ready = factor.tangent_ready;
    dle_rec.m = factor.n; dle_rec.n = factor.side_cols;
    dle_rec.lda = factor.lda; dle_rec.ldb = factor.side_ld;
    if (factor.rm.on) {
        dle_rec.rm = factor.rm;
        dle_rec.rm.x = factor.rm.side;
        dle_rec.rm.A = factor.rm.x;
        memset(&dle_rec.rm.side, 0, sizeof dle_rec.rm.side);
    }
    return factor;
}

/* The solve of ?gesv over the pivots just computed (the LP64 view), keeping the factorization's
 * pending link and row-major layout. Arguments were checked by dle_setup_gesv. */
int dle_setup_gesv_solve(void) {
    solve_record_after_factor(DLE_OP_GESV_SOLVE);
    dle_rec.flag[0] = 'N';
    dle_rec.ipiv = dle_pivot_buf;
    return 0;
}

/* ?potrf (OpenBLAS potrf.c: uplo upper-cased; uplo 1, n 2, lda 4). */
int dle_setup_potrf(int prec, char uplo, long long n, long long lda, int ilp64) {
    reset_record(prec, DLE_OP_POTRF);
    const char u = dl_flag(uplo, "UL");
    const int pos = !u ? 1 : n < 0 || !fits(n) ? 2 : lda < (n > 1 ? n : 1) || !fits(lda) ? 4 : 0;
    if (pos) return ilp64 ? xerbla_position(prec, "POTRF", pos) : report_potrf(prec, uplo, (int)n, (int)lda);
    dle_rec.flag[0] = u;
    dle_rec.n = (int)n; dle_rec.lda = (int)lda;
    if (dle_rec.rm.on) dle_rec.rm.x = block(dle_rec.n, dle_rec.n, dle_rec.rm.lda, u);
    return 0;
}

/* ?potrs' and ?posv's checks (reference LAPACK, LSAME: uplo 1, n 2, nrhs 3, lda 5, ldb 7);
 * the position of the first bad argument, 0 if none. */
static int cholesky_solve_position(char u, long long n, long long nrhs, long long lda, long long ldb) {
    return !u ? 1 : n < 0 || !fits(n) ? 2 : nrhs < 0 || !fits(nrhs) ? 3 : lda < (n > 1 ? n : 1) || !fits(lda) ? 5
         : ldb < (n > 1 ? n : 1) || !fits(ldb) ? 7 : 0;
}

int dle_setup_potrs(int prec, char uplo, long long n, long long nrhs, long long lda, long long ldb, int ilp64) {
    reset_record(prec, DLE_OP_POTRS);
    const char u = dl_flag(uplo, "UL");
    const int pos = cholesky_solve_position(u, n, nrhs, lda, ldb);
    if (pos)
        return ilp64 ? xerbla_position(prec, "POTRS", pos)
                     : report_potrs(prec, uplo, (int)n, (int)nrhs, (int)lda, (int)ldb);
    dle_rec.flag[0] = u;
    dle_rec.m = (int)n; dle_rec.n = (int)nrhs; dle_rec.lda = (int)lda; dle_rec.ldb = (int)ldb;
    if (dle_rec.rm.on) { /* LAPACKE copies the factor's triangle in, never out */
        dle_rec.rm.A = block(dle_rec.m, dle_rec.m, dle_rec.rm.lda, u);
        dle_rec.rm.x = general_block(dle_rec.m, dle_rec.n, dle_rec.rm.ldb);
    }
    return 0;
}

/* ?posv: one ?posv_ call factors A and solves for B (recorded for it), as ?gesv; reference
 * LAPACK's ?posv factors also for nrhs = 0. */
int dle_setup_posv(int prec, char uplo, long long n, long long nrhs, long long lda, void *B, long long ldb,
                   int ilp64) {
    reset_record(prec, DLE_OP_POSV_FACTOR);
    const char u = dl_flag(uplo, "UL");
    const int pos = cholesky_solve_position(u, n, nrhs, lda, ldb);
    if (pos)
        return ilp64 ? xerbla_position(prec, "POSV", pos)
                     : report_posv(prec, uplo, (int)n, (int)nrhs, (int)lda, (int)ldb);
    dle_rec.flag[0] = u;
    dle_rec.m = dle_rec.n = (int)n; dle_rec.lda = (int)lda;
    dle_rec.side = B; dle_rec.side_cols = (int)nrhs; dle_rec.side_ld = (int)ldb;
    if (dle_rec.rm.on) { /* A: the triangle in and out (po copies); B: all of it */
        dle_rec.rm.x = block(dle_rec.n, dle_rec.n, dle_rec.rm.lda, u);
        dle_rec.rm.side = general_block(dle_rec.n, dle_rec.side_cols, dle_rec.rm.ldb);
    }
    return 0;
}

/* The solve of ?posv: the rules of X = A^{-1} B with the factor just computed, keeping the
 * factorization's info, link and row-major layout. Arguments were checked by dle_setup_posv. */
int dle_setup_posv_solve(void) {
    const dle_record factor = solve_record_after_factor(DLE_OP_POSV_SOLVE);
    dle_rec.info = factor.info;
    dle_rec.flag[0] = factor.flag[0];
    return 0;
}

/* ?trtrs (OpenBLAS 0.3.21 trtrs.c): only trans is upper-cased, so uplo and diag must be upper
 * case; trans may be N, T, C or R; diag is checked last and so reported first (3), then uplo 1,
 * trans 2, n 4, nrhs 5, lda 7, ldb 9. */
int dle_setup_trtrs(int prec, char uplo, char trans, char diag, long long n, long long nrhs, long long lda,
                    long long ldb, int ilp64) {
    reset_record(prec, DLE_OP_TRTRS);
    const char u = uplo == 'U' || uplo == 'L' ? uplo : 0, d = diag == 'U' || diag == 'N' ? diag : 0;
    const char t = trans_flag(prec, trans);
    const int pos = !d ? 3 : !u ? 1 : !t ? 2 : n < 0 || !fits(n) ? 4 : nrhs < 0 || !fits(nrhs) ? 5
                  : lda < (n > 1 ? n : 1) || !fits(lda) ? 7 : ldb < (n > 1 ? n : 1) || !fits(ldb) ? 9 : 0;
    if (pos)
        return ilp64 ? xerbla_position(prec, "TRTRS", pos)
                     : report_trtrs(prec, uplo, trans, diag, (int)n, (int)nrhs, (int)lda, (int)ldb);
    dle_rec.flag[0] = u; dle_rec.flag[1] = t; dle_rec.flag[2] = d;
    dle_rec.m = (int)n; dle_rec.n = (int)nrhs; dle_rec.lda = (int)lda; dle_rec.ldb = (int)ldb;
    if (dle_rec.rm.on) { /* LAPACKE's tr copy: the triangle, without a unit diagonal; A never out */
        dle_rec.rm.A = block(dle_rec.m, dle_rec.m, dle_rec.rm.lda, d == 'U' ? (char)(u - 'A' + 'a') : u);
        dle_rec.rm.x = general_block(dle_rec.m, dle_rec.n, dle_rec.rm.ldb);
    }
    return 0;
}

/* ?getri (the reference LAPACK bundled with OpenBLAS): work[0] := the optimal lwork (n times
 * the block size) before the checks n 1, lda 3, lwork 6 (unless a query, lwork = -1); then
 * difflapack's own check of the pivots (4: ?getri would follow one out of bounds). The query
 * and n = 0 are answered by the library itself; returns 1 for them (nothing to compute). The
 * computation runs ?getri_ with the caller's work and lwork (its result depends on lwork);
 * work NULL: LAPACKE's own workspace of lwork elements, allocated for the call. */
int dle_setup_getri(int prec, long long n, long long lda, const void *ipiv, int ipiv64, void *work,
                    long long lwork) {
    reset_record(prec, DLE_OP_GETRI);
    const int pos = n < 0 || !fits(n) ? 1 : lda < (n > 1 ? n : 1) || !fits(lda) ? 3
                  : lwork != -1 && lwork < (n > 1 ? n : 1) ? 6 : 0;
    const int lw = lwork > INT_MAX ? INT_MAX : lwork < INT_MIN ? INT_MIN : (int)lwork;
    if (pos && !ipiv64) {
        snapshot_work(prec, work, 1);
        return library_verdict(library_getri_scalars(prec, (int)n, (int)lda, work, lw), "?getri_");
    }
    if (pos) { /* ILP64: the library's query answer for an n it can take, then xerbla */
        if (work && n >= 0 && fits(n)) {
            snapshot_work(prec, work, 1);
            library_getri_scalars(prec, (int)n, (int)(n > 1 ? n : 1), work, -1);
        }
        return xerbla_position(prec, "GETRI", pos);
    }
    if (lwork == -1 || n == 0) {
        snapshot_work(prec, work, 1);
        library_getri_scalars(prec, (int)n, (int)lda, work, lw);
        return 1;
    }
    dle_rec.n = (int)n; dle_rec.lda = (int)lda;
    dle_rec.work = work; dle_rec.lwork = lw;
    dle_rec.ipiv = pivots_lp64(ipiv, ipiv64, dle_rec.n);
    if (!dle_rec.ipiv) return DL_ERR_ALLOC;
    snapshot_work(prec, work, lw);
    /* ?getri never reads IPIV(N): only ipiv[0..n-2] must lie in 1..n */
    if (!dl_pivots_in_range(dle_rec.n - 1, dle_rec.ipiv, dle_rec.n)) return xerbla_position(prec, "GETRI", 4);
    if (dle_rec.rm.on) dle_rec.rm.x = general_block(dle_rec.n, dle_rec.n, dle_rec.rm.lda);
    return 0;
}

/* Copy the pivots of the last factorization to the caller (int or 64-bit) and return info;
 * a ?gesv_ that did not factor (nrhs = 0) leaves the caller's pivots alone. */
int dle_fetch_getrf(void *ipiv, int ipiv64) {
    const int k = dle_rec.op == DLE_OP_GESV_FACTOR && !dle_rec.factored ? 0 : dl_min(dle_rec.m, dle_rec.n);
    if (ipiv64) {
        long long *p = (long long *)ipiv;
        for (int i = 0; i < k; ++i) p[i] = dle_pivot_buf[i];
    } else if (k > 0) {
        memcpy(ipiv, dle_pivot_buf, sizeof(int) * (size_t)k);
    }
    return dle_rec.info;
}

/* LAPACK's info of the last computation (potrf, posv, getri, trtrs). */
int dle_fetch_info(void) { return dle_rec.info; }

/* *info := value, unless value is DLE_INFO_UNWRITTEN (the library left INFO unset). */
void dle_store_info(void *info, int info64, long long value) {
    if (value == DLE_INFO_UNWRITTEN) return;
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
