/* fuzz_kernels.c -- every kernel of one precision (compile with -DDL_PREC_S/_D/_C/_Z, like the
 * library's generic sources), with a model of its documented argument rules (difflapack.h).
 *
 * One case: random arguments (flags of any byte, negative / zero / huge sizes and leading
 * dimensions, zero / negative / extreme increments, activity masks with any bits, NULL arrays),
 * then the model decides:
 *   - some argument is illegal: every array the kernel gets (other than NULL) is an address in
 *     a PROT_NONE region, alpha sits on a read-only page, and the kernel must return one of the
 *     codes of the illegal arguments (-i primal position, -(100 + k) kernel position) without
 *     touching anything;
 *   - all legal: every array is allocated with exactly its declared size (LAPACK's minimal
 *     (cols - 1) * ld + rows, or 1 + (n - 1) |inc|) against a PROT_NONE page, with guard bytes
 *     around it, and filled with random data (zeros, NaN, inf included). Arrays the contract
 *     says are not touched (inactive derivatives) are PROT_NONE addresses. The kernel must
 *     return 0 or a pivot position in 1..k; read-only arrays must be bytewise unchanged, outputs
 *     may change only in their logical entries (not the ld padding, not the increments' gaps,
 *     for the reverse triangle kernels only inside the referenced triangle);
 *   - with 1 pivot out of range (routines that read ipiv) the kernel must return the pivot
 *     code and leave everything unchanged.
 * Legal cases whose arrays would be too large to allocate are skipped (declared sizes are the
 * caller's contract). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "precision.h"
#include "difflapack.h"
#include "fuzz.h"

#define MAXP 20
#define CAP_ELEMENTS ((long long)1 << 21)

enum { K_ACT, K_FLAG, K_DIM, K_LD, K_INC, K_ARR, K_IPIV, K_SCAL };
enum { M_NONE, M_CONST, M_OUT, M_OUT_TRI };

typedef struct {
    const char *name;
    int kind;
    int code;            /* the error code of this argument (0: none) */
    const char *extra;   /* K_FLAG: the letters allowed; K_LD: the dim giving its rows ("k": trsm) */
} param;

typedef struct {
    long long rows, cols, ld; /* matrix; a vector has cols = -1 and its increment in ld */
    int mode, is_int, is_vec, is_real; /* is_real: elements of the real type R (logabsdet) */
    char tri_uplo;            /* M_OUT_TRI: the referenced triangle of a rows x rows matrix */
    int tri_strict;
    int set;
} layout;

typedef struct {
    int ndef, def[2 * MAXP], nmaybe, maybe[2 * MAXP];
    layout lay[MAXP];
    int piv_idx, piv_code;
    long long piv_count, piv_max;
    long long max_info;
    int tri_idx; /* trsv/trsm: the triangle whose first zero diagonal entry the kernel returns */
    long long tri_k, tri_ld;
    int tri_unit;
    int exact;    /* set by a routine's expect hook: the kernel must return exactly `want` */
    long long want;
} model;

struct routine;
typedef struct {
    const struct routine *r;
    long long v[MAXP];
    int isnull[MAXP];
    void *ptr[MAXP];
    T alpha, dalpha; /* the values of scalar arguments */
} vals;

typedef struct routine {
    const char *name;
    int np;
    param p[MAXP];
    void (*model)(const vals *c, model *m);
    /* optional, for legal calls: prepare shapes the random data (a positive diagonal, ...)
     * before the snapshot; expect reads the inputs and may set m->exact / m->want; post checks
     * the routine's own rules after the call (bufs: the snapshots of every buffer). */
    void (*prepare)(const vals *c, const model *m);
    void (*expect)(const vals *c, model *m);
    void (*post)(const vals *c, const model *m, int rc, const fz_buf *bufs);
} routine;

static int case_finite; /* this case's data holds no NaN / inf (half the cases) */

/* ------------------------------------------------------------------ access by name */
static int idx(const vals *c, const char *name) {
    for (int i = 0; i < c->r->np; ++i)
        if (!strcmp(c->r->p[i].name, name)) return i;
    fz_fail("fuzz_kernels: %s has no parameter %s", c->r->name, name);
}
static long long G(const vals *c, const char *name) { return c->v[idx(c, name)]; }
static int NUL(const vals *c, const char *name) { return c->isnull[idx(c, name)]; }
static long long max1(long long a) { return a > 1 ? a : 1; }
static long long min2(long long a, long long b) { return a < b ? a : b; }

static char upper_flag(long long v) {
    unsigned char ch = (unsigned char)v;
    return (char)(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
}
static int flag_ok(const vals *c, const char *name) {
    const int i = idx(c, name);
    const char u = upper_flag(c->v[i]);
    return u != 0 && strchr(c->r->p[i].extra, u) != NULL;
}

/* ------------------------------------------------------------------ model helpers */
static void bad(model *m, int cond, int code) {
    if (cond) m->def[m->ndef++] = code;
}
static void maybe_bad(model *m, int cond, int code) {
    if (cond) m->maybe[m->nmaybe++] = code;
}
static void flags_bad(const vals *c, model *m, const char *const *names, int n) {
    for (int i = 0; i < n; ++i) bad(m, !flag_ok(c, names[i]), c->r->p[idx(c, names[i])].code);
}
/* a check on trsm's k = m (side L) or n (side R): if side itself is illegal, either reading
 * is acceptable but not required */
static void k_bad(const vals *c, model *m, int cond_left, int cond_right, int code) {
    if (flag_ok(c, "side"))
        bad(m, upper_flag(G(c, "side")) == 'L' ? cond_left : cond_right, code);
    else
        maybe_bad(m, cond_left || cond_right, code);
}
static void mat(const vals *c, model *m, const char *name, int mode, long long rows, long long cols,
                long long ld) {
    layout *l = &m->lay[idx(c, name)];
    *l = (layout){rows, cols, ld, mode, 0, 0, 0, 0, 0, 1};
}
static void tri(const vals *c, model *m, const char *name, long long k, long long ld, char uplo, int strict) {
    layout *l = &m->lay[idx(c, name)];
    *l = (layout){k, k, ld, M_OUT_TRI, 0, 0, 0, uplo, strict, 1};
}
static void vec(const vals *c, model *m, const char *name, int mode, long long n, long long inc) {
    layout *l = &m->lay[idx(c, name)];
    *l = (layout){n, -1, inc, mode, 0, 1, 0, 0, 0, 1};
}
static void ivec(const vals *c, model *m, const char *name, int mode, long long count) {
    layout *l = &m->lay[idx(c, name)];
    *l = (layout){count, 1, max1(count), mode, 1, 0, 0, 0, 0, 1};
}
static void scal(const vals *c, model *m, const char *name, int mode) {
    layout *l = &m->lay[idx(c, name)];
    *l = (layout){1, 1, 1, mode, 0, 0, 0, 0, 0, 1};
}
static void rscal(const vals *c, model *m, const char *name, int mode) { /* a scalar of type R */
    layout *l = &m->lay[idx(c, name)];
    *l = (layout){1, 1, 1, mode, 0, 0, 1, 0, 0, 1};
}
static void pivots(const vals *c, model *m, const char *name, long long count, long long maxv, int code) {
    m->piv_idx = idx(c, name);
    m->piv_count = count;
    m->piv_max = maxv;
    m->piv_code = code;
}
static long long elements(const layout *l) {
    if (l->is_vec) {
        if (l->rows <= 0) return 0;
        const long long inc = l->ld < 0 ? -l->ld : l->ld;
        return 1 + (l->rows - 1) * inc;
    }
    if (l->rows <= 0 || l->cols <= 0) return 0;
    return (l->cols - 1) * l->ld + l->rows;
}
/* whether element e of the buffer is one the kernel may write (M_OUT / M_OUT_TRI) */
static int writable(const layout *l, long long e) {
    if (l->is_vec) {
        const long long inc = l->ld < 0 ? -l->ld : l->ld;
        return e % inc == 0;
    }
    const long long i = e % l->ld, j = e / l->ld;
    if (i >= l->rows) return 0;
    if (l->mode != M_OUT_TRI) return 1;
    if (l->tri_uplo == 'U') return l->tri_strict ? i < j : i <= j;
    return l->tri_strict ? i > j : i >= j;
}

/* trsv/trsm: "an exactly zero A(i,i) with diag == 'N' ... return i (the first such i), also
 * when there is nothing to solve" */
static void zero_diagonal_info(const vals *c, model *m, long long k) {
    m->tri_idx = idx(c, "A");
    m->tri_k = k;
    m->tri_ld = G(c, "lda");
    m->tri_unit = upper_flag(G(c, "diag")) == 'U';
}
static long long first_zero_diagonal(const model *m, const T *A) {
    if (m->tri_unit) return 0;
    for (long long i = 0; i < m->tri_k; ++i)
        if (A[i + i * m->tri_ld] == 0) return i + 1;
    return 0;
}

/* ------------------------------------------------------------------ hooks: data access
 * (prepare / expect / post run on legal calls, whose arrays are real buffers) */
static void *P(const vals *c, const char *name) { return c->ptr[idx(c, name)]; }

static long long diag_first_zero(const T *A, long long n, long long lda) {
    for (long long i = 0; i < n; ++i)
        if (A[i + i * lda] == 0) return i + 1;
    return 0;
}
/* ?potrf's info as the Cholesky kernels read it back from a factor: the first diagonal entry
 * whose real part is not positive (NaN included) */
static long long diag_first_nonpositive(const T *A, long long n, long long lda) {
    for (long long i = 0; i < n; ++i)
        if (!(REAL(A[i + i * lda]) > 0)) return i + 1;
    return 0;
}
/* whether the uplo triangle (or the whole matrix: uplo 'A') of an n x cols matrix is zero */
static int zero_part(const T *A, long long rows, long long cols, long long lda, char uplo) {
    for (long long j = 0; j < cols; ++j)
        for (long long i = 0; i < rows; ++i) {
            if ((uplo == 'L' && i < j) || (uplo == 'U' && i > j)) continue;
            if (A[i + j * lda] != 0) return 0;
        }
    return 1;
}

/* whether every entry of the stored (uplo) triangle of an n x n matrix outside its leading
 * k x k block is NaN (want_nan) / zero (!want_nan) */
static int triangle_outside_is(const T *A, long long n, long long lda, char uplo, long long k, int want_nan) {
    for (long long j = 0; j < n; ++j)
        for (long long i = uplo == 'U' ? 0 : j; i <= (uplo == 'U' ? j : n - 1); ++i) {
            if (i < k && j < k) continue;
            const T v = A[i + j * lda];
            if (want_nan ? v == v : v != 0) return 0;
        }
    return 1;
}

/* the buffer of argument `name` before the call: a malloc'ed copy of its snapshot (freed by
 * copies_free), NULL for NULL, the kernel's own pointer for an untouched (no-access) one. The
 * copy has the buffer's address modulo the page size: OpenBLAS's kernels take paths that depend
 * on the alignment, and with NaN among the data even ?getrf's pivots differ between them. */
#define FZ_PAGE 4096
static void *copies[MAXP];
static int ncopies;
static void *before(const vals *c, const fz_buf *bufs, const char *name) {
    const int i = idx(c, name);
    if (!c->ptr[i]) return NULL;
    if (!bufs[i].map) return c->ptr[i];
    unsigned char *p = malloc(bufs[i].bytes + 2 * FZ_PAGE);
    if (!p) fz_fail("malloc failed");
    copies[ncopies++] = p;
    const size_t want = (uintptr_t)bufs[i].data % FZ_PAGE;
    p += (want + FZ_PAGE - (uintptr_t)p % FZ_PAGE) % FZ_PAGE;
    memcpy(p, bufs[i].snapshot, bufs[i].bytes);
    return p;
}
static void copies_free(void) {
    while (ncopies) free(copies[--ncopies]);
}
static int unchanged(const vals *c, const fz_buf *bufs, const char *name) {
    const fz_buf *b = &bufs[idx(c, name)];
    return !b->map || !memcmp(b->data, b->snapshot, b->bytes);
}
static void must_be_unchanged(const vals *c, const fz_buf *bufs, const char *name, int rc, const char *why) {
    if (!unchanged(c, bufs, name)) fz_fail("%s modified (rc %d), but %s", name, rc, why);
}
/* the buffer of `name` must hold bitwise what `ref` (a copy run through the reference
 * routine) holds */
static void same_as(const vals *c, const fz_buf *bufs, const char *name, const void *ref, const char *what) {
    const fz_buf *b = &bufs[idx(c, name)];
    if (b->map && memcmp(b->data, ref, b->bytes)) {
        size_t k = 0;
        while (b->data[k] == ((const unsigned char *)ref)[k]) ++k;
        fz_fail("%s differs from what %s gives for the same inputs (from byte %zu of %zu)", name, what, k, b->bytes);
    }
}
static void same_rc(int rc, int want, const char *what) {
    if (rc != want) fz_fail("returned %d where %s returns %d for the same inputs", rc, what, want);
}
/* every logical entry of an m x n output equals zero (by value) */
static void must_be_zero(const vals *c, const char *name, long long rows, long long cols, long long ld,
                         char uplo, const char *why) {
    const T *A = P(c, name);
    if (A && rows > 0 && cols > 0 && !zero_part(A, rows, cols, ld, uplo)) fz_fail("%s is not zero, but %s", name, why);
}

/* prepare helpers: shape random square matrices so that the interesting paths run */
static void nonzero_diagonal(const vals *c, const char *name, long long n, long long lda, int percent) {
    T *A = P(c, name);
    if (!A || !fz_pct(percent)) return;
    for (long long i = 0; i < n; ++i)
        if (A[i + i * lda] == 0) A[i + i * lda] = (T)(1 + fz_below(3));
}
/* a zero column: an exactly singular matrix whose LU has a zero pivot somewhere */
static void maybe_zero_column(const vals *c, const char *name, long long n, long long lda, int percent) {
    T *A = P(c, name);
    if (!A || n <= 0 || !fz_pct(percent)) return;
    const long long j = fz_below((int)n);
    for (long long i = 0; i < n; ++i) A[i + j * lda] = 0;
}
/* Hermitian positive definite through its stored triangle (diagonally dominant), sometimes
 * with a non-positive pivot planted at a random position */
static void positive_definite(const vals *c, const char *name, long long n, long long lda) {
    T *A = P(c, name);
    if (!A || n <= 0 || !fz_pct(65)) return;
    for (long long i = 0; i < n; ++i) A[i + i * lda] = (T)(3 * n + 1 + fz_below(4));
    if (fz_pct(25)) A[fz_below((int)n) * (lda + 1)] = (T)-fz_below(2);
}
/* a Cholesky factor: a positive real diagonal, sometimes one that is not positive at j */
static void factor_diagonal(const vals *c, const char *name, long long n, long long lda) {
    T *A = P(c, name);
    if (!A || n <= 0 || !fz_pct(70)) return;
    for (long long i = 0; i < n; ++i) A[i + i * lda] = (T)(1 + fz_below(3));
    if (fz_pct(25)) A[fz_below((int)n) * (lda + 1)] = (T)-fz_below(2);
}

/* ------------------------------------------------------------------ the routines
 * Error codes: primal arguments carry the primal routine's xerbla position (negative), kernel
 * arguments -(100 + their position in the kernel). */
#define ACT {"active", K_ACT, 0, NULL}
#define FLAG(nm, code, allowed) {nm, K_FLAG, code, allowed}
#define DIM(nm, code) {nm, K_DIM, code, NULL}
#define LD(nm, code, rows) {nm, K_LD, code, rows}
#define INC(nm, code) {nm, K_INC, code, NULL}
#define ARR(nm, code) {nm, K_ARR, code, NULL}
#define IPIV(nm, code) {nm, K_IPIV, code, NULL}
#define SCAL(nm, code) {nm, K_SCAL, code, NULL}

static const char *const TRSV_FLAGS[] = {"uplo", "trans", "diag"};
static const char *const TRSM_FLAGS[] = {"side", "uplo", "transa", "diag"};

static unsigned act(const vals *c) { return (unsigned)G(c, "active"); }
#define ACT_A(c) ((act(c) & DL_ACTIVE_A) != 0)
#define ACT_B(c) ((act(c) & DL_ACTIVE_B) != 0)
#define ACT_ALPHA(c) ((act(c) & DL_ACTIVE_ALPHA) != 0)

/* trsv's own checks (uplo 1, trans 2, diag 3, n 4, A 5, lda 6, x 7, incx 8) */
static void trsv_primal(const vals *c, model *m, int need_x) {
    const long long n = G(c, "n");
    flags_bad(c, m, TRSV_FLAGS, 3);
    bad(m, n < 0, -4);
    bad(m, n > 0 && NUL(c, "A"), -5);
    bad(m, G(c, "lda") < max1(n), -6);
    bad(m, need_x && n > 0 && NUL(c, "x"), -7);
    bad(m, G(c, "incx") == 0, -8);
    mat(c, m, "A", M_CONST, n, n, G(c, "lda"));
    m->max_info = n;
    zero_diagonal_info(c, m, n);
}

static void model_trsv(const vals *c, model *m) {
    trsv_primal(c, m, 1);
    vec(c, m, "x", M_OUT, G(c, "n"), G(c, "incx"));
}

static void model_trsv_fwd(const vals *c, model *m) {
    const long long n = G(c, "n");
    const int a = ACT_A(c), any = a || ACT_B(c);
    trsv_primal(c, m, 1);
    bad(m, a && n > 0 && NUL(c, "dA"), -108);
    bad(m, a && G(c, "ldda") < max1(n), -109);
    bad(m, any && NUL(c, "dx"), -112);
    bad(m, !NUL(c, "dx") && G(c, "incdx") == 0, -113);
    if (a) mat(c, m, "dA", M_CONST, n, n, G(c, "ldda"));
    vec(c, m, "x", M_OUT, n, G(c, "incx"));
    vec(c, m, "dx", M_OUT, n, G(c, "incdx")); /* written whenever dx != NULL */
}

static void model_trsv_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    const int a = ACT_A(c), any = a || ACT_B(c);
    trsv_primal(c, m, a);
    bad(m, a && n > 0 && NUL(c, "dA"), -108);
    bad(m, a && G(c, "ldda") < max1(n), -109);
    bad(m, any && NUL(c, "dx"), -112);
    bad(m, any && G(c, "incdx") == 0, -113);
    if (a) tri(c, m, "dA", n, G(c, "ldda"), upper_flag(G(c, "uplo")), upper_flag(G(c, "diag")) == 'U');
    vec(c, m, "x", M_CONST, n, G(c, "incx"));
    if (any) vec(c, m, "dx", M_OUT, n, G(c, "incdx"));
}

