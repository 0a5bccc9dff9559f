/* enzyme_glue.h -- what the Enzyme glue (enzyme_glue.c, precision-independent) and its
 * per-precision routine handlers (enzyme_rules.c, type-generic) share: the call record the
 * setup/set calls fill and the compute call consumes, tapes, and the handler tables. */
#ifndef DIFFLAPACK_ENZYME_GLUE_H
#define DIFFLAPACK_ENZYME_GLUE_H
#include <stddef.h>

/* The routines the compute kernel dispatches on. */
enum dle_op {
    DLE_OP_NONE,
    DLE_OP_TRSV,
    DLE_OP_TRSM,
    DLE_OP_GETRF,
    DLE_OP_GETRS,
    DLE_OP_GESV_FACTOR, /* ?gesv's factorization: ?getrf whose tape is linked to its solve */
    DLE_OP_GESV_SOLVE,  /* ?gesv's solve: ?getrs('N') with the factors just computed */
    DLE_OP_COUNT
};

struct dle_gesv_link;

/* Filled by the setup and set calls of ONE interposed routine call, consumed by its compute
 * call (primal, forward rule or augmented pass) right after. Thread-local. */
typedef struct {
    int op;                  /* enum dle_op */
    int prec;                /* 's', 'd', 'c', 'z' */
    char flag[4];            /* BLAS letters, upper case, in the primal routine's order */
    int m, n;                /* trsv: n; trsm: m, n; getrf: m, n; getrs: n, nrhs (in m, n) */
    int lda, ldb;            /* ldb is incx for trsv */
    int nrhs_pending, ldb_pending; /* gesv: the solve's nrhs and ldb, kept by the factorization */
    const void *A;           /* the read-only matrix (set_matrix) */
    void *dA;                /* forward mode: its tangent (NULL: inactive) */
    int A_active;            /* augmented pass: whether the matrix may carry a cotangent */
    const void *alpha;       /* trsm's alpha (set_scalar) */
    void *dalpha;            /* forward mode: its tangent (NULL: inactive) */
    int alpha_active;        /* augmented pass */
    const int *ipiv;         /* getrs: the pivots (LP64 view) */
    int info;                /* getrf: LAPACK's info of the last factorization */
    struct dle_gesv_link *gesv_link; /* augmented gesv: the factorization's tape, pending for its
                                        solve (cleared by every setup call but the solve's) */
} dle_record;

extern __thread dle_record dle_rec;

/* Every tape starts with this header: the reverse rule of the compute kernel dispatches on it. */
typedef struct {
    int op, prec;
} dle_tape_head;

/* The shadows the bind calls' reverse rules received just before the compute call's reverse
 * rule runs (NULL: not bound, i.e. inactive); taking them clears them. */
void *dle_take_bound_matrix(void);
void *dle_take_bound_scalar(void);

/* Pivots of the last factorization (LP64 view), grown on demand; NULL if out of memory. */
int *dle_pivot_room(size_t count);
extern __thread int *dle_pivot_buf;

/* Tape helpers: malloc'd copies that count their bytes (dle_taped_bytes). */
void dle_count_taped(size_t bytes);
void *dle_tape_alloc(size_t bytes);
int *dle_copy_pivots(const int *ipiv, int k);

/* ?gesv's factorization tape, shared with its solve: LU and the pivots are taped once (by the
 * factorization, when A is active); the augmented solve adds X, and the reverse of the solve
 * (which runs first) leaves the shadow of B it received, so the factorization's reverse does
 * the adjoint of A X = B in one go. */
typedef struct dle_gesv_link {
    dle_tape_head head;
    int n, nrhs, lda, ldb;
    void *LU, *X;            /* taped copies, leading dimension n */
    int *ipiv;
    int solved;              /* the augmented solve ran (info == 0 and B active) */
    void *dB;                /* B's shadow, left by the solve's reverse */
} dle_gesv_link;

/* One precision's handlers of one routine. */
typedef struct {
    void (*primal)(void *x);
    void (*fwd)(void *x, void *dx);
    void *(*aug)(void *x, void *dx);
    void (*rev)(void *x, void *dx, void *tape);
} dle_handler;

/* handlers[op] of each precision (enzyme_rules.c) */
extern const dle_handler dle_s_handlers[DLE_OP_COUNT], dle_d_handlers[DLE_OP_COUNT],
    dle_c_handlers[DLE_OP_COUNT], dle_z_handlers[DLE_OP_COUNT];

#endif
