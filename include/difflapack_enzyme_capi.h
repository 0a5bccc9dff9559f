/* difflapack_enzyme_capi.h -- the C interfaces of difflapack_enzyme.h (which includes this
 * file; do not include it alone):
 *
 *   cblas_?trsv  cblas_?trsm                     OpenBLAS's CBLAS, CblasRowMajor and ColMajor
 *   LAPACKE_?getrf  LAPACKE_?getrs  LAPACKE_?gesv  LAPACKE_?getri  LAPACKE_?trtrs
 *   LAPACKE_?potrf  LAPACKE_?potrs  LAPACKE_?posv  and their LAPACKE_?..._work forms,
 *                                                LAPACK_ROW_MAJOR and LAPACK_COL_MAJOR
 *                                                (defined here as <lapacke.h> does, if not yet)
 *                                                (? = s, d, c, z; LP64: int sizes)
 *
 * They return exactly what CBLAS / LAPACKE return on this stack (docs/design/
 * lapacke_cblas_semantics.md): the library's own routine computes every primal result, with
 * the arguments LAPACKE / CBLAS would give it, and argument errors are reported by the same
 * code that reports them there.
 *  - CBLAS: an inactive call checks and translates the arguments as OpenBLAS does (a bad
 *    argument: the real cblas_? routine reports it, no array is touched); then the Fortran-level
 *    shim of difflapack_enzyme.h runs on the same storage. Row-major is the column-major
 *    routine on the storage with flipped flags (trsv: uplo and N <-> T, ConjTrans becomes
 *    conj(A); trsm: side and uplo, m <-> n): no copies, and the derivatives follow.
 *  - LAPACKE: an inactive prologue does what LAPACKE does before its Fortran call (layout
 *    check, NaN check of the high-level forms, row-major leading-dimension checks, with
 *    LAPACKE's messages and return values); then the Fortran-level shim runs with the leading
 *    dimensions LAPACKE gives its Fortran routine, and INFO < 0 becomes INFO - 1. A row-major
 *    call is announced to the shim's setup call: the compute call's rules then copy to and from
 *    column-major temporaries themselves, for the primal data and the shadows (enzyme_layout.c),
 *    so Enzyme sees no temporaries at all.
 *
 * Declarations: in C++ a function template per name serves calls; a user's own declaration,
 * or <cblas.h> / <lapacke.h> included before or after this header, becomes a declaration of
 * the same symbol (enumerations, lapack_int, any pointer types). In C, if <cblas.h> /
 * <lapacke.h> came first, the names are declared exactly as they declare them (__typeof__);
 * otherwise unprototyped, which any later prototype matches, except where a parameter type
 * forbids it (the char flags of LAPACKE_?getrs, ?trtrs, ?potrf, ?potrs, ?posv, float alpha of
 * cblas_strsm): those get the standard headers' prototypes (default lapack_complex types;
 * enumerations as unsigned int, their type with GCC and clang), so a later <lapacke.h> with its
 * own lapack_complex types must come before this header.
 */
#ifndef DIFFLAPACK_ENZYME_CAPI_H
#define DIFFLAPACK_ENZYME_CAPI_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- kernels in libdifflapack.so (enzyme_capi.c), inactive for Enzyme. They return 0 when
 * the call proceeds (flags: the kernel letters for the storage, dims: the kernel's m, n;
 * lda_f / ldb_f: the leading dimensions for the Fortran-level shim), otherwise what the call
 * returns, after the library or LAPACKE printed its message. */
enum {
    DLE_LAPACKE_GETRF, DLE_LAPACKE_GETRS, DLE_LAPACKE_GESV, DLE_LAPACKE_GETRI, DLE_LAPACKE_TRTRS,
    DLE_LAPACKE_POTRF, DLE_LAPACKE_POTRS, DLE_LAPACKE_POSV
};
DLE_NOFREE int dle_cblas_trsv(int prec, int order, int uplo, int trans, int diag, int n, int lda, int incx,
                              char *flags);
DLE_NOFREE int dle_cblas_trsm(int prec, int order, int side, int uplo, int transa, int diag, int m, int n,
                              int lda, int ldb, char *flags, int *dims);