/* trsm's own checks (side 1, uplo 2, transa 3, diag 4, m 5, n 6, alpha 7, A 8, lda 9, B 10,
 * ldb 11); B is the name of the right-hand side / solution argument of the kernel */
static long long trsm_k(const vals *c) { return upper_flag(G(c, "side")) == 'L' ? G(c, "m") : G(c, "n"); }

static void trsm_primal(const vals *c, model *m, const char *B, const char *ldb, int need_B) {
    const long long mm = G(c, "m"), n = G(c, "n"), lda = G(c, "lda");
    const int empty = mm == 0 || n == 0;
    flags_bad(c, m, TRSM_FLAGS, 4);
    bad(m, mm < 0, -5);
    bad(m, n < 0, -6);
    bad(m, NUL(c, "alpha"), -7);
    k_bad(c, m, mm > 0 && NUL(c, "A"), n > 0 && NUL(c, "A"), -8);
    k_bad(c, m, lda < max1(mm), lda < max1(n), -9);
    bad(m, need_B && !empty && NUL(c, B), -10);
    bad(m, G(c, ldb) < max1(mm), -11);
    const long long k = trsm_k(c);
    scal(c, m, "alpha", M_CONST);
    mat(c, m, "A", M_CONST, k, k, lda);
    m->max_info = k;
    zero_diagonal_info(c, m, k);
}

static void model_trsm(const vals *c, model *m) {
    trsm_primal(c, m, "B", "ldb", 1);
    mat(c, m, "B", M_OUT, G(c, "m"), G(c, "n"), G(c, "ldb"));
}

static void model_trsm_fwd(const vals *c, model *m) {
    const long long mm = G(c, "m"), n = G(c, "n"), ldda = G(c, "ldda");
    const int a = ACT_A(c), any = a || ACT_B(c) || ACT_ALPHA(c), empty = mm == 0 || n == 0;
    trsm_primal(c, m, "B", "ldb", 1);
    bad(m, ACT_ALPHA(c) && NUL(c, "dalpha"), -109);
    k_bad(c, m, a && mm > 0 && NUL(c, "dA"), a && n > 0 && NUL(c, "dA"), -112);
    k_bad(c, m, a && ldda < max1(mm), a && ldda < max1(n), -113);
    bad(m, any && !empty && NUL(c, "dB"), -116);
    bad(m, !NUL(c, "dB") && G(c, "lddb") < max1(mm), -117);
    if (ACT_ALPHA(c)) scal(c, m, "dalpha", M_CONST);
    if (a) mat(c, m, "dA", M_CONST, trsm_k(c), trsm_k(c), ldda);
    mat(c, m, "B", M_OUT, mm, n, G(c, "ldb"));
    mat(c, m, "dB", M_OUT, mm, n, G(c, "lddb"));
}

static void model_trsm_rev(const vals *c, model *m) {
    const long long mm = G(c, "m"), n = G(c, "n"), ldda = G(c, "ldda");
    const int a = ACT_A(c), al = ACT_ALPHA(c), any = a || ACT_B(c) || al, empty = mm == 0 || n == 0;
    const int need_X = a || (al && NUL(c, "B0"));
    trsm_primal(c, m, "X", "ldx", need_X);
    k_bad(c, m, a && mm > 0 && NUL(c, "dA"), a && n > 0 && NUL(c, "dA"), -111);
    k_bad(c, m, a && ldda < max1(mm), a && ldda < max1(n), -112);
    bad(m, al && NUL(c, "B0") && !NUL(c, "alpha") && c->alpha == 0, -115);
    bad(m, al && !NUL(c, "B0") && G(c, "ldb0") < max1(mm), -116);
    bad(m, al && NUL(c, "dalpha"), -119);
    bad(m, any && !empty && NUL(c, "dB"), -117);
    bad(m, any && G(c, "lddb") < max1(mm), -118);
    if (a) tri(c, m, "dA", trsm_k(c), ldda, upper_flag(G(c, "uplo")), upper_flag(G(c, "diag")) == 'U');
    mat(c, m, "X", M_CONST, mm, n, G(c, "ldx"));
    if (al) mat(c, m, "B0", M_CONST, mm, n, G(c, "ldb0"));
    if (any) mat(c, m, "dB", M_OUT, mm, n, G(c, "lddb"));
    if (al) scal(c, m, "dalpha", M_OUT);
}

/* getrf's own checks (m 1, n 2, A 3, lda 4, ipiv 5); A names the matrix argument */
static void getrf_primal(const vals *c, model *m, const char *A, int a_mode, int piv_mode) {
    const long long mm = G(c, "m"), n = G(c, "n");
    const int empty = mm == 0 || n == 0;
    bad(m, mm < 0, -1);
    bad(m, n < 0, -2);
    bad(m, !empty && NUL(c, A), -3);
    bad(m, G(c, "lda") < max1(mm), -4);
    bad(m, !empty && NUL(c, "ipiv"), -5);
    mat(c, m, A, a_mode, mm, n, G(c, "lda"));
    ivec(c, m, "ipiv", piv_mode, min2(mm, n));
    m->max_info = min2(mm, n);
}

static void model_getrf(const vals *c, model *m) { getrf_primal(c, m, "A", M_OUT, M_OUT); }

static void model_getrf_fwd(const vals *c, model *m) {
    const long long mm = G(c, "m"), n = G(c, "n");
    getrf_primal(c, m, "A", M_OUT, M_OUT);
    bad(m, ACT_A(c) && mm > 0 && n > 0 && NUL(c, "dA"), -107);
    bad(m, ACT_A(c) && G(c, "ldda") < max1(mm), -108);
    if (ACT_A(c)) mat(c, m, "dA", M_OUT, mm, n, G(c, "ldda"));
}

static void model_getrf_rev(const vals *c, model *m) {
    const long long mm = G(c, "m"), n = G(c, "n");
    getrf_primal(c, m, "LU", M_CONST, M_CONST);
    bad(m, ACT_A(c) && mm > 0 && n > 0 && NUL(c, "dLU"), -107);
    bad(m, ACT_A(c) && G(c, "lddlu") < max1(mm), -108);
    pivots(c, m, "ipiv", min2(mm, n), mm, -5);
    if (ACT_A(c)) mat(c, m, "dLU", M_OUT, mm, n, G(c, "lddlu"));
}

/* Where the getrf rules may put NaN for finite data: the structural model of their zero-pivot
 * rule (lu.c: a quotient by a zero pivot is undefined when its numerator is nonzero; what it
 * leaves undefined spreads only through nonzero coefficients, an exactly zero entry of L or U
 * stopping it). Unblocked right-looking Doolittle (the tangent) and its transpose (the
 * adjoint) on 0/1 flags: nz = structurally nonzero (reached from a nonzero input entry through
 * nonzero coefficients), tt = undefined. D0 is dA (tangent) or LUbar (adjoint); out[i + j m]:
 * 1 where the result may be NaN. A value the kernel finds nonzero is structurally nonzero, so
 * the kernel's NaN must lie inside tt (cancellation may leave it a subset). */
static void lu_may_be_nan(int adjoint, int m, int n, const T *LU, long long lda, const int *ipiv, const T *D0,
                          long long ldd, unsigned char *tt) {
    const int k = m < n ? m : n;
    unsigned char *nz = calloc((size_t)m * n, 1);
    if (!nz) fz_fail("malloc failed");
    memset(tt, 0, (size_t)m * n);
#define FL(X, i, j) X[(size_t)(i) + (size_t)(j) * m]
#define NZC(i, j) (LU[(i) + (j) * lda] != 0)
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) FL(nz, i, j) = D0[i + j * ldd] != 0;
    if (!adjoint)
        for (int i = 0; i < k; ++i)
            for (int j = 0; j < n; ++j) {
                unsigned char x = FL(nz, i, j);
                FL(nz, i, j) = FL(nz, ipiv[i] - 1, j);
                FL(nz, ipiv[i] - 1, j) = x;
            }
    if (!adjoint) {
        for (int j = 0; j < k; ++j) {
            for (int i = j + 1; i < m; ++i) {
                if (NZC(i, j)) FL(nz, i, j) |= FL(nz, j, j), FL(tt, i, j) |= FL(tt, j, j);
                if (LU[j + j * lda] == 0) FL(tt, i, j) |= FL(nz, i, j);
            }
            for (int c = j + 1; c < n; ++c)
                for (int i = j + 1; i < m; ++i) {
                    if (NZC(j, c)) FL(nz, i, c) |= FL(nz, i, j), FL(tt, i, c) |= FL(tt, i, j);
                    if (NZC(i, j)) FL(nz, i, c) |= FL(nz, j, c), FL(tt, i, c) |= FL(tt, j, c);
                }
        }
    } else {
        for (int j = k - 1; j >= 0; --j) {
            for (int c = j + 1; c < n; ++c)
                for (int i = j + 1; i < m; ++i) {
                    if (NZC(j, c)) FL(nz, i, j) |= FL(nz, i, c), FL(tt, i, j) |= FL(tt, i, c);
                    if (NZC(i, j)) FL(nz, j, c) |= FL(nz, i, c), FL(tt, j, c) |= FL(tt, i, c);
                }
            for (int i = j + 1; i < m; ++i) {
                if (LU[j + j * lda] == 0) FL(tt, i, j) |= FL(nz, i, j);
                if (NZC(i, j)) FL(nz, j, j) |= FL(nz, i, j), FL(tt, j, j) |= FL(tt, i, j);
            }
        }
        for (int i = k - 1; i >= 0; --i) /* Abar = P Tbar */
            for (int j = 0; j < n; ++j) {
                unsigned char x = FL(tt, i, j);
                FL(tt, i, j) = FL(tt, ipiv[i] - 1, j);
                FL(tt, ipiv[i] - 1, j) = x;
            }
    }
#undef FL
#undef NZC
    free(nz);
}

/* The getrf rules' zero-pivot promises for finite data: an exactly zero (co)tangent gives
 * exactly zero; NaN only where the structural model allows it (sizes <= 10 in double
 * precision: no overflow of the random factors' growth can make a NaN of its own). */
