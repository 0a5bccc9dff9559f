/* enzyme_glue.h -- what the Enzyme glue (enzyme_glue.c, enzyme_capi.c: precision-independent)
 * and its per-precision parts (enzyme_rules*.c: the routine handlers; enzyme_layout.c: LAPACKE's
 * row-major calls; both type-generic) share: the call record the setup/set calls fill and the
 * compute call consumes, tapes, and the handler tables. */
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
    DLE_OP_GESV_FACTOR, /* ?gesv's factorization: ?gesv_ itself, on A and the right-hand sides */
    DLE_OP_GESV_SOLVE,  /* ?gesv's solve: the rules of X = A^{-1} B (the primal is done by then) */
    DLE_OP_POTRF,
    DLE_OP_POTRS,
    DLE_OP_POSV_FACTOR, /* ?posv's factorization: ?posv_ itself, on A and the right-hand sides */
    DLE_OP_POSV_SOLVE,  /* ?posv's solve: the rules of X = A^{-1} B with the factor (the primal
                           is done by then; not positive definite: B unchanged, the identity) */
    DLE_OP_GETRI,
    DLE_OP_TRTRS,
    DLE_OP_COUNT,
    DLE_OP_ROW_MAJOR = DLE_OP_COUNT /* tape head of a row-major call (enzyme_layout.c) */
};

/* A matrix that a LAPACKE row-major caller stores row by row. The handlers see it through a
 * column-major temporary with leading dimension max(1, rows), the one LAPACKE itself gives the
 * Fortran routine; only `part` is copied in and out (LAPACKE's ge/po copies). */
typedef struct {
    int rows, cols;
    int ld;    /* the caller's (row-major) leading dimension */
    char part; /* 0: no such matrix; 'G': the whole block; 'U' / 'L': that triangle with its
                  diagonal (LAPACKE's po copies); 'u' / 'l': the strict triangle (tr copies of a
                  unit triangle) */
} dle_block;

typedef struct {
    int on;
    int lda, ldb;           /* the caller's leading dimensions (the setup calls size the blocks) */
    dle_block x, A, side;   /* the compute call's array, the read-only matrix, ?gesv's / ?posv's B */
} dle_row_major;

struct dle_gesv_link;

/* Filled by the setup and set calls of ONE interposed routine call, consumed by its compute
 * call (primal, forward rule or augmented pass) right after. Thread-local. */
typedef struct {
    int op;                  /* enum dle_op */
    int prec;                /* 's', 'd', 'c', 'z' */
    char flag[4];            /* BLAS letters, upper case, in the primal routine's order; trans
                                'R' (conj(A), an OpenBLAS extension) only for complex data */
    int m, n;                /* trsv: n; trsm: m, n; getrf: m, n; getrs, potrs, trtrs: n, nrhs
                                (in m, n); potrf, getri, gesv and posv factorizations: n */
    int lda, ldb;            /* ldb is incx for trsv */
    void *side;              /* gesv's / posv's factorization: B, which ?gesv_ / ?posv_
                                overwrite with X */
    int side_cols, side_ld;  /* its nrhs and ldb */
    const void *A;           /* the read-only matrix (set_matrix) */
    void *dA;                /* forward mode: its tangent (NULL: inactive) */
    int A_active;            /* augmented pass: whether the matrix may carry a cotangent */
    const void *alpha;       /* trsm's alpha (set_scalar) */
    void *dalpha;            /* forward mode: its tangent (NULL: inactive) */
    int alpha_active;        /* augmented pass */
    const int *ipiv;         /* getrs, getri: the pivots (LP64 view) */
    int info;                /* getrf, gesv, potrf, posv, getri, trtrs: LAPACK's info of the
                                computation */
    int factored;            /* gesv: whether ?gesv_ factored A (OpenBLAS does not for nrhs = 0) */
    int tangent_ready;       /* gesv, posv: the factorization's forward rule left -dA X in the
                                scratch buffer (ld n) for its solve's */
    void *work;              /* getri: the caller's work array (NULL: LAPACKE's own, allocated
                                for the call) */
    int lwork;               /* getri: its length, as given to ?getri_ */
    long long work_count;    /* getri: elements of the caller's work the library may write
                                (work[0] only for a query or an argument error; else lwork) */
    unsigned char *work_before; /* getri: their bits before the call (freed by
                                   dle_workspace_out or the next setup) */
    struct dle_gesv_link *gesv_link; /* augmented gesv / posv: the factorization's tape, pending
                                        for its solve (cleared by every setup call but the
                                        solve's) */
    dle_row_major rm;        /* a LAPACKE row-major call */
} dle_record;

extern __thread dle_record dle_rec;

static inline int dle_is_complex(int prec) { return prec == 'c' || prec == 'z'; }