DLE_NOFREE int dle_lapacke_prologue(int routine, int prec, int high_level, int layout, int m, int n, int nrhs,
                                    const void *a, int lda, const void *b, int ldb, char uplo, char diag,
                                    int *lda_f, int *ldb_f, int *lwork);

#ifdef __cplusplus
}
#endif

#ifndef DIFFLAPACK_ENZYME_GLUE_ONLY

/* LAPACKE's layout macros, for a file that does not include <lapacke.h>: defined exactly as
 * <lapacke.h> defines them (the same replacement list, so that a <lapacke.h> included later
 * redefines them identically, which C and C++ allow without a diagnostic). CBLAS's CblasRowMajor,
 * ... are enumerators of <cblas.h>, not macros: without <cblas.h>, pass their values (101, 102,
 * ...) or declare the enumerations. */
#ifndef LAPACK_ROW_MAJOR
#define LAPACK_ROW_MAJOR 101
#endif
#ifndef LAPACK_COL_MAJOR
#define LAPACK_COL_MAJOR 102
#endif

DLE_INACTIVE(dle_cblas_trsv)
DLE_INACTIVE(dle_cblas_trsm)
DLE_INACTIVE(dle_lapacke_prologue)

/* LAPACKE's return value for the Fortran routine's INFO: info - 1 for an argument error, 0 if
 * the routine left INFO unset (LAPACKE initialises it to 0). */
static inline int dle_lapacke_return(long long info) {
    return info == DLE_INFO_UNWRITTEN ? 0 : info < 0 ? (int)info - 1 : (int)info;
}

/* cblas_?trsm's alpha: by value for real data, by address for complex data. */
#define DLE_CBLAS_ALPHA_0(R) R alpha
#define DLE_CBLAS_ALPHA_1(R) const void *alpha
#define DLE_CBLAS_ALPHA_ADDRESS_0 &alpha
#define DLE_CBLAS_ALPHA_ADDRESS_1 alpha