static void getrf_rule_nan_rules(const vals *c, const fz_buf *bufs, int rc, int adjoint, const char *LUname,
                                 const char *Dname, const char *ldd_name) {
    const long long mm = G(c, "m"), n = G(c, "n"), ldd = G(c, ldd_name);
    if (rc < 0 || !ACT_A(c) || mm == 0 || n == 0 || !case_finite) return;
    const T *D0 = before(c, bufs, Dname), *D = P(c, Dname), *LU = P(c, LUname);
    if (zero_part(D0, mm, n, ldd, 'A') && !zero_part(D, mm, n, ldd, 'A'))
        fz_fail("%s is not exactly zero for a zero %s (a zero (co)tangent contributes exactly zero)", Dname,
                adjoint ? "cotangent" : "tangent");
    if (sizeof(R) != sizeof(double) || mm > 10 || n > 10) return;
    unsigned char *may = malloc((size_t)(mm * n));
    if (!may) fz_fail("malloc failed");
    lu_may_be_nan(adjoint, (int)mm, (int)n, LU, G(c, "lda"), P(c, "ipiv"), D0, ldd, may);
    for (long long j = 0; j < n; ++j)
        for (long long i = 0; i < mm; ++i) {
            const T v = D[i + j * ldd];
            if (v != v && !may[i + j * mm])
                fz_fail("%s(%lld,%lld) is NaN, but no undefined quotient reaches it through nonzero coefficients",
                        Dname, i, j);
        }
    free(may);
}

/* zero columns / rows of A (exact zero pivots with rows below), zero pivots planted in a given
 * LU, and sometimes an all-zero (co)tangent */
static void zero_block(T *X, long long rows, long long cols, long long ld) {
    for (long long j = 0; j < cols; ++j)
        for (long long i = 0; i < rows; ++i) X[i + j * ld] = 0;
}
static void prepare_getrf_fwd(const vals *c, const model *m) {
    const long long mm = G(c, "m"), n = G(c, "n"), lda = G(c, "lda");
    T *A = P(c, "A"), *dA = P(c, "dA");
    if (mm <= 0 || n <= 0 || !A) return;
    for (int t = 0; t < 2; ++t) {
        if (fz_pct(35)) zero_block(A + fz_below((int)n) * lda, mm, 1, lda);
        if (fz_pct(15)) zero_block(A + fz_below((int)mm), 1, n, lda);
    }
    if (ACT_A(c) && dA && fz_pct(10)) zero_block(dA, mm, n, G(c, "ldda"));
}
static void prepare_getrf_rev(const vals *c, const model *m) {
    const long long mm = G(c, "m"), n = G(c, "n"), lda = G(c, "lda"), k = min2(mm, n);
    T *LU = P(c, "LU"), *dLU = P(c, "dLU");
    if (k <= 0 || !LU) return;
    for (int t = 0; t < 3; ++t)
        if (fz_pct(40)) LU[fz_below((int)k) * (lda + 1)] = 0;
    if (ACT_A(c) && dLU && fz_pct(10)) zero_block(dLU, mm, n, G(c, "lddlu"));
}

static void post_getrf_fwd(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    getrf_rule_nan_rules(c, bufs, rc, 0, "A", "dA", "ldda");
    copies_free();
}

static void post_getrf_rev(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    getrf_rule_nan_rules(c, bufs, rc, 1, "LU", "dLU", "lddlu");
    copies_free();
}

/* getrs's own checks (trans 1, n 2, nrhs 3, LU 4, lda 5, ipiv 6, B 7, ldb 8) */
static void getrs_primal(const vals *c, model *m, const char *B, const char *ldb, int need_B, int b_mode) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    bad(m, !flag_ok(c, "trans"), -1);
    bad(m, n < 0, -2);
    bad(m, nrhs < 0, -3);
    bad(m, n > 0 && NUL(c, "LU"), -4);
    bad(m, G(c, "lda") < max1(n), -5);
    bad(m, n > 0 && NUL(c, "ipiv"), -6);
    bad(m, need_B && n > 0 && nrhs > 0 && NUL(c, B), -7);
    bad(m, G(c, ldb) < max1(n), -8);
    pivots(c, m, "ipiv", n, n, -6);
    mat(c, m, "LU", M_CONST, n, n, G(c, "lda"));
    ivec(c, m, "ipiv", M_CONST, n);
    mat(c, m, B, b_mode, n, nrhs, G(c, ldb));
    m->max_info = n;
}

static void model_getrs(const vals *c, model *m) { getrs_primal(c, m, "B", "ldb", 1, M_OUT); }

/* getrs' info: the first zero U(i,i); nrhs = 0 quick-returns 0 like LAPACK (the adjoint: also
 * with nothing active) */
static void expect_getrs(const vals *c, model *m) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    m->exact = 1;
    m->want = n > 0 && nrhs > 0 ? diag_first_zero(P(c, "LU"), n, G(c, "lda")) : 0;
}

static void expect_getrs_rev(const vals *c, model *m) {
    expect_getrs(c, m);
    if (!(act(c) & (DL_ACTIVE_A | DL_ACTIVE_B))) m->want = 0;
}

static void prepare_getrs(const vals *c, const model *m) {
    T *A = P(c, "LU");
    const long long n = G(c, "n"), lda = G(c, "lda");
    if (!A || !fz_pct(60)) return;
    for (long long i = 0; i < n; ++i)
        if (A[i + i * lda] == 0) A[i + i * lda] = 1;
}

static void getrs_kernel_checks(const vals *c, model *m, int dlu_mode) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int a = ACT_A(c), any = a || ACT_B(c);
    bad(m, a && n > 0 && NUL(c, "dLU"), -107);
    bad(m, a && G(c, "lddlu") < max1(n), -108);
    bad(m, any && n > 0 && nrhs > 0 && NUL(c, "dB"), -112);
    bad(m, any && G(c, "lddb") < max1(n), -113);
    if (a) mat(c, m, "dLU", dlu_mode, n, n, G(c, "lddlu"));
    if (any) mat(c, m, "dB", M_OUT, n, nrhs, G(c, "lddb"));
}

static void model_getrs_fwd(const vals *c, model *m) {
    getrs_primal(c, m, "B", "ldb", 1, M_OUT);
    getrs_kernel_checks(c, m, M_CONST);
}

static void model_getrs_rev(const vals *c, model *m) {
    getrs_primal(c, m, "X", "ldx", ACT_A(c), M_CONST);
    getrs_kernel_checks(c, m, M_OUT);
}

/* gesv's own checks (n 1, nrhs 2, A 3, lda 4, ipiv 5, B 6, ldb 7) */
static void gesv_primal(const vals *c, model *m, const char *A, const char *B, const char *ldb, int need_B,
                        int mode) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    bad(m, n < 0, -1);
    bad(m, nrhs < 0, -2);
    bad(m, n > 0 && NUL(c, A), -3);
    bad(m, G(c, "lda") < max1(n), -4);
    bad(m, n > 0 && NUL(c, "ipiv"), -5);
    bad(m, need_B && n > 0 && nrhs > 0 && NUL(c, B), -6);
    bad(m, G(c, ldb) < max1(n), -7);
    mat(c, m, A, mode, n, n, G(c, "lda"));
    ivec(c, m, "ipiv", mode, n);
    mat(c, m, B, mode, n, nrhs, G(c, ldb));
    m->max_info = n;
}

static void model_gesv(const vals *c, model *m) { gesv_primal(c, m, "A", "B", "ldb", 1, M_OUT); }

static void model_gesv_fwd(const vals *c, model *m) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int a = ACT_A(c), any = a || ACT_B(c);
    gesv_primal(c, m, "A", "B", "ldb", 1, M_OUT);
    bad(m, a && n > 0 && NUL(c, "dA"), -106);
    bad(m, a && G(c, "ldda") < max1(n), -107);
    bad(m, any && n > 0 && nrhs > 0 && NUL(c, "dB"), -111);
    bad(m, any && G(c, "lddb") < max1(n), -112);
    /* dA becomes dLU only with DL_WANT_DLU; otherwise it is left unchanged */
    if (a) mat(c, m, "dA", (act(c) & DL_WANT_DLU) ? M_OUT : M_CONST, n, n, G(c, "ldda"));
    if (any) mat(c, m, "dB", M_OUT, n, nrhs, G(c, "lddb"));
}

static void model_gesv_rev(const vals *c, model *m) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int a = ACT_A(c), any = a || ACT_B(c);
    gesv_primal(c, m, "LU", "X", "ldx", a, M_CONST);
    bad(m, a && n > 0 && NUL(c, "dA"), -107);
    bad(m, a && G(c, "ldda") < max1(n), -108);
    bad(m, any && n > 0 && nrhs > 0 && NUL(c, "dB"), -111);
    bad(m, any && G(c, "lddb") < max1(n), -112);
    pivots(c, m, "ipiv", n, n, -5);
    if (a) mat(c, m, "dA", M_OUT, n, n, G(c, "ldda"));
    if (any) mat(c, m, "dB", M_OUT, n, nrhs, G(c, "lddb"));
}

/* ------------------------------------------------------------------ trtrs
 * ?trtrs' checks (uplo 1, trans 2, diag 3, n 4, nrhs 5, A 6, lda 7, B 8, ldb 9); the info is
 * the first zero A(i,i) (diag 'N'), found before B is touched, for every kernel */
static void trtrs_primal(const vals *c, model *m, const char *B, const char *ldb, int need_B, int b_mode) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    flags_bad(c, m, TRSV_FLAGS, 3);
    bad(m, n < 0, -4);
    bad(m, nrhs < 0, -5);
    bad(m, n > 0 && NUL(c, "A"), -6);
    bad(m, G(c, "lda") < max1(n), -7);
    bad(m, need_B && n > 0 && nrhs > 0 && NUL(c, B), -8);
    bad(m, G(c, ldb) < max1(n), -9);
    mat(c, m, "A", M_CONST, n, n, G(c, "lda"));
    mat(c, m, B, b_mode, n, nrhs, G(c, ldb));
    m->max_info = n;
    zero_diagonal_info(c, m, n);
}

static void prepare_trtrs(const vals *c, const model *m) { nonzero_diagonal(c, "A", G(c, "n"), G(c, "lda"), 50); }

static void model_trtrs(const vals *c, model *m) { trtrs_primal(c, m, "B", "ldb", 1, M_OUT); }

static void post_trtrs(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    if (rc > 0) must_be_unchanged(c, bufs, "B", rc, "?trtrs leaves B unchanged on a zero diagonal entry");
}

static void model_trtrs_fwd(const vals *c, model *m) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int a = ACT_A(c), any = a || ACT_B(c), empty = n == 0 || nrhs == 0;
    trtrs_primal(c, m, "B", "ldb", 1, M_OUT);
    bad(m, a && n > 0 && NUL(c, "dA"), -109);
    bad(m, a && G(c, "ldda") < max1(n), -110);
    bad(m, any && !empty && NUL(c, "dB"), -113);
    bad(m, !NUL(c, "dB") && G(c, "lddb") < max1(n), -114);
    if (a) mat(c, m, "dA", M_CONST, n, n, G(c, "ldda"));
    mat(c, m, "dB", M_OUT, n, nrhs, G(c, "lddb")); /* written whenever dB != NULL */
}

static void post_trtrs_fwd(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    T *B = before(c, bufs, "B");
    same_rc(rc, FN(trtrs)((char)G(c, "uplo"), (char)G(c, "trans"), (char)G(c, "diag"), (int)n, (int)nrhs,
                          P(c, "A"), (int)G(c, "lda"), B, (int)G(c, "ldb")), "dl_?trtrs");
    same_as(c, bufs, "B", B, "dl_?trtrs");
    if (rc > 0 && ACT_B(c)) must_be_unchanged(c, bufs, "dB", rc, "B is left unchanged: dB keeps its tangent");
    if (rc > 0 && !ACT_B(c)) must_be_zero(c, "dB", n, nrhs, G(c, "lddb"), 'A', "B is unchanged and constant");
    copies_free();
}

static void model_trtrs_rev(const vals *c, model *m) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int a = ACT_A(c), any = a || ACT_B(c);
    trtrs_primal(c, m, "X", "ldx", a, M_CONST);
    bad(m, a && n > 0 && NUL(c, "dA"), -109);
    bad(m, a && G(c, "ldda") < max1(n), -110);
    bad(m, any && n > 0 && nrhs > 0 && NUL(c, "dB"), -113);
    bad(m, any && G(c, "lddb") < max1(n), -114);
    if (a) tri(c, m, "dA", n, G(c, "ldda"), upper_flag(G(c, "uplo")), upper_flag(G(c, "diag")) == 'U');
    if (any) mat(c, m, "dB", M_OUT, n, nrhs, G(c, "lddb"));
}

static void post_trtrs_rev(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    if (rc > 0) {
        must_be_unchanged(c, bufs, "dB", rc, "B was left unchanged: Bbar = Xbar");
        must_be_unchanged(c, bufs, "dA", rc, "B was left unchanged: nothing for A");
    }
}

/* ------------------------------------------------------------------ potrf
 * ?potrf's checks (uplo 1, n 2, A 3, lda 4); A names the matrix argument. Only the stored
 * triangle of A and of every derivative buffer may change. */
static char uplo_of(const vals *c) { return upper_flag(G(c, "uplo")); }

static void potrf_primal(const vals *c, model *m, const char *A, int mode) {
    const long long n = G(c, "n");
    bad(m, !flag_ok(c, "uplo"), -1);
    bad(m, n < 0, -2);
    bad(m, n > 0 && NUL(c, A), -3);
    bad(m, G(c, "lda") < max1(n), -4);
    if (mode == M_OUT_TRI) tri(c, m, A, n, G(c, "lda"), uplo_of(c), 0);
    else mat(c, m, A, mode, n, n, G(c, "lda"));
    m->max_info = n;
}

static void prepare_potrf(const vals *c, const model *m) { positive_definite(c, "A", G(c, "n"), G(c, "lda")); }
static void prepare_factor(const vals *c, const model *m) { factor_diagonal(c, "C", G(c, "n"), G(c, "lda")); }

static void model_potrf(const vals *c, model *m) { potrf_primal(c, m, "A", M_OUT_TRI); }

/* what potrf_rev and posv_rev rely on: the info of a failed ?potrf can be read back from the
 * factor's diagonal (finite data; a NaN pivot is no failure to ?potrf) */
