/* enzyme_capi.c -- what the C interfaces add before the Fortran-level call of the Enzyme layer
 * (difflapack_enzyme_capi.h): OpenBLAS's CBLAS flag translation and argument checks, and
 * LAPACKE's layout check, NaN check and row-major leading-dimension checks. All inactive for
 * Enzyme (they read flags, sizes and primal values only).
 *
 * The semantics are those of the installed libraries, established and verified bit for bit in
 * docs/design/lapacke_cblas_semantics.md (sections cited below) and executable in
 * tests/_lapacke_model.py. Argument errors the libraries detect below this layer (the Fortran
 * routine's) are reported by the setup calls of enzyme_glue.c, through the routine itself.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "enzyme_glue.h"
#define DIFFLAPACK_ENZYME_GLUE_ONLY
#include "difflapack_enzyme.h"

/* OpenBLAS's CBLAS (libopenblas, LP64), called only to report an argument error. Enumerations
 * are ints here: same values, same calling convention. */
void cblas_strsv(int, int, int, int, int, const void *, int, void *, int);
void cblas_dtrsv(int, int, int, int, int, const void *, int, void *, int);
void cblas_ctrsv(int, int, int, int, int, const void *, int, void *, int);
void cblas_ztrsv(int, int, int, int, int, const void *, int, void *, int);
void cblas_strsm(int, int, int, int, int, int, int, float, const void *, int, void *, int);
void cblas_dtrsm(int, int, int, int, int, int, int, double, const void *, int, void *, int);
void cblas_ctrsm(int, int, int, int, int, int, int, const void *, const void *, int, void *, int);
void cblas_ztrsm(int, int, int, int, int, int, int, const void *, const void *, int, void *, int);

enum { ROW_MAJOR = 101, COL_MAJOR = 102 };
enum { NO_TRANS = 111, TRANS = 112, CONJ_TRANS = 113, CONJ_NO_TRANS = 114 };
enum { UPPER = 121, LOWER = 122, NON_UNIT = 131, UNIT = 132, LEFT = 141, RIGHT = 142 };

/* ------------------------------------------------------------------ CBLAS (sec. 5) */
/* The kernel letter of a CBLAS trans value in the storage's own (column-major) view, or 0.
 * Row-major trsv sees op(A) of the transposed storage: N <-> T, and for complex data
 * ConjTrans becomes conj(A) ('R') and ConjNoTrans becomes 'C'; for real data the conjugations
 * are no-ops. trsm keeps trans in both layouts (it flips side and uplo instead). */
static char cblas_trans(int prec, int trans, int flip) {
    const int cplx = dle_is_complex(prec);
    switch (trans) {
    case NO_TRANS: return flip ? 'T' : 'N';
    case TRANS: return flip ? 'N' : 'T';
    case CONJ_NO_TRANS: return flip ? (cplx ? 'C' : 'T') : (cplx ? 'R' : 'N');
    case CONJ_TRANS: return flip ? (cplx ? 'R' : 'N') : (cplx ? 'C' : 'T');
    default: return 0;
    }
}
static char cblas_uplo(int uplo, int flip) {
    return uplo == UPPER ? (flip ? 'L' : 'U') : uplo == LOWER ? (flip ? 'U' : 'L') : 0;
}
static char cblas_diag(int diag) { return diag == UNIT ? 'U' : diag == NON_UNIT ? 'N' : 0; }
static char cblas_side(int side, int flip) {
    return side == LEFT ? (flip ? 'R' : 'L') : side == RIGHT ? (flip ? 'L' : 'R') : 0;
}

/* OpenBLAS's checks of cblas_?trsv: order, then (the lowest number wins) uplo 1, trans 2,
 * diag 3, n 4, lda 6 (also for n = 0), incx 8; parameters are numbered as in ?trsv_. */