#define DLE_DEFINE_CAPI(p, T, R, is_complex)                                                     \
    static inline int dle_##p##getrf_lapacke(int high_level, int layout, int m, int n, void *a,  \
                                             int lda, int *ipiv) {                               \
        int lda_f, ldb_f, lwork;                                                                 \
        int rc = dle_lapacke_prologue(DLE_LAPACKE_GETRF, #p[0], high_level, layout, m, n, 0, a,  \
                                      lda, 0, 0, 'N', 'N', &lda_f, &ldb_f, &lwork);              \
        if (rc != 0) return rc;                                                                  \
        return dle_lapacke_return(dle_##p##getrf_body(m, n, a, lda_f, ipiv, 0));                 \
    }                                                                                            \
    static inline int dle_##p##getrs_lapacke(int high_level, int layout, char trans, int n,      \
                                             int nrhs, const void *a, int lda, const int *ipiv,  \
                                             void *b, int ldb) {                                 \
        int lda_f, ldb_f, lwork;                                                                 \
        int rc = dle_lapacke_prologue(DLE_LAPACKE_GETRS, #p[0], high_level, layout, 0, n, nrhs,  \
                                      a, lda, b, ldb, 'N', 'N', &lda_f, &ldb_f, &lwork);         \
        if (rc != 0) return rc;                                                                  \
        return dle_lapacke_return(dle_##p##getrs_body(trans, n, nrhs, a, lda_f, ipiv, 0, b, ldb_f)); \
    }                                                                                            \
    static inline int dle_##p##gesv_lapacke(int high_level, int layout, int n, int nrhs, void *a, \
                                            int lda, int *ipiv, void *b, int ldb) {              \
        int lda_f, ldb_f, lwork;                                                                 \
        int rc = dle_lapacke_prologue(DLE_LAPACKE_GESV, #p[0], high_level, layout, 0, n, nrhs, a, \
                                      lda, b, ldb, 'N', 'N', &lda_f, &ldb_f, &lwork);            \
        if (rc != 0) return rc;                                                                  \
        return dle_lapacke_return(dle_##p##gesv_body(n, nrhs, a, lda_f, ipiv, 0, b, ldb_f));     \
    }                                                                                            \
    static inline int dle_##p##getri_lapacke(int high_level, int layout, int n, void *a, int lda, \
                                             const int *ipiv, void *work, int lwork) {           \
        int lda_f, ldb_f, lwork_q;                                                               \
        int rc = dle_lapacke_prologue(DLE_LAPACKE_GETRI, #p[0], high_level, layout, 0, n, 0, a,  \
                                      lda, 0, 0, 'N', 'N', &lda_f, &ldb_f, &lwork_q);            \
        if (rc != 0) return rc;                                                                  \
        /* the high-level form: LAPACKE's own workspace of the queried size (work NULL) */       \
        if (high_level) { work = 0; lwork = lwork_q; }                                           \
        return dle_lapacke_return(dle_##p##getri_body(n, a, lda_f, ipiv, 0, work, lwork));       \
    }                                                                                            \
    static inline int dle_##p##trtrs_lapacke(int high_level, int layout, char uplo, char trans,  \
                                             char diag, int n, int nrhs, const void *a, int lda, \
                                             void *b, int ldb) {                                 \
        int lda_f, ldb_f, lwork;                                                                 \
        int rc = dle_lapacke_prologue(DLE_LAPACKE_TRTRS, #p[0], high_level, layout, 0, n, nrhs,  \
                                      a, lda, b, ldb, uplo, diag, &lda_f, &ldb_f, &lwork);       \
        if (rc != 0) return rc;                                                                  \
        return dle_lapacke_return(                                                               \
            dle_##p##trtrs_body(uplo, trans, diag, n, nrhs, a, lda_f, b, ldb_f, 0));             \
    }                                                                                            \
    static inline int dle_##p##potrf_lapacke(int high_level, int layout, char uplo, int n,       \
                                             void *a, int lda) {                                 \
        int lda_f, ldb_f, lwork;                                                                 \
        int rc = dle_lapacke_prologue(DLE_LAPACKE_POTRF, #p[0], high_level, layout, 0, n, 0, a,  \
                                      lda, 0, 0, uplo, 'N', &lda_f, &ldb_f, &lwork);             \
        if (rc != 0) return rc;                                                                  \
        return dle_lapacke_return(dle_##p##potrf_body(uplo, n, a, lda_f, 0));                    \
    }                                                                                            \
    static inline int dle_##p##potrs_lapacke(int high_level, int layout, char uplo, int n,       \
                                             int nrhs, const void *a, int lda, void *b,          \
                                             int ldb) {                                          \
        int lda_f, ldb_f, lwork;                                                                 \
        int rc = dle_lapacke_prologue(DLE_LAPACKE_POTRS, #p[0], high_level, layout, 0, n, nrhs,  \
                                      a, lda, b, ldb, uplo, 'N', &lda_f, &ldb_f, &lwork);        \
        if (rc != 0) return rc;                                                                  \
        return dle_lapacke_return(dle_##p##potrs_body(uplo, n, nrhs, a, lda_f, b, ldb_f, 0));    \
    }                                                                                            \
    static inline int dle_##p##posv_lapacke(int high_level, int layout, char uplo, int n,        \
                                            int nrhs, void *a, int lda, void *b, int ldb) {      \
        int lda_f, ldb_f, lwork;                                                                 \
        int rc = dle_lapacke_prologue(DLE_LAPACKE_POSV, #p[0], high_level, layout, 0, n, nrhs,   \
                                      a, lda, b, ldb, uplo, 'N', &lda_f, &ldb_f, &lwork);        \
        if (rc != 0) return rc;                                                                  \
        return dle_lapacke_return(dle_##p##posv_body(uplo, n, nrhs, a, lda_f, b, ldb_f, 0));     \
    }                                                                                            \
    DLE_ENTRY(cblas_##p##trsv, (int order, int uplo, int trans, int diag, int n, const void *A,  \
                                int lda, void *x, int incx)) {                                   \
        char f[3];                                                                               \
        if (dle_cblas_trsv(#p[0], order, uplo, trans, diag, n, lda, incx, f) == 0)               \
            (void)dle_##p##trsv_body(f[0], f[1], f[2], n, A, lda, x, incx, 0);                   \
    }                                                                                            \
    DLE_ENTRY(cblas_##p##trsm, (int order, int side, int uplo, int transa, int diag, int m,      \
                                int n, DLE_CBLAS_ALPHA_##is_complex(R), const void *A, int lda,  \
                                void *B, int ldb)) {                                             \
        char f[4];                                                                               \
        int mn[2];                                                                               \
        if (dle_cblas_trsm(#p[0], order, side, uplo, transa, diag, m, n, lda, ldb, f, mn) == 0)  \
            (void)dle_##p##trsm_body(f[0], f[1], f[2], f[3], mn[0], mn[1],                       \
                                     DLE_CBLAS_ALPHA_ADDRESS_##is_complex, A, lda, B, ldb, 0);   \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##getrf, (int layout, int m, int n, void *a, int lda,    \
                                                  int *ipiv)) {                                  \
        return dle_##p##getrf_lapacke(1, layout, m, n, a, lda, ipiv);                            \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##getrf_work, (int layout, int m, int n, void *a,        \
                                                       int lda, int *ipiv)) {                    \
        return dle_##p##getrf_lapacke(0, layout, m, n, a, lda, ipiv);                            \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##getrs, (int layout, char trans, int n, int nrhs,       \
                                                  const void *a, int lda, const int *ipiv,       \
                                                  void *b, int ldb)) {                           \
        return dle_##p##getrs_lapacke(1, layout, trans, n, nrhs, a, lda, ipiv, b, ldb);          \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##getrs_work, (int layout, char trans, int n, int nrhs,  \
                                                       const void *a, int lda, const int *ipiv,  \
                                                       void *b, int ldb)) {                      \
        return dle_##p##getrs_lapacke(0, layout, trans, n, nrhs, a, lda, ipiv, b, ldb);          \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##gesv, (int layout, int n, int nrhs, void *a, int lda,  \
                                                 int *ipiv, void *b, int ldb)) {                 \
        return dle_##p##gesv_lapacke(1, layout, n, nrhs, a, lda, ipiv, b, ldb);                  \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##gesv_work, (int layout, int n, int nrhs, void *a,      \
                                                      int lda, int *ipiv, void *b, int ldb)) {   \
        return dle_##p##gesv_lapacke(0, layout, n, nrhs, a, lda, ipiv, b, ldb);                  \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##getri, (int layout, int n, void *a, int lda,           \
                                                  const int *ipiv)) {                            \
        return dle_##p##getri_lapacke(1, layout, n, a, lda, ipiv, 0, 0);                         \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##getri_work, (int layout, int n, void *a, int lda,      \
                                                       const int *ipiv, void *work, int lwork)) { \
        return dle_##p##getri_lapacke(0, layout, n, a, lda, ipiv, work, lwork);                  \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##trtrs, (int layout, char uplo, char trans, char diag,  \
                                                  int n, int nrhs, const void *a, int lda,       \
                                                  void *b, int ldb)) {                           \
        return dle_##p##trtrs_lapacke(1, layout, uplo, trans, diag, n, nrhs, a, lda, b, ldb);    \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##trtrs_work, (int layout, char uplo, char trans,        \
                                                       char diag, int n, int nrhs, const void *a, \
                                                       int lda, void *b, int ldb)) {             \
        return dle_##p##trtrs_lapacke(0, layout, uplo, trans, diag, n, nrhs, a, lda, b, ldb);    \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##potrf, (int layout, char uplo, int n, void *a,         \
                                                  int lda)) {                                    \
        return dle_##p##potrf_lapacke(1, layout, uplo, n, a, lda);                               \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##potrf_work, (int layout, char uplo, int n, void *a,    \
                                                       int lda)) {                               \
        return dle_##p##potrf_lapacke(0, layout, uplo, n, a, lda);                               \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##potrs, (int layout, char uplo, int n, int nrhs,        \
                                                  const void *a, int lda, void *b, int ldb)) {   \
        return dle_##p##potrs_lapacke(1, layout, uplo, n, nrhs, a, lda, b, ldb);                 \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##potrs_work, (int layout, char uplo, int n, int nrhs,   \
                                                       const void *a, int lda, void *b,          \
                                                       int ldb)) {                               \
        return dle_##p##potrs_lapacke(0, layout, uplo, n, nrhs, a, lda, b, ldb);                 \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##posv, (int layout, char uplo, int n, int nrhs,         \
                                                 void *a, int lda, void *b, int ldb)) {          \
        return dle_##p##posv_lapacke(1, layout, uplo, n, nrhs, a, lda, b, ldb);                  \
    }                                                                                            \
    DLE_ENTRY_RETURNING(int, LAPACKE_##p##posv_work, (int layout, char uplo, int n, int nrhs,    \
                                                      void *a, int lda, void *b, int ldb)) {     \
        return dle_##p##posv_lapacke(0, layout, uplo, n, nrhs, a, lda, b, ldb);                  \
    }