static void info_readable(const vals *c, int rc, const char *A) {
    if (!case_finite) return;
    const long long n = G(c, "n");
    const long long back = n > 0 ? diag_first_nonpositive(P(c, A), n, G(c, "lda")) : 0;
    if (rc != back) fz_fail("returned %d, but the factor's first non-positive diagonal entry is at %lld", rc, back);
}

static void post_potrf(const vals *c, const model *m, int rc, const fz_buf *bufs) { info_readable(c, rc, "A"); }

static void model_potrf_fwd(const vals *c, model *m) {
    const long long n = G(c, "n");
    potrf_primal(c, m, "A", M_OUT_TRI);
    bad(m, ACT_A(c) && n > 0 && NUL(c, "dA"), -106);
    bad(m, ACT_A(c) && G(c, "ldda") < max1(n), -107);
    if (ACT_A(c)) tri(c, m, "dA", n, G(c, "ldda"), uplo_of(c), 0);
}

static void post_potrf_fwd(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const long long n = G(c, "n");
    T *A = before(c, bufs, "A");
    same_rc(rc, FN(potrf)((char)G(c, "uplo"), (int)n, A, (int)G(c, "lda")), "dl_?potrf");
    same_as(c, bufs, "A", A, "dl_?potrf");
    if (ACT_A(c) && case_finite && n > 0) {
        const T *dA0 = before(c, bufs, "dA");
        if (zero_part(dA0, n, n, G(c, "ldda"), uplo_of(c)))
            must_be_zero(c, "dA", n, n, G(c, "ldda"), uplo_of(c), "a zero tangent contributes exactly zero");
        else if (rc > 0 && !triangle_outside_is(P(c, "dA"), n, G(c, "ldda"), uplo_of(c), rc - 1, 1))
            fz_fail("dA is not NaN on the stored triangle outside the leading %d block (not positive definite)",
                    rc - 1);
    }
    copies_free();
}

static void model_potrf_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    potrf_primal(c, m, "C", M_CONST);
    bad(m, ACT_A(c) && n > 0 && NUL(c, "dC"), -106);
    bad(m, ACT_A(c) && G(c, "lddc") < max1(n), -107);
    if (ACT_A(c)) tri(c, m, "dC", n, G(c, "lddc"), uplo_of(c), 0);
}

static void expect_potrf_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    m->exact = 1;
    m->want = ACT_A(c) && n > 0 ? diag_first_nonpositive(P(c, "C"), n, G(c, "lda")) : 0;
}

static void post_potrf_rev(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const long long n = G(c, "n"), lddc = G(c, "lddc");
    if (!ACT_A(c) || n == 0) return;
    const T *dC0 = before(c, bufs, "dC");
    if (case_finite && zero_part(dC0, n, n, lddc, uplo_of(c)))
        must_be_zero(c, "dC", n, n, lddc, uplo_of(c), "a zero cotangent contributes exactly zero");
    if (rc > 0) { /* not positive definite: the leading block's adjoint and zeros, or NaN throughout */
        const int zero_outside = triangle_outside_is(dC0, n, lddc, uplo_of(c), rc - 1, 0);
        if (zero_outside && !triangle_outside_is(P(c, "dC"), n, lddc, uplo_of(c), rc - 1, 0))
            fz_fail("dC is not zero outside the leading %d block although Cbar is (not positive definite)", rc - 1);
        if (!zero_outside && !triangle_outside_is(P(c, "dC"), n, lddc, uplo_of(c), 0, 1))
            fz_fail("dC is not NaN on the whole stored triangle (not positive definite, Cbar nonzero outside the "
                    "leading %d block)", rc - 1);
    }
    copies_free();
}

/* ------------------------------------------------------------------ potrs, posv
 * ?potrs' / ?posv's checks (uplo 1, n 2, nrhs 3, A 4, lda 5, B 6, ldb 7) */
static void potrs_primal(const vals *c, model *m, const char *A, const char *lda, const char *B, const char *ldb,
                         int need_B, int a_mode, int b_mode) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    bad(m, !flag_ok(c, "uplo"), -1);
    bad(m, n < 0, -2);
    bad(m, nrhs < 0, -3);
    bad(m, n > 0 && NUL(c, A), -4);
    bad(m, G(c, lda) < max1(n), -5);
    bad(m, need_B && n > 0 && nrhs > 0 && NUL(c, B), -6);
    bad(m, G(c, ldb) < max1(n), -7);
    if (a_mode == M_OUT_TRI) tri(c, m, A, n, G(c, lda), uplo_of(c), 0);
    else mat(c, m, A, a_mode, n, n, G(c, lda));
    mat(c, m, B, b_mode, n, nrhs, G(c, ldb));
    m->max_info = n;
}

static void prepare_potrs(const vals *c, const model *m) { nonzero_diagonal(c, "C", G(c, "n"), G(c, "ldc"), 70); }

/* potrs' info: the first zero C(i,i); nrhs = 0 quick-returns 0 like LAPACK, without reading C */
static void expect_potrs(const vals *c, model *m) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    m->exact = 1;
    m->want = n > 0 && nrhs > 0 ? diag_first_zero(P(c, "C"), n, G(c, "ldc")) : 0;
}

static void model_potrs(const vals *c, model *m) { potrs_primal(c, m, "C", "ldc", "B", "ldb", 1, M_CONST, M_OUT); }

static void potrs_kernel_checks(const vals *c, model *m, int dc_mode) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int a = ACT_A(c), any = a || ACT_B(c);
    bad(m, a && n > 0 && NUL(c, "dC"), -107);
    bad(m, a && G(c, "lddc") < max1(n), -108);
    bad(m, any && n > 0 && nrhs > 0 && NUL(c, "dB"), -111);
    bad(m, any && G(c, "lddb") < max1(n), -112);
    if (a && dc_mode == M_OUT_TRI) tri(c, m, "dC", n, G(c, "lddc"), uplo_of(c), 0);
    else if (a) mat(c, m, "dC", dc_mode, n, n, G(c, "lddc"));
    if (any) mat(c, m, "dB", M_OUT, n, nrhs, G(c, "lddb"));
}

static void model_potrs_fwd(const vals *c, model *m) {
    potrs_primal(c, m, "C", "ldc", "B", "ldb", 1, M_CONST, M_OUT);
    potrs_kernel_checks(c, m, M_CONST);
}

static void post_potrs_fwd(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    T *B = before(c, bufs, "B");
    same_rc(rc, FN(potrs)((char)G(c, "uplo"), (int)G(c, "n"), (int)G(c, "nrhs"), P(c, "C"), (int)G(c, "ldc"), B,
                          (int)G(c, "ldb")), "dl_?potrs");
    same_as(c, bufs, "B", B, "dl_?potrs");
    copies_free();
}

static void model_potrs_rev(const vals *c, model *m) {
    potrs_primal(c, m, "C", "ldc", "X", "ldx", ACT_A(c), M_CONST, M_CONST);
    potrs_kernel_checks(c, m, M_OUT_TRI);
}

static void expect_potrs_rev(const vals *c, model *m) {
    expect_potrs(c, m);
    if (!(act(c) & (DL_ACTIVE_A | DL_ACTIVE_B))) m->want = 0;
}

static void post_potrs_rev(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int any = ACT_A(c) || ACT_B(c);
    if (any && n > 0 && nrhs > 0 && zero_part(before(c, bufs, "dB"), n, nrhs, G(c, "lddb"), 'A')) {
        /* a zero Xbar contributes exactly zero, also through a zero diagonal entry */
        if (rc > 0) {
            must_be_unchanged(c, bufs, "dB", rc, "a zero Xbar contributes exactly zero");
            must_be_unchanged(c, bufs, "dC", rc, "a zero Xbar contributes exactly zero");
        } else if (case_finite) {
            must_be_zero(c, "dB", n, nrhs, G(c, "lddb"), 'A', "a zero Xbar contributes exactly zero");
        }
    }
    copies_free();
}

static void prepare_posv(const vals *c, const model *m) { positive_definite(c, "A", G(c, "n"), G(c, "lda")); }

static void model_posv(const vals *c, model *m) { potrs_primal(c, m, "A", "lda", "B", "ldb", 1, M_OUT_TRI, M_OUT); }

static void post_posv(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    T *A = before(c, bufs, "A");
    same_rc(rc, FN(potrf)((char)G(c, "uplo"), (int)G(c, "n"), A, (int)G(c, "lda")), "dl_?potrf");
    same_as(c, bufs, "A", A, "dl_?potrf");
    if (rc > 0) must_be_unchanged(c, bufs, "B", rc, "?posv leaves B unchanged when A is not positive definite");
    info_readable(c, rc, "A");
    copies_free();
}

static void model_posv_fwd(const vals *c, model *m) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int a = ACT_A(c), any = a || ACT_B(c);
    potrs_primal(c, m, "A", "lda", "B", "ldb", 1, M_OUT_TRI, M_OUT);
    bad(m, a && n > 0 && NUL(c, "dA"), -107);
    bad(m, a && G(c, "ldda") < max1(n), -108);
    bad(m, any && n > 0 && nrhs > 0 && NUL(c, "dB"), -111);
    bad(m, any && G(c, "lddb") < max1(n), -112);
    /* dA becomes dC only with DL_WANT_DLU (its stored triangle); otherwise it is read only */
    if (a && (act(c) & DL_WANT_DLU)) tri(c, m, "dA", n, G(c, "ldda"), uplo_of(c), 0);
    else if (a) mat(c, m, "dA", M_CONST, n, n, G(c, "ldda"));
    if (any) mat(c, m, "dB", M_OUT, n, nrhs, G(c, "lddb"));
}

static void post_posv_fwd(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const char uplo = (char)G(c, "uplo");
    T *A = before(c, bufs, "A"), *B = before(c, bufs, "B");
    same_rc(rc, FN(posv)(uplo, (int)n, (int)nrhs, A, (int)G(c, "lda"), B, (int)G(c, "ldb")), "dl_?posv");
    same_as(c, bufs, "A", A, "dl_?posv");
    same_as(c, bufs, "B", B, "dl_?posv");
    if (rc > 0 && ACT_B(c)) must_be_unchanged(c, bufs, "dB", rc, "B is left unchanged: dB keeps its tangent");
    if (rc > 0 && ACT_A(c) && !ACT_B(c)) must_be_zero(c, "dB", n, nrhs, G(c, "lddb"), 'A', "B is unchanged and constant");
    if (ACT_A(c) && (act(c) & DL_WANT_DLU)) { /* dC as dl_?potrf_fwd */
        T *A2 = before(c, bufs, "A"), *dA = before(c, bufs, "dA");
        FN(potrf_fwd)(DL_ACTIVE_A, uplo, (int)n, A2, (int)G(c, "lda"), dA, (int)G(c, "ldda"));
        same_as(c, bufs, "dA", dA, "dl_?potrf_fwd");
    }
    copies_free();
}

static void model_posv_rev(const vals *c, model *m) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int a = ACT_A(c), any = a || ACT_B(c);
    /* X NULL is no argument error here: it is reported (-6) only once C is known to be
     * positive definite (expect_posv_rev) */
    potrs_primal(c, m, "C", "lda", "X", "ldx", 0, M_CONST, M_CONST);
    bad(m, a && n > 0 && NUL(c, "dA"), -107);
    bad(m, a && G(c, "ldda") < max1(n), -108);
    bad(m, any && n > 0 && nrhs > 0 && NUL(c, "dB"), -111);
    bad(m, any && G(c, "lddb") < max1(n), -112);
    if (a) tri(c, m, "dA", n, G(c, "ldda"), uplo_of(c), 0);
    if (any) mat(c, m, "dB", M_OUT, n, nrhs, G(c, "lddb"));
}

static void expect_posv_rev(const vals *c, model *m) {
    const long long n = G(c, "n"), nrhs = G(c, "nrhs");
    const int a = ACT_A(c), any = a || ACT_B(c);
    m->exact = 1;
    m->want = 0;
    if (n == 0 || !any) return;
    m->want = diag_first_nonpositive(P(c, "C"), n, G(c, "lda"));
    if (!m->want && a && nrhs > 0 && NUL(c, "X")) m->want = -6;
}

static void post_posv_rev(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const long long n = G(c, "n");
    if (rc > 0) {
        must_be_unchanged(c, bufs, "dB", rc, "B was left unchanged: Bbar = Xbar");
        if (ACT_A(c)) { /* dA: potrf_rev's rule for Cbar alone */
            T *dA = before(c, bufs, "dA");
            FN(potrf_rev)(DL_ACTIVE_A, (char)G(c, "uplo"), (int)n, P(c, "C"), (int)G(c, "lda"), dA, (int)G(c, "ldda"));
            same_as(c, bufs, "dA", dA, "dl_?potrf_rev");
        }
    }
    copies_free();
}

/* ------------------------------------------------------------------ getri, inv
 * ?getri's checks (n 1, A 2, lda 3, ipiv 4; an entry of ipiv[0..npiv-1] outside 1..n: 4, checked
 * last). ?getri reads ipiv[0..n-2] only (npiv = n - 1); det_rev and slogdet_rev all n. */
static void getri_primal_pivots(const vals *c, model *m, const char *A, int a_mode, long long npiv) {
    const long long n = G(c, "n");
    bad(m, n < 0, -1);
    bad(m, n > 0 && NUL(c, A), -2);
    bad(m, G(c, "lda") < max1(n), -3);
    bad(m, n > 0 && NUL(c, "ipiv"), -4);
    mat(c, m, A, a_mode, n, n, G(c, "lda"));
    ivec(c, m, "ipiv", M_CONST, n);
    pivots(c, m, "ipiv", npiv, n, -4);
    m->max_info = n;
}
static void getri_primal(const vals *c, model *m, const char *A, int a_mode) {
    const long long n = G(c, "n");
    getri_primal_pivots(c, m, A, a_mode, n > 0 ? n - 1 : 0);
}

/* ?getri never reads IPIV(N): half the time it is garbage, which must change nothing */
static void garble_last_pivot(const vals *c) {
    const long long n = G(c, "n");
    int *ipiv = P(c, "ipiv");
    if (n <= 0 || !ipiv || !fz_pct(50)) return;
    static const int garbage[] = {0, -1, INT_MIN, INT_MAX};
    const int pick = fz_below(6);
    ipiv[n - 1] = pick < 4 ? garbage[pick] : pick == 4 ? (int)min2(n + 1, INT_MAX) : (int)fz_u32();
}