int dle_cblas_trsv(int prec, int order, int uplo, int trans, int diag, int n, int lda, int incx, char *flags) {
    const int flip = order == ROW_MAJOR;
    flags[0] = cblas_uplo(uplo, flip);
    flags[1] = cblas_trans(prec, trans, flip);
    flags[2] = cblas_diag(diag);
    if ((order == ROW_MAJOR || order == COL_MAJOR) && flags[0] && flags[1] && flags[2] && n >= 0 &&
        lda >= dl_max(1, n) && incx != 0)
        return 0;
    /* the library prints its own message; no array is touched */
#define CALL(p) cblas_##p##trsv(order, uplo, trans, diag, n, NULL, lda, NULL, incx)
    DLE_BY_PRECISION(prec, CALL)
#undef CALL
    return -1;
}

/* cblas_?trsm: row-major is the column-major routine on the same storage with m and n swapped
 * and side and uplo flipped; the checks run on the swapped values (side 1, uplo 2, trans 3,
 * diag 4, m 5, n 6, lda 9 against the kernel's side, ldb 11). dims gets the kernel's m, n. */
int dle_cblas_trsm(int prec, int order, int side, int uplo, int transa, int diag, int m, int n, int lda, int ldb,
                   char *flags, int *dims) {
    const int flip = order == ROW_MAJOR;
    const int km = flip ? n : m, kn = flip ? m : n;
    flags[0] = cblas_side(side, flip);
    flags[1] = cblas_uplo(uplo, flip);
    flags[2] = cblas_trans(prec, transa, 0);
    flags[3] = cblas_diag(diag);
    dims[0] = km;
    dims[1] = kn;
    if ((order == ROW_MAJOR || order == COL_MAJOR) && flags[0] && flags[1] && flags[2] && flags[3] && km >= 0 &&
        kn >= 0 && lda >= dl_max(1, flags[0] == 'L' ? km : kn) && ldb >= dl_max(1, km))
        return 0;
    static const double zero[2]; /* alpha (not read): real data by value, complex by address */
    switch (prec) {
    case 's': cblas_strsm(order, side, uplo, transa, diag, m, n, 0.0f, NULL, lda, NULL, ldb); break;
    case 'd': cblas_dtrsm(order, side, uplo, transa, diag, m, n, 0.0, NULL, lda, NULL, ldb); break;
    case 'c': cblas_ctrsm(order, side, uplo, transa, diag, m, n, zero, NULL, lda, NULL, ldb); break;
    default: cblas_ztrsm(order, side, uplo, transa, diag, m, n, zero, NULL, lda, NULL, ldb); break;
    }
    return -1;
}

/* ------------------------------------------------------------------ LAPACKE (sec. 3, 4) */
/* What LAPACKE_?<name>[_work] checks itself: the arrays its high-level form scans for NaN and
 * the values it returns then, and its row-major leading-dimension checks (ld < the row length,
 * not max(1, .)) and their values. Array 'a' has leading dimension lda, 'b' ldb. */
typedef struct {
    char array;  /* 'a', 'b'; 0 ends the list */
    char shape;  /* general blocks 'M': m x n, 'N': n x n, 'R': n x nrhs; 'T': the uplo triangle
                    of an n x n matrix, without a unit diagonal (tr); 'P': with the diagonal (po) */
    int value;
} nan_check;

typedef struct {
    char array;  /* 'a' (lda), 'b' (ldb); 0 ends the list */
    char bound;  /* 'n' or 'r' (nrhs) */
    int value;
} ld_check;

typedef struct {
    const char *name;      /* the routine name without the precision letter */
    nan_check nan[2];
    ld_check ld[2];
    char rows_of_a;        /* 'm' or 'n': rows of a, the temporary's leading dimension */
} lapacke_routine;