DL_PRECISIONS(DLE_DEFINE_CAPI)

/* Every C entry point, (return type, name): the table the C++ templates and the C declarations
 * are generated from (DLE_DEFINE_CAPI defines the same set; tests/test_enzyme_header.py checks
 * the routine macros below against it). */
#define DLE_CAPI_ENTRY_POINTS(X, p)                                                              \
    X(void, cblas_##p##trsv) X(void, cblas_##p##trsm)                                            \
    X(int, LAPACKE_##p##getrf) X(int, LAPACKE_##p##getrf_work)                                   \
    X(int, LAPACKE_##p##getrs) X(int, LAPACKE_##p##getrs_work)                                   \
    X(int, LAPACKE_##p##gesv) X(int, LAPACKE_##p##gesv_work)                                     \
    X(int, LAPACKE_##p##getri) X(int, LAPACKE_##p##getri_work)                                   \
    X(int, LAPACKE_##p##trtrs) X(int, LAPACKE_##p##trtrs_work)                                   \
    X(int, LAPACKE_##p##potrf) X(int, LAPACKE_##p##potrf_work)                                   \
    X(int, LAPACKE_##p##potrs) X(int, LAPACKE_##p##potrs_work)                                   \
    X(int, LAPACKE_##p##posv) X(int, LAPACKE_##p##posv_work)

#ifdef __cplusplus
#define DLE_CAPI_TEMPLATE(type, name)                                                            \
    template <class... A> inline type difflapack_enzyme_##name(A... a) { return dle_entry_##name(a...); }
#define DLE_CAPI_DECLARATIONS(p, T, R, is_complex) DLE_CAPI_ENTRY_POINTS(DLE_CAPI_TEMPLATE, p)
#else
/* exactly as the system header declared the routine, when it came first */
#define DLE_CAPI_AS_DECLARED(type, name) __typeof__(name) difflapack_enzyme_##name;
#define DLE_CAPI_UNPROTOTYPED(type, name) type difflapack_enzyme_##name();
#ifdef CBLAS_H
#define DLE_CBLAS_DECLARE DLE_CAPI_AS_DECLARED
#else
#define DLE_CBLAS_DECLARE DLE_CAPI_UNPROTOTYPED
#endif
/* the routines with char flags: both forms prototyped, or as declared */
#ifdef _LAPACKE_H_
#define DLE_LAPACKE_DECLARE DLE_CAPI_AS_DECLARED
#define DLE_LAPACKE_FLAGGED(T, p, name, params)                                                  \
    DLE_CAPI_AS_DECLARED(int, LAPACKE_##p##name) DLE_CAPI_AS_DECLARED(int, LAPACKE_##p##name##_work)
#else
#define DLE_LAPACKE_DECLARE DLE_CAPI_UNPROTOTYPED
#define DLE_LAPACKE_FLAGGED(T, p, name, params)                                                  \
    int difflapack_enzyme_LAPACKE_##p##name params;                                              \
    int difflapack_enzyme_LAPACKE_##p##name##_work params;
#endif
/* LAPACKE's default element types */
#define DLE_LAPACKE_TYPE_s float
#define DLE_LAPACKE_TYPE_d double
#define DLE_LAPACKE_TYPE_c float _Complex
#define DLE_LAPACKE_TYPE_z double _Complex
#define DLE_CAPI_DECLARATIONS(p, T, R, is_complex) DLE_CAPI_DECLARATIONS_(p, DLE_LAPACKE_TYPE_##p)
#define DLE_CAPI_DECLARATIONS_(p, L)                                                             \
    DLE_CBLAS_DECLARE(void, cblas_##p##trsv) DLE_CBLAS_TRSM_DECLARE_##p                          \
    DLE_LAPACKE_DECLARE(int, LAPACKE_##p##getrf) DLE_LAPACKE_DECLARE(int, LAPACKE_##p##getrf_work) \
    DLE_LAPACKE_FLAGGED(L, p, getrs, (int, char, int, int, const L *, int, const int *, L *, int)) \
    DLE_LAPACKE_DECLARE(int, LAPACKE_##p##gesv) DLE_LAPACKE_DECLARE(int, LAPACKE_##p##gesv_work) \
    DLE_LAPACKE_DECLARE(int, LAPACKE_##p##getri) DLE_LAPACKE_DECLARE(int, LAPACKE_##p##getri_work) \
    DLE_LAPACKE_FLAGGED(L, p, trtrs, (int, char, char, char, int, int, const L *, int, L *, int)) \
    DLE_LAPACKE_FLAGGED(L, p, potrf, (int, char, int, L *, int))                                 \
    DLE_LAPACKE_FLAGGED(L, p, potrs, (int, char, int, int, const L *, int, L *, int))            \
    DLE_LAPACKE_FLAGGED(L, p, posv, (int, char, int, int, L *, int, L *, int))
#define DLE_CBLAS_TRSM_DECLARE_d DLE_CBLAS_DECLARE(void, cblas_dtrsm)
#define DLE_CBLAS_TRSM_DECLARE_c DLE_CBLAS_DECLARE(void, cblas_ctrsm)
#define DLE_CBLAS_TRSM_DECLARE_z DLE_CBLAS_DECLARE(void, cblas_ztrsm)
#ifdef CBLAS_H
#define DLE_CBLAS_TRSM_DECLARE_s DLE_CBLAS_DECLARE(void, cblas_strsm)
#else /* float alpha: no unprototyped declaration can match <cblas.h>'s */
#define DLE_CBLAS_TRSM_DECLARE_s                                                                 \
    void difflapack_enzyme_cblas_strsm(unsigned, unsigned, unsigned, unsigned, unsigned, int, int, float, \
                                       const float *, int, float *, int);
#endif
#endif
DL_PRECISIONS(DLE_CAPI_DECLARATIONS)

/* The interposed names (checked against DLE_CAPI_ENTRY_POINTS x DL_PRECISIONS by the tests). */
#define cblas_strsv(...) difflapack_enzyme_cblas_strsv(__VA_ARGS__)
#define cblas_dtrsv(...) difflapack_enzyme_cblas_dtrsv(__VA_ARGS__)
#define cblas_ctrsv(...) difflapack_enzyme_cblas_ctrsv(__VA_ARGS__)
#define cblas_ztrsv(...) difflapack_enzyme_cblas_ztrsv(__VA_ARGS__)
#define cblas_strsm(...) difflapack_enzyme_cblas_strsm(__VA_ARGS__)
#define cblas_dtrsm(...) difflapack_enzyme_cblas_dtrsm(__VA_ARGS__)
#define cblas_ctrsm(...) difflapack_enzyme_cblas_ctrsm(__VA_ARGS__)
#define cblas_ztrsm(...) difflapack_enzyme_cblas_ztrsm(__VA_ARGS__)
#define LAPACKE_sgetrf(...) difflapack_enzyme_LAPACKE_sgetrf(__VA_ARGS__)
#define LAPACKE_dgetrf(...) difflapack_enzyme_LAPACKE_dgetrf(__VA_ARGS__)
#define LAPACKE_cgetrf(...) difflapack_enzyme_LAPACKE_cgetrf(__VA_ARGS__)
#define LAPACKE_zgetrf(...) difflapack_enzyme_LAPACKE_zgetrf(__VA_ARGS__)
#define LAPACKE_sgetrf_work(...) difflapack_enzyme_LAPACKE_sgetrf_work(__VA_ARGS__)
#define LAPACKE_dgetrf_work(...) difflapack_enzyme_LAPACKE_dgetrf_work(__VA_ARGS__)
#define LAPACKE_cgetrf_work(...) difflapack_enzyme_LAPACKE_cgetrf_work(__VA_ARGS__)
#define LAPACKE_zgetrf_work(...) difflapack_enzyme_LAPACKE_zgetrf_work(__VA_ARGS__)
#define LAPACKE_sgetrs(...) difflapack_enzyme_LAPACKE_sgetrs(__VA_ARGS__)
#define LAPACKE_dgetrs(...) difflapack_enzyme_LAPACKE_dgetrs(__VA_ARGS__)
#define LAPACKE_cgetrs(...) difflapack_enzyme_LAPACKE_cgetrs(__VA_ARGS__)
#define LAPACKE_zgetrs(...) difflapack_enzyme_LAPACKE_zgetrs(__VA_ARGS__)
#define LAPACKE_sgetrs_work(...) difflapack_enzyme_LAPACKE_sgetrs_work(__VA_ARGS__)
#define LAPACKE_dgetrs_work(...) difflapack_enzyme_LAPACKE_dgetrs_work(__VA_ARGS__)
#define LAPACKE_cgetrs_work(...) difflapack_enzyme_LAPACKE_cgetrs_work(__VA_ARGS__)
#define LAPACKE_zgetrs_work(...) difflapack_enzyme_LAPACKE_zgetrs_work(__VA_ARGS__)
#define LAPACKE_sgesv(...) difflapack_enzyme_LAPACKE_sgesv(__VA_ARGS__)
#define LAPACKE_dgesv(...) difflapack_enzyme_LAPACKE_dgesv(__VA_ARGS__)
#define LAPACKE_cgesv(...) difflapack_enzyme_LAPACKE_cgesv(__VA_ARGS__)
#define LAPACKE_zgesv(...) difflapack_enzyme_LAPACKE_zgesv(__VA_ARGS__)
#define LAPACKE_sgesv_work(...) difflapack_enzyme_LAPACKE_sgesv_work(__VA_ARGS__)
#define LAPACKE_dgesv_work(...) difflapack_enzyme_LAPACKE_dgesv_work(__VA_ARGS__)
#define LAPACKE_cgesv_work(...) difflapack_enzyme_LAPACKE_cgesv_work(__VA_ARGS__)
#define LAPACKE_zgesv_work(...) difflapack_enzyme_LAPACKE_zgesv_work(__VA_ARGS__)
#define LAPACKE_sgetri(...) difflapack_enzyme_LAPACKE_sgetri(__VA_ARGS__)
#define LAPACKE_dgetri(...) difflapack_enzyme_LAPACKE_dgetri(__VA_ARGS__)
#define LAPACKE_cgetri(...) difflapack_enzyme_LAPACKE_cgetri(__VA_ARGS__)
#define LAPACKE_zgetri(...) difflapack_enzyme_LAPACKE_zgetri(__VA_ARGS__)
#define LAPACKE_sgetri_work(...) difflapack_enzyme_LAPACKE_sgetri_work(__VA_ARGS__)
#define LAPACKE_dgetri_work(...) difflapack_enzyme_LAPACKE_dgetri_work(__VA_ARGS__)
#define LAPACKE_cgetri_work(...) difflapack_enzyme_LAPACKE_cgetri_work(__VA_ARGS__)
#define LAPACKE_zgetri_work(...) difflapack_enzyme_LAPACKE_zgetri_work(__VA_ARGS__)
#define LAPACKE_strtrs(...) difflapack_enzyme_LAPACKE_strtrs(__VA_ARGS__)
#define LAPACKE_dtrtrs(...) difflapack_enzyme_LAPACKE_dtrtrs(__VA_ARGS__)
#define LAPACKE_ctrtrs(...) difflapack_enzyme_LAPACKE_ctrtrs(__VA_ARGS__)
#define LAPACKE_ztrtrs(...) difflapack_enzyme_LAPACKE_ztrtrs(__VA_ARGS__)
#define LAPACKE_strtrs_work(...) difflapack_enzyme_LAPACKE_strtrs_work(__VA_ARGS__)
#define LAPACKE_dtrtrs_work(...) difflapack_enzyme_LAPACKE_dtrtrs_work(__VA_ARGS__)
#define LAPACKE_ctrtrs_work(...) difflapack_enzyme_LAPACKE_ctrtrs_work(__VA_ARGS__)
#define LAPACKE_ztrtrs_work(...) difflapack_enzyme_LAPACKE_ztrtrs_work(__VA_ARGS__)
#define LAPACKE_spotrf(...) difflapack_enzyme_LAPACKE_spotrf(__VA_ARGS__)
#define LAPACKE_dpotrf(...) difflapack_enzyme_LAPACKE_dpotrf(__VA_ARGS__)
#define LAPACKE_cpotrf(...) difflapack_enzyme_LAPACKE_cpotrf(__VA_ARGS__)
#define LAPACKE_zpotrf(...) difflapack_enzyme_LAPACKE_zpotrf(__VA_ARGS__)
#define LAPACKE_spotrf_work(...) difflapack_enzyme_LAPACKE_spotrf_work(__VA_ARGS__)
#define LAPACKE_dpotrf_work(...) difflapack_enzyme_LAPACKE_dpotrf_work(__VA_ARGS__)
#define LAPACKE_cpotrf_work(...) difflapack_enzyme_LAPACKE_cpotrf_work(__VA_ARGS__)
#define LAPACKE_zpotrf_work(...) difflapack_enzyme_LAPACKE_zpotrf_work(__VA_ARGS__)
#define LAPACKE_spotrs(...) difflapack_enzyme_LAPACKE_spotrs(__VA_ARGS__)
#define LAPACKE_dpotrs(...) difflapack_enzyme_LAPACKE_dpotrs(__VA_ARGS__)
#define LAPACKE_cpotrs(...) difflapack_enzyme_LAPACKE_cpotrs(__VA_ARGS__)
#define LAPACKE_zpotrs(...) difflapack_enzyme_LAPACKE_zpotrs(__VA_ARGS__)
#define LAPACKE_spotrs_work(...) difflapack_enzyme_LAPACKE_spotrs_work(__VA_ARGS__)
#define LAPACKE_dpotrs_work(...) difflapack_enzyme_LAPACKE_dpotrs_work(__VA_ARGS__)
#define LAPACKE_cpotrs_work(...) difflapack_enzyme_LAPACKE_cpotrs_work(__VA_ARGS__)
#define LAPACKE_zpotrs_work(...) difflapack_enzyme_LAPACKE_zpotrs_work(__VA_ARGS__)
#define LAPACKE_sposv(...) difflapack_enzyme_LAPACKE_sposv(__VA_ARGS__)
#define LAPACKE_dposv(...) difflapack_enzyme_LAPACKE_dposv(__VA_ARGS__)
#define LAPACKE_cposv(...) difflapack_enzyme_LAPACKE_cposv(__VA_ARGS__)
#define LAPACKE_zposv(...) difflapack_enzyme_LAPACKE_zposv(__VA_ARGS__)
#define LAPACKE_sposv_work(...) difflapack_enzyme_LAPACKE_sposv_work(__VA_ARGS__)
#define LAPACKE_dposv_work(...) difflapack_enzyme_LAPACKE_dposv_work(__VA_ARGS__)
#define LAPACKE_cposv_work(...) difflapack_enzyme_LAPACKE_cposv_work(__VA_ARGS__)
#define LAPACKE_zposv_work(...) difflapack_enzyme_LAPACKE_zposv_work(__VA_ARGS__)

#endif /* DIFFLAPACK_ENZYME_GLUE_ONLY */
#endif /* DIFFLAPACK_ENZYME_CAPI_H */