static void prepare_getri(const vals *c, const model *m) {
    nonzero_diagonal(c, "A", G(c, "n"), G(c, "lda"), 60);
    garble_last_pivot(c);
}
static void prepare_lu(const vals *c, const model *m) { nonzero_diagonal(c, "LU", G(c, "n"), G(c, "lda"), 60); }
static void prepare_getri_rev(const vals *c, const model *m) {
    prepare_lu(c, m);
    garble_last_pivot(c);
}

static void expect_getri(const vals *c, model *m) {
    const long long n = G(c, "n");
    m->exact = 1;
    m->want = n > 0 ? diag_first_zero(P(c, "A"), n, G(c, "lda")) : 0;
}

static void model_getri(const vals *c, model *m) { getri_primal(c, m, "A", M_OUT); }

static void post_getri(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    if (rc > 0) must_be_unchanged(c, bufs, "A", rc, "?getri leaves A unchanged when U is singular");
}

static void model_getri_fwd(const vals *c, model *m) {
    const long long n = G(c, "n");
    getri_primal(c, m, "A", M_OUT);
    bad(m, ACT_A(c) && n > 0 && NUL(c, "dA"), -106);
    bad(m, ACT_A(c) && G(c, "ldda") < max1(n), -107);
    if (ACT_A(c)) mat(c, m, "dA", M_OUT, n, n, G(c, "ldda"));
}

static void post_getri_fwd(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    T *A = before(c, bufs, "A");
    same_rc(rc, FN(getri)((int)G(c, "n"), A, (int)G(c, "lda"), P(c, "ipiv")), "dl_?getri");
    same_as(c, bufs, "A", A, "dl_?getri");
    if (rc > 0) must_be_unchanged(c, bufs, "dA", rc, "A is left unchanged: so is its tangent");
    copies_free();
}

static void model_getri_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    const int a = ACT_A(c);
    getri_primal(c, m, "LU", M_CONST);
    bad(m, a && n > 0 && NUL(c, "X"), -106);
    bad(m, G(c, "ldx") < max1(n), -107);
    bad(m, a && n > 0 && NUL(c, "dA"), -108);
    bad(m, a && G(c, "ldda") < max1(n), -109);
    mat(c, m, "X", M_CONST, n, n, G(c, "ldx"));
    if (a) mat(c, m, "dA", M_OUT, n, n, G(c, "ldda"));
}

static void expect_getri_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    m->exact = 1;
    m->want = ACT_A(c) && n > 0 ? diag_first_zero(P(c, "LU"), n, G(c, "lda")) : 0;
}

static void post_getri_rev(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    if (rc > 0) must_be_unchanged(c, bufs, "dA", rc, "?getri computed nothing: Xbar passes through");
}

/* the square ?getrf checks of inv, det and slogdet (n 1, A 2, lda 3, ipiv 4); A := its LU */
static void factor_primal(const vals *c, model *m) {
    const long long n = G(c, "n");
    bad(m, n < 0, -1);
    bad(m, n > 0 && NUL(c, "A"), -2);
    bad(m, G(c, "lda") < max1(n), -3);
    bad(m, n > 0 && NUL(c, "ipiv"), -4);
    mat(c, m, "A", M_OUT, n, n, G(c, "lda"));
    ivec(c, m, "ipiv", M_OUT, n);
    m->max_info = n;
}

static void prepare_factor_primal(const vals *c, const model *m) {
    maybe_zero_column(c, "A", G(c, "n"), G(c, "lda"), 15);
}

/* A and ipiv as dl_?getrf leaves them (A only where the kernel keeps the LU: `lu`) */
static void same_as_getrf(const vals *c, const fz_buf *bufs, int rc, int lu) {
    T *A = before(c, bufs, "A");
    int *ipiv = before(c, bufs, "ipiv");
    const int n = (int)G(c, "n");
    same_rc(rc, FN(getrf)(n, n, A, (int)G(c, "lda"), ipiv), "dl_?getrf");
    same_as(c, bufs, "ipiv", ipiv, "dl_?getrf");
    if (lu) same_as(c, bufs, "A", A, "dl_?getrf");
}

static void model_inv(const vals *c, model *m) { factor_primal(c, m); }

static void post_inv(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    same_as_getrf(c, bufs, rc, rc > 0); /* info > 0: A holds the factors */
    copies_free();
}

static void model_inv_fwd(const vals *c, model *m) {
    const long long n = G(c, "n");
    factor_primal(c, m);
    bad(m, ACT_A(c) && n > 0 && NUL(c, "dA"), -106);
    bad(m, ACT_A(c) && G(c, "ldda") < max1(n), -107);
    if (ACT_A(c)) mat(c, m, "dA", M_OUT, n, n, G(c, "ldda"));
}

static void post_inv_fwd(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const int n = (int)G(c, "n");
    T *A = before(c, bufs, "A");
    int *ipiv = before(c, bufs, "ipiv");
    same_rc(rc, FN(inv)(n, A, (int)G(c, "lda"), ipiv), "dl_?inv");
    same_as(c, bufs, "A", A, "dl_?inv");
    same_as(c, bufs, "ipiv", ipiv, "dl_?inv");
    if (rc > 0 && ACT_A(c)) { /* dA: the packed getrf tangent */
        T *A2 = before(c, bufs, "A"), *dA = before(c, bufs, "dA");
        int *ipiv2 = before(c, bufs, "ipiv");
        FN(getrf_fwd)(DL_ACTIVE_A, n, n, A2, (int)G(c, "lda"), ipiv2, dA, (int)G(c, "ldda"));
        same_as(c, bufs, "dA", dA, "dl_?getrf_fwd");
    }
    copies_free();
}

static void model_inv_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    bad(m, n < 0, -102);
    bad(m, n > 0 && NUL(c, "X"), -103);
    bad(m, G(c, "ldx") < max1(n), -104);
    bad(m, ACT_A(c) && n > 0 && NUL(c, "dA"), -105);
    bad(m, ACT_A(c) && G(c, "ldda") < max1(n), -106);
    mat(c, m, "X", M_CONST, n, n, G(c, "ldx"));
    if (ACT_A(c)) mat(c, m, "dA", M_OUT, n, n, G(c, "ldda"));
    m->max_info = 0;
}

/* ------------------------------------------------------------------ det, slogdet */
static void model_det(const vals *c, model *m) {
    factor_primal(c, m);
    bad(m, NUL(c, "det"), -105);
    scal(c, m, "det", M_OUT);
}

static void post_det(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    same_as_getrf(c, bufs, rc, 1);
    const T det = *(const T *)P(c, "det");
    const long long n = G(c, "n");
    if (n > 0 && diag_first_zero(P(c, "A"), n, G(c, "lda")) && det != 0) fz_fail("det = %g with a zero pivot (documented: exactly 0)", (double)REAL(det));
    copies_free();
}

static void model_det_fwd(const vals *c, model *m) {
    const long long n = G(c, "n");
    const int a = ACT_A(c);
    factor_primal(c, m);
    bad(m, a && n > 0 && NUL(c, "dA"), -106);
    bad(m, a && G(c, "ldda") < max1(n), -107);
    bad(m, NUL(c, "det"), -108);
    bad(m, a && NUL(c, "ddet"), -109);
    if (a) mat(c, m, "dA", M_CONST, n, n, G(c, "ldda"));
    scal(c, m, "det", M_OUT);
    scal(c, m, "ddet", M_OUT); /* written whenever it is not NULL */
}

static void post_det_fwd(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const long long n = G(c, "n");
    T *A = before(c, bufs, "A"), *det = before(c, bufs, "det");
    int *ipiv = before(c, bufs, "ipiv");
    same_rc(rc, FN(det)((int)n, A, (int)G(c, "lda"), ipiv, det), "dl_?det");
    same_as(c, bufs, "A", A, "dl_?det");
    same_as(c, bufs, "ipiv", ipiv, "dl_?det");
    same_as(c, bufs, "det", det, "dl_?det");
    const T *ddet = P(c, "ddet");
    if (ddet && (!ACT_A(c) || n == 0 || zero_part(P(c, "dA"), n, n, G(c, "ldda"), 'A')) && *ddet != 0)
        fz_fail("ddet != 0 for a zero (or inactive) tangent");
    copies_free();
}

static void model_det_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    const int a = ACT_A(c);
    getri_primal_pivots(c, m, "LU", M_CONST, n);
    bad(m, a && NUL(c, "detbar"), -106);
    bad(m, a && n > 0 && NUL(c, "dA"), -107);
    bad(m, a && G(c, "ldda") < max1(n), -108);
    if (a) scal(c, m, "detbar", M_CONST);
    if (a) mat(c, m, "dA", M_OUT, n, n, G(c, "ldda"));
}

/* det_rev / slogdet_rev: "the first zero U(i,i), 1-based, or 0" */
static void expect_det_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    m->exact = 1;
    m->want = n > 0 ? diag_first_zero(P(c, "LU"), n, G(c, "lda")) : 0;
}

static void post_det_rev(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    if (ACT_A(c) && *(const T *)P(c, "detbar") == 0)
        must_be_unchanged(c, bufs, "dA", rc, "a zero cotangent contributes exactly zero");
}

static void model_slogdet(const vals *c, model *m) {
    factor_primal(c, m);
    bad(m, NUL(c, "sign"), -105);
    bad(m, NUL(c, "logabsdet"), -106);
    scal(c, m, "sign", M_OUT);
    rscal(c, m, "logabsdet", M_OUT);
}

static void post_slogdet(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    same_as_getrf(c, bufs, rc, 1);
    const T sign = *(const T *)P(c, "sign");
    const R la = *(const R *)P(c, "logabsdet");
    const long long n = G(c, "n");
    if (n > 0 && diag_first_zero(P(c, "A"), n, G(c, "lda")) && (sign != 0 || !(la < 0 && isinf(la))))
        fz_fail("(sign, logabsdet) = (%g, %g) with a zero pivot (documented: (0, -inf))", (double)REAL(sign), (double)la);
    copies_free();
}

static void model_slogdet_fwd(const vals *c, model *m) {
    const long long n = G(c, "n");
    const int a = ACT_A(c);
    factor_primal(c, m);
    bad(m, a && n > 0 && NUL(c, "dA"), -106);
    bad(m, a && G(c, "ldda") < max1(n), -107);
    bad(m, NUL(c, "sign"), -108);
    bad(m, NUL(c, "logabsdet"), -109);
    bad(m, a && NUL(c, "dsign"), -110);
    bad(m, a && NUL(c, "dlogabsdet"), -111);
    if (a) mat(c, m, "dA", M_CONST, n, n, G(c, "ldda"));
    scal(c, m, "sign", M_OUT);
    rscal(c, m, "logabsdet", M_OUT);
    scal(c, m, "dsign", M_OUT);       /* written whenever not NULL */
    rscal(c, m, "dlogabsdet", M_OUT);
}

static void post_slogdet_fwd(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const long long n = G(c, "n");
    T *A = before(c, bufs, "A"), *sign = before(c, bufs, "sign");
    R *la = before(c, bufs, "logabsdet");
    int *ipiv = before(c, bufs, "ipiv");
    same_rc(rc, FN(slogdet)((int)n, A, (int)G(c, "lda"), ipiv, sign, la), "dl_?slogdet");
    same_as(c, bufs, "A", A, "dl_?slogdet");
    same_as(c, bufs, "ipiv", ipiv, "dl_?slogdet");
    same_as(c, bufs, "sign", sign, "dl_?slogdet");
    same_as(c, bufs, "logabsdet", la, "dl_?slogdet");
    const T *ds = P(c, "dsign");
    const R *dl = P(c, "dlogabsdet");
    if (!ACT_A(c) || n == 0 || zero_part(P(c, "dA"), n, n, G(c, "ldda"), 'A'))
        if ((ds && *ds != 0) || (dl && *dl != 0)) fz_fail("dsign / dlogabsdet != 0 for a zero (or inactive) tangent");
    copies_free();
}

static void model_slogdet_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    const int a = ACT_A(c);
    getri_primal_pivots(c, m, "LU", M_CONST, n);
    bad(m, a && DL_IS_COMPLEX && NUL(c, "signbar"), -106); /* real data: signbar is not read */
    bad(m, a && NUL(c, "labar"), -107);
    bad(m, a && n > 0 && NUL(c, "dA"), -108);
    bad(m, a && G(c, "ldda") < max1(n), -109);
    if (a && DL_IS_COMPLEX) scal(c, m, "signbar", M_CONST);
    if (a) rscal(c, m, "labar", M_CONST);
    if (a) mat(c, m, "dA", M_OUT, n, n, G(c, "ldda"));
}

static void post_slogdet_rev(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    if (!ACT_A(c) || *(const R *)P(c, "labar") != 0) return;
    if (DL_IS_COMPLEX && *(const T *)P(c, "signbar") != 0) return;
    must_be_unchanged(c, bufs, "dA", rc, "a zero cotangent contributes exactly zero");
}

/* slogdet_inv: dl_?slogdet's checks and outputs to rounding (Gauss-Jordan: the same pivots);
 * A := A^{-1}, or NaN with ?getrf's info at a zero pivot */
static void model_slogdet_inv(const vals *c, model *m) {
    model_slogdet(c, m);
    if (!NUL(c, "pivot_ratio")) rscal(c, m, "pivot_ratio", M_OUT); /* written whenever not NULL */
}

/* min |U_ii| / max |U_ii| (|.| the larger of |Re|, |Im|) */
static double diagonal_ratio(const T *LU, int n, int lda) {
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < n; ++i) {
        const T u = LU[(size_t)i + (size_t)i * (size_t)lda];
        const double v = fmax(fabs((double)REAL(u)), fabs((double)IMAG(u)));
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    return n == 0 ? 1 : hi == 0 ? 0 : lo / hi;
}