static const lapacke_routine LAPACKE_ROUTINES[] = {
    [DLE_LAPACKE_GETRF] = {"getrf", {{'a', 'M', -4}}, {{'a', 'n', -5}}, 'm'},
    [DLE_LAPACKE_GETRS] = {"getrs", {{'a', 'N', -5}, {'b', 'R', -8}}, {{'a', 'n', -6}, {'b', 'r', -9}}, 'n'},
    [DLE_LAPACKE_GESV] = {"gesv", {{'a', 'N', -4}, {'b', 'R', -7}}, {{'a', 'n', -5}, {'b', 'r', -8}}, 'n'},
    [DLE_LAPACKE_GETRI] = {"getri", {{'a', 'N', -3}}, {{'a', 'n', -4}}, 'n'},
    [DLE_LAPACKE_TRTRS] = {"trtrs", {{'a', 'T', -7}, {'b', 'R', -9}}, {{'a', 'n', -8}, {'b', 'r', -10}}, 'n'},
    [DLE_LAPACKE_POTRF] = {"potrf", {{'a', 'P', -4}}, {{'a', 'n', -5}}, 'n'},
    [DLE_LAPACKE_POTRS] = {"potrs", {{'a', 'P', -5}, {'b', 'R', -7}}, {{'a', 'n', -6}, {'b', 'r', -8}}, 'n'},
    [DLE_LAPACKE_POSV] = {"posv", {{'a', 'P', -5}, {'b', 'R', -7}}, {{'a', 'n', -6}, {'b', 'r', -8}}, 'n'},
};

/* LAPACKE_xerbla: printf("Wrong parameter %d in %s\n"), on stdout like LAPACKE's. */
static void lapacke_xerbla(int prec, const char *routine, int work_form, int info) {
    printf("Wrong parameter %d in LAPACKE_%c%s%s\n", -info, (char)prec, routine, work_form ? "_work" : "");
}

/* LAPACKE_get_nancheck() of liblapacke when the process has it (global scope, looked up until
 * found: it may be loaded later); otherwise LAPACKE's own default: the environment variable
 * LAPACKE_NANCHECK, read once (atoi != 0), on when unset (lapacke_nancheck.c). */
static int nancheck_enabled(void) {
    typedef int (*flag_fn)(void);
    static flag_fn lapacke_flag;
    static int own_flag = -1;
    if (!lapacke_flag) lapacke_flag = (flag_fn)dlsym(RTLD_DEFAULT, "LAPACKE_get_nancheck");
    if (lapacke_flag) return lapacke_flag();
    if (own_flag < 0) {
        const char *env = getenv("LAPACKE_NANCHECK");
        own_flag = env ? atoi(env) != 0 : 1;
    }
    return own_flag;
}

static int is_nan_element(int prec, const void *a, size_t k) {
    switch (prec) {
    case 's': { float v = ((const float *)a)[k]; return v != v; }
    case 'd': { double v = ((const double *)a)[k]; return v != v; }
    case 'c': { const float *v = (const float *)a + 2 * k; return v[0] != v[0] || v[1] != v[1]; }
    default: { const double *v = (const double *)a + 2 * k; return v[0] != v[0] || v[1] != v[1]; }
    }
}

/* LAPACKE_?ge_nancheck: column-major scans j < n, i < min(m, lda) at a[i + j lda]; row-major
 * i < m, j < min(n, lda) at a[i lda + j]: with an invalid lda the scan is clipped. */
static int general_has_nan(int prec, int layout, int m, int n, const void *a, int lda) {
    if (!a) return 0;
    const int outer = layout == COL_MAJOR ? n : m, inner = layout == COL_MAJOR ? m : n;
    const int stop = inner < lda ? inner : lda;
    for (int o = 0; o < outer; ++o)
        for (int i = 0; i < stop; ++i)
            if (is_nan_element(prec, a, (size_t)i + (size_t)o * (size_t)lda)) return 1;
    return 0;
}

/* LAPACKE_?tr_nancheck (po: diag 'n'): the triangle LAPACKE_?tr_trans copies, clipped by lda:
 * j from st (1 for a unit diagonal) with i < min(j + 1 - st, lda) for column-major upper and
 * row-major lower (the same storage pattern), else j < n - st with j + st <= i < min(n, lda).
 * Flags are compared case-insensitively (LAPACKE_lsame); an invalid one: no NaN. */
static int triangle_has_nan(int prec, int layout, char uplo, char diag, int n, const void *a, int lda) {
    const char u = dl_flag(uplo, "UL"), d = dl_flag(diag, "UN");
    if (!a || !u || !d) return 0;
    const int st = d == 'U', colmaj = layout == COL_MAJOR, lower = u == 'L';
    if (colmaj != lower) { /* column-major upper, row-major lower */
        for (int j = st; j < n; ++j)
            for (int i = 0; i < j + 1 - st && i < lda; ++i)
                if (is_nan_element(prec, a, (size_t)i + (size_t)j * (size_t)lda)) return 1;
    } else {
        for (int j = 0; j < n - st; ++j)
            for (int i = j + st; i < n && i < lda; ++i)
                if (is_nan_element(prec, a, (size_t)i + (size_t)j * (size_t)lda)) return 1;
    }
    return 0;
}