/* CALL(p) for the precision letter prec (the library's routines are named per precision). */
#define DLE_BY_PRECISION(prec, CALL)                                                             \
    switch (prec) {                                                                              \
    case 's': CALL(s); break;                                                                    \
    case 'd': CALL(d); break;                                                                    \
    case 'c': CALL(c); break;                                                                    \
    default: CALL(z); break;                                                                     \
    }

/* Every tape starts with this header: the reverse rule of the compute kernel dispatches on it. */
typedef struct {
    int op, prec;
} dle_tape_head;

/* The shadows the bind calls' reverse rules received just before the compute call's reverse
 * rule runs (NULL: not bound, i.e. inactive); taking them clears them. dle_rebind_matrix puts
 * another shadow in place of the bound one (the row-major wrapper's column-major temporary). */
void *dle_take_bound_matrix(void);
void *dle_take_bound_scalar(void);
void dle_rebind_matrix(void *dA);

/* A LAPACKE row-major call with the caller's leading dimensions (enzyme_capi.c): the next
 * setup call records it and sizes its blocks. */
void dle_announce_row_major(int lda, int ldb);

/* Pivots of the last factorization (LP64 view), grown on demand; NULL if out of memory. */
int *dle_pivot_room(size_t count);
extern __thread int *dle_pivot_buf;
/* A thread-local work buffer of at least `bytes`, kept between calls (aborts if out of
 * memory): gesv's tangent term from its factorization's forward rule to its solve's. */
void *dle_scratch(size_t bytes);

/* Tape helpers: copies that count their bytes (dle_taped_bytes). Memory a reverse pass hands
 * to a later one is not tape: dle_checked_alloc (aborts if out of memory). Both are
 * workspace.c's blocks: free them with dl_free. */
void dle_count_taped(size_t bytes);
void *dle_tape_alloc(size_t bytes);
void *dle_checked_alloc(size_t bytes);
int *dle_copy_pivots(const int *ipiv, int k);

/* ?gesv's (and ?posv's) factorization tape, shared with its solve: LU and the pivots (posv: the
 * Cholesky factor's triangle, no pivots) are taped once (by the factorization, when A is
 * active); the augmented solve adds X; the reverse of the solve (which runs first) computes
 * Bbar = A^{-H} Xbar in B's shadow and leaves a copy here, so the factorization's reverse adds
 * -Bbar X^H (posv: its stored Hermitian part) to the factorization's adjoint. Each reverse rule
 * thus writes only the shadow it was handed. */
typedef struct dle_gesv_link {
    dle_tape_head head;
    int n, nrhs, lda, factored;
    char uplo;               /* posv: the factor's triangle */
    int info;                /* posv: ?posv_'s info (> 0: not positive definite, B unchanged) */
    void *LU, *X, *Bbar;     /* copies, leading dimension n (X, Bbar: only after a solve) */
    int *ipiv;
} dle_gesv_link;

/* ?getrf's tape, which a following ?getri on the same, unchanged buffer shares (Julia's inv:
 * getrf!, a workspace query, getri!): the factorization tapes LU and the pivots, and a linked
 * ?getri tapes only X, reading LU and the pivots from here for its adjoint (getri's adjoint with
 * respect to the packed factors, in the buffer's shadow, which the factorization's adjoint then
 * takes: exact whatever the program does to the factors or their cotangent in between).
 * The inverse's own adjoint -X^H Xbar X^H sent straight to the factorization would skip the
 * program's code between the two calls: a change of the factors that keeps their value (a
 * shift by t = 0, a scale by s = 1) would get a zero derivative. So the link shares memory,
 * not the derivative.
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
    int reversed;            /* atomic: the factorization's reverse pass has run */
} dle_factor_tape;

/* The slot: offer (takes a reference), take (the caller gets the slot's reference; NULL if
 * empty), withdraw (drop the slot's reference if it holds t), release (drop one reference;
 * the last one frees the tape and its copies). */
void dle_offer_factor(dle_factor_tape *t);
dle_factor_tape *dle_take_offered_factor(void);
void dle_withdraw_factor(dle_factor_tape *t);
void dle_release_factor(dle_factor_tape *t);

/* One precision's handlers of one routine. Augmented passes never read the shadow. */
typedef struct {
    void (*primal)(void *x);
    void (*fwd)(void *x, void *dx);
    void *(*aug)(void *x, void *dx);
    void (*rev)(void *x, void *dx, void *tape);
} dle_handler;

/* handlers[op] of each precision (enzyme_rules.c) and the handler of each precision's row-major
 * calls, which wraps handlers[op] (enzyme_layout.c) */
extern const dle_handler *const dle_s_handlers[DLE_OP_COUNT], *const dle_d_handlers[DLE_OP_COUNT],
    *const dle_c_handlers[DLE_OP_COUNT], *const dle_z_handlers[DLE_OP_COUNT];
extern const dle_handler dle_s_row_major, dle_d_row_major, dle_c_row_major, dle_z_row_major;
const dle_handler *dle_handler_of(int prec, int op);

#endif