static void post_slogdet_inv(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    const int n = (int)G(c, "n");
    T *A = before(c, bufs, "A");
    int *ipiv = before(c, bufs, "ipiv");
    const int lu_info = FN(getrf)(n, n, A, (int)G(c, "lda"), ipiv);
    /* the same verdict as ?getrf, unless one of the two eliminations says the matrix is singular
     * to working precision (then an exact zero pivot depends on the rounding: documented) */
    const double tiny = sqrt(sizeof(R) == sizeof(float) ? FLT_EPSILON : DBL_EPSILON); /* slogdet_vjp's rule */
    const R *gj_ratio = P(c, "pivot_ratio");
    const int near_singular = diagonal_ratio(A, n, (int)G(c, "lda")) <= tiny || !gj_ratio || *gj_ratio <= tiny;
    if (rc != lu_info && !(rc >= 0 && lu_info >= 0 && near_singular))
        fz_fail("returned %d where dl_?getrf (the first zero pivot) returns %d for a matrix not singular to "
                "working precision", rc, lu_info);
    const T sign = *(const T *)P(c, "sign");
    const R la = *(const R *)P(c, "logabsdet");
    if (rc > 0) {
        if (sign != 0 || !(la < 0 && isinf(la))) fz_fail("(sign, logabsdet) = (%g, %g) with a zero pivot", (double)REAL(sign), (double)la);
        const T *X = P(c, "A");
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < n; ++i)
                if (X[(size_t)i + (size_t)j * G(c, "lda")] == X[(size_t)i + (size_t)j * G(c, "lda")])
                    fz_fail("A(%d,%d) is not NaN after a zero pivot (documented: no inverse)", i, j);
    }
    copies_free();
}

static void model_slogdet_inv_rev(const vals *c, model *m) {
    const long long n = G(c, "n");
    const int a = ACT_A(c);
    bad(m, n < 0, -102);
    bad(m, n > 0 && NUL(c, "X"), -103);
    bad(m, G(c, "ldx") < max1(n), -104);
    bad(m, a && NUL(c, "sign"), -105);
    bad(m, a && DL_IS_COMPLEX && NUL(c, "signbar"), -106); /* real data: signbar is not read */
    bad(m, a && NUL(c, "labar"), -107);
    bad(m, a && n > 0 && NUL(c, "dA"), -108);
    bad(m, a && G(c, "ldda") < max1(n), -109);
    mat(c, m, "X", M_CONST, n, n, G(c, "ldx"));
    if (a) scal(c, m, "sign", M_CONST);
    if (a && DL_IS_COMPLEX) scal(c, m, "signbar", M_CONST);
    if (a) rscal(c, m, "labar", M_CONST);
    if (a) mat(c, m, "dA", M_OUT, n, n, G(c, "ldda"));
    m->max_info = 0;
}

static void post_slogdet_inv_rev(const vals *c, const model *m, int rc, const fz_buf *bufs) {
    if (!ACT_A(c) || *(const R *)P(c, "labar") != 0) return;
    if (DL_IS_COMPLEX && *(const T *)P(c, "signbar") != 0) return;
    must_be_unchanged(c, bufs, "dA", rc, "a zero cotangent contributes exactly zero");
}

/* in the order of the DL_KERNELS table (checked at start-up: fz_check_table) */
enum { R_TRSV, R_TRSV_FWD, R_TRSV_REV, R_TRSM, R_TRSM_FWD, R_TRSM_REV, R_GETRF, R_GETRF_FWD, R_GETRF_REV,
       R_GETRS, R_GETRS_FWD, R_GETRS_REV, R_GESV, R_GESV_FWD, R_GESV_REV, R_POTRF, R_POTRF_FWD, R_POTRF_REV,
       R_POTRS, R_POTRS_FWD, R_POTRS_REV, R_POSV, R_POSV_FWD, R_POSV_REV, R_TRTRS, R_TRTRS_FWD, R_TRTRS_REV,
       R_GETRI, R_GETRI_FWD, R_GETRI_REV, R_INV, R_INV_FWD, R_INV_REV, R_DET, R_DET_FWD, R_DET_REV, R_SLOGDET,
       R_SLOGDET_FWD, R_SLOGDET_REV, R_SLOGDET_INV, R_SLOGDET_INV_REV, R_COUNT };

/* every kernel of the header's table has a model: a kernel added to DL_KERNELS without one
 * fails to compile here */
#define FZ_COUNT_KERNEL(p, name, params) +1
enum { FZ_TABLE_KERNELS = 0 DL_KERNELS(FZ_COUNT_KERNEL, DL_P, T, R) };
_Static_assert((int)R_COUNT == (int)FZ_TABLE_KERNELS, "a kernel of DL_KERNELS has no fuzz model (tests/fuzz/fuzz_kernels.c)");

#define TRSV_FLAG_PARAMS FLAG("uplo", -1, "UL"), FLAG("trans", -2, "NTC"), FLAG("diag", -3, "NU")
#define TRSM_FLAG_PARAMS FLAG("side", -1, "LR"), FLAG("uplo", -2, "UL"), FLAG("transa", -3, "NTC"), \
                         FLAG("diag", -4, "NU")

static const routine ROUTINES[R_COUNT] = {
    [R_TRSV] = {"trsv", 8, {TRSV_FLAG_PARAMS, DIM("n", -4), ARR("A", -5), LD("lda", -6, "n"), ARR("x", -7),
                            INC("incx", -8)}, model_trsv, NULL, NULL, NULL},
    [R_TRSV_FWD] = {"trsv_fwd", 13, {ACT, TRSV_FLAG_PARAMS, DIM("n", -4), ARR("A", -5), LD("lda", -6, "n"),
                                     ARR("dA", -108), LD("ldda", -109, "n"), ARR("x", -7), INC("incx", -8),
                                     ARR("dx", -112), INC("incdx", -113)}, model_trsv_fwd, NULL, NULL, NULL},
    [R_TRSV_REV] = {"trsv_rev", 13, {ACT, TRSV_FLAG_PARAMS, DIM("n", -4), ARR("A", -5), LD("lda", -6, "n"),
                                     ARR("dA", -108), LD("ldda", -109, "n"), ARR("x", -7), INC("incx", -8),
                                     ARR("dx", -112), INC("incdx", -113)}, model_trsv_rev, NULL, NULL, NULL},
    [R_TRSM] = {"trsm", 11, {TRSM_FLAG_PARAMS, DIM("m", -5), DIM("n", -6), SCAL("alpha", -7), ARR("A", -8),
                             LD("lda", -9, "k"), ARR("B", -10), LD("ldb", -11, "m")}, model_trsm, NULL, NULL, NULL},
    [R_TRSM_FWD] = {"trsm_fwd", 17, {ACT, TRSM_FLAG_PARAMS, DIM("m", -5), DIM("n", -6), SCAL("alpha", -7),
                                     SCAL("dalpha", -109), ARR("A", -8), LD("lda", -9, "k"), ARR("dA", -112),
                                     LD("ldda", -113, "k"), ARR("B", -10), LD("ldb", -11, "m"),
                                     ARR("dB", -116), LD("lddb", -117, "m")}, model_trsm_fwd, NULL, NULL, NULL},
    [R_TRSM_REV] = {"trsm_rev", 19, {ACT, TRSM_FLAG_PARAMS, DIM("m", -5), DIM("n", -6), SCAL("alpha", -7),
                                     ARR("A", -8), LD("lda", -9, "k"), ARR("dA", -111), LD("ldda", -112, "k"),
                                     ARR("X", -10), LD("ldx", -11, "m"), ARR("B0", -115),
                                     LD("ldb0", -116, "m"), ARR("dB", -117), LD("lddb", -118, "m"),
                                     SCAL("dalpha", -119)}, model_trsm_rev, NULL, NULL, NULL},
    [R_GETRF] = {"getrf", 5, {DIM("m", -1), DIM("n", -2), ARR("A", -3), LD("lda", -4, "m"), IPIV("ipiv", -5)},
                 model_getrf, NULL, NULL, NULL},
    [R_GETRF_FWD] = {"getrf_fwd", 8, {ACT, DIM("m", -1), DIM("n", -2), ARR("A", -3), LD("lda", -4, "m"),
                                      IPIV("ipiv", -5), ARR("dA", -107), LD("ldda", -108, "m")},
                     model_getrf_fwd, prepare_getrf_fwd, NULL, post_getrf_fwd},
    [R_GETRF_REV] = {"getrf_rev", 8, {ACT, DIM("m", -1), DIM("n", -2), ARR("LU", -3), LD("lda", -4, "m"),
                                      IPIV("ipiv", -5), ARR("dLU", -107), LD("lddlu", -108, "m")},
                     model_getrf_rev, prepare_getrf_rev, NULL, post_getrf_rev},
    [R_GETRS] = {"getrs", 8, {FLAG("trans", -1, "NTC"), DIM("n", -2), DIM("nrhs", -3), ARR("LU", -4),
                              LD("lda", -5, "n"), IPIV("ipiv", -6), ARR("B", -7), LD("ldb", -8, "n")},
                 model_getrs, prepare_getrs, expect_getrs, NULL},
    [R_GETRS_FWD] = {"getrs_fwd", 13, {ACT, FLAG("trans", -1, "NTC"), DIM("n", -2), DIM("nrhs", -3),
                                       ARR("LU", -4), LD("lda", -5, "n"), ARR("dLU", -107),
                                       LD("lddlu", -108, "n"), IPIV("ipiv", -6), ARR("B", -7),
                                       LD("ldb", -8, "n"), ARR("dB", -112), LD("lddb", -113, "n")},
                     model_getrs_fwd, prepare_getrs, expect_getrs, NULL},
    [R_GETRS_REV] = {"getrs_rev", 13, {ACT, FLAG("trans", -1, "NTC"), DIM("n", -2), DIM("nrhs", -3),
                                       ARR("LU", -4), LD("lda", -5, "n"), ARR("dLU", -107),
                                       LD("lddlu", -108, "n"), IPIV("ipiv", -6), ARR("X", -7),
                                       LD("ldx", -8, "n"), ARR("dB", -112), LD("lddb", -113, "n")},
                     model_getrs_rev, prepare_getrs, expect_getrs_rev, NULL},
    [R_GESV] = {"gesv", 7, {DIM("n", -1), DIM("nrhs", -2), ARR("A", -3), LD("lda", -4, "n"), IPIV("ipiv", -5),
                            ARR("B", -6), LD("ldb", -7, "n")}, model_gesv, NULL, NULL, NULL},
    [R_GESV_FWD] = {"gesv_fwd", 12, {ACT, DIM("n", -1), DIM("nrhs", -2), ARR("A", -3), LD("lda", -4, "n"),
                                     ARR("dA", -106), LD("ldda", -107, "n"), IPIV("ipiv", -5), ARR("B", -6),
                                     LD("ldb", -7, "n"), ARR("dB", -111), LD("lddb", -112, "n")},
                    model_gesv_fwd, NULL, NULL, NULL},
    [R_GESV_REV] = {"gesv_rev", 12, {ACT, DIM("n", -1), DIM("nrhs", -2), ARR("LU", -3), LD("lda", -4, "n"),
                                     IPIV("ipiv", -5), ARR("dA", -107), LD("ldda", -108, "n"), ARR("X", -6),
                                     LD("ldx", -7, "n"), ARR("dB", -111), LD("lddb", -112, "n")},
                    model_gesv_rev, NULL, NULL, NULL},
    [R_POTRF] = {"potrf", 4, {FLAG("uplo", -1, "UL"), DIM("n", -2), ARR("A", -3), LD("lda", -4, "n")}, model_potrf,
                 prepare_potrf, NULL, post_potrf},
    [R_POTRF_FWD] = {"potrf_fwd", 7, {ACT, FLAG("uplo", -1, "UL"), DIM("n", -2), ARR("A", -3), LD("lda", -4, "n"),
                                      ARR("dA", -106), LD("ldda", -107, "n")}, model_potrf_fwd, prepare_potrf, NULL,
                     post_potrf_fwd},
    [R_POTRF_REV] = {"potrf_rev", 7, {ACT, FLAG("uplo", -1, "UL"), DIM("n", -2), ARR("C", -3), LD("lda", -4, "n"),
                                      ARR("dC", -106), LD("lddc", -107, "n")}, model_potrf_rev, prepare_factor,
                     expect_potrf_rev, post_potrf_rev},
    [R_POTRS] = {"potrs", 7, {FLAG("uplo", -1, "UL"), DIM("n", -2), DIM("nrhs", -3), ARR("C", -4),
                              LD("ldc", -5, "n"), ARR("B", -6), LD("ldb", -7, "n")}, model_potrs, prepare_potrs,
                 expect_potrs, NULL},
    [R_POTRS_FWD] = {"potrs_fwd", 12, {ACT, FLAG("uplo", -1, "UL"), DIM("n", -2), DIM("nrhs", -3), ARR("C", -4),
                                       LD("ldc", -5, "n"), ARR("dC", -107), LD("lddc", -108, "n"), ARR("B", -6),
                                       LD("ldb", -7, "n"), ARR("dB", -111), LD("lddb", -112, "n")},
                     model_potrs_fwd, prepare_potrs, expect_potrs, post_potrs_fwd},
    [R_POTRS_REV] = {"potrs_rev", 12, {ACT, FLAG("uplo", -1, "UL"), DIM("n", -2), DIM("nrhs", -3), ARR("C", -4),
                                       LD("ldc", -5, "n"), ARR("dC", -107), LD("lddc", -108, "n"), ARR("X", -6),
                                       LD("ldx", -7, "n"), ARR("dB", -111), LD("lddb", -112, "n")},
                     model_potrs_rev, prepare_potrs, expect_potrs_rev, post_potrs_rev},
    [R_POSV] = {"posv", 7, {FLAG("uplo", -1, "UL"), DIM("n", -2), DIM("nrhs", -3), ARR("A", -4), LD("lda", -5, "n"),
                            ARR("B", -6), LD("ldb", -7, "n")}, model_posv, prepare_posv, NULL, post_posv},
    [R_POSV_FWD] = {"posv_fwd", 12, {ACT, FLAG("uplo", -1, "UL"), DIM("n", -2), DIM("nrhs", -3), ARR("A", -4),
                                     LD("lda", -5, "n"), ARR("dA", -107), LD("ldda", -108, "n"), ARR("B", -6),
                                     LD("ldb", -7, "n"), ARR("dB", -111), LD("lddb", -112, "n")},
                    model_posv_fwd, prepare_posv, NULL, post_posv_fwd},
    [R_POSV_REV] = {"posv_rev", 12, {ACT, FLAG("uplo", -1, "UL"), DIM("n", -2), DIM("nrhs", -3), ARR("C", -4),
                                     LD("lda", -5, "n"), ARR("dA", -107), LD("ldda", -108, "n"), ARR("X", -6),
                                     LD("ldx", -7, "n"), ARR("dB", -111), LD("lddb", -112, "n")},
                    model_posv_rev, prepare_factor, expect_posv_rev, post_posv_rev},
    [R_TRTRS] = {"trtrs", 9, {TRSV_FLAG_PARAMS, DIM("n", -4), DIM("nrhs", -5), ARR("A", -6), LD("lda", -7, "n"),
                              ARR("B", -8), LD("ldb", -9, "n")}, model_trtrs, prepare_trtrs, NULL, post_trtrs},
    [R_TRTRS_FWD] = {"trtrs_fwd", 14, {ACT, TRSV_FLAG_PARAMS, DIM("n", -4), DIM("nrhs", -5), ARR("A", -6),
                                       LD("lda", -7, "n"), ARR("dA", -109), LD("ldda", -110, "n"), ARR("B", -8),
                                       LD("ldb", -9, "n"), ARR("dB", -113), LD("lddb", -114, "n")},
                     model_trtrs_fwd, prepare_trtrs, NULL, post_trtrs_fwd},
    [R_TRTRS_REV] = {"trtrs_rev", 14, {ACT, TRSV_FLAG_PARAMS, DIM("n", -4), DIM("nrhs", -5), ARR("A", -6),
                                       LD("lda", -7, "n"), ARR("dA", -109), LD("ldda", -110, "n"), ARR("X", -8),
                                       LD("ldx", -9, "n"), ARR("dB", -113), LD("lddb", -114, "n")},
                     model_trtrs_rev, prepare_trtrs, NULL, post_trtrs_rev},
    [R_GETRI] = {"getri", 4, {DIM("n", -1), ARR("A", -2), LD("lda", -3, "n"), IPIV("ipiv", -4)}, model_getri,
                 prepare_getri, expect_getri, post_getri},
    [R_GETRI_FWD] = {"getri_fwd", 7, {ACT, DIM("n", -1), ARR("A", -2), LD("lda", -3, "n"), IPIV("ipiv", -4),
                                      ARR("dA", -106), LD("ldda", -107, "n")}, model_getri_fwd, prepare_getri,
                     expect_getri, post_getri_fwd},
    [R_GETRI_REV] = {"getri_rev", 9, {ACT, DIM("n", -1), ARR("LU", -2), LD("lda", -3, "n"), IPIV("ipiv", -4),
                                      ARR("X", -106), LD("ldx", -107, "n"), ARR("dA", -108), LD("ldda", -109, "n")},
                     model_getri_rev, prepare_getri_rev, expect_getri_rev, post_getri_rev},
    [R_INV] = {"inv", 4, {DIM("n", -1), ARR("A", -2), LD("lda", -3, "n"), IPIV("ipiv", -4)}, model_inv,
               prepare_factor_primal, NULL, post_inv},
    [R_INV_FWD] = {"inv_fwd", 7, {ACT, DIM("n", -1), ARR("A", -2), LD("lda", -3, "n"), IPIV("ipiv", -4),
                                  ARR("dA", -106), LD("ldda", -107, "n")}, model_inv_fwd, prepare_factor_primal, NULL,
                   post_inv_fwd},
    [R_INV_REV] = {"inv_rev", 6, {ACT, DIM("n", -102), ARR("X", -103), LD("ldx", -104, "n"), ARR("dA", -105),
                                  LD("ldda", -106, "n")}, model_inv_rev, NULL, NULL, NULL},
    [R_DET] = {"det", 5, {DIM("n", -1), ARR("A", -2), LD("lda", -3, "n"), IPIV("ipiv", -4), SCAL("det", -105)},
               model_det, prepare_factor_primal, NULL, post_det},
    [R_DET_FWD] = {"det_fwd", 9, {ACT, DIM("n", -1), ARR("A", -2), LD("lda", -3, "n"), IPIV("ipiv", -4),
                                  ARR("dA", -106), LD("ldda", -107, "n"), SCAL("det", -108), SCAL("ddet", -109)},
                   model_det_fwd, prepare_factor_primal, NULL, post_det_fwd},
    [R_DET_REV] = {"det_rev", 8, {ACT, DIM("n", -1), ARR("LU", -2), LD("lda", -3, "n"), IPIV("ipiv", -4),
                                  SCAL("detbar", -106), ARR("dA", -107), LD("ldda", -108, "n")},
                   model_det_rev, prepare_lu, expect_det_rev, post_det_rev},
    [R_SLOGDET] = {"slogdet", 6, {DIM("n", -1), ARR("A", -2), LD("lda", -3, "n"), IPIV("ipiv", -4),
                                  SCAL("sign", -105), SCAL("logabsdet", -106)},
                   model_slogdet, prepare_factor_primal, NULL, post_slogdet},
    [R_SLOGDET_FWD] = {"slogdet_fwd", 11, {ACT, DIM("n", -1), ARR("A", -2), LD("lda", -3, "n"), IPIV("ipiv", -4),
                                          ARR("dA", -106), LD("ldda", -107, "n"), SCAL("sign", -108),
                                          SCAL("logabsdet", -109), SCAL("dsign", -110), SCAL("dlogabsdet", -111)},
                       model_slogdet_fwd, prepare_factor_primal, NULL, post_slogdet_fwd},
    [R_SLOGDET_REV] = {"slogdet_rev", 9, {ACT, DIM("n", -1), ARR("LU", -2), LD("lda", -3, "n"), IPIV("ipiv", -4),
                                          SCAL("signbar", -106), SCAL("labar", -107), ARR("dA", -108),
                                          LD("ldda", -109, "n")},
                       model_slogdet_rev, prepare_lu, expect_det_rev, post_slogdet_rev},
    [R_SLOGDET_INV] = {"slogdet_inv", 7, {DIM("n", -1), ARR("A", -2), LD("lda", -3, "n"), IPIV("ipiv", -4),
                                          SCAL("sign", -105), SCAL("logabsdet", -106), SCAL("pivot_ratio", 0)},
                       model_slogdet_inv, prepare_factor_primal, NULL, post_slogdet_inv},
    [R_SLOGDET_INV_REV] = {"slogdet_inv_rev", 9, {ACT, DIM("n", -102), ARR("X", -103), LD("ldx", -104, "n"),
                                                  SCAL("sign", -105), SCAL("signbar", -106), SCAL("labar", -107),
                                                  ARR("dA", -108), LD("ldda", -109, "n")},
                           model_slogdet_inv_rev, NULL, NULL, post_slogdet_inv_rev},
};