/* LAPACKE_?getri's workspace query, through LAPACKE_?getri_work(..., lwork = -1): the Fortran
 * query with the caller's lda (row-major: lda_t = max(1, n)); it reports an argument error
 * itself. Returns 0 and the size (the real part of work[0], as LAPACK_Z2INT reads it) in
 * *lwork, or LAPACKE's return value. */
static int getri_query(int prec, int n, int lda, int *lwork) {
    int info = 0, query = -1;
    double w[2] = {0, 0};
    float wf[2] = {0, 0};
    switch (prec) {
    case 's': sgetri_(&n, NULL, &lda, NULL, wf, &query, &info); *lwork = (int)wf[0]; break;
    case 'd': dgetri_(&n, NULL, &lda, NULL, w, &query, &info); *lwork = (int)w[0]; break;
    case 'c': cgetri_(&n, NULL, &lda, NULL, (float _Complex *)wf, &query, &info); *lwork = (int)wf[0]; break;
    default: zgetri_(&n, NULL, &lda, NULL, (double _Complex *)w, &query, &info); *lwork = (int)w[0]; break;
    }
    return info < 0 ? info - 1 : info;
}

/* Returns 0 when the call proceeds to its Fortran-level routine, with the leading dimensions
 * to give it in *lda_f, *ldb_f (the caller's, or for a row-major call those of LAPACKE's
 * column-major temporaries, max(1, rows), after announcing the row-major call to the next setup
 * call), and for the high-level LAPACKE_?getri the lwork of its workspace query in *lwork;
 * otherwise LAPACKE's return value, after printing what LAPACKE prints. uplo, diag: the flags
 * of the triangle the NaN check scans (trtrs, potrf, potrs, posv). */
int dle_lapacke_prologue(int routine, int prec, int high_level, int layout, int m, int n, int nrhs,
                         const void *a, int lda, const void *b, int ldb, char uplo, char diag, int *lda_f,
                         int *ldb_f, int *lwork) {
    const lapacke_routine *r = &LAPACKE_ROUTINES[routine];
    if (layout != ROW_MAJOR && layout != COL_MAJOR) {
        lapacke_xerbla(prec, r->name, !high_level, -1);
        return -1;
    }
    if (high_level && nancheck_enabled()) {
        for (const nan_check *c = r->nan; c < r->nan + 2 && c->array; ++c) {
            const void *x = c->array == 'a' ? a : b;
            const int ld = c->array == 'a' ? lda : ldb;
            int hit;
            if (c->shape == 'T' || c->shape == 'P') {
                hit = triangle_has_nan(prec, layout, uplo, c->shape == 'T' ? diag : 'N', n, x, ld);
            } else {
                const int rows = c->shape == 'M' ? m : n, cols = c->shape == 'R' ? nrhs : n;
                hit = general_has_nan(prec, layout, rows, cols, x, ld);
            }
            if (hit) return c->value;
        }
    }
    *lda_f = lda;
    *ldb_f = ldb;
    if (layout == ROW_MAJOR) {
        for (const ld_check *c = r->ld; c < r->ld + 2 && c->array; ++c) {
            if ((c->array == 'a' ? lda : ldb) < (c->bound == 'n' ? n : nrhs)) {
                lapacke_xerbla(prec, r->name, 1, c->value);
                return c->value;
            }
        }
        *lda_f = dl_max(1, r->rows_of_a == 'm' ? m : n);
        *ldb_f = dl_max(1, n);
    }
    if (routine == DLE_LAPACKE_GETRI && high_level) {
        const int rc = getri_query(prec, n, *lda_f, lwork);
        if (rc != 0) return rc;
    }
    if (layout == ROW_MAJOR) dle_announce_row_major(lda, ldb);
    return 0;
}
