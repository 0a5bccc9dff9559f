/* enzyme_rules.h -- what the Enzyme layer's per-routine handlers share (tape copies, the
 * one-column guard, the library's zero-diagonal test) and the conventions they follow. The
 * handlers behind the compute kernel of difflapack_enzyme.h are in enzyme_rules_triangular.c
 * (trsv, trsm, trtrs), enzyme_rules_lu.c (getrf, getrs, gesv, getri) and enzyme_rules_cholesky.c
 * (potrf, potrs, posv); each precision's dispatch table is enzyme_rules.c. Each handler gives the
 * primal, forward rule (fused primal + tangent), augmented forward pass (primal + tape) and
 * reverse rule (adjoint) of one interposed routine, written once over the element type T
 * (compiled for s, d, c, z; see precision.h) on top of the core kernels.
 *
 * The record (dle_rec) holds what the setup and set calls of the current call recorded. The
 * caller may overwrite inputs and outputs before the reverse pass and Enzyme tapes nothing for
 * custom rules, so each augmented pass copies exactly what its adjoint needs into its tape; the
 * reverse rules read only the tape and the shadows they are handed (a read-only input's shadow
 * through dle_take_bound_*, which is only valid in the reverse pass: see difflapack_enzyme.h).
 *
 * Primal results are bitwise the library's in every mode: the primal, the augmented pass and
 * the primal solve inside each fused forward kernel (the *_fwd_solving variants) all call the
 * BLAS/LAPACK routine the caller called (?gesv_ and ?posv_ in one call each, ?trtrs_, ?getri_
 * with the caller's lwork), with the caller's flags. Where a rule must know before the primal
 * whether LAPACK will find an exactly zero diagonal entry (?trtrs, ?getri leave their buffer
 * unchanged then), it asks the library's own test (library_zero_diagonal). op(A) = conj(A)
 * (trans 'R', complex data, an OpenBLAS extension that CBLAS row-major ConjTrans maps to) has
 * no kernel of its own: as conj(A) X = B is A conj(X) = conj(B), the rules run the 'N' kernels
 * on conjugated data (the cotangent of conj(z) is the conjugate of z's, the convention
 * zbar = dL/dRe z + i dL/dIm z), while the primal solve stays the library's 'R' routine (its bits
 * differ from the conjugated 'N' solve: measured for n >= 65 in single precision).
 *
 * No library solve reads past a caller's one-column complex right-hand side (OpenBLAS 0.3.21's
 * ?trsv 'U' 'N' / 'R' does, and so do ?trtrs_ and, with several threads, ?getrs_ and ?gesv_ on
 * one column: see IFN(trsv) in internal.h): such calls run on a padded copy (column_guard).
 */
#ifndef DIFFLAPACK_ENZYME_RULES_H
#define DIFFLAPACK_ENZYME_RULES_H
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "precision.h"
#include "internal.h"
#include "enzyme_glue.h"

/* The handler of routine r in this precision: dle_d_trsv_rule, ... */
#define DLE_RULE(r) DL_CAT3(dle_, DL_P, _##r##_rule)

static const T ONE_T = 1;

static inline T *tape_matrix(const char *uplo, int m, int n, const T *A, int lda) {
    const int ldc = dl_max(1, m);
    T *C = (T *)dle_tape_alloc(sizeof(T) * (size_t)ldc * (size_t)dl_max(n, 1));
    if (m > 0 && n > 0) BLAS(lacpy)(uplo, &m, &n, A, &lda, C, &ldc);
    return C;
}

/* A contiguous copy of the strided vector x (BLAS order for a negative increment). */
static inline T *tape_vector(int n, const T *x, int incx) {
    const int one = 1;
    T *c = (T *)dle_tape_alloc(sizeof(T) * (size_t)dl_max(n, 1));
    if (n > 0) BLAS(copy)(&n, x, &incx, c, &one);
    return c;
}

static inline void *new_tape(size_t bytes, int op) {
    /* aborts if out of memory: never run on without the tape (the gradient would be wrong) */
    dle_tape_head *h = (dle_tape_head *)dle_checked_alloc(bytes);
    memset(h, 0, bytes);
    h->op = op;
    h->prec = DL_P_CHAR;
    return h;
}

static inline unsigned matrix_activity(int active) { return active ? DL_ACTIVE_A : 0u; }

/* op(A) = conj(A): the rules run on conjugated data (see the top of this file). */
static inline int conj_op(char trans) { return DL_IS_COMPLEX && trans == 'R'; }

/* The n x nrhs right-hand side a library solve works on: the caller's B, or for one complex
 * column longer than DL_TRSV_SAFE_N a padded copy (leading dimension n), which the library may
 * read one element past; column_done copies the result back. */
typedef struct {
    T *user, *pad;
    int n;
} column_guard;

static inline T *guard_column(column_guard *g, int n, int nrhs, T *B, int *ldb) {
    g->user = B;
    g->pad = NULL;
    g->n = n;
    if (!DL_IS_COMPLEX || nrhs != 1 || n <= DL_TRSV_SAFE_N) return B;
    g->pad = (T *)dle_checked_alloc(sizeof(T) * ((size_t)n + DL_TRSV_PAD));
    memcpy(g->pad, B, sizeof(T) * (size_t)n);
    for (int i = n; i < n + DL_TRSV_PAD; ++i) g->pad[i] = 0;
    *ldb = n;
    return g->pad;
}

static inline void column_done(column_guard *g) {
    if (!g->pad) return;
    memcpy(g->user, g->pad, sizeof(T) * (size_t)g->n);
    dl_free(g->pad);
}

/* The library's own test for an exactly zero diagonal entry of the n x n triangle, as OpenBLAS's
 * ?trtrs_ and ?trtri_ (which ?getri_ runs) make it before touching anything: the minimum of
 * |A(i,i)| (complex: |re| + |im|) by its ?amin kernel; if that is 0, the 1-based position of the
 * minimum by ?iamin (a NaN before the first zero is reported instead of it). 0: no zero. */
static inline int library_zero_diagonal(int n, const T *A, int lda) {
    if (n <= 0) return 0;
    if (lda == INT_MAX) return IFN(first_zero_diagonal)(n, A, lda); /* a stride the library overflows */
    const int inc = lda + 1;
#if defined(DL_PREC_S)
    return samin_(&n, A, &inc) == 0 ? isamin_(&n, A, &inc) : 0;
#elif defined(DL_PREC_D)
    return damin_(&n, A, &inc) == 0 ? idamin_(&n, A, &inc) : 0;
#elif defined(DL_PREC_C)
    return scamin_(&n, A, &inc) == 0 ? icamin_(&n, A, &inc) : 0;
#else
    return dzamin_(&n, A, &inc) == 0 ? izamin_(&n, A, &inc) : 0;
#endif
}

/* A copy of the m x n matrix M for a rule: conjugated when the rule runs on conjugated data. */
static inline T *tape_rule_view(int conj, int m, int n, const T *M, int ld) {
    T *C = tape_matrix("A", m, n, M, ld);
    if (conj) IFN(conj_matrix)(m, n, C, dl_max(1, m));
    return C;
}

extern const dle_handler DLE_RULE(trsv), DLE_RULE(trsm), DLE_RULE(trtrs), DLE_RULE(getrf), DLE_RULE(getrs),
    DLE_RULE(gesv_factor), DLE_RULE(gesv_solve), DLE_RULE(getri), DLE_RULE(potrf), DLE_RULE(potrs),
    DLE_RULE(posv_factor), DLE_RULE(posv_solve);

#endif