/* ------------------------------------------------------------------ calling a kernel */
#define IV(k) ((int)c->v[k])
#define UV(k) ((unsigned)c->v[k])
#define CV(k) ((char)c->v[k])
#define PV(k) (c->ptr[k])

static int call(int r, const vals *c) {
    switch (r) {
    case R_TRSV: return FN(trsv)(CV(0), CV(1), CV(2), IV(3), PV(4), IV(5), PV(6), IV(7));
    case R_TRSV_FWD:
        return FN(trsv_fwd)(UV(0), CV(1), CV(2), CV(3), IV(4), PV(5), IV(6), PV(7), IV(8), PV(9), IV(10), PV(11), IV(12));
    case R_TRSV_REV:
        return FN(trsv_rev)(UV(0), CV(1), CV(2), CV(3), IV(4), PV(5), IV(6), PV(7), IV(8), PV(9), IV(10), PV(11), IV(12));
    case R_TRSM: return FN(trsm)(CV(0), CV(1), CV(2), CV(3), IV(4), IV(5), PV(6), PV(7), IV(8), PV(9), IV(10));
    case R_TRSM_FWD:
        return FN(trsm_fwd)(UV(0), CV(1), CV(2), CV(3), CV(4), IV(5), IV(6), PV(7), PV(8), PV(9), IV(10), PV(11), IV(12),
                            PV(13), IV(14), PV(15), IV(16));
    case R_TRSM_REV:
        return FN(trsm_rev)(UV(0), CV(1), CV(2), CV(3), CV(4), IV(5), IV(6), PV(7), PV(8), IV(9), PV(10), IV(11), PV(12),
                            IV(13), PV(14), IV(15), PV(16), IV(17), PV(18));
    case R_GETRF: return FN(getrf)(IV(0), IV(1), PV(2), IV(3), PV(4));
    case R_GETRF_FWD: return FN(getrf_fwd)(UV(0), IV(1), IV(2), PV(3), IV(4), PV(5), PV(6), IV(7));
    case R_GETRF_REV: return FN(getrf_rev)(UV(0), IV(1), IV(2), PV(3), IV(4), PV(5), PV(6), IV(7));
    case R_GETRS: return FN(getrs)(CV(0), IV(1), IV(2), PV(3), IV(4), PV(5), PV(6), IV(7));
    case R_GETRS_FWD:
        return FN(getrs_fwd)(UV(0), CV(1), IV(2), IV(3), PV(4), IV(5), PV(6), IV(7), PV(8), PV(9), IV(10), PV(11), IV(12));
    case R_GETRS_REV:
        return FN(getrs_rev)(UV(0), CV(1), IV(2), IV(3), PV(4), IV(5), PV(6), IV(7), PV(8), PV(9), IV(10), PV(11), IV(12));
    case R_GESV: return FN(gesv)(IV(0), IV(1), PV(2), IV(3), PV(4), PV(5), IV(6));
    case R_GESV_FWD:
        return FN(gesv_fwd)(UV(0), IV(1), IV(2), PV(3), IV(4), PV(5), IV(6), PV(7), PV(8), IV(9), PV(10), IV(11));
    case R_GESV_REV:
        return FN(gesv_rev)(UV(0), IV(1), IV(2), PV(3), IV(4), PV(5), PV(6), IV(7), PV(8), IV(9), PV(10), IV(11));
    case R_POTRF: return FN(potrf)(CV(0), IV(1), PV(2), IV(3));
    case R_POTRF_FWD: return FN(potrf_fwd)(UV(0), CV(1), IV(2), PV(3), IV(4), PV(5), IV(6));
    case R_POTRF_REV: return FN(potrf_rev)(UV(0), CV(1), IV(2), PV(3), IV(4), PV(5), IV(6));
    case R_POTRS: return FN(potrs)(CV(0), IV(1), IV(2), PV(3), IV(4), PV(5), IV(6));
    case R_POTRS_FWD:
        return FN(potrs_fwd)(UV(0), CV(1), IV(2), IV(3), PV(4), IV(5), PV(6), IV(7), PV(8), IV(9), PV(10), IV(11));
    case R_POTRS_REV:
        return FN(potrs_rev)(UV(0), CV(1), IV(2), IV(3), PV(4), IV(5), PV(6), IV(7), PV(8), IV(9), PV(10), IV(11));
    case R_POSV: return FN(posv)(CV(0), IV(1), IV(2), PV(3), IV(4), PV(5), IV(6));
    case R_POSV_FWD:
        return FN(posv_fwd)(UV(0), CV(1), IV(2), IV(3), PV(4), IV(5), PV(6), IV(7), PV(8), IV(9), PV(10), IV(11));
    case R_POSV_REV:
        return FN(posv_rev)(UV(0), CV(1), IV(2), IV(3), PV(4), IV(5), PV(6), IV(7), PV(8), IV(9), PV(10), IV(11));
    case R_TRTRS: return FN(trtrs)(CV(0), CV(1), CV(2), IV(3), IV(4), PV(5), IV(6), PV(7), IV(8));
    case R_TRTRS_FWD:
        return FN(trtrs_fwd)(UV(0), CV(1), CV(2), CV(3), IV(4), IV(5), PV(6), IV(7), PV(8), IV(9), PV(10), IV(11),
                             PV(12), IV(13));
    case R_TRTRS_REV:
        return FN(trtrs_rev)(UV(0), CV(1), CV(2), CV(3), IV(4), IV(5), PV(6), IV(7), PV(8), IV(9), PV(10), IV(11),
                             PV(12), IV(13));
    case R_GETRI: return FN(getri)(IV(0), PV(1), IV(2), PV(3));
    case R_GETRI_FWD: return FN(getri_fwd)(UV(0), IV(1), PV(2), IV(3), PV(4), PV(5), IV(6));
    case R_GETRI_REV: return FN(getri_rev)(UV(0), IV(1), PV(2), IV(3), PV(4), PV(5), IV(6), PV(7), IV(8));
    case R_INV: return FN(inv)(IV(0), PV(1), IV(2), PV(3));
    case R_INV_FWD: return FN(inv_fwd)(UV(0), IV(1), PV(2), IV(3), PV(4), PV(5), IV(6));
    case R_INV_REV: return FN(inv_rev)(UV(0), IV(1), PV(2), IV(3), PV(4), IV(5));
    case R_DET: return FN(det)(IV(0), PV(1), IV(2), PV(3), PV(4));
    case R_DET_FWD: return FN(det_fwd)(UV(0), IV(1), PV(2), IV(3), PV(4), PV(5), IV(6), PV(7), PV(8));
    case R_DET_REV: return FN(det_rev)(UV(0), IV(1), PV(2), IV(3), PV(4), PV(5), PV(6), IV(7));
    case R_SLOGDET: return FN(slogdet)(IV(0), PV(1), IV(2), PV(3), PV(4), PV(5));
    case R_SLOGDET_FWD:
        return FN(slogdet_fwd)(UV(0), IV(1), PV(2), IV(3), PV(4), PV(5), IV(6), PV(7), PV(8), PV(9), PV(10));
    case R_SLOGDET_REV: return FN(slogdet_rev)(UV(0), IV(1), PV(2), IV(3), PV(4), PV(5), PV(6), PV(7), IV(8));
    case R_SLOGDET_INV: return FN(slogdet_inv)(IV(0), PV(1), IV(2), PV(3), PV(4), PV(5), PV(6));
    case R_SLOGDET_INV_REV: return FN(slogdet_inv_rev)(UV(0), IV(1), PV(2), IV(3), PV(4), PV(5), PV(6), PV(7), IV(8));
    }
    fz_fail("unknown routine %d", r);
}

/* ------------------------------------------------------------------ random arguments */
static const int HOSTILE_INTS[] = {-1, -2, INT_MIN, INT_MIN + 1, INT_MAX, INT_MAX - 1, 1 << 30, 46341, 65536,
                                   -65536};

static int hostile_int(void) {
    if (fz_pct(20)) return (int)fz_u32();
    return HOSTILE_INTS[fz_below((int)(sizeof HOSTILE_INTS / sizeof *HOSTILE_INTS))];
}

