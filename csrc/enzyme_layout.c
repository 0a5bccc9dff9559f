/* enzyme_layout.c -- LAPACKE's row-major calls under Enzyme, written once over the element type
 * T (compiled for s, d, c, z; see precision.h).
 *
 * LAPACKE runs a row-major call as "copy the matrices into column-major temporaries, call the
 * Fortran routine, copy the outputs back" (docs/design/lapacke_cblas_semantics.md, sec. 3.3).
 * The row-major handler below does the same INSIDE each rule of the compute call, for the
 * primal data and for its shadow: the column-major handler of the routine runs on temporaries
 * it allocates and frees itself. So Enzyme sees exactly the one-array kernels of a
 * column-major call, on the caller's own (row-major) arrays: no heap temporaries whose shadows
 * Enzyme would have to allocate, keep from the augmented to the reverse pass and free, and no
 * copy loops to differentiate. The result is bitwise LAPACKE's: the same copies (only the
 * logical block, or the triangle LAPACKE copies), the same routine on the same values (the
 * leading dimension of the temporary does not change the bits, V17 in the design note).
 *
 * Per rule: primal / forward: the compute call's array x (and its tangent), the read-only
 * matrix A (and its tangent) and gesv's / posv's right-hand sides are copied in; x (and its tangent)
 * and the right-hand sides are copied back. Augmented: the same for the primal data; the inner
 * handler tapes column-major copies, wrapped in a tape that remembers the layout. Reverse: x's
 * cotangent is copied in and back; A's cotangent is accumulated in a zeroed temporary (rebound
 * in place of the caller's shadow) and added to the caller's shadow.
 */
#include <stdlib.h>
#include <string.h>
#include "precision.h"
#include "internal.h"
#include "enzyme_glue.h"

#define ROW_MAJOR DL_CAT3(dle_, DL_P, _row_major)

/* element (i, j) of a block: row-major in the caller's array, column-major in a temporary */
#define USER(p, b, i, j) ((p)[(size_t)(i) * (size_t)(b)->ld + (size_t)(j)])
#define TEMP(p, b, i, j) ((p)[(size_t)(i) + (size_t)(j) * (size_t)temp_ld(b)])

static int temp_ld(const dle_block *b) { return dl_max(1, b->rows); }

/* Whether (i, j) is copied: the whole block, one triangle with its diagonal (LAPACKE's po
 * copies), or without it (its tr copies of a unit triangle). */
static int in_part(const dle_block *b, int i, int j) {
    switch (b->part) {
    case 'G': return 1;
    case 'U': return i <= j;
    case 'L': return i >= j;
    case 'u': return i < j;
    default: return i > j;
    }
}

/* A zeroed column-major temporary of the block (never NULL: aborts if out of memory). */
static T *new_temp(const dle_block *b) {
    const size_t count = (size_t)temp_ld(b) * (size_t)dl_max(1, b->cols);
    T *t = (T *)dle_checked_alloc(sizeof(T) * count);
    memset(t, 0, sizeof(T) * count);
    return t;
}

static T *copy_in(const dle_block *b, const void *user) {
    T *t = new_temp(b);
    const T *u = (const T *)user;
    for (int i = 0; i < b->rows; ++i)
        for (int j = 0; j < b->cols; ++j)
            if (in_part(b, i, j)) TEMP(t, b, i, j) = USER(u, b, i, j);
    return t;
}

static void copy_out(const dle_block *b, const T *t, void *user) {
    T *u = (T *)user;
    for (int i = 0; i < b->rows; ++i)
        for (int j = 0; j < b->cols; ++j)
            if (in_part(b, i, j)) USER(u, b, i, j) = TEMP(t, b, i, j);
}

static void add_out(const dle_block *b, const T *t, void *user) {
    T *u = (T *)user;
    for (int i = 0; i < b->rows; ++i)
        for (int j = 0; j < b->cols; ++j)
            if (in_part(b, i, j)) USER(u, b, i, j) += TEMP(t, b, i, j);
}

/* The column-major temporaries of one rule and what they replace in the record. */
typedef struct {
    T *x, *dx, *A, *dA, *side;
    void *user_side;
} temps;

/* Copies the record's read-only matrix (and its tangent) and gesv's right-hand sides in, and
 * points the record at the copies. */
static void record_in(temps *t) {
    dle_record *r = &dle_rec;
    if (r->rm.A.part && r->A) {
        t->A = copy_in(&r->rm.A, r->A);
        r->A = t->A;
        if (r->dA) r->dA = t->dA = copy_in(&r->rm.A, r->dA);
    }
    if (r->rm.side.part && r->side) {
        t->user_side = r->side;
        r->side = t->side = copy_in(&r->rm.side, r->side);
    }
}

static void finish(temps *t) {
    if (t->side) {
        copy_out(&dle_rec.rm.side, t->side, t->user_side);
        dle_rec.side = t->user_side;
    }
    dl_free(t->x); dl_free(t->dx); dl_free(t->A); dl_free(t->dA); dl_free(t->side);
}

static const dle_handler *inner(void) { return dle_handler_of(DL_P_CHAR, dle_rec.op); }

static void row_major_primal(void *x) {
    temps t = {0};
    record_in(&t);
    t.x = copy_in(&dle_rec.rm.x, x);
    inner()->primal(t.x);
    copy_out(&dle_rec.rm.x, t.x, x);
    finish(&t);
}

static void row_major_fwd(void *x, void *dx) {
    temps t = {0};
    record_in(&t);
    t.x = copy_in(&dle_rec.rm.x, x);
    t.dx = copy_in(&dle_rec.rm.x, dx);
    inner()->fwd(t.x, t.dx);
    copy_out(&dle_rec.rm.x, t.x, x);
    copy_out(&dle_rec.rm.x, t.dx, dx);
    finish(&t);
}

typedef struct {
    dle_tape_head head;
    dle_block x, A;
    void *inner; /* the column-major handler's tape */
} row_major_tape;

static void *row_major_aug(void *x, void *dx) {
    (void)dx;
    temps t = {0};
    row_major_tape *tape = (row_major_tape *)dle_checked_alloc(sizeof *tape);
    tape->head.op = DLE_OP_ROW_MAJOR;
    tape->head.prec = DL_P_CHAR;
    tape->x = dle_rec.rm.x;
    tape->A = dle_rec.rm.A;
    record_in(&t);
    t.x = copy_in(&dle_rec.rm.x, x);
    tape->inner = inner()->aug(t.x, NULL);
    copy_out(&dle_rec.rm.x, t.x, x);
    finish(&t);
    return tape;
}

static void row_major_rev(void *x, void *dx, void *tape_) {
    (void)x;
    row_major_tape *tape = (row_major_tape *)tape_;
    const dle_tape_head *head = (const dle_tape_head *)tape->inner;
    T *dxt = copy_in(&tape->x, dx), *dAt = NULL;
    void *user_dA = dle_take_bound_matrix();
    if (user_dA && tape->A.part) dle_rebind_matrix(dAt = new_temp(&tape->A));
    dle_handler_of(head->prec, head->op)->rev(NULL, dxt, tape->inner);
    (void)dle_take_bound_matrix(); /* ours, if the inner rule did not take it */
    copy_out(&tape->x, dxt, dx);
    if (dAt) add_out(&tape->A, dAt, user_dA);
    dl_free(dxt); dl_free(dAt); dl_free(tape);
}

const dle_handler ROW_MAJOR = {row_major_primal, row_major_fwd, row_major_aug, row_major_rev};
