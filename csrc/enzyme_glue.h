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
    DLE_OP_POTRF,
    DLE_OP_POTRS,
    DLE_OP_POSV_FACTOR, /* ?posv's factorization: ?potrf whose tape is linked to its solve */
    DLE_OP_POSV_SOLVE,  /* ?posv's solve: ?potrs with the factor just computed (runs, as a no-op
                           for the primal, also when the factor is not positive definite) */
    DLE_OP_GETRI,
    DLE_OP_TRTRS,
    DLE_OP_COUNT
};

struct dle_gesv_link;

/* Filled by the setup and set calls of ONE interposed routine call, consumed by its compute
 * call (primal, forward rule or augmented pass) right after. Thread-local. */
typedef struct {
    int op;                  /* enum dle_op */
    int prec;                /* 's', 'd', 'c', 'z' */
    char flag[4];            /* BLAS letters, upper case, in the primal routine's order */
    int m, n;                /* trsv: n; trsm: m, n; getrf: m, n; getrs, potrs, trtrs: n, nrhs
                                (in m, n); potrf, getri: n */
    int lda, ldb;            /* ldb is incx for trsv */
    int nrhs_pending, ldb_pending; /* gesv, posv: the solve's nrhs and ldb, kept by the
                                      factorization */
    const void *A;           /* the read-only matrix (set_matrix) */
    void *dA;                /* forward mode: its tangent (NULL: inactive) */
    int A_active;            /* augmented pass: whether the matrix may carry a cotangent */
    const void *alpha;       /* trsm's alpha (set_scalar) */
    void *dalpha;            /* forward mode: its tangent (NULL: inactive) */
    int alpha_active;        /* augmented pass */
    const int *ipiv;         /* getrs, getri: the pivots (LP64 view) */
    int info;                /* getrf, potrf, getri, trtrs: LAPACK's info of the computation */
    struct dle_gesv_link *gesv_link; /* augmented gesv / posv: the factorization's tape, pending
                                        for its solve (cleared by every setup call but the
                                        solve's) */
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

/* ?gesv's (and ?posv's) factorization tape, shared with its solve: LU and the pivots (posv:
 * the Cholesky factor's triangle, no pivots) are taped once (by the factorization, when A is
 * active); the augmented solve adds X, and the reverse of the solve (which runs first) leaves
 * the shadow of B it received, so the factorization's reverse does the adjoint of A X = B in
 * one go. */
typedef struct dle_gesv_link {
    dle_tape_head head;
    int n, nrhs, lda, ldb;
    char uplo;               /* posv: the factor's triangle */
    void *LU, *X;            /* taped copies, leading dimension n */
    int *ipiv;
    int solved;              /* the augmented solve ran (info == 0 and B active) */
    void *dB;                /* B's shadow, left by the solve's reverse */
} dle_gesv_link;

/* ?getrf's tape, which a following ?getri on the same, unchanged buffer links to (Julia's inv:
 * getrf!, a workspace query, getri!). The factorization tapes LU and the pivots; a linked ?getri
 * adds X (and no second LU) and, in its reverse pass, leaves a copy of Xbar here and clears the
 * buffer's shadow; the factorization's reverse then applies the inverse's own adjoint
 * Abar = -X^H Xbar X^H (two gemm) plus the getrf adjoint of whatever else the program added to
 * the factors' cotangent in between, instead of getri's adjoint chained into getrf's.
 * The augmented factorization offers its tape in a thread-local slot until the next interposed
 * call other than ?getri. Reference counted (the reverse pass and the slot), since under JAX
 * the reverse pass may run on another thread while the slot still holds the tape. */
typedef struct {
    dle_tape_head head;
    int refs;                /* atomic */
    int m, n, lda;
    const void *A;           /* the buffer factored (compared, never dereferenced) */
    void *LU;                /* taped factors, ld m */
    int *ipiv;
    void *X;                 /* linked ?getri: its output, ld n (taped by its augmented pass) */
    void *Xbar;              /* linked ?getri: the cotangent of X, ld n (left by its reverse) */
    int reversed;            /* atomic: the factorization's reverse pass has run */
} dle_factor_tape;

/* The slot: offer (takes a reference), take (the caller gets the slot's reference; NULL if
 * empty), withdraw (drop the slot's reference if it holds t), release (drop one reference;
 * the last one frees the tape and its copies). */
void dle_offer_factor(dle_factor_tape *t);
dle_factor_tape *dle_take_offered_factor(void);
void dle_withdraw_factor(dle_factor_tape *t);
void dle_release_factor(dle_factor_tape *t);

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