static int gen_dim(void) {
    const int r = fz_below(100);
    if (r < 45) return fz_below(5);
    if (r < 72) return 5 + fz_below(8);
    if (r < 82) return 13 + fz_below(100); /* past the recursions' base cases (48, 96) */
    return hostile_int();
}

static int gen_ld(long long rows) {
    const long long legal = max1(rows);
    if (fz_pct(80) && legal <= INT_MAX - 4) return (int)(legal + (fz_pct(60) ? 0 : fz_below(4)));
    switch (fz_below(4)) {
    case 0: return (int)(rows - 1 > INT_MIN ? rows - 1 : INT_MIN);
    case 1: return 0;
    default: return hostile_int();
    }
}

static int gen_inc(void) {
    const int r = fz_below(100);
    if (r < 60) return fz_pct(70) ? 1 : -1;
    if (r < 85) return (fz_pct(50) ? 1 : -1) * (2 + fz_below(3));
    if (r < 93) return 0;
    return hostile_int();
}

static long long gen_flag(const char *allowed) {
    if (fz_pct(88)) {
        char ch = allowed[fz_below((int)strlen(allowed))];
        if (fz_pct(30)) ch = (char)(ch - 'A' + 'a');
        return ch;
    }
    return (long long)(signed char)(fz_u32() & 0xFF); /* any byte, as the char it becomes */
}

static unsigned gen_active(void) {
    const int r = fz_below(100);
    if (r < 75) return (unsigned)fz_below(16);
    if (r < 90) return (unsigned)fz_below(16) | (fz_u32() & ~0xFu);
    return fz_u32();
}

static R rnd_real(void) { return (R)((int)fz_below(4001) - 2000) / (R)1000; }

static T rnd_value(int zero_pct) {
    const int r = fz_below(1000);
    if (r < zero_pct * 10) return 0;
    if (!case_finite && r < zero_pct * 10 + 5) return NAN_T;
    if (!case_finite && r < zero_pct * 10 + 10) return (T)INFINITY;
#if DL_IS_COMPLEX
    return rnd_real() + rnd_real() * (T)I;
#else
    return rnd_real();
#endif
}

static T gen_scalar(void) {
    const int r = fz_below(100);
    if (r < 20) return 0;
    if (r < 40) return 1;
    return rnd_value(0);
}

static void gen(const routine *rt, vals *c) {
    memset(c, 0, sizeof *c);
    c->r = rt;
    /* dims first: leading dimensions are drawn near their rows */
    for (int i = 0; i < rt->np; ++i) {
        const param *p = &rt->p[i];
        switch (p->kind) {
        case K_ACT: c->v[i] = gen_active(); break;
        case K_FLAG: c->v[i] = gen_flag(p->extra); break;
        case K_DIM: c->v[i] = gen_dim(); break;
        case K_INC: c->v[i] = gen_inc(); break;
        case K_ARR: case K_IPIV: case K_SCAL: c->isnull[i] = fz_pct(7); break;
        default: break;
        }
    }
    for (int i = 0; i < rt->np; ++i) {
        const param *p = &rt->p[i];
        if (p->kind != K_LD) continue;
        long long rows = !strcmp(p->extra, "k") ? (upper_flag(G(c, "side")) == 'L' ? G(c, "m") : G(c, "n"))
                                                : G(c, p->extra);
        c->v[i] = gen_ld(rows);
    }
    c->alpha = gen_scalar();
    c->dalpha = gen_scalar();
}

static void describe(const vals *c, const char *what) {
    size_t len = strlen(fz_case);
    len += (size_t)snprintf(fz_case + len, sizeof fz_case - len, "dl_%c%s(%s):", DL_P_CHAR, c->r->name, what);
    for (int i = 0; i < c->r->np && len < sizeof fz_case - 64; ++i) {
        const param *p = &c->r->p[i];
        switch (p->kind) {
        case K_ACT: len += (size_t)snprintf(fz_case + len, sizeof fz_case - len, " active=0x%x", UV(i)); break;
        case K_FLAG:
            len += (size_t)snprintf(fz_case + len, sizeof fz_case - len, " %s=0x%02x", p->name,
                                    (unsigned char)c->v[i]);
            break;
        case K_DIM: case K_LD: case K_INC:
            len += (size_t)snprintf(fz_case + len, sizeof fz_case - len, " %s=%d", p->name, IV(i));
            break;
        default:
            len += (size_t)snprintf(fz_case + len, sizeof fz_case - len, " %s=%s", p->name,
                                    c->isnull[i] ? "NULL" : "ptr");
        }
    }
    snprintf(fz_case + len, sizeof fz_case - len, "\n");
}

/* ------------------------------------------------------------------ one case */
static int run_case(int r, long *n_illegal, long *n_legal, long *n_pivots) {
    vals c;
    model m;
    case_finite = fz_pct(50);
    gen(&ROUTINES[r], &c);
    memset(&m, 0, sizeof m);
    m.piv_idx = -1;
    m.tri_idx = -1;
    ROUTINES[r].model(&c, &m);
    const int np = ROUTINES[r].np;

    if (m.ndef > 0) { /* illegal: nothing may be touched */
        for (int i = 0; i < np; ++i) {
            const int kind = ROUTINES[r].p[i].kind;
            if (kind != K_ARR && kind != K_IPIV && kind != K_SCAL) continue;
            if (c.isnull[i]) c.ptr[i] = NULL;
            else if (!strcmp(ROUTINES[r].p[i].name, "alpha")) c.ptr[i] = fz_readonly(&c.alpha, sizeof(T));
            else c.ptr[i] = fz_noaccess();
        }
        describe(&c, "illegal arguments, arrays inaccessible");
        const int rc = call(r, &c);
        for (int i = 0; i < m.ndef; ++i)
            if (rc == m.def[i]) { ++*n_illegal; return 1; }
        for (int i = 0; i < m.nmaybe; ++i)
            if (rc == m.maybe[i]) { ++*n_illegal; return 1; }
        char want[256] = "";
        for (int i = 0; i < m.ndef; ++i) snprintf(want + strlen(want), sizeof want - strlen(want), " %d", m.def[i]);
        for (int i = 0; i < m.nmaybe; ++i)
            snprintf(want + strlen(want), sizeof want - strlen(want), " (%d)", m.maybe[i]);
        fz_fail("returned %d for an illegal argument set; the illegal arguments' codes are%s", rc, want);
    }

    /* legal: exact-size buffers */
    for (int i = 0; i < np; ++i)
        if (!c.isnull[i] && m.lay[i].set && m.lay[i].mode != M_NONE && elements(&m.lay[i]) > CAP_ELEMENTS)
            return 0;
    fz_buf bufs[MAXP];
    memset(bufs, 0, sizeof bufs);
    for (int i = 0; i < np; ++i) {
        const param *p = &ROUTINES[r].p[i];
        if (p->kind != K_ARR && p->kind != K_IPIV && p->kind != K_SCAL) continue;
        const layout *l = &m.lay[i];
        if (c.isnull[i]) { c.ptr[i] = NULL; continue; }
        if (!l->set || l->mode == M_NONE) { c.ptr[i] = fz_noaccess(); continue; }
        const long long count = elements(l);
        if (l->is_int) {
            int *v = fz_guarded(&bufs[i], sizeof(int) * (size_t)count);
            for (long long e = 0; e < count; ++e)
                v[e] = (i == m.piv_idx) ? 1 + fz_below((int)(m.piv_max > 0 ? m.piv_max : 1)) : (int)fz_u32();
            c.ptr[i] = v;
        } else if (l->is_real) {
            R *v = fz_guarded(&bufs[i], sizeof(R) * (size_t)count);
            for (long long e = 0; e < count; ++e) v[e] = REAL(p->kind == K_SCAL ? gen_scalar() : rnd_value(4));
            c.ptr[i] = v;
        } else {
            T *v = fz_guarded(&bufs[i], sizeof(T) * (size_t)count);
            const int all_zero = fz_pct(8);
            for (long long e = 0; e < count; ++e) v[e] = all_zero ? 0 : rnd_value(4);
            if (p->kind == K_SCAL && !all_zero) v[0] = gen_scalar();
            if (!strcmp(p->name, "alpha")) v[0] = c.alpha;
            if (!strcmp(p->name, "dalpha")) v[0] = c.dalpha;
            c.ptr[i] = v;
        }
    }
    if (ROUTINES[r].prepare) ROUTINES[r].prepare(&c, &m);
    int bad_pivot = 0;
    if (m.piv_idx >= 0 && m.piv_count > 0 && !c.isnull[m.piv_idx] && fz_pct(20)) {
        static const int wrong[] = {0, -1, INT_MIN, INT_MAX};
        int *v = c.ptr[m.piv_idx];
        const int which = fz_below((int)min2(m.piv_count, INT_MAX));
        const int pick = fz_below(5);
        v[which] = pick == 4 ? (int)min2(m.piv_max + 1, INT_MAX) : wrong[pick];
        bad_pivot = 1;
    }
    if (!bad_pivot && ROUTINES[r].expect) ROUTINES[r].expect(&c, &m);
    for (int i = 0; i < np; ++i)
        if (bufs[i].map) fz_snapshot(&bufs[i]);
    describe(&c, bad_pivot ? "legal sizes, one pivot out of range" : "legal arguments, exact-size buffers");

    const int rc = call(r, &c);

    const int rejected = bad_pivot || rc < 0; /* a rejected call touches nothing */
    for (int i = 0; i < np; ++i) {
        if (!bufs[i].map) continue;
        const char *name = ROUTINES[r].p[i].name;
        if (!fz_guards_intact(&bufs[i])) fz_fail("%s: memory written outside [buffer, buffer + size)", name);
        const layout *l = &m.lay[i];
        const size_t esize = l->is_int ? sizeof(int) : l->is_real ? sizeof(R) : sizeof(T);
        const long long count = elements(l);
        for (long long e = 0; e < count; ++e) {
            if (!memcmp(bufs[i].data + e * esize, bufs[i].snapshot + e * esize, esize)) continue;
            if (rejected) fz_fail("%s[%lld] modified although the call was rejected (rc %d)", name, e, rc);
            if (l->mode == M_CONST) fz_fail("read-only argument %s modified at element %lld", name, e);
            if (!writable(l, e))
                fz_fail("%s: element %lld modified, outside the %s the kernel may write", name, e,
                        l->is_vec ? "vector's increments" : l->mode == M_OUT_TRI ? "referenced triangle" : "matrix");
        }
    }
    if (bad_pivot) {
        if (rc != m.piv_code) fz_fail("returned %d for a pivot out of range; want %d", rc, m.piv_code);
        ++*n_pivots;
    } else {
        if (m.exact && rc != m.want)
            fz_fail("returned %d; the documented result for these inputs is %lld", rc, m.want);
        if (!m.exact && (rc < 0 || rc > m.max_info))
            fz_fail("returned %d for legal arguments; want 0 or a zero-pivot position in 1..%lld", rc, m.max_info);
        if (m.tri_idx >= 0 && rc != first_zero_diagonal(&m, (const T *)c.ptr[m.tri_idx]))
            fz_fail("returned %d; the first zero diagonal entry of A is at %lld (0: none)", rc,
                    first_zero_diagonal(&m, (const T *)c.ptr[m.tri_idx]));
        if (ROUTINES[r].post) ROUTINES[r].post(&c, &m, rc, bufs);
        ++*n_legal;
    }
    for (int i = 0; i < np; ++i) fz_release(&bufs[i]);
    return 1;
}

static const char *routine_name(int r) { return ROUTINES[r].name; }

/* The fuzzer's description of every kernel against the header's table: the same kernels in
 * the same order, each with the header's parameter names in order (so that the models read
 * the arguments they mean); and one line per kernel for `fuzz_kernels -l`. */
#define FZ_KERNEL_ROW(p, name, params) {#name, #params},
static const struct { const char *name, *params; } TABLE[] = {DL_KERNELS(FZ_KERNEL_ROW, DL_P, T, R)};

static int check_table(FILE *list) {
    for (int r = 0; r < R_COUNT; ++r) {
        const routine *rt = &ROUTINES[r];
        if (!rt->name || strcmp(rt->name, TABLE[r].name)) {
            fprintf(stderr, "fuzz_kernels: kernel %d of DL_KERNELS is %s, the fuzzer's is %s\n", r, TABLE[r].name,
                    rt->name ? rt->name : "(none)");
            return 1;
        }
        /* the parameter names: the last identifier before each ',' or ')' */
        const char *t = TABLE[r].params;
        int i = 0;
        while (*t) {
            const char *end = t + strcspn(t, ",)");
            const char *id = end;
            while (id > t && (id[-1] == '_' || (id[-1] >= '0' && id[-1] <= '9') || (id[-1] >= 'a' && id[-1] <= 'z') ||
                              (id[-1] >= 'A' && id[-1] <= 'Z')))
                --id;
            if (end > id) {
                const char *nm = id;
                size_t len = (size_t)(end - id);
                /* a parameter named X (trsm_rev's solution) is replaced by the X-macro's
                 * argument in the header's expansion: FZ_KERNEL_ROW here */
                if (len == 13 && !strncmp(id, "FZ_KERNEL_ROW", 13)) nm = "X", len = 1;
                if (i >= rt->np || strlen(rt->p[i].name) != len || strncmp(rt->p[i].name, nm, len)) {
                    fprintf(stderr, "fuzz_kernels: dl_%c%s: parameter %d is %.*s in the header, %s in the fuzzer\n",
                            DL_P_CHAR, rt->name, i + 1, (int)len, nm, i < rt->np ? rt->p[i].name : "(none)");
                    return 1;
                }
                ++i;
            }
            t = *end ? end + 1 : end;
        }
        if (i != rt->np) {
            fprintf(stderr, "fuzz_kernels: dl_%c%s has %d parameters in the header, %d in the fuzzer\n", DL_P_CHAR,
                    rt->name, i, rt->np);
            return 1;
        }
        if (list) {
            fprintf(list, "dl_%c%s", DL_P_CHAR, rt->name);
            for (int k = 0; k < rt->np; ++k) fprintf(list, " %s", rt->p[k].name);
            fprintf(list, "\n");
        }
    }
    return 0;
}

#define FZ_CAT_(a, b) a##b
#define FZ_CAT(a, b) FZ_CAT_(a, b)
const fz_precision FZ_CAT(fz_precision_, DL_P) = {DL_P_CHAR, R_COUNT, routine_name, run_case, check_table};
